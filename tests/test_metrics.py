"""Known-answer tests for colorization.metrics on small constructed images."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from colorization import metrics as m
from colorization.lab import rgb_to_lab

H = W = 16
SEPIA = (112, 66, 20)
BLUE = (0, 0, 255)
WATER = (64, 164, 223)
GRAY = (128, 128, 128)
SAND = (194, 178, 128)
ORANGE = (255, 165, 0)
RED = (255, 0, 0)


def solid(rgb, h=H, w=W):
    return np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3)).copy()


def solid_lab(lab, h=H, w=W):
    return np.broadcast_to(np.array(lab, np.float64), (h, w, 3)).copy()


@pytest.fixture
def rand_pair():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    noise = rng.integers(-20, 21, a.shape)
    b = np.clip(a.astype(int) + noise, 0, 255).astype(np.uint8)
    return a, b


# --- fidelity ------------------------------------------------------------------
def test_psnr_ssim_match_skimage_on_uint8(rand_pair):
    pred, true = rand_pair
    assert m.psnr(pred, true) == pytest.approx(peak_signal_noise_ratio(true, pred, data_range=255), rel=1e-9)
    assert m.ssim(pred, true) == pytest.approx(
        structural_similarity(true, pred, channel_axis=-1, data_range=255), rel=1e-6
    )
    assert 0 < m.ssim(pred, true) < 1


def test_psnr_same_for_float_and_uint8(rand_pair):
    pred, true = rand_pair
    assert m.psnr(pred / 255.0, true) == pytest.approx(m.psnr(pred, true), rel=1e-9)
    assert m.ssim(pred / 255.0, true / 255.0) == pytest.approx(m.ssim(pred, true), rel=1e-6)


def test_psnr_known_value():
    # MSE = 0.1^2 in [0, 1] units on every value -> PSNR = 10 log10(1 / 0.01) = 20 dB
    true = np.full((8, 8, 3), 0.5)
    assert m.psnr(true + 0.1, true) == pytest.approx(20.0, abs=1e-9)


def test_ab_rmse_known_value():
    true = solid_lab((50, 0, 0))
    pred = solid_lab((70, 3, 4))  # L differs too: must be ignored
    assert m.ab_rmse(pred, true) == pytest.approx(math.sqrt((9 + 16) / 2))


def test_auc_half_zero_half_beyond_150():
    true = solid_lab((50, 0, 0))
    pred = true.copy()
    pred[: H // 2, :, 1:] = 120.0  # error 169.7 > 150 on half the pixels
    assert m.auc_ab_error(pred, true) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("err", [10.5, 75.5, 149.5])
def test_auc_constant_error_is_one_minus_err_over_150(err):
    # acc(t) is a step at err; its trapezoidal area over [0, 150] is 150 - err
    pred = solid_lab((50, err * 0.6, err * 0.8))
    assert m.auc_ab_error(pred, solid_lab((50, 0, 0))) == pytest.approx(1 - err / 150)


def test_auc_all_errors_large_is_zero_and_threshold_validated():
    pred, true = solid_lab((50, 100, 100)), solid_lab((50, -100, -100))
    assert m.auc_ab_error(pred, true) == 0.0
    with pytest.raises(ValueError, match="max_threshold"):
        m.auc_ab_error(pred, true, max_threshold=0)


def test_identical_images_give_perfect_scores(rand_pair):
    img, _ = rand_pair
    lab = rgb_to_lab(img)
    assert m.psnr(img, img) == math.inf
    assert m.ssim(img, img) == pytest.approx(1.0)
    assert m.auc_ab_error(lab, lab) == 1.0
    assert m.ab_rmse(lab, lab) == 0.0
    assert m.delta_colorfulness(img, img) == 0.0
    cold = m.cold_shift(img, img)
    assert cold.delta_b == 0.0 and cold.warmth_shift == 0.0


# --- vividness -------------------------------------------------------------------
def test_colorfulness_gray_is_zero_and_colored_positive():
    assert m.colorfulness(solid(GRAY)) == 0.0
    ramp = np.repeat(np.linspace(0, 1, W)[None, :, None], 3, axis=2).repeat(H, axis=0)
    assert m.colorfulness(ramp) == pytest.approx(0.0, abs=1e-9)
    assert m.colorfulness(solid(ORANGE)) > 10


def test_colorfulness_against_direct_computation():
    pixels = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (30, 60, 90), (200, 100, 50)]
    img = np.array(pixels, np.uint8).reshape(2, 3, 3)
    rg = [float(r - g) for r, g, b in pixels]
    yb = [0.5 * (r + g) - b for r, g, b in pixels]
    sigma = math.sqrt(statistics.pstdev(rg) ** 2 + statistics.pstdev(yb) ** 2)
    mu = math.sqrt(statistics.fmean(rg) ** 2 + statistics.fmean(yb) ** 2)
    assert m.colorfulness(img) == pytest.approx(sigma + 0.3 * mu, rel=1e-12)
    assert m.colorfulness(img / 255.0) == pytest.approx(sigma + 0.3 * mu, rel=1e-12)


def test_delta_colorfulness_sign():
    assert m.delta_colorfulness(solid(GRAY), solid(ORANGE)) < 0  # prediction duller
    assert m.delta_colorfulness(solid(ORANGE), solid(GRAY)) > 0


def test_hue_angle_and_chroma():
    lab = np.array([[50, 10, 0], [50, 0, 10], [50, -10, 0], [50, 0, -10], [50, 3, 4]], float)
    np.testing.assert_allclose(m.hue_angle(lab), [0, 90, 180, 270, math.degrees(math.atan2(4, 3))])
    np.testing.assert_allclose(m.chroma(lab), [10, 10, 10, 10, 5])


# --- brown / sepia -----------------------------------------------------------------
def test_pure_sepia_scores_one():
    assert m.brown_sepia_score(solid(SEPIA)) == 1.0
    assert m.brown_sepia_score(solid(SEPIA), of="all") == 1.0
    assert m.brown_sepia_score(rgb_to_lab(solid(SEPIA)), space="lab") == 1.0


# Outside the band: hue (water, blue, green; muted brick red h 34.7 and sand h 93.6,
# both with chroma < 40) or chroma (orange C 82.5, red C 104.6) or neutral (gray).
@pytest.mark.parametrize("rgb", [BLUE, GRAY, WATER, ORANGE, RED, (0, 128, 0), (150, 90, 80), SAND])
def test_non_brown_colors_score_zero(rgb):
    assert m.brown_sepia_score(solid(rgb)) == 0.0
    assert m.brown_sepia_score(solid(rgb), of="all") == 0.0


def test_brown_share_chromatic_vs_all():
    img = solid(GRAY)
    img[: H // 4] = SEPIA  # 1/4 sepia, 3/4 gray
    assert m.brown_sepia_score(img) == 1.0
    assert m.brown_sepia_score(img, of="all") == pytest.approx(0.25)
    img[H // 4 : H // 2] = BLUE  # now 1/4 sepia, 1/4 blue, 1/2 gray
    assert m.brown_sepia_score(img) == pytest.approx(0.5)
    assert m.brown_sepia_score(img, of="all") == pytest.approx(0.25)


@pytest.mark.parametrize(
    "rgb, lab",
    [
        ((112, 66, 20), (32.7, 16.0, 34.7)),
        ((158, 126, 96), (55.1, 8.1, 21.0)),
        ((111, 78, 55), (36.2, 10.9, 19.1)),
        ((193, 154, 107), (66.1, 8.4, 30.2)),
        ((162, 138, 101), (58.8, 3.6, 23.2)),
    ],
)
def test_documented_brown_references_inside_band(rgb, lab):
    got = rgb_to_lab(np.array([[rgb]], np.uint8))
    np.testing.assert_allclose(got[0, 0], lab, atol=0.06)
    assert m.brown_sepia_mask(got).all()


# --- cold shift ----------------------------------------------------------------------
def test_cold_shift_known_values_in_lab():
    true = solid_lab((60, 10, 30))
    pred = solid_lab((60, 10, 10))  # b* lowered by 20
    cold = m.cold_shift(pred, true, space="lab")
    assert cold.delta_b == pytest.approx(-20.0)
    assert cold.warmth_shift == pytest.approx(-20.0 * math.sin(math.radians(60)))
    assert cold.n_chromatic == H * W
    warmer = m.cold_shift(true, pred, space="lab")
    assert warmer.delta_b > 0 and warmer.warmth_shift > 0


def test_prediction_shifted_to_blue_is_colder_in_rgb():
    true = solid(SAND)
    pred = true.astype(int)
    pred[..., 2] += 60  # more blue
    pred[..., 0] -= 20  # less red
    cold = m.cold_shift(pred.astype(np.uint8), true)
    assert cold.delta_b < -10
    assert cold.warmth_shift < -5


def test_cold_shift_warmth_nan_for_gray_pair():
    cold = m.cold_shift(solid(GRAY), solid(GRAY))
    assert cold.delta_b == pytest.approx(0.0, abs=1e-4)
    assert math.isnan(cold.warmth_shift) and cold.n_chromatic == 0


# --- sand as water -----------------------------------------------------------------------
def test_blue_over_sand_is_one_and_sand_over_sand_is_zero():
    for blue in (WATER, BLUE):
        res = m.sand_as_water(solid(blue), solid(SAND))
        assert res.share == 1.0 and res.n_sand == H * W
    assert m.sand_as_water(solid(SAND), solid(SAND)).share == 0.0
    assert m.sand_as_water(solid(GRAY), solid(SAND)).share == 0.0


def test_sand_as_water_partial_and_no_sand():
    pred = solid(SAND)
    pred[: H // 4] = WATER
    true = solid(SAND)
    true[:, : W // 2] = GRAY  # only the right half is sand
    res = m.sand_as_water(pred, true)
    assert res.n_sand == H * W // 2
    assert res.share == pytest.approx(0.25)
    none = m.sand_as_water(solid(WATER), solid(WATER))
    assert math.isnan(none.share) and none.n_sand == 0


@pytest.mark.parametrize(
    "rgb, is_sand",
    [((194, 178, 128), True), ((237, 201, 175), True), ((210, 180, 140), True),
     ((150, 110, 70), True), (WATER, False), (GRAY, False), ((20, 15, 10), False),
     ((255, 255, 0), False)],
)  # fmt: skip
def test_sand_mask_reference_colors(rgb, is_sand):
    assert bool(m.sand_mask(rgb_to_lab(np.array([[rgb]], np.uint8)))[0, 0]) is is_sand


# --- image_metrics --------------------------------------------------------------------
def test_image_metrics_keys_and_identical_values(rand_pair):
    img, _ = rand_pair
    out = m.image_metrics(img, img)
    assert tuple(out) == m.METRIC_KEYS
    assert all(isinstance(v, float) for v in out.values())
    assert out["psnr"] == math.inf and out["auc"] == 1.0 and out["ab_rmse"] == 0.0
    assert out["delta_cf"] == 0.0 and out["delta_b"] == 0.0 and out["warmth_shift"] == 0.0
    assert out["brown_pred"] == out["brown_true"]


def test_image_metrics_failure_case():
    out = m.image_metrics(solid(WATER), solid(SAND))
    assert out["sand_pixels"] == H * W and out["sand_as_water"] == 1.0
    assert out["delta_b"] < 0 and out["warmth_shift"] < 0
    assert out["auc"] < 1.0 and out["psnr"] < 20
    out = m.image_metrics(solid(SEPIA), solid(BLUE))
    assert out["brown_pred"] == 1.0 and out["brown_true"] == 0.0
    assert math.isnan(out["sand_as_water"]) and out["sand_pixels"] == 0.0


# --- validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("func", [m.psnr, m.ssim, m.delta_colorfulness, m.cold_shift, m.sand_as_water, m.image_metrics])
def test_shape_mismatch_raises(func):
    with pytest.raises(ValueError, match="shape mismatch"):
        func(solid(GRAY, 8, 8), solid(GRAY, 8, 9))


@pytest.mark.parametrize("func", [m.ab_rmse, m.auc_ab_error])
def test_lab_shape_mismatch_raises(func):
    with pytest.raises(ValueError, match="shape mismatch"):
        func(solid_lab((50, 0, 0), 8, 8), solid_lab((50, 0, 0), 9, 8))


def test_invalid_inputs_raise_value_error():
    four = np.zeros((8, 8, 4), np.uint8)
    with pytest.raises(ValueError, match="3 channels"):
        m.psnr(four, four)
    with pytest.raises(ValueError, match="3 channels"):
        m.colorfulness(four)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        m.brown_sepia_score(np.zeros((8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.colorfulness(np.full((8, 8, 3), 200.0))
    with pytest.raises(ValueError, match="dtype"):
        m.colorfulness(np.zeros((8, 8, 3), np.int32))
    with pytest.raises(ValueError, match="NaN"):
        m.ab_rmse(np.full((8, 8, 3), np.nan), np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="space"):
        m.brown_sepia_score(solid(GRAY), space="hsv")
    with pytest.raises(ValueError, match="of must be"):
        m.brown_sepia_score(solid(GRAY), of="pixels")
    with pytest.raises(ValueError, match="7x7"):
        m.ssim(solid(GRAY, 4, 4), solid(GRAY, 4, 4))
