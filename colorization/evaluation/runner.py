"""Running an evaluation: which images, how each method's output is made, and scoring.

The path::

    data = load_data("caltech101", split="test", seed=0)   # selection.py: the split's images
    results = evaluate(data, "model.keras")                  # model + gray + mean-ab, side by side
    results.per_image, results.per_category, results.summary, results.markdown
    write_results(results, "results/eval")                   # colorization.evaluation.tables

Resolutions
-----------
``paper`` (default)
    Ground truth is the paper-cropped 256x256 original from the cache (shorter side
    to 256, centre crop; docs/paper.md, "Input handling at inference"); the
    prediction is that crop's own L joined with the method's ab.
``full``
    Ground truth is the original file at its own size; the network sees it resized
    to 256x256 (:func:`colorization.colorize.network_view`, mode ``"full"``) and the
    ab is scaled up and joined with the original's own L
    (:func:`colorization.colorize.render`), as ``colorization colorize`` does.
    Baselines likewise at full size.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from colorization.evaluation.methods import ConstantAbMethod, MeanAb, Method, ModelMethod, baselines, mean_ab
from colorization.evaluation.parallel import cpu_pool, pool_map
from colorization.evaluation.selection import EvalData

RESOLUTIONS = ("paper", "full")


def _ground_truth(data: EvalData, items: pd.DataFrame, resolution: str):
    from colorization.colorize import network_view
    from colorization.io.images import load_image, to_uint8

    if resolution == "paper":
        truths = [np.asarray(data.cache.images[row]) for row in items["row"]]
        return truths, np.stack(truths)
    truths = [to_uint8(load_image(path).rgb) for path in items["path"]]
    return truths, np.stack([network_view(t, "full") for t in truths])


def predicted_ab(method, views: np.ndarray) -> np.ndarray:
    """``method``'s ab for the views, checked: (N, H, W, 2)."""
    ab = np.asarray(method.predict_ab(views))
    if ab.shape != (*views.shape[:3], 2):
        raise ValueError(f"{method.name}: predict_ab returned shape {ab.shape}, expected {(*views.shape[:3], 2)}")
    return ab


def rendered_metrics(truth: np.ndarray, abs_: list) -> list[dict]:
    """The metrics of each ab joined with ``truth``'s own L, against ``truth`` (one job of :func:`score_methods`)."""
    from colorization.colorize import render
    from colorization.metrics import image_metrics

    return [image_metrics(render(truth, ab), truth) for ab in abs_]


def checked_methods(methods) -> list:
    """``methods`` as a list, each a :class:`Method`, their names unique (else ValueError / TypeError)."""
    methods = list(methods)
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    for method in methods:
        if not isinstance(method, Method):
            raise TypeError(f"{method!r} is not a method (needs .name and .predict_ab(views))")
    return methods


def score_methods(
    methods,
    data: EvalData,
    *,
    resolution: str = "paper",
    batch_size: int = 32,
    workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Every metric of every method on every image: one row per (image, method).

    Columns: ``relpath, category, method, height, width`` then
    :data:`colorization.metrics.METRIC_KEYS`. Rows follow ``data.items``, methods in
    the order given. The scoring runs in ``workers`` processes (default: one per core;
    :mod:`colorization.evaluation.parallel`); the table is the same with any number.
    """
    from tqdm import tqdm

    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {resolution!r}")
    methods = checked_methods(methods)
    rows = []
    items = data.items.reset_index(drop=True)
    with (
        tqdm(
            total=len(items) * len(methods),
            unit="img",
            desc=f"evaluate ({resolution})",
            file=sys.stderr,
            disable=not progress,
        ) as bar,
        cpu_pool(workers) as pool,
    ):
        for start in range(0, len(items), batch_size):
            batch = items.iloc[start : start + batch_size]
            truths, views = _ground_truth(data, batch, resolution)
            ab = [predicted_ab(method, views) for method in methods]  # (method, image, H, W, 2)
            per_truth = pool_map(pool, rendered_metrics, truths, [[one[i] for one in ab] for i in range(len(truths))])
            for position, (item, truth, scores) in enumerate(zip(batch.itertuples(), truths, per_truth, strict=True)):
                for order, (method, one) in enumerate(zip(methods, scores, strict=True)):
                    rows.append(
                        {
                            "_item": start + position,
                            "_method": order,
                            "relpath": item.relpath,
                            "category": item.category,
                            "method": method.name,
                            "height": truth.shape[0],
                            "width": truth.shape[1],
                            **one,
                        }
                    )
            bar.update(len(batch) * len(methods))
    table = pd.DataFrame(rows)
    return table.sort_values(["_item", "_method"]).drop(columns=["_item", "_method"]).reset_index(drop=True)


@dataclass
class Results:
    """An evaluation's tables: ``per_image`` and ``per_category`` (DataFrames),
    ``summary`` (a JSON-ready dict) and ``markdown`` (the summary as a table)."""

    per_image: pd.DataFrame
    per_category: pd.DataFrame
    summary: dict
    markdown: str

    def mean_ab_method(self) -> ConstantAbMethod:
        """The mean-ab baseline this evaluation scored (for figures beside the model)."""
        mean = self.summary["mean_ab"]
        return ConstantAbMethod((mean["a"], mean["b"]))


def model_methods(model, info: dict, vividness: float | None = None) -> list[ModelMethod]:
    """The evaluated model as methods: ``model`` at ``vividness`` (default: as trained,
    vividness 1: the paper's network, which the claims are about) and, when no vividness
    is given and the model's default (:func:`colorization.vividness.default_of`) is
    another, ``model_vivid`` at that default."""
    from colorization.vividness import AS_TRAINED, default_of

    methods = [ModelMethod(model, info={"weights": info}, vividness=AS_TRAINED if vividness is None else vividness)]
    if vividness is None and default_of(model) != AS_TRAINED:
        methods.append(ModelMethod(model, name="model_vivid", info={"weights": info}))
    return methods


def mean_record(mean: MeanAb | tuple[float, float]) -> dict:
    """What the summary records of the mean-ab baseline's constant and where it came from."""
    record = mean.as_dict() if isinstance(mean, MeanAb) else {"a": float(mean[0]), "b": float(mean[1])}
    record["source"] = "train split of the cache" if isinstance(mean, MeanAb) else "given"
    return record


def evaluate(
    data: EvalData,
    weights=None,
    *,
    model=None,
    resolution: str = "paper",
    mean: MeanAb | tuple[float, float] | None = None,
    extra_methods=(),
    vividness: float | None = None,
    batch_size: int = 32,
    workers: int | None = None,
    progress: bool = True,
) -> Results:
    """The model and both baselines (gray, mean ab) on ``data``, side by side.

    Parameters
    ----------
    weights : path, optional
        ``.keras`` file (default: the shipped reference model). Ignored for loading
        when ``model`` is given, but still recorded.
    model : keras.Model, optional
        An already loaded model (notebooks).
    mean : MeanAb or (a, b), optional
        The mean-ab baseline's constant; default: computed over the train split of
        ``data.cache`` (:func:`colorization.evaluation.methods.mean_ab`).
    extra_methods : sequence of Method
        More methods scored the same way (e.g. an ablation model).
    vividness : float, optional
        The model's vividness; by default as trained and at its own default (:func:`model_methods`).
    """
    from colorization.evaluation import tables
    from colorization.reporting.provenance import provenance, weights_entry
    from colorization.weights import load_weights, reference_weights

    started = time.perf_counter()
    if weights is None and model is None:
        weights = reference_weights()
    info = weights_entry(weights) if weights is not None else {"path": None, "sha256": None}
    if model is None:
        model = load_weights(weights)
    if mean is None:
        mean = mean_ab(data.cache, split="train", progress=progress)
    methods = [*model_methods(model, info, vividness), *baselines(mean), *extra_methods]
    per_image = score_methods(
        methods, data, resolution=resolution, batch_size=batch_size, workers=workers, progress=progress
    )
    record = provenance(
        "evaluation",
        weights=info,
        data=data.describe(),
        resolution=resolution,
        mean_ab=mean_record(mean),
        methods_info={m.name: (m.describe() if hasattr(m, "describe") else {}) for m in methods},
        seconds=round(time.perf_counter() - started, 3),
    )
    summary = tables.summarize(per_image, record)
    return Results(per_image, tables.per_category(per_image), summary, tables.markdown_summary(summary))
