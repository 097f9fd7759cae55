"""Data for training and evaluation: sources, downloads, splits, report, cache, batches, packs.

The path from files to a training step::

    source = get_source("caltech101")            # sources.py (+ caltech.py, download.py)
    manifest = build_manifest(source, seed=0)    # manifest.py: inspection.py + splits.py
    write_report(manifest, out)                  # report.py
    cache = build_cache(manifest, out / "cache") # cache.py: decode + paper_crop once
    images = cache.images[cache.rows("train")]
    order, flips = plan_epoch(len(images), 64, seed=0, epoch=0)   # batches.py: the epoch's batches
    rgb = gather(images, order[0])               # batches.py: uint8, host memory
    L, ab = lab_batch(rgb, flips[0])             # inside the training step (fast.lab_ops)

and, for carrying a training set to a GPU machine, ``write_pack`` / ``cache_from_pack``
(pack.py). Every file written goes through :mod:`colorization.io.files` (atomic).
"""

from colorization.data.batches import gather, plan_epoch
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
    "gather",
    "plan_epoch",
    "ImageCache",
    "build_cache",
    "open_cache",
    "DownloadError",
    "UnsafeArchiveError",
    "safe_extract",
    "inspect_file",
    "looks_gray",
    "MANIFEST_COLUMNS",
    "attach_paths",
    "build_manifest",
    "manifest_hash",
    "read_manifest",
    "usable",
    "write_manifest",
    "Pack",
    "cache_from_pack",
    "load_pack",
    "write_pack",
    "data_dir",
    "offline_caltech101_dir",
    "project_root",
    "summary",
    "tables",
    "write_report",
    "SOURCE_NAMES",
    "CaltechSource",
    "FolderSource",
    "ImageRecord",
    "SampleSource",
    "Source",
    "get_source",
    "scan_folder",
    "DEFAULT_FRACTIONS",
    "DEFAULT_SEED",
    "SPLITS",
    "assign_splits",
]
