"""Geometry before and after the network: the paper's crop and plain resizing.

The paper's network accepts only 256x256. Any user image is first scaled so that
its *shorter* side is 256, then centre-cropped to 1:1 (docs/paper.md, "Input handling
at inference"): :func:`paper_crop`. The package's full-resolution mode instead squeezes
the whole image to 256x256 (:func:`resize`), predicts ab there and scales ab back up
to the image's own size.

Resampling is Pillow's (antialiased when shrinking). The paper names no filter; we
use bicubic for images and bilinear for the predicted ab planes (our choice).

Memory: the crop is computed in source coordinates and only the region it keeps is
resampled (:func:`paper_box`), so a 8000x1 strip costs a 256x256 result, not the
256x2,048,000 image that "shorter side to 256" would make of it; and :func:`resize`
hands Pillow only the pixels its filter can reach (the rule: :mod:`colorization.io.images`).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from colorization.io.images import to_uint8

PAPER_SIZE = 256
MODES = ("full", "paper")  # what the network sees of a photo: all of it squeezed, or the paper's crop
_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
_SUPPORT = {"nearest": 0.5, "bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0}  # Pillow's filter radii, in pixels
_WIDEST_ROW = 1 << 24  # pixels per row handed to Pillow, whose decoders refuse rows of 2**31 bits or more
Box = tuple[float, float, float, float]


def resize(image: np.ndarray, shape: tuple[int, int], resample: str = "bicubic", box: Box | None = None) -> np.ndarray:
    """Resize an image array (or the region ``box`` of it) to ``shape`` = (height, width).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        uint8 (any C; RGB goes through Pillow in one pass) or float (resized per
        channel in 32-bit float, no clipping or rounding).
    shape : (int, int)
        Output height and width, each >= 1.
    resample : {"nearest", "bilinear", "bicubic", "lanczos"}
    box : (left, top, right, bottom), optional
        The source region to resample, in pixel edges (Pillow's convention: the whole
        image is ``(0, 0, W, H)``); default the whole image. Only the pixels the filter
        can reach from it are handed to Pillow.

    Returns
    -------
    ndarray of the input's dtype (float input comes back as float32).
    """
    image = np.asarray(image)
    height, width = (int(s) for s in shape)
    if height < 1 or width < 1:
        raise ValueError(f"output shape must be positive, got {shape}")
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got {image.shape}")
    if resample not in _FILTERS:
        raise ValueError(f"resample must be one of {sorted(_FILTERS)}, got {resample!r}")
    image, box = _reachable(image, box or (0, 0, image.shape[1], image.shape[0]), (height, width), resample)
    if image.shape[:2] == (height, width) and box == (0, 0, width, height):
        return image.copy()
    bands = min(width, math.ceil(max(image.shape[1], width) / _WIDEST_ROW))
    if bands > 1:
        return _resize_in_bands(image, (height, width), resample, box, bands)
    method = _FILTERS[resample]
    size = (width, height)  # Pillow speaks (width, height)
    if image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2] in (3, 4)):
        # Shrinking an axis by more than 2x first reduces it by a whole factor with a box
        # filter (Pillow's reducing_gap): several times faster on large photos, same look,
        # and Pillow's filter weights (32 bytes per source pixel of a long axis) stay small.
        gap = 2.0 if max((box[3] - box[1]) / height, (box[2] - box[0]) / width) > 2 else None
        return np.asarray(_pil_view(image).resize(size, method, box=box, reducing_gap=gap))
    if image.ndim == 2:
        return _resize_plane(image, size, method, box)
    return np.stack([_resize_plane(image[..., c], size, method, box) for c in range(image.shape[2])], axis=-1)


def _resize_in_bands(image: np.ndarray, shape: tuple[int, int], resample: str, box: Box, bands: int) -> np.ndarray:
    """Rows too wide for Pillow: resample ``bands`` bands of output columns, each from its own window.

    Band ``[a, b)`` of the output is the source box ``[left + a * step, left + b * step]``
    (``step`` source pixels per output column), the same sampling positions as in one pass.
    """
    height, width = shape
    edges, step = np.linspace(0, width, bands + 1).round().astype(int), (box[2] - box[0]) / width
    parts = [
        resize(image, (height, stop - start), resample, (box[0] + start * step, box[1], box[0] + stop * step, box[3]))
        for start, stop in zip(edges[:-1], edges[1:], strict=True)
    ]
    return np.concatenate(parts, axis=1)


def _reachable(image: np.ndarray, box: Box, shape: tuple[int, int], resample: str) -> tuple[np.ndarray, Box]:
    """The part of ``image`` that resampling ``box`` to ``shape`` can read, and ``box`` relative to it.

    The margin is the filter's radius at the scale of the shrink (plus two pixels for
    rounding and Pillow's reducing step), so the result equals resampling the whole image.
    """
    (left, top, right, bottom), (height, width) = (float(b) for b in box), shape
    if not (0 <= left < right <= image.shape[1] and 0 <= top < bottom <= image.shape[0]):
        raise ValueError(f"box {box} is not a non-empty region of an image of shape {image.shape[:2]}")
    reach_x = math.ceil(_SUPPORT[resample] * max(1.0, (right - left) / width)) + 2
    reach_y = math.ceil(_SUPPORT[resample] * max(1.0, (bottom - top) / height)) + 2
    x0, y0 = max(0, math.floor(left) - reach_x), max(0, math.floor(top) - reach_y)
    x1, y1 = min(image.shape[1], math.ceil(right) + reach_x), min(image.shape[0], math.ceil(bottom) + reach_y)
    return image[y0:y1, x0:x1], (left - x0, top - y0, right - x0, bottom - y0)


def _pil_view(image: np.ndarray) -> Image.Image:
    """A Pillow image over a uint8 array, sharing its memory when the layout allows."""
    mode = "L" if image.ndim == 2 else {3: "RGB", 4: "RGBA"}[image.shape[2]]
    if image.flags["C_CONTIGUOUS"]:
        return Image.frombuffer(mode, (image.shape[1], image.shape[0]), image, "raw", mode, 0, 1)
    return Image.fromarray(image)


def _resize_plane(plane: np.ndarray, size, method, box: Box) -> np.ndarray:
    """Resize one 2-D plane in Pillow's 32-bit float mode, back to the input's dtype."""
    pil_plane = Image.fromarray(plane.astype(np.float32, copy=False), mode="F")
    out = np.asarray(pil_plane.resize(size, method, box=box))
    if np.issubdtype(plane.dtype, np.integer):
        info = np.iinfo(plane.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(plane.dtype)
    return out


def paper_box(height: int, width: int, size: int = PAPER_SIZE) -> Box:
    """The source region the paper's crop keeps: ``(left, top, right, bottom)`` in pixel edges.

    Scaling the shorter side to ``size`` makes the longer side ``round(long * size / short)``
    (at least ``size``); the centre crop starts at ``(new_long - size) // 2`` of the scaled
    image. Mapped back to the source, that is this box (a square, up to rounding).
    """
    scale = size / min(height, width)
    new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return (left * width / new_w, top * height / new_h, (left + size) * width / new_w, (top + size) * height / new_h)


def paper_crop(image: np.ndarray, size: int = PAPER_SIZE, resample: str = "bicubic") -> np.ndarray:
    """The paper's preprocessing: shorter side to ``size``, then centre crop to size x size.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
    size : int
        256 in the paper.

    Returns
    -------
    ndarray, shape (size, size) or (size, size, C), same dtype as ``image``.

    Notes
    -----
    Equivalent to resizing the whole image and then cropping (:func:`paper_box` gives
    the geometry), but only the kept region is resampled: memory and time follow the
    source's size, whatever its shape. Images smaller than ``size`` are upscaled, as in
    the paper (many Caltech images are).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got {image.shape}")
    return resize(image, (size, size), resample, box=paper_box(*image.shape[:2], size))


def network_view(rgb: np.ndarray, mode: str = "full", size: int = PAPER_SIZE) -> np.ndarray:
    """The size x size uint8 sRGB image the network sees for ``rgb`` in ``mode`` (:data:`MODES`):
    ``"full"`` the whole image resized (bicubic), ``"paper"`` the paper's crop (:func:`paper_crop`)."""
    check_mode(mode)
    rgb8 = to_uint8(rgb)
    if mode == "paper":
        return paper_crop(rgb8, size)
    return resize(rgb8, (size, size), "bicubic")


def check_mode(mode: str) -> None:
    """ValueError unless ``mode`` is one of :data:`MODES`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
