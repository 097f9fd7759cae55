"""Figures of the colour-hint protocol (notebook 07): the PSNR/AuC-vs-hints curve and one image
coloured by each method with a few hints. Nothing here computes results: it draws what it is given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def hint_curves(summary, title: str = "colour hints"):
    """Mean PSNR and AuC against the number of hints, one line per method, from a
    :func:`colorization.evaluation.hint_curve.summarize_curve` table (bars: one standard error).
    The x axis is symmetric-log so that N = 0 (no hints) has its place."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, rows in summary.groupby("method", sort=False):
        for axis, metric in zip(axes, ("psnr", "auc"), strict=True):
            axis.errorbar(rows["n"], rows[f"{metric}_mean"], yerr=rows[f"{metric}_sem"], marker="o", ms=4, label=name)
    for axis, label in zip(axes, ("mean PSNR (dB)", "mean AuC of ab error (higher: closer)"), strict=True):
        axis.set_xscale("symlog", linthresh=1)
        axis.set(xlabel="hints per image (N)", ylabel=label)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    images = int(summary["images"].max()) if len(summary) else 0
    fig.suptitle(f"{title}: {images} images, the same hints for every method")
    fig.tight_layout()
    return fig


def hint_examples(gray: np.ndarray, truth: np.ndarray, results: dict, points: dict):
    """One image coloured by each method at a few numbers of hints.

    Parameters
    ----------
    gray, truth : ndarray (H, W, 3) uint8
        The input and the ground truth.
    results : dict
        ``{method: {n: rgb}}``: each method's output with ``n`` hints.
    points : dict
        ``{n: list of Hint}``: the hints (drawn as rings on the gray image of each row's first column).
    """
    counts = sorted(next(iter(results.values())).keys()) if results else []
    fig, axes = plt.subplots(len(results), len(counts) + 2, figsize=(2.2 * (len(counts) + 2), 2.3 * len(results)))
    axes = np.atleast_2d(axes)
    for row, (method, by_count) in enumerate(results.items()):
        axes[row, 0].imshow(gray)
        axes[row, 0].set_title("gray input", fontsize=8)
        for column, n in enumerate(counts, start=1):
            axes[row, column].imshow(by_count[n])
            axes[row, column].set_title(f"{method}, {n} hints", fontsize=8)
            for hint in points.get(n, []):
                axes[row, column].plot(hint.x, hint.y, "o", ms=5, mfc="none", mec="white", mew=1)
        axes[row, -1].imshow(truth)
        axes[row, -1].set_title("ground truth", fontsize=8)
    for axis in axes.ravel():
        axis.axis("off")
    fig.tight_layout()
    return fig
