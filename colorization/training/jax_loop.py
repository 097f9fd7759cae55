"""The lean JAX loop (``loop: jax_scan``; needs ``KERAS_BACKEND=jax``).

The Keras network's ``stateless_call`` and the Keras optimizer's ``stateless_apply`` run
in one jitted ``lax.scan`` of ``steps_per_execution`` steps (a *chunk*, default 50),
buffers donated (:func:`colorization.training.step.jax_step_functions`). The epoch's
batches come from the same planner as ``fit``'s (:func:`colorization.data.batches.plan_epoch`),
so the two loops train the same way and a run may resume with the other loop.

Data reaches the device in one of two ways (``data_placement``):

``device``  the uint8 set is uploaded once; each chunk sends only its (K, B) indices and
            the batches are gathered on the device.
``host``    each chunk's uint8 batches are gathered in host memory by 8 threads
            (:func:`colorization.data.batches.gather`) and uploaded.

Either way a feeder thread prepares the next chunk (the next epoch's first, too) while
the current one trains. Nothing at an epoch's end waits for the device: its validation is
dispatched behind its training, and its losses, weights, record and checkpoint are taken
care of in the background while the next epoch trains (:mod:`.pipelined`).

Measured on an H100 (bf16, batch 256; ``benchmarks/train_throughput.py``, 2026-11-27,
before the epoch ends were pipelined): this loop trains 6,233 images/s (``device``) and
6,238 (``host``), against 6,399 for the same network, optimizer and loss alone on one
resident batch and 6,033 for ``fit``; the bare-network reference figures are in
``docs/measurements.md``. ``benchmarks/train_overhead.py`` measures what validation and
checkpoints cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from colorization.data.batches import gather, plan_epoch
from colorization.training import hints
from colorization.training.pipelined import DispatchedEpoch, EpochEnds, model_variables, state_copier
from colorization.training.step import jax_step_functions, make_loss

DEFAULT_CHUNK = 50  # steps per compiled call when steps_per_execution is None
GATHER_THREADS = 8


@dataclass
class Chunk:
    """K consecutive training steps of one epoch: indices and flip flags (K, B), and the
    hint network's simulated points (K, B, P, 3) (None for the other networks)."""

    epoch: int  # 0-based
    last: bool  # the epoch's last chunk
    index: np.ndarray
    flips: np.ndarray
    points: np.ndarray | None = None


def epoch_chunks(config, n: int, first_epoch: int, chunk: int) -> Iterator[Chunk]:
    """The chunks of ``chunk`` steps of epochs ``first_epoch .. config.epochs - 1`` over ``n``
    training images, from :func:`plan_epoch` (an epoch's last chunk may be shorter)."""
    steps = n // config.batch_size
    for epoch in range(first_epoch, config.epochs):
        order, flips = plan_epoch(n, config.batch_size, config.seed, epoch, config.flip)
        points = hints.epoch_plan(config, steps, epoch)
        for c0 in range(0, steps, chunk):
            part = slice(c0, c0 + chunk)
            yield Chunk(epoch, c0 + chunk >= steps, order[part], flips[part], None if points is None else points[part])


def prefetched(pool: Executor, prepare, items: Iterator) -> Iterator[tuple]:
    """``(item, prepare(item))`` for each item; ``pool`` prepares the next item while the
    caller works on the current one."""
    upcoming = next(items, None)
    pending = pool.submit(prepare, upcoming) if upcoming is not None else None
    while upcoming is not None:
        ready = pending.result()
        current, upcoming = upcoming, next(items, None)
        if upcoming is not None:
            pending = pool.submit(prepare, upcoming)
        yield current, ready


class Feed:
    """Puts a chunk's inputs on the device(s): replicated, or split along the batch axis
    of ``mesh`` (data parallelism). A mesh over several processes' devices (``multi_host``)
    holds devices this process cannot address: every process holds the whole value (the
    same data, the same planned batches), and each places only its own devices' shares."""

    def __init__(self, placement: str, mesh, pool: Executor):
        import jax

        self.placement, self.pool = placement, pool
        if mesh is not None:
            from jax.sharding import NamedSharding, PartitionSpec

            self.replicated = NamedSharding(mesh, PartitionSpec())
            self.by_batch = NamedSharding(mesh, PartitionSpec(None, "batch"))
        else:
            self.replicated = self.by_batch = jax.local_devices()[0]

    def put(self, value, sharding=None):
        """``value`` (an array or a tree of them) on ``sharding`` (default: replicated)."""
        import jax

        sharding = self.replicated if sharding is None else sharding
        if getattr(sharding, "is_fully_addressable", True):
            return jax.device_put(value, sharding)

        def this_process_shares(leaf):
            array = np.asarray(leaf)
            return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])

        return jax.tree.map(this_process_shares, value)

    def upload(self, data) -> tuple:
        """``device``: both uint8 sets on the device, replicated; ``host``: (None, None)."""
        if self.placement != "device":
            return None, None
        import jax

        t0 = time.perf_counter()
        train_images, val_images = self.put(np.asarray(data.train)), self.put(np.asarray(data.val))
        jax.block_until_ready(val_images)
        print(
            f"uploaded {len(data.train) + len(data.val)} images ({(data.train.nbytes + data.val.nbytes) / 2**30:.2f} "
            f"GiB) to the device in {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        return train_images, val_images

    def chunk_inputs(self, images: np.ndarray, chunk: Chunk) -> tuple:
        """Device arguments for one training chunk (see :meth:`inputs`)."""
        return self.inputs(images, chunk.index, chunk.flips, chunk.points)

    def inputs(self, images: np.ndarray, index: np.ndarray, per_image: np.ndarray, points=None) -> tuple:
        """Device arguments for one chunk: the indices (``device``) or the gathered uint8
        batches (``host``), ``per_image`` (flip flags or validation weights) and the hint
        network's ``points`` (None for the others)."""
        x = index if self.placement == "device" else gather(images, index, self.pool)
        points = None if points is None else self.put(points, self.by_batch)
        return self.put(x, self.by_batch), self.put(per_image, self.by_batch), points


VALIDATION_BATCH_FACTOR = 4  # validation batches up to 4x the training batch: inference holds a
# layer or two of activations where the training step holds them all, so the peak stays below training's


@dataclass
class ValidationPlan:
    """The validation set as (M, B) indices padded with weight-0 entries to whole calls
    of ``per_call`` batches.

    B is chosen for the device, not taken from training: the fewest batches of at most
    ``VALIDATION_BATCH_FACTOR`` training batches, each of the same size (a multiple of
    ``align``, the devices a batch is split over), so that padding is at most ``align`` images
    a batch. Caltech-101's 391 validation images at batch 64: 2 batches of 196 (392) instead of
    7 of 64 (448); the per-image losses, and so their sum, do not depend on the batching.
    """

    index: np.ndarray
    weight: np.ndarray
    per_call: int
    images: int
    points: np.ndarray | None = None  # the hint network's fixed points, (M, B, P, 3)

    @classmethod
    def make(
        cls, n: int, batch_size: int, chunk: int, points: np.ndarray | None = None, align: int = 1
    ) -> ValidationPlan:
        batches = -(-n // (batch_size * VALIDATION_BATCH_FACTOR))
        batch_size = -(-n // (batches * align)) * align
        per_call = min(chunk, batches)
        padded = -(-batches // per_call) * per_call * batch_size
        index = np.zeros(padded, np.int32)
        index[:n] = np.arange(n)
        weight = (np.arange(padded) < n).astype(np.float32)
        index, weight = index.reshape(-1, batch_size), weight.reshape(-1, batch_size)
        return cls(index, weight, per_call, n, None if points is None else points[index])


def dispatch_validation(eval_chunk, weights, feed: Feed, plan: ValidationPlan, images, device_images) -> list:
    """The validation calls on the weights of ``weights`` (a state), dispatched without waiting:
    each call's sum of weighted per-image losses, a device scalar
    (:func:`~colorization.training.pipelined.mean_validation_loss` waits for them)."""
    totals = []
    for c0 in range(0, len(plan.index), plan.per_call):
        part = slice(c0, c0 + plan.per_call)
        points = None if plan.points is None else plan.points[part]
        xs, ws, ps = feed.inputs(images, plan.index[part], plan.weight[part], points)
        totals.append(eval_chunk(weights[0], weights[1], device_images, xs, ws, ps))
    return totals


def initial_state(network, feed: Feed) -> tuple:
    """The loop's state on the device: copies of the variables (the loop donates its buffers)."""
    return feed.put(tuple([np.asarray(v.value) for v in variables] for variables in model_variables(network)))


def run_jax_scan(config, network, data, state, book, record, mesh=None, class_weights=None) -> None:
    """Train ``network`` from epoch ``state.epoch`` to ``config.epochs`` (or early stopping).

    The arguments are those of :func:`colorization.training.fit_loop.run_fit`, plus
    ``mesh``: the ``jax.sharding.Mesh`` of ``distribution: data_parallel`` (None: one
    device). ``book`` must have a ``writer``: the Keras variables are the writer's while the
    loop runs (it loads each epoch's weights before writing its files). Each epoch
    ends in the background while the next one trains (:mod:`.pipelined`); on return every
    epoch trained is ended, and once :meth:`Bookkeeper.wait` returns, its files are written and
    the Keras variables hold the last one committed.
    """
    import jax

    chunk = config.steps_per_execution or DEFAULT_CHUNK
    # XLA:CPU runs convolutions inside a while loop ~10x slower: unroll the chunk there.
    unroll = chunk if jax.default_backend() == "cpu" else 1
    train_chunk, eval_chunk = jax_step_functions(
        network, network.optimizer, make_loss(config, class_weights), config.data_placement, mesh, unroll
    )
    validation = ValidationPlan.make(
        len(data.val),
        config.batch_size,
        chunk,
        hints.validation_plan(config, len(data.val)),
        align=1 if mesh is None else mesh.devices.size,
    )
    images = (len(data.train) // config.batch_size) * config.batch_size
    copy_state = state_copier()
    with (
        ThreadPoolExecutor(1, thread_name_prefix="feeder") as feeder,
        ThreadPoolExecutor(GATHER_THREADS, thread_name_prefix="gather") as gatherers,
        ThreadPoolExecutor(1, thread_name_prefix="epoch-end") as closer,
    ):
        feed = Feed(config.data_placement, mesh, gatherers)
        train_images, val_images = feed.upload(data)
        train_state = initial_state(network, feed)
        ends = EpochEnds(closer, config, network, book, record, images, len(data.val))
        ends.warm_up(copy_state(train_state))  # one-time costs paid while epoch 1 compiles
        book.prepare(network)
        plan = epoch_chunks(config, len(data.train), state.epoch, chunk)
        losses, dispatched = [], 0.0
        for item, (xs, fs, ps) in prefetched(feeder, partial(feed.chunk_inputs, data.train), plan):
            dispatched = dispatched if losses else time.perf_counter()
            train_state, chunk_losses = train_chunk(train_state, train_images, xs, fs, ps)
            losses.append(chunk_losses)
            if item.last:
                weights = copy_state(train_state)  # the next chunk donates train_state
                totals = dispatch_validation(eval_chunk, weights, feed, validation, data.val, val_images)
                if ends.hand_over(DispatchedEpoch(item.epoch + 1, losses, totals, weights, dispatched)):
                    break  # the epoch before diverged (raised) or stopped early: this one is dropped
                losses = []
        else:
            ends.verdict()  # the last epoch
