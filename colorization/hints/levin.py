"""Levin, Lischinski and Weiss, "Colorization using Optimization" (SIGGRAPH 2004): a training-free method.

Neighbouring pixels of similar lightness should get similar colours. For each chroma channel
``U`` (a, then b) the method minimizes

    J(U) = sum_r ( U(r) - sum_{s in N(r)} w_rs U(s) )^2,

    w_rs ∝ exp( -(Y(r) - Y(s))^2 / (2 sigma_r^2) ),    sum_{s in N(r)} w_rs = 1,

over the 3x3 window ``N(r)`` (the 8 neighbours of ``r`` inside the image), subject to
``U(r) = hint(r)`` at every hinted pixel. ``Y`` is the lightness on the authors' [0, 1] scale
(``L / 100``). Their window and variance rule (the paper: sigma_r from the variance of Y in the
window around r; their code, ``getColorExact.m``, fixes it): ``2 sigma_r^2`` is 0.6 times the
variance of Y over the window including ``r``, raised where needed so that the most similar
neighbour keeps an unnormalized weight of at least 0.01, and never below 2e-6.

The system (the authors' code): each unhinted pixel's term vanishes, ``U(r) = sum_s w_rs U(s)``,
and each hinted pixel is fixed (the terms of hinted pixels, which J also sums, are left out, as
there). Moving the fixed values to the right-hand side leaves, over the unhinted pixels f and
the hinted pixels c,

    (I - W)_ff U_f = W_fc U_c,

a sparse matrix with at most 9 entries a row. ``I - W`` with ``W`` row-stochastic is an M-matrix.
No weight is below exp(-30) (0.6 times a window's variance is at least a thirtieth of the squared
difference of any two of its values), so the window graph is connected and, with at least one
hint, ``(I - W)_ff`` is a nonsingular M-matrix: it factorizes without pivoting. It is factorized
once (``scipy.sparse.linalg.splu``) and solved for a and b together, in nested-dissection order
(:func:`nested_dissection`): SuperLU's own orderings (COLAMD, minimum degree) fill the factor 2-3x
more and take 3-60x longer on a 256x256 grid (``benchmarks/levin_speed.py``); algebraic
multigrid (pyamg, tried) was slower and less exact. Without hints the result is ab = 0 everywhere
(gray): of the minima of ``J`` (any constant colour gives 0), the one that adds no colour.

Where it runs: on the network's 256x256 view (:func:`levin_ab_for_image`), ab then scaled up to the
photo by :func:`colorization.colorize.render` exactly as the network's ab is: the protocol compares
both methods on the same L and hints. :func:`levin_colorize` takes any lightness plane up to
:data:`MAX_SOLVE_PIXELS` (one megapixel: about 1.7 GB and half a minute). The factor grows as
``n log n``: a 12-megapixel photo would need about 22 GB (``benchmarks/levin_speed.py``
extrapolates it from its measurements), so full resolution is not offered for photos.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from colorization.fast import lab_lut
from colorization.hints.points import hint_planes, image_size
from colorization.io.preprocess import PAPER_SIZE, network_view

NEIGHBOURS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
VARIANCE_FACTOR = 0.6  # the authors' code: 2 sigma_r^2 = 0.6 * variance of the window
NEAREST_WEIGHT = 0.01  # ... raised so that the most similar neighbour's weight is at least this
MIN_SIGMA2 = 2e-6  # ... and never below this (Y in [0, 1])
MAX_SOLVE_PIXELS = 1 << 20  # one megapixel (1024x1024): about 1.7 GB of peak memory
LEAF_PIXELS = 16  # nested dissection stops at blocks of at most this many pixels (fastest measured)


def levin_ab_for_image(rgb: np.ndarray, hints, size: int = PAPER_SIZE) -> np.ndarray:
    """Levin et al.'s ab for ``rgb`` on the network's ``size`` x ``size`` view, for
    :func:`colorization.colorize.render` (``render(rgb, ab)``), exactly like the network's prediction.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3)
        The image (uint8, uint16 or float in [0, 1]); its view is the "full" mode's
        (:func:`colorization.io.preprocess.network_view`: the whole image resized, bicubic).
    hints : list of Hint or of dicts
        Positions in ``rgb``'s pixels (:func:`colorization.hints.points.hint_planes` maps them to the view).

    Returns
    -------
    ndarray, shape (size, size, 2), float32
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {rgb.shape}")
    view = network_view(rgb, "full", size)
    return levin_colorize(lab_lut.lightness(view), hint_planes(hints, rgb.shape, size))


def levin_colorize(lightness: np.ndarray, hints, max_pixels: int = MAX_SOLVE_PIXELS) -> np.ndarray:
    """Colour a lightness plane from hints by Levin et al.'s optimization (the module's equations).

    Parameters
    ----------
    lightness : ndarray, shape (H, W)
        CIE L in [0, 100].
    hints : ndarray of shape (H, W, 3), or list of Hint or of dicts
        Hint planes (a, b, mask; mask 1 where hinted, 0 elsewhere: :func:`~colorization.hints.points.hint_planes`),
        or hints with positions in ``lightness``'s own pixels.
    max_pixels : int
        The guard: larger planes raise ValueError (the factor's memory grows as n log n).

    Returns
    -------
    ndarray, shape (H, W, 2), float32
        ab; exactly the hint at hinted pixels; 0 everywhere when there is no hint.
    """
    lightness = check_lightness(lightness, max_pixels)
    planes = hints if isinstance(hints, np.ndarray) else hint_planes(hints, lightness.shape, lightness.shape)
    planes = check_planes(planes, lightness.shape)
    hinted = planes[..., 2] == 1
    ab = np.where(hinted[..., None], planes[..., :2], 0).astype(np.float64)
    if not hinted.any() or hinted.all():
        return ab.astype(np.float32)
    matrix, rhs, unknowns = levin_system(affinities(lightness / 100.0), hinted, ab)
    solution = factorize(matrix).solve(rhs)
    if not np.isfinite(solution).all():
        raise FloatingPointError(f"Levin's system gave {int((~np.isfinite(solution)).sum())} non-finite ab values")
    ab.reshape(-1, 2)[unknowns] = solution
    return ab.astype(np.float32)


def check_lightness(lightness, max_pixels: int) -> np.ndarray:
    """``lightness`` as a finite float64 (H, W) plane within the pixel guard; ValueError otherwise."""
    lightness = np.asarray(lightness)
    if lightness.ndim != 2 or not np.issubdtype(lightness.dtype, np.number):
        raise ValueError(f"expected a lightness plane of shape (H, W), got {lightness.dtype} {lightness.shape}")
    image_size(lightness.shape)
    if lightness.size > max_pixels:
        raise ValueError(
            f"a {lightness.shape[1]}x{lightness.shape[0]} plane is over the {max_pixels}-pixel limit of "
            "Levin's solver (its factor grows as n log n); solve on the network's view (levin_ab_for_image)"
        )
    lightness = lightness.astype(np.float64)
    if not np.isfinite(lightness).all():
        raise ValueError("the lightness plane holds NaN or infinite values")
    return lightness


def check_planes(planes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Hint planes of ``shape`` + (3,), finite, with a mask of 0s and 1s; ValueError otherwise."""
    if planes.shape != tuple(shape) + (3,):
        raise ValueError(f"expected hint planes of shape {tuple(shape) + (3,)}, got {planes.shape}")
    if not np.isfinite(planes).all():
        raise ValueError("the hint planes hold NaN or infinite values")
    if not np.isin(planes[..., 2], (0, 1)).all():
        raise ValueError("the hint mask (channel 2) must be 0 or 1 everywhere")
    return planes


def neighbour_planes(plane: np.ndarray, fill) -> np.ndarray:
    """(8, H, W): ``plane`` at each pixel's 8 neighbours (:data:`NEIGHBOURS`), ``fill`` outside the image."""
    height, width = plane.shape
    padded = np.pad(plane, 1, constant_values=fill)
    return np.stack([padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in NEIGHBOURS])


def affinities(y: np.ndarray) -> np.ndarray:
    """(8, H, W) weights ``w_rs`` of each pixel's neighbours: the authors' rule, rows summing to 1, 0 outside."""
    inside = neighbour_planes(np.ones(y.shape, dtype=bool), False)
    neighbours = neighbour_planes(y, 0.0)
    count = 1 + inside.sum(axis=0)
    mean = (y + (neighbours * inside).sum(axis=0)) / count
    variance = ((y - mean) ** 2 + (inside * (neighbours - mean) ** 2).sum(axis=0)) / count
    distance2 = (neighbours - y) ** 2
    nearest = np.where(inside, distance2, np.inf).min(axis=0)
    sigma2 = np.maximum(np.maximum(VARIANCE_FACTOR * variance, nearest / -math.log(NEAREST_WEIGHT)), MIN_SIGMA2)
    weights = np.exp(-distance2 / sigma2) * inside
    return weights / weights.sum(axis=0)


def levin_system(weights: np.ndarray, hinted: np.ndarray, ab: np.ndarray):
    """``(I - W)_ff`` (CSC), ``W_fc U_c`` (two columns: a, b) and the flat indices of the unknowns f.

    The unknowns are the unhinted pixels in :func:`nested_dissection` order.
    """
    height, width = hinted.shape
    order = nested_dissection(height, width)
    unknowns = order[~hinted.reshape(-1)[order]]
    position = np.full(height * width, -1)
    position[unknowns] = np.arange(len(unknowns))
    pixels = np.arange(height * width).reshape(height, width)
    linked = weights > 0  # the neighbours inside the image
    rows = np.broadcast_to(pixels, weights.shape)[linked]
    columns = neighbour_planes(pixels, -1)[linked]
    values = weights[linked]
    row_at, column_at = position[rows], position[columns]
    free = row_at >= 0
    to_free, to_hint = free & (column_at >= 0), free & (column_at < 0)
    diagonal = np.arange(len(unknowns))
    matrix = scipy.sparse.csc_matrix(
        (
            np.concatenate([np.ones(len(unknowns)), -values[to_free]]),
            (np.concatenate([diagonal, row_at[to_free]]), np.concatenate([diagonal, column_at[to_free]])),
        ),
        shape=(len(unknowns), len(unknowns)),
    )
    hint_ab = ab.reshape(-1, 2)[columns[to_hint]] * values[to_hint, None]
    rhs = np.stack([np.bincount(row_at[to_hint], hint_ab[:, c], minlength=len(unknowns)) for c in (0, 1)], axis=1)
    return matrix, rhs, unknowns


def factorize(matrix):
    """SuperLU of ``matrix`` in its given (nested-dissection) order, without pivoting (an M-matrix)."""
    return scipy.sparse.linalg.splu(
        matrix, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
    )


@functools.lru_cache(maxsize=4)
def nested_dissection(height: int, width: int) -> np.ndarray:
    """The flat pixel indices of a ``height`` x ``width`` grid in nested-dissection order (read-only).

    A line of pixels splits the 3x3-window graph in two; each half is ordered first, recursively,
    then the line: eliminating in this order keeps the factor's fill near ``n log n``.
    """
    order = np.concatenate(list(dissect(0, height, 0, width, width)))
    order.flags.writeable = False
    return order


def dissect(top: int, bottom: int, left: int, right: int, width: int):
    """The pixels of rows [top, bottom) x columns [left, right): both halves, then the separating line."""
    rows, columns = bottom - top, right - left
    if rows * columns <= LEAF_PIXELS or min(rows, columns) < 3:
        yield (np.arange(top, bottom)[:, None] * width + np.arange(left, right)).reshape(-1)
    elif rows >= columns:
        middle = (top + bottom) // 2
        yield from dissect(top, middle, left, right, width)
        yield from dissect(middle + 1, bottom, left, right, width)
        yield middle * width + np.arange(left, right)
    else:
        middle = (left + right) // 2
        yield from dissect(top, bottom, left, middle, width)
        yield from dissect(top, bottom, middle + 1, right, width)
        yield np.arange(top, bottom) * width + middle
