"""The network is the paper's table, layer for layer, and survives a .keras round trip."""

import keras
import numpy as np
import pytest

from colorization.model import PAPER_PARAMETER_COUNT, build_paper_model, load_model, save_model

# docs/paper.md, "Network (exact)": (#, layer, filters, stride), typed from the paper's table.
PAPER_TABLE = [
    (1, "conv", 64, 1),
    (2, "conv", 64, 2),
    (3, "conv", 128, 1),
    (4, "conv", 128, 2),
    (5, "conv", 256, 1),
    (6, "conv", 256, 2),
    (7, "conv", 512, 1),
    (8, "conv", 256, 1),
    (9, "conv", 128, 1),
    (10, "upsample", None, None),
    (11, "conv", 64, 1),
    (12, "upsample", None, None),
    (13, "conv", 32, 1),
    (14, "conv (tanh)", 2, 1),
    (15, "upsample", None, None),
]


def test_layers_match_the_paper_table():
    model = build_paper_model()
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    assert len(layers) == len(PAPER_TABLE)
    for layer, (number, kind, filters, stride) in zip(layers, PAPER_TABLE, strict=True):
        where = f"paper row {number} ({layer.name})"
        if kind == "upsample":
            assert isinstance(layer, keras.layers.UpSampling2D), where
            assert tuple(layer.size) == (2, 2), where
            continue
        assert isinstance(layer, keras.layers.Conv2D), where
        assert layer.filters == filters and tuple(layer.strides) == (stride, stride), where
        assert tuple(layer.kernel_size) == (3, 3) and layer.padding == "same" and layer.use_bias, where
        expected = "tanh" if kind == "conv (tanh)" else "relu"
        assert layer.activation.__name__ == expected, where
    assert sum(isinstance(layer, keras.layers.Conv2D) for layer in layers) == 12  # the text's "13" is wrong


def test_parameter_count_and_shapes():
    model = build_paper_model()
    assert model.count_params() == PAPER_PARAMETER_COUNT == 3_892_194
    assert model.input_shape == (None, 256, 256, 1)
    assert model.output_shape == (None, 256, 256, 2)
    # stride-2 convolutions bring 256 down to 32; three x2 upsamplings bring it back
    assert model.get_layer("conv7").output.shape[1:3] == (32, 32)


def test_output_in_tanh_range_and_fully_convolutional():
    model = build_paper_model(input_size=None)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 64, 96, 1)).astype("float32")
    y = np.asarray(model.predict_on_batch(x))
    assert y.shape == (1, 64, 96, 2) and np.abs(y).max() <= 1.0


def test_mixed_precision_keeps_float32_output():
    model = build_paper_model(dtype_policy="mixed_bfloat16")
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.get_layer("conv12_ab").compute_dtype == "float32"
    assert model.get_layer("up3").compute_dtype == "float32"


def test_keras_round_trip(tmp_path):
    model = build_paper_model()
    path = save_model(model, tmp_path / "m.keras")
    loaded = load_model(path)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 256, 256, 1)).astype("float32")
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_loading_refuses_arbitrary_code(tmp_path):
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(path)


def test_save_requires_keras_suffix(tmp_path):
    with pytest.raises(ValueError, match=".keras"):
        save_model(build_paper_model(), tmp_path / "m.h5")


def test_cost_matches_the_paper():
    from colorization.model import multiply_accumulates

    macs = multiply_accumulates(build_paper_model())
    assert abs(macs / 1e9 - 7.6) < 0.05, macs  # docs/paper.md: ~7.6 GMAC (15.2 GFLOP) at 256x256
