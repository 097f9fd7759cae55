"""Running a per-item function over many items on several cores, with a progress bar.

``workers`` is the number of worker processes (``kind="process"``, the default) or
threads (``kind="thread"``: Pillow releases the GIL while decoding and resizing, so
threads help too and start instantly). ``workers`` of 0 or 1 runs in this process.
``None`` means one per CPU core.

Processes are started with ``fork`` unless TensorFlow or JAX is already imported in
this process (their thread pools do not survive a fork), in which case ``spawn``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _context():
    unsafe = any(name in sys.modules for name in ("tensorflow", "jax", "torch"))
    return multiprocessing.get_context("spawn" if unsafe else "fork")


def chunked(items: Sequence, size: int) -> list[Sequence]:
    size = max(1, int(size))
    return [items[i : i + size] for i in range(0, len(items), size)]


def parallel_map(
    fn: Callable,
    items: Sequence,
    *,
    workers: int | None = None,
    kind: str = "process",
    progress: bool = True,
    desc: str = "",
    unit: str = "it",
    weights: Iterable[int] | None = None,
) -> list:
    """``[fn(item) for item in items]``, in order, on ``workers`` processes or threads.

    ``fn`` must be a module-level function for processes. ``weights`` (one per item)
    advance the progress bar by that much per finished item (e.g. images per chunk).
    """
    from tqdm.auto import tqdm

    items = list(items)
    weights = list(weights) if weights is not None else [1] * len(items)
    workers = default_workers() if workers is None else int(workers)
    bar = tqdm(total=sum(weights), desc=desc, unit=unit, disable=not progress, leave=False)
    try:
        if workers <= 1 or len(items) <= 1:
            results = []
            for item, weight in zip(items, weights, strict=True):
                results.append(fn(item))
                bar.update(weight)
            return results
        if kind == "thread":
            executor = ThreadPoolExecutor(max_workers=workers)
        elif kind == "process":
            executor = ProcessPoolExecutor(max_workers=workers, mp_context=_context())
        else:
            raise ValueError(f"kind must be 'process' or 'thread', got {kind!r}")
        with executor:
            results = []
            for result, weight in zip(executor.map(fn, items), weights, strict=True):
                results.append(result)
                bar.update(weight)
            return results
    finally:
        bar.close()
