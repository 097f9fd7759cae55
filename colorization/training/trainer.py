"""``train(config)``: configuration -> data -> network -> loop -> trained ``.keras`` and its record.

Two loops share the network, optimizer, loss, batch planner and run-folder format:

``fit``       Keras ``model.fit`` (:mod:`.fit_loop`; any backend, the default, and what
              runs on the CPU with TensorFlow).
``jax_scan``  the lean JAX loop (:mod:`.jax_loop`; jitted ``lax.scan`` over
              ``steps_per_execution`` steps). Needs ``KERAS_BACKEND=jax``.

Everything that can be checked is checked before the run folder is first written
(:mod:`.preflight`, then the network or its checkpoint): a run refused leaves no trace.
A run that fails later records its status and reason in ``run.json``.

``distribution: data_parallel`` spreads each batch over all local devices:
``keras.distribution.DataParallel`` on JAX (its device mesh also drives ``jax_scan``),
``tf.distribute.MirroredStrategy`` on TensorFlow. ``distribution: multi_host`` spreads it
over every process of a cluster (:mod:`.distributed`); process 0 alone writes and prints,
the others follow it (:mod:`.team`). A single process is the same path with a team of one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from colorization.training.checkpoint import RunFolder, RunState, load_checkpoint
from colorization.training.config import ConfigError, TrainConfig
from colorization.training.data import TrainData, load_train_data
from colorization.training.distributed import distribution_for, join_cluster
from colorization.training.epoch_end import Bookkeeper, TrainingDiverged
from colorization.training.preflight import check_data, open_run_folder
from colorization.training.record import RunRecord
from colorization.training.team import SilentRecord, Team, data_fingerprint


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
        For problems the user can fix (a taken or unusable folder, a changed configuration,
        a damaged or foreign state or checkpoint, data that does not fit the configuration,
        a loop the backend cannot run; for ``multi_host``, cluster settings or data that do
        not agree); nothing is written then. Every process of a multi-host run calls this.
    TrainingDiverged
        When an epoch's loss or weights are not finite; the last good epoch stays committed.
    """
    import keras

    backend = keras.backend.backend()
    if config.loop == "jax_scan" and backend != "jax":
        raise ConfigError(f"loop: jax_scan needs KERAS_BACKEND=jax (the backend is {backend})")
    team = Team(join_cluster(config, backend))
    with team.quiet():
        return _train(config, resume, data, team, backend)


def _train(config: TrainConfig, resume: bool, data: TrainData | None, team: Team, backend: str) -> TrainResult:
    """:func:`train` for this process of ``team`` (the leader reads and writes the run folder)."""
    import keras

    # everything that can be checked before the run folder is written
    folder, state = team.decided_by_leader(
        lambda: open_run_folder(config, resume),
        share=lambda opened: asdict(opened[1]),
        adopt=lambda shared: (RunFolder(config.output_dir), RunState(**shared)),
    )
    given = data
    data = team.everyone(lambda: given if given is not None else load_train_data(config))
    scope, mesh, replicas = distribution_for(config, backend)
    team.everyone(lambda: check_data(config, data, replicas))
    team.same_everywhere("training data", lambda: data_fingerprint(data))
    if state.epoch >= config.epochs or state.stopped_early:
        return team.decided_by_leader(
            lambda: _already_complete(config, folder, state, data),
            adopt=lambda _: TrainResult(folder.model_path, folder.path, state, {}),
        )
    rebalancing = _rebalancing(config, data)
    class_weights = rebalancing["weights"] if rebalancing else None
    keras.utils.set_random_seed(config.seed)
    with scope:
        network = team.decided_by_leader(  # a checkpoint that does not fit: ConfigError
            lambda: _network(config, folder, state, class_weights),
            adopt=lambda _: _fresh_network(config, class_weights),
        )
        team.same_weights(network)
        # the run folder, the loop, the model and its record
        record = team.decided_by_leader(
            lambda: _begin_record(config, folder, data, state, rebalancing, team), adopt=lambda _: SilentRecord()
        )
        model_path = _train_recorded(config, folder, state, data, record, network, mesh, class_weights, team)
    stop = " (early stopping)" if state.stopped_early else ""
    _log(
        f"trained {state.epoch} epochs{stop}; best val_loss {state.best_val_loss} at epoch {state.best_epoch}; "
        f"model: {model_path}"
    )
    return TrainResult(model_path, folder.path, state, record.content)


def _begin_record(
    config: TrainConfig, folder: RunFolder, data: TrainData, state: RunState, rebalancing: dict | None, team: Team
) -> RunRecord:
    """:func:`begin_writing`, and what this run adds to the record (rebalancing, initial weights, cluster)."""
    record = begin_writing(folder, config, data, state)
    if rebalancing:
        record.add("rebalancing", rebalancing)
    if config.init_weights:
        from colorization.training.init_weights import describe_init

        record.add("init_weights", describe_init(config.init_weights))
    if team.cluster is not None:
        cluster = team.cluster
        record.add("multi_host", {"processes": cluster.num_processes, "source": cluster.source})
    return record


def begin_writing(folder: RunFolder, config: TrainConfig, data: TrainData, state: RunState) -> RunRecord:
    """The run's first writes: its folder, the stale temporaries of a write cut short removed,
    ``run.json`` and ``config.yaml``. A folder this call created is removed again if they fail."""
    absolute = Path(os.path.abspath(folder.path))
    created = [p for p in (absolute, *absolute.parents) if not os.path.lexists(p)]  # deepest first
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        for stale in folder.remove_stale_temporaries():
            _log(f"removed {stale} (the temporary file of a write cut short)")
        record = RunRecord(folder.record_path, config, data, state.epoch)
        folder.write_config(config)
    except OSError as error:
        if created:
            shutil.rmtree(created[0], ignore_errors=True)
        for path in created[1:]:
            with contextlib.suppress(OSError):
                path.rmdir()
        where = error.filename or folder.path
        raise ConfigError(f"{where}: cannot write ({error.strerror or error}); choose another output_dir") from None
    return record


def _already_complete(config: TrainConfig, folder: RunFolder, state: RunState, data: TrainData) -> TrainResult:
    """A resumed run with nothing left to train: (re)write ``model.keras`` and the record."""
    _log(f"{folder.path}: already complete ({state.epoch} epochs)")
    network = load_checkpoint(folder.path / state.checkpoint, config)
    record = begin_writing(folder, config, data, state)
    model_path = Bookkeeper(folder, config, state).finish(network)
    record.finish("completed", state, model_path)
    return TrainResult(model_path, folder.path, state, record.content)


def _train_recorded(
    config: TrainConfig,
    folder: RunFolder,
    state: RunState,
    data: TrainData,
    record: RunRecord,
    network,
    mesh,
    class_weights,
    team: Team,
) -> Path:
    """:func:`_run_loop`; the record closes with how it ended (completed, failed, interrupted),
    why when it did not complete, and, when it did, the model file."""
    from colorization.weights import plain_line

    status, model_path, reason = "failed", None, None
    try:
        model_path = _run_loop(config, folder, state, data, record, network, mesh, class_weights, team)
        status = "completed"
    except KeyboardInterrupt:
        status, reason = "interrupted", "interrupted (KeyboardInterrupt)"
        raise
    except (ConfigError, TrainingDiverged) as error:
        reason = str(error)
        raise
    except Exception as error:
        reason = plain_line(f"{type(error).__name__}: {error}")[:500]
        raise
    finally:
        with contextlib.suppress(OSError) if status != "completed" else contextlib.nullcontext():
            record.finish(status, state, model_path, reason)  # a failed run's own error comes first
    return model_path


def _run_loop(
    config: TrainConfig,
    folder: RunFolder,
    state: RunState,
    data: TrainData,
    record: RunRecord,
    network,
    mesh,
    class_weights,
    team: Team,
) -> Path:
    """Run the configured loop on ``network``, write ``model.keras`` (the team's leader)."""
    if config.loop == "fit":
        from colorization.training.fit_loop import run_fit

        book = team.bookkeeper(folder, config, state)
        run_fit(config, network, data, state, book, record, class_weights)
    else:
        from colorization.training.jax_loop import run_jax_scan

        with ThreadPoolExecutor(1, thread_name_prefix="checkpoint") as writer:
            book = team.bookkeeper(folder, config, state, writer=writer)
            run_jax_scan(config, network, data, state, book, record, mesh, class_weights)
            book.wait()
    return book.finish(network)


def _rebalancing(config: TrainConfig, data: TrainData) -> dict | None:
    """Classification head: the class-rebalancing summary of the training images (its
    ``weights``; run.json records it); None for the paper's regression head."""
    if config.head != "classification":
        return None
    from colorization.ablation.quantize import rebalancing_from_images

    t0 = time.perf_counter()
    summary = rebalancing_from_images(data.train, lam=config.rebalance_lambda)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    _log(
        f"class rebalancing: {summary['bins']} bins ({summary['bins_seen']} seen in {summary['images']} training "
        f"images), weights {summary['weight_min']:.3f}..{summary['weight_max']:.3f} (gray: "
        f"{summary['weight_of_gray']:.3f}), {summary['seconds']}s"
    )
    return summary


def _network(config: TrainConfig, folder: RunFolder, state: RunState, class_weights=None):
    """A fresh compiled network (with its optimizer built, from ``init_weights`` if set), or the checkpoint's."""
    if state.checkpoint:
        network = load_checkpoint(folder.path / state.checkpoint, config)
        if not network.optimizer.built:
            network.optimizer.build(network.trainable_variables)
        return network
    return _fresh_network(config, class_weights, config.init_weights)


def _fresh_network(config: TrainConfig, class_weights=None, init_weights: str | None = None):
    """The configured network, compiled, its optimizer built; starting from ``init_weights`` if given."""
    from colorization.training.step import build_network, make_loss, make_optimizer

    network = build_network(config)
    if init_weights:
        from colorization.training.init_weights import start_from

        start_from(network, init_weights)
    optimizer = make_optimizer(config)
    network.compile(optimizer=optimizer, loss=make_loss(config, class_weights))
    optimizer.build(network.trainable_variables)
    return network
