"""Data for training and evaluation: sources, downloads, splits, report, cache, batches, packs.

The path from files to a training step::

    source = get_source("caltech101")            # sources.py (+ caltech.py, download.py)
    manifest = build_manifest(source, seed=0)    # manifest.py: inspection.py + splits.py
    write_report(manifest, out)                  # report.py
    cache = build_cache(manifest, out / "cache") # cache.py: decode + paper_crop once
    for rgb in cache_batches(cache, "train", batch_size=64):   # batches.py
        L, ab = lab_batch(rgb)                   # inside the training step (fast.lab_ops)

and, for carrying a training set to a GPU machine, ``write_pack`` / ``cache_from_pack``
(pack.py). Every file written goes through :mod:`colorization.io.files` (atomic).
"""

from colorization.data.batches import BatchIterator, cache_batches
from colorization.data.cache import ImageCache, build_cache, open_cache
from colorization.data.download import DownloadError, UnsafeArchiveError, safe_extract
from colorization.data.inspection import inspect_file, looks_gray
from colorization.data.manifest import (
    MANIFEST_COLUMNS,
    attach_paths,
    build_manifest,
    manifest_hash,
    read_manifest,
    usable,
    write_manifest,
)
from colorization.data.pack import Pack, cache_from_pack, load_pack, write_pack
from colorization.data.paths import data_dir, offline_caltech101_dir, project_root
from colorization.data.report import summary, tables, write_report
from colorization.data.sources import (
    SOURCE_NAMES,
    CaltechSource,
    FolderSource,
    ImageRecord,
    SampleSource,
    Source,
    get_source,
    scan_folder,
)
from colorization.data.splits import DEFAULT_FRACTIONS, DEFAULT_SEED, SPLITS, assign_splits

__all__ = [
    "BatchIterator", "cache_batches",
    "ImageCache", "build_cache", "open_cache",
    "DownloadError", "UnsafeArchiveError", "safe_extract",
    "inspect_file", "looks_gray",
    "MANIFEST_COLUMNS", "attach_paths", "build_manifest", "manifest_hash", "read_manifest", "usable",
    "write_manifest",
    "Pack", "cache_from_pack", "load_pack", "write_pack",
    "data_dir", "offline_caltech101_dir", "project_root",
    "summary", "tables", "write_report",
    "SOURCE_NAMES", "CaltechSource", "FolderSource", "ImageRecord", "SampleSource", "Source", "get_source",
    "scan_folder",
    "DEFAULT_FRACTIONS", "DEFAULT_SEED", "SPLITS", "assign_splits",
]
