"""Quantized ab space of the classification ablation (Zhang et al.): bins, soft
encoding, empirical distribution, rebalancing and annealed-mean decoding, on known answers."""

from __future__ import annotations

import numpy as np
import pytest

from colorization.ablation import quantize as q
from colorization.lab import rgb_to_lab


def test_bins_are_the_srgb_gamut_on_a_grid_of_ten():
    centers = q.bin_centers()
    assert q.NUM_BINS == len(centers) == 261  # Zhang et al. keep 313; see the module docstring
    assert np.all(centers % 10 == 0) and np.abs(centers).max() <= 110
    np.testing.assert_array_equal(q.gamut_mask_from_srgb(), q.gamut_mask())  # all 2^24 sRGB colours
    assert [0.0, 0.0] in centers.tolist() and [110.0, 110.0] not in centers.tolist()


def test_hard_assignment_is_rounding_to_the_grid():
    index = q.ab_to_bin(np.array([[0.0, 0.0], [4.9, -4.9], [81.0, 69.0]]))
    np.testing.assert_array_equal(q.bin_centers()[index], [[0, 0], [0, 0], [80, 70]])
    far = q.ab_to_bin(np.array([110.0, 110.0]))  # outside the gamut: the nearest bin
    assert np.linalg.norm(q.bin_centers()[far] - 110) == pytest.approx(
        np.linalg.norm(q.bin_centers() - 110, axis=1).min()
    )


def test_soft_encoding_known_weights_and_ops_twin():
    from keras import ops

    ab = np.array([[0.0, 0.0], [3.0, 4.0], [-33.0, 57.0]])
    index, weight = q.soft_encode(ab)
    # at a bin centre: the centre and its 4 neighbours at distance 10, kernel exp(-100 / 50)
    assert q.bin_centers()[index[0, 0]].tolist() == [0, 0]
    neighbours = sorted(map(tuple, q.bin_centers()[index[0, 1:]].tolist()))
    assert neighbours == [(-10, 0), (0, -10), (0, 10), (10, 0)]
    e = np.exp(-2.0)
    np.testing.assert_allclose(weight[0], np.array([1, e, e, e, e]) / (1 + 4 * e), rtol=1e-6)
    np.testing.assert_allclose(weight.sum(-1), 1.0, rtol=1e-6)
    assert np.all(np.diff(weight, axis=-1) <= 1e-12)  # nearest first
    index_ops, weight_ops = q.soft_encode_ops(
        ops.convert_to_tensor(ab, "float32"), ops.convert_to_tensor(q.bin_centers())
    )
    np.testing.assert_array_equal(ops.convert_to_numpy(index_ops)[1:], index[1:])
    np.testing.assert_allclose(ops.convert_to_numpy(weight_ops), weight, atol=1e-5)


def test_empirical_distribution_of_known_images():
    gray = np.full((2, 4, 4, 3), 128, np.uint8)
    p = q.bin_distribution(gray)
    assert p.shape == (q.NUM_BINS,) and p[q.ab_to_bin(np.zeros(2))] == 1.0
    red = np.zeros((1, 4, 4, 3), np.uint8)
    red[..., 0] = 255
    mixed = np.concatenate([np.full((1, 4, 4, 3), 128, np.uint8), red, red, red])
    p = q.bin_distribution(mixed, chunk=3)
    red_bin = q.ab_to_bin(rgb_to_lab(np.array([255, 0, 0], np.uint8))[1:])
    assert p[red_bin] == pytest.approx(0.75) and p[q.ab_to_bin(np.zeros(2))] == pytest.approx(0.25)
    with pytest.raises(ValueError):
        q.bin_distribution(np.zeros((1, 2, 2, 3), np.float32))


def test_rebalancing_weights_known_answers():
    Q = q.NUM_BINS
    uniform = np.full(Q, 1.0 / Q)
    np.testing.assert_allclose(q.rebalancing_weights(uniform), 1.0, rtol=1e-5)
    # lambda = 1: uniform mixing, every weight 1
    peaked = np.zeros(Q)
    peaked[[10, 20]] = [0.9, 0.1]
    np.testing.assert_allclose(q.rebalancing_weights(peaked, lam=1.0), 1.0, rtol=1e-5)
    # no smoothing, lambda = 0.5: w = c / (p / 2 + 1 / (2Q)), E_p[w] = 1
    w = q.rebalancing_weights(peaked, lam=0.5, sigma=0)
    mix = 0.5 * peaked + 0.5 / Q
    np.testing.assert_allclose(w, (1 / mix) / (peaked / mix).sum(), rtol=1e-5)
    assert w[20] / w[10] == pytest.approx((0.45 + 0.5 / Q) / (0.05 + 0.5 / Q), rel=1e-5)
    # with smoothing (sigma = 5): E_p~[w] = 1, rare colours weigh more than common ones
    w = q.rebalancing_weights(peaked)
    smoothed = q.smooth_distribution(peaked)
    assert (smoothed * w).sum() == pytest.approx(1.0, rel=1e-5) and smoothed.sum() == pytest.approx(1.0)
    assert w[10] < w[20] < w[100] and w.max() == pytest.approx(w[100], rel=1e-5)


def test_annealed_mean_known_answers(monkeypatch):
    centers = q.bin_centers()
    one_hot = np.zeros((1, q.NUM_BINS), np.float32)
    one_hot[0, 42] = 1.0
    np.testing.assert_allclose(q.annealed_mean(one_hot), centers[42:43], atol=1e-4)
    two = np.zeros(q.NUM_BINS, np.float32)
    two[[3, 7]] = 0.5
    np.testing.assert_allclose(q.annealed_mean(two), (centers[3] + centers[7]) / 2, atol=1e-3)
    uneven = np.zeros(q.NUM_BINS, np.float32)
    uneven[[3, 7]] = [0.75, 0.25]
    # T = 1: the mean; T = 0.38: weights 0.75^(1/T) : 0.25^(1/T); T -> 0: the mode
    np.testing.assert_allclose(q.annealed_mean(uneven, 1.0), 0.75 * centers[3] + 0.25 * centers[7], atol=1e-3)
    a, b = 0.75 ** (1 / 0.38), 0.25 ** (1 / 0.38)
    np.testing.assert_allclose(q.annealed_mean(uneven), (a * centers[3] + b * centers[7]) / (a + b), atol=1e-3)
    np.testing.assert_allclose(q.annealed_mean(uneven, 0.01), centers[3], atol=1e-3)
    batch = np.broadcast_to(uneven, (2, 3, 4, q.NUM_BINS))
    monkeypatch.setattr(q, "DECODE_CHUNK", 5)  # 24 pixels: full chunks and a short last one
    assert q.annealed_mean(batch).shape == (2, 3, 4, 2)
    several = q.annealed_means(batch, (1.0, 0.38, 0.01))
    for decoded, temperature in zip(several, (1.0, 0.38, 0.01), strict=True):
        np.testing.assert_allclose(decoded, q.annealed_mean(batch, temperature), atol=1e-6)
    np.testing.assert_allclose(several[1][1, 2, 3], (a * centers[3] + b * centers[7]) / (a + b), atol=1e-3)
