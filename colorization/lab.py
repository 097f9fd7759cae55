"""CIE Lab colour space: the representation the paper's network works in.

The network sees only the lightness channel L and predicts the two chroma channels
a and b (docs/paper.md, "Representation"). This module holds

* the numpy conversions (:func:`rgb_to_lab`, :func:`lab_to_rgb`), which are
  scikit-image's own ``rgb2lab`` / ``lab2rgb`` (sRGB, D65 white, 2° observer);
* the colorimetric constants its speed twins in :mod:`colorization.fast` share
  (the ``keras.ops`` twin that runs inside a training step, the lookup-table twin
  for full-resolution photos), each tested against this module;
* the scalings between Lab and the network's input/output ranges.

Scalings
--------
``AB_SCALE = 128``  *paper*: the output layer is tanh, so the ab target is scaled
    into [-1, 1]; ab / 128 is the common convention for this exact network
    (docs/paper.md, "Representation"). |a|, |b| of sRGB colours stay below 128, so
    nothing is clipped.
``L_CENTER = L_HALF_RANGE = 50``  *our documented choice* (the paper does not say
    how L is scaled at the input): L in [0, 100] is mapped to [-1, 1] by
    ``L / 50 - 1``, the same range as the ab target.
"""

from __future__ import annotations

import numpy as np
from skimage import color as _skcolor

# --- scalings between Lab and the network --------------------------------------
AB_SCALE = 128.0  # paper: tanh output, ab target = ab / 128
L_CENTER = 50.0  # our choice: network input = (L - 50) / 50, in [-1, 1]
L_HALF_RANGE = 50.0

# --- colorimetric constants, identical to scikit-image's (sRGB, D65, 2°) -------
# Linear sRGB -> CIE XYZ (skimage.color.colorconv.xyz_from_rgb).
XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
# Reference white D65, 2° observer (skimage's _illuminants["D65"]["2"]).
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
LAB_EPSILON = 0.008856  # (6/29)**3, CIE's switch between cube root and linear part
LAB_KAPPA = 7.787  # slope of the linear part


def as_float_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an RGB array and return it as float in [0, 1]."""
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an RGB array with 3 channels in the last axis, got shape {rgb.shape}")
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32) / 255.0
    if rgb.dtype == np.uint16:
        return rgb.astype(np.float32) / 65535.0
    if not np.issubdtype(rgb.dtype, np.floating):
        raise TypeError(f"RGB array must be uint8, uint16 or float, got {rgb.dtype}")
    return rgb


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert sRGB to CIE Lab (D65, 2°) with scikit-image.

    Parameters
    ----------
    rgb : ndarray, shape (..., 3)
        uint8, uint16, or float in [0, 1].

    Returns
    -------
    lab : ndarray of float32, shape (..., 3)
        L in [0, 100]; a and b roughly in [-128, 127].
    """
    return _skcolor.rgb2lab(as_float_rgb(rgb)).astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Convert CIE Lab (D65, 2°) to sRGB float in [0, 1] with scikit-image.

    Out-of-gamut colours are clipped to [0, 1] (scikit-image's behaviour).
    """
    lab = np.asarray(lab, dtype=np.float64)
    if lab.ndim < 1 or lab.shape[-1] != 3:
        raise ValueError(f"expected a Lab array of shape (..., 3), got {lab.shape}")
    return _skcolor.lab2rgb(lab).astype(np.float32)


# --- network scalings ----------------------------------------------------------
def scale_l(lightness):
    """Map L in [0, 100] to the network's input range [-1, 1] (works on any array)."""
    return (lightness - L_CENTER) / L_HALF_RANGE


def unscale_l(scaled):
    """Inverse of :func:`scale_l`."""
    return scaled * L_HALF_RANGE + L_CENTER


def scale_ab(ab):
    """Map ab to the tanh output range: ab / 128 (the paper's target)."""
    return ab / AB_SCALE


def unscale_ab(scaled):
    """Inverse of :func:`scale_ab`: network output (tanh) -> ab."""
    return scaled * AB_SCALE
