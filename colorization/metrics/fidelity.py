"""Fidelity metrics: how close a colorization is to the original photograph.

The paper judges results only by eye ("plausible"; docs/paper.md, "The problem"); these
are the usual numbers of the colorization literature, so its claims can be measured.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from colorization.metrics.checks import as_lab, as_rgb01, check_same_shape

AUC_MAX_THRESHOLD = 150  # Zhang et al. 2016 sweep the ab threshold from 0 to 150


def psnr(pred, true) -> float:
    """Peak signal-to-noise ratio in dB between two sRGB images.

    ``PSNR = 10 log10(R^2 / MSE)`` over all pixels and the R, G, B channels, with
    ``R`` the data range (1 for float images, 255 for uint8: both are first scaled to
    [0, 1], which gives the same value). Computed by
    ``skimage.metrics.peak_signal_noise_ratio``.

    Parameters
    ----------
    pred, true : ndarray, shape (H, W, 3)
        sRGB, uint8 or float in [0, 1]; the dtypes may differ.

    Returns
    -------
    float
        PSNR in dB; ``inf`` for identical images.
    """
    p, t = as_rgb01(pred, "pred"), as_rgb01(true, "true")
    check_same_shape(p, t)
    if np.array_equal(p, t):
        return float("inf")
    return float(peak_signal_noise_ratio(t, p, data_range=1.0))


def ssim(pred, true) -> float:
    """Structural similarity (Wang et al. 2004, IEEE TIP 13(4)) of two sRGB images.

    ``SSIM = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 +
    sigma_y^2 + C2))`` over 7x7 windows, averaged over pixels and channels;
    ``skimage.metrics.structural_similarity`` with ``channel_axis=-1`` and
    ``data_range=1`` on images scaled to [0, 1] (equal to data_range=255 on uint8).

    Parameters
    ----------
    pred, true : ndarray, shape (H, W, 3)
        sRGB, uint8 or float in [0, 1]; H and W at least 7.

    Returns
    -------
    float
        Mean SSIM in [-1, 1]; 1 for identical images.
    """
    p, t = as_rgb01(pred, "pred"), as_rgb01(true, "true")
    check_same_shape(p, t)
    if min(p.shape[:2]) < 7:
        raise ValueError(f"ssim needs images at least 7x7 (its window), got shape {p.shape}")
    return float(structural_similarity(t, p, channel_axis=-1, data_range=1.0))


def ab_error(pred_lab, true_lab) -> np.ndarray:
    """Per-pixel Euclidean ab error ``sqrt((a_p - a_t)^2 + (b_p - b_t)^2)``, shape (H, W)."""
    p, t = as_lab(pred_lab, "pred_lab"), as_lab(true_lab, "true_lab")
    check_same_shape(p, t, ("pred_lab", "true_lab"))
    return np.hypot(p[..., 1] - t[..., 1], p[..., 2] - t[..., 2])


def ab_rmse(pred_lab, true_lab) -> float:
    """Root mean squared error over the a and b channels, in Lab units.

    ``ab_rmse = sqrt(mean over pixels and the 2 channels of (ab_pred - ab_true)^2)``,
    i.e. the RMSE of the network's regression target (docs/paper.md, "Representation":
    MSE loss on ab / 128), so ``ab_rmse = 128 * sqrt(training MSE)``. The root mean
    squared *Euclidean* ab distance is ``sqrt(2)`` times this.

    Parameters
    ----------
    pred_lab, true_lab : ndarray, shape (H, W, 3)
        CIE Lab (L, a, b); L is ignored.

    Returns
    -------
    float
        0 for identical ab channels.
    """
    p, t = as_lab(pred_lab, "pred_lab"), as_lab(true_lab, "true_lab")
    check_same_shape(p, t, ("pred_lab", "true_lab"))
    return float(np.sqrt(np.mean((p[..., 1:] - t[..., 1:]) ** 2)))


def auc_ab_error(pred_lab, true_lab, max_threshold: int = AUC_MAX_THRESHOLD) -> float:
    """Area under the cumulative ab-error curve ("AuC"), normalized to [0, 1].

    Zhang, Isola, Efros, "Colorful Image Colorization", ECCV 2016, Sec. 3.1, "raw
    accuracy": ``acc(t)`` = share of pixels whose Euclidean ab error is ``<= t``, for
    thresholds ``t = 0, 1, ..., max_threshold``; the AuC is the trapezoidal area
    under ``acc(t)`` divided by ``max_threshold``. Per image (not class-rebalanced);
    for equal-size images the mean of per-image AuCs equals the pooled AuC.

    Parameters
    ----------
    pred_lab, true_lab : ndarray, shape (H, W, 3)
        CIE Lab; L is ignored.
    max_threshold : int, default 150
        Largest threshold, in ab units (step 1).

    Returns
    -------
    float
        1.0 for identical ab; 0.0 when every error exceeds ``max_threshold``.
    """
    if int(max_threshold) != max_threshold or max_threshold < 1:
        raise ValueError(f"max_threshold must be a positive integer, got {max_threshold!r}")
    err = np.sort(ab_error(pred_lab, true_lab), axis=None)
    thresholds = np.arange(int(max_threshold) + 1, dtype=np.float64)
    acc = np.searchsorted(err, thresholds, side="right") / err.size
    return float(np.sum(acc[1:] + acc[:-1]) / (2.0 * max_threshold))
