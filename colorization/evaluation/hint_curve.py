"""PSNR and AuC against the number of colour hints: one protocol for every method.

The path::

    methods = curve_methods(paper=load_weights(), hints=load_weights(name="hints"))
    per_image = run_hint_curve(methods, test_data)     # one row per (image, method, N)
    summary = summarize_curve(per_image)               # mean and standard error per (method, N)
    targets = curve_targets(summary)                   # the issue's two targets, measured
    write_curve(per_image, summary, "results/caltech101/hints")

The protocol (issue 17): every image of the split, at the paper's 256x256 crop, gets N hints
for each N of :data:`~colorization.hints.protocol.PROTOCOL_COUNTS`, drawn from its ground truth
by :func:`colorization.hints.protocol.hints_from_truth` with the image's own seed
(:func:`image_seed`: fixed, written in the table) - the same hints for every method, and the
first k of any N are the hints for k. Each method's ab is joined with the crop's own L
(:func:`colorization.colorize.render`) and scored against it (PSNR, AuC of the ab error).

Methods: ``automatic`` (the paper's network as trained, vividness 1: it takes no hints, so its
line is flat), ``levin`` (Levin et al. 2004 on the 256x256 view; no hints: gray) and
``hint network`` (the paper's network with hint channels, vividness 1; no hints: automatic).
"""

from __future__ import annotations

import hashlib
import json
import sys
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.evaluation.parallel import cpu_pool, pool_map
from colorization.hints.protocol import PROTOCOL_COUNTS
from colorization.io.files import write_text_atomic

CURVE_METRICS = ("psnr", "auc")
TARGET_HINTS = 10  # the issue: with 10 hints the network gains >= 2 dB over the automatic model
TARGET_GAIN_DB = 2.0
ABOVE_LEVIN_UP_TO = 20  # ... and is above Levin et al. for N <= 20


@dataclass(frozen=True)
class CurveMethod:
    """A method of the curve: ``kind`` ``"automatic"``, ``"levin"`` or ``"network"`` (with hints)."""

    name: str
    kind: str
    model: object = None


def curve_methods(paper=None, hints=None, levin: bool = True) -> list[CurveMethod]:
    """The curve's methods: the paper's network, Levin et al., the hint network (those given)."""
    methods = [CurveMethod("automatic", "automatic", paper)] if paper is not None else []
    methods += [CurveMethod("levin", "levin")] if levin else []
    return methods + ([CurveMethod("hint network", "network", hints)] if hints is not None else [])


def image_seed(relpath: str, seed: int = 0) -> int:
    """The seed of one image's hints: from its path in the data set and the protocol's ``seed``."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{relpath}".encode()).digest()[:4], "little")


def method_ab(method: CurveMethod, views: np.ndarray, hints: list, pool: Executor | None = None) -> np.ndarray:
    """ab (N, S, S, 2) of ``method`` for the views, each with its list of hints (view pixels);
    Levin et al.'s solves run in ``pool``'s processes when one is given (in order either way)."""
    from colorization.colorize import predict_ab
    from colorization.hints.levin import levin_ab_for_image
    from colorization.hints.points import hint_planes
    from colorization.vividness import AS_TRAINED

    if method.kind == "automatic":
        return predict_ab(method.model, views, AS_TRAINED)
    if method.kind == "levin":
        return np.stack(pool_map(pool, levin_ab_for_image, list(views), hints))
    planes = np.stack(
        [hint_planes(points, view.shape[:2], view.shape[0]) for view, points in zip(views, hints, strict=True)]
    )
    return predict_ab(method.model, views, AS_TRAINED, planes)


def curve_batch(methods: list[CurveMethod], views: np.ndarray, seeds: list[int], counts=PROTOCOL_COUNTS, pool=None):
    """(index in the batch, method, N, scores) for every view, method and N (``pool``: :func:`method_ab`)."""
    from colorization.hints.protocol import hints_from_truth

    drawn = [hints_from_truth(view, max(counts), seed) for view, seed in zip(views, seeds, strict=True)]
    hints = {n: [points[:n] for points in drawn] for n in counts}  # nested: the first n of the largest draw
    for method in methods:
        if method.kind == "automatic":  # takes no hints: one prediction and one score for every N
            flat = method_ab(method, views, [[]] * len(views))
            for index, (scores,) in enumerate(pool_map(pool, view_curve_scores, list(views), [[ab] for ab in flat])):
                yield from ((index, method.name, n, scores) for n in counts)
            continue
        # every (N, view) at once: Levin et al.'s solves keep all the pool's workers busy
        flat = method_ab(method, np.concatenate([views] * len(counts)), [h for n in counts for h in hints[n]], pool)
        ab = flat.reshape(len(counts), len(views), *flat.shape[1:])
        jobs = [list(ab[:, index]) for index in range(len(views))]
        for index, per_n in enumerate(pool_map(pool, view_curve_scores, list(views), jobs)):
            for n, scores in zip(counts, per_n, strict=True):
                yield index, method.name, n, scores


def view_curve_scores(view: np.ndarray, abs_: list) -> list[dict]:
    """PSNR and AuC of each ab joined with ``view``'s own L, against ``view`` (one job of :func:`curve_batch`)."""
    from colorization.colorize import render
    from colorization.lab import rgb_to_lab
    from colorization.metrics import auc_ab_error, psnr

    truth = rgb_to_lab(view)
    scores = []
    for ab in abs_:
        pred = render(view, ab)
        scores.append({"psnr": psnr(pred, view), "auc": auc_ab_error(rgb_to_lab(pred), truth)})
    return scores


def run_hint_curve(
    methods: list[CurveMethod],
    data,
    counts=PROTOCOL_COUNTS,
    *,
    seed: int = 0,
    batch_size: int = 8,
    workers: int | None = None,
    progress=True,
) -> pd.DataFrame:
    """Every method at every N on ``data``'s images (an EvalData, at the paper's crop).

    Levin et al.'s solves (one per image and N, ~0.3 s each on one core) run in ``workers``
    processes (default: one per core; 1: in this process). The table is the same either way.

    Returns one row per (image, method, N): ``relpath, seed, method, n, psnr, auc``.
    """
    from tqdm import tqdm

    items = data.items.reset_index(drop=True)
    rows = []
    bar = tqdm(total=len(items), unit="img", desc="hint curve", file=sys.stderr, disable=not progress)
    with bar, cpu_pool(workers) as pool:
        for start in range(0, len(items), batch_size):
            batch = items.iloc[start : start + batch_size]
            views = np.stack([np.asarray(data.cache.images[row]) for row in batch["row"]])
            seeds = [image_seed(relpath, seed) for relpath in batch["relpath"]]
            for index, name, n, scores in curve_batch(methods, views, seeds, counts, pool):
                rows.append({"relpath": batch["relpath"].iloc[index], "seed": seeds[index], "method": name, "n": n})
                rows[-1].update(scores)
            bar.update(len(batch))
    return pd.DataFrame(rows)


def summarize_curve(per_image: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error of each metric per (method, N), and the number of images."""
    groups = per_image.groupby(["method", "n"], sort=False)
    table = groups[list(CURVE_METRICS)].agg(["mean", "sem"])
    table.columns = [f"{metric}_{stat}" for metric, stat in table.columns]
    table["images"] = groups.size()
    return table.reset_index()


def curve_targets(summary: pd.DataFrame) -> dict:
    """The issue's targets, measured: the hint network's PSNR gain over the automatic model at
    :data:`TARGET_HINTS` hints, and whether it is above Levin et al. at every N <= :data:`ABOVE_LEVIN_UP_TO`."""
    psnr = summary.pivot(index="n", columns="method", values="psnr_mean")
    result = {}
    if {"hint network", "automatic"} <= set(psnr.columns) and TARGET_HINTS in psnr.index:
        gain = float(psnr.loc[TARGET_HINTS, "hint network"] - psnr.loc[TARGET_HINTS, "automatic"])
        result["gain_db_at_10"] = {"value": round(gain, 3), "target": TARGET_GAIN_DB, "met": gain >= TARGET_GAIN_DB}
    if {"hint network", "levin"} <= set(psnr.columns):
        low = psnr.loc[psnr.index <= ABOVE_LEVIN_UP_TO]
        margins = (low["hint network"] - low["levin"]).round(3)
        result["above_levin_up_to_20"] = {"margins_db": margins.to_dict(), "met": bool((margins > 0).all())}
    return result


def write_curve(per_image: pd.DataFrame, summary: pd.DataFrame, folder, provenance: dict | None = None) -> dict:
    """Write ``per_image.csv``, ``summary.csv`` and ``targets.json`` into ``folder`` (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "per_image": folder / "per_image.csv",
        "summary": folder / "summary.csv",
        "targets": folder / "targets.json",
    }
    write_text_atomic(paths["per_image"], per_image.to_csv(index=False, float_format="%.6g"))
    write_text_atomic(paths["summary"], summary.to_csv(index=False, float_format="%.6g"))
    targets = curve_targets(summary)
    record = {"targets": targets, "provenance": provenance or {}}
    write_text_atomic(paths["targets"], json.dumps(record, indent=2, default=str) + "\n")
    paths["markdown"] = write_text_atomic(folder / "summary.md", markdown_curve(summary, targets) + "\n")
    return paths


def markdown_curve(summary: pd.DataFrame, targets: dict) -> str:
    """The curve as a table (mean PSNR in dB ± one standard error, per method and N) and the targets."""
    counts = sorted(summary["n"].unique())
    lines = ["| method | " + " | ".join(f"N={n}" for n in counts) + " |", "|---|" + "---:|" * len(counts)]
    for name, rows in summary.groupby("method", sort=False):
        cells = rows.set_index("n")
        lines.append(
            f"| {name} | "
            + " | ".join(f"{cells.loc[n, 'psnr_mean']:.2f} ± {cells.loc[n, 'psnr_sem']:.2f}" for n in counts)
            + " |"
        )
    images = int(summary["images"].max())
    lines += ["", f"Mean PSNR (dB) ± one standard error over {images} images, the same hints for every method."]
    gain = targets.get("gain_db_at_10")
    if gain:
        verdict = "met" if gain["met"] else "not met"
        lines.append(
            f"With {TARGET_HINTS} hints the hint network gains {gain['value']:+.2f} dB over the automatic "
            f"model (target ≥ {gain['target']:.0f} dB: {verdict})."
        )
    above = targets.get("above_levin_up_to_20")
    if above:
        verdict = "met" if above["met"] else "not met"
        margins = ", ".join(f"N={n}: {value:+.2f}" for n, value in above["margins_db"].items())
        lines.append(
            f"Hint network minus Levin et al., dB ({margins}); above it for every N ≤ {ABOVE_LEVIN_UP_TO}: {verdict}."
        )
    return "\n".join(lines)


def example_outputs(methods: list[CurveMethod], view: np.ndarray, seed: int, counts=(0, 5, 20)) -> tuple[dict, dict]:
    """One view coloured by each method with each number of hints of ``counts``, as the curve
    draws them: ``({method: {n: rgb}}, {n: hints})`` for :func:`colorization.reporting.hint_figures.hint_examples`."""
    from colorization.colorize import render
    from colorization.hints.protocol import hints_from_truth

    points = {n: hints_from_truth(view, n, seed) for n in counts}
    results = {
        method.name: {n: render(view, method_ab(method, view[None], [points[n]])[0]) for n in counts}
        for method in methods
    }
    return results, points
