"""A loss or weight that is NaN or infinite stops training at once, loudly, in both loops:
the diverged epoch is never committed (the last good one stays the resume point, and
``best.keras`` / ``model.keras`` keep what they held), ``run.json`` says "failed" and why,
and ``colorization train`` exits with one line and status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from colorization.training.config import TrainConfig
from colorization.training.epoch_end import TrainingDiverged
from tests.conftest import TINY_TRAINING

TINY = TINY_TRAINING
DIVERGING = 1e30  # a finite learning rate that drives this network's loss to NaN in its first epoch


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _committed(files: dict) -> dict:
    """The files an epoch commits (all but config.yaml and run.json)."""
    return {name: content for name, content in files.items() if name not in ("config.yaml", "run.json")}


def poison_checkpoint(run: Path, scale: float = 1e30) -> None:
    """Scale the weights of the run's resume checkpoint by ``scale`` (finite, but the next epoch diverges)."""
    from colorization.model import save_model
    from colorization.training.checkpoint import RunFolder, load_checkpoint

    path = run / RunFolder(run).read_state().checkpoint
    network = load_checkpoint(path)
    network.set_weights([np.asarray(w) * np.asarray(scale, w.dtype) for w in network.get_weights()])
    save_model(network, path)


def test_fit_loop_stops_in_the_first_epoch_and_commits_nothing(tmp_path):
    from colorization.training.trainer import train

    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match="epoch 1 diverged \\(loss nan") as caught:
        train(TrainConfig(**TINY, learning_rate=DIVERGING, output_dir=str(run)))
    assert "no epoch was committed" in str(caught.value) and "\n" not in str(caught.value)
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "run.json"]  # no state, checkpoint or model
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "failed" and record["reason"] == str(caught.value)
    assert record["epochs_completed"] == 0 and record["model"] is None


def test_fit_loop_keeps_the_last_good_epoch(tmp_path):
    from colorization.training.trainer import train

    run = tmp_path / "run"
    config = TrainConfig(**TINY, learning_rate=1e-3, output_dir=str(run))
    train(config.replace(epochs=1))
    poison_checkpoint(run)
    before = _files(run)
    with pytest.raises(TrainingDiverged, match="epoch 2 diverged .*epoch 1, the last good one, stays the resume"):
        train(config, resume=True)
    after = _files(run)
    # nothing of epoch 2: the state, checkpoints, history, best and final models are as they were
    # (a resume rewrites config.yaml, here with epochs 2, and run.json)
    assert _committed(after) == _committed(before) and "checkpoints/epoch-0001.keras" in after
    record = json.loads(after["run.json"])
    assert record["status"] == "failed" and "epoch 2 diverged" in record["reason"]
    assert [s["status"] for s in record["sessions"]] == ["completed", "failed"]
    assert record["epochs_completed"] == 1


def test_cli_exits_2_with_one_line(tmp_path, capsys):
    from colorization.cli import main

    args = ["train", "--set", f"output_dir={tmp_path / 'run'}", "--set", f"learning_rate={DIVERGING}"]
    for key, value in TINY.items():
        args += ["--set", f"{key}={'null' if value is None else value}"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "epoch 1 diverged" in err and "lower learning_rate" in err


def test_non_finite_weights_alone_stop_the_epoch(tmp_path):
    from colorization.training.checkpoint import RunFolder, RunState
    from colorization.training.epoch_end import Bookkeeper, end_epoch
    from colorization.training.step import build_network

    config = TrainConfig(**TINY, output_dir=str(tmp_path))
    network = build_network(config)
    kernel, bias = network.get_layer("conv3").get_weights()
    kernel[0, 0, 0, 0] = np.inf
    network.get_layer("conv3").set_weights([kernel, bias])
    book = Bookkeeper(RunFolder(tmp_path), config, RunState())
    with pytest.raises(TrainingDiverged, match="epoch 1 diverged \\(1 weight value\\(s\\), the first in conv3"):
        end_epoch(book, None, network, 1, {"loss": 0.1, "val_loss": 0.1}, 16, 1.0, 1.0)
    with pytest.raises(TrainingDiverged, match="val_loss inf"):
        end_epoch(book, None, network, 1, {"loss": 0.1, "val_loss": float("inf")}, 16, 1.0, 1.0)
    assert list(tmp_path.iterdir()) == []


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from test_train_diverged import TINY, DIVERGING, _committed, _files, poison_checkpoint
    from colorization.training.config import TrainConfig
    from colorization.training.epoch_end import TrainingDiverged
    from colorization.training.trainer import train

    out, report = Path(sys.argv[1]), {}
    base = TrainConfig(**TINY, loop="jax_scan", steps_per_execution=2, learning_rate=1e-3)
    try:
        train(base.replace(learning_rate=DIVERGING, output_dir=str(out / "fresh")))
    except TrainingDiverged as error:
        report["fresh"] = str(error)
    report["fresh_files"] = sorted(p.name for p in (out / "fresh").iterdir())
    run = out / "resumed"
    train(base.replace(epochs=1, output_dir=str(run)))
    poison_checkpoint(run)
    before = _files(run)
    try:
        train(base.replace(output_dir=str(run)), resume=True)
    except TrainingDiverged as error:
        report["resumed"] = str(error)
    after = _files(run)
    report["unchanged"] = _committed(after) == _committed(before) and "checkpoints/epoch-0001.keras" in after
    report["record"] = json.loads(after["run.json"])
    print("REPORT", json.dumps(report))
""")


@pytest.mark.subprocess
def test_jax_scan_loop_stops_and_keeps_the_last_good_epoch(tmp_path):
    pytest.importorskip("jax")
    environment = dict(os.environ, PYTHONUNBUFFERED="1", KERAS_BACKEND="jax")
    done = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, str(tmp_path), str(Path(__file__).parent)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))[7:])
    assert "epoch 1 diverged (loss nan" in report["fresh"] and "no epoch was committed" in report["fresh"]
    assert report["fresh_files"] == ["config.yaml", "run.json"]
    assert "epoch 2 diverged" in report["resumed"] and "epoch 1, the last good one" in report["resumed"]
    assert report["unchanged"] is True
    record = report["record"]
    assert record["status"] == "failed" and record["reason"] == report["resumed"] and record["epochs_completed"] == 1
