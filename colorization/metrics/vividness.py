"""Vividness: how colourful an image is, and the Lab chroma / hue helpers.

The paper's claims 2, 5 and 6 (colder hues, brown/sepia; docs/paper.md, "Reported
results") are about colour *character* rather than pixel fidelity; an MSE regression
that averages hues also desaturates, which colourfulness measures directly.
"""

from __future__ import annotations

import numpy as np

from colorization.metrics.checks import as_rgb01, check_same_shape


def chroma(lab) -> np.ndarray:
    """CIE chroma ``C*ab = sqrt(a^2 + b^2)`` (CIE 15:2004, Sec. 8.2.1.3), shape (...).

    ``lab`` is any array with L, a, b in the last axis.
    """
    lab = np.asarray(lab, dtype=np.float64)
    if lab.ndim < 1 or lab.shape[-1] != 3:
        raise ValueError(f"expected a Lab array of shape (..., 3), got shape {lab.shape}")
    return np.hypot(lab[..., 1], lab[..., 2])


def hue_angle(lab) -> np.ndarray:
    """CIE hue angle ``h_ab = atan2(b, a)`` in degrees, in [0, 360) (CIE 15:2004).

    0 deg = +a (red), 90 deg = +b (yellow), 180 deg = -a (green), 270 deg = -b
    (blue). Undefined for neutral pixels (a = b = 0); returns 0 there, so callers
    mask by :func:`chroma` first.
    """
    lab = np.asarray(lab, dtype=np.float64)
    if lab.ndim < 1 or lab.shape[-1] != 3:
        raise ValueError(f"expected a Lab array of shape (..., 3), got shape {lab.shape}")
    return np.mod(np.degrees(np.arctan2(lab[..., 2], lab[..., 1])), 360.0)


def colorfulness(rgb) -> float:
    """Colourfulness M of Hasler and Suesstrunk (2003).

    D. Hasler, S. Suesstrunk, "Measuring colourfulness in natural images", Proc.
    SPIE 5007, Human Vision and Electronic Imaging VIII, 2003, Eq. (2)-(3). On sRGB
    values scaled to 0..255::

        rg = R - G,   yb = (R + G) / 2 - B
        M  = sqrt(std_rg^2 + std_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)

    (population standard deviations over all pixels). The paper's reference scale:
    M about 15 "slightly", 33 "moderately", 45 "averagely", 59 "quite", 82 "highly",
    109 "extremely" colourful.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        sRGB, uint8 or float in [0, 1].

    Returns
    -------
    float
        M >= 0; exactly 0 for a gray image (R = G = B everywhere).
    """
    x = as_rgb01(rgb, "rgb") * 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def delta_colorfulness(pred, true) -> float:
    """Change in colourfulness ``CF(pred) - CF(true)`` (see :func:`colorfulness`).

    Negative means the prediction is less vivid than the original (the
    desaturation an MSE regression is expected to produce); positive, more vivid.
    """
    p, t = as_rgb01(pred, "pred"), as_rgb01(true, "true")
    check_same_shape(p, t)
    return colorfulness(p) - colorfulness(t)
