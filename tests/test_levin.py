"""Levin, Lischinski and Weiss's colorization by optimization (colorization.hints.levin)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from colorization.colorize import network_view, render
from colorization.fast import lab_lut
from colorization.hints import Hint, HintError, hint_planes, hints_from_truth
from colorization.hints.levin import (
    affinities,
    levin_ab_for_image,
    levin_colorize,
    nested_dissection,
)


def reference_levin(lightness: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """The authors' getColorExact.m, pixel by pixel, solved densely: what the vectorised solver must equal."""
    y, (height, width) = lightness / 100.0, lightness.shape
    n = height * width
    matrix, rhs = np.zeros((n, n)), np.zeros((n, 2))
    for row in range(height):
        for column in range(width):
            r = row * width + column
            matrix[r, r] = 1.0
            if planes[row, column, 2]:
                rhs[r] = planes[row, column, :2]
                continue
            window = [
                (i, j)
                for i in range(max(0, row - 1), min(height, row + 2))
                for j in range(max(0, column - 1), min(width, column + 2))
                if (i, j) != (row, column)
            ]
            values = np.array([y[i, j] for i, j in window])
            everything = np.append(values, y[row, column])
            sigma = 0.6 * np.mean((everything - everything.mean()) ** 2)
            nearest = np.min((values - y[row, column]) ** 2)
            sigma = max(sigma, -nearest / math.log(0.01), 0.000002)
            weights = np.exp(-((values - y[row, column]) ** 2) / sigma)
            for (i, j), weight in zip(window, weights / weights.sum(), strict=True):
                matrix[r, i * width + j] = -weight
    return np.linalg.solve(matrix, rhs).reshape(height, width, 2)


def two_regions(size: int = 64) -> np.ndarray:
    lightness = np.full((size, size), 30.0)
    lightness[:, size // 2 :] = 70.0
    return lightness


LEFT, RIGHT = (40.0, 20.0), (-30.0, -50.0)


def isolated_dots() -> np.ndarray:
    """Flat gray and a ramp, with single bright pixels: each floor of the authors' sigma rule binds somewhere."""
    lightness = np.full((11, 12), 40.0)
    lightness[6:] += 3.0 * np.arange(12)
    lightness[1::4, 2::4] += 40.0
    return lightness


@pytest.mark.parametrize("picture", ["photo", "dots"])
def test_it_solves_the_authors_system(real_photos, picture):
    rng = np.random.default_rng(0)
    if picture == "photo":
        lightness = lab_lut.lightness(network_view(real_photos["coffee.png"], size=14))[:, :11].astype(np.float64)
    else:
        lightness = isolated_dots()
    planes = np.zeros(lightness.shape + (3,), np.float32)
    for row, column in rng.integers(0, 11, (6, 2)):
        planes[row, column] = (*rng.uniform(-60, 60, 2), 1.0)
    np.testing.assert_allclose(levin_colorize(lightness, planes), reference_levin(lightness, planes), atol=1e-3)


def test_each_region_takes_its_own_hint_and_the_boundary_holds():
    ab = levin_colorize(two_regions(), [Hint(5, 30, LEFT, 0), Hint(60, 10, RIGHT, 0)])
    gap = np.linalg.norm(np.subtract(LEFT, RIGHT))
    left, right = ab[:, :32], ab[:, 32:]
    # far from the hints, each region keeps at least 90% of its own colour's distance from the other one
    assert np.linalg.norm(left - LEFT, axis=-1).max() < 0.1 * gap
    assert np.linalg.norm(right - RIGHT, axis=-1).max() < 0.1 * gap
    # and the colour changes at the edge in lightness, not gradually across the image
    step = np.linalg.norm(ab[:, 32] - ab[:, 31], axis=-1)
    assert step.min() > 0.8 * gap
    assert np.linalg.norm(np.diff(left, axis=1), axis=-1).max() < 0.02 * gap  # (the largest: next to the hint)


def test_a_constant_image_takes_its_one_hint_everywhere():
    ab = levin_colorize(np.full((50, 70), 55.0), [Hint(3, 4, (12.5, -7.25), 0)])
    np.testing.assert_allclose(ab, np.broadcast_to((12.5, -7.25), ab.shape), atol=1e-4)


def test_hinted_pixels_keep_their_hint_exactly(real_photos):
    photo = real_photos["astronaut.png"]
    hints = hints_from_truth(photo, 100, seed=2)
    planes = hint_planes(hints, photo.shape)
    ab = levin_ab_for_image(photo, hints)
    hinted = planes[..., 2] == 1
    assert hinted.sum() > 100
    assert np.array_equal(ab[hinted], planes[hinted][:, :2])


def test_the_result_is_finite_float32_on_the_view_and_renders_like_the_network(real_photos):
    photo = real_photos["chelsea.png"]
    ab = levin_ab_for_image(photo, hints_from_truth(photo, 50, seed=0))
    assert ab.shape == (256, 256, 2) and ab.dtype == np.float32 and np.isfinite(ab).all()
    assert np.abs(ab).max() > 5  # the hints' colour spread
    rendered = render(photo, ab)
    assert rendered.shape == photo.shape and rendered.dtype == np.uint8


def test_the_view_is_the_network_view(real_photos):
    photo = real_photos["rocket.jpg"]
    hints = hints_from_truth(photo, 20, seed=5)
    expected = levin_colorize(lab_lut.lightness(network_view(photo)), hint_planes(hints, photo.shape))
    assert np.array_equal(levin_ab_for_image(photo, hints), expected)


@pytest.mark.parametrize("hints", [[], np.zeros((256, 256, 3), np.float32)])
def test_no_hints_give_gray(real_photos, hints):
    lightness = lab_lut.lightness(network_view(real_photos["coffee.png"]))
    ab = levin_colorize(lightness, hints)
    assert ab.shape == (256, 256, 2) and ab.dtype == np.float32 and not ab.any()
    assert not levin_ab_for_image(real_photos["coffee.png"], []).any()


def test_all_pixels_hinted_gives_the_hints():
    planes = np.ones((4, 5, 3), np.float32)
    planes[..., :2] = np.random.default_rng(0).uniform(-50, 50, (4, 5, 2))
    assert np.array_equal(levin_colorize(np.full((4, 5), 50.0), planes), planes[..., :2])


def test_affinities_are_the_window_rule():
    y = np.random.default_rng(3).uniform(0, 1, (6, 7))
    weights = affinities(y)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    assert np.all(weights[:3, 0] == 0) and np.all(weights[:, :, 0][[0, 3, 5]] == 0)  # no neighbour outside
    assert (weights > 0).sum(axis=0)[0, 0] == 3 and (weights > 0).sum(axis=0)[2, 3] == 8


def test_nested_dissection_orders_every_pixel_once():
    for shape in [(256, 256), (1, 9), (37, 5), (3, 100)]:
        assert np.array_equal(np.sort(nested_dissection(*shape)), np.arange(shape[0] * shape[1]))


def test_the_pixel_guard():
    with pytest.raises(ValueError, match="over the 100-pixel limit"):
        levin_colorize(np.zeros((10, 11)), [Hint(1, 1, (1.0, 1.0))], max_pixels=100)


@pytest.mark.parametrize(
    "lightness, planes, message",
    [
        (np.full((4, 4), np.nan), np.zeros((4, 4, 3)), "NaN"),
        (np.zeros((4, 4, 1)), np.zeros((4, 4, 3)), "shape"),
        (np.zeros((4, 4)), np.zeros((4, 5, 3)), "shape"),
        (np.zeros((4, 4)), np.full((4, 4, 3), 0.5), "0 or 1"),
        (np.zeros((4, 4)), np.full((4, 4, 3), np.inf), "NaN or infinite"),
    ],
)
def test_bad_arrays_are_refused(lightness, planes, message):
    with pytest.raises(ValueError, match=message):
        levin_colorize(lightness, planes)


def test_bad_hints_are_hint_errors():
    with pytest.raises(HintError, match="outside the image"):
        levin_colorize(np.zeros((4, 4)), [{"x": 4, "y": 0, "ab": [1, 1]}])
