"""Measuring the temporal methods on clips, and the rule that picks the default.

From a notebook::

    import colorization as cz
    from colorization.evaluation.temporal import choose_default, compare_methods, ratios, synthetic_clips
    table = compare_methods(cz.load_weights(), synthetic_clips(("pan", "static")))
    ratios(table)            # flow / frame, per clip
    choose_default(table)    # "flow"

Each frame goes the video pipeline's way: :func:`colorization.colorize.network_view` (``"full"``),
:func:`colorization.colorize.predict_ab` (once per frame, shared by every method), the method's
stabilizer (:func:`colorization.video.temporal.stabilizer`), :func:`colorization.colorize.render`
at the frame's own size. One pass per clip scores every method, holding one batch of frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice

import numpy as np
import pandas as pd

from colorization.colorize import network_view, predict_ab, render
from colorization.lab import rgb_to_lab
from colorization.metrics import temporal as temporal_metrics
from colorization.metrics.fidelity import auc_ab_error, psnr
from colorization.video import synthetic
from colorization.video.temporal import METHODS, stabilizer

COLUMNS = ("clip", "method", "frames", "cdc", "warping_error", "psnr", "auc", "frame_change", "cuts")
PSNR_TOLERANCE_DB = 0.1
BATCH = 8  # frames per network call


def synthetic_clips(kinds=synthetic.KINDS, old_film=(False, True), **clip_options) -> dict[str, Iterator]:
    """Synthesized clips with their truth, by name (``"pan"``, ``"pan old film"``, ...): generators.

    ``clip_options`` go to :func:`colorization.video.synthetic.clip_with_truth` (seconds, size, fps,
    seed, photo).
    """
    return {
        f"{kind} old film" if aged else kind: synthetic.clip_with_truth(kind, old_film=aged, **clip_options)
        for kind in kinds
        for aged in old_film
    }


class _Scores:
    """One method's running scores over one clip."""

    def __init__(self, spec: dict):
        spec = dict(spec)
        self.stabilizer = stabilizer(spec.pop("method"), **spec)
        self.histograms, self.warp_errors, self.psnrs, self.aucs, self.changes = [], [], [], [], []
        self.previous_rgb = self.previous_ab = None

    def add(self, frame, view, ab, truth_lab, truth, motion) -> None:
        out_ab = self.stabilizer.update(view, ab)
        rgb = render(frame, out_ab)
        self.histograms.append(temporal_metrics.channel_histograms(rgb))
        if self.previous_rgb is not None:
            self.warp_errors.append(temporal_metrics.pair_warping_error(self.previous_rgb, rgb, motion))
            self.changes.append(float(np.mean(np.abs(out_ab - self.previous_ab))))
        if truth is not None:
            self.psnrs.append(psnr(rgb, truth))
            self.aucs.append(auc_ab_error(rgb_to_lab(rgb), truth_lab))
        self.previous_rgb, self.previous_ab = rgb, out_ab

    def row(self, clip: str, method: str) -> dict:
        several = len(self.histograms) > 1
        return {
            "clip": clip,
            "method": method,
            "frames": len(self.histograms),
            "cdc": temporal_metrics.cdc_of_histograms(self.histograms) if several else np.nan,
            "warping_error": float(np.mean(self.warp_errors)) if several else np.nan,
            "psnr": float(np.mean(self.psnrs)) if self.psnrs else np.nan,
            "auc": float(np.mean(self.aucs)) if self.aucs else np.nan,
            "frame_change": float(np.mean(self.changes)) if several else np.nan,
            "cuts": getattr(self.stabilizer, "cuts", 0),
        }


def _pairs(items: Iterable) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """``(frame, truth)`` from a clip of frames or of ``(frame, truth)`` pairs."""
    for item in items:
        yield (item[0], item[1]) if isinstance(item, tuple) else (item, None)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def score_clip(model, clip: Iterable, methods: Mapping[str, dict], flow: str = temporal_metrics.METRIC_FLOW):
    """Every method's scores on one clip: ``{label: _Scores}`` (see :func:`compare_methods`)."""
    scores = {label: _Scores(spec) for label, spec in methods.items()}
    previous = None
    for batch in _batches(_pairs(clip), BATCH):
        views = np.stack([network_view(frame, "full") for frame, _ in batch])
        for (frame, truth), view, ab in zip(batch, views, predict_ab(model, views), strict=True):
            motion = None if previous is None else temporal_metrics.input_motion(previous, frame, flow)
            truth_lab = None if truth is None else rgb_to_lab(truth)
            for score in scores.values():
                score.add(frame, view, ab, truth_lab, truth, motion)
            previous = frame
    return scores


def compare_methods(model, clips: Mapping[str, Iterable], methods: Mapping[str, dict] | None = None) -> pd.DataFrame:
    """Score temporal methods on clips: one row per clip and method.

    Parameters
    ----------
    model : keras.Model
        The network (e.g. ``colorization.load_weights()``).
    clips : mapping of name -> iterable
        Each clip's frames (uint8 RGB (H, W, 3)) or ``(frame, truth)`` pairs (:func:`synthetic_clips`).
    methods : mapping of label -> dict, optional
        Stabilizer settings: ``{"method": "flow", "alpha": 0.7}`` (:func:`colorization.video.temporal.stabilizer`);
        default every method of :data:`colorization.video.temporal.METHODS` at its defaults.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``cdc`` (:func:`colorization.metrics.temporal.cdc`), ``warping_error``
        (:func:`~colorization.metrics.temporal.warping_error`, flow on the input frames), ``psnr`` and
        ``auc`` (means over frames; NaN without truth), ``frame_change`` (mean |delta ab| of the
        stabilizer's output, Lab units) and ``cuts`` (scene cuts the method found).
    """
    methods = {name: {"method": name} for name in METHODS} if methods is None else methods
    rows = []
    for name, clip in clips.items():
        scores = score_clip(model, clip, methods)
        rows.extend(score.row(name, label) for label, score in scores.items())
    return pd.DataFrame(rows, columns=list(COLUMNS))


def ratios(table: pd.DataFrame, reference: str = "frame") -> pd.DataFrame:
    """Per clip and method: CDC and warping error divided by ``reference``'s, and the PSNR difference (dB)."""
    base = table[table["method"] == reference].set_index("clip")
    rows = []
    for _, row in table[table["method"] != reference].iterrows():
        ref = base.loc[row["clip"]]
        rows.append({
            "clip": row["clip"],
            "method": row["method"],
            "cdc_ratio": _ratio(row["cdc"], ref["cdc"]),
            "warping_error_ratio": _ratio(row["warping_error"], ref["warping_error"]),
            "psnr_difference": row["psnr"] - ref["psnr"],
            "frame_change_ratio": _ratio(row["frame_change"], ref["frame_change"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _ratio(value: float, reference: float) -> float:
    return float(value / reference) if reference else float("nan")


def choose_default(table: pd.DataFrame, reference: str = "frame", tolerance_db: float = PSNR_TOLERANCE_DB) -> str:
    """The method to use by default, by this rule:

    1. candidates: the methods whose PSNR, averaged over the clips with truth, is at most
       ``tolerance_db`` (0.1 dB) below ``reference``'s (frame by frame, always a candidate);
    2. of those, the one with the lowest warping error averaged over all clips;
    3. a tie goes to the earlier method in the table (frame by frame first: the simpler).
    """
    means = table.groupby("method", sort=False)[["psnr", "warping_error"]].mean()
    if reference not in means.index:
        raise ValueError(f"the table has no rows of the reference method {reference!r}")
    floor = means.loc[reference, "psnr"] - tolerance_db
    candidates = means[(means["psnr"] >= floor) | means["psnr"].isna() | (means.index == reference)]
    return str(candidates["warping_error"].idxmin())
