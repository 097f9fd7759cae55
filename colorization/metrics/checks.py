"""Input validation and colour-space helpers shared by the metric modules."""

from __future__ import annotations

import numpy as np

from colorization.lab import rgb_to_lab

_RANGE_TOL = 1e-6  # float RGB may overshoot [0, 1] by rounding noise only


def as_rgb01(image, name: str = "image") -> np.ndarray:
    """Validate an sRGB image of shape (H, W, 3) and return it as float64 in [0, 1].

    uint8 is divided by 255; float must already lie in [0, 1]. Anything else raises
    ``ValueError`` naming ``name`` and the problem.
    """
    arr = np.asarray(image)
    _check_hw3(arr, name, "sRGB")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name}: sRGB image must be uint8 or float in [0, 1], got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: sRGB image contains NaN or infinite values")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -_RANGE_TOL or hi > 1.0 + _RANGE_TOL:
        raise ValueError(
            f"{name}: float sRGB image must lie in [0, 1], got values in [{lo:g}, {hi:g}] (pass uint8 for 0..255 data)"
        )
    return np.clip(arr.astype(np.float64), 0.0, 1.0)


def as_lab(image, name: str = "image") -> np.ndarray:
    """Validate a CIE Lab image of shape (H, W, 3) and return it as float64."""
    arr = np.asarray(image)
    _check_hw3(arr, name, "Lab")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name}: Lab image must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: Lab image contains NaN or infinite values")
    return arr


def to_lab(image, space: str, name: str = "image") -> np.ndarray:
    """Return a validated float64 Lab image from ``space`` = ``"rgb"`` or ``"lab"``."""
    if space == "rgb":
        return rgb_to_lab(as_rgb01(image, name)).astype(np.float64)
    if space == "lab":
        return as_lab(image, name)
    raise ValueError(f"space must be 'rgb' or 'lab', got {space!r}")


def check_same_shape(a: np.ndarray, b: np.ndarray, names=("pred", "true")) -> None:
    """Raise ``ValueError`` if two validated images differ in shape."""
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {names[0]} has shape {a.shape}, {names[1]} has shape {b.shape}")


def _check_hw3(arr: np.ndarray, name: str, what: str) -> None:
    if arr.ndim != 3:
        raise ValueError(f"{name}: expected a {what} image of shape (H, W, 3), got {arr.ndim}-D shape {arr.shape}")
    if arr.shape[-1] != 3:
        raise ValueError(f"{name}: expected 3 channels in the last axis, got {arr.shape[-1]} (shape {arr.shape})")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: image is empty (shape {arr.shape})")
