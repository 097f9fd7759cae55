"""The Keras ``fit`` loop (``loop: fit``, any backend; the default, and what runs on the CPU).

``model.fit`` trains a :class:`~colorization.training.step.FitModel` on
:class:`TrainBatches`: uint8 batches and flip flags from the batch planner
(:func:`colorization.data.batches.plan_epoch`), the Lab conversion and flips inside the
compiled step. :class:`EpochClock` times each epoch and hands it to
:func:`~colorization.training.epoch_end.end_epoch` (run record, checkpoint, early stopping).
"""

from __future__ import annotations

import sys
import time
from functools import partial

import keras
import numpy as np

from colorization.data.batches import gather, plan_epoch
from colorization.training import hints
from colorization.training.epoch_end import end_epoch
from colorization.training.step import FitModel, make_loss


class TrainBatches(keras.utils.PyDataset):
    """One epoch of full training batches, ``{"rgb": uint8 (B, H, W, 3), "flip": uint8 (B,)}``.

    The order comes from :func:`plan_epoch`; :meth:`set_epoch` selects the epoch. Flags
    are uint8 because ``MirroredStrategy`` cannot gather bool tensors. Within a batch the
    images are read in index order (memory-map friendly), their flags kept aligned.
    ``plan_points(steps, epoch)``: the hint network's simulated points of an epoch
    (:func:`colorization.training.hints.epoch_plan`), added as ``"hints"``; None for the others.
    """

    def __init__(self, images: np.ndarray, batch_size: int, seed: int, flip: bool, plan_points=None):
        super().__init__()
        self.images, self.batch_size, self.seed, self.flip = images, batch_size, seed, flip
        self.plan_points = plan_points
        self.epoch, self._plan, self._points = 0, None, None

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self._plan = epoch, None

    def __getitem__(self, i: int) -> dict:
        if self._plan is None:
            self._plan = plan_epoch(len(self.images), self.batch_size, self.seed, self.epoch, self.flip)
            self._points = self.plan_points(len(self), self.epoch) if self.plan_points else None
        order, flips = self._plan
        ascending = np.argsort(order[i])
        batch = {"rgb": gather(self.images, order[i][ascending]), "flip": flips[i][ascending].astype(np.uint8)}
        if self._points is not None:
            batch["hints"] = self._points[i][ascending]
        return batch


class ValidationBatches(keras.utils.PyDataset):
    """The validation set in order, unflipped; the last batch may be smaller. ``points``: the
    hint network's fixed simulated points of each image (:func:`colorization.training.hints.validation_plan`)."""

    def __init__(self, images: np.ndarray, batch_size: int, points: np.ndarray | None = None):
        super().__init__()
        self.images, self.batch_size, self.points = images, batch_size, points

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, i: int) -> dict:
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        rgb = np.asarray(self.images[rows])
        batch = {"rgb": rgb, "flip": np.zeros(len(rgb), np.uint8)}
        if self.points is not None:
            batch["hints"] = self.points[rows]
        return batch


class EpochClock(keras.callbacks.Callback):
    """Selects each epoch's batches, times training apart from validation, ends the epoch.

    ``seconds``: training alone; ``wall``: the whole cycle since the previous epoch ended
    (training, validation, the previous epoch's checkpoint; the first includes compilation).
    """

    def __init__(self, batches: TrainBatches, network: keras.Model, book, record):
        super().__init__()
        self.batches, self.network, self.book, self.record = batches, network, book, record
        self.images_per_epoch = len(batches) * batches.batch_size
        self.mark = self.start = self.test_start = None
        self.validation = 0.0

    def on_train_begin(self, logs=None):
        self.mark = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
        self.start, self.validation = time.perf_counter(), 0.0

    def on_test_begin(self, logs=None):
        # wait for the epoch's last (asynchronously dispatched) step: it updates the counter
        keras.ops.convert_to_numpy(self.network.optimizer.iterations)
        self.test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        self.validation += time.perf_counter() - self.test_start

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        seconds = now - self.start - self.validation
        wall, self.mark = now - self.mark, now
        if end_epoch(
            self.book, self.record, self.network, epoch + 1, dict(logs or {}), self.images_per_epoch, seconds, wall
        ):
            self.model.stop_training = True


def fit_steps_per_execution(config) -> int:
    """``steps_per_execution`` for ``fit`` (None: 1), 1 where Keras cannot run more."""
    steps = config.steps_per_execution or 1
    if steps > 1 and keras.backend.backend() == "tensorflow" and config.distribution != "none":
        # Keras 3.15 + TF 2.21: multi-step execution under MirroredStrategy fails to run
        # ("You must feed a value for placeholder tensor ... while/cond/Placeholder_1").
        print("warning: steps_per_execution > 1 is not supported with MirroredStrategy; using 1", file=sys.stderr)
        return 1
    return steps


def run_fit(config, network: keras.Model, data, state, book, record, class_weights=None) -> None:
    """Train ``network`` from epoch ``state.epoch`` to ``config.epochs`` (or early stopping).

    Parameters
    ----------
    config : TrainConfig
    network : keras.Model
        Compiled, its optimizer built (fresh or from the checkpoint).
    data : TrainData
    state : RunState
        Where the run stands (``state.epoch`` completed epochs).
    book : Bookkeeper
        Commits each epoch to the run folder.
    record : RunRecord
        ``run.json``.
    class_weights : list of float, optional
        The classification head's rebalancing weights.
    """
    plan_points = partial(hints.epoch_plan, config) if config.hints else None
    train_batches = TrainBatches(data.train, config.batch_size, config.seed, config.flip, plan_points)
    val_batches = ValidationBatches(data.val, config.batch_size, hints.validation_plan(config, len(data.val)))
    model = FitModel(network)
    model.compile(
        optimizer=network.optimizer,
        loss=make_loss(config, class_weights),
        steps_per_execution=fit_steps_per_execution(config),
        jit_compile=config.jit_compile,
    )
    clock = EpochClock(train_batches, network, book, record)
    model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=config.epochs,
        initial_epoch=state.epoch,
        shuffle=False,
        verbose=config.verbose,
        callbacks=[clock],
    )  # TrainBatches shuffles
