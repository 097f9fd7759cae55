"""The decoded-image cache: every usable image decoded and paper-cropped once.

A cache folder holds

* ``images.npy`` - uint8 array (N, 256, 256, 3), opened memory-mapped: later epochs
  never decode a JPEG, they copy bytes;
* ``index.csv`` - ``row, relpath, category, split, ok`` for the manifest's usable
  images, in manifest order (``ok`` is False where decoding failed at build time;
  such rows are zero and never served);
* ``meta.json`` - ``"format": "colorization", "kind": "cache"``, the cache key
  (manifest hash + crop size + origin + format version), counts, failures and build
  time. A cache without a key in it, or with another key, is rebuilt.

``meta.json`` is also the folder's ownership marker
(:func:`colorization.data.paths.claim_folder`): a cache is built only into a new or
empty folder, one whose ``meta.json`` says it is a cache, or a complete cache of an
earlier version; any other non-empty folder is refused in one line unless
``overwrite``. A rebuild first replaces ``meta.json`` by the bare marker (so an
interrupted build is never taken as valid, and the folder stays the package's), holds
the folder's lock while it builds, and removes temporaries a killed build left. Every
file is written atomically (built under a temporary name, then renamed). Decoding runs
in parallel (:mod:`colorization.data.parallel`), each worker writing its rows straight
into the memory-mapped temporary file.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.data.manifest import manifest_hash, usable
from colorization.data.parallel import chunked, parallel_map
from colorization.data.paths import (
    OWNER_FORMAT,
    atomic_temporaries,
    check_folder,
    claim_folder,
    folder_lock,
    mark_folder,
)
from colorization.io.files import atomic_path, write_text_atomic
from colorization.io.images import ImageError, load_image, to_uint8
from colorization.io.preprocess import PAPER_SIZE, paper_crop

CACHE_VERSION = 2  # 2: ICC profiles converted to sRGB, the paper crop computed in source coordinates
IMAGES_NAME, INDEX_NAME, META_NAME = "images.npy", "index.csv", "meta.json"
CACHE_KIND = "cache"


@dataclass
class ImageCache:
    """A built cache: ``images`` (memory-mapped uint8 N x S x S x 3), ``index``, ``meta``."""

    folder: Path
    images: np.ndarray
    index: pd.DataFrame
    meta: dict

    def __len__(self) -> int:
        return len(self.index)

    def rows(self, split: str | None = None) -> np.ndarray:
        """Row numbers of decodable images, optionally of one split."""
        part = self.index[self.index["ok"]]
        if split is not None:
            part = part[part["split"] == split]
        return part["row"].to_numpy(dtype=np.int64)


def cache_key(manifest: pd.DataFrame, size: int = PAPER_SIZE, origin: str = "files") -> str:
    text = json.dumps(
        {"version": CACHE_VERSION, "size": int(size), "origin": origin, "manifest": manifest_hash(manifest)},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def open_cache(folder: str | Path, key: str | None = None) -> ImageCache | None:
    """The cache in ``folder`` if complete (and built for ``key``), else None."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
        if key is not None and meta.get("key") != key:
            return None
        images = np.load(folder / IMAGES_NAME, mmap_mode="r")
        index = pd.read_csv(
            folder / INDEX_NAME, dtype={"relpath": str, "category": str, "split": str}, keep_default_na=False
        )
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(meta, dict) or "key" not in meta:  # a bare ownership marker: a build began, never ended
        return None
    size = int(meta.get("size", 0))
    if images.shape != (len(index), size, size, 3) or images.dtype != np.uint8 or meta.get("count") != len(index):
        return None
    index["ok"] = index["ok"].astype(str).str.lower().isin(("true", "1"))
    return ImageCache(folder, images, index, meta)


def is_earlier_cache(folder: Path) -> bool:
    """True for a complete cache an earlier version built (its ``meta.json`` has no ``format``)."""
    return open_cache(folder) is not None


def check_cache_folder(folder: str | Path, overwrite: bool = False) -> Path:
    """Refuse (:class:`~colorization.data.paths.FolderError`, one line) a folder a cache may not be built in."""
    check_folder(folder, CACHE_KIND, marker=META_NAME, overwrite=overwrite, adopt=is_earlier_cache)
    return Path(folder)


def decode_file(path: str, size: int = PAPER_SIZE) -> np.ndarray:
    """An image file -> uint8 RGB, paper-cropped to size x size."""
    return paper_crop(to_uint8(load_image(path).rgb), size)


def decode_jpeg(data: bytes, size: int = PAPER_SIZE) -> np.ndarray:
    """JPEG bytes (a pack entry) -> uint8 RGB size x size."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = np.asarray(img.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError("<pack entry>", f"undecodable JPEG ({error})") from None
    return rgb if rgb.shape[:2] == (size, size) else paper_crop(rgb, size)


_DECODERS = {"file": decode_file, "jpeg": decode_jpeg}


def _fill_chunk(task) -> list[tuple[int, str]]:
    npy, decoder, size, start, items = task
    images = np.load(npy, mmap_mode="r+")
    decode = _DECODERS[decoder]
    failures = []
    for offset, item in enumerate(items):
        try:
            images[start + offset] = decode(item, size)
        except (ImageError, ValueError) as error:
            failures.append((start + offset, str(error)))
    images.flush()
    del images
    return failures


def fill_cache(
    folder: str | Path,
    key: str,
    rows: pd.DataFrame,
    items: Sequence,
    *,
    decoder: str,
    size: int = PAPER_SIZE,
    workers: int | None = None,
    kind: str = "process",
    progress: bool = True,
    chunk: int = 16,
    extra_meta: dict | None = None,
    overwrite: bool = False,
) -> ImageCache:
    """Decode ``items`` (paths or JPEG bytes, one per row of ``rows``) into a new cache.

    ``folder`` must be new, empty or a cache (``overwrite``: any folder); see the module notes.
    """
    folder = claim_folder(folder, CACHE_KIND, marker=META_NAME, overwrite=overwrite, adopt=is_earlier_cache)
    with folder_lock(folder, stale=atomic_temporaries((IMAGES_NAME, INDEX_NAME, META_NAME))):
        mark_folder(folder, CACHE_KIND, META_NAME)  # from here on the old cache is invalid
        started = time.perf_counter()
        with atomic_path(folder / IMAGES_NAME) as tmp:
            np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(rows), size, size, 3)).flush()
            failures = _decode_into(tmp, list(items), decoder, size, chunk, workers, kind, progress)
        _write_index(folder, rows, failures)
        _write_meta(folder, key, size, len(rows), failures, time.perf_counter() - started, extra_meta)
    cache = open_cache(folder, key)
    assert cache is not None, "cache just written is unreadable"
    return cache


def _write_meta(folder: Path, key: str, size: int, count: int, failures: dict, seconds: float, extra) -> None:
    """``meta.json``, the last file of a build: the cache is complete once it has a key."""
    meta = {
        "format": OWNER_FORMAT,
        "kind": CACHE_KIND,
        "key": key,
        "version": CACHE_VERSION,
        "size": int(size),
        "count": count,
        "failures": {str(k): v for k, v in sorted(failures.items())},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(seconds, 3),
        **(extra or {}),
    }
    write_text_atomic(folder / META_NAME, json.dumps(meta, indent=2) + "\n")


def _decode_into(npy: Path, items: list, decoder: str, size: int, chunk: int, workers, kind, progress) -> dict:
    """Decode ``items`` into the memory-mapped ``npy`` in parallel; {row: error} of failures."""
    tasks = [
        (str(npy), decoder, size, start, list(part))
        for start, part in zip(range(0, len(items), chunk), chunked(items, chunk), strict=True)
    ]
    results = parallel_map(
        _fill_chunk,
        tasks,
        workers=workers,
        kind=kind,
        progress=progress,
        desc="caching",
        unit="img",
        weights=[len(t[4]) for t in tasks],
    )
    failures = dict(failure for part in results for failure in part)
    if failures:
        warnings.warn(
            f"{len(failures)} images could not be decoded into the cache; first: {next(iter(failures.values()))}",
            stacklevel=3,
        )
    return failures


def _write_index(folder: Path, rows: pd.DataFrame, failures: dict) -> None:
    index = pd.DataFrame(
        {
            "row": np.arange(len(rows)),
            "relpath": rows["relpath"].to_numpy(),
            "category": rows["category"].to_numpy(),
            "split": rows["split"].to_numpy(),
            "ok": [i not in failures for i in range(len(rows))],
        }
    )
    with atomic_path(folder / INDEX_NAME) as tmp:
        index.to_csv(tmp, index=False, lineterminator="\n")


def build_cache(
    manifest: pd.DataFrame,
    folder: str | Path,
    *,
    size: int = PAPER_SIZE,
    workers: int | None = None,
    kind: str = "process",
    progress: bool = True,
    rebuild: bool = False,
    overwrite: bool = False,
) -> ImageCache:
    """Decode and paper-crop the manifest's usable images once; reuse a matching cache.

    ``manifest`` needs the ``path`` column (as :func:`build_manifest` returns it, or
    :func:`colorization.data.manifest.attach_paths`). Returns at once, decoding
    nothing, when ``folder`` already holds a cache of this manifest and size. A folder
    that is neither new, empty nor a cache is refused unless ``overwrite``.
    """
    key = cache_key(manifest, size, "files")
    if not rebuild:
        existing = open_cache(folder, key)
        if existing is not None:
            return existing
    if "path" not in manifest.columns:
        raise ValueError("the manifest has no 'path' column: attach paths (manifest.attach_paths) first")
    rows = usable(manifest)
    return fill_cache(
        folder,
        key,
        rows,
        rows["path"].tolist(),
        decoder="file",
        size=size,
        workers=workers,
        kind=kind,
        progress=progress,
        extra_meta={"origin": "files", "manifest_hash": manifest_hash(manifest)},
        overwrite=overwrite,
    )
