"""Training batches from the image cache.

:class:`BatchIterator` yields uint8 RGB batches (B, 256, 256, 3) straight from the
memory-mapped cache: a seeded shuffle per epoch, random horizontal flips on uint8,
and optionally a few threads filling batches ahead (overlapping with the consumer,
e.g. a training step running on the GPU).
Each ``iter()`` is the next epoch; every image of the chosen rows appears exactly
once per epoch (the last batch is smaller unless ``drop_last``). The permutation and
the flips of epoch ``e`` depend only on ``(seed, e)``, not on the number of threads.

numpy batches are backend-neutral: the same iterator feeds TensorFlow on the CPU and
JAX on a GPU. The RGB -> Lab conversion is *not* done here per image: a training step
calls :func:`colorization.fast.lab_ops.lab_batch` on the uint8 batch, on the accelerator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np



class BatchIterator:
    """Shuffled, flipped uint8 batches from an image array (e.g. ``ImageCache.images``).

    Parameters
    ----------
    images : ndarray (N, H, W, 3) uint8
        Usually a memory map.
    rows : sequence of int, optional
        Which rows take part (``cache.rows("train")``); default all.
    batch_size : int
    shuffle : bool
        New seeded permutation each epoch (else rows in the given order).
    flip : bool
        Mirror each image left-right with probability 1/2 (seeded per epoch).
    seed : int
    drop_last : bool
        Drop the last, smaller batch.
    workers : int
        Threads assembling batches ahead of the consumer (0: in the calling thread).
    prefetch : int
        Batches queued ahead per worker.
    return_rows : bool
        Yield ``(batch, rows)`` instead of ``batch`` (rows in batch order).
    """

    def __init__(self, images: np.ndarray, rows: Sequence[int] | None = None, *, batch_size: int = 32,
                 shuffle: bool = True, flip: bool = True, seed: int = 0, drop_last: bool = False,
                 workers: int = 0, prefetch: int = 2, return_rows: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.images = images
        self.rows = np.arange(len(images), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        self.batch_size, self.shuffle, self.flip, self.seed = int(batch_size), shuffle, flip, int(seed)
        self.drop_last, self.workers, self.prefetch = drop_last, int(workers), max(1, int(prefetch))
        self.return_rows = return_rows
        self.epoch = 0  # the epoch the next iter() produces

    def __len__(self) -> int:
        full, rest = divmod(len(self.rows), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows in epoch order, flip flags) for ``epoch``."""
        rng = np.random.default_rng([self.seed, int(epoch)])
        order = rng.permutation(self.rows) if self.shuffle else self.rows.copy()
        flips = rng.random(len(order)) < 0.5 if self.flip else np.zeros(len(order), dtype=bool)
        return order, flips

    def _batch(self, rows: np.ndarray, flips: np.ndarray) -> np.ndarray:
        # One copy per image straight out of the memory map; a flip is done as that
        # copy, channel by channel (numpy's strided byte copy is ~6x faster per channel
        # than reversing (W, 3) pixels at once).
        batch = np.empty((len(rows), *self.images.shape[1:]), dtype=self.images.dtype)
        for i, (row, flip) in enumerate(zip(rows, flips)):
            source = self.images[row]
            if flip:
                for channel in range(source.shape[-1]):
                    batch[i, :, :, channel] = source[:, ::-1, channel]
            else:
                batch[i] = source
        return batch

    def __iter__(self) -> Iterator:
        epoch = self.epoch
        self.epoch += 1
        return self.iter_epoch(epoch)

    def iter_epoch(self, epoch: int) -> Iterator:
        """The batches of one given epoch (does not advance :attr:`epoch`)."""
        order, flips = self.plan(epoch)
        bounds = [(i, min(i + self.batch_size, len(order))) for i in range(0, len(order), self.batch_size)]
        if self.drop_last and bounds and bounds[-1][1] - bounds[-1][0] < self.batch_size:
            bounds.pop()

        def make(bound):
            rows = order[bound[0]:bound[1]]
            batch = self._batch(rows, flips[bound[0]:bound[1]])
            return (batch, rows) if self.return_rows else batch

        if self.workers <= 0:
            for bound in bounds:
                yield make(bound)
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending: deque = deque()
            ahead = self.workers * self.prefetch
            for bound in bounds:
                pending.append(pool.submit(make, bound))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


def cache_batches(cache, split: str = "train", **options) -> BatchIterator:
    """A :class:`BatchIterator` over one split of an :class:`~colorization.data.cache.ImageCache`."""
    return BatchIterator(cache.images, cache.rows(split), **options)
