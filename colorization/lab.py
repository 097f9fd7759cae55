"""CIE Lab colour space: the representation the paper's network works in.

The network sees only the lightness channel L and predicts the two chroma channels
a and b (PAPER.md, "Representation"). This module holds

* the numpy conversions (:func:`rgb_to_lab`, :func:`lab_to_rgb`), which are
  scikit-image's own ``rgb2lab`` / ``lab2rgb`` (sRGB, D65 white, 2° observer);
* a ``keras.ops`` twin (:func:`rgb_to_lab_ops`, :func:`lab_to_rgb_ops`) of the same
  formulas, so that the conversion can run inside a compiled training step on any
  Keras backend (TensorFlow on the CPU, JAX on a GPU). Tests hold the twin to
  within 0.01 of scikit-image in L, a and b;
* the scalings between Lab and the network's input/output ranges.

Scalings
--------
``AB_SCALE = 128``  *paper*: the output layer is tanh, so the ab target is scaled
    into [-1, 1]; ab / 128 is the common convention for this exact network
    (PAPER.md). |a|, |b| of sRGB colours stay below 128, so nothing is clipped.
``L_CENTER = L_HALF_RANGE = 50``  *our documented choice* (the paper does not say
    how L is scaled at the input): L in [0, 100] is mapped to [-1, 1] by
    ``L / 50 - 1``, the same range as the ab target.
"""

from __future__ import annotations

import os

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
_LAB_EPS = 0.008856  # (6/29)**3, CIE's switch between cube root and linear part
_LAB_KAPPA = 7.787  # slope of the linear part


def _as_float_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an RGB array and return it as float in [0, 1]."""
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(
            f"expected an RGB array with 3 channels in the last axis, got shape {rgb.shape}"
        )
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
    return _skcolor.rgb2lab(_as_float_rgb(rgb)).astype(np.float32)


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


# --- keras.ops twin --------------------------------------------------------------
def rgb_to_lab_ops(rgb):
    """``keras.ops`` version of :func:`rgb_to_lab` for use inside a training step.

    Parameters
    ----------
    rgb : tensor, shape (..., 3)
        Float sRGB in [0, 1] (cast uint8 with ``rgb / 255`` first).

    Returns
    -------
    tensor, shape (..., 3), float32
        L, a, b with the same formulas and constants as scikit-image.
    """
    from keras import ops

    rgb = ops.cast(rgb, "float32")
    linear = ops.where(
        rgb > 0.04045,
        ops.power((ops.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4),
        rgb / 12.92,
    )
    matrix = ops.convert_to_tensor((XYZ_FROM_RGB / WHITE_D65[:, None]).T, "float32")
    xyz = ops.matmul(linear, matrix)  # already divided by the reference white
    f = ops.where(
        xyz > _LAB_EPS,
        ops.power(ops.maximum(xyz, _LAB_EPS), 1.0 / 3.0),
        _LAB_KAPPA * xyz + 16.0 / 116.0,
    )
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return ops.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb_ops(lab):
    """``keras.ops`` version of :func:`lab_to_rgb`: Lab -> sRGB float in [0, 1]."""
    from keras import ops

    lab = ops.cast(lab, "float32")
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = ops.maximum(fy - lab[..., 2] / 200.0, 0.0)  # as skimage: negative Z -> 0
    f = ops.stack([fx, fy, fz], axis=-1)
    xyz = ops.where(f > 0.2068966, f * f * f, (f - 16.0 / 116.0) / _LAB_KAPPA)
    matrix = ops.convert_to_tensor((RGB_FROM_XYZ * WHITE_D65[None, :]).T, "float32")
    linear = ops.matmul(xyz, matrix)
    srgb = ops.where(
        linear > 0.0031308,
        1.055 * ops.power(ops.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
        12.92 * linear,
    )
    return ops.clip(srgb, 0.0, 1.0)


def _srgb_to_linear(c):
    """sRGB transfer function inverse (IEC 61966-2-1), on float arrays."""
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


# Lookup tables: integer sRGB code -> linear light, float32 (exact for integer input).
_LINEAR_LUT = {
    np.dtype(np.uint8): _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32),
    np.dtype(np.uint16): _srgb_to_linear(np.arange(65536) / 65535.0).astype(np.float32),
}


def lightness(rgb: np.ndarray) -> np.ndarray:
    """L channel of sRGB only (float32, [0, 100]), much cheaper than a full conversion.

    L depends on the relative luminance Y alone, so a and b need not be computed;
    for uint8/uint16 input the sRGB decoding is a table lookup, and Y -> L another
    (over Y quantized to 1/65535: |error| < 0.007 in L, as the steepest point of
    L(Y) has slope 903). Work is spread over strips of rows and all CPU cores. Same
    formulas and constants as :func:`rgb_to_lab`; inference uses it at full resolution.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an RGB array of shape (..., 3), got {rgb.shape}")
    if rgb.dtype not in _LINEAR_LUT:
        rgb = _as_float_rgb(rgb).astype(np.float32, copy=False)
    if rgb.ndim != 3:  # a single pixel row or a batch: no strips
        out = np.empty(rgb.shape[:-1], dtype=np.float32)
        _lightness_rows(rgb, out)
        return out
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    _map_row_strips(_lightness_rows, rgb, out)
    return out


def _lightness_rows(rgb, out):
    weights = XYZ_FROM_RGB[1].astype(np.float32)  # the Y row; WHITE_D65[1] == 1
    lut = _LINEAR_LUT.get(rgb.dtype)
    if lut is not None:
        y = lut[rgb[..., 0]] * weights[0]
        y += lut[rgb[..., 1]] * weights[1]
        y += lut[rgb[..., 2]] * weights[2]
    else:
        y = _srgb_to_linear(rgb).astype(np.float32) @ weights
    np.clip(y, 0.0, 1.0, out=y)
    y *= _Y_STEPS
    out[...] = _L_FROM_Y_LUT[np.rint(y, out=y).astype(np.uint16)]


def _l_from_y(y):
    """CIE L* from relative luminance Y (white = 1), float arrays."""
    f = np.where(y > _LAB_EPS, np.cbrt(y), _LAB_KAPPA * y + 16.0 / 116.0)
    return 116.0 * f - 16.0


_Y_STEPS = 65535
_L_FROM_Y_LUT = _l_from_y(np.arange(_Y_STEPS + 1) / _Y_STEPS).astype(np.float32)


# --- fast Lab -> 8-bit sRGB for full-resolution output ---------------------------
_LINEAR_STEPS = 65535
# linear light quantized to 1/65535 -> 8-bit sRGB code; off by one code at most, and
# only at code boundaries (the steepest slope is 12.92 * 255 / 65535 = 0.05 codes/step).
_SRGB8_FROM_LINEAR_LUT = np.clip(
    np.rint(
        255.0
        * np.where(
            (x := np.arange(_LINEAR_STEPS + 1) / _LINEAR_STEPS) > 0.0031308,
            1.055 * x ** (1 / 2.4) - 0.055,
            12.92 * x,
        )
    ),
    0,
    255,
).astype(np.uint8)


def _f_inverse(f: np.ndarray) -> np.ndarray:
    """Inverse of CIE's f(t): t = f^3 above 6/29, linear below (in place where possible)."""
    out = f * f * f
    dark = f <= 0.2068966
    if dark.any():
        out[dark] = (f[dark] - 16.0 / 116.0) / _LAB_KAPPA
    return out


def _lab_to_srgb8_rows(lightness_plane, ab, out):
    fy = (lightness_plane + 16.0) / 116.0
    fx = fy + ab[..., 0] * np.float32(1 / 500.0)
    fz = fy - ab[..., 1] * np.float32(1 / 200.0)
    np.maximum(fz, 0.0, out=fz)  # as scikit-image: negative Z is clipped
    x = _f_inverse(fx)
    x *= np.float32(WHITE_D65[0])
    y = _f_inverse(fy)
    z = _f_inverse(fz)
    z *= np.float32(WHITE_D65[2])
    matrix = RGB_FROM_XYZ.astype(np.float32)
    for channel in range(3):
        linear = x * matrix[channel, 0]
        linear += y * matrix[channel, 1]
        linear += z * matrix[channel, 2]
        np.clip(linear, 0.0, 1.0, out=linear)
        linear *= _LINEAR_STEPS
        out[..., channel] = _SRGB8_FROM_LINEAR_LUT[np.rint(linear, out=linear).astype(np.uint16)]


def lab_to_srgb8(lightness_plane: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Lab -> 8-bit sRGB, fast, for full-resolution output.

    Same formulas and constants as :func:`lab_to_rgb` (scikit-image), in float32,
    with the sRGB encoding done through a lookup table, on strips of rows spread
    over all CPU cores. Agrees with ``to_uint8(lab_to_rgb(lab))`` to within one
    code value.

    Parameters
    ----------
    lightness_plane : ndarray, shape (H, W)
        L in [0, 100].
    ab : ndarray, shape (H, W, 2)

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    lightness_plane = np.asarray(lightness_plane, dtype=np.float32)
    ab = np.asarray(ab, dtype=np.float32)
    if ab.shape != lightness_plane.shape + (2,):
        raise ValueError(f"ab must have shape {lightness_plane.shape + (2,)}, got {ab.shape}")
    out = np.empty(lightness_plane.shape + (3,), dtype=np.uint8)
    _map_row_strips(_lab_to_srgb8_rows, lightness_plane, ab, out)
    return out


def _map_row_strips(function, *arrays, pixels_per_strip: int = 1 << 18):
    """Call ``function(*strips)`` on strips of rows of ``arrays``, over a thread pool.

    numpy releases the GIL in its loops, so threads use every core; strips of
    ~256k pixels keep the temporaries in cache.
    """
    height, width = arrays[0].shape[:2]
    rows = max(1, pixels_per_strip // max(width, 1))
    starts = range(0, height, rows)
    if len(starts) == 1:
        function(*arrays)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda r: function(*(a[r : r + rows] for a in arrays)), starts))
