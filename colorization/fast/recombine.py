"""The colorized photo at its own size: its own L joined with the predicted ab scaled up, band by band.

One renderer (what :func:`colorization.colorize.render` calls): each band of rows takes its
L from the photo, its ab by bilinear interpolation of the low-resolution ab (columns, then
rows, from the ab rows it reads), and becomes 8-bit sRGB with
:func:`colorization.fast.lab_lut.lab_to_srgb8_rows` (L-preserving gamut mapping). Nothing of
full size is made but the output: :func:`render` fills one array from bands on all cores,
:func:`render_rows` gives one band (for a PNG written as the bands come,
:func:`colorization.fast.png.write_png`). An all-zero ab is the exactly neutral image
(:func:`neutral_gray`), which the float32 path misses by a code value on ~1% of pixels.
"""

from __future__ import annotations

import numpy as np

from colorization import lab
from colorization.fast import lab_lut
from colorization.fast.bands import BAND_PIXELS, for_each_band
from colorization.io.images import to_uint8

NEUTRAL_CHUNK = 1 << 18  # pixels per step of neutral_gray: its float64 temporaries stay small


def neutral_gray(rgb: np.ndarray) -> np.ndarray:
    """The uint8 gray image with ``rgb``'s lightness and R = G = B exactly (ab = 0).

    Pixel by pixel (L -> Lab (L, 0, 0) -> sRGB), in chunks of :data:`NEUTRAL_CHUNK` pixels.
    """
    rgb = np.asarray(rgb)
    pixels = rgb.reshape(-1, 3)  # a copy only if ``rgb`` is not contiguous
    gray = np.empty(len(pixels), np.uint8)
    for start in range(0, len(pixels), NEUTRAL_CHUNK):
        lab_part = np.zeros((min(NEUTRAL_CHUNK, len(pixels) - start), 3), dtype=np.float32)
        lab_part[:, 0] = lab_lut.lightness(pixels[start : start + NEUTRAL_CHUNK])
        gray[start : start + len(lab_part)] = to_uint8(lab.lab_to_rgb(lab_part).mean(axis=-1))
    return np.repeat(gray.reshape(rgb.shape[:2])[..., None], 3, axis=-1)


def _bilinear_taps(size_out: int, size_in: int, start: int, stop: int):
    """Source indices and weights of bilinear resampling for targets start..stop, pixel centres aligned
    (as Pillow and scikit-image): source = (target + 0.5) * size_in / size_out - 0.5."""
    source = (np.arange(start, stop, dtype=np.float64) + 0.5) * (size_in / size_out) - 0.5
    source = np.clip(source, 0, size_in - 1)
    low = np.floor(source).astype(np.intp)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (source - low).astype(np.float32)


def _check(rgb: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` as an array and ``ab`` as float32 planes (2, h, w); ValueError for other shapes."""
    rgb, ab = np.asarray(rgb), np.asarray(ab, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {rgb.shape}")
    if ab.ndim != 3 or ab.shape[2] != 2:
        raise ValueError(f"expected ab of shape (h, w, 2), got {ab.shape}")
    return rgb, np.ascontiguousarray(np.moveaxis(ab, -1, 0))


def _render_into(rgb, ab_planes, start: int, stop: int, out: np.ndarray, keep_lightness: bool) -> None:
    """Rows start..stop of the rendering into ``out`` (stop - start, W, 3), in tiles of at most a band's pixels."""
    (height, width), (_, ab_height, ab_width) = rgb.shape[:2], ab_planes.shape
    row_low, row_high, row_weight = _bilinear_taps(height, ab_height, start, stop)
    used, inverse = np.unique(np.r_[row_low, row_high], return_inverse=True)
    ab_used, (low, high), weight = ab_planes[:, used], np.split(inverse, 2), row_weight[:, None]
    for left in range(0, width, BAND_PIXELS):
        cols = slice(left, min(left + BAND_PIXELS, width))
        col_low, col_high, col_weight = _bilinear_taps(width, ab_width, cols.start, cols.stop)
        ab_cols = ab_used[:, :, col_low] * (1 - col_weight) + ab_used[:, :, col_high] * col_weight
        a_plane, b_plane = (np.take(plane, low, axis=0) * (1 - weight) for plane in ab_cols)
        a_plane += np.take(ab_cols[0], high, axis=0) * weight
        b_plane += np.take(ab_cols[1], high, axis=0) * weight
        y = lab_lut.luminance(lab_lut.as_lut_input(rgb[start:stop, cols]))
        fy = lab_lut.f_of_luminance(y)  # L enters as f(Y); Y itself is kept exactly
        lab_lut.lab_to_srgb8_rows(fy, y, a_plane, b_plane, out[:, cols], keep_lightness)


def render_rows(rgb: np.ndarray, ab: np.ndarray, start: int, stop: int, keep_lightness: bool = True) -> np.ndarray:
    """Rows ``start:stop`` of :func:`render` ``(rgb, ab)``, exactly, computed in the caller's thread."""
    rgb, ab_planes = _check(rgb, ab)
    if not np.any(ab_planes):
        return neutral_gray(rgb[start:stop])
    out = np.empty((stop - start, rgb.shape[1], 3), dtype=np.uint8)
    _render_into(rgb, ab_planes, start, stop, out, keep_lightness)
    return out


def render(rgb: np.ndarray, ab: np.ndarray, keep_lightness: bool = True) -> np.ndarray:
    """The colorized photo at its own size: its own L joined with ``ab`` scaled up, in bands on all cores.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8 or uint16
    ab : ndarray, shape (h, w, 2)
        Predicted a, b (Lab units), e.g. 256 x 256.
    keep_lightness : bool
        Keep L exactly by reducing chroma of out-of-gamut colours (default).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    rgb, ab_planes = _check(rgb, ab)
    if not np.any(ab_planes):
        return neutral_gray(rgb)
    out = np.empty(rgb.shape[:2] + (3,), dtype=np.uint8)
    for_each_band(
        lambda start, stop: _render_into(rgb, ab_planes, start, stop, out[start:stop], keep_lightness), *out.shape[:2]
    )
    return out
