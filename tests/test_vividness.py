"""Vividness: one knob for both heads; 1 is the network as trained, more is more colourful.

The regression head scales chroma (lightness and hue kept, out-of-gamut colours brought
back at fixed L and hue when rendered); the classification head's annealed mean runs at
temperature 1 / v; a model used without a vividness gets its own default, which for a
shipped file (or a copy of it) is the registry's.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

import colorization as cz
from colorization import lab
from colorization.colorize import network_view, predict_ab, render
from colorization.decoding import RawPrediction, decode
from colorization.fast import lab_lut, recombine
from colorization.metrics.vividness import colorfulness
from colorization.vividness import AS_TRAINED, LIMITS, check_vividness, chroma_gain, default_of


def _hue(ab: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))


def _hue_difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """|first - second| in degrees, around the circle."""
    return np.abs((_hue(first) - _hue(second) + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def shipped():
    """The shipped models, by registry name."""
    return {name: cz.load_weights(name=name) for name in ("paper", "classification")}


@pytest.fixture(scope="module")
def photo(real_photos) -> np.ndarray:
    return np.ascontiguousarray(real_photos["astronaut.png"][::4, ::4])  # 128 x 128: fast


# --- the value ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [LIMITS[0], 1, "2.5", 5.0, np.float32(3.0), " 0.5 "])
def test_a_vividness_within_the_limits_is_a_float(value):
    number = check_vividness(value)
    assert isinstance(number, float) and number == float(value)


@pytest.mark.parametrize(
    "value",
    [0, -1, 0.099, 5.001, 1e9, math.nan, math.inf, -math.inf, "nan", "inf", "0", "abc", "", "1,5", None, [2.0]],
    ids=repr,
)
def test_any_other_value_is_one_line_that_says_the_range(value):
    with pytest.raises(ValueError) as error:
        check_vividness(value)
    message = str(error.value)
    assert message.startswith("vividness must be") and "\n" not in message
    if isinstance(value, (int, float)) or value in ("nan", "inf", "0"):
        assert f"between {LIMITS[0]:g} and {LIMITS[1]:g}" in message


# --- the regression head: a chroma gain -----------------------------------------------------------
@pytest.mark.parametrize("vividness", [0.25, 2.0, 3.7])
def test_chroma_gain_scales_chroma_and_keeps_hue(vividness):
    ab = np.random.default_rng(0).normal(0, 30, (64, 64, 2)).astype(np.float32)
    scaled = chroma_gain(ab, vividness)
    assert scaled.shape == ab.shape and scaled.dtype == np.float32
    np.testing.assert_allclose(
        np.hypot(*np.moveaxis(scaled, -1, 0)), vividness * np.hypot(*np.moveaxis(ab, -1, 0)), rtol=1e-6
    )
    assert _hue_difference(scaled, ab).max() < 1e-4  # degrees: float32 rounding only
    np.testing.assert_array_equal(chroma_gain(ab, AS_TRAINED), ab)  # 1: the network's own ab


def test_rendered_at_vividness_3_the_photo_keeps_its_lightness_and_its_hues(photo):
    ab = lab.rgb_to_lab(photo)[..., 1:].astype(np.float32)  # the photo's own colours, tripled below
    wanted = chroma_gain(ab, 3.0)
    out = render(photo, wanted)
    clipped = recombine.render(photo, wanted, keep_lightness=False)  # what plain clipping would give
    lightness_error = np.abs(lab_lut.lightness(out) - lab_lut.lightness(photo))
    assert lightness_error.max() < 0.5  # exactly its L, to 8-bit rounding (one code value is >= 0.2 L)
    assert np.abs(lab_lut.lightness(clipped) - lab_lut.lightness(photo)).max() > 5  # clipping would shift it
    out_ab = lab.rgb_to_lab(out)[..., 1:]
    colourful = np.hypot(ab[..., 0], ab[..., 1]) > 5
    hue_error = _hue_difference(out_ab, ab)[colourful]
    clipped_hue_error = _hue_difference(lab.rgb_to_lab(clipped)[..., 1:], ab)[colourful]
    assert hue_error.mean() < 1 and np.percentile(hue_error, 99) < 3  # degrees, 8-bit rounding in dark pixels
    assert clipped_hue_error.mean() > 3 and np.percentile(clipped_hue_error, 99) > 10
    # colours that fit in sRGB at 3x come out at 3x (to rounding); the others lose chroma, not hue
    fits = np.all(out == clipped, axis=-1)
    assert 0.2 < fits.mean() < 0.9  # both kinds are there
    assert np.abs(out_ab - wanted)[fits].mean() < 0.5
    chroma = np.hypot(out_ab[..., 0], out_ab[..., 1])
    assert np.all(chroma[~fits] <= np.hypot(wanted[..., 0], wanted[..., 1])[~fits] + 1.0)


# --- the classification head: the annealed mean at T = 1 / v ---------------------------------------
@pytest.mark.parametrize("vividness", [0.5, 1.0, 2.63, 5.0])
def test_classification_decodes_at_the_annealed_mean_of_temperature_one_over_v(vividness):
    from colorization.ablation.quantize import NUM_BINS, annealed_mean, bin_centers

    logits = np.random.default_rng(1).normal(0, 2, (2, 8, 8, NUM_BINS)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    ab = decode(RawPrediction(probs, classification=True), vividness)
    np.testing.assert_array_equal(ab, annealed_mean(probs, 1.0 / vividness))
    if vividness == AS_TRAINED:  # 1: the plain mean of the distribution, what MSE regression estimates
        np.testing.assert_allclose(ab, probs @ bin_centers(), atol=1e-3)


# --- a model's default --------------------------------------------------------------------------
def test_predict_ab_without_a_vividness_uses_the_models_default(model, photo, monkeypatch):
    views = network_view(photo)[None]
    as_trained = predict_ab(model, views, AS_TRAINED)
    assert default_of(model) == AS_TRAINED
    np.testing.assert_array_equal(predict_ab(model, views), as_trained)
    monkeypatch.setattr(model, "default_vividness", 2.0, raising=False)
    assert default_of(model) == 2.0
    np.testing.assert_array_equal(predict_ab(model, views), predict_ab(model, views, 2.0))
    np.testing.assert_allclose(predict_ab(model, views), 2.0 * as_trained, rtol=1e-6)


@pytest.mark.parametrize("name", ["paper", pytest.param("classification", marks=pytest.mark.slow)])
def test_more_vividness_is_more_colour_at_the_same_lightness(shipped, photo, name):
    model = shipped[name]
    results = {v: cz.colorize(model, photo, vividness=v).rgb for v in (0.5, 1.0, 2.0)}
    scores = {v: colorfulness(rgb) for v, rgb in results.items()}
    assert scores[0.5] < scores[1.0] < scores[2.0], scores
    for rgb in results.values():
        assert np.abs(lab_lut.lightness(rgb) - lab_lut.lightness(photo)).max() < 0.5
    default = cz.colorize(model, photo).rgb  # None: the model's own default
    np.testing.assert_array_equal(default, cz.colorize(model, photo, vividness=default_of(model)).rgb)
    with pytest.raises(ValueError, match="vividness must be between"):
        cz.colorize(model, photo, vividness=0)


def test_a_copy_of_a_shipped_file_gets_its_registered_default(model_file, photo, tmp_path, monkeypatch):
    import colorization.weights as weights

    entries = weights.registry()
    entries["paper"]["vividness"] = {"default": 1.6}
    registry_file = tmp_path / "registry.json"
    registry_file.write_text(json.dumps(entries), encoding="utf-8")
    monkeypatch.setattr(weights, "REGISTRY_FILE", registry_file)
    copy = tmp_path / "renamed.keras"
    shutil.copy(weights.reference_weights("paper"), copy)
    shipped, copied = cz.load_weights(name="paper"), cz.load_weights(copy)
    assert default_of(shipped) == default_of(copied) == 1.6  # matched by sha256, not by name or folder
    assert weights.registered_vividness(copy) == 1.6
    assert default_of(cz.load_weights(model_file)) == AS_TRAINED  # not registered: as trained
    np.testing.assert_array_equal(cz.colorize(copied, photo).rgb, cz.colorize(copied, photo, vividness=1.6).rgb)


# --- colorization evaluate --vividness: the model scored at that value only -------------------------
@pytest.mark.slow
def test_evaluate_scores_the_model_at_the_vividness_given(model_file, tmp_path, capsys):
    from colorization.cli import main

    base = ["evaluate", "--weights", str(model_file), "--data", "sample", "--split", "all", "--limit", "1"]
    base += ["--mean-ab", "0,0", "--workers", "1", "--cache", str(tmp_path / "cache"), "--quiet"]
    for value in ("2.5", None):
        out = tmp_path / f"at-{value}"
        assert main([*base, "-o", str(out), *(["--vividness", value] if value else [])]) == 0
        methods = json.loads((out / "summary.json").read_text())["methods_info"]
        assert methods["model"]["vividness"] == (float(value) if value else AS_TRAINED)
        assert "model_vivid" not in methods  # the test model's own default is 1: nothing more to score
    capsys.readouterr()
    with pytest.raises(SystemExit) as caught:
        main([*base, "-o", str(tmp_path / "bad"), "--vividness", "nan"])
    assert caught.value.code == 2 and "argument --vividness: vividness must be" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
