"""Same trainer, other backends and several devices (CPU only, in subprocesses).

JAX (2 host devices through XLA_FLAGS): Keras ``fit`` and the lean ``jax_scan`` loop give
the same losses from the same seed; a run started with one loop resumes with the other
and matches an uninterrupted run (the hint network's simulated points too); ``data_parallel``
(keras.distribution.DataParallel, and the jax_scan mesh) computes the same first epoch as one device.
TensorFlow (2 logical CPUs): ``tf.distribute.MirroredStrategy`` trains the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

COMMON = textwrap.dedent("""
    import json, sys
    from colorization.training.config import TrainConfig
    from colorization.training.trainer import train

    base = TrainConfig(data="synthetic", synthetic_train=16, synthetic_val=8, input_size=16, batch_size=8,
                       epochs=2, early_stopping_patience=None, verbose=0, learning_rate=1e-3,
                       steps_per_execution=2)
    out = sys.argv[1]

    def losses(name, resume=False, **changes):
        result = train(base.replace(output_dir=f"{out}/{name}", **changes), resume=resume)
        return [[row["loss"], row["val_loss"]] for row in result.state.history]
""")

JAX_SCRIPT = COMMON + textwrap.dedent("""
    import time
    import jax
    assert len(jax.devices()) == 2, jax.devices()
    report, seconds = {}, {}
    for name, resume, changes in [
        ("switch", False, dict(loop="fit")),                   # fit for 2 epochs ...
        ("switch", True, dict(loop="jax_scan", epochs=3)),     # ... resumed by jax_scan
        ("scan", False, dict(loop="jax_scan", epochs=3)),
        ("host", False, dict(loop="jax_scan", data_placement="host", epochs=1)),
        ("fit_dp", False, dict(loop="fit", distribution="data_parallel", epochs=1)),
        ("scan_dp", False, dict(loop="jax_scan", distribution="data_parallel", epochs=1)),
        ("hints_fit", False, dict(loop="fit", hints=True, epochs=1)),  # the hint network's simulated points
        ("hints_scan", False, dict(loop="jax_scan", hints=True, epochs=1)),
        ("hints_scan_dp", False, dict(loop="jax_scan", hints=True, distribution="data_parallel", epochs=1)),
    ]:
        start = time.perf_counter()
        report[name] = losses(name, resume=resume, **changes)
        seconds[name] = round(time.perf_counter() - start, 1)
    print("SECONDS", seconds)
    print("REPORT", json.dumps(report))
""")

TF_SCRIPT = (
    textwrap.dedent("""
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
""")
    + COMMON
    + textwrap.dedent("""
    report = {"one": losses("one", epochs=1), "mirrored": losses("mirrored", epochs=1, distribution="data_parallel")}
    record = json.load(open(f"{out}/mirrored/run.json"))
    report["devices"] = record["devices"]
    print("REPORT", json.dumps(report))
""")
)


def _run(script: str, tmp_path, **env) -> dict:
    environment = dict(os.environ, PYTHONUNBUFFERED="1", **env)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))
    return json.loads(line[len("REPORT ") :])


def _close(a, b, rtol):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, rel=rtol), (a, b)


def test_jax_loops_agree_resume_across_loops_and_data_parallel(tmp_path):
    report = _run(JAX_SCRIPT, tmp_path, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    # fit for 2 epochs then jax_scan for the 3rd = jax_scan for 3: the two loops share the
    # model, optimizer, loss, batches and checkpoint format
    _close(report["switch"], report["scan"], 1e-4)
    _close(report["host"], report["scan"][:1], 1e-4)  # host-fed chunks = device-resident data
    _close(report["fit_dp"], report["scan"][:1], 1e-3)  # batch split over 2 devices
    _close(report["scan_dp"], report["scan"][:1], 1e-3)
    # the hint network: both loops paint the same points (planned on the host), on one or two devices
    _close(report["hints_fit"], report["hints_scan"], 1e-4)
    _close(report["hints_scan_dp"], report["hints_scan"], 1e-3)
    assert report["hints_scan"] != report["scan"][:1]  # the points reach the network


def test_tensorflow_mirrored_strategy_on_two_logical_cpus(tmp_path):
    report = _run(TF_SCRIPT, tmp_path, KERAS_BACKEND="tensorflow")
    assert sum("CPU" in d for d in report["devices"]) == 2
    _close(report["mirrored"], report["one"], 1e-3)
