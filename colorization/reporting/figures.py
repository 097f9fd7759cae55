"""Figures the notebooks show and save: contact sheets, comparison grids, curves, distributions.

Every function returns a matplotlib ``Figure``; :func:`save_figure` writes it as PNG
atomically. Nothing here computes results: it only draws what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from colorization.io.files import atomic_path


def save_figure(figure, path: str | Path, dpi: int = 80) -> Path:
    """Write ``figure`` to ``path`` (PNG) atomically and return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path


def contact_sheet(
    images: Sequence[np.ndarray],
    titles: Sequence[str] = (),
    columns: int = 6,
    cell_inches: float = 1.9,
    suptitle: str | None = None,
):
    """A grid of images with small titles."""
    count = len(images)
    if count == 0:
        raise ValueError("contact_sheet needs at least one image")
    columns = min(columns, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(columns * cell_inches, rows * cell_inches * 1.08), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, list(titles) + [""] * count, strict=False):
        ax.imshow(
            image, cmap="gray" if np.ndim(image) == 2 else None, vmin=0, vmax=255 if np.ndim(image) == 2 else None
        )
        ax.set_title(title, fontsize=7)
    if suptitle:
        figure.suptitle(suptitle, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (rows * cell_inches)) if suptitle else None)
    return figure


def comparison_grid(
    rows: Sequence[Sequence[np.ndarray]],
    column_titles: Sequence[str],
    row_titles: Sequence[str] = (),
    cell_inches: float = 2.2,
    suptitle: str | None = None,
):
    """One row per example, e.g. gray input | prediction(s) | ground truth."""
    if not rows:
        raise ValueError("comparison_grid needs at least one row")
    n_rows, n_cols = len(rows), len(column_titles)
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(n_cols * cell_inches, n_rows * cell_inches), squeeze=False)
    for r, row in enumerate(rows):
        if len(row) != n_cols:
            raise ValueError(f"row {r} has {len(row)} images, expected {n_cols}")
        for c, image in enumerate(row):
            ax = axes[r, c]
            ax.imshow(image, cmap="gray" if np.ndim(image) == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_titles[c], fontsize=9)
            if c == 0 and r < len(row_titles):
                ax.set_ylabel(row_titles[r], fontsize=7)
    if suptitle:
        figure.suptitle(suptitle, fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (n_rows * cell_inches)) if suptitle else None)
    return figure


def loss_curves(history, title: str = "training"):
    """Training and validation loss per epoch from a history table (columns ``epoch``, ``loss``, ``val_loss``)."""
    figure, ax = plt.subplots(figsize=(5.5, 3.4))
    epochs = history["epoch"] if "epoch" in history else np.arange(1, len(history) + 1)
    for column, label in (("loss", "train"), ("val_loss", "validation")):
        if column in history:
            ax.plot(epochs, history[column], marker="o", markersize=3, label=label)
    if "val_loss" in history and np.isfinite(history["val_loss"]).any():
        best = int(np.nanargmin(history["val_loss"]))
        ax.axvline(
            np.asarray(epochs)[best], color="gray", linestyle=":", label=f"best val (epoch {np.asarray(epochs)[best]})"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE on ab / 128")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


DISTRIBUTION_METRICS = (
    "auc",
    "ab_rmse",
    "psnr",
    "ssim",
    "delta_cf",
    "brown_pred",
    "delta_b",
    "warmth_shift",
    "sand_as_water",
)


def metric_distributions(
    per_image, metrics: Sequence[str] = DISTRIBUTION_METRICS, method_column: str = "method", columns: int = 3
):
    """Histograms of per-image metrics, one panel per metric, one colour per method."""
    rows = -(-len(metrics) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 3.3, rows * 2.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    methods = list(dict.fromkeys(per_image[method_column]))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        ax.axis("on")
        values = [
            per_image.loc[per_image[method_column] == m, metric].replace([np.inf, -np.inf], np.nan).dropna()
            for m in methods
        ]
        finite = np.concatenate([v.to_numpy() for v in values]) if values else np.array([])
        if finite.size == 0:
            ax.set_title(f"{metric} (no finite values)", fontsize=8)
            continue
        bins = np.histogram_bin_edges(finite, bins=min(30, max(5, finite.size // 3)))
        for method, value in zip(methods, values, strict=True):
            ax.hist(value, bins=bins, alpha=0.55, label=method)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def vividness_curves(table, title: str = "vividness sweep"):
    """Mean AuC and mean colourfulness change against vividness, one line per model, from a
    :func:`colorization.evaluation.vividness_sweep.summarize_sweep` table (bars: one standard
    error; rings: the values the rule chose)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, rows in table.groupby("method", sort=False):
        for axis, column in zip(axes, ("auc", "delta_cf"), strict=True):
            line = axis.errorbar(rows["vividness"], rows[column], yerr=rows[f"{column}_sem"], marker="o", label=name)
            chosen = rows[rows["chosen"].astype(bool)]
            axis.plot(chosen["vividness"], chosen[column], "o", ms=14, mfc="none", color=line[0].get_color())
    axes[0].set(xlabel="vividness (1 = as trained)", ylabel="mean AuC of ab error (higher: closer)")
    axes[1].axhline(0.0, color="gray", lw=1, ls="--")
    axes[1].set(xlabel="vividness (1 = as trained)", ylabel="mean colourfulness, output - original")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{title} (rings: the chosen defaults)")
    fig.tight_layout()
    return fig
