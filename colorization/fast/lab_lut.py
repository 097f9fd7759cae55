"""Fast CIE Lab for full-resolution images: L of a photo, and Lab -> 8-bit sRGB.

Inference joins the network's ab with the photo's *own* L at its own size, which
for a 12-megapixel photo means tens of millions of values per step. These functions
implement the same formulas and constants as :mod:`colorization.lab` (scikit-image's),
but in float32, with lookup tables for the transfer curves, on bands of rows that stay
in cache, spread over all CPU cores (:mod:`colorization.fast.bands`); tests hold them to
scikit-image (L within 0.01, sRGB within one code value). The per-band steps
(:func:`luminance`, :func:`f_of_luminance`, :func:`lab_to_srgb8_rows`) are what
:mod:`colorization.fast.recombine` renders a colorization with.
"""

from __future__ import annotations

import numpy as np

from colorization.fast.bands import for_each_band
from colorization.lab import LAB_EPSILON, LAB_KAPPA, RGB_FROM_XYZ, WHITE_D65, XYZ_FROM_RGB, as_float_rgb


def _srgb_to_linear(c):
    """sRGB transfer function inverse (IEC 61966-2-1), on float arrays."""
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


_Y_WEIGHTS = XYZ_FROM_RGB[1].astype(np.float32)  # the Y row of RGB -> XYZ; WHITE_D65[1] == 1
# Lookup tables: integer sRGB code -> its channel's share of the luminance Y, float32: the exact
# float32 products linear(code) * weight (linear light itself is exact for integer input).
_Y_SHARE_LUTS = {
    dtype: _srgb_to_linear(np.arange(codes) / (codes - 1.0)).astype(np.float32)[None, :] * _Y_WEIGHTS[:, None]
    for dtype, codes in ((np.dtype(np.uint8), 256), (np.dtype(np.uint16), 65536))
}


def lightness(rgb: np.ndarray) -> np.ndarray:
    """L channel of sRGB only (float32, [0, 100]), much cheaper than a full conversion.

    L depends on the relative luminance Y alone, so a and b need not be computed;
    for uint8/uint16 input the sRGB decoding is a table lookup, and Y -> L another
    (over Y quantized to 1/65535: |error| < 0.007 in L, as the steepest point of
    L(Y) has slope 903). Work is spread over bands of rows and all CPU cores. Same
    formulas and constants as :func:`colorization.lab.rgb_to_lab`.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an RGB array of shape (..., 3), got {rgb.shape}")
    rgb = as_lut_input(rgb)
    if rgb.ndim != 3:  # a single pixel row or a batch: no bands
        return _L_FROM_Y_LUT[_y_index(luminance(rgb))]
    out = np.empty(rgb.shape[:2], dtype=np.float32)

    def band(start: int, stop: int) -> None:
        out[start:stop] = _L_FROM_Y_LUT[_y_index(luminance(rgb[start:stop]))]

    for_each_band(band, *rgb.shape[:2])
    return out


def luminance(rgb) -> np.ndarray:
    """Relative luminance Y (white = 1) of sRGB pixels (:func:`as_lut_input`), float32, clipped to [0, 1]."""
    shares = _Y_SHARE_LUTS.get(rgb.dtype)
    if shares is not None:
        y = np.take(shares[0], rgb[..., 0])
        y += np.take(shares[1], rgb[..., 1])
        y += np.take(shares[2], rgb[..., 2])
    else:
        y = _srgb_to_linear(rgb).astype(np.float32) @ _Y_WEIGHTS
    return np.clip(y, 0.0, 1.0, out=y)


def f_of_luminance(y: np.ndarray) -> np.ndarray:
    """CIE f(Y) = (L + 16) / 116 of luminance ``y`` in [0, 1], through the table of Y quantized to 1/65535."""
    return np.take(_FY_FROM_Y_LUT, _y_index(y.copy()))


def _y_index(y: np.ndarray) -> np.ndarray:
    """Y in [0, 1] -> index into the Y tables (overwrites ``y``)."""
    y *= _Y_STEPS
    return np.rint(y, out=y).astype(np.uint16)


def _l_from_y(y):
    """CIE L* from relative luminance Y (white = 1), float arrays."""
    f = np.where(y > LAB_EPSILON, np.cbrt(y), LAB_KAPPA * y + 16.0 / 116.0)
    return 116.0 * f - 16.0


_Y_STEPS = 65535
_L_FROM_Y_LUT = _l_from_y(np.arange(_Y_STEPS + 1) / _Y_STEPS).astype(np.float32)
_FY_FROM_Y_LUT = (_L_FROM_Y_LUT + 16.0) / 116.0  # CIE f(Y), the form L takes in Lab -> XYZ


# --- fast Lab -> 8-bit sRGB for full-resolution output ---------------------------
_LINEAR_STEPS = 65535
# Linear light -> 8-bit sRGB code through a table indexed by floor(linear * 65535):
# entry i holds the code of the bin's centre (i + 0.5) / 65535. One code off at most,
# and only at code boundaries (the steepest slope is 12.92 * 255 / 65535 = 0.05 codes/bin).
_SRGB8_FROM_LINEAR_LUT = np.clip(
    np.rint(
        255.0
        * np.where(
            (x := np.minimum((np.arange(_LINEAR_STEPS + 1) + 0.5) / _LINEAR_STEPS, 1.0)) > 0.0031308,
            1.055 * x ** (1 / 2.4) - 0.055,
            12.92 * x,
        )
    ),
    0,
    255,
).astype(np.uint8)


def _f_inverse(f: np.ndarray) -> np.ndarray:
    """Inverse of CIE's f(t): t = f^3 above 6/29, linear below."""
    out = f * f
    out *= f
    dark = f <= 0.2068966
    if dark.any():
        out[dark] = (f[dark] - 16.0 / 116.0) / LAB_KAPPA
    return out


def _linear_rgb(fy, y, a_plane, b_plane):
    """Lab -> linear sRGB (unclipped), float32, one array per channel.

    Takes L as ``fy = (L + 16) / 116`` and its luminance ``y = f^-1(fy)``, both
    shared by every chroma tried for a pixel.
    """
    fz = b_plane * np.float32(1 / 200.0)
    np.subtract(fy, fz, out=fz)
    np.maximum(fz, 0.0, out=fz)  # as scikit-image: negative Z is clipped
    fx = a_plane * np.float32(1 / 500.0)
    fx += fy
    x, z = _f_inverse(fx), _f_inverse(fz)  # X / Xn, Z / Zn
    channels = []
    for weights in _RGB_FROM_RELATIVE_XYZ:
        linear = x * weights[0]
        linear += y * weights[1]
        linear += z * weights[2]
        channels.append(linear)
    return channels


# XYZ relative to the white (X/Xn, Y, Z/Zn) -> linear sRGB. Rows are normalised to sum
# to 1 (a change below 1e-4) so that ab = 0 gives R = G = B exactly: gray stays gray.
_RGB_FROM_RELATIVE_XYZ = RGB_FROM_XYZ * WHITE_D65[None, :]
_RGB_FROM_RELATIVE_XYZ = (_RGB_FROM_RELATIVE_XYZ / _RGB_FROM_RELATIVE_XYZ.sum(axis=1, keepdims=True)).astype(np.float32)
_GAMUT_TOLERANCE = 1e-4  # linear-light slack before a colour counts as out of gamut
_GAMUT_STEPS = 6  # bisection steps: chroma found to within 1/64 of its predicted value


def _out_of_gamut(channels):
    outside = np.zeros(channels[0].shape, dtype=bool)
    for linear in channels:
        outside |= linear < -_GAMUT_TOLERANCE
        outside |= linear > 1.0 + _GAMUT_TOLERANCE
    return outside


def _fit_chroma(fy, y, a_plane, b_plane):
    """Linear sRGB of the largest chroma factor s in [0, 1] (bisection) at which (L, s a, s b) fits sRGB."""
    low = np.zeros(fy.shape, np.float32)
    high = np.ones(fy.shape, np.float32)
    for _ in range(_GAMUT_STEPS):
        middle = (low + high) / 2
        bad = _out_of_gamut(_linear_rgb(fy, y, a_plane * middle, b_plane * middle))
        high = np.where(bad, middle, high)
        low = np.where(bad, low, middle)
    return _linear_rgb(fy, y, a_plane * low, b_plane * low)


def lab_to_srgb8_rows(fy, y, a_plane, b_plane, out, keep_lightness=True) -> None:
    """Lab -> 8-bit sRGB of a band into ``out`` (..., 3) uint8; L as ``fy`` = f(Y) and ``y`` = Y, all float32.

    With ``keep_lightness``, a colour outside sRGB keeps L and hue and loses chroma until it
    fits (bisection on the chroma factor, for those pixels only).
    """
    channels = _linear_rgb(fy, y, a_plane, b_plane)
    if keep_lightness:
        outside = _out_of_gamut(channels)
        if outside.any():
            parts = (plane[outside] for plane in (fy, y, a_plane, b_plane))
            for linear, fit in zip(channels, _fit_chroma(*parts), strict=True):
                linear[outside] = fit
    for channel, linear in enumerate(channels):
        linear *= _LINEAR_STEPS
        np.clip(linear, 0.0, _LINEAR_STEPS, out=linear)
        out[..., channel] = np.take(_SRGB8_FROM_LINEAR_LUT, linear.astype(np.uint16))  # floor: see the table


def lab_to_srgb8(lightness_plane: np.ndarray, ab: np.ndarray, keep_lightness: bool = True) -> np.ndarray:
    """Lab -> 8-bit sRGB, fast, for full-resolution output.

    Same formulas and constants as :func:`colorization.lab.lab_to_rgb` (scikit-image), in float32,
    with the sRGB encoding done through a lookup table, on bands of rows spread
    over all CPU cores.

    With ``keep_lightness`` (the default), a colour outside the sRGB gamut keeps
    its L and hue and loses chroma until it fits, so the output's lightness is the
    input's. Without it, channels are clipped as scikit-image does, which shifts
    L, and the result agrees with ``to_uint8(lab_to_rgb(lab))`` to within one code.

    Parameters
    ----------
    lightness_plane : ndarray, shape (H, W)
        L in [0, 100].
    ab : ndarray, shape (H, W, 2)
    keep_lightness : bool

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    lightness_plane = np.asarray(lightness_plane, dtype=np.float32)
    ab = np.asarray(ab, dtype=np.float32)
    if ab.shape != lightness_plane.shape + (2,):
        raise ValueError(f"ab must have shape {lightness_plane.shape + (2,)}, got {ab.shape}")
    out = np.empty(lightness_plane.shape + (3,), dtype=np.uint8)
    if out.size == 0:
        return out

    def band(start: int, stop: int) -> None:
        fy = (lightness_plane[start:stop] + 16.0) / 116.0
        a_plane, b_plane = (np.ascontiguousarray(ab[start:stop, ..., k]) for k in (0, 1))
        lab_to_srgb8_rows(fy, _f_inverse(fy), a_plane, b_plane, out[start:stop], keep_lightness)

    for_each_band(band, len(lightness_plane), lightness_plane.size // len(lightness_plane))
    return out


def as_lut_input(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as :func:`luminance` takes it: uint8 and uint16 as they are (table lookups), other types as float32."""
    return rgb if rgb.dtype in _Y_SHARE_LUTS else as_float_rgb(rgb).astype(np.float32, copy=False)
