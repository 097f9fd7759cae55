"""Figures of the video notebook (06): a strip of frames per method and the colour over time.
Nothing here computes results: it draws what :mod:`colorization.evaluation.video_report` gives."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def frame_strip(strip: dict, indices: list[int], title: str = ""):
    """Rows: gray input, each method's output, truth; columns: the frames ``indices``."""
    rows = [(label, frames) for label, frames in strip.items() if frames]
    fig, axes = plt.subplots(len(rows), len(indices), figsize=(2.3 * len(indices), 1.9 * len(rows)))
    axes = np.atleast_2d(axes)
    for r, (label, frames) in enumerate(rows):
        for c, frame in enumerate(frames):
            axes[r, c].imshow(frame)
            axes[r, c].set_title(f"{label}, frame {indices[c]}", fontsize=8)
    for axis in axes.ravel():
        axis.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def colour_traces(per_frame, title: str = ""):
    """Per-frame mean a, mean b and frame-to-frame mean |delta ab| (flicker) for each method."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    labels = ("mean a (Lab)", "mean b (Lab)", "mean |Δab| from the previous frame")
    for name, rows in per_frame.groupby("method", sort=False):
        for axis, column in zip(axes, ("mean_a", "mean_b", "change"), strict=True):
            axis.plot(rows["frame"], rows[column], label=name, lw=1.2)
    for axis, label in zip(axes, labels, strict=True):
        axis.set(xlabel="frame", ylabel=label)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
