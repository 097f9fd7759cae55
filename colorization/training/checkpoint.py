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
resumes from a complete checkpoint; older checkpoints are deleted only afterwards, and
the temporary files of a write cut short are removed when the run next starts
(:meth:`RunFolder.remove_stale_temporaries`). Both loops (``fit`` and ``jax_scan``)
write and read the same format, so a run may be resumed with the other loop.

Reading is strict: a ``state.json`` that is not this format's, or a checkpoint that is
missing, damaged, refused by Keras' safe mode or of another network than the
configuration's, is one :class:`~colorization.training.config.ConfigError` line naming
the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from colorization.io.files import write_text_atomic
from colorization.training.config import ConfigError, TrainConfig

# seconds: training only; wall_seconds: the whole cycle since the previous epoch's end
# (training, validation, checkpoint writing; the first includes compilation)
HISTORY_FIELDS = ("epoch", "loss", "val_loss", "learning_rate", "seconds", "wall_seconds", "images_per_s")
RUN_FILES = ("config.yaml", "state.json", "run.json", "history.csv", "best.keras", "model.keras")
# colorization.io.files.atomic_path writes ``.<stem>.<8 random characters of mkstemp>.tmp<suffix>``
_RANDOM_PART = "[a-z0-9_]{8}"
_STALE_CHECKPOINT = re.compile(rf"\.epoch-\d{{4,}}\.{_RANDOM_PART}\.tmp\.keras")
_STALE_RUN_FILE = re.compile(
    "|".join(
        rf"\.{re.escape(Path(name).stem)}\.{_RANDOM_PART}\.tmp{re.escape(Path(name).suffix)}" for name in RUN_FILES
    )
)
WHAT_TO_DO = "restore it, or train again in another output_dir"


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
        """``state.json``; :class:`ConfigError` unless it is a committed state of this format."""
        try:
            values = json.loads(self.state_path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{self.state_path}: cannot read ({error.strerror or error})") from None
        except ValueError as error:  # not UTF-8, not JSON
            raise ConfigError(f"{self.state_path}: truncated or not JSON ({error}); {WHAT_TO_DO}") from None
        problem = state_problem(values)
        if problem:
            raise ConfigError(f"{self.state_path}: not a run's state ({problem}); {WHAT_TO_DO}")
        return RunState(**values)

    def write_state(self, state: RunState) -> None:
        write_text_atomic(self.state_path, json.dumps(asdict(state), indent=1, allow_nan=True) + "\n")

    def read_config(self) -> TrainConfig:
        from colorization.training.config_file import load_config

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

    def stale_temporaries(self) -> list[Path]:
        """The temporary files :func:`~colorization.io.files.atomic_path` left here for the run's
        files and checkpoints (a process killed while writing); nothing of another naming."""
        found = []
        for folder, pattern in ((self.path, _STALE_RUN_FILE), (self.path / "checkpoints", _STALE_CHECKPOINT)):
            if folder.is_dir() and not folder.is_symlink():
                entries = sorted(folder.iterdir())
                found += [p for p in entries if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink()]
        return found

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete :meth:`stale_temporaries`; the paths deleted."""
        stale = self.stale_temporaries()
        for path in stale:
            path.unlink(missing_ok=True)
        return stale


def state_problem(values) -> str | None:
    """What makes ``values`` (parsed ``state.json``) not a committed :class:`RunState`, or None."""
    names = [f.name for f in fields(RunState)]
    if not isinstance(values, dict) or sorted(values) != sorted(names):
        keys = ", ".join(sorted(map(str, values))) if isinstance(values, dict) else f"a JSON {type(values).__name__}"
        return f"it holds {keys or 'nothing'}; a state holds {', '.join(names)}"
    epoch = values["epoch"]
    if not (_whole(epoch) and epoch >= 1):
        return f"epoch {epoch!r} is not a whole number of at least 1"
    best, best_epoch, wait, history = (values[k] for k in ("best_val_loss", "best_epoch", "wait", "history"))
    checks = (
        (values["checkpoint"] == f"checkpoints/epoch-{epoch:04d}.keras", f"checkpoint {values['checkpoint']!r}"),
        (best_epoch is None or (_whole(best_epoch) and 1 <= best_epoch <= epoch), f"best_epoch {best_epoch!r}"),
        (best is None or (_number(best) and math.isfinite(best)), f"best_val_loss {best!r}"),
        (_whole(wait) and 0 <= wait <= epoch, f"wait {wait!r}"),
        (isinstance(values["stopped_early"], bool), f"stopped_early {values['stopped_early']!r}"),
        (isinstance(history, list) and all(isinstance(row, dict) for row in history), "history"),
    )
    problem = next((f"{message} does not fit epoch {epoch}" for holds, message in checks if not holds), None)
    if problem is None and [row.get("epoch") for row in history] != list(range(1, epoch + 1)):
        problem = f"history does not list epochs 1 to {epoch}"
    return problem


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def save_checkpoint(network, path: Path) -> None:
    """Network + optimizer state (the network is compiled with its optimizer), atomically."""
    from colorization.model import save_model

    save_model(network, path)


def load_checkpoint(path: Path, config: TrainConfig | None = None):
    """The compiled network of a checkpoint, with its optimizer's state restored.

    Raises
    ------
    ConfigError
        One line naming the file: missing, not an intact ``.keras`` archive, refused by
        Keras (safe mode: no code from the file runs), without an optimizer, or, given
        ``config``, another network than the one ``config`` trains (:func:`check_fits`).
    """
    import colorization.ablation.loss  # noqa: F401  (registers the classification loss)

    network = read_keras(path, compile=True)
    if getattr(network, "optimizer", None) is None:
        raise ConfigError(f"{path}: a model without optimizer state, not a training checkpoint; {WHAT_TO_DO}")
    if config is not None:
        check_fits(network, config, path)
    return network


def read_keras(path: Path, compile: bool):
    """A ``.keras`` file of the run folder, loaded in safe mode; :class:`ConfigError` if it cannot be."""
    import keras

    from colorization.weights import WeightsError, check_archive, plain_line

    try:
        check_archive(Path(path))
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except WeightsError as error:
        raise ConfigError(f"{error}; {WHAT_TO_DO}") from None
    except Exception as error:  # wrong content, unknown layers, code that safe mode refuses ...
        raise ConfigError(
            f"{path}: not a usable checkpoint ({type(error).__name__}: {plain_line(error)[:300]}); {WHAT_TO_DO}"
        ) from None


def check_fits(network, config: TrainConfig, path: Path) -> None:
    """Raise :class:`ConfigError` unless ``network`` (a checkpoint's) is the network, precision and
    optimizer ``config`` trains: a checkpoint of another run cannot be resumed."""
    from colorization.training.step import build_network

    wanted = {
        "network": "paper_colorization",
        "input_size": config.input_size,
        "head": config.head,
        "upsampling": config.upsampling,
        "precision": config.precision,
        "optimizer": config.optimizer,
        "learning_rate": f"{config.learning_rate:.6g}",
    }
    found = describe_checkpoint(network)
    differences = [
        f"{key} {found[key]} where the configuration has {wanted[key]}" for key in wanted if found[key] != wanted[key]
    ]
    shapes = [tuple(w.shape) for w in network.weights]
    if not differences and shapes != [tuple(w.shape) for w in build_network(config).weights]:
        differences = ["its layers are not the configuration's"]
    if differences:
        raise ConfigError(f"{path}: a checkpoint of another network ({'; '.join(differences)}); {WHAT_TO_DO}")


def describe_checkpoint(network) -> dict:
    """What :func:`check_fits` compares: network name, input size, head, upsampling, precision, optimizer."""
    from keras import ops

    from colorization.model import head_of

    layers = {layer.name: layer for layer in network.layers}
    shape = network.input_shape
    return {
        "network": network.name,
        "input_size": shape[1] if isinstance(shape, tuple) and len(shape) == 4 else shape,
        "head": head_of(network),
        "upsampling": getattr(layers.get("up3"), "interpolation", None),
        "precision": getattr(getattr(layers.get("conv1"), "dtype_policy", None), "name", None),
        "optimizer": type(network.optimizer).__name__.lower(),
        "learning_rate": f"{float(ops.convert_to_numpy(network.optimizer.learning_rate)):.6g}",
    }


def export_float32(network, path: Path, into=None):
    """Save the network's weights as a float32, uncompiled paper model (inference file); that model.

    ``into``: the model an earlier call returned for the same network, given its weights
    instead of building another (a build costs about as much as the write; the run
    exports ``best.keras`` at every improving epoch).
    """
    from colorization.model import rebuild, save_model

    if into is None:
        into = rebuild(network)
    else:
        weights = zip(network.get_weights(), into.weights, strict=True)
        into.set_weights([np.asarray(w).astype(v.dtype) for w, v in weights])  # as rebuild casts them
    save_model(into, path)
    return into
