"""Geometry before and after the network: the paper's crop and plain resizing.

The paper's network accepts only 256x256. Any user image is first scaled so that
its *shorter* side is 256, then centre-cropped to 1:1 (docs/paper.md, "Input handling
at inference"): :func:`paper_crop`. The package's full-resolution mode instead squeezes
the whole image to 256x256 (:func:`resize`), predicts ab there and scales ab back up
to the image's own size.

Resampling is Pillow's (antialiased when shrinking). The paper names no filter; we
use bicubic for images and bilinear for the predicted ab planes (our choice).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

PAPER_SIZE = 256
_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def resize(image: np.ndarray, shape: tuple[int, int], resample: str = "bicubic") -> np.ndarray:
    """Resize an image array to ``shape`` = (height, width).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        uint8 (any C; RGB goes through Pillow in one pass) or float (resized per
        channel in 32-bit float, no clipping or rounding).
    shape : (int, int)
        Output height and width, each >= 1.
    resample : {"nearest", "bilinear", "bicubic", "lanczos"}

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
    if image.shape[:2] == (height, width):
        return image.copy()
    method = _FILTERS[resample]
    size = (width, height)  # Pillow speaks (width, height)
    if image.dtype == np.uint8 and (image.ndim == 2 or image.shape[2] in (3, 4)):
        # Shrinking by more than 2x first reduces by whole factors with a box filter
        # (Pillow's reducing_gap): several times faster on large photos, same look.
        gap = 2.0 if min(image.shape[0] / height, image.shape[1] / width) > 2 else None
        return np.asarray(_pil_view(image).resize(size, method, reducing_gap=gap))
    if image.ndim == 2:
        return _resize_plane(image, size, method)
    return np.stack([_resize_plane(image[..., c], size, method) for c in range(image.shape[2])], axis=-1)


def _pil_view(image: np.ndarray) -> Image.Image:
    """A Pillow image over a uint8 array, sharing its memory when the layout allows."""
    mode = "L" if image.ndim == 2 else {3: "RGB", 4: "RGBA"}[image.shape[2]]
    if image.flags["C_CONTIGUOUS"]:
        return Image.frombuffer(mode, (image.shape[1], image.shape[0]), image, "raw", mode, 0, 1)
    return Image.fromarray(image)


def _resize_plane(plane: np.ndarray, size, method) -> np.ndarray:
    """Resize one 2-D plane in Pillow's 32-bit float mode, back to the input's dtype."""
    out = np.asarray(Image.fromarray(plane.astype(np.float32, copy=False), mode="F").resize(size, method))
    if np.issubdtype(plane.dtype, np.integer):
        info = np.iinfo(plane.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(plane.dtype)
    return out


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
    The longer side becomes ``round(long * size / short)``; the crop starts at
    ``(new_long - size) // 2``. Images smaller than ``size`` are upscaled, as in the
    paper (many Caltech images are).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, C), got {image.shape}")
    height, width = image.shape[:2]
    scale = size / min(height, width)
    new_h = max(size, round(height * scale))
    new_w = max(size, round(width * scale))
    scaled = resize(image, (new_h, new_w), resample)
    top = (new_h - size) // 2
    left = (new_w - size) // 2
    return scaled[top : top + size, left : left + size]
