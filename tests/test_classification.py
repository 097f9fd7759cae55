"""The classification ablation (Zhang et al.) as an option of the same model and trainer:
the head, predictions through predict_ab, float16 storage, the rebalanced loss, training
with both loops, and the shipped classifier."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from colorization.ablation import quantize as q
from colorization.model import PAPER_LAYERS, build_paper_model, head_of, load_model, model_options
from colorization.training.config import ConfigError, TrainConfig
from tests.conftest import TINY_TRAINING

TINY = dict(TINY_TRAINING, epochs=1, head="classification")


def _views(n=2, size=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_classification_head_replaces_only_the_last_convolution():
    regression, classification = build_paper_model(), build_paper_model(head="classification")
    assert regression.count_params() == 3_892_194 and head_of(regression) == "regression"
    assert classification.count_params() == 3_892_194 - 578 + (9 * 32 + 1) * q.NUM_BINS == 3_967_045
    names = [layer.name for layer in classification.layers[1:]]
    assert names == [name if name != "conv12_ab" else "conv12_bins" for name, _, _ in PAPER_LAYERS]
    head = classification.get_layer("conv12_bins")
    assert head.filters == q.NUM_BINS and head.activation.__name__ == "softmax"
    assert head_of(classification) == "classification" and classification.output_shape == (None, 256, 256, 261)
    for a, b in zip(regression.layers[1:], classification.layers[1:], strict=True):
        if a.name != "conv12_ab":
            assert [w.shape for w in a.weights] == [w.shape for w in b.weights]
    mixed = build_paper_model(16, dtype_policy="mixed_bfloat16", head="classification")
    probs = np.asarray(mixed(np.zeros((1, 16, 16, 1), np.float32)))
    assert probs.dtype == np.float32 and np.allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert model_options(build_paper_model(None, "bilinear", head="classification", bins=7)) == {
        "input_size": None,
        "head": "classification",
        "upsampling": "bilinear",
        "bins": 7,
        "hints": False,
    }
    with pytest.raises(ValueError, match="head"):
        build_paper_model(head="nope")


def test_predict_ab_decodes_bins_and_float16_storage_keeps_the_head(tmp_path):
    from colorization.colorize import network_input, predict_ab
    from colorization.weights import load_weights
    from colorization.weights.storage import export_float16

    keras.utils.set_random_seed(1)
    model = build_paper_model(None, head="classification")
    views = _views(5)
    ab = predict_ab(model, views)  # 5 images: two sub-batches
    expected = q.annealed_mean(np.asarray(model.predict_on_batch(network_input(views))))
    assert ab.shape == (5, 16, 16, 2) and ab.dtype == np.float32
    np.testing.assert_allclose(ab, expected, atol=1e-4)
    path = export_float16(model, tmp_path / "half.keras")
    assert {str(w.dtype) for w in load_model(path).weights} >= {"float16"}
    loaded = load_weights(path)
    assert head_of(loaded) == "classification" and {str(w.dtype) for w in loaded.weights} == {"float32"}
    np.testing.assert_allclose(predict_ab(loaded, views), ab, atol=0.5)
    regression = build_paper_model(None)
    assert head_of(load_weights(export_float16(regression, tmp_path / "reg.keras"))) == "regression"


def test_rebalanced_cross_entropy_known_values():
    from keras import ops

    from colorization.ablation.loss import RebalancedCrossEntropy
    from colorization.training.step import per_image_loss

    ab = np.zeros((2, 4, 4, 2), np.float32)  # gray: all mass near the (0, 0) bin
    uniform = np.full((2, 4, 4, q.NUM_BINS), 1.0 / q.NUM_BINS, np.float32)
    weights = np.linspace(0.5, 2.0, q.NUM_BINS)
    gray = q.ab_to_bin(np.zeros(2))
    loss = RebalancedCrossEntropy(weights)
    value = float(ops.convert_to_numpy(loss(ab, uniform)))
    assert value == pytest.approx(weights[gray] * math.log(q.NUM_BINS), rel=1e-5)
    # a prediction equal to the soft-encoded target: the loss is its entropy (unit weights)
    index, soft = q.soft_encode(np.zeros(2))
    target = np.zeros(q.NUM_BINS, np.float32)
    target[index] = soft
    exact = np.broadcast_to(target, uniform.shape)
    entropy = -(soft * np.log(soft)).sum()
    assert float(ops.convert_to_numpy(RebalancedCrossEntropy()(ab, exact))) == pytest.approx(entropy, rel=1e-4)
    per_image = ops.convert_to_numpy(per_image_loss(ab, uniform, loss))
    np.testing.assert_allclose(per_image, value, rtol=1e-5)
    restored = RebalancedCrossEntropy.from_config(loss.get_config())
    assert restored.class_weights == loss.class_weights
    with pytest.raises(ValueError):
        RebalancedCrossEntropy([1.0, 2.0])


def test_config_head_choice_and_digest():
    assert TrainConfig().head == "regression"
    with pytest.raises(ConfigError, match="head"):
        TrainConfig(head="nope")
    assert TrainConfig(head="classification").digest() != TrainConfig().digest()


PUBLISHED_RUNS = Path(__file__).resolve().parents[1] / "results" / "caltech101"


def test_rebalance_lambda_keeps_the_digests_of_earlier_runs():
    """The reference run was recorded before the field existed (lambda 0.5, the default): same digest."""
    record = json.loads((PUBLISHED_RUNS / "train" / "run.json").read_text())
    assert "rebalance_lambda" not in record["config"]
    config = TrainConfig(**record["config"])
    assert config.digest() == record["config_digest"]
    assert config.replace(rebalance_lambda=0.75).digest() != record["config_digest"]


def test_the_published_classification_run_records_its_lambda():
    record = json.loads((PUBLISHED_RUNS / "train_classification" / "run.json").read_text())
    config = TrainConfig(**record["config"])
    assert config.rebalance_lambda == record["rebalancing"]["lambda"] == 0.75
    assert config.digest() == record["config_digest"]


def test_rebalance_lambda_is_checked():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ConfigError, match="rebalance_lambda"):
            TrainConfig(head="classification", rebalance_lambda=bad)


def test_tiny_classification_fit_run_and_resume(tmp_path):
    from colorization.training.trainer import train

    config = TrainConfig(**TINY, output_dir=str(tmp_path / "run"))
    result = train(config)
    plain = train(config.replace(rebalance_lambda=1.0, epochs=1, output_dir=str(tmp_path / "plain")))
    assert plain.record["rebalancing"]["lambda"] == 1.0 and set(plain.record["rebalancing"]["weights"]) == {1.0}
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert result.record["rebalancing"] == record["rebalancing"]
    rebalancing = record["rebalancing"]
    assert rebalancing["bins"] == q.NUM_BINS == len(rebalancing["weights"]) == len(rebalancing["distribution"])
    p = np.array(rebalancing["distribution"])
    assert p.sum() == pytest.approx(1.0, abs=1e-5) and rebalancing["images"] == 16
    w = np.array(rebalancing["weights"])
    assert (q.smooth_distribution(p) * w).sum() == pytest.approx(1.0, rel=1e-4)
    assert all(math.isfinite(row["loss"]) and math.isfinite(row["val_loss"]) for row in result.state.history)
    model = load_model(result.model_path)
    assert head_of(model) == "classification" and model.count_params() == 3_967_045
    resumed = train(config.replace(epochs=2), resume=True)  # the checkpoint's loss deserializes
    assert resumed.state.epoch == 2


JAX_SCRIPT = textwrap.dedent("""
    import json, sys
    from colorization.training.config import TrainConfig
    from colorization.training.trainer import train
    base = TrainConfig(data="synthetic", synthetic_train=16, synthetic_val=8, input_size=16, batch_size=8,
                       epochs=2, early_stopping_patience=None, verbose=0, steps_per_execution=2,
                       head="classification")
    report = {}
    for loop in ("fit", "jax_scan"):
        result = train(base.replace(loop=loop, output_dir=f"{sys.argv[1]}/{loop}"))
        report[loop] = [[row["loss"], row["val_loss"]] for row in result.state.history]
    print("REPORT", json.dumps(report))
""")


def test_classification_jax_loops_agree(tmp_path):
    pytest.importorskip("jax")
    environment = dict(os.environ, PYTHONUNBUFFERED="1", KERAS_BACKEND="jax")
    done = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, str(tmp_path)], env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))[7:])
    for a, b in zip(sum(report["fit"], []), sum(report["jax_scan"], []), strict=True):
        assert a == pytest.approx(b, rel=1e-3), report


def test_shipped_classifier_is_registered_and_colorizes():
    from colorization.colorize import predict_ab
    from colorization.weights import load_weights, registry

    entry = registry()["classification"]
    assert entry["storage"] == "float16" and entry["file"].endswith(".keras")
    model = load_weights(name="classification")  # sha256-verified
    assert head_of(model) == "classification" and model.input_shape == (None, 256, 256, 1)
    ab = predict_ab(model, _views(1, 256))
    assert ab.shape == (1, 256, 256, 2) and np.isfinite(ab).all() and np.abs(ab).max() < 128
