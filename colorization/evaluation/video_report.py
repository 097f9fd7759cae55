"""What notebook 06 shows of a clip: per-frame colour traces, a strip of frames, and the files.

The path::

    traces = clip_traces(model, synthetic.clip_with_truth("pan", old_film=True))  # every method, once
    traces.per_frame            # frame, method, mean_a, mean_b, change (|delta ab|), psnr
    traces.strip                # a few frames: gray input, each method's output, truth
    write_gray_clip(synthetic.clip("pan", old_film=True), "input.mp4")           # what a user has
    colorize_video(model, "input.mp4", "colorized.mp4")                            # the package's path

Frames go the video pipeline's way (:mod:`colorization.evaluation.temporal`): one prediction per
frame shared by every method, each method's stabilizer, :func:`colorization.colorize.render` at the
frame's own size. The summary table itself comes from
:func:`colorization.evaluation.temporal.compare_methods`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.colorize import network_view, neutral_gray, predict_ab, render
from colorization.metrics.fidelity import psnr
from colorization.video.temporal import METHODS, stabilizer

STRIP_FRAMES = 4  # frames shown in the strip, evenly spaced


@dataclass
class ClipTraces:
    """Per-frame rows and the strip of one clip (see the module docstring)."""

    per_frame: pd.DataFrame
    strip: dict = field(default_factory=dict)  # row label -> list of frames (uint8 RGB)
    indices: list = field(default_factory=list)  # the frames the strip shows


def strip_indices(count: int, shown: int = STRIP_FRAMES) -> list[int]:
    """``shown`` frame numbers spread evenly over a clip of ``count`` frames."""
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, min(shown, count))})


def clip_traces(model, clip, methods=METHODS, batch: int = 8) -> ClipTraces:
    """Colour traces of every method over one short clip of ``(frame, truth)`` pairs (held in memory)."""
    stabilizers = {name: stabilizer(name) for name in methods}
    pairs = list(clip)  # the notebook's clips: a few seconds at a small size
    keep = set(strip_indices(len(pairs)))
    strip = {"gray input": [], **{name: [] for name in methods}, "truth": []}
    rows, previous, index = [], {}, 0
    for start in range(0, len(pairs), batch):
        frames = [frame for frame, _ in pairs[start : start + batch]]
        views = np.stack([network_view(frame, "full") for frame in frames])
        for (frame, truth), view, ab in zip(pairs[start : start + batch], views, predict_ab(model, views), strict=True):
            for name, method in stabilizers.items():
                out = method.update(view, ab)
                rgb = render(frame, out)
                change = float(np.mean(np.abs(out - previous[name]))) if name in previous else np.nan
                previous[name] = out
                rows.append(_row(index, name, out, change, rgb, truth))
                if index in keep:
                    strip[name].append(rgb)
            if index in keep:
                strip["gray input"].append(neutral_gray(frame))
                strip["truth"].append(truth)
            index += 1
    return ClipTraces(pd.DataFrame(rows), strip, sorted(keep))


def _row(index: int, method: str, ab: np.ndarray, change: float, rgb: np.ndarray, truth) -> dict:
    return {
        "frame": index,
        "method": method,
        "mean_a": float(ab[..., 0].mean()),
        "mean_b": float(ab[..., 1].mean()),
        "change": change,
        "psnr": psnr(rgb, truth) if truth is not None else np.nan,
    }


def write_gray_clip(frames, path, fps: int = 25, overwrite: bool = False) -> Path:
    """Write ``frames`` (uint8 RGB) as a gray H.264 video: the black-and-white film a user has."""
    from colorization.video.container import Frame, VideoInfo
    from colorization.video.writer import open_writer

    frames = iter(frames)
    first = next(frames)
    first = first[0] if isinstance(first, tuple) else first
    info = VideoInfo.for_frames(first.shape[1], first.shape[0], fps)
    with open_writer(path, info, overwrite=overwrite) as writer:
        writer.write(Frame(neutral_gray(first)))
        for frame in frames:
            writer.write(Frame(neutral_gray(frame[0] if isinstance(frame, tuple) else frame)))
    return Path(path)


def markdown_video(table: pd.DataFrame, ratios: pd.DataFrame, default: str) -> str:
    """The notebook's table (means per clip and method) and the flow / frame ratios, as Markdown."""
    shown = table[["clip", "method", "cdc", "warping_error", "psnr", "frame_change"]]
    lines = ["| clip | method | CDC | warping error | PSNR (dB) | mean abs(Δab) |", "|---|---|---:|---:|---:|---:|"]
    lines += [
        f"| {r.clip} | {r.method} | {r.cdc:.5f} | {r.warping_error:.5f} | {r.psnr:.2f} | {r.frame_change:.2f} |"
        for r in shown.itertuples()
    ]
    lines += ["", "| clip | CDC ratio | warping-error ratio | PSNR difference (dB) |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r.clip} ({r.method} / frame) | {r.cdc_ratio:.2f} | {r.warping_error_ratio:.2f} "
        f"| {r.psnr_difference:+.2f} |"
        for r in ratios.itertuples()
    ]
    lines += ["", f"Default method by the rule of `colorization/evaluation/temporal.py`: **{default}**."]
    return "\n".join(lines)
