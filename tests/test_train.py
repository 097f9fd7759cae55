"""The trainer on the CPU (TensorFlow, in process): Lab inside the step, a tiny run, its files."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from colorization.lab import rgb_to_lab
from colorization.training.config import ConfigError, TrainConfig
from tests.conftest import TINY_TRAINING

TINY = TINY_TRAINING


def test_lab_batch_matches_scikit_image_and_flips():
    from keras import ops

    from colorization.fast.lab_ops import lab_batch

    rgb = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    lightness, ab = (ops.convert_to_numpy(t) for t in lab_batch(rgb, np.array([False, True, False])))
    reference = rgb_to_lab(rgb.copy())
    reference[1] = reference[1, :, ::-1]
    assert lightness.shape == (3, 8, 8, 1) and ab.shape == (3, 8, 8, 2)
    np.testing.assert_allclose(lightness[..., 0] * 50 + 50, reference[..., 0], atol=0.01)
    np.testing.assert_allclose(ab * 128, reference[..., 1:], atol=0.01)


def test_tiny_fit_run_writes_everything(tmp_path):
    from colorization.model import load_model
    from colorization.training.trainer import train

    config = TrainConfig(**TINY, output_dir=str(tmp_path / "run"))
    result = train(config)
    run = tmp_path / "run"
    rows = list(csv.DictReader(open(run / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert all(math.isfinite(float(r["loss"])) and math.isfinite(float(r["val_loss"])) for r in rows)
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2 and state["checkpoint"] == "checkpoints/epoch-0002.keras"
    assert (run / state["checkpoint"]).is_file() and (run / "best.keras").is_file()
    model = load_model(result.model_path)  # float32 inference model
    assert model.count_params() == 3_892_194 and model.input_shape == (None, 16, 16, 1)
    record = json.loads((run / "run.json").read_text())
    assert record == json.loads(json.dumps(result.record, default=str))  # the result carries the run record
    assert record["status"] == "completed" and record["keras_backend"] == "tensorflow"
    assert record["config"]["batch_size"] == 8 and record["devices"]
    assert record["data"]["train_images"] == 16 and record["data"]["manifest_hash"]
    assert {"commit", "dirty"} <= set(record["git"]) and "keras" in record["packages"]
    session = record["sessions"][-1]
    assert session["end_epoch"] == 2 and session["images_per_s"] > 0 and session["wall_seconds"] > 0

    with pytest.raises(ConfigError, match="already holds a run"):
        train(config)
    with pytest.raises(ConfigError, match="learning_rate"):
        train(config.replace(learning_rate=1e-2), resume=True)
    done = train(config, resume=True)  # nothing left to do
    assert done.state.epoch == 2


def test_cli_train_reports_config_errors(capsys):
    from colorization.cli import main

    assert main(["train", "--set", "loop=nope"]) == 2
    assert "loop must be one of" in capsys.readouterr().err
    assert main(["train", "--set", "epochs=3", "--print-config"]) == 0
    assert "epochs: 3" in capsys.readouterr().out


def test_bookkeeper_best_early_stopping_and_pruning(tmp_path):
    from colorization.training.checkpoint import RunFolder, RunState
    from colorization.training.epoch_end import Bookkeeper
    from colorization.training.step import build_network, make_loss, make_optimizer

    config = TrainConfig(
        **{**TINY, "epochs": 10, "early_stopping_patience": 2, "keep_checkpoints": 2}, output_dir=str(tmp_path)
    )
    network = build_network(config)
    network.compile(optimizer=make_optimizer(config), loss=make_loss(config))
    folder = RunFolder(tmp_path)
    book = Bookkeeper(folder, config, RunState())
    stops = [
        book.end_epoch(e, {"loss": 1.0 / e, "val_loss": v}, network)
        for e, v in enumerate([1.0, 0.5, 0.6, 0.7], start=1)
    ]
    assert stops == [False, False, False, True]
    state = folder.read_state()
    assert (state.epoch, state.best_epoch, state.best_val_loss, state.wait) == (4, 2, 0.5, 2)
    assert state.stopped_early is True
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-0003.keras", "epoch-0004.keras"]
    assert (tmp_path / "best.keras").is_file()
    assert [int(r["epoch"]) for r in csv.DictReader(open(tmp_path / "history.csv"))] == [1, 2, 3, 4]


def test_early_stopping_rule():
    from colorization.training.checkpoint import RunState
    from colorization.training.early_stopping import observe_epoch

    config = TrainConfig(**{**TINY, "epochs": 6, "early_stopping_patience": 2, "min_delta": 0.1})
    state = RunState()
    verdicts = [observe_epoch(state, e, v, config) for e, v in enumerate([1.0, 0.95, float("nan"), 0.8], start=1)]
    # 0.95 is not better by more than min_delta, NaN never improves: the patience of 2 runs out at epoch 3
    assert verdicts == [(True, False), (False, False), (False, True), (True, False)]
    assert (state.best_val_loss, state.best_epoch, state.wait, state.stopped_early) == (0.8, 4, 0, False)
    assert observe_epoch(state, 6, 0.9, config.replace(early_stopping_patience=1)) == (False, True)
    assert state.stopped_early is False  # the last epoch: not stopped early
    assert observe_epoch(state, 5, 0.9, config.replace(early_stopping_patience=None)) == (False, False)
