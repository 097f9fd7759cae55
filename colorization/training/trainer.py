"""``train(config)``: configuration -> data -> network -> loop -> trained ``.keras`` and its record.

Two loops share the network, optimizer, loss, batch planner and run-folder format:

``fit``       Keras ``model.fit`` (:mod:`.fit_loop`; any backend, the default, and what
              runs on the CPU with TensorFlow).
``jax_scan``  the lean JAX loop (:mod:`.jax_loop`; jitted ``lax.scan`` over
              ``steps_per_execution`` steps). Needs ``KERAS_BACKEND=jax``.

``distribution: data_parallel`` spreads each batch over all local devices:
``keras.distribution.DataParallel`` on JAX (its device mesh also drives ``jax_scan``),
``tf.distribute.MirroredStrategy`` on TensorFlow.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization.training.checkpoint import Bookkeeper, RunFolder, RunState, load_checkpoint
from colorization.training.config import ConfigError, TrainConfig, resume_differences
from colorization.training.data import TrainData, load_train_data
from colorization.training.record import RunRecord


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    model_path : Path
        ``model.keras``, the float32 inference model.
    folder : Path
        The run folder.
    state : RunState
        Epochs, best epoch, history (``state.json``).
    record : dict
        What ``run.json`` holds.
    """

    model_path: Path
    folder: Path
    state: RunState
    record: dict


def _log(*parts) -> None:
    print(*parts, flush=True)


def train(config: TrainConfig, resume: bool = False, data: TrainData | None = None) -> TrainResult:
    """Train (or, with ``resume``, continue) the run in ``config.output_dir``.

    Parameters
    ----------
    config : TrainConfig
    resume : bool
        Continue the run the folder holds (from its last checkpoint).
    data : TrainData, optional
        Overrides the configuration's data source (uint8 arrays).

    Raises
    ------
    ConfigError
        For problems the user can fix (a taken folder, a changed configuration, data
        that does not fit it, a loop the backend cannot run).
    """
    import keras

    backend = keras.backend.backend()
    if config.loop == "jax_scan" and backend != "jax":
        raise ConfigError(f"loop: jax_scan needs KERAS_BACKEND=jax (the backend is {backend})")
    # the run folder (new, or resumed with the same configuration) and the data
    folder, state = open_run_folder(config, resume)
    data = data if data is not None else load_train_data(config)
    data.check(config.input_size)
    folder.write_config(config)
    record = RunRecord(folder.record_path, config, data, state.epoch)
    if state.epoch >= config.epochs or state.stopped_early:
        return _already_complete(config, folder, state, record)
    # the network and the loop, on one device or spread over all of them
    class_weights = _rebalancing(config, data, record)
    keras.utils.set_random_seed(config.seed)
    scope, mesh, replicas = _distribution(config, backend)
    if config.batch_size % replicas:
        raise ConfigError(f"batch_size {config.batch_size} must be divisible by the {replicas} devices")
    model_path = _train_recorded(config, folder, state, data, record, scope, mesh, class_weights)
    # the model and its record
    stop = " (early stopping)" if state.stopped_early else ""
    _log(
        f"trained {state.epoch} epochs{stop}; best val_loss {state.best_val_loss} at epoch {state.best_epoch}; "
        f"model: {model_path}"
    )
    return TrainResult(model_path, folder.path, state, record.content)


def open_run_folder(config: TrainConfig, resume: bool) -> tuple[RunFolder, RunState]:
    """The run folder and where its run stands (a fresh :class:`RunState` for a new run).

    A folder that holds a run needs ``resume`` and the same configuration (up to the
    fields :data:`~colorization.training.config.RESUMABLE_CHANGES` lists).
    """
    folder = RunFolder(config.output_dir)
    if not folder.has_state():
        if resume:
            _log(f"{folder.path}: no checkpoint to resume; starting from scratch")
        return folder, RunState()
    if not resume:
        raise ConfigError(
            f"{folder.path} already holds a run; use --resume to continue it or choose another output_dir"
        )
    differences = resume_differences(folder.read_config(), config)
    if differences:
        raise ConfigError("--resume with a different configuration: " + "; ".join(differences))
    state = folder.read_state()
    _log(f"resuming {folder.path} after epoch {state.epoch} ({state.checkpoint})")
    return folder, state


def _already_complete(config: TrainConfig, folder: RunFolder, state: RunState, record: RunRecord) -> TrainResult:
    """A resumed run with nothing left to train: (re)write ``model.keras`` and the record."""
    _log(f"{folder.path}: already complete ({state.epoch} epochs)")
    book = Bookkeeper(folder, config, state)
    network = load_checkpoint(folder.path / state.checkpoint) if state.checkpoint else None
    model_path = book.finish(network) if network is not None else folder.model_path
    record.finish("completed", state, model_path)
    return TrainResult(model_path, folder.path, state, record.content)


def _train_recorded(
    config: TrainConfig,
    folder: RunFolder,
    state: RunState,
    data: TrainData,
    record: RunRecord,
    scope,
    mesh,
    class_weights,
) -> Path:
    """:func:`_run_loop` inside ``scope``; the record closes with how it ended (completed,
    failed, interrupted) and, when completed, the model file."""
    status, model_path = "failed", None
    try:
        with scope:
            model_path = _run_loop(config, folder, state, data, record, mesh, class_weights)
        status = "completed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        record.finish(status, state, model_path)
    return model_path


def _run_loop(
    config: TrainConfig, folder: RunFolder, state: RunState, data: TrainData, record: RunRecord, mesh, class_weights
) -> Path:
    """Build (or restore) the network, run the configured loop, write ``model.keras``."""
    if len(data.train) < config.batch_size:  # not one full batch (plan_epoch)
        raise ConfigError(f"batch_size {config.batch_size} is larger than the training set ({len(data.train)} images)")
    network = _network(config, folder, state, class_weights)
    if config.loop == "fit":
        from colorization.training.fit_loop import run_fit

        book = Bookkeeper(folder, config, state)
        run_fit(config, network, data, state, book, record, class_weights)
    else:
        from colorization.training.jax_loop import run_jax_scan

        with ThreadPoolExecutor(1, thread_name_prefix="checkpoint") as writer:
            book = Bookkeeper(folder, config, state, writer=writer)
            run_jax_scan(config, network, data, state, book, record, mesh, class_weights)
            book.wait()
    return book.finish(network)


def _distribution(config: TrainConfig, backend: str):
    """(context manager, jax mesh or None, number of replicas)."""
    if config.distribution == "none":
        return contextlib.nullcontext(), None, 1
    if backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        return strategy.scope(), None, strategy.num_replicas_in_sync
    if backend == "jax":
        import jax
        import keras

        distribution = keras.distribution.DataParallel()
        keras.distribution.set_distribution(distribution)
        devices = np.asarray(distribution.device_mesh.devices).reshape(-1)
        devices = [d if not isinstance(d, str) else _jax_device(d) for d in devices]
        mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
        return contextlib.nullcontext(), mesh, len(devices)
    raise ConfigError(f"distribution: data_parallel is not supported on the {backend} backend")


def _jax_device(name: str):
    import jax

    platform, _, index = name.rpartition(":")
    return next(d for d in jax.devices() if d.platform == platform.lower() and d.id == int(index))


def _rebalancing(config: TrainConfig, data: TrainData, record: RunRecord):
    """Classification head: the class-rebalancing weights from the training images
    (recorded in run.json); None for the paper's regression head."""
    if config.head != "classification":
        return None
    from colorization.ablation.quantize import rebalancing_from_images

    t0 = time.perf_counter()
    summary = rebalancing_from_images(data.train)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    record.add("rebalancing", summary)
    _log(
        f"class rebalancing: {summary['bins']} bins ({summary['bins_seen']} seen in {summary['images']} training "
        f"images), weights {summary['weight_min']:.3f}..{summary['weight_max']:.3f} (gray: "
        f"{summary['weight_of_gray']:.3f}), {summary['seconds']}s"
    )
    return summary["weights"]


def _network(config: TrainConfig, folder: RunFolder, state: RunState, class_weights=None):
    """A fresh compiled network (with its optimizer built), or the checkpoint's."""
    from colorization.training.step import build_network, make_loss, make_optimizer

    if state.checkpoint:
        network = load_checkpoint(folder.path / state.checkpoint)
        if not network.optimizer.built:
            network.optimizer.build(network.trainable_variables)
        return network
    network = build_network(config)
    optimizer = make_optimizer(config)
    network.compile(optimizer=optimizer, loss=make_loss(config, class_weights))
    optimizer.build(network.trainable_variables)
    return network
