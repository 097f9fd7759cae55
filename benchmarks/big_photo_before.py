"""The 12-MP path as it was before issue 16's strip pipeline, frozen for benchmarks/big_photo.py's ratios.

A verbatim copy of the previous ``colorization.fast.lab_lut.render`` (whole-image output, strips of
2**18 pixels on a thread pool) and ``colorization.fast.png.encode_png`` (whole-image "Up" filter, then
ISA-L deflate in 4 MiB pieces): the benchmark runs it next to today's code in the same process. Not
used by the package.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from isal import isal_zlib

from colorization.lab import LAB_EPSILON, LAB_KAPPA, RGB_FROM_XYZ, WHITE_D65, XYZ_FROM_RGB, as_float_rgb


def _srgb_to_linear(c):
    """sRGB transfer function inverse (IEC 61966-2-1), on float arrays."""
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


# Lookup tables: integer sRGB code -> linear light, float32 (exact for integer input).
_LINEAR_LUT = {
    np.dtype(np.uint8): _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32),
    np.dtype(np.uint16): _srgb_to_linear(np.arange(65536) / 65535.0).astype(np.float32),
}


def _luminance_rows(rgb) -> np.ndarray:
    """Relative luminance Y (white = 1) of a strip, float32, clipped to [0, 1]."""
    weights = XYZ_FROM_RGB[1].astype(np.float32)  # the Y row; WHITE_D65[1] == 1
    lut = _LINEAR_LUT.get(rgb.dtype)
    if lut is not None:
        y = lut[rgb[..., 0]] * weights[0]
        y += lut[rgb[..., 1]] * weights[1]
        y += lut[rgb[..., 2]] * weights[2]
    else:
        y = _srgb_to_linear(rgb).astype(np.float32) @ weights
    return np.clip(y, 0.0, 1.0, out=y)


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
# linear light quantized to 1/65535 -> 8-bit sRGB code; off by one code at most, and
# only at code boundaries (the steepest slope is 12.92 * 255 / 65535 = 0.05 codes/step).
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
    """Inverse of CIE's f(t): t = f^3 above 6/29, linear below (in place where possible)."""
    out = f * f * f
    dark = f <= 0.2068966
    if dark.any():
        out[dark] = (f[dark] - 16.0 / 116.0) / LAB_KAPPA
    return out


def _linear_rgb(fy, y, a_plane, b_plane):
    """Lab -> linear sRGB (unclipped), float32, one array per channel.

    Takes L as ``fy = (L + 16) / 116`` and its luminance ``y = f^-1(fy)``, both
    shared by every chroma tried for a pixel.
    """
    fz = fy - b_plane * np.float32(1 / 200.0)
    np.maximum(fz, 0.0, out=fz)  # as scikit-image: negative Z is clipped
    x = _f_inverse(fy + a_plane * np.float32(1 / 500.0))  # X / Xn
    z = _f_inverse(fz)  # Z / Zn
    matrix = _RGB_FROM_RELATIVE_XYZ
    channels = []
    for channel in range(3):
        linear = x * matrix[channel, 0]
        linear += y * matrix[channel, 1]
        linear += z * matrix[channel, 2]
        channels.append(linear)
    return channels


# XYZ relative to the white (X/Xn, Y, Z/Zn) -> linear sRGB. Rows are normalised to sum
# to 1 (a change below 1e-4) so that ab = 0 gives R = G = B exactly: gray stays gray.
_RGB_FROM_RELATIVE_XYZ = RGB_FROM_XYZ * WHITE_D65[None, :]
_RGB_FROM_RELATIVE_XYZ = (_RGB_FROM_RELATIVE_XYZ / _RGB_FROM_RELATIVE_XYZ.sum(axis=1, keepdims=True)).astype(np.float32)
_GAMUT_TOLERANCE = 1e-4  # linear-light slack before a colour counts as out of gamut
_GAMUT_STEPS = 6  # bisection steps: chroma found to within 1/64 of its predicted value
_STRIP_PIXELS = 1 << 18  # pixels per strip of work (and per tile of a very wide row): temporaries stay in cache


def _out_of_gamut(channels):
    outside = np.zeros(channels[0].shape, dtype=bool)
    for linear in channels:
        outside |= (linear < -_GAMUT_TOLERANCE) | (linear > 1.0 + _GAMUT_TOLERANCE)
    return outside


def _lab_to_srgb8_rows(fy, y, ab, out, keep_lightness=True):
    a_plane, b_plane = ab[..., 0], ab[..., 1]
    channels = _linear_rgb(fy, y, a_plane, b_plane)
    outside = _out_of_gamut(channels) if keep_lightness else None
    if outside is not None and outside.any():
        # Keep L and hue, shrink chroma until the colour fits: bisection on the
        # factor s in [0, 1] applied to (a, b), for the out-of-gamut pixels only.
        fy_out, y_out, a_out, b_out = fy[outside], y[outside], a_plane[outside], b_plane[outside]
        low = np.zeros(fy_out.shape, np.float32)
        high = np.ones(fy_out.shape, np.float32)
        for _ in range(_GAMUT_STEPS):
            middle = (low + high) / 2
            bad = _out_of_gamut(_linear_rgb(fy_out, y_out, a_out * middle, b_out * middle))
            high = np.where(bad, middle, high)
            low = np.where(bad, low, middle)
        fitted = _linear_rgb(fy_out, y_out, a_out * low, b_out * low)
        for linear, fit in zip(channels, fitted, strict=True):
            linear[outside] = fit
    for channel, linear in enumerate(channels):
        linear *= _LINEAR_STEPS
        np.clip(linear, 0.0, _LINEAR_STEPS, out=linear)
        out[..., channel] = _SRGB8_FROM_LINEAR_LUT[linear.astype(np.uint16)]  # floor: see the table


def _map_row_ranges(function, height: int, width: int, pixels_per_strip: int = _STRIP_PIXELS):
    """Call ``function(start, stop)`` for strips of rows covering ``height``, on all cores.

    numpy releases the GIL in its loops, so threads use every core; strips of
    ~256k pixels keep the temporaries in cache.
    """
    rows = max(1, pixels_per_strip // max(width, 1))
    starts = range(0, height, rows)
    if len(starts) == 1:
        function(0, height)
        return
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(lambda start: function(start, min(start + rows, height)), starts))


def _bilinear_taps(size_out: int, size_in: int, start: int, stop: int):
    """Source indices and weights of bilinear resampling for targets start..stop, pixel centres aligned
    (as Pillow and scikit-image): source = (target + 0.5) * size_in / size_out - 0.5."""
    source = (np.arange(start, stop, dtype=np.float64) + 0.5) * (size_in / size_out) - 0.5
    source = np.clip(source, 0, size_in - 1)
    low = np.floor(source).astype(np.intp)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (source - low).astype(np.float32)


def render(rgb: np.ndarray, ab: np.ndarray, keep_lightness: bool = True) -> np.ndarray:
    """The colorized photo at its own size: its own L joined with ``ab`` scaled up.

    One pass over strips of rows on all cores: each strip takes its L from ``rgb``,
    its ab by bilinear interpolation of the low-resolution ``ab``, and becomes
    8-bit sRGB (:func:`lab_to_srgb8`'s formulas and gamut mapping). Nothing of full
    size is held but the input and the output.

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
    rgb = np.asarray(rgb)
    ab = np.asarray(ab, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {rgb.shape}")
    if ab.ndim != 3 or ab.shape[2] != 2:
        raise ValueError(f"expected ab of shape (h, w, 2), got {ab.shape}")
    height, width = rgb.shape[:2]
    # Bilinear upsampling (columns, then rows) per strip, from the ab rows it reads: no full-size temporary.
    out = np.empty((height, width, 3), dtype=np.uint8)

    def strip(start: int, stop: int) -> None:
        row_low, row_high, row_weight = _bilinear_taps(height, ab.shape[0], start, stop)
        used, inverse = np.unique(np.r_[row_low, row_high], return_inverse=True)
        ab_used, (low, high), weight = ab[used], np.split(inverse, 2), row_weight[:, None, None]
        for cols in (slice(left, min(left + _STRIP_PIXELS, width)) for left in range(0, width, _STRIP_PIXELS)):
            col_low, col_high, col_weight = _bilinear_taps(width, ab.shape[1], cols.start, cols.stop)
            ab_cols = ab_used[:, col_low] * (1 - col_weight[:, None]) + ab_used[:, col_high] * col_weight[:, None]
            ab_strip = ab_cols[low] * (1 - weight)
            ab_strip += ab_cols[high] * weight
            y = _luminance_rows(_as_lut_input(rgb[start:stop, cols]))
            fy = _FY_FROM_Y_LUT[_y_index(y.copy())]  # L enters as f(Y); Y itself is kept exactly
            _lab_to_srgb8_rows(fy, y, ab_strip, out[start:stop, cols], keep_lightness)

    _map_row_ranges(strip, height, width)
    return out


def _as_lut_input(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.dtype in _LINEAR_LUT else as_float_rgb(rgb).astype(np.float32, copy=False)


_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {3: 2, 4: 6}  # channels -> PNG colour type (truecolour, truecolour with alpha)
_FILTER_UP = 2
_STRIP_BYTES = 4 << 20  # deflate ~4 MiB of scanlines per task


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def encode_png(pixels: np.ndarray, level: int = 2) -> bytes:
    """Encode an (H, W, 3|4) uint8 array as PNG bytes.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, 3) or (H, W, 4), uint8
    level : int
        ISA-L level, 0-3. Level 2 gives about zlib level 1's size for photographs.

    Returns
    -------
    bytes
    """
    pixels = np.ascontiguousarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in _COLOR_TYPES:
        raise ValueError(f"expected uint8 pixels of shape (H, W, 3) or (H, W, 4), got {pixels.dtype} {pixels.shape}")
    height, width, channels = pixels.shape
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1, got {width}x{height}")
    rows = pixels.reshape(height, width * channels)
    scanlines = np.empty((height, 1 + width * channels), dtype=np.uint8)
    scanlines[:, 0] = _FILTER_UP
    scanlines[0, 1:] = rows[0]  # the row above the first is taken as zeros
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])  # wraps modulo 256, as PNG wants
    raw = memoryview(scanlines).cast("B")

    step = max(1, _STRIP_BYTES // scanlines.shape[1]) * scanlines.shape[1]
    pieces = [raw[start : start + step] for start in range(0, len(raw), step)]

    def deflate(index: int) -> bytes:
        compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)  # raw deflate, no header
        last = index == len(pieces) - 1
        return compressor.compress(pieces[index]) + compressor.flush(
            isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH
        )

    with ThreadPoolExecutor(max_workers=min(len(pieces), os.cpu_count() or 1)) as pool:
        body = b"".join(pool.map(deflate, range(len(pieces))))
    stream = b"\x78\x01" + body + struct.pack(">I", isal_zlib.adler32(raw))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")
