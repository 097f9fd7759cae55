"""Evaluation metrics for the colorization reproduction.

Modules
-------
fidelity       psnr, ssim, ab_rmse, auc_ab_error (closeness to the original)
vividness      colorfulness, delta_colorfulness, chroma, hue_angle
failure_modes  brown_sepia_score, cold_shift, sand_as_water (the paper's claims 2, 3, 5, 6:
               docs/paper.md, "Reported results")

:func:`image_metrics` computes every scalar metric for one image pair; it is the one
entry point for evaluation code. All functions are pure and take sRGB images of
shape (H, W, 3), uint8 or float in [0, 1], unless their name or ``space`` says Lab.
"""

from __future__ import annotations

from colorization.lab import rgb_to_lab
from colorization.metrics.checks import as_rgb01, check_same_shape
from colorization.metrics.failure_modes import (
    BLUE_HUE_RANGE,
    BLUE_MIN_CHROMA,
    BROWN_HUE_RANGE,
    BROWN_MAX_CHROMA,
    CHROMATIC_MIN_CHROMA,
    SAND_CHROMA_RANGE,
    SAND_HUE_RANGE,
    SAND_LIGHTNESS_RANGE,
    WARM_HUE_DEG,
    ColdShift,
    SandAsWater,
    blue_mask,
    brown_sepia_mask,
    brown_sepia_score,
    cold_shift,
    sand_as_water,
    sand_mask,
    warmth,
)
from colorization.metrics.fidelity import AUC_MAX_THRESHOLD, ab_error, ab_rmse, auc_ab_error, psnr, ssim
from colorization.metrics.vividness import chroma, colorfulness, delta_colorfulness, hue_angle

METRIC_KEYS = (
    "psnr", "ssim", "ab_rmse", "auc", "cf_pred", "cf_true", "delta_cf",
    "brown_pred", "brown_true", "delta_b", "warmth_shift", "sand_pixels", "sand_as_water",
)  # fmt: skip


def image_metrics(pred_rgb, true_rgb) -> dict[str, float]:
    """All scalar metrics for one (prediction, original) sRGB image pair.

    Parameters
    ----------
    pred_rgb, true_rgb : ndarray, shape (H, W, 3)
        sRGB, uint8 or float in [0, 1]; H, W >= 7 (SSIM window).

    Returns
    -------
    dict[str, float]
        Keys, in the order of ``METRIC_KEYS``: ``psnr`` (dB, inf if identical),
        ``ssim``, ``ab_rmse`` (Lab units), ``auc`` (AuC of ab error, 0..150),
        ``cf_pred``, ``cf_true``, ``delta_cf`` (Hasler-Suesstrunk colourfulness and
        pred - true), ``brown_pred``, ``brown_true`` (brown/sepia share of
        chromatic pixels), ``delta_b``, ``warmth_shift`` (negative = colder; NaN if
        no chromatic pixel), ``sand_pixels`` (count of sand-like ground-truth
        pixels, as float), ``sand_as_water`` (NaN if ``sand_pixels == 0``).
    """
    pred, true = as_rgb01(pred_rgb, "pred_rgb"), as_rgb01(true_rgb, "true_rgb")
    check_same_shape(pred, true, ("pred_rgb", "true_rgb"))
    pl, tl = rgb_to_lab(pred), rgb_to_lab(true)
    cf_pred, cf_true = colorfulness(pred), colorfulness(true)
    cold = cold_shift(pl, tl, space="lab")
    sand = sand_as_water(pl, tl, space="lab")
    return {
        "psnr": psnr(pred, true),
        "ssim": ssim(pred, true),
        "ab_rmse": ab_rmse(pl, tl),
        "auc": auc_ab_error(pl, tl),
        "cf_pred": cf_pred,
        "cf_true": cf_true,
        "delta_cf": cf_pred - cf_true,
        "brown_pred": brown_sepia_score(pl, space="lab"),
        "brown_true": brown_sepia_score(tl, space="lab"),
        "delta_b": cold.delta_b,
        "warmth_shift": cold.warmth_shift,
        "sand_pixels": float(sand.n_sand),
        "sand_as_water": sand.share,
    }


__all__ = [
    "AUC_MAX_THRESHOLD", "BLUE_HUE_RANGE", "BLUE_MIN_CHROMA", "BROWN_HUE_RANGE",
    "BROWN_MAX_CHROMA", "CHROMATIC_MIN_CHROMA", "METRIC_KEYS", "SAND_CHROMA_RANGE",
    "SAND_HUE_RANGE", "SAND_LIGHTNESS_RANGE", "WARM_HUE_DEG", "ColdShift", "SandAsWater",
    "ab_error", "ab_rmse", "auc_ab_error", "blue_mask", "brown_sepia_mask",
    "brown_sepia_score", "chroma", "cold_shift", "colorfulness", "delta_colorfulness",
    "hue_angle", "image_metrics", "psnr", "sand_as_water", "sand_mask", "ssim", "warmth",
]  # fmt: skip
