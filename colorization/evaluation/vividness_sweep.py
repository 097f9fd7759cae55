"""Choosing a model's default vividness on the validation split: the sweep and the rule.

The path::

    sweep = run_sweep({"paper": paper, "classification": ablation}, val_data)   # per image and vividness
    table = summarize_sweep(sweep)        # one row per (method, vividness): means and standard errors
    choices = choose(table)               # the rule below, per method
    write_sweep(table, choices, "results/caltech101/vividness")
    # or all four steps, plus chosen.md: sweep_defaults(models, val_data, folder)

Each model predicts once per image; its output is decoded at every vividness of
:data:`GRID` (:func:`colorization.decoding.decode_many`: a chroma gain for the regression head,
the annealed mean at ``T = 1 / v`` for the classification head), joined with the image's
own L (:func:`colorization.colorize.render`) and scored at the paper's 256x256 crop.

The rule (:func:`choose`)
    Among the values whose mean AuC is at most :data:`AUC_TOLERANCE` below the best mean
    AuC of the same model in the sweep, the one whose mean colourfulness is closest to the
    originals' (smallest ``|mean delta_cf|``); ties go to the value nearer 1. Colour as
    vivid as the photographs', at a bounded cost in closeness to the true colours.

The chosen values become the shipped models' defaults in the weights registry
(``colorization/weights/registry.json``, key ``vividness``), copied from the published
Caltech-101 sweep; a test checks that they agree.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.ablation.quantize import ANNEAL_T
from colorization.io.files import write_text_atomic

# 1 = as trained; 1 / 0.38 = Zhang et al.'s annealed-mean temperature
GRID = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, round(1.0 / ANNEAL_T, 4), 3.0, 4.0)
AUC_TOLERANCE = 0.02  # the issue's bound: AuC no more than 0.02 below the reference
SWEEP_METRICS = ("auc", "ab_rmse", "psnr", "cf_pred", "cf_true", "delta_cf")
RULE = (
    f"among the vividness values whose mean AuC is within {AUC_TOLERANCE} of the model's best in the sweep, "
    "the one whose mean colourfulness is closest to the originals' (ties: nearer 1)"
)


@dataclass(frozen=True)
class Original:
    """An original as the sweep compares with it: sRGB, its Lab and its colourfulness (computed once)."""

    rgb: np.ndarray
    lab: np.ndarray
    colorfulness: float

    @classmethod
    def of(cls, rgb: np.ndarray) -> Original:
        from colorization.lab import rgb_to_lab
        from colorization.metrics import colorfulness

        return cls(rgb, rgb_to_lab(rgb), colorfulness(rgb))


def sweep_scores(pred_rgb: np.ndarray, original: Original) -> dict[str, float]:
    """The sweep's metrics of one prediction (those of :func:`colorization.metrics.image_metrics`)."""
    from colorization.lab import rgb_to_lab
    from colorization.metrics import ab_rmse, auc_ab_error, colorfulness, psnr

    pred_lab, cf_pred = rgb_to_lab(pred_rgb), colorfulness(pred_rgb)
    return {
        "auc": auc_ab_error(pred_lab, original.lab),
        "ab_rmse": ab_rmse(pred_lab, original.lab),
        "psnr": psnr(pred_rgb, original.rgb),
        "cf_pred": cf_pred,
        "cf_true": original.colorfulness,
        "delta_cf": cf_pred - original.colorfulness,
    }


def run_sweep(
    models: dict, data, values=GRID, *, batch_size: int = 32, workers: int | None = None, progress: bool = True
) -> pd.DataFrame:
    """Every model of ``models`` (name -> keras.Model) at every vividness of ``values`` on
    ``data``'s images (an :class:`~colorization.evaluation.selection.EvalData`), at the
    paper's crop. One row per (image, method, vividness): ``relpath, method, vividness``
    and :data:`SWEEP_METRICS`. The scoring runs in ``workers`` processes (default: one per
    core; :mod:`colorization.evaluation.parallel`); the table is the same with any number."""
    from tqdm import tqdm

    from colorization.evaluation.parallel import cpu_pool
    from colorization.vividness import check_vividness

    values = [check_vividness(value) for value in values]
    items = data.items.reset_index(drop=True)
    rows = []
    bar = tqdm(
        total=len(items) * len(models), unit="img", desc="vividness sweep", file=sys.stderr, disable=not progress
    )
    with bar, cpu_pool(workers) as pool:
        for start in range(0, len(items), batch_size):
            batch = items.iloc[start : start + batch_size]
            views = np.stack([np.asarray(data.cache.images[row]) for row in batch["row"]])
            for name, model in models.items():
                for position, scores in sweep_batch(model, views, values, pool):
                    rows.append({"relpath": batch["relpath"].iloc[position], "method": name, **scores})
                bar.update(len(batch))
    return pd.DataFrame(rows)


def sweep_batch(model, views: np.ndarray, values, pool=None):
    """(index in the batch, {vividness, metrics...}) for every view and value: one prediction per
    view, decoded at every value and scored in one job (in ``pool``'s processes if given: the
    classification head's annealed means are most of the work)."""
    from colorization.decoding import RawPrediction, raw_predictions
    from colorization.evaluation.parallel import pool_map

    raws = [
        RawPrediction(raw.values[index : index + 1], raw.classification, raw.repeat)
        for raw in raw_predictions(model, views)
        for index in range(len(raw.values))
    ]
    for index, scores in enumerate(pool_map(pool, view_sweep_scores, list(views), raws, [values] * len(views))):
        for value, one in zip(values, scores, strict=True):
            yield index, {"vividness": value, **one}


def view_sweep_scores(view: np.ndarray, raw, values) -> list[dict]:
    """:func:`sweep_scores` of one view's raw prediction decoded at each vividness of ``values``,
    joined with ``view``'s L."""
    from colorization.colorize import render
    from colorization.decoding import decode_many

    original = Original.of(view)
    return [sweep_scores(render(view, ab[0]), original) for ab in decode_many(raw, values)]


def summarize_sweep(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, vividness): ``images``, the mean of each metric, and the standard
    errors ``auc_sem`` and ``delta_cf_sem``, in the methods' order; ``chosen`` marks :func:`choose`'s pick."""
    groups = sweep.groupby(["method", "vividness"], sort=False)
    table = groups[list(SWEEP_METRICS)].mean()
    table.insert(0, "images", groups.size())
    table["auc_sem"] = groups["auc"].sem(ddof=1)
    table["delta_cf_sem"] = groups["delta_cf"].sem(ddof=1)
    table = table.reset_index()
    picks = {(name, choice["vividness"]) for name, choice in choose(table).items()}
    table["chosen"] = [(m, v) in picks for m, v in zip(table["method"], table["vividness"], strict=True)]
    return table


def choose(table: pd.DataFrame, tolerance: float = AUC_TOLERANCE) -> dict[str, dict]:
    """The rule of the module doc, per method of a :func:`summarize_sweep` table: method ->
    ``vividness``, its ``auc`` and ``delta_cf``, the sweep's ``best_auc`` and the ``rule``."""
    choices = {}
    for name, rows in table.groupby("method", sort=False):
        best = float(rows["auc"].max())
        admitted = rows[rows["auc"] >= best - tolerance]
        order = np.lexsort(((admitted["vividness"] - 1.0).abs(), admitted["delta_cf"].abs()))
        pick = admitted.iloc[order[0]]
        choices[name] = {
            "vividness": float(pick["vividness"]),
            "auc": float(pick["auc"]),
            "delta_cf": float(pick["delta_cf"]),
            "best_auc": best,
            "images": int(pick["images"]),
            "rule": RULE,
        }
    return choices


def write_sweep(table: pd.DataFrame, choices: dict, folder, provenance: dict | None = None) -> dict[str, Path]:
    """``sweep.csv`` (:func:`summarize_sweep`) and ``chosen.json`` (the choices and ``provenance``), atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"sweep": folder / "sweep.csv", "chosen": folder / "chosen.json"}
    write_text_atomic(paths["sweep"], table.to_csv(index=False, float_format="%.6g"))
    record = {"chosen": choices, "provenance": provenance or {}}
    write_text_atomic(paths["chosen"], json.dumps(record, indent=2, default=str) + "\n")
    return paths


def markdown_choices(choices: dict, registered: dict[str, float | None], data_label: str) -> str:
    """The choices as a Markdown table beside the defaults the registry ships (``registered``)."""
    lines = [
        f"Chosen on {data_label}: {RULE}.",
        "",
        "| model | chosen vividness | AuC there | best AuC in the sweep | ΔCF there | default the package ships |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, choice in choices.items():
        shipped = registered.get(name)
        lines.append(
            f"| `{name}` | {choice['vividness']:.4g} | {choice['auc']:.3f} | {choice['best_auc']:.3f} | "
            f"{choice['delta_cf']:+.2f} | {'-' if shipped is None else f'{shipped:.4g}'} |"
        )
    return "\n".join(lines) + "\n"


@dataclass
class SweepResult:
    """What :func:`sweep_defaults` made: the ``table`` (:func:`summarize_sweep`), the ``choices``
    (:func:`choose`) and their ``markdown`` (:func:`markdown_choices`)."""

    table: pd.DataFrame
    choices: dict
    markdown: str


def sweep_defaults(models: dict, data, folder, *, values=GRID, progress: bool = True) -> SweepResult:
    """Sweep ``models`` on ``data``, choose each one's default, and write ``sweep.csv``,
    ``chosen.json`` and ``chosen.md`` into ``folder`` (:func:`run_sweep`, :func:`summarize_sweep`,
    :func:`choose`, :func:`write_sweep`, :func:`markdown_choices`)."""
    from colorization.reporting.provenance import provenance

    table = summarize_sweep(run_sweep(models, data, values, progress=progress))
    choices = choose(table)
    registered = registered_defaults(models)
    record = provenance("vividness sweep", data=data.describe(), grid=list(values), registered=registered)
    label = f"the `{data.source}` `{data.split}` split ({len(data.items)} images)"
    markdown = markdown_choices(choices, registered, label)
    write_sweep(table, choices, folder, record)
    write_text_atomic(Path(folder) / "chosen.md", markdown)
    return SweepResult(table, choices, markdown)


def registered_defaults(models: dict) -> dict[str, float | None]:
    """Each model's registered default vividness (None for a model the registry does not list)."""
    return {name: getattr(model, "default_vividness", None) for name, model in models.items()}
