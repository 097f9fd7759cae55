"""Embedded ICC colour profiles: the conversion of a file's pixels to sRGB on load.

The package works in sRGB (its Lab is sRGB's, D65); a file whose pixels are in another
space says so with an ICC profile (Adobe RGB, Display P3, ProPhoto, a CMYK press
profile, a gray gamma ...). :func:`srgb_tile_converter` gives the function that
:func:`colorization.io.images.load_image` applies to each tile of the decoded image:
Pillow's own mode conversion, then littlecms (Pillow's ImageCms) from the profile to
sRGB, relative colorimetric (colours inside sRGB are kept exactly; others are clipped).
The result is 8-bit (littlecms in Pillow has no 16-bit RGB). A profile that cannot be
used (unreadable, or for another colour space than the pixels) is ignored with a note.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageCms

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC  # colours inside sRGB are kept exactly
_SHARED = ImageCms.Flags.NOCACHE  # no one-pixel cache inside a transform: safe to share between threads
_EXACT = ImageCms.Flags.NOCACHE | ImageCms.Flags.NOOPTIMIZE


def srgb_tile_converter(img: Image.Image):
    """How to turn tiles of ``img`` into sRGB pixels, and what could not be honoured.

    Returns
    -------
    convert : callable
        ``convert(tile)`` -> a Pillow image of mode L, LA, RGB, RGBA (8-bit) or, for
        16-bit, 32-bit and float sources without a usable profile, their own mode.
    notes : tuple of str
        One line each (an unusable profile), for :attr:`LoadedImage.notes`.
    """
    target = _target_mode(img)
    icc = img.info.get("icc_profile")
    if not icc:
        return (lambda tile: tile) if img.mode == target else (lambda tile: tile.convert(target)), ()
    source = "CMYK" if img.mode == "CMYK" else target  # the profile describes CMYK, not Pillow's RGB of it
    try:
        transform = _transform_to_srgb(bytes(icc), source)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as error:
        note = f"embedded ICC colour profile not usable for mode {img.mode} ({error}); pixels read as sRGB"
        return (lambda tile: tile.convert(target)), (note,)
    if transform is None:  # the profile is sRGB
        return (lambda tile: tile.convert(target)), ()
    if isinstance(transform, np.ndarray):  # a gray profile: a table from stored level to sRGB gray
        if source == "LA":
            return (lambda tile: np.dstack([transform[np.asarray(tile)[..., 0]], np.asarray(tile)[..., 1]])), ()
        return (lambda tile: transform[np.asarray(tile)]), ()
    return (lambda tile: transform.apply(tile.convert(source))), ()


def _target_mode(img: Image.Image) -> str:
    """The mode ``img``'s tiles are brought to: gray, gray+alpha, RGB, RGBA, or a deep plane as it is."""
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        return img.mode
    if img.mode == "P":
        return "RGBA" if "transparency" in img.info else "RGB"
    return {"1": "L", "L": "L", "LA": "LA", "La": "LA", "PA": "RGBA", "RGBA": "RGBA", "RGBa": "RGBA"}.get(
        img.mode, "RGB"
    )


@lru_cache(maxsize=16)
def _transform_to_srgb(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | np.ndarray | None:
    """From the profile ``icc`` (pixels of ``mode``) to sRGB: a littlecms transform, None if
    the profile is sRGB, or for gray modes a table (:func:`_gray_table`).

    A profile that moves no colour of a 9-level RGB grid by more than one code value is
    taken as sRGB: no conversion, the file's bytes are kept.
    """
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if mode in ("L", "LA") or mode.startswith("I;16"):
        return _gray_table(profile, 8 if mode in ("L", "LA") else 16)
    transform = ImageCms.buildTransform(profile, _SRGB, mode, "RGBA" if mode == "RGBA" else "RGB", _INTENT, _SHARED)
    if mode in ("RGB", "RGBA"):
        levels = np.linspace(0, 255, 9).astype(np.uint8)
        grid = np.stack(np.meshgrid(levels, levels, levels, np.array([255], np.uint8)), -1).reshape(1, -1, 4)
        probe = Image.fromarray(np.ascontiguousarray(grid[..., : len(mode)]))
        if np.abs(np.asarray(transform.apply(probe)).astype(int) - np.asarray(probe)).max() <= 1:
            return None
    return transform


def _gray_table(profile: ImageCms.ImageCmsProfile, bits: int) -> np.ndarray:
    """Stored gray level (8 or 16 bits) -> sRGB gray level (uint8), every level converted exactly.

    littlecms's optimised gray -> RGB transform interpolates between a few sampled levels,
    which is off by up to 10 codes in the dark tones; one unoptimised pass over all levels is not.
    """
    levels = np.arange(2**bits, dtype=np.uint8 if bits == 8 else np.uint16).reshape(-1, 256)
    exact = ImageCms.buildTransform(profile, _SRGB, "L" if bits == 8 else "I;16", "RGB", _INTENT, _EXACT)
    rgb = np.asarray(exact.apply(Image.fromarray(levels)))
    return np.rint(rgb.mean(axis=-1)).astype(np.uint8).ravel()
