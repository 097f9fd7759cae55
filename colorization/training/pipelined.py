"""Epoch ends off the critical path of the lean JAX loop (:mod:`.jax_loop`).

When an epoch's last chunk is dispatched, the loop waits for nothing: it takes a device-side
copy of the state (:func:`state_copier`; the next chunk donates the live buffers), dispatches
the validation calls on that copy, and hands the epoch, still being computed, to
:class:`EpochEnds`, whose worker thread waits for its losses, counts its non-finite weights on the device and ends it
(:func:`~colorization.training.epoch_end.end_epoch`: the non-finite refusal, the run record,
early stopping, the checkpoint queued) while the loop dispatches the next epoch's chunks.
The device runs training, validation and the next epoch back to back.

Epochs are ended one at a time, in order, and every one is recorded: before it hands over an
epoch the loop waits for the previous one's verdict. A verdict to stop (early stopping) or
an error (:class:`~colorization.training.epoch_end.TrainingDiverged`) ends the loop, and the
epoch it has just dispatched is dropped, never committed, so the run folder, the resume point
and the Keras variables are what the sequential loop leaves (the price: that one epoch's
compute, once per run). The verdict is awaited at that fixed point, never polled, so that
every process of a multi-host run dispatches the same computations. The results are the
sequential loop's bit for bit: the same computations on the same arrays; only the host waits later.

Times (the run record's ``seconds`` and ``wall_seconds``): an epoch's training starts when
the previous epoch's validation is done (or, if later, when its first chunk was dispatched;
the session's first epoch includes compilation) and ends when its last loss is computed; its
cycle ends when its validation and state copy are done. The worker thread is idle when an
epoch is handed over, so it sees these moments as they happen. An epoch's files are written
by the book's writer thread (:class:`~colorization.training.epoch_end.Bookkeeper`), which
first copies the epoch's weights into the Keras variables (those are the writer's while the
loop runs); up to three epochs queue there, so only writes slower than the epochs for three
epochs running hold the loop back; the device then waits, and the cycles say so. (Before
the queue, an epoch's end waited for the previous epoch's files: on one H200 a checkpoint plus
``best.keras`` on improving epochs sometimes outlasted two epochs and cost 5–13% of an
epoch's throughput in those epochs, 4.7–9.2% overall in three benchmark runs.)

Measured on one H200 (docs/measurements.md, 2026-12-02; Caltech-101, batch 64): validation and
checkpoints every epoch cost 4.4-4.5% of an epoch's steady cycle (0.021 s of 0.472 s: the 392
validation images' forward passes), where the sequential loop lost 22%; ``benchmarks/train_overhead.py``'s
figure over epochs 2-30 is 4.5-4.6%, now that the first write's one-time costs are paid while epoch 1
compiles (:meth:`EpochEnds.warm_up`, :meth:`~colorization.training.epoch_end.Bookkeeper.prepare`;
before, epoch 2 overlapped them and ran 0.61-0.68 s instead of 0.47 s: 5.4-5.7%).
"""

from __future__ import annotations

import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import partial

import numpy as np

from colorization.training.epoch_end import end_epoch


@dataclass
class DispatchedEpoch:
    """An epoch whose training and validation are dispatched to the device, maybe not yet computed."""

    epoch: int  # 1-based
    losses: list  # each chunk's per-step losses (device arrays)
    validation: list  # each validation call's sum of weighted per-image losses (device scalars)
    state: tuple  # a device copy of the state after the epoch (trainable, non-trainable, optimizer)
    dispatched: float  # time.perf_counter() when its first chunk was dispatched


def state_copier():
    """``copy(state) -> state``: a device-side copy of the loop's state, dispatched without waiting
    (one compiled call; the loop's train step donates, and so invalidates, the state it is given)."""
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda state: jax.tree.map(jnp.copy, state))


def non_finite_counter():
    """``count(state) -> per-array counts of NaN/inf values`` of the network's variables
    (trainable, then non-trainable): one compiled call on the device, a few bytes back."""
    import jax
    import jax.numpy as jnp

    def count(state):
        return jnp.stack([jnp.sum(~jnp.isfinite(x)) for x in jax.tree.leaves(state[:2])])

    return jax.jit(count)


def non_finite_weights(network, counts) -> tuple[int, str | None]:
    """``(total, first variable holding one)`` from :func:`non_finite_counter`'s counts, in
    the order and naming of :func:`colorization.weights.count_non_finite`."""
    counts = np.asarray(counts)
    variables = [*network.trainable_variables, *network.non_trainable_variables]
    first = next((getattr(v, "path", v.name) for v, n in zip(variables, counts, strict=True) if n), None)
    return int(counts.sum()), first


def model_variables(network) -> tuple:
    """The network's trainable and non-trainable variables and its optimizer's."""
    return network.trainable_variables, network.non_trainable_variables, network.optimizer.variables


def assign_state(network, train_state) -> None:
    """Copy the loop's state back into the Keras variables (for checkpoints)."""
    for variables, arrays in zip(model_variables(network), train_state, strict=True):
        for variable, array in zip(variables, arrays, strict=True):
            variable.assign(np.asarray(array))


def mean_loss(chunk_losses: list) -> float:
    """The mean of an epoch's per-step training losses (waits for the device)."""
    return float(np.mean(np.concatenate([np.asarray(x) for x in chunk_losses])))


def mean_validation_loss(totals: list, images: int) -> float:
    """Mean per-image validation loss from each call's sum (waits for the device), summed in
    call order in float64."""
    total = 0.0
    for value in totals:
        total += float(value)
    return total / images


def report_epoch(
    config, epoch: int, train_loss: float, val_loss: float, images: int, seconds: float, wall: float
) -> None:
    """The epoch's line (``verbose``); a loss that is not finite stops the run in
    :func:`~colorization.training.epoch_end.end_epoch`."""
    if config.verbose:
        print(
            f"Epoch {epoch}/{config.epochs} - {seconds:.2f}s - loss: {train_loss:.4f} - val_loss: {val_loss:.4f} - "
            f"{images / seconds:,.0f} img/s ({images / wall:,.0f} with validation and checkpoints)",
            flush=True,
        )


class EpochEnds:
    """Ends the loop's dispatched epochs in ``worker`` (one thread), one at a time, in order.

    Parameters
    ----------
    worker : Executor
        One thread, owned by the caller (who waits for it on the way out).
    config, network, book, record
        As :func:`colorization.training.jax_loop.run_jax_scan` has them; the network's
        variables and ``book`` and ``record`` are the worker's until the loop ends.
    images : int
        Training images of an epoch.
    val_images : int
        Validation images (the divisor of the validation sums).
    """

    def __init__(self, worker: Executor, config, network, book, record, images: int, val_images: int):
        self.worker, self.config, self.network, self.book, self.record = worker, config, network, book, record
        self.images, self.val_images = images, val_images
        self.pending: Future | None = None
        self.previous_end = time.perf_counter()  # the cycle clock: the session's first epoch starts now
        self.count_non_finite = non_finite_counter()

    def warm_up(self, state: tuple) -> None:
        """Compile the non-finite count on ``state`` (a copy of the loop's) in the worker while
        the first epoch compiles, so that the first epoch's end does not compile it."""
        self.pending = self.worker.submit(self._count_once, state)

    def _count_once(self, state: tuple) -> bool:
        """(In the worker) count ``state``'s non-finite values once; False: training goes on."""
        np.asarray(self.count_non_finite(state))
        return False

    def hand_over(self, epoch: DispatchedEpoch) -> bool:
        """Wait for the previous epoch's verdict; True: training stops and ``epoch`` is dropped.
        Otherwise ``epoch`` is ended in the background and False returned."""
        if self.verdict():
            return True
        self.pending = self.worker.submit(self.end, epoch)
        return False

    def verdict(self) -> bool:
        """Wait for the epoch being ended (if any); True when training must stop. Re-raises its
        error (:class:`~colorization.training.epoch_end.TrainingDiverged`, a failed write)."""
        pending, self.pending = self.pending, None
        return pending is not None and pending.result()

    def end(self, epoch: DispatchedEpoch) -> bool:
        """(In the worker) wait for ``epoch``'s results, time it, end it; True: stop training."""
        import jax

        train_loss = mean_loss(epoch.losses)
        trained = time.perf_counter()
        val_loss = mean_validation_loss(epoch.validation, self.val_images)
        jax.block_until_ready(epoch.state)
        ended = time.perf_counter()
        seconds = trained - max(self.previous_end, epoch.dispatched)
        wall, self.previous_end = ended - self.previous_end, ended
        report_epoch(self.config, epoch.epoch, train_loss, val_loss, self.images, seconds, wall)
        losses = {"loss": train_loss, "val_loss": val_loss}
        non_finite = non_finite_weights(self.network, self.count_non_finite(epoch.state))
        weights = partial(assign_state, self.network, epoch.state)  # run by the book's writer, in epoch order
        return end_epoch(
            self.book, self.record, self.network, epoch.epoch, losses, self.images, seconds, wall, non_finite, weights
        )
