"""The run folder: checkpoints, history, best and final models, resumable state.

Layout of ``output_dir``::

    config.yaml               the configuration (as first started)
    state.json                completed epochs, the checkpoint to resume from, best
                              epoch, early-stopping counter, full history  <- commit point
    checkpoints/epoch-0007.keras   network + optimizer state (a compiled .keras file)
    history.csv               one row per completed epoch
    best.keras                best-on-validation network (float32, inference only)
    model.keras               the run's result (best or last epoch; float32)
    run.json                  the run record: provenance and throughput (record.py)

Every file is written atomically (``colorization.io.files``). An epoch is committed by
writing ``state.json`` *after* its checkpoint exists, so a run killed at any moment
resumes from a complete checkpoint; older checkpoints are deleted only afterwards.
Both loops (``fit`` and ``jax_scan``) write and read the same format, so a run may
be resumed with the other loop.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.training.config import TrainConfig
from colorization.training.early_stopping import observe_epoch

# seconds: training only; wall_seconds: the whole cycle since the previous epoch's end
# (training, validation, checkpoint writing; the first includes compilation)
HISTORY_FIELDS = ("epoch", "loss", "val_loss", "learning_rate", "seconds", "wall_seconds", "images_per_s")


@dataclass
class RunState:
    """What ``state.json`` holds."""

    epoch: int = 0  # completed epochs
    checkpoint: str | None = None  # relative to the run folder
    best_val_loss: float | None = None
    best_epoch: int | None = None
    wait: int = 0  # epochs since the best one
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)


class RunFolder:
    """The files of one run folder (``output_dir``): their paths, and reading and writing them."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    # paths
    @property
    def state_path(self) -> Path:
        return self.path / "state.json"

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def record_path(self) -> Path:
        return self.path / "run.json"

    @property
    def best_path(self) -> Path:
        return self.path / "best.keras"

    @property
    def model_path(self) -> Path:
        return self.path / "model.keras"

    def checkpoint_path(self, epoch: int) -> Path:
        return self.path / "checkpoints" / f"epoch-{epoch:04d}.keras"

    # state
    def has_state(self) -> bool:
        return self.state_path.is_file()

    def read_state(self) -> RunState:
        return RunState(**json.loads(self.state_path.read_text(encoding="utf-8")))

    def write_state(self, state: RunState) -> None:
        write_text_atomic(self.state_path, json.dumps(asdict(state), indent=1, allow_nan=True) + "\n")

    def read_config(self) -> TrainConfig:
        from colorization.training.config import load_config

        return load_config(self.config_path)

    def write_config(self, config: TrainConfig) -> None:
        write_text_atomic(self.config_path, config.to_yaml())

    def write_history(self, history: list[dict]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HISTORY_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        write_text_atomic(self.path / "history.csv", buffer.getvalue())

    def prune(self, keep: int, protect: str | None) -> None:
        """Delete all but the ``keep`` newest epoch checkpoints (never ``protect``)."""
        found = sorted((self.path / "checkpoints").glob("epoch-*.keras"))
        for old in found[: max(0, len(found) - keep)]:
            if protect is None or old != self.path / protect:
                old.unlink(missing_ok=True)


def save_checkpoint(network, path: Path) -> None:
    """Network + optimizer state (the network is compiled with its optimizer), atomically."""
    from colorization.model import save_model

    save_model(network, path)


def load_checkpoint(path: Path):
    """The compiled network of a checkpoint, with its optimizer's state restored."""
    import keras

    import colorization.ablation.loss  # noqa: F401  (registers the classification loss)

    return keras.models.load_model(path, compile=True, safe_mode=True)


def export_float32(network, path: Path) -> None:
    """Save the network's weights as a fresh float32, uncompiled paper model (inference file)."""
    from colorization.model import rebuild, save_model

    save_model(rebuild(network), path)


class Bookkeeper:
    """End-of-epoch files common to both loops: history, checkpoint, best model, commit.

    :meth:`end_epoch` applies the early-stopping rule (:mod:`.early_stopping`) and
    returns True when training should stop.

    ``writer``: optional ``concurrent.futures.Executor``; the jax_scan loop passes one so
    that files are written while the next epoch runs (the network's variables must then
    stay untouched until :meth:`wait` returns, which the loop guarantees).
    """

    def __init__(self, folder: RunFolder, config: TrainConfig, state: RunState, writer=None):
        self.folder, self.config, self.state = folder, config, state
        self.writer = writer
        self._pending = None

    def wait(self) -> None:
        """Block until the previous epoch's files are written (re-raising a failed write)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises a failed write

    def end_epoch(self, epoch: int, logs: dict, network) -> bool:
        """Record epoch ``epoch`` (1-based) and commit it; True when training should stop.

        ``logs``: ``loss``, ``val_loss`` and the other :data:`HISTORY_FIELDS`. The
        checkpoint (and ``best.keras`` when the epoch improved) is written before
        ``state.json`` names it, in the background when a ``writer`` was given.
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
        self.wait()
        if self.writer is None:
            self._commit(network, checkpoint, improved, snapshot)
        else:
            self._pending = self.writer.submit(self._commit, network, checkpoint, improved, snapshot)
        return stop

    def _commit(self, network, checkpoint: Path, improved: bool, snapshot: RunState) -> None:
        """Write the epoch's files; ``state.json`` (the commit point) after its checkpoint."""
        save_checkpoint(network, checkpoint)
        if improved:
            export_float32(network, self.folder.best_path)
        self.folder.write_state(snapshot)
        self.folder.write_history(snapshot.history)
        self.folder.prune(self.config.keep_checkpoints, snapshot.checkpoint)

    def finish(self, network) -> Path:
        """Write ``model.keras``: the best epoch's weights (``restore_best``) or the last."""
        self.wait()
        best = self.folder.best_path
        if self.config.restore_best and best.is_file():
            from colorization.model import load_model, save_model

            save_model(load_model(best), self.folder.model_path)
        else:
            export_float32(network, self.folder.model_path)
        return self.folder.model_path
