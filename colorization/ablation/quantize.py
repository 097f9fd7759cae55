"""Quantized ab space for the classification ablation (Zhang et al., ECCV 2016).

The paper regresses ab with MSE, which predicts the conditional *mean* colour: for a
multimodal colour distribution that is a desaturated brown (docs/paper.md, "Suggested explanation").
Zhang et al. instead classify each pixel's ab into bins of a 10x10 grid, rebalance the
classes by their rarity and decode with an "annealed mean". This module holds the
pieces, numpy for statistics and ``keras.ops`` for what runs inside the training step:

Bins (:func:`bin_centers`, :data:`NUM_BINS`)
    Centres on the grid ``a, b in {-110, -100, ..., 110}`` (``GRID = 10``). A bin is in
    gamut when its 10x10 cell holds the ab of at least one sRGB colour, at any L: all
    16,777,216 8-bit sRGB colours are converted (scikit-image, D65) and rounded to their
    nearest grid centre. That gives **Q = 261 bins** (:data:`GAMUT_ROWS`, rebuilt and
    checked by :func:`gamut_mask_from_srgb`). Zhang et al. keep 313; they do not say
    how their list was made, and the 8-bit sRGB gamut does not reach 313 cells (a
    stricter rule, the bin *centre* in gamut for some L, gives 226). Since every sRGB
    pixel's nearest grid centre is one of the 261, hard assignment is exact rounding.
Soft encoding (:func:`soft_encode`, :func:`soft_encode_ops`)
    A ground-truth ab becomes weights on its 5 nearest bins, Gaussian kernel
    sigma = 5 (Lab units), normalised to sum 1.
Empirical distribution (:func:`bin_distribution`)
    Fraction of training pixels whose ab falls in each bin (hard assignment), counted
    through a 2^24-entry sRGB -> bin table (:func:`srgb_bin_table`).
Rebalancing (:func:`rebalancing_weights`)
    ``p~`` = the distribution smoothed with a Gaussian (sigma = 5) over the bin
    centres; ``w ∝ ((1 - λ) p~ + λ / Q)^-1`` with λ = 0.5, scaled so that
    ``sum_q p~_q w_q = 1``. A pixel's loss is weighted by ``w`` of its nearest bin.
Decoding (:func:`annealed_mean`)
    ``f_T(z) = exp(log z / T) / sum exp(log z / T)``, T = 0.38, then the mean of the bin
    centres under ``f_T(z)``: between the mean (T = 1, desaturated) and the mode
    (T -> 0, vivid but patchy).
"""

from __future__ import annotations

import functools

import numpy as np

GRID = 10.0  # Zhang et al.: grid size 10 in ab
AB_LIMIT = 110  # grid centres from -110 to 110 cover the sRGB gamut (|a|, |b| < 108)
SIDE = int(2 * AB_LIMIT / GRID) + 1  # 23 grid centres per axis
SOFT_NEIGHBOURS = 5  # Zhang et al.: soft-encode to the 5 nearest bins
SOFT_SIGMA = 5.0  # ... with a Gaussian kernel, sigma = 5
REBALANCE_LAMBDA = 0.5  # mixing with the uniform distribution
REBALANCE_SIGMA = 5.0  # smoothing of the empirical distribution
ANNEAL_T = 0.38  # annealed-mean temperature
EPSILON = 1e-8

# The in-gamut grid cells: row i is a = -110 + 10 i, column j is b = -110 + 10 j
# ("#": the cell holds the ab of some 8-bit sRGB colour). Recomputed by
# gamut_mask_from_srgb() in the tests.
GAMUT_ROWS = (
    ".......................",
    ".......................",
    "...................#...",
    "...............#####...",
    ".............########..",
    "...........##########..",
    ".........############..",
    "........#############..",
    ".......##############..",
    ".......##############..",
    "......###############..",
    ".....################..",
    "....################...",
    "....################...",
    "...#################...",
    "..##################...",
    "..#################....",
    ".##################....",
    "###################....",
    "###################....",
    "..##########...........",
    "....###................",
    ".......................",
)


def gamut_mask() -> np.ndarray:
    """(23, 23) bool: the in-gamut grid cells (index ``[i, j]``: a = -110 + 10 i, b = -110 + 10 j)."""
    return np.array([[c == "#" for c in row] for row in GAMUT_ROWS])


@functools.cache
def bin_centers() -> np.ndarray:
    """(Q, 2) float32 ab centres of the in-gamut bins, in row-major grid order."""
    i, j = np.nonzero(gamut_mask())
    return np.stack([i * GRID - AB_LIMIT, j * GRID - AB_LIMIT], axis=-1).astype(np.float32)


NUM_BINS = int(gamut_mask().sum())  # 261


def _grid_cell(ab: np.ndarray) -> np.ndarray:
    """Index (i * 23 + j) of the nearest grid centre of each ab (clipped to the grid)."""
    ij = np.clip(np.rint((np.asarray(ab, np.float64) + AB_LIMIT) / GRID), 0, SIDE - 1).astype(np.int64)
    return ij[..., 0] * SIDE + ij[..., 1]


@functools.cache
def _cell_to_bin() -> np.ndarray:
    """(529,) bin index of each grid cell: itself if in gamut, else the nearest bin."""
    centers = bin_centers().astype(np.float64)
    i, j = np.divmod(np.arange(SIDE * SIDE), SIDE)
    cells = np.stack([i * GRID - AB_LIMIT, j * GRID - AB_LIMIT], axis=-1)
    return np.argmin(((cells[:, None] - centers[None]) ** 2).sum(-1), axis=1).astype(np.int16)


def ab_to_bin(ab: np.ndarray) -> np.ndarray:
    """Hard assignment: the index of the nearest bin of each ab (..., 2) -> (...)."""
    return _cell_to_bin()[_grid_cell(ab)].astype(np.int64)


def _srgb_cells() -> np.ndarray:
    """(2^24,) int16 nearest grid cell of every 8-bit sRGB colour (index r << 16 | g << 8 | b)."""
    from colorization.lab import rgb_to_lab

    cells = np.empty(1 << 24, np.int16)
    step = 1 << 21
    for start in range(0, 1 << 24, step):
        code = np.arange(start, start + step, dtype=np.uint32)
        rgb = np.stack([code >> 16, (code >> 8) & 255, code & 255], axis=-1).astype(np.uint8)
        cells[start : start + step] = _grid_cell(rgb_to_lab(rgb)[:, 1:])
    return cells


def gamut_mask_from_srgb() -> np.ndarray:
    """Recompute :func:`gamut_mask` from all 8-bit sRGB colours (about 10 s)."""
    mask = np.zeros(SIDE * SIDE, bool)
    mask[np.unique(_srgb_cells())] = True
    return mask.reshape(SIDE, SIDE)


@functools.cache
def srgb_bin_table() -> np.ndarray:
    """(2^24,) int16: the bin of every 8-bit sRGB colour (index r << 16 | g << 8 | b); built once (~10 s)."""
    return _cell_to_bin()[_srgb_cells()]


def bin_distribution(images: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Empirical bin distribution (Q,) of the pixels of uint8 sRGB images (..., 3).

    Each pixel counts for the bin its ab falls in (hard assignment). Works on
    memory-mapped arrays, ``chunk`` images at a time.
    """
    images = np.asarray(images) if not isinstance(images, np.memmap) else images
    if images.dtype != np.uint8 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 sRGB images (..., 3), got {images.dtype} {images.shape}")
    table = srgb_bin_table()
    counts = np.zeros(NUM_BINS, np.int64)
    flat = images.reshape((-1,) + images.shape[-3:]) if images.ndim >= 3 else images.reshape(1, -1, 1, 3)
    for start in range(0, len(flat), chunk):
        rgb = np.asarray(flat[start : start + chunk]).reshape(-1, 3).astype(np.uint32)
        code = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        counts += np.bincount(table[code], minlength=NUM_BINS)
    total = counts.sum()
    if total == 0:
        raise ValueError("no pixels to count")
    return counts / total


def _gaussian_matrix(sigma: float) -> np.ndarray:
    centers = bin_centers().astype(np.float64)
    d2 = ((centers[:, None] - centers[None]) ** 2).sum(-1)
    return np.exp(-d2 / (2.0 * sigma**2))


def smooth_distribution(p: np.ndarray, sigma: float = REBALANCE_SIGMA) -> np.ndarray:
    """``p`` smoothed by a Gaussian over the bin centres (a kernel-weighted average at
    each bin, so a uniform distribution stays uniform), renormalised to sum 1."""
    p = np.asarray(p, np.float64)
    if sigma <= 0:
        return p / p.sum()
    kernel = _gaussian_matrix(sigma)
    smoothed = kernel @ p / kernel.sum(axis=1)
    return smoothed / smoothed.sum()


def rebalancing_weights(p: np.ndarray, lam: float = REBALANCE_LAMBDA, sigma: float = REBALANCE_SIGMA) -> np.ndarray:
    """Class-rebalancing weights (Q,) float32 from an empirical distribution ``p``.

    ``w ∝ ((1 - lam) p~ + lam / Q)^-1`` with ``p~`` = :func:`smooth_distribution`,
    scaled so that ``E_p~[w] = sum_q p~_q w_q = 1``.
    """
    p = np.asarray(p, np.float64)
    if p.shape != (NUM_BINS,) or np.any(p < 0) or not p.sum() > 0:
        raise ValueError(f"expected a distribution over {NUM_BINS} bins")
    if not 0 <= lam <= 1:
        raise ValueError(f"lambda must be in [0, 1], got {lam}")
    smoothed = smooth_distribution(p, sigma)
    mix = (1.0 - lam) * smoothed + lam / NUM_BINS
    w = 1.0 / np.maximum(mix, 1e-12)
    w /= (smoothed * w).sum()
    return w.astype(np.float32)


def rebalancing_from_images(images: np.ndarray, lam: float = REBALANCE_LAMBDA, sigma: float = REBALANCE_SIGMA) -> dict:
    """Distribution and weights from training images, with a summary for ``run.json``."""
    p = bin_distribution(images)
    w = rebalancing_weights(p, lam, sigma)
    return {
        "bins": NUM_BINS,
        "grid": GRID,
        "lambda": lam,
        "sigma": sigma,
        "images": int(np.prod(np.shape(images)[:-3])) if np.ndim(images) > 3 else 1,
        "bins_seen": int((p > 0).sum()),
        "weight_min": float(w.min()),
        "weight_max": float(w.max()),
        "weight_of_gray": float(w[ab_to_bin(np.zeros(2))]),
        "expected_weight_empirical": float((p * w).sum()),
        "distribution": [round(float(x), 8) for x in p],
        "weights": [round(float(x), 6) for x in w],
    }


# --- soft encoding -------------------------------------------------------------------
def soft_encode(ab: np.ndarray, k: int = SOFT_NEIGHBOURS, sigma: float = SOFT_SIGMA):
    """numpy reference: ab (..., 2) -> (indices (..., k) of the k nearest bins, nearest
    first; weights (..., k), Gaussian in the distance, summing to 1)."""
    ab = np.asarray(ab, np.float64)
    d2 = ((ab[..., None, :] - bin_centers().astype(np.float64)) ** 2).sum(-1)
    idx = np.argsort(d2, axis=-1, kind="stable")[..., :k]
    near = np.take_along_axis(d2, idx, axis=-1)
    w = np.exp(-(near - near[..., :1]) / (2 * sigma**2))
    return idx, w / w.sum(-1, keepdims=True)


def soft_encode_ops(ab, centers, k: int = SOFT_NEIGHBOURS, sigma: float = SOFT_SIGMA):
    """``keras.ops`` twin of :func:`soft_encode` for the training step.

    ``ab``: (..., 2) in Lab units; ``centers``: (Q, 2) tensor. Returns (indices int32
    (..., k), weights float32 (..., k)). No gradient flows (targets come from data).
    """
    from keras import ops

    ab = ops.cast(ab, "float32")
    centers = ops.cast(centers, "float32")
    d2 = (
        ops.sum(ab * ab, axis=-1, keepdims=True)
        - 2.0 * ops.matmul(ab, ops.transpose(centers))
        + ops.sum(centers * centers, axis=-1)
    )
    neg, idx = ops.top_k(-d2, k=k, sorted=True)
    # shift by the nearest distance before the exponential (exactly the same weights)
    w = ops.exp((neg - neg[..., :1]) / (2.0 * sigma**2))
    w = w / ops.sum(w, axis=-1, keepdims=True)
    return ops.stop_gradient(ops.cast(idx, "int32")), ops.stop_gradient(w)


# --- decoding --------------------------------------------------------------------------
def annealed_mean(probs: np.ndarray, temperature: float = ANNEAL_T) -> np.ndarray:
    """Probabilities over the bins (..., Q) -> ab (..., 2) float32 (Lab units).

    ``f_T(z) = exp(log z / T) / sum_q exp(log z_q / T)``, then ``sum_q f_T(z)_q c_q``.
    """
    return annealed_means(probs, (temperature,))[0]


DECODE_CHUNK = 4096  # pixels at a time: reused buffers of 4 MiB (2x faster than 2^18-pixel temporaries here)


def annealed_means(probs: np.ndarray, temperatures) -> list[np.ndarray]:
    """:func:`annealed_mean` at several temperatures, sharing ``log z`` (the sweep of
    :mod:`colorization.evaluation.vividness` decodes one prediction many times).

    Computed :data:`DECODE_CHUNK` pixels at a time in two reused buffers; ``log z`` is
    shifted to a maximum of 0 per pixel first, which leaves ``f_T`` unchanged.
    """
    probs = np.asarray(probs)
    if probs.shape[-1] != NUM_BINS:
        raise ValueError(f"expected {NUM_BINS} bin probabilities in the last axis, got {probs.shape}")
    for temperature in temperatures:
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
    centers = bin_centers()
    flat = probs.reshape(-1, NUM_BINS)
    outs = [np.empty((len(flat), 2), np.float32) for _ in temperatures]
    log_z = np.empty((min(DECODE_CHUNK, len(flat)), NUM_BINS), np.float32)
    f = np.empty_like(log_z)
    for start in range(0, len(flat), DECODE_CHUNK):
        stop = min(start + DECODE_CHUNK, len(flat))
        log_part, f_part = log_z[: stop - start], f[: stop - start]
        np.maximum(flat[start:stop], np.float32(EPSILON), out=log_part)
        np.log(log_part, out=log_part)
        log_part -= log_part.max(axis=-1, keepdims=True)
        for out, temperature in zip(outs, temperatures, strict=True):
            np.multiply(log_part, np.float32(1.0 / temperature), out=f_part)
            np.exp(f_part, out=f_part)
            out[start:stop] = (f_part @ centers) / f_part.sum(axis=-1, keepdims=True)
    return [out.reshape(probs.shape[:-1] + (2,)) for out in outs]
