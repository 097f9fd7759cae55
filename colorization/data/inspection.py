"""Opening every file of a source once to learn what it is and whether it can be a target.

Per file: width, height (after EXIF orientation), Pillow mode as stored, whether it is
grayscale, an exclusion reason (empty if usable) and a note (conversions done).

Excluded from training targets:

* grayscale: a grayscale mode (``L``, ``1``, ``I;16`` ...) **or** colour-mode pixels
  whose three channels are (nearly) identical, as JPEG-recompressed gray photos are.
  Rule: fewer than :data:`GRAY_MAX_FRACTION` (0.1 %) of pixels have a channel spread
  max(R,G,B) - min(R,G,B) above :data:`GRAY_SPREAD` (16 of 255). Chosen by looking at
  Caltech-101: every image under this line looks gray; above it are genuine colour
  photos of neutral objects (chrome motorbikes, silver cameras) with small coloured
  parts, which stay in. On Caltech-101 it flags 411 mode-``L`` and 129 RGB files;
* unreadable files (the :class:`colorization.io.images.ImageError` message);
* obvious non-images (by suffix, not opened), hidden files, and images under
  :data:`MIN_SIDE` pixels.

Decided by content, not extension: any other file is opened (Caltech-101's
``BACKGROUND_Google/tmp`` is a JPEG without an extension). CMYK and palette images are
converted to RGB by :func:`colorization.io.images.load_image`; the note says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.data.parallel import chunked, parallel_map
from colorization.io.images import MAX_PIXELS, ImageError, load_image

GRAY_SPREAD = 16
GRAY_MAX_FRACTION = 0.001
MIN_SIDE = 16
_GRAY_SAMPLE_PIXELS = 250_000  # the colour test looks at most at about this many pixels
NON_IMAGE_SUFFIXES = frozenset(
    {
        ".txt",
        ".md",
        ".csv",
        ".json",
        ".xml",
        ".html",
        ".htm",
        ".pdf",
        ".doc",
        ".rtf",
        ".m",
        ".mat",
        ".py",
        ".sh",
        ".ini",
        ".log",
        ".db",
        ".npy",
        ".npz",
        ".pkl",
        ".zip",
        ".tar",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".rar",
        ".exe",
        ".dll",
    }
)
INFO_COLUMNS = ("width", "height", "mode", "is_gray", "excluded", "note")


def colour_fraction(rgb: np.ndarray) -> float:
    """Fraction of pixels whose channel spread exceeds :data:`GRAY_SPREAD` (8-bit scale)."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint16:
        rgb = (rgb >> 8).astype(np.uint8)
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / _GRAY_SAMPLE_PIXELS)))
    sample = rgb[::step, ::step]
    spread = sample.max(axis=-1).astype(np.int16) - sample.min(axis=-1)
    return float(np.count_nonzero(spread > GRAY_SPREAD)) / max(1, spread.size)


def looks_gray(rgb: np.ndarray) -> bool:
    """True if (nearly) all pixels have equal R, G and B."""
    return colour_fraction(rgb) < GRAY_MAX_FRACTION


def inspect_file(path: str | Path, max_pixels: int = MAX_PIXELS) -> dict:
    """What one file is: ``width, height, mode, is_gray, excluded, note``."""
    path = Path(path)
    info = {"width": 0, "height": 0, "mode": "", "is_gray": False, "excluded": "", "note": ""}
    if path.name.startswith("."):
        info["excluded"] = "hidden file"
        return info
    if path.suffix.lower() in NON_IMAGE_SUFFIXES:
        info["excluded"] = f"not an image file ({path.suffix.lower()})"
        return info
    try:
        image = load_image(path, max_pixels=max_pixels)
    except ImageError as error:
        info["excluded"] = f"unreadable: {error.problem}"
        return info
    height, width = image.size
    notes = []
    if image.source_mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif image.source_mode in ("P", "PA"):
        notes.append("palette converted to RGB")
    if image.alpha is not None:
        notes.append("alpha channel ignored")
    if image.rgb.dtype != np.uint8:
        notes.append("16-bit reduced to 8-bit")
    info.update(width=int(width), height=int(height), mode=image.source_mode, note="; ".join(notes))
    if image.is_gray:
        info.update(is_gray=True, excluded=f"grayscale (mode {image.source_mode})")
    elif looks_gray(image.rgb):
        info.update(is_gray=True, excluded=f"grayscale ({image.source_mode} with equal channels)")
    elif min(width, height) < MIN_SIDE:
        info["excluded"] = f"too small ({width}x{height})"
    return info


def _inspect_chunk(paths: Sequence[str]) -> list[dict]:
    return [inspect_file(p) for p in paths]


def inspect_paths(
    paths: Sequence[str | Path],
    *,
    workers: int | None = None,
    kind: str = "process",
    progress: bool = True,
    chunk: int = 32,
) -> pd.DataFrame:
    """:func:`inspect_file` over many files in parallel; one row per path, in order."""
    paths = [str(p) for p in paths]
    chunks = chunked(paths, chunk)
    results = parallel_map(
        _inspect_chunk,
        chunks,
        workers=workers,
        kind=kind,
        progress=progress,
        desc="inspecting",
        unit="img",
        weights=[len(c) for c in chunks],
    )
    rows = [row for part in results for row in part]
    return pd.DataFrame(rows, columns=list(INFO_COLUMNS)).astype(
        {"width": "int64", "height": "int64", "is_gray": "bool"}
    )
