"""Reading any image a user has, and writing PNGs safely.

:func:`load_image` turns whatever Pillow can open (JPEG, PNG, GIF, TIFF, WebP, ...)
into an RGB array plus an optional alpha plane, with EXIF orientation applied.
Anything unusable raises :class:`ImageError`, whose message is one line naming the
file and the problem, so that a batch can report it and carry on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from colorization.io.files import atomic_path

# Decompression-bomb guard: images above this many pixels are refused before decoding.
# 200 MP is ~3x a 60 MP camera; 40000x40000 (1.6 GP) would need ~5 GB as RGB.
MAX_PIXELS = 200_000_000
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".jfif"}
)
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})


class ImageError(ValueError):
    """An input image cannot be used. ``str(error)`` is ``"<path>: <problem>"``, one line."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(f"{self.path}: {self.problem}")


@dataclass
class LoadedImage:
    """An image as the package uses it.

    Attributes
    ----------
    rgb : ndarray, shape (H, W, 3), uint8 or uint16
        Colour channels (grayscale sources are repeated into three equal channels).
    alpha : ndarray, shape (H, W), or None
        Opacity, same dtype as ``rgb``, if the source had any.
    is_gray : bool
        True if the source stored no colour (grayscale modes).
    source_mode : str
        Pillow's mode of the file as stored (``"RGB"``, ``"P"``, ``"CMYK"``, ``"I;16"`` ...).
    path : str
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    is_gray: bool
    source_mode: str
    path: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.rgb.shape[:2]


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read an image file into a :class:`LoadedImage`.

    Handles EXIF orientation, palette and GIF (first frame), CMYK (converted to RGB),
    16-bit grayscale (kept as uint16), alpha channels (kept) and grayscale.

    Raises
    ------
    ImageError
        Missing path, folder, empty file, not an image, truncated or corrupt data,
        or more than ``max_pixels`` pixels (checked from the header, before decoding).
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(path, "no such file")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(path, "empty file (0 bytes)")
    previous_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # our own check below replaces Pillow's warning
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise ImageError(
                    path,
                    f"image is {width}x{height} ({width * height / 1e6:.0f} megapixels), above the "
                    f"{max_pixels / 1e6:.0f}-megapixel limit that guards against decompression bombs "
                    "(raise it with --max-pixels if the file is genuine)",
                )
            source_mode = img.mode
            img.load()
            img = _apply_exif_orientation(img)
            return _to_loaded(img, source_mode, str(path))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(path, "not an image, or a format Pillow cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise ImageError(path, f"truncated or corrupt image data ({error})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit


def _apply_exif_orientation(img: Image.Image) -> Image.Image:
    """Rotate/flip as the EXIF Orientation tag says; ignore unreadable EXIF blocks.

    Images without a rotation are returned as they are (no copy of the pixels).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if img.getexif().get(0x0112, 1) in (1, None):
                return img
            return ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not cost the picture
        return img


def _to_loaded(img: Image.Image, source_mode: str, path: str) -> LoadedImage:
    mode = img.mode
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
    is_gray = source_mode in _GRAY_MODES
    if mode.startswith("I;16") or mode in ("I", "F"):
        plane = _to_uint16(np.asarray(img))
        return LoadedImage(np.repeat(plane[..., None], 3, axis=2), None, True, source_mode, path)
    if mode in ("1", "L"):
        plane = np.asarray(img.convert("L"))
        return LoadedImage(np.repeat(plane[..., None], 3, axis=2), None, True, source_mode, path)
    if mode in ("LA", "La"):
        array = np.asarray(img.convert("LA"))
        rgb = np.repeat(array[..., :1], 3, axis=2)
        return LoadedImage(rgb, np.ascontiguousarray(array[..., 1]), True, source_mode, path)
    if mode in ("RGBA", "RGBa"):
        array = np.asarray(img.convert("RGBA"))
        return LoadedImage(
            np.ascontiguousarray(array[..., :3]), np.ascontiguousarray(array[..., 3]), is_gray, source_mode, path
        )
    # RGB as it is; CMYK, YCbCr, LAB, HSV ...: Pillow's conversion to RGB
    return LoadedImage(np.asarray(img if mode == "RGB" else img.convert("RGB")), None, is_gray, source_mode, path)


def _to_uint16(plane: np.ndarray) -> np.ndarray:
    """32-bit integer or float planes to uint16, keeping 16-bit data exact."""
    if plane.dtype == np.uint16:
        return plane
    if np.issubdtype(plane.dtype, np.floating):
        top = 1.0 if np.nanmax(plane) <= 1.0 else float(np.nanmax(plane))
        return np.clip(np.nan_to_num(plane) / top * 65535.0, 0, 65535).round().astype(np.uint16)
    top = int(plane.max()) if plane.size else 0
    if top > 65535:
        plane = plane.astype(np.float64) / top * 65535.0
    return np.clip(plane, 0, 65535).astype(np.uint16)


def to_uint8(array: np.ndarray) -> np.ndarray:
    """uint16 or float [0, 1] image data to uint8 (uint8 passes through)."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return np.clip(np.rint(np.asarray(array, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def save_png(
    path: str | Path, rgb: np.ndarray, alpha: np.ndarray | None = None, overwrite: bool = False, level: int = 2
) -> Path:
    """Write an 8-bit RGB(A) PNG atomically.

    Parameters
    ----------
    path : path-like
    rgb : ndarray, shape (H, W, 3), uint8
    alpha : ndarray, shape (H, W), optional
        Any dtype :func:`to_uint8` accepts.
    overwrite : bool
        If False, an existing file raises :class:`colorization.io.files.OutputExistsError`.
    level : int
        Deflate effort, 0-3 (ISA-L): 2 is about zlib level 1's size, much faster.

    Notes
    -----
    Encoded by :func:`colorization.fast.png.encode_png` (parallel, standard PNG).
    """
    from colorization.fast.png import encode_png

    pixels = to_uint8(rgb)
    if alpha is not None:
        pixels = np.dstack([pixels, to_uint8(alpha)])
    data = encode_png(pixels, level)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return Path(path)
