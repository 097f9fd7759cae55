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


def adobe_rgb_profile() -> bytes:
    """A real Adobe RGB (1998) ICC profile: the one scikit-image's rocket.jpg carries."""
    from colorization.data.sources import sample_path

    with Image.open(sample_path("rocket.jpg")) as img:
        return img.info["icc_profile"]


def adobe_rgb_to_srgb(rgb: np.ndarray) -> np.ndarray:
    """Adobe RGB (1998) 8-bit -> sRGB 8-bit from the two specifications' formulas (both D65).

    Adobe RGB (1998) Color Image Encoding 1.1, sec. 4.3.4-4.3.5 (gamma 563/256, primaries);
    IEC 61966-2-1 (sRGB's matrix and transfer function). Outside sRGB, channels are clipped.
    """
    adobe_to_xyz = np.array([[0.57667, 0.18556, 0.18823], [0.29734, 0.62736, 0.07529], [0.02703, 0.07069, 0.99134]])
    xyz_to_srgb = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    linear = np.clip((rgb / 255.0) ** (563 / 256) @ (xyz_to_srgb @ adobe_to_xyz).T, 0, 1)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.rint(encoded * 255).astype(np.uint8)


def gray_profile(gamma: float) -> bytes:
    """An ICC v2 gray profile whose tone curve is a pure power ``gamma`` (as "Gray Gamma 2.2").

    ICC.1:2001-04 layout: a 128-byte header, a tag table, then desc, wtpt (D50) and kTRC.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    d50 = s15(0.9642) + s15(1.0) + s15(0.8249)
    text = f"gray gamma {gamma}".encode() + b"\0"
    tags = {
        b"desc": b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67),
        b"wtpt": b"XYZ \0\0\0\0" + d50,
        b"kTRC": b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0",
    }
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags.items():
        body += bytes(-len(body) % 4)
        table += struct.pack(">4sII", signature, offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"none", 0x02100000, b"mntr", b"GRAY", b"XYZ ") + bytes(12)
    header += b"acsp" + bytes(28) + d50 + bytes(48)
    return header + struct.pack(">I", len(tags)) + table + data


def write_tagged(path: Path, pixels: np.ndarray, icc: bytes, mode: str | None = None) -> Path:
    """``pixels`` saved (PNG, JPEG ... by suffix) with the embedded ICC profile ``icc`` (b"": none).

    ``mode`` converts first; "P" quantizes to 64 colours as :func:`write_palette` does.
    """
    image = Image.fromarray(pixels)
    image = image.quantize(64) if mode == "P" else image.convert(mode) if mode else image
    image.save(path, icc_profile=icc, **({"quality": 95} if path.suffix == ".jpg" else {}))
    return path


def write_float_tiff(path: Path, plane: np.ndarray) -> Path:
    """A 32-bit float grayscale TIFF (Pillow mode "F")."""
    Image.fromarray(plane.astype(np.float32), mode="F").save(path)
    return path


def write_exif_png(path: Path, rgb: np.ndarray, orientation: int) -> Path:
    """A lossless PNG with an EXIF Orientation tag (eXIf chunk)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, exif=exif)
    return path
