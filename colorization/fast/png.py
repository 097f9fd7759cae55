"""A fast PNG encoder for large 8-bit RGB/RGBA images, band by band on every CPU core.

Pillow's encoder is single-threaded and filters every row adaptively; for a
12-megapixel photo that alone takes about a second on two cores, more than the
whole rest of colorization. This encoder writes the same standard PNG (any reader
opens it; tests decode it with Pillow bit for bit) but

* takes the image as bands of rows from a function (:func:`encode_png_rows`), so that
  a result can be rendered, filtered, deflated and written a band at a time, the bands
  overlapping on a few threads (:func:`colorization.fast.bands.map_in_order`), and no
  full-size copy of it is ever made (:func:`write_png`);
* filters rows with the "Up" filter in one vectorized numpy step per band (the first row
  of a band with "None", so that bands need nothing of each other), and
* deflates each band with Intel's ISA-L (the ``isal`` package: about 5x faster than zlib
  at zlib level 1's size), joined into one zlib stream with sync flushes, as pigz does;
  the Adler-32 checksums of the bands are combined (:func:`adler32_combine`).

Reference: PNG specification, 3rd edition (W3C, 2025), sections 5 (chunks),
9 (filtering: types 0 "None" and 2 "Up", chosen per row) and 10 (compression: one
zlib stream across consecutive IDAT chunks).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from isal import isal_zlib

from colorization.fast.bands import map_in_order, row_ranges
from colorization.io.files import atomic_path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {3: 2, 4: 6}  # channels -> PNG colour type (truecolour, truecolour with alpha)
_FILTER_NONE, _FILTER_UP = 0, 2
_BAND_BYTES = 1 << 20  # ~1 MiB of pixels per band (what one rendered band of bands.BAND_PIXELS / 2 holds)
_ADLER_BASE = 65521
# ISA-L level 2, measured on the 12-MP photo of benchmarks/big_photo.py (2-core AMD EPYC, 36 MB of pixels):
# level 0: 26.2 MB, 1: 20.7 MB, 2: 20.0 MB, 3: 19.6 MB; CPU 330, 290, 240, 360 ms. Level 2 is the
# smallest file for the least time (3 is 2% smaller at 1.5x the time; zlib's level 1 is ~5x slower).
DEFAULT_LEVEL = 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from their own checksums and the second's length (as zlib's)."""
    low = (first & 0xFFFF) + (second & 0xFFFF) - 1
    high = (first >> 16) + (second >> 16) + second_length * ((first & 0xFFFF) - 1)
    return (high % _ADLER_BASE) << 16 | low % _ADLER_BASE


def _filtered(pixels: np.ndarray) -> np.ndarray:
    """The band's scanlines: a filter byte per row, "None" for its first row and "Up" for the others."""
    rows = pixels.reshape(len(pixels), -1)
    scanlines = np.empty((len(rows), 1 + rows.shape[1]), dtype=np.uint8)
    scanlines[0, 0], scanlines[1:, 0] = _FILTER_NONE, _FILTER_UP
    scanlines[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])  # wraps modulo 256, as PNG wants
    return scanlines


def encode_png_rows(
    rows_of: Callable[[int, int], np.ndarray], height: int, width: int, channels: int, level: int = DEFAULT_LEVEL
) -> Iterator[bytes]:
    """The bytes of a PNG whose rows ``start:stop`` are ``rows_of(start, stop)``, in pieces, in order.

    ``rows_of`` is called on worker threads, for bands of rows in any order, and must return
    (stop - start, width, channels) uint8; a few bands are in flight at once.

    Parameters
    ----------
    rows_of : callable (start, stop) -> ndarray
    height, width : int
    channels : int
        3 (RGB) or 4 (RGBA).
    level : int
        ISA-L level, 0-3 (:data:`DEFAULT_LEVEL`: see the measurements there).
    """
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1, got {width}x{height}")
    if channels not in _COLOR_TYPES:
        raise ValueError(f"expected 3 or 4 channels, got {channels}")
    bands = row_ranges(height, width, max(1, _BAND_BYTES // channels))

    def deflate(band: tuple[int, int]) -> tuple[bytes, int, int]:
        start, stop = band
        pixels = np.ascontiguousarray(rows_of(start, stop))
        if pixels.dtype != np.uint8 or pixels.shape != (stop - start, width, channels):
            raise ValueError(
                f"expected uint8 rows of shape {(stop - start, width, channels)}, got {pixels.dtype} {pixels.shape}"
            )
        raw = memoryview(_filtered(pixels)).cast("B")
        compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)  # raw deflate, no header
        ending = isal_zlib.Z_FINISH if stop == height else isal_zlib.Z_SYNC_FLUSH
        return compressor.compress(raw) + compressor.flush(ending), isal_zlib.adler32(raw), len(raw)

    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    yield _SIGNATURE + _chunk(b"IHDR", header)
    checksum, stream_start = 1, b"\x78\x01"
    for index, (body, band_checksum, length) in enumerate(map_in_order(deflate, bands)):
        checksum = adler32_combine(checksum, band_checksum, length)
        stream_end = struct.pack(">I", checksum) if index == len(bands) - 1 else b""
        yield _chunk(b"IDAT", stream_start + body + stream_end)
        stream_start = b""
    yield _chunk(b"IEND", b"")


def encode_png(pixels: np.ndarray, level: int = DEFAULT_LEVEL) -> bytes:
    """Encode an (H, W, 3|4) uint8 array as PNG bytes (:func:`encode_png_rows` of its rows)."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in _COLOR_TYPES:
        raise ValueError(f"expected uint8 pixels of shape (H, W, 3) or (H, W, 4), got {pixels.dtype} {pixels.shape}")
    return b"".join(encode_png_rows(lambda start, stop: pixels[start:stop], *pixels.shape, level))


def write_png(
    path: str | Path,
    rows_of: Callable[[int, int], np.ndarray],
    shape: tuple[int, int, int],
    overwrite: bool = False,
    level: int = DEFAULT_LEVEL,
) -> Path:
    """Write the PNG of :func:`encode_png_rows` ``(rows_of, *shape)`` atomically, each piece as it comes.

    ``overwrite`` False: an existing ``path`` raises :class:`colorization.io.files.OutputExistsError`.
    """
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as handle:
        for piece in encode_png_rows(rows_of, *shape, level):
            handle.write(piece)
    return Path(path)
