"""The paper's failure modes as measurements (docs/paper.md, "Reported results").

* claims 5-6: unrecognised objects are painted brown or sepia -> :func:`brown_sepia_score`;
* claim 2: colours come out in slightly colder hues -> :func:`cold_shift`;
* claim 3: desert sand coloured blue, as if water -> :func:`sand_as_water`.

All colour bands are in CIE Lab (D65) and were derived from the reference colours
listed next to each constant, converted with :func:`colorization.lab.rgb_to_lab`
(values rounded to 0.1; C = chroma, h = hue angle in degrees). They are colour
proxies, not semantics: e.g. light skin (C 20-45, h 50-80) also falls in the sand
and brown bands, so compare each score with its value on the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorization.metrics.checks import check_same_shape, to_lab
from colorization.metrics.vividness import chroma, hue_angle

# Pixels with chroma at or below this are "neutral": their hue is noise.
CHROMATIC_MIN_CHROMA = 5.0

# Brown / sepia band. Reference colours (sRGB -> L, a, b; C, h):
#   sepia (112, 66, 20)       -> 32.7, 16.0, 34.7;  C 38.2, h 65.3
#   sepia photo (158,126,96)  -> 55.1,  8.1, 21.0;  C 22.5, h 69.0
#   coffee (111, 78, 55)      -> 36.2, 10.9, 19.1;  C 22.0, h 60.4
#   saddle brown (139,69,19)  -> 37.5, 26.4, 41.0;  C 48.8, h 57.2
#   sienna (160, 82, 45)      -> 43.8, 29.3, 35.6;  C 46.2, h 50.6
#   camel (193, 154, 107)     -> 66.1,  8.4, 30.2;  C 31.3, h 74.5
#   sepia toner (162,138,101) -> 58.8,  3.6, 23.2;  C 23.5, h 81.1
# Browns span h 50.6-81.1; the band adds ~5 deg each side and stops short of red
# (255,0,0: h 40.0) and of yellow/khaki (h > 90). The chroma cap of 40 keeps the
# *desaturated* browns that averaging many hues produces (sepia C 38.2 inside)
# and excludes vivid orange (255,165,0: C 82.5, h 73.1) and saddle brown.
BROWN_HUE_RANGE = (45.0, 85.0)
BROWN_MAX_CHROMA = 40.0

# Sand band (ground truth). Reference colours:
#   sand (194, 178, 128)        -> 72.8, -1.8, 27.7;  C 27.7, h 93.6
#   desert sand (237, 201, 175) -> 83.4,  8.9, 17.7;  C 19.8, h 63.4
#   tan (210, 180, 140)         -> 75.0,  5.0, 24.4;  C 24.9, h 78.4
#   shaded dune (150, 110, 70)  -> 49.6, 11.0, 28.4;  C 30.4, h 68.9
#   beach (230, 215, 170)       -> 86.2, -1.7, 24.1;  C 24.2, h 94.1
# The band covers h 63.4-94.1 with ~8-10 deg margin, C 19.8-30.4 with margin for
# sunlit/pale sand, and L 49.6-86.2 (shade to bright sunlight).
SAND_HUE_RANGE = (55.0, 105.0)
SAND_CHROMA_RANGE = (10.0, 45.0)
SAND_LIGHTNESS_RANGE = (45.0, 95.0)

# Blue ("water") band for the prediction. Reference colours:
#   water (64, 164, 223) -> C 39.5, h 255.4;  sea (0, 105, 148) -> C 31.9, h 253.3
#   sky blue (135, 206, 235) -> C 25.9, h 235.1;  steel blue (70,130,180) -> h 262.8
#   pure sRGB blue (0, 0, 255) and navy (0, 0, 128) -> h 306.3
# 200-310 spans cyan-blue to the sRGB blue primary; teal/cyan (h 196.4) and purple
# (h >= 313) stay outside.
BLUE_HUE_RANGE = (200.0, 310.0)
BLUE_MIN_CHROMA = 10.0

# "Warm" direction for the warmth projection: orange, h = 60 deg (between the browns
# and orange above); its opposite, 240 deg, is the sky/water blue.
WARM_HUE_DEG = 60.0


def _in_range(x, bounds):
    return (x >= bounds[0]) & (x <= bounds[1])


def brown_sepia_mask(lab) -> np.ndarray:
    """Boolean (H, W) mask of brown/sepia pixels of a Lab image.

    A pixel is brown/sepia when ``CHROMATIC_MIN_CHROMA < C*ab <= BROWN_MAX_CHROMA``
    and ``h_ab`` lies in ``BROWN_HUE_RANGE`` (constants documented in the module).
    """
    c, h = chroma(lab), hue_angle(lab)
    return (c > CHROMATIC_MIN_CHROMA) & (c <= BROWN_MAX_CHROMA) & _in_range(h, BROWN_HUE_RANGE)


def brown_sepia_score(image, *, space: str = "rgb", of: str = "chromatic") -> float:
    """Share of pixels painted in the low-chroma brown/sepia band (claims 5-6).

    ``score = #brown / #chromatic`` (``of="chromatic"``, default), where chromatic
    means ``C*ab > CHROMATIC_MIN_CHROMA`` (= 5) and brown means 5 < C*ab <= 40 with
    45 <= h_ab <= 85 deg (reference colours and their Lab values are given at the
    constants in this module; sepia (112, 66, 20) has C 38.2, h 65.3). With
    ``of="all"``: ``#brown / #pixels``, which also counts gray pixels as not brown.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        sRGB (uint8 or float in [0, 1]) if ``space="rgb"``, CIE Lab if ``space="lab"``.
    space : {"rgb", "lab"}
    of : {"chromatic", "all"}
        Denominator of the share.

    Returns
    -------
    float
        In [0, 1]. 0.0 (not NaN) when the image has no chromatic pixel at all: a gray
        image has no brown pixel.
    """
    if of not in ("chromatic", "all"):
        raise ValueError(f"of must be 'chromatic' or 'all', got {of!r}")
    lab = to_lab(image, space)
    brown = int(np.count_nonzero(brown_sepia_mask(lab)))
    if of == "chromatic":
        n = int(np.count_nonzero(chroma(lab) > CHROMATIC_MIN_CHROMA))
    else:
        n = lab.shape[0] * lab.shape[1]
    return brown / n if n else 0.0


@dataclass(frozen=True)
class ColdShift:
    """Result of :func:`cold_shift`.

    Attributes
    ----------
    delta_b : float
        Mean over all pixels of ``b*_pred - b*_true``; negative = bluer.
    warmth_shift : float
        Mean over chromatic pixels of ``w_pred - w_true``, ``w = a cos 60 + b sin 60``;
        negative = colder. NaN when no pixel is chromatic in either image.
    n_chromatic : int
        Number of pixels that entered ``warmth_shift``.
    """

    delta_b: float
    warmth_shift: float
    n_chromatic: int


def warmth(lab) -> np.ndarray:
    """Projection of ab on the warm (orange, 60 deg) axis: ``a cos 60 + b sin 60``, (H, W)."""
    lab = np.asarray(lab, dtype=np.float64)
    t = np.radians(WARM_HUE_DEG)
    return lab[..., 1] * np.cos(t) + lab[..., 2] * np.sin(t)


def cold_shift(pred, true, *, space: str = "rgb") -> ColdShift:
    """Shift of the prediction toward colder hues than the original (claim 2).

    ``delta_b = mean(b*_pred - b*_true)`` over all pixels: the b* axis runs from
    blue (-) to yellow (+). ``warmth_shift = mean(w_pred - w_true)`` over pixels that
    are chromatic (C*ab > 5) in the prediction or the original, with ``w`` the
    projection of (a, b) on the unit vector at h = 60 deg (orange; its opposite,
    240 deg, is sky blue). Both are signed: negative = colder/bluer. A desaturated
    prediction of a warm original also reads as colder (its ``w`` moves toward 0);
    read these with :func:`~colorization.metrics.delta_colorfulness`.

    Parameters
    ----------
    pred, true : ndarray, shape (H, W, 3)
        sRGB (``space="rgb"``) or CIE Lab (``space="lab"``).

    Returns
    -------
    ColdShift
    """
    p, t = to_lab(pred, space, "pred"), to_lab(true, space, "true")
    check_same_shape(p, t)
    delta_b = float(np.mean(p[..., 2] - t[..., 2]))
    mask = (chroma(p) > CHROMATIC_MIN_CHROMA) | (chroma(t) > CHROMATIC_MIN_CHROMA)
    n = int(np.count_nonzero(mask))
    shift = float(np.mean((warmth(p) - warmth(t))[mask])) if n else float("nan")
    return ColdShift(delta_b=delta_b, warmth_shift=shift, n_chromatic=n)


@dataclass(frozen=True)
class SandAsWater:
    """Result of :func:`sand_as_water`.

    Attributes
    ----------
    share : float
        Share of sand-like ground-truth pixels predicted blue; NaN if ``n_sand == 0``.
    n_sand : int
        Number of sand-like pixels in the ground truth.
    """

    share: float
    n_sand: int


def sand_mask(lab) -> np.ndarray:
    """Boolean (H, W) mask of sand-coloured pixels (``SAND_*`` bands) of a Lab image."""
    lab = np.asarray(lab, dtype=np.float64)
    return (
        _in_range(lab[..., 0], SAND_LIGHTNESS_RANGE)
        & _in_range(chroma(lab), SAND_CHROMA_RANGE)
        & _in_range(hue_angle(lab), SAND_HUE_RANGE)
    )


def blue_mask(lab) -> np.ndarray:
    """Boolean (H, W) mask of blue ("water") pixels: h_ab in 200-310 deg, C*ab > 10."""
    return (chroma(lab) > BLUE_MIN_CHROMA) & _in_range(hue_angle(lab), BLUE_HUE_RANGE)


def sand_as_water(pred, true, *, space: str = "rgb") -> SandAsWater:
    """Share of sand-coloured ground-truth pixels that the prediction paints blue (claim 3).

    ``share = #(sand(true) & blue(pred)) / #sand(true)``. Sand: 45 <= L* <= 95,
    10 <= C*ab <= 45, 55 <= h_ab <= 105 deg (from sand (194,178,128), desert sand
    (237,201,175), tan (210,180,140), ...; see the module constants). Blue:
    200 <= h_ab <= 310 deg and C*ab > 10 (water (64,164,223) h 255.4; sRGB blue h 306.3).

    Parameters
    ----------
    pred, true : ndarray, shape (H, W, 3)
        sRGB (``space="rgb"``) or CIE Lab (``space="lab"``).

    Returns
    -------
    SandAsWater
        ``share`` in [0, 1], or NaN when the ground truth has no sand-like pixel
        (the failure cannot occur: average only over images that have sand).
    """
    p, t = to_lab(pred, space, "pred"), to_lab(true, space, "true")
    check_same_shape(p, t)
    sand = sand_mask(t)
    n = int(np.count_nonzero(sand))
    if n == 0:
        return SandAsWater(share=float("nan"), n_sand=0)
    return SandAsWater(share=float(np.count_nonzero(blue_mask(p) & sand)) / n, n_sand=n)
