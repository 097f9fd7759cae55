"""What both loops do when an epoch ends: refuse a diverged epoch, record its throughput in
the run record, commit its files to the run folder (:class:`Bookkeeper`, which applies the
early-stopping rule), print a line when training stops early.

An epoch whose training or validation loss, or any weight, is NaN or infinite is never
committed: :func:`end_epoch` raises :class:`TrainingDiverged` before its checkpoint is
written, so the last good epoch stays the resume point and ``best.keras`` and
``model.keras`` keep what they held.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import asdict
from pathlib import Path

from colorization.training.checkpoint import (
    HISTORY_FIELDS,
    RunFolder,
    RunState,
    export_float32,
    read_keras,
    save_checkpoint,
)
from colorization.training.config import TrainConfig
from colorization.training.early_stopping import observe_epoch


class TrainingDiverged(RuntimeError):
    """A loss or weight of an epoch is NaN or infinite: training stopped, the epoch uncommitted (one line)."""


def learning_rate(optimizer) -> float:
    """The optimizer's current learning rate as a Python float."""
    from keras import ops

    return float(ops.convert_to_numpy(optimizer.learning_rate))


def end_epoch(
    book,
    record,
    network,
    epoch: int,
    losses: dict,
    images: int,
    seconds: float,
    wall: float,
    non_finite: tuple | None = None,
    load_weights=None,
) -> bool:
    """Check, record and commit epoch ``epoch`` (1-based); True when training should stop.

    Parameters
    ----------
    book : Bookkeeper
    record : RunRecord
    network : keras.Model
        Its variables hold the epoch's weights (and its optimizer's state).
    epoch : int
    losses : dict
        ``loss`` and ``val_loss`` (Keras' logs for ``fit``).
    images : int
        Training images of the epoch.
    seconds, wall : float
        Training alone; the whole cycle since the previous epoch ended.
    non_finite : (int, str or None), optional
        The epoch's count of non-finite weight values and the first variable holding one,
        when the caller counted them on the device; otherwise the network's variables are read.
    load_weights : callable, optional
        Puts the epoch's weights into the network's variables; the book runs it just before
        it writes the epoch's files (:meth:`Bookkeeper.end_epoch`).

    Raises
    ------
    TrainingDiverged
        When a loss or weight is not finite (:func:`refuse_non_finite`); nothing is written.
    """
    refuse_non_finite(book, epoch, losses, network, non_finite)
    logs = dict(
        losses,
        seconds=round(seconds, 3),
        wall_seconds=round(wall, 3),
        images_per_s=round(images / seconds, 1),
        learning_rate=learning_rate(network.optimizer),
    )
    record.epoch(epoch, images, seconds, wall)
    stop = book.end_epoch(epoch, logs, network, load_weights)
    record.write()
    if stop:
        print(f"early stopping: no val_loss improvement for {book.config.early_stopping_patience} epochs", flush=True)
    return stop


def refuse_non_finite(book, epoch: int, losses: dict, network, non_finite: tuple | None = None) -> None:
    """Raise :class:`TrainingDiverged` unless the epoch's ``loss``, ``val_loss`` and weights are
    finite (``non_finite``: the weights' count and first variable, if already known)."""
    from colorization.weights import count_non_finite

    bad = [f"{name} {losses.get(name)}" for name in ("loss", "val_loss") if not _finite(losses.get(name))]
    if not bad:
        count, where = non_finite or count_non_finite(network)
        bad = [f"{count:,} weight value(s), the first in {where}"] if count else []
    if bad:
        last = book.state.epoch
        kept = f"epoch {last}, the last good one, stays the resume point" if last else "no epoch was committed"
        raise TrainingDiverged(
            f"{book.folder.path}: epoch {epoch} diverged ({'; '.join(bad)}: not finite); training stopped and {kept}; "
            "lower learning_rate and train again in another output_dir"
        )


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class Bookkeeper:
    """End-of-epoch files common to both loops: history, checkpoint, best model, commit.

    :meth:`end_epoch` applies the early-stopping rule (:mod:`.early_stopping`) and
    returns True when training should stop.

    ``writer``: optional ``concurrent.futures.Executor`` of one thread; the jax_scan loop
    passes one so that files are written while the next epochs run. Epochs are written in
    order; at most :attr:`QUEUED` wait or are being written at once (each holds its weights:
    a device copy of the state), so a burst of slow writes (``best.keras`` on improving epochs)
    does not hold the loop back, and memory stays bounded. With a writer, the network's
    variables are the writer's: an epoch's ``load_weights`` runs there, before its files.
    """

    QUEUED = 3

    def __init__(self, folder: RunFolder, config: TrainConfig, state: RunState, writer=None):
        self.folder, self.config, self.state = folder, config, state
        self.writer = writer
        self._pending: deque = deque()
        self._float32 = None  # the float32 network best.keras is saved from (built once)

    def prepare(self, network) -> None:
        """Pay the first write's one-time costs now, in the writer, while the first epoch
        compiles (:meth:`_warm_up`); without a writer, nothing."""
        if self.writer is not None:
            self._pending.append(self.writer.submit(self._warm_up, network))

    def _warm_up(self, network) -> None:
        """Build the float32 network ``best.keras`` is saved from, and import what saving
        needs: Keras' first serialization imports TensorFlow where it is installed (6.3 s of the
        first checkpoint's 6.9 s on the 2-core CPU; later ones take 0.35 s). Otherwise the
        first epoch's write pays them, while the second epoch trains (on one H200 it ran
        0.61-0.68 s against 0.47 s for the epochs after it)."""
        import keras  # (importing Keras imports h5py, the weights' format)

        from colorization.model import rebuild

        keras.saving.serialize_keras_object(network)
        if self._float32 is None:
            self._float32 = rebuild(network)

    def wait(self, room: int = 0) -> None:
        """Block until at most ``room`` epochs' files are still queued (0: every one written),
        re-raising a failed write."""
        while len(self._pending) > room or (self._pending and self._pending[0].done()):
            self._pending.popleft().result()  # re-raises a failed write

    def end_epoch(self, epoch: int, logs: dict, network, load_weights=None) -> bool:
        """Record epoch ``epoch`` (1-based) and commit it; True when training should stop.

        ``logs``: ``loss``, ``val_loss`` and the other :data:`HISTORY_FIELDS`. The
        checkpoint (and ``best.keras`` when the epoch improved) is written before
        ``state.json`` names it, in the background when a ``writer`` was given;
        ``load_weights`` (if any) first puts the epoch's weights into ``network``.
        """
        state = self.state
        val_loss = float(logs.get("val_loss", math.nan))
        row = {k: logs.get(k) for k in HISTORY_FIELDS}
        row.update(epoch=epoch, val_loss=val_loss, loss=float(logs["loss"]))
        state.history = [r for r in state.history if r["epoch"] < epoch] + [row]
        state.epoch = epoch
        improved, stop = observe_epoch(state, epoch, val_loss, self.config)
        checkpoint = self.folder.checkpoint_path(epoch)
        state.checkpoint = str(checkpoint.relative_to(self.folder.path))
        snapshot = RunState(**json.loads(json.dumps(asdict(state))))
        if self.writer is None:
            self._commit(network, checkpoint, improved, snapshot, load_weights)
        else:
            self.wait(room=self.QUEUED - 1)
            self._pending.append(
                self.writer.submit(self._commit, network, checkpoint, improved, snapshot, load_weights)
            )
        return stop

    def _commit(self, network, checkpoint: Path, improved: bool, snapshot: RunState, load_weights=None) -> None:
        """Load the epoch's weights (``load_weights``), then write its files; ``state.json`` (the
        commit point) after its checkpoint."""
        if load_weights is not None:
            load_weights()
        self._write(network, checkpoint, improved, snapshot)

    def _write(self, network, checkpoint: Path, improved: bool, snapshot: RunState) -> None:
        save_checkpoint(network, checkpoint)
        if improved:
            self._float32 = export_float32(network, self.folder.best_path, self._float32)
        self.folder.write_state(snapshot)
        self.folder.write_history(snapshot.history)
        self.folder.prune(self.config.keep_checkpoints, snapshot.checkpoint)

    def finish(self, network) -> Path:
        """Write ``model.keras``: the best epoch's weights (``restore_best``) or the last."""
        self.wait()
        best = self.folder.best_path
        if self.config.restore_best and best.is_file():
            from colorization.model import save_model

            save_model(read_keras(best, compile=False), self.folder.model_path)
        else:
            export_float32(network, self.folder.model_path)
        return self.folder.model_path
