"""Scoring on every core: the per-image work of an evaluation (rendering, Lab conversions,
SSIM, Levin et al.'s solves) is numpy, SciPy and scikit-image on the CPU, one image at a time.

On a GPU machine the network is the cheap part: notebook 03 of the ``caltech101_gpu`` profile on
one H200 (16 cores, one used; 2026-12-01) spent 158 s in the test split's evaluation (392 images,
6 methods) and more than 290 s in the vividness sweep (unfinished when the call's time ran out),
nearly all of it in these per-image metrics; one 256x256 image's metrics take ~0.5 s on one
core of the 2-core development machine. :func:`cpu_pool` gives a pool of worker processes
(spawned, never forked: the caller may hold a GPU runtime's threads) and :func:`pool_map`
maps a module-level function over the jobs in order, so a table is the same with any number
of workers (tested). ``workers=1`` (or a one-core machine) runs everything in the caller.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor

MAX_PROCESSES = 16  # each holds a few 256x256 images (a Levin solve ~100 MB): memory stays bounded on big hosts
WORKER_ENVIRONMENT = {
    "JAX_PLATFORMS": "cpu",  # a worker never opens the GPU (JAX would reserve 75% of its memory per process)
    "OMP_NUM_THREADS": "1",  # one thread per worker: the pool is the parallelism (no cores x cores threads)
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def worker_count(workers: int | None = None) -> int:
    """``workers``, or one per core (at most :data:`MAX_PROCESSES`)."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return min(workers or os.cpu_count() or 1, MAX_PROCESSES)


def cpu_pool(workers: int | None = None):
    """A context manager giving a process pool of :func:`worker_count` workers, or None for one."""
    count = worker_count(workers)
    if count <= 1:
        return contextlib.nullcontext()
    return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"), initializer=worker_setup)


def worker_setup() -> None:
    """A worker's first step, before it imports anything of the jobs: :data:`WORKER_ENVIRONMENT`."""
    for name, value in WORKER_ENVIRONMENT.items():
        os.environ[name] = value


def pool_map(pool: Executor | None, function, *iterables) -> list:
    """``[function(*args) ...]`` in order: in ``pool``'s processes, or here when ``pool`` is None.
    ``function`` must be a module-level function (it is sent to the workers by name)."""
    if pool is None:
        return list(map(function, *iterables))
    return list(pool.map(function, *iterables))
