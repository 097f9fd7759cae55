"""Builders of the odd and broken image files that the bad-input tests feed the package."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def photo(real_photos, name="chelsea.png", size=(120, 90)) -> np.ndarray:
    """A real photograph, resized to (width, height), uint8 RGB."""
    return np.asarray(Image.fromarray(real_photos[name]).resize(size))


def write_text_as_jpg(path: Path) -> Path:
    path.write_text("this is not a picture\n")
    return path


def write_truncated_jpeg(path: Path, rgb: np.ndarray) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def write_png16(path: Path, rgb: np.ndarray) -> Path:
    gray16 = (rgb.mean(axis=2) * 257).astype(np.uint16)
    Image.fromarray(gray16).save(path)  # mode I;16
    return path


def write_rgba(path: Path, rgb: np.ndarray) -> Path:
    alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    Image.fromarray(np.dstack([rgb, alpha])).save(path)
    return path


def write_palette(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).quantize(64).save(path)  # PNG or GIF by suffix
    return path


def write_cmyk_jpeg(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).convert("CMYK").save(path, "JPEG", quality=95)
    return path


def write_gray_jpeg(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).convert("L").save(path, "JPEG", quality=95)
    return path


def write_exif_rotated(path: Path, rgb: np.ndarray, orientation: int = 6) -> Path:
    """A JPEG stored sideways with an EXIF Orientation tag (6: rotate 90° clockwise to view)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, "JPEG", quality=95, exif=exif)
    return path


def write_png_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height (a decompression bomb's header) with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
    return path
