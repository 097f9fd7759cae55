"""Example figures: images picked by a measurement, drawn as gray input | each method's
colorization | ground truth, in the paper's 256x256 crop.

These are the notebooks' figures for the evaluation (best and worst images), for each
of the paper's claims (the images that show it most and least), for the ablation, for
fragments and for the paper's own kind of figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from colorization.colorize import neutral_gray, render
from colorization.evaluation.claims import Verdict, extremes, fragment_views
from colorization.reporting.figures import comparison_grid, save_figure


def example_rows(data, relpaths, methods) -> list[list[np.ndarray]]:
    """Figure rows ``gray input | each method's colorization | ground truth`` for images of
    an :class:`colorization.evaluation.EvalData`, in the paper's 256x256 crop."""
    if not len(relpaths):
        return []
    row_of = dict(zip(data.cache.index["relpath"], data.cache.index["row"], strict=True))
    truths = np.stack([np.asarray(data.cache.images[row_of[r]]) for r in relpaths])
    predictions = [m.predict_ab(truths) for m in methods]
    return [
        [neutral_gray(truth), *(render(truth, ab[i]) for ab in predictions), truth] for i, truth in enumerate(truths)
    ]


def method_columns(methods) -> list[str]:
    """Column titles for :func:`example_rows`: gray input, the methods' names, ground truth."""
    return ["gray input", *(m.name for m in methods), "ground truth"]


def slug(text: str) -> str:
    """A file-name-safe lower-case form of ``text`` (``"2. colder hues"`` -> ``"2__colder_hues"``)."""
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def extremes_figure(
    data,
    per_image: pd.DataFrame,
    column: str,
    methods,
    n: int = 3,
    among=None,
    low_is_most: bool = False,
    suptitle: str | None = None,
):
    """The ``n`` images with the most and the least of ``column`` (for the first method's
    rows; ``low_is_most``: low values count as "most"), or None when there are none."""
    high, low = extremes(per_image, column, method=methods[0].name, n=n, among=among)
    most, least = (low, high) if low_is_most else (high, low)
    chosen = list(most["relpath"]) + list(least["relpath"])
    if not chosen:
        return None
    labels = [f"most: {column} {v:.3g}" for v in most[column]] + [f"least: {column} {v:.3g}" for v in least[column]]
    return comparison_grid(example_rows(data, chosen, methods), method_columns(methods), labels, suptitle=suptitle)


def claim_figure(
    verdict: Verdict,
    data,
    per_image: pd.DataFrame,
    column: str,
    methods,
    figures: str | Path,
    n: int = 3,
    among=None,
    low_is_most: bool = False,
) -> Path | None:
    """Draw and save ``figures/claim_<slug>.png`` for one claim (see :func:`extremes_figure`)."""
    figure = extremes_figure(data, per_image, column, methods, n, among, low_is_most, suptitle=verdict.claim)
    return None if figure is None else save_figure(figure, Path(figures) / f"claim_{slug(verdict.claim)}.png")


def best_worst_figure(data, per_image: pd.DataFrame, methods, column: str = "auc", n: int = 3):
    """The ``n`` best and worst images by ``column`` of the first method, every method beside them."""
    best, worst = extremes(per_image, column, method=methods[0].name, n=n)
    chosen = list(best["relpath"]) + list(worst["relpath"])
    titles = [f"best {column} {v:.3f}" for v in best[column]] + [f"worst {column} {v:.3f}" for v in worst[column]]
    return comparison_grid(example_rows(data, chosen, methods), method_columns(methods), titles)


def fragments_figure(method, views: np.ndarray, n: int = 6):
    """Whole view and centre fragment (claim 6) of the first ``n`` views, each colorized."""
    whole = np.asarray(views[:n])
    fragments = fragment_views(whole)
    rows = [
        [render(w, ab_w), render(f, ab_f), f]
        for w, f, ab_w, ab_f in zip(
            whole, fragments, method.predict_ab(whole), method.predict_ab(fragments), strict=True
        )
    ]
    return comparison_grid(rows, ["whole view: model", "fragment: model", "fragment: truth"])


def paper_figure(data, method, n: int = 8, title: str | None = None):
    """The paper's figure: gray input | colorization | original, for ``n`` evenly spaced images."""
    from colorization.evaluation import select_evenly

    picked = data.items.iloc[select_evenly(len(data.items), n)]
    rows = example_rows(data, list(picked["relpath"]), [method])
    return comparison_grid(rows, ["gray input", "colorization", "original"], list(picked["category"]), suptitle=title)


def typical_figure(data, per_image: pd.DataFrame, method, column: str = "auc", n: int = 2):
    """One row, gray input | colorization | original, for the ``n`` images nearest the median of
    ``column`` (typical results, not the best): the README's first figure."""
    rows = per_image[per_image["method"] == method.name].dropna(subset=[column])
    order = (rows[column] - rows[column].median()).abs().sort_values().index[:n]
    examples = example_rows(data, list(rows.loc[order, "relpath"]), [method])
    titles = []
    for category in rows.loc[order, "category"]:
        titles += [f"gray input ({category})", "colorization", "original"]
    return comparison_grid([[image for row in examples for image in row]], titles, cell_inches=2.0)


def full_resolution_figures(model, photo):
    """(full-size figure, paper-mode figure) for one :class:`colorization.io.images.LoadedImage`:
    gray input | colorized at its own size | original, and the paper's 256x256 output."""
    from colorization.colorize import colorize

    full = colorize(model, photo, mode="full").rgb
    paper = colorize(model, photo, mode="paper").rgb
    gray = neutral_gray(photo.rgb)
    full_figure = comparison_grid(
        [[gray, full, photo.rgb]], ["gray input (full size)", "colorized, full size", "original"]
    )
    paper_figure_ = comparison_grid([[paper]], ["the paper's output: 256x256 crop"], cell_inches=2.2)
    return full_figure, paper_figure_
