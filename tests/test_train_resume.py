"""Nothing lost: a training process killed with SIGKILL resumes from its last checkpoint."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

EPOCHS = 7


def _cli(run: Path, *extra: str) -> list[str]:
    settings = dict(
        data="synthetic",
        synthetic_train=16,
        synthetic_val=8,
        input_size=16,
        batch_size=8,
        epochs=EPOCHS,
        early_stopping_patience="null",
        learning_rate="1e-3",
        output_dir=str(run),
    )
    args = [sys.executable, "-m", "colorization", "train"]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    return args + list(extra)


def _epoch(run: Path) -> int:
    try:
        return json.loads((run / "state.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_then_resume_reaches_all_epochs(tmp_path):
    run = tmp_path / "run"
    env = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(_cli(run), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while _epoch(run) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    output = process.communicate()[0].decode(errors="replace")
    assert process.returncode == -signal.SIGKILL, output
    killed_at = _epoch(run)
    assert 2 <= killed_at < EPOCHS, output
    checkpoint = json.loads((run / "state.json").read_text())["checkpoint"]
    assert (run / checkpoint).is_file()

    resumed = subprocess.run(_cli(run, "--resume"), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming {run} after epoch {killed_at}" in resumed.stdout

    rows = list(csv.DictReader(open(run / "history.csv")))
    losses = [float(r["loss"]) for r in rows]
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    assert all(math.isfinite(x) for x in losses) and losses[-1] < losses[0], losses
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == EPOCHS and (run / "model.keras").is_file()
    # the optimizer's state travelled too: its step counter counts every epoch's 2 steps
    with zipfile.ZipFile(run / state["checkpoint"]) as archive:
        import h5py

        with archive.open("model.weights.h5") as handle, h5py.File(handle) as weights:
            iterations = int(weights["optimizer/vars/0"][()])
    assert iterations == 2 * EPOCHS
    sessions = json.loads((run / "run.json").read_text())["sessions"]
    assert [s["start_epoch"] for s in sessions] == [0, killed_at] and sessions[-1]["end_epoch"] == EPOCHS
