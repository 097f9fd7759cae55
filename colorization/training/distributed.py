"""Training over several processes (hosts): ``distribution: multi_host`` on JAX's distributed runtime.

Every process runs the same command with the same configuration and reads the same data;
``jax.distributed`` joins them into one set of devices, the lean loop (``loop: jax_scan``)
builds its ``"batch"`` mesh over all of them, and each process places its own devices'
shares of every batch (every process plans the same seeded batches). Process 0 alone
touches the run folder and prints (:mod:`colorization.training.team`).

Who is who comes from the environment (:func:`cluster_from_environment`, a pure function:
each setting from the first source that has it; an explicit variable wins):

======================  ================================  ===================================================
setting                 explicit (either name)            from the scheduler
======================  ================================  ===================================================
coordinator host:port   COLORIZATION_COORDINATOR,         SLURM: the step's first node (``SLURM_STEP_NODELIST``),
                        JAX_COORDINATOR_ADDRESS           port 61440 + ``SLURM_JOB_ID`` % 4096 (JAX's rule);
                                                          Kubernetes indexed Job: ``<job>-0.<service>:55527``
                                                          from ``HOSTNAME`` and COLORIZATION_COORDINATOR_SERVICE
number of processes     COLORIZATION_NUM_PROCESSES,       SLURM: ``SLURM_NTASKS``
                        JAX_NUM_PROCESSES
this process's index    COLORIZATION_PROCESS_ID,          SLURM: ``SLURM_PROCID``; Kubernetes:
                        JAX_PROCESS_ID                    ``JOB_COMPLETION_INDEX``
======================  ================================  ===================================================

COLORIZATION_COORDINATOR_PORT (or JAX_COORDINATOR_PORT) replaces a derived port, COLORIZATION_JOIN_TIMEOUT
(seconds, default 300) bounds the wait for the others. A SLURM task sees its node's devices (one if several per node).

Why a value of its own, not ``data_parallel`` spanning the processes the environment names:
SLURM sets its variables in every job, single-task ones too, so an unchanged configuration
would start waiting for a coordinator; and ``multi_host`` without a cluster stops with one
line instead of quietly training on one host. ``distribution`` is not in the run's digest:
a run may resume with another value (the global batch, so the training, is the same).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from colorization.training.config import ConfigError, TrainConfig

COORDINATOR = ("COLORIZATION_COORDINATOR", "JAX_COORDINATOR_ADDRESS")
NUM_PROCESSES = ("COLORIZATION_NUM_PROCESSES", "JAX_NUM_PROCESSES")
PROCESS_ID = ("COLORIZATION_PROCESS_ID", "JAX_PROCESS_ID")
PORT = ("COLORIZATION_COORDINATOR_PORT", "JAX_COORDINATOR_PORT")
SERVICE = "COLORIZATION_COORDINATOR_SERVICE"
JOIN_TIMEOUT = "COLORIZATION_JOIN_TIMEOUT"
KUBERNETES_PORT = 55527  # JAX's own port for Kubernetes
SETTINGS = {"coordinator": COORDINATOR[0], "num_processes": NUM_PROCESSES[0], "process_id": PROCESS_ID[0]}
RECIPE = "see docs/multihost.md"


@dataclass(frozen=True)
class Cluster:
    """This process's place in a multi-host run."""

    coordinator: str  # host:port of process 0's coordination service
    num_processes: int
    process_id: int
    local_device_ids: tuple[int, ...] | None = None  # the devices this process uses (None: all it sees)
    source: str = "the environment"  # or SLURM, a Kubernetes indexed Job
    timeout: int = 300  # seconds to wait for every process to join

    def initialize_arguments(self) -> dict:
        """Keyword arguments of ``jax.distributed.initialize`` (JAX's own detection off: these are final)."""
        ids = None if self.local_device_ids is None else list(self.local_device_ids)
        return dict(
            coordinator_address=self.coordinator,
            num_processes=self.num_processes,
            process_id=self.process_id,
            local_device_ids=ids,
            cluster_detection_method="deactivate",
            initialization_timeout=self.timeout,
        )

    def describe(self) -> str:
        return f"process {self.process_id} of {self.num_processes}, coordinator {self.coordinator} ({self.source})"


def cluster_from_environment(environ: Mapping[str, str]) -> Cluster | None:
    """The cluster that ``environ`` describes, or None when it names none.

    Raises
    ------
    ConfigError
        One line for incomplete or malformed settings, naming the variable.
    """
    source, settings = _scheduler_settings(environ)
    for key, names in (("coordinator", COORDINATOR), ("num_processes", NUM_PROCESSES), ("process_id", PROCESS_ID)):
        name = next((n for n in names if environ.get(n, "").strip()), None)
        if name:
            settings[key] = (environ[name].strip(), name)
    if not settings:
        return None
    scheduled = {name for _, name in settings.values()} - set(COORDINATOR + NUM_PROCESSES + PROCESS_ID)
    source = source if scheduled else "the environment"
    missing = [variable for key, variable in SETTINGS.items() if key not in settings]
    if missing:
        found = ", ".join(sorted({name for _, name in settings.values()}))
        raise ConfigError(f"multi-host training: {', '.join(missing)} not set (found {found}); {RECIPE}")
    count = _whole_number(*settings["num_processes"], minimum=1)
    index = _whole_number(*settings["process_id"], minimum=0)
    if index >= count:
        raise ConfigError(f"multi-host training: process id {index} must be below the number of processes {count}")
    timeout = _whole_number(environ.get(JOIN_TIMEOUT, "300"), JOIN_TIMEOUT, minimum=1)
    devices = _slurm_local_devices(environ) if source == "SLURM" else None
    return Cluster(_address(*settings["coordinator"]), count, index, devices, source, timeout)


def _scheduler_settings(environ: Mapping[str, str]) -> tuple[str, dict]:
    """``(source, {setting: (text, variable)})`` that a Kubernetes indexed Job or a SLURM step sets."""
    if "JOB_COMPLETION_INDEX" in environ:
        return "a Kubernetes indexed Job", _kubernetes_settings(environ)
    if "SLURM_PROCID" in environ and "SLURM_NTASKS" in environ:
        return "SLURM", _slurm_settings(environ)
    return "the environment", {}


def _kubernetes_settings(environ: Mapping[str, str]) -> dict:
    """The process id: the completion index; the coordinator: pod 0 (``<job>-0.<service>``, from HOSTNAME)."""
    index = environ["JOB_COMPLETION_INDEX"].strip()
    settings = {"process_id": (index, "JOB_COMPLETION_INDEX")}
    service = environ.get(SERVICE, "").strip()
    if service:
        host, suffix = environ.get("HOSTNAME", "").strip(), f"-{index}"
        if not host.endswith(suffix) or host == suffix:
            raise ConfigError(
                f"multi-host training: HOSTNAME {host!r} is not an indexed Job's pod name (<job>{suffix}); "
                f"set {COORDINATOR[0]} instead of {SERVICE}; {RECIPE}"
            )
        port = _port(environ, KUBERNETES_PORT)
        settings["coordinator"] = (f"{host[: -len(suffix)]}-0.{service}:{port}", SERVICE)
    return settings


def _slurm_settings(environ: Mapping[str, str]) -> dict:
    """Process count and id of the SLURM step; the coordinator on its first node (JAX's rule)."""
    settings = {
        "num_processes": (environ["SLURM_NTASKS"], "SLURM_NTASKS"),
        "process_id": (environ["SLURM_PROCID"], "SLURM_PROCID"),
    }
    nodes = environ.get("SLURM_STEP_NODELIST", "").strip()
    if nodes:
        job = _whole_number(environ.get("SLURM_JOB_ID", ""), "SLURM_JOB_ID", minimum=0)
        port = _port(environ, 61440 + job % 4096)
        settings["coordinator"] = (f"{first_slurm_host(nodes)}:{port}", "SLURM_STEP_NODELIST")
    return settings


def _slurm_local_devices(environ: Mapping[str, str]) -> tuple[int, ...] | None:
    """One device per task when a node runs several tasks (``SLURM_LOCALID``); all of them otherwise."""
    nodes = environ.get("SLURM_STEP_NUM_NODES") or environ.get("SLURM_NNODES")
    tasks, local = environ.get("SLURM_NTASKS", ""), environ.get("SLURM_LOCALID", "")
    if not (nodes and nodes.isdigit() and tasks.isdigit() and local.isdigit()) or int(tasks) <= int(nodes):
        return None
    return (int(local),)


def first_slurm_host(nodelist: str) -> str:
    """The first host of a SLURM host list: ``node[003-008,011],gpu1`` -> ``node003``."""
    match = re.match(r"([^,\[]*)(?:\[([^\]]*)\])?([^,]*)", nodelist.strip())
    prefix, ranges, suffix = match.groups()
    return prefix + (re.split(r"[,-]", ranges)[0] if ranges else "") + suffix


def _port(environ: Mapping[str, str], default: int) -> str:
    name = next((n for n in PORT if environ.get(n, "").strip()), None)
    return environ[name].strip() if name else str(default)


def _whole_number(text: str, name: str, minimum: int) -> int:
    if not re.fullmatch(r"\d+", text.strip(), re.ASCII) or int(text) < minimum:
        raise ConfigError(f"multi-host training: {name} must be a whole number >= {minimum}; got {text!r}")
    return int(text)


def _address(text: str, name: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not re.fullmatch(r"\d+", port, re.ASCII) or not 0 < int(port) < 65536:
        raise ConfigError(f"multi-host training: {name} must be host:port (port 1..65535); got {text!r}")
    return text


def join_cluster(config: TrainConfig, backend: str, environ: Mapping[str, str] | None = None) -> Cluster | None:
    """``distribution: multi_host``: this process's :class:`Cluster`, JAX's distributed runtime
    started (or, in a later run of the same processes, checked); None for the other distributions.

    Raises
    ------
    ConfigError
        Not JAX, not ``loop: jax_scan``, no cluster in the environment, no coordinator answering.
    """
    if config.distribution != "multi_host":
        return None
    if backend != "jax":
        raise ConfigError(f"distribution: multi_host needs KERAS_BACKEND=jax (the backend is {backend})")
    if config.loop != "jax_scan":
        raise ConfigError(
            "distribution: multi_host needs loop: jax_scan (Keras fit would need each process to feed only its "
            "share of every batch)"
        )
    cluster = cluster_from_environment(os.environ if environ is None else environ)
    if cluster is None:
        names = ", ".join(SETTINGS.values())
        raise ConfigError(
            f"distribution: multi_host found no cluster: set {names} (or use srun, an indexed Job); {RECIPE}"
        )
    _start_runtime(cluster)
    return cluster


def _start_runtime(cluster: Cluster) -> None:
    """``jax.distributed.initialize`` with the cluster's settings (once per process)."""
    import jax

    if jax.distributed.is_initialized():
        if (jax.process_index(), jax.process_count()) != (cluster.process_id, cluster.num_processes):
            raise ConfigError(
                f"multi-host training: this Python process already joined another cluster (process "
                f"{jax.process_index()} of {jax.process_count()}); start a new one"
            )
        return
    if cluster.process_id != 0:
        reach_coordinator(cluster)
    else:
        print(f"multi-host training: {cluster.describe()}; waiting for every process", flush=True)
    try:  # JAX ends the process itself when the others do not all join within the timeout
        jax.distributed.initialize(**cluster.initialize_arguments())
    except (RuntimeError, ValueError) as error:
        raise ConfigError(f"multi-host training: {cluster.describe()}: {_first_line(error)}; {RECIPE}") from None


def reach_coordinator(cluster: Cluster, pause: float = 1.0) -> None:
    """Wait until the coordinator accepts a connection (a name not yet in DNS, a port not yet open:
    tried again) for up to ``cluster.timeout`` seconds; then one :class:`ConfigError` line."""
    host, _, port = cluster.coordinator.rpartition(":")
    deadline = time.monotonic() + cluster.timeout
    while True:
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=min(5, cluster.timeout)):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"multi-host training: {cluster.describe()}: no coordinator answered within {cluster.timeout}s "
                    f"({_first_line(error)}); start process 0, or correct the address; {RECIPE}"
                ) from None
            time.sleep(pause)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "strerror", None) or error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def distribution_for(config: TrainConfig, backend: str):
    """``(context manager, jax mesh or None, number of devices)`` of ``config.distribution``.

    ``data_parallel``: all local devices (``keras.distribution.DataParallel`` on JAX, its
    device mesh also the lean loop's; ``tf.distribute.MirroredStrategy`` on TensorFlow).
    ``multi_host``: the ``"batch"`` mesh over every process's devices (after :func:`join_cluster`);
    the Keras variables stay on this process's device, the loop's state is replicated over the mesh.
    """
    if config.distribution == "none":
        return contextlib.nullcontext(), None, 1
    if config.distribution == "multi_host":
        import jax

        mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
        return contextlib.nullcontext(), mesh, mesh.size
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
