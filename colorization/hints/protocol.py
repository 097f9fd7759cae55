"""The protocol's simulated user: hints drawn from the ground truth with fixed seeds.

For the hint curves of the evaluation (issue 17, item 4): each image gets ``n`` hints for each
``n`` of :data:`PROTOCOL_COUNTS`, drawn by :func:`hints_from_truth` from a seed that the
protocol stores, so a curve is reproduced exactly and is about adding points.
"""

from __future__ import annotations

import numpy as np

from colorization.hints.points import DEFAULT_RADIUS, MAX_HINTS, Hint, image_size, patch_radius
from colorization.lab import rgb_to_lab

PROTOCOL_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)  # numbers of hints per image on the curves


def hints_from_truth(rgb: np.ndarray, n: int, seed: int, radius: int | None = None) -> list[Hint]:
    """The protocol's simulated user: ``n`` hints drawn from the ground truth ``rgb``.

    SIGGRAPH17's sampling (Zhang et al. 2017, "Real-Time User-Guided Image Colorization with Learned
    Deep Priors", Sec. 3.2; their ``util.add_color_patches_rand_gt``): each position from a 2-D Gaussian
    centred on the image with sigma a quarter of each side, clipped to the image; its colour the mean
    ab of the ground truth over the hint's patch (clipped to the image).

    Deterministic in ``(seed, n)`` and nested: the first k hints for any ``n >= k`` are the hints for
    ``n = k`` (one generator, two normal draws per hint, in order), so a curve over
    :data:`PROTOCOL_COUNTS` is about adding points. ``radius``: in input pixels, default
    :data:`DEFAULT_RADIUS`.
    """
    rgb = np.asarray(rgb)
    height, width = image_size(rgb.shape)
    radius = patch_radius(DEFAULT_RADIUS if radius is None else radius, "radius")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= MAX_HINTS:
        raise ValueError(f"n must be a whole number from 0 to {MAX_HINTS}, got {n!r}")
    draws = np.random.default_rng(seed).normal(size=(int(n), 2))
    rows = np.clip(np.floor(height / 2 + draws[:, 0] * height / 4), 0, height - 1).astype(int)
    columns = np.clip(np.floor(width / 2 + draws[:, 1] * width / 4), 0, width - 1).astype(int)
    ab = rgb_to_lab(rgb)[..., 1:] if n else None  # once: per patch it was 0.65 s for a curve's 888 hints
    hints = []
    for row, column in zip(rows, columns, strict=True):
        patch = ab[max(0, row - radius) : row + radius + 1, max(0, column - radius) : column + radius + 1]
        a, b = patch.reshape(-1, 2).astype(np.float64).mean(axis=0)
        hints.append(Hint(float(column), float(row), (float(a), float(b)), radius))
    return hints
