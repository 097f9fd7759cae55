"""Running an evaluation: which images, how each method's output is made, and scoring.

The path::

    data = load_data("caltech101", split="test", seed=0)   # manifest + cache + the split's images
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
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.evaluation.methods import ConstantAbMethod, MeanAb, Method, ModelMethod, baselines, mean_ab

RESOLUTIONS = ("paper", "full")
SPLIT_CHOICES = ("train", "val", "test", "all")


@dataclass
class EvalData:
    """The images of one evaluation.

    Attributes
    ----------
    source, origin : str
        The source's name and where its files came from.
    split : str
        ``train``, ``val``, ``test`` or ``all``.
    seed : int or None
        Split seed the manifest was built with (None when a manifest file was given).
    manifest : DataFrame
        The whole manifest, with its ``path`` column.
    cache : ImageCache
        Paper-cropped images of every usable image (the mean-ab baseline reads its
        train split).
    items : DataFrame
        The images evaluated, in order: ``row`` (cache row), ``relpath``,
        ``category``, ``path``.
    available : int
        Decodable images of the split before ``limit``.
    limit : int or None
    """

    source: str
    origin: str
    split: str
    seed: int | None
    manifest: pd.DataFrame
    cache: object
    items: pd.DataFrame
    available: int
    limit: int | None = None

    @property
    def manifest_hash(self) -> str:
        from colorization.data.manifest import manifest_hash

        return manifest_hash(self.manifest)

    def exclusions(self) -> dict:
        """Files the manifest excludes (grayscale, unreadable, other) and cache failures."""
        from colorization.data.report import category_table

        total = category_table(self.manifest).iloc[-1]  # the TOTAL row
        excluded = {name: int(total[name]) for name in ("grayscale", "unreadable", "other_excluded")}
        split_rows = self.cache.index if self.split == "all" else self.cache.index[self.cache.index["split"] == self.split]
        return {
            "manifest_files": int(len(self.manifest)),
            "excluded_by_manifest": {"total": int(total["files"] - total["usable"]), **excluded},
            "undecodable_in_split": int((~split_rows["ok"]).sum()),
        }

    def describe(self) -> dict:
        return {
            "source": self.source, "origin": self.origin, "split": self.split, "seed": self.seed,
            "manifest_hash": self.manifest_hash, "images_in_split": self.available,
            "images_evaluated": int(len(self.items)), "limit": self.limit, **self.exclusions(),
        }


def select_evenly(count: int, limit: int | None) -> np.ndarray:
    """Indices of ``limit`` items spread evenly over ``count`` (all if no limit)."""
    if limit is None or limit >= count:
        return np.arange(count)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return np.unique(np.linspace(0, count - 1, int(limit)).round().astype(int))


def load_data(source, *, split: str = "test", seed: int = 0, manifest=None, limit: int | None = None,
              cache_dir: str | Path | None = None, data_dir: str | Path | None = None,
              workers: int | None = None, progress: bool = True) -> EvalData:
    """Manifest, cache and the images of ``split`` to evaluate.

    Parameters
    ----------
    source : str or Source
        ``sample``, ``caltech101``, ``caltech256``, a folder, or a
        :class:`~colorization.data.sources.Source`.
    split : {"train", "val", "test", "all"}
    seed : int
        Split seed when the manifest is built here (the training run's seed).
    manifest : DataFrame or path, optional
        A manifest (e.g. ``colorization prepare``'s ``manifest.csv``) instead of
        building one; paths are attached from ``source``.
    limit : int, optional
        Evaluate only this many images, spread evenly over the split (sorted by
        path, so over the categories).
    cache_dir : path, optional
        Where the paper-cropped cache is (re)used; default
        ``<data dir>/cache/<source>-<manifest hash[:12]>``.
    """
    from colorization.data import paths
    from colorization.data.cache import build_cache
    from colorization.data.manifest import attach_paths, build_manifest, manifest_hash, read_manifest
    from colorization.data.sources import Source, get_source

    if split not in SPLIT_CHOICES:
        raise ValueError(f"split must be one of {SPLIT_CHOICES}, got {split!r}")
    if isinstance(source, Source):
        src = source
    else:
        src = get_source(str(source), data_dir)
    if manifest is None:
        table = build_manifest(src, seed=seed, workers=workers, progress=progress)
    else:
        seed = None
        table = read_manifest(manifest) if not isinstance(manifest, pd.DataFrame) else manifest
        if "path" not in table.columns:
            table = attach_paths(table, src)
    if table.empty or not (table["excluded"] == "").any():
        raise ValueError(f"{src.name}: no usable images ({src.origin})")
    folder = Path(cache_dir) if cache_dir else paths.data_dir(data_dir) / "cache" / f"{src.name}-{manifest_hash(table)[:12]}"
    cache = build_cache(table, folder, workers=workers, kind="thread", progress=progress)
    index = cache.index[cache.index["ok"]]
    if split != "all":
        index = index[index["split"] == split]
    if index.empty:
        raise ValueError(f"{src.name}: no usable images in split {split!r}")
    picked = index.iloc[select_evenly(len(index), limit)]
    where = dict(zip(table["relpath"], table["path"]))
    items = pd.DataFrame({"row": picked["row"].to_numpy(), "relpath": picked["relpath"].to_numpy(),
                          "category": picked["category"].to_numpy(),
                          "path": [where.get(r, "") for r in picked["relpath"]]})
    return EvalData(source=src.name, origin=src.origin, split=split, seed=seed, manifest=table, cache=cache,
                    items=items, available=int(len(index)), limit=limit)


def _ground_truth(data: EvalData, items: pd.DataFrame, resolution: str):
    from colorization.colorize import network_view
    from colorization.io.images import load_image, to_uint8

    if resolution == "paper":
        truths = [np.asarray(data.cache.images[row]) for row in items["row"]]
        return truths, np.stack(truths)
    truths = [to_uint8(load_image(path).rgb) for path in items["path"]]
    return truths, np.stack([network_view(t, "full") for t in truths])


def score_methods(methods, data: EvalData, *, resolution: str = "paper", batch_size: int = 8,
                  progress: bool = True) -> pd.DataFrame:
    """Every metric of every method on every image: one row per (image, method).

    Columns: ``relpath, category, method, height, width`` then
    :data:`colorization.metrics.METRIC_KEYS`. Rows follow ``data.items``, methods in
    the order given.
    """
    from tqdm import tqdm

    from colorization.colorize import render
    from colorization.metrics import image_metrics

    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, got {resolution!r}")
    methods = list(methods)
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    for method in methods:
        if not isinstance(method, Method):
            raise TypeError(f"{method!r} is not a method (needs .name and .predict_ab(views))")
    rows = []
    items = data.items.reset_index(drop=True)
    with tqdm(total=len(items) * len(methods), unit="img", desc=f"evaluate ({resolution})",
              file=sys.stderr, disable=not progress) as bar:
        for start in range(0, len(items), batch_size):
            batch = items.iloc[start:start + batch_size]
            truths, views = _ground_truth(data, batch, resolution)
            for order, method in enumerate(methods):
                ab = np.asarray(method.predict_ab(views))
                if ab.shape != (*views.shape[:3], 2):
                    raise ValueError(f"{method.name}: predict_ab returned shape {ab.shape}, "
                                     f"expected {(*views.shape[:3], 2)}")
                for position, (item, truth) in enumerate(zip(batch.itertuples(), truths)):
                    scores = image_metrics(render(truth, ab[position]), truth)
                    rows.append({"_item": start + position, "_method": order, "relpath": item.relpath,
                                 "category": item.category, "method": method.name,
                                 "height": truth.shape[0], "width": truth.shape[1], **scores})
                bar.update(len(batch))
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


def evaluate(data: EvalData, weights=None, *, model=None, resolution: str = "paper",
             mean: MeanAb | tuple[float, float] | None = None, extra_methods=(), batch_size: int = 8,
             progress: bool = True) -> Results:
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
    methods = [ModelMethod(model, info={"weights": info}), *baselines(mean), *extra_methods]
    per_image = score_methods(methods, data, resolution=resolution, batch_size=batch_size, progress=progress)
    mean_record = mean.as_dict() if isinstance(mean, MeanAb) else {"a": float(mean[0]), "b": float(mean[1])}
    mean_record["source"] = "train split of the cache" if isinstance(mean, MeanAb) else "given"
    record = provenance(
        "evaluation", weights=info, data=data.describe(), resolution=resolution, mean_ab=mean_record,
        methods_info={m.name: (m.describe() if hasattr(m, "describe") else {}) for m in methods},
        seconds=round(time.perf_counter() - started, 3),
    )
    summary = tables.summarize(per_image, record)
    return Results(per_image=per_image, per_category=tables.per_category(per_image), summary=summary,
                   markdown=tables.markdown_summary(summary))
