"""Reading any image a user has, and writing PNGs safely.

:func:`load_image` turns whatever Pillow can open (JPEG, PNG, GIF, TIFF, WebP, ...)
into an sRGB array plus an optional alpha plane, with EXIF orientation applied and an
embedded ICC colour profile converted to sRGB (Pillow's ImageCms, relative colorimetric),
so that a photo tagged Adobe RGB, Display P3, a CMYK press profile or a gray gamma keeps
its colours and its lightness. Anything unusable raises :class:`ImageError`, whose
message is one line naming the file and the problem, so that a batch can report it and
carry on; a profile that cannot be used is ignored with a note (:attr:`LoadedImage.notes`).

The memory rule, stated here once: decoding and colorizing an image of N pixels, in
either mode and whatever its shape, peaks at most ``PEAK_BYTES_PER_PIXEL * N`` bytes above
what the process held before (model included). Nothing is made at a size the source's
pixel count does not bound (the paper's crop resamples only the region it keeps; the
full-resolution recombination works in strips and tiles), so the guard is a pixel count:
``MAX_PIXELS`` per image (``--max-pixels``) and the same budget for a batch's pixels added
up (:func:`colorization.colorize.pixel_batches`). ``benchmarks/memory_peak.py`` measures it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from colorization.io.files import atomic_path
from colorization.io.icc import srgb_tile_converter

# Decompression-bomb guard: images above this many pixels are refused before decoding.
# 200 MP is ~3x a 60 MP camera; by the rule above such an image needs at most ~3 GB.
MAX_PIXELS = 200_000_000
PEAK_BYTES_PER_PIXEL = 16
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".jfif"}
)
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
_TILE_PIXELS = 1 << 20  # pixels copied (and converted) per step; numpy's asarray would hold two full copies


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
        sRGB colour channels (grayscale sources are repeated into three equal channels).
    alpha : ndarray, shape (H, W), or None
        Opacity, same dtype as ``rgb``, if the source had any.
    is_gray : bool
        True if the source stored no colour (grayscale modes).
    source_mode : str
        Pillow's mode of the file as stored (``"RGB"``, ``"P"``, ``"CMYK"``, ``"I;16"`` ...).
    path : str
    notes : tuple of str
        One line each about what could not be honoured (e.g. an unusable ICC profile).
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    is_gray: bool
    source_mode: str
    path: str = ""
    notes: tuple[str, ...] = ()

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.rgb.shape[:2]


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read an image file into a :class:`LoadedImage` (sRGB, display orientation).

    Handles EXIF orientation, embedded ICC profiles (converted to sRGB; 8-bit result),
    palette and GIF (first frame), CMYK, 16-bit grayscale (kept as uint16), 32-bit
    integer and float grayscale (scaled to uint16: float in [0, 1] by 65535, anything
    larger by its maximum; negatives clip to 0), alpha channels (kept) and grayscale.

    Raises
    ------
    ImageError
        Missing path, folder, empty file, not an image, truncated or corrupt data,
        NaN or infinite values in a float image, or more than ``max_pixels`` pixels
        (checked from the header, before decoding).
    """
    path = Path(path)
    if not path.exists():
        raise ImageError(path, "no such file")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(path, "empty file (0 bytes)")
    try:
        with _pillow_bomb_check_off(), Image.open(path) as img:
            _check_pixels(path, img.size, max_pixels)
            source_mode = img.mode
            img.load()
            orientation = _exif_orientation(img)
            convert, notes = srgb_tile_converter(img)
            pixels = _copy_pixels(img, convert)
        return _to_loaded(_upright(pixels, orientation), source_mode, str(path), notes)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(path, "not an image, or a format Pillow cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise ImageError(path, f"truncated or corrupt image data ({error})") from None
    except MemoryError:  # Pillow's decoders refuse rows wider than 2**31 bits (~89 megapixels of RGB)
        raise ImageError(path, "too large for the image decoder (rows too wide or out of memory)") from None


def pixel_count(path: str | Path) -> int:
    """Width x height from the file's header (0 if it cannot be opened: :func:`load_image` says why)."""
    try:
        with _pillow_bomb_check_off(), Image.open(path) as img:
            return img.width * img.height
    except Exception:  # anything unreadable is load_image's to report
        return 0


_bomb_check = {"lock": threading.Lock(), "users": 0, "limit": None}  # threads inside, Pillow's limit


@contextmanager
def _pillow_bomb_check_off():
    """Pillow's own decompression-bomb limit off while any thread is inside (our guard replaces it)."""
    with _bomb_check["lock"]:
        if _bomb_check["users"] == 0:
            _bomb_check["limit"], Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        _bomb_check["users"] += 1
    try:
        yield
    finally:
        with _bomb_check["lock"]:
            _bomb_check["users"] -= 1
            if _bomb_check["users"] == 0:
                Image.MAX_IMAGE_PIXELS = _bomb_check["limit"]


def _check_pixels(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageError(
            path,
            f"image is {width}x{height} ({width * height / 1e6:.0f} megapixels), above the "
            f"{max_pixels / 1e6:.0f}-megapixel limit that guards against decompression bombs "
            "(raise it with --max-pixels if the file is genuine)",
        )


def _exif_orientation(img: Image.Image) -> int:
    """The EXIF Orientation tag (1-8; 1, upright, if absent or unreadable)."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block should not cost the picture
        return 1
    return orientation if orientation in range(1, 9) else 1


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The view of stored pixels that displays upright, as ``ImageOps.exif_transpose`` turns them.

    Orientations 5-8 are 1-4 (as is, mirrored, turned 180 degrees, flipped) of the transpose.
    """
    row_step, col_step = {1: (1, 1), 2: (1, -1), 3: (-1, -1), 4: (-1, 1)}[(orientation - 1) % 4 + 1]
    return (pixels.swapaxes(0, 1) if orientation > 4 else pixels)[::row_step, ::col_step]


def _copy_pixels(img: Image.Image, convert) -> np.ndarray:
    """``convert(tile)`` for every tile of ``img``, joined into one new array (one full copy, no more)."""
    width, height = img.size
    cols = min(width, _TILE_PIXELS)
    rows = max(1, _TILE_PIXELS // cols)
    out = None
    for top in range(0, height, rows):
        for left in range(0, width, cols):
            box = (left, top, min(left + cols, width), min(top + rows, height))
            tile = np.asarray(convert(img.crop(box)))
            if out is None:
                out = np.empty((height, width) + tile.shape[2:], tile.dtype)
            out[box[1] : box[3], box[0] : box[2]] = tile
    return out


def _to_loaded(pixels: np.ndarray, source_mode: str, path: str, notes: tuple[str, ...]) -> LoadedImage:
    """Build the image from upright pixels: (H, W) gray (8-bit or deep), (H, W, 2) gray + alpha, RGB(A)."""
    is_gray = source_mode in _GRAY_MODES
    if pixels.ndim == 2:
        plane = pixels if pixels.dtype == np.uint8 else _to_uint16(pixels, path)
        return LoadedImage(np.repeat(plane[..., None], 3, axis=2), None, True, source_mode, path, notes)
    rgb = np.repeat(pixels[..., :1], 3, axis=2) if pixels.shape[2] == 2 else np.ascontiguousarray(pixels[..., :3])
    alpha = np.ascontiguousarray(pixels[..., -1]) if pixels.shape[2] in (2, 4) else None
    return LoadedImage(rgb, alpha, is_gray, source_mode, path, notes)


def _to_uint16(plane: np.ndarray, path: str) -> np.ndarray:
    """16-bit, 32-bit integer or float planes to uint16, keeping 16-bit data exact."""
    if plane.dtype == np.uint16:
        return plane
    low, high = (plane.min(), plane.max()) if plane.size else (0, 0)  # NaN and inf show in either
    if np.issubdtype(plane.dtype, np.floating):
        if not (np.isfinite(low) and np.isfinite(high)):
            raise ImageError(path, "contains NaN or infinite pixel values; save it with finite values")
        top = 1.0 if high <= 1.0 else float(high)
        return _map_chunks(lambda x: np.clip(x / top * 65535.0, 0, 65535).round().astype(np.uint16), plane, np.uint16)
    if int(high) > 65535:
        top = int(high)
        return _map_chunks(lambda x: np.clip(x / top * 65535.0, 0, 65535).astype(np.uint16), plane, np.uint16)
    return _map_chunks(lambda x: np.clip(x, 0, 65535).astype(np.uint16), plane, np.uint16)


def _map_chunks(function, array: np.ndarray, dtype) -> np.ndarray:
    """``function`` applied element-wise to ``array`` piece by piece: its temporaries stay small."""
    out = np.empty(array.shape, dtype)
    source, target = array.reshape(-1), out.reshape(-1)  # a copy only if ``array`` is not contiguous
    for start in range(0, source.size, _TILE_PIXELS):
        target[start : start + _TILE_PIXELS] = function(source[start : start + _TILE_PIXELS])
    return out


def to_uint8(array: np.ndarray) -> np.ndarray:
    """uint16 or float [0, 1] image data to uint8 (uint8 passes through), in chunks."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return _map_chunks(lambda x: ((x.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8), array, np.uint8)
    return _map_chunks(
        lambda x: np.clip(np.rint(np.asarray(x, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8), array, np.uint8
    )


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


def as_loaded(array: np.ndarray) -> LoadedImage:
    """Wrap an (H, W) gray or (H, W, 3|4) RGB(A) array as a :class:`LoadedImage`."""
    array = np.asarray(array)
    if array.dtype not in (np.uint8, np.uint16):
        array = to_uint8(array)
    if array.ndim == 2:
        return LoadedImage(np.repeat(array[..., None], 3, axis=2), None, True, "array")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        alpha = array[..., 3] if array.shape[2] == 4 else None
        return LoadedImage(np.ascontiguousarray(array[..., :3]), alpha, False, "array")
    raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")
