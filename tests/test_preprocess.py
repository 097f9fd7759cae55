"""The paper's crop (shorter side to 256, centre crop) and resizing."""

import numpy as np
import pytest
from PIL import Image

from colorization.io.preprocess import paper_crop, resize


@pytest.mark.parametrize("shape", [(300, 400), (400, 300), (256, 256), (100, 120), (1, 1), (2000, 257), (31, 900)])
def test_paper_crop_shape(shape):
    image = np.random.default_rng(0).integers(0, 256, shape + (3,), dtype=np.uint8)
    out = paper_crop(image)
    assert out.shape == (256, 256, 3) and out.dtype == np.uint8


def test_paper_crop_is_resize_then_centre_crop():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    # shorter side 300 -> 256: the longer side becomes round(400 * 256 / 300) = 341
    expected = np.asarray(Image.fromarray(image).resize((341, 256), Image.Resampling.BICUBIC))[:, 42:298]
    np.testing.assert_array_equal(paper_crop(image), expected)


def test_paper_crop_keeps_the_centre():
    # a wide image whose left and right thirds are red and blue, centre green:
    # the crop must be green only, away from its borders
    image = np.zeros((256, 768, 3), np.uint8)
    image[:, :256, 0] = 255
    image[:, 256:512, 1] = 255
    image[:, 512:, 2] = 255
    out = paper_crop(image)
    assert (out[:, 8:-8, 1] == 255).all() and (out[:, 8:-8, [0, 2]] == 0).all()


def test_paper_crop_on_float_and_gray():
    plane = np.linspace(0, 100, 300 * 500, dtype=np.float32).reshape(300, 500)
    out = paper_crop(plane)
    assert out.shape == (256, 256) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 100


def test_resize_float_planes_keep_values():
    ab = np.full((8, 8, 2), [12.5, -40.0], dtype=np.float32)
    up = resize(ab, (33, 17), "bilinear")
    assert up.shape == (33, 17, 2)
    np.testing.assert_allclose(up[..., 0], 12.5, atol=1e-4)
    np.testing.assert_allclose(up[..., 1], -40.0, atol=1e-4)


@pytest.mark.parametrize("bad_shape", [(0, 5, 3), (5,), (2, 2, 2, 2)])
def test_resize_refuses_bad_shapes(bad_shape):
    with pytest.raises(ValueError, match="shape"):
        paper_crop(np.zeros(bad_shape, np.uint8))
