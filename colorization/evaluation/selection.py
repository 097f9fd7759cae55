"""Which images an evaluation scores: the manifest, the paper-cropped cache and the split.

data = load_data("caltech101", split="test", seed=0)   # manifest + cache + the split's images
data.items          # relpath, category, cache row and file path of each image, in order
data.describe()     # source, split, manifest hash, counts and exclusions (for provenance)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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
        Decodable images of the split (of the chosen categories) before ``limit``.
    limit : int or None
    categories : tuple of str or None
        The categories evaluated (None: all), e.g. a content group's
        (:func:`colorization.data.categories.chosen_categories`).
    content_group : str or None
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
    categories: tuple[str, ...] | None = None
    content_group: str | None = None

    @property
    def manifest_hash(self) -> str:
        from colorization.data.manifest import manifest_hash

        return manifest_hash(self.manifest)

    def exclusions(self) -> dict:
        """Files the manifest excludes (grayscale, unreadable, other) and cache failures."""
        from colorization.data.report import category_table

        total = category_table(self.manifest).iloc[-1]  # the TOTAL row
        excluded = {name: int(total[name]) for name in ("grayscale", "unreadable", "other_excluded")}
        split_rows = (
            self.cache.index if self.split == "all" else self.cache.index[self.cache.index["split"] == self.split]
        )
        return {
            "manifest_files": int(len(self.manifest)),
            "excluded_by_manifest": {"total": int(total["files"] - total["usable"]), **excluded},
            "undecodable_in_split": int((~split_rows["ok"]).sum()),
        }

    def describe(self) -> dict:
        chosen = {"categories": list(self.categories), "content_group": self.content_group} if self.categories else {}
        return {
            "source": self.source,
            "origin": self.origin,
            "split": self.split,
            "seed": self.seed,
            "manifest_hash": self.manifest_hash,
            "images_in_split": self.available,
            "images_evaluated": int(len(self.items)),
            "limit": self.limit,
            **chosen,
            **self.exclusions(),
        }


def select_evenly(count: int, limit: int | None) -> np.ndarray:
    """Indices of ``limit`` items spread evenly over ``count`` (all if no limit)."""
    if limit is None or limit >= count:
        return np.arange(count)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    return np.unique(np.linspace(0, count - 1, int(limit)).round().astype(int))


def load_data(
    source,
    *,
    split: str = "test",
    seed: int = 0,
    manifest=None,
    limit: int | None = None,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    categories: list[str] | None = None,
    content_group: str | None = None,
) -> EvalData:
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
        ``<data dir>/cache/<source>-<manifest hash[:12]>``. It must be new, empty or a
        cache (:mod:`colorization.data.cache`) unless ``overwrite``.
    categories, content_group : optional
        Evaluate only these categories' images, or a content group's
        (:func:`colorization.data.categories.chosen_categories`); each keeps its split.

    Raises ``ValueError`` (one line) for an unknown split, an unusable manifest, a cache
    folder that is not one, an unknown category or content group, or no usable images.
    """
    from colorization.data import paths
    from colorization.data.cache import build_cache
    from colorization.data.manifest import manifest_hash
    from colorization.data.sources import Source, get_source

    if split not in SPLIT_CHOICES:
        raise ValueError(f"split must be one of {SPLIT_CHOICES}, got {split!r}")
    src = source if isinstance(source, Source) else get_source(str(source), data_dir)
    table = _manifest(src, manifest, seed, workers, progress)
    if manifest is not None:
        seed = None  # the given manifest's own split, whatever seed made it
    chosen = _chosen(table, f"{src.name} ({src.origin})", categories, content_group)  # before decoding
    default = paths.data_dir(data_dir) / "cache" / f"{src.name}-{manifest_hash(table)[:12]}"
    cache = build_cache(
        table, cache_dir or default, workers=workers, kind="thread", progress=progress, overwrite=overwrite
    )
    return _eval_data(src.name, src.origin, split, seed, table, cache, limit, chosen, content_group)


def load_pack_data(
    pack,
    *,
    split: str = "test",
    limit: int | None = None,
    cache_dir: str | Path | None = None,
    categories: list[str] | None = None,
    content_group: str | None = None,
) -> EvalData:
    """The images of a JPEG pack (``colorization prepare``'s ``pack.npz``, or its folder) to evaluate
    at paper resolution, in the pack's own manifest split: a GPU machine has the pack, not the files.

    They are decoded into the cache training uses (:func:`colorization.data.pack.pack_cache_folder`),
    so an evaluation after a training run decodes nothing. Raises ``ValueError`` as :func:`load_data`.
    """
    from colorization.data.cache import check_cache_folder
    from colorization.data.pack import cache_from_pack, load_pack, pack_cache_folder

    if split not in SPLIT_CHOICES:
        raise ValueError(f"split must be one of {SPLIT_CHOICES}, got {split!r}")
    try:
        pack = load_pack(pack)
    except (OSError, KeyError) as error:
        raise ValueError(f"{pack}: cannot read the pack ({error})") from None
    table = pack.manifest.assign(path="")  # the files are not here: paper resolution only
    chosen = _chosen(table, f"pack {pack.path}", categories, content_group)
    folder = check_cache_folder(pack_cache_folder(pack, cache_dir))
    cache = cache_from_pack(pack, folder, kind="thread", progress=False)
    return _eval_data("pack", f"pack {pack.path}", split, None, table, cache, limit, chosen, content_group)


def load_cache_data(
    folder,
    manifest,
    *,
    split: str = "test",
    limit: int | None = None,
    categories: list[str] | None = None,
    content_group: str | None = None,
) -> EvalData:
    """The images of an image cache (``colorization prepare --cache`` or notebook 01) to evaluate at
    paper resolution, in the split of ``manifest`` (the CSV the cache was built from, which it must
    match): a run that trained on ``data: cache``. Raises ``ValueError`` as :func:`load_data`.
    """
    from colorization.data.cache import open_cache
    from colorization.data.manifest import manifest_hash, read_manifest

    if split not in SPLIT_CHOICES:
        raise ValueError(f"split must be one of {SPLIT_CHOICES}, got {split!r}")
    cache = open_cache(folder)
    if cache is None:
        raise ValueError(f"{folder}: no complete image cache there (`colorization prepare ... --cache` builds one)")
    table = read_manifest(manifest).assign(path="")  # the files need not be here: paper resolution only
    if cache.meta.get("manifest_hash") != manifest_hash(table):
        raise ValueError(f"{manifest}: not the manifest the cache {cache.folder} was built from (their hashes differ)")
    chosen = _chosen(table, f"cache {cache.folder}", categories, content_group)
    return _eval_data("cache", f"cache {cache.folder}", split, None, table, cache, limit, chosen, content_group)


def _chosen(table: pd.DataFrame, where: str, categories, content_group) -> tuple[str, ...] | None:
    """The categories chosen among the manifest's usable images' (None: all)."""
    from colorization.data.categories import chosen_categories
    from colorization.data.manifest import usable

    return chosen_categories(usable(table)["category"], categories=categories, content_group=content_group, where=where)


def _eval_data(name, origin, split, seed, table, cache, limit, chosen, content_group) -> EvalData:
    """:class:`EvalData` of the split's decodable images of the ``chosen`` categories (None: all)."""
    items, available = _split_items(f"{name} ({origin})", table, cache, split, limit, chosen)
    return EvalData(name, origin, split, seed, table, cache, items, available, limit, chosen, content_group)


def _manifest(src, manifest, seed: int, workers, progress: bool) -> pd.DataFrame:
    """The given manifest (a table or a CSV, paths attached from ``src``) or a new one."""
    from colorization.data.manifest import attach_paths, build_manifest, read_manifest

    if manifest is None:
        table, where = build_manifest(src, seed=seed, workers=workers, progress=progress), src.origin
    elif isinstance(manifest, pd.DataFrame):
        table, where = manifest, "the manifest given"
        if "path" not in table.columns:
            table = attach_paths(table, src)
    else:
        table, where = read_manifest(manifest, root=src), str(manifest)
    if table.empty:
        raise ValueError(f"{where}: no files at all, so nothing to evaluate ({src.name})")
    if not (table["excluded"] == "").any():
        reasons = table["excluded"].str.split(r" \(|:", regex=True).str[0].value_counts()
        counts = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
        raise ValueError(f"{where}: no usable images among its {len(table)} files ({counts})")
    return table


def _split_items(name: str, table: pd.DataFrame, cache, split: str, limit: int | None, categories=None):
    """(the images to evaluate, how many decodable images the split has), of ``categories`` if given."""
    from colorization.data.categories import describe_choice

    chosen = cache.index if categories is None else cache.index[cache.index["category"].isin(categories)]
    index = chosen[chosen["ok"]]
    if split != "all":
        index = index[index["split"] == split]
    if index.empty:
        decodable = chosen.loc[chosen["ok"], "split"].value_counts()
        counts = ", ".join(f"{part} {int(decodable.get(part, 0))}" for part in SPLIT_CHOICES[:3])
        of = "" if categories is None else f" of {describe_choice(categories)}"
        raise ValueError(f"{name}: no usable images{of} in split {split!r} (decodable images per split: {counts})")
    picked = index.iloc[select_evenly(len(index), limit)]
    where = dict(zip(table["relpath"], table["path"], strict=True))
    items = pd.DataFrame(
        {
            "row": picked["row"].to_numpy(),
            "relpath": picked["relpath"].to_numpy(),
            "category": picked["category"].to_numpy(),
            "path": [where.get(r, "") for r in picked["relpath"]],
        }
    )
    return items, int(len(index))
