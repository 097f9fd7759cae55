"""``distribution: multi_host``: the cluster settings read from the environment (explicit,
SLURM, a Kubernetes indexed Job), the checks made before anything starts, the follower's
bookkeeping, and two processes on this machine over loopback training as one process does."""

from __future__ import annotations

import inspect
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from colorization.training.checkpoint import RunFolder, RunState
from colorization.training.config import ConfigError, TrainConfig
from colorization.training.distributed import (
    Cluster,
    cluster_from_environment,
    first_slurm_host,
    join_cluster,
    reach_coordinator,
)
from colorization.training.team import FollowerBook, SilentRecord, Team, stopped_line

EXPLICIT = {
    "COLORIZATION_COORDINATOR": "10.0.0.1:1234",
    "COLORIZATION_NUM_PROCESSES": "4",
    "COLORIZATION_PROCESS_ID": "3",
}
SLURM = {  # what srun sets in each task of a 2-node step, one task per node (a selection)
    "SLURM_JOB_ID": "12345",
    "SLURM_STEP_NODELIST": "gpu[003-004]",
    "SLURM_JOB_NODELIST": "gpu[003-004]",
    "SLURM_NTASKS": "2",
    "SLURM_PROCID": "1",
    "SLURM_LOCALID": "0",
    "SLURM_STEP_NUM_NODES": "2",
    "SLURM_NNODES": "2",
}
KUBERNETES = {  # pod 2 of an indexed Job "train" (completions 4) behind the headless service "train-workers"
    "JOB_COMPLETION_INDEX": "2",
    "HOSTNAME": "train-2",
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "COLORIZATION_COORDINATOR_SERVICE": "train-workers",
    "COLORIZATION_NUM_PROCESSES": "4",
}


def test_no_cluster_in_an_ordinary_environment():
    assert cluster_from_environment({}) is None
    assert cluster_from_environment({"HOME": "/root", "KUBERNETES_SERVICE_HOST": "10.96.0.1"}) is None


def test_explicit_settings_either_name_ours_first():
    assert cluster_from_environment(EXPLICIT) == Cluster("10.0.0.1:1234", 4, 3)
    jax_names = {"JAX_COORDINATOR_ADDRESS": "h:9", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0"}
    assert cluster_from_environment(jax_names) == Cluster("h:9", 2, 0)
    both = cluster_from_environment({**jax_names, **EXPLICIT})
    assert (both.coordinator, both.num_processes, both.process_id) == ("10.0.0.1:1234", 4, 3)
    timeout = cluster_from_environment({**EXPLICIT, "COLORIZATION_JOIN_TIMEOUT": "20"}).timeout
    assert timeout == 20


def test_the_arguments_are_jax_distributed_initializes():
    import jax

    arguments = Cluster("h:1", 2, 1).initialize_arguments()
    assert set(arguments) <= set(inspect.signature(jax.distributed.initialize).parameters)
    assert arguments["cluster_detection_method"] == "deactivate"  # JAX's SLURM detection would pin one GPU


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"COLORIZATION_NUM_PROCESSES": None}, ["COLORIZATION_NUM_PROCESSES not set"]),
        ({"COLORIZATION_NUM_PROCESSES": None, "COLORIZATION_PROCESS_ID": None}, ["NUM_PROCESSES, COLORIZATION_PRO"]),
        ({"COLORIZATION_COORDINATOR": None}, ["COLORIZATION_COORDINATOR not set"]),
        ({"COLORIZATION_PROCESS_ID": "4"}, ["process id 4 must be below", "4"]),
        ({"COLORIZATION_PROCESS_ID": "-1"}, ["COLORIZATION_PROCESS_ID must be a whole number", "'-1'"]),
        ({"COLORIZATION_NUM_PROCESSES": "two"}, ["COLORIZATION_NUM_PROCESSES must be a whole number"]),
        ({"COLORIZATION_NUM_PROCESSES": "0"}, ["COLORIZATION_NUM_PROCESSES must be a whole number >= 1"]),
        ({"COLORIZATION_NUM_PROCESSES": "\u0662"}, ["must be a whole number"]),  # an Arabic-Indic digit
        ({"COLORIZATION_COORDINATOR": "10.0.0.1"}, ["COLORIZATION_COORDINATOR must be host:port"]),
        ({"COLORIZATION_COORDINATOR": ":1234"}, ["must be host:port"]),
        ({"COLORIZATION_COORDINATOR": "h:70000"}, ["port 1..65535"]),
        ({"COLORIZATION_JOIN_TIMEOUT": "soon"}, ["COLORIZATION_JOIN_TIMEOUT must be a whole number"]),
    ],
)
def test_incomplete_or_malformed_settings_are_one_line(changes, words):
    environ = {k: v for k, v in {**EXPLICIT, **changes}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        cluster_from_environment(environ)
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message


def test_slurm_step():
    cluster = cluster_from_environment(SLURM)
    assert cluster == Cluster(f"gpu003:{61440 + 12345 % 4096}", 2, 1, None, "SLURM")
    port = cluster_from_environment({**SLURM, "COLORIZATION_COORDINATOR_PORT": "7000"})
    assert port.coordinator == "gpu003:7000"
    per_gpu = cluster_from_environment({**SLURM, "SLURM_NTASKS": "8", "SLURM_PROCID": "5", "SLURM_LOCALID": "1"})
    assert (per_gpu.num_processes, per_gpu.process_id, per_gpu.local_device_ids) == (8, 5, (1,))
    explicit = cluster_from_environment({**SLURM, **EXPLICIT})
    assert (explicit.coordinator, explicit.process_id, explicit.source) == ("10.0.0.1:1234", 3, "the environment")


def test_slurm_batch_script_without_srun_is_refused():
    batch = {k: v for k, v in SLURM.items() if k != "SLURM_STEP_NODELIST"} | {"SLURM_PROCID": "0"}
    with pytest.raises(ConfigError, match="COLORIZATION_COORDINATOR not set .found SLURM_NTASKS, SLURM_PROCID"):
        cluster_from_environment(batch)


@pytest.mark.parametrize(
    "nodelist, first",
    [
        ("node001", "node001"),
        ("node001,node002", "node001"),
        ("node[001-004]", "node001"),
        ("node[007,009-010],gpu1", "node007"),
        ("n[1-2]-ib,m3", "n1-ib"),
        (" gpu-a ", "gpu-a"),
    ],
)
def test_first_host_of_a_slurm_host_list(nodelist, first):
    assert first_slurm_host(nodelist) == first


def test_kubernetes_indexed_job_and_jobset():
    assert cluster_from_environment(KUBERNETES) == Cluster(
        "train-0.train-workers:55527", 4, 2, None, "a Kubernetes indexed Job"
    )
    jobset = {**KUBERNETES, "HOSTNAME": "run-workers-0-2", "COLORIZATION_COORDINATOR_SERVICE": "run"}
    assert cluster_from_environment(jobset).coordinator == "run-workers-0-0.run:55527"
    named = {k: v for k, v in KUBERNETES.items() if k != "COLORIZATION_COORDINATOR_SERVICE"}
    named["COLORIZATION_COORDINATOR"] = "leader.example:9000"
    assert cluster_from_environment(named).coordinator == "leader.example:9000"


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"COLORIZATION_NUM_PROCESSES": None}, "COLORIZATION_NUM_PROCESSES not set .found COLORIZATION_COORDINATOR_SE"),
        ({"COLORIZATION_COORDINATOR_SERVICE": None}, "COLORIZATION_COORDINATOR not set"),
        ({"HOSTNAME": "worker"}, "HOSTNAME 'worker' is not an indexed Job's pod name"),
        ({"HOSTNAME": None}, "HOSTNAME '' is not"),
        ({"JOB_COMPLETION_INDEX": "x", "HOSTNAME": "train-x"}, "JOB_COMPLETION_INDEX must be a whole number"),
    ],
)
def test_kubernetes_incomplete_settings(changes, words):
    environ = {k: v for k, v in {**KUBERNETES, **changes}.items() if v is not None}
    with pytest.raises(ConfigError, match=words):
        cluster_from_environment(environ)


def test_multi_host_is_checked_before_anything_starts():
    jax_scan = TrainConfig(distribution="multi_host", loop="jax_scan")
    assert join_cluster(TrainConfig(distribution="data_parallel"), "jax", EXPLICIT) is None
    with pytest.raises(ConfigError, match="needs KERAS_BACKEND=jax"):
        join_cluster(jax_scan, "tensorflow", EXPLICIT)
    with pytest.raises(ConfigError, match="needs loop: jax_scan"):
        join_cluster(jax_scan.replace(loop="fit"), "jax", EXPLICIT)
    with pytest.raises(ConfigError, match="found no cluster: set COLORIZATION_COORDINATOR"):
        join_cluster(jax_scan, "jax", {})


def test_the_option_keeps_every_digest():
    config = TrainConfig()
    assert config.replace(distribution="multi_host").digest() == config.digest()
    with pytest.raises(ConfigError, match="distribution must be one of none, data_parallel, multi_host"):
        TrainConfig(distribution="multihost")


def test_a_coordinator_that_never_answers_is_one_line():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConfigError, match=f"process 1 of 2, coordinator 127.0.0.1:{port} .* no coordinator answered"):
        reach_coordinator(Cluster(f"127.0.0.1:{port}", 2, 1, timeout=1), pause=0.2)


def test_what_the_others_are_told_when_a_process_fails():
    assert stopped_line(ConfigError("run/state.json: damaged")) == "run/state.json: damaged"
    line = stopped_line(OSError(28, "No space left on device"))
    assert line == "multi-host training: a process stopped (OSError: [Errno 28] No space left on device)"
    assert "\n" not in stopped_line(RuntimeError("first\nsecond"))


def test_a_team_of_one_is_the_plain_calls():
    team = Team()
    assert team.leads
    assert team.decided_by_leader(lambda: 7, adopt=lambda _: 0) == 7
    assert team.everyone(lambda: 8) == 8
    team.same_everywhere("data", lambda: pytest.fail("not computed for one process"))


def test_a_follower_keeps_the_state_and_writes_nothing(tmp_path):
    folder = RunFolder(tmp_path / "run")
    config = TrainConfig(epochs=3, early_stopping_patience=1)
    book, state = FollowerBook(folder, config, RunState()), None
    for epoch, val_loss in enumerate([0.5, 0.7], start=1):
        stop = book.end_epoch(epoch, {"loss": 1.0, "val_loss": val_loss}, network=None)
    state = book.state
    assert (state.epoch, state.best_epoch, stop) == (2, 1, True)  # the leader's early-stopping rule
    assert book.finish(None) == folder.model_path
    record = SilentRecord()
    record.epoch(1, 16, 1.0, 1.0)
    record.write()
    record.finish("completed", state, None)
    assert list(tmp_path.iterdir()) == [] and record.content == {}


# --- two processes over loopback ------------------------------------------------------

SCRIPT = textwrap.dedent("""
    import json, sys
    from colorization.training.config import ConfigError, TrainConfig
    from colorization.training.data import TrainData, synthetic_images
    from colorization.training.trainer import train

    base = TrainConfig(data="synthetic", synthetic_train=16, synthetic_val=8, input_size=16, batch_size=8,
                       epochs=2, early_stopping_patience=None, verbose=2, learning_rate=1e-3,
                       steps_per_execution=1, loop="jax_scan", output_dir="run")
    rows = lambda result: [[row["loss"], row["val_loss"]] for row in result.state.history]
    report = {}
    if sys.argv[1] == "single":
        report["history"] = rows(train(base))
    else:
        multi = base.replace(distribution="multi_host")
        report["first"] = rows(train(multi.replace(epochs=1, data_placement="host")))  # one epoch, host-fed ...
        resumed = train(multi, resume=True)                     # ... resumed: the leader's state and weights
        report["history"], report["record"] = rows(resumed), resumed.record.get("multi_host")
        report["complete"] = rows(train(multi, resume=True))    # nothing left to train
        for name, config, data in [
            ("taken", multi, None),  # the folder holds a run: no --resume
            ("missing", multi.replace(data="npy", train_path="train.npy", val_path="val.npy", output_dir="npy"), None),
            ("data", multi.replace(output_dir="other"), sys.argv[2] == "1" and TrainData(
                synthetic_images(16, 16, seed=5), synthetic_images(8, 16, seed=6), description="other")),
        ]:
            try:
                train(config, data=data or None)
                report[name] = None
            except ConfigError as error:
                report[name] = str(error)
    print("REPORT", json.dumps(report), flush=True)
""")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(tmp_path: Path, name: str, args: list[str], **env) -> subprocess.Popen:
    folder = tmp_path / name  # each process's own "node": its working directory
    folder.mkdir(exist_ok=True)
    environment = dict(os.environ, KERAS_BACKEND="jax", PYTHONUNBUFFERED="1", **env)
    environment["XLA_FLAGS"] = "--xla_force_host_platform_device_count=1"
    # the resumed run compiles the same programs again: let it find them (each process its own cache)
    environment.update(
        JAX_COMPILATION_CACHE_DIR=str(folder.parent / f"cache-{name}"), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0"
    )
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args], cwd=folder, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _report(process: subprocess.Popen) -> tuple[dict, str]:
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-4000:]
    line = next(x for x in output.splitlines() if x.startswith("REPORT "))
    return json.loads(line[len("REPORT ") :]), output


def _close(a, b):
    assert len(a) == len(b), (a, b)
    for x, y in zip(sum(a, []), sum(b, []), strict=True):
        assert x == pytest.approx(y, rel=1e-4), (a, b)


@pytest.mark.slow
@pytest.mark.subprocess
def test_two_processes_over_loopback_train_as_one(tmp_path):
    pytest.importorskip("jax")
    import numpy as np

    from colorization.training.data import synthetic_images

    single = _start(tmp_path, "single", ["single"])
    (tmp_path / "p0").mkdir()  # process 0's node has the npy arrays, process 1's not
    np.save(tmp_path / "p0" / "train.npy", synthetic_images(16, 16))
    np.save(tmp_path / "p0" / "val.npy", synthetic_images(8, 16))
    cluster = dict(COLORIZATION_COORDINATOR=f"127.0.0.1:{_free_port()}", COLORIZATION_NUM_PROCESSES="2")
    leader = _start(tmp_path, "p0", ["multi", "0"], COLORIZATION_PROCESS_ID="0", **cluster)
    follower = _start(tmp_path, "p1", ["multi", "1"], COLORIZATION_PROCESS_ID="1", **cluster)
    (lead, lead_log), (follow, follow_log) = _report(leader), _report(follower)
    one, _ = _report(single)
    # the same global batch over 2 processes' devices trains as one process does, resumed too
    _close(lead["history"], one["history"])
    _close(lead["first"], one["history"][:1])
    assert follow["history"] == lead["history"] and follow["complete"] == lead["complete"] == lead["history"]
    # every process stops with the leader's line, or with the line of the process whose data differ
    assert "already holds a run; use --resume" in lead["taken"] and follow["taken"] == lead["taken"]
    assert lead["missing"].startswith("process 1 of 2: ") and "train.npy" in lead["missing"]
    assert follow["missing"] == lead["missing"][len("process 1 of 2: ") :]  # its own line, on the node that failed
    assert "process 1 of 2 has other training data than process 0" in lead["data"]
    assert follow["data"] == lead["data"]
    # only process 0 wrote (its run folder) and printed
    written = sorted(p.name for p in (tmp_path / "p0" / "run").iterdir())
    assert written == [
        "best.keras",
        "checkpoints",
        "config.yaml",
        "history.csv",
        "model.keras",
        "run.json",
        "state.json",
    ]
    assert list((tmp_path / "p1").iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "p0").iterdir()) == ["run", "train.npy", "val.npy"]
    assert lead["record"] == {"processes": 2, "source": "the environment"} and follow["record"] is None
    assert len(json.loads((tmp_path / "p0" / "run" / "run.json").read_text())["sessions"]) == 3
    assert "Epoch 2/2" in lead_log and "trained 2 epochs" in lead_log
    assert "Epoch" not in follow_log and "trained" not in follow_log and "uploaded" not in follow_log
