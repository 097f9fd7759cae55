"""A fast PNG encoder for large 8-bit RGB/RGBA images, using every CPU core.

Pillow's encoder is single-threaded and filters every row adaptively; for a
12-megapixel photo that alone takes about a second on two cores, more than the
whole rest of colorization. This encoder writes the same standard PNG (any reader
opens it; tests decode it with Pillow bit for bit) but

* filters all rows with the "Up" filter in one vectorized numpy step, and
* deflates with Intel's ISA-L (the ``isal`` package: about 5x faster than zlib
  at zlib level 1's size) in strips of rows on parallel threads (it releases the
  GIL), joined into one zlib stream with sync flushes, as pigz does.

Reference: PNG specification, 3rd edition (W3C, 2025), sections 5 (chunks),
9 (filtering: type 2 "Up") and 10 (compression: one zlib stream across IDAT).
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from isal import isal_zlib

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
