"""The hint network's training: simulated points (planned on the host, painted on the device),
the network's extra input channels, and inference with and without hints."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from colorization.colorize import network_input, predict_ab
from colorization.model import build_paper_model, takes_hints
from colorization.training.config import TrainConfig
from colorization.training.hints import (
    MAX_POINTS,
    PATCH_SIDES,
    VALIDATION_EPOCH,
    epoch_plan,
    hint_channels,
    plan_hints,
    validation_plan,
)


def _painted_by_loops(ab, plan):
    """The hint channels computed pixel by pixel: each patch's mean, averaged where patches overlap."""
    total, count = np.zeros(ab.shape, np.float64), np.zeros(ab.shape[:3])
    for b, points in enumerate(plan):
        for row, column, side in points:
            if side:
                patch = (b, slice(row, row + side), slice(column, column + side))
                total[patch] += ab[patch].mean(axis=(0, 1))
                count[patch] += 1
    return total / np.maximum(count, 1)[..., None], count > 0


def test_hint_channels_paint_each_patch_with_its_mean():
    rng = np.random.default_rng(3)
    ab = rng.uniform(-1, 1, (4, 40, 40, 2)).astype(np.float32)
    plan = plan_hints(4, 40, seed=1, epoch=0)
    plan[0] = 0
    plan[0, :3] = [[0, 0, 9], [5, 5, 4], [39, 39, 1]]  # overlapping, and the last pixel alone
    colour, mask = _painted_by_loops(ab, plan)
    got = np.asarray(hint_channels(ops.convert_to_tensor(ab), ops.convert_to_tensor(plan)))
    np.testing.assert_allclose(got[..., :2], colour, atol=1e-5)
    np.testing.assert_array_equal(got[..., 2], mask.astype(np.float32))
    assert got[0, 39, 39, :2] == pytest.approx(ab[0, 39, 39], abs=1e-5)


def test_plan_follows_siggraph17_sampling():
    plan = plan_hints(20000, 256, seed=0, epoch=0)
    sides = plan[..., 2]
    points = (sides > 0).sum(axis=1)
    assert plan.shape == (20000, MAX_POINTS, 3) and plan.dtype == np.int32
    assert points.mean() == pytest.approx(7, abs=0.25)  # geometric, p = 1/8: (1 - p) / p points on average
    assert (points == 0).mean() == pytest.approx(1 / 8, abs=0.01)  # no hints: the automatic case is trained too
    used = sides[sides > 0]
    assert used.min() == PATCH_SIDES[0] and used.max() == PATCH_SIDES[1]
    rows, columns = plan[..., 0][sides > 0], plan[..., 1][sides > 0]
    assert (rows + used <= 256).all() and (columns + used <= 256).all() and rows.min() >= 0
    assert abs(np.median(rows) - 124) < 4  # centre-biased
    assert np.mean(np.abs(rows - 124) < 64) > 0.6  # a quarter of the side is one standard deviation


def test_plans_depend_on_seed_and_epoch_only():
    np.testing.assert_array_equal(plan_hints(8, 64, 2, 5), plan_hints(8, 64, 2, 5))
    assert not np.array_equal(plan_hints(8, 64, 2, 5), plan_hints(8, 64, 2, 6))
    assert not np.array_equal(plan_hints(8, 64, 2, 5), plan_hints(8, 64, 3, 5))
    config = TrainConfig(hints=True, batch_size=4, input_size=32)
    assert epoch_plan(config, steps=3, epoch=1).shape == (3, 4, MAX_POINTS, 3)
    np.testing.assert_array_equal(validation_plan(config, 5), plan_hints(5, 32, 0, VALIDATION_EPOCH))
    assert epoch_plan(TrainConfig(), 3, 1) is None and validation_plan(TrainConfig(), 5) is None


def test_hints_option_keeps_older_digests_and_builds_the_hint_network():
    assert TrainConfig().digest() == TrainConfig(hints=False).digest()
    assert TrainConfig(hints=True).digest() != TrainConfig().digest()
    network = build_paper_model(32, hints=True)
    assert takes_hints(network) and network.input_shape == (None, 32, 32, 4)
    assert network.count_params() == build_paper_model(32).count_params() + 3 * 9 * 64  # conv1 only


def test_hint_network_colorizes_with_and_without_hints():
    network = build_paper_model(32, hints=True)
    views = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    planes = np.zeros((2, 32, 32, 3), np.float32)
    planes[:, 10:14, 10:14] = (60.0, -40.0, 1.0)
    features = network_input(views, planes, channels=4)
    assert features[0, 11, 11, 1:].tolist() == pytest.approx([60 / 128, -40 / 128, 1.0])
    np.testing.assert_array_equal(network_input(views, None, channels=4)[..., 1:], 0)
    automatic, hinted = predict_ab(network, views), predict_ab(network, views, hints=planes)
    assert automatic.shape == hinted.shape == (2, 32, 32, 2) and not np.allclose(automatic, hinted)


def test_a_network_without_hint_channels_refuses_hints():
    views = np.zeros((1, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="takes no colour hints"):
        predict_ab(build_paper_model(32), views, hints=np.zeros((1, 32, 32, 3), np.float32))


def test_init_weights_starts_a_hint_network_as_its_source(tmp_path):
    from colorization.model import save_model
    from colorization.training.config import ConfigError
    from colorization.training.init_weights import describe_init, start_from

    source = build_paper_model(None)  # any size: load_weights' contract admits it
    source_path = save_model(source, tmp_path / "source.keras")
    network = build_paper_model(32, hints=True)
    start_from(network, str(source_path))
    views = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_allclose(predict_ab(network, views, 1.0), predict_ab(source, views, 1.0), atol=1e-4)
    kernel = network.get_layer("conv1").kernel.numpy()
    assert kernel.shape == (3, 3, 4, 64) and not kernel[:, :, 1:].any()  # zeros for the hint channels
    assert describe_init(str(source_path))["sha256"] and describe_init("paper")["path"].endswith(".keras")
    with pytest.raises(ConfigError, match="layer conv12_bins|another head"):
        start_from(build_paper_model(32, head="classification"), str(source_path))
    with pytest.raises(ConfigError, match="no such file"):
        start_from(network, str(tmp_path / "missing.keras"))


def test_a_run_with_init_weights_records_its_source(tmp_path):
    from colorization.model import save_model
    from colorization.training.trainer import train

    source_path = save_model(build_paper_model(None), tmp_path / "source.keras")
    config = TrainConfig(
        synthetic_train=16,
        synthetic_val=8,
        input_size=32,
        batch_size=8,
        epochs=1,
        hints=True,
        verbose=0,
        init_weights=str(source_path),
        output_dir=str(tmp_path / "run"),
        early_stopping_patience=None,
    )
    assert config.digest() != config.replace(init_weights=None).digest()
    result = train(config)
    assert result.record["init_weights"]["path"] == str(source_path)
    missing = config.replace(init_weights=str(tmp_path / "none.keras"), output_dir=str(tmp_path / "run2"))
    with pytest.raises(ValueError, match="init_weights"):
        train(missing)
    assert not (tmp_path / "run2").exists()  # refused before anything is written
