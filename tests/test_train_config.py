"""Training configuration: YAML, --set overrides, validation, resume rules (no Keras needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from colorization.data.batches import plan_epoch
from colorization.training.config import ConfigError, TrainConfig, resume_differences
from colorization.training.config_file import load_config, parse_overrides
from colorization.training.data import synthetic_images

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_defaults_follow_paper_and_calibration():
    config = TrainConfig()
    assert (config.input_size, config.loss) == (256, "mse")  # paper
    assert (config.optimizer, config.learning_rate, config.batch_size) == ("adam", 5e-4, 64)  # docs/measurements.md
    assert config.flip and config.restore_best and config.loop == "fit"


def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 4\nlearning_rate: 1e-3\nprecision: mixed_bfloat16\n")
    config = load_config(path, ["epochs=7", "flip=false", "early_stopping_patience=null", "output_dir=out/x"])
    assert config.epochs == 7 and config.learning_rate == 1e-3 and config.precision == "mixed_bfloat16"
    assert config.flip is False and config.early_stopping_patience is None and config.output_dir == "out/x"
    assert isinstance(load_config(None, ["learning_rate=1"]).learning_rate, float)


@pytest.mark.parametrize(
    "override, message",
    [
        ("epochs=0", "at least 1"),
        ("loop=keras", "loop must be one of"),
        ("learnig_rate=1", "unknown configuration field"),
        ("epochs=two", "epochs must be int"),
        ("input_size=100", "divisible by 8"),
        ("novalue", "key=value"),
        ("data=npy", "train_path and val_path"),
    ],
)
def test_bad_values_are_one_line_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_shipped_configs_load():
    for path in sorted(CONFIGS.glob("*.yaml")):
        load_config(path)


def test_parse_overrides_types():
    parsed = parse_overrides(["a=1", "b=0.5", "c=true", "d=text", "e="])
    assert parsed == {"a": 1, "b": 0.5, "c": True, "d": "text", "e": None}


def test_resume_allows_only_how_not_what():
    saved = TrainConfig(epochs=3)
    assert resume_differences(saved, saved.replace(epochs=9, loop="jax_scan", verbose=0)) == []
    assert resume_differences(saved, saved.replace(learning_rate=1e-2)) == ["learning_rate: 0.0005 -> 0.01"]


def test_epoch_plan_depends_on_seed_and_epoch_only():
    """The trainer's batches (colorization.data.batches.plan_epoch): what resume relies on."""
    order, flips = plan_epoch(10, 4, seed=1, epoch=3, flip=True)
    again, flips_again = plan_epoch(10, 4, seed=1, epoch=3, flip=True)
    assert order.shape == flips.shape == (2, 4) and len(set(order.ravel())) == 8
    assert np.array_equal(order, again) and np.array_equal(flips, flips_again)
    assert not np.array_equal(order, plan_epoch(10, 4, seed=1, epoch=4, flip=True)[0])
    assert not plan_epoch(10, 4, seed=1, epoch=3, flip=False)[1].any()
    # the seeding of every trained run so far: rng([seed, epoch, 0x5EED]), order then flags
    rng = np.random.default_rng([1, 3, 0x5EED])
    assert np.array_equal(order.ravel(), rng.permutation(10)[:8])
    assert np.array_equal(flips.ravel(), rng.random(8) < 0.5)


def test_synthetic_images_are_deterministic_uint8():
    a = synthetic_images(3, 16, seed=5)
    assert a.dtype == np.uint8 and a.shape == (3, 16, 16, 3)
    assert np.array_equal(a, synthetic_images(3, 16, seed=5)) and a.std() > 10
