"""The run record: what produced a trained model, written next to it as ``run.json``.

It starts from the package's shared provenance (:func:`colorization.reporting.provenance.provenance`:
git commit and whether the tree had uncommitted changes, Python and package versions,
the Keras backend) and adds the devices, the full configuration and its digest, the
data (the split manifest's hash, sizes) and, per session (a resumed run adds one), the
epochs it ran, its wall time and training images per second. The classification head
adds its class-rebalancing weights (``rebalancing``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.reporting.provenance import provenance
from colorization.training.config import ConfigError

RECORD_FORMAT = "colorization-train-run/1"


def device_names() -> list[str]:
    """The Keras backend's devices, e.g. ``["gpu:0 NVIDIA H200"]``."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return [f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices()]
    if backend == "tensorflow":
        import tensorflow as tf

        names = []
        for device in tf.config.list_logical_devices():
            details = {}
            if device.device_type == "GPU":
                physical = tf.config.list_physical_devices("GPU")
                details = tf.config.experimental.get_device_details(physical[0]) if physical else {}
            names.append(f"{device.name} {details.get('device_name', '')}".strip())
        return names
    return [backend]


def read_sessions(path: Path) -> list[dict]:
    """The sessions of an earlier ``run.json`` (none if there is no file), for a resumed run.

    Raises
    ------
    ConfigError
        If the file is not a run record (truncated, not JSON, no list of sessions).
    """
    if not path.exists():
        return []
    try:
        sessions = json.loads(path.read_text(encoding="utf-8")).get("sessions")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    except (ValueError, AttributeError) as error:  # not UTF-8, not JSON, not an object
        raise ConfigError(
            f"{path}: not a run record ({error}); restore it, or delete it to start a new record"
        ) from None
    if not (isinstance(sessions, list) and all(isinstance(s, dict) for s in sessions)):
        raise ConfigError(
            f"{path}: not a run record (no list of sessions); restore it, or delete it to start a new record"
        )
    return sessions


def is_run_record(path: Path) -> bool:
    """Whether ``path`` is a ``run.json`` this trainer wrote."""
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == RECORD_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _new_session(config, resumed_from_epoch: int) -> dict:
    """The record of one training process (a resumed run appends another)."""
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv,
        "loop": config.loop,
        "precision": config.precision,
        "distribution": config.distribution,
        "start_epoch": resumed_from_epoch,
        "end_epoch": resumed_from_epoch,
        "wall_seconds": 0.0,
        "train_seconds": 0.0,
        "train_images": 0,
        "images_per_s": None,
        "steady_images_per_s": None,  # median over epochs after the first, training only
        "steady_wall_images_per_s": None,  # the same with validation and checkpoints
    }


class RunRecord:
    """Builds and rewrites ``run.json`` (atomically) as the run goes.

    Parameters
    ----------
    path : Path
        ``run.json`` in the run folder (:attr:`RunFolder.record_path`).
    config : TrainConfig
    data : TrainData
    resumed_from_epoch : int
        Completed epochs before this session (0: a new run; the sessions of an earlier
        ``run.json`` are kept only when resuming).

    Attributes
    ----------
    content : dict
        What ``run.json`` holds.
    session : dict
        This session's entry of ``content["sessions"]``.
    """

    def __init__(self, path: Path, config, data, resumed_from_epoch: int):
        import keras  # noqa: F401  (the record names the backend in use)

        self.path = path
        self.content = provenance(
            "training",
            format=RECORD_FORMAT,
            devices=device_names(),
            config=config.to_dict(),
            config_digest=config.digest(),
            data={
                "manifest_hash": data.manifest_hash,
                "description": data.description,
                "train_images": int(len(data.train)),
                "val_images": int(len(data.val)),
                "image_shape": list(data.train.shape[1:]),
            },
            sessions=read_sessions(path) if resumed_from_epoch else [],
            status="running",
        )
        self.session = _new_session(config, resumed_from_epoch)
        self.content["sessions"].append(self.session)
        self._t0 = time.perf_counter()
        self._epoch_rates: list[tuple[float, float]] = []
        self.write()

    def add(self, key: str, value) -> None:
        """Add a top-level entry (e.g. ``rebalancing``) and rewrite the file."""
        self.content[key] = value
        self.write()

    def epoch(self, epoch: int, images: int, seconds: float, wall: float | None = None) -> None:
        """Record an epoch: ``seconds`` of training alone, ``wall`` for the whole cycle."""
        s = self.session
        s["end_epoch"] = epoch
        s["train_images"] += images
        s["train_seconds"] += seconds
        s["wall_seconds"] = time.perf_counter() - self._t0
        s["images_per_s"] = s["train_images"] / s["train_seconds"] if s["train_seconds"] else None
        self._epoch_rates.append((images / seconds if seconds else 0.0, images / wall if wall else 0.0))
        steady = self._epoch_rates[1:]  # the first epoch includes compilation
        if steady:
            s["steady_images_per_s"] = sorted(r[0] for r in steady)[len(steady) // 2]
            s["steady_wall_images_per_s"] = sorted(r[1] for r in steady)[len(steady) // 2]

    def finish(self, status: str, state, model_path: Path | None, reason: str | None = None) -> None:
        """Close the session: ``status`` (completed, failed, interrupted), the run's outcome and,
        when it did not complete, the ``reason`` (one line)."""
        self.session["wall_seconds"] = time.perf_counter() - self._t0
        self.session["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.session["status"] = status
        self.content.update(
            reason=reason,
            status=status,
            epochs_completed=state.epoch,
            best_epoch=state.best_epoch,
            best_val_loss=state.best_val_loss,
            stopped_early=state.stopped_early,
            model=str(model_path.name) if model_path else None,
        )
        self.write()

    def write(self) -> None:
        """Rewrite ``run.json`` atomically."""
        write_text_atomic(self.path, json.dumps(self.content, indent=1, default=str) + "\n")
