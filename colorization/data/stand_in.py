"""A stand-in data set of another data set's size: an image cache's splits cycled to given counts.

The paper trains on Caltech-256 (30,607 images), which cannot be fetched here. To time the
paper's training at that scale (issue 18), the splits of a cache built from Caltech-101 are
repeated, image by image in their order, until each split has Caltech-256's count: the same
pixels several times, so it measures speed and memory at that size, never accuracy (every
file and record made from it says "stand-in"). Splits are cycled separately, so no test image
is ever a training image.

:func:`write_cycled` copies the rows into ``.npy`` files in chunks (memory stays at one chunk)
that training opens memory-mapped (``data: npy``, ``train_path``/``val_path``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorization.io.files import atomic_path

CALTECH256_IMAGES = 30_607  # 256_ObjectCategories, clutter included
CALTECH256_SPLITS = {"train": 24_486, "val": 3_061, "test": 3_060}  # 80/10/10 of 30,607
COPY_CHUNK = 256  # images copied at a time (48 MiB at 256x256)


def cycled_rows(rows: np.ndarray, count: int) -> np.ndarray:
    """``rows`` repeated in order until there are ``count`` of them (the first ``count`` if fewer are asked)."""
    rows = np.asarray(rows)
    if len(rows) == 0:
        raise ValueError("cannot cycle an empty split")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return np.resize(rows, count)


def write_cycled(images: np.ndarray, rows: np.ndarray, count: int, path: str | Path) -> Path:
    """Write ``images[cycled_rows(rows, count)]`` to the ``.npy`` file ``path`` (atomically, in chunks)."""
    order = cycled_rows(rows, count)
    path = Path(path)
    with atomic_path(path) as temporary:
        out = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.uint8, shape=(count, *images.shape[1:]))
        for start in range(0, count, COPY_CHUNK):
            part = order[start : start + COPY_CHUNK]
            out[start : start + len(part)] = images[part]
        out.flush()
        del out
    return path
