"""Work on an image band by band (strips of whole rows) on every CPU core, results in order.

numpy's loops, ISA-L's and zlib's deflate all release the GIL, so threads use every core.
A band of ~:data:`BAND_PIXELS` pixels keeps each step's temporaries in the CPU's caches;
:func:`map_in_order` keeps only a few bands in flight, so a pipeline of bands (render a band,
filter and deflate it, write it) holds a few bands at a time, never a whole image.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

BAND_PIXELS = 1 << 19  # pixels per band: measured best of 2**16 .. 2**20 for the 12-MP render (benchmarks/big_photo.py)
BANDS_AHEAD = 2  # bands in flight per worker: enough to keep every core busy while the consumer writes


def row_ranges(height: int, width: int, pixels: int = BAND_PIXELS) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive bands of rows covering ``height``, ~``pixels`` each (at least one row)."""
    rows = max(1, pixels // max(width, 1))
    return [(start, min(start + rows, height)) for start in range(0, height, rows)]


def map_in_order(function: Callable, items: Iterable, workers: int | None = None) -> Iterator:
    """``function(item)`` for each item, on a pool of ``workers`` threads (default: one per core), yielded in order.

    At most :data:`BANDS_AHEAD` items per worker are in flight: the next is started as each
    result is taken. A single item runs in the caller's thread.
    """
    items = list(items)
    if len(items) <= 1:
        yield from map(function, items)
        return
    workers = workers or os.cpu_count() or 1
    remaining = iter(items)
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        pending = deque(pool.submit(function, item) for item in islice(remaining, BANDS_AHEAD * workers))
        while pending:
            result = pending.popleft().result()
            pending.extend(pool.submit(function, item) for item in islice(remaining, 1))
            yield result


def for_each_band(function: Callable[[int, int], None], height: int, width: int, pixels: int = BAND_PIXELS) -> None:
    """Call ``function(start, stop)`` for every band of rows (:func:`row_ranges`), on all cores."""
    for _ in map_in_order(lambda band: function(*band), row_ranges(height, width, pixels)):
        pass
