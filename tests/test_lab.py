"""CIE Lab conversions: scikit-image reference, the keras.ops twin, the fast full-resolution paths."""

import numpy as np
import pytest
from keras import ops
from skimage import color

from colorization import lab
from colorization.fast import lab_lut, lab_ops
from colorization.io.images import to_uint8


def _cases(real_photos):
    rng = np.random.default_rng(0)
    yield "random", rng.random((48, 48, 3))
    yield "random-uint8", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    yield "extremes", np.array([[[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]], float)
    yield from real_photos.items()


def test_numpy_conversion_is_scikit_image(real_photos):
    photo = real_photos["chelsea.png"]
    np.testing.assert_allclose(lab.rgb_to_lab(photo), color.rgb2lab(photo), atol=1e-4)


def test_ops_twin_agrees_with_scikit_image(real_photos):
    for name, image in _cases(real_photos):
        reference = color.rgb2lab(image)
        as_float = image / 255.0 if image.dtype == np.uint8 else image
        twin = ops.convert_to_numpy(lab_ops.rgb_to_lab_ops(as_float))
        error = np.abs(twin - reference).max(axis=tuple(range(twin.ndim - 1)))
        assert (error < 0.01).all(), f"{name}: max |error| in L, a, b = {error}"


def test_ops_inverse_agrees_with_scikit_image(real_photos):
    for name, image in _cases(real_photos):
        lab_values = color.rgb2lab(image)
        twin = ops.convert_to_numpy(lab_ops.lab_to_rgb_ops(lab_values))
        assert np.abs(twin - color.lab2rgb(lab_values)).max() < 1e-3, name


def test_ops_inverse_handles_out_of_gamut_like_scikit_image():
    rng = np.random.default_rng(1)
    lab_values = np.stack([rng.uniform(0, 100, 500), rng.uniform(-128, 127, 500), rng.uniform(-128, 127, 500)], -1)
    twin = ops.convert_to_numpy(lab_ops.lab_to_rgb_ops(lab_values))
    with pytest.warns(UserWarning):  # scikit-image warns about negative Z, and clips it as the twin does
        reference = color.lab2rgb(lab_values)
    assert np.abs(twin - reference).max() < 1e-3


def test_lightness_matches_full_conversion(real_photos):
    rng = np.random.default_rng(2)
    cases = list(real_photos.values()) + [
        rng.integers(0, 65536, (16, 16, 3), dtype=np.uint16),
        rng.random((16, 16, 3)).astype(np.float32),
    ]
    for image in cases:
        assert np.abs(lab_lut.lightness(image) - color.rgb2lab(image)[..., 0]).max() < 0.01


def test_lab_to_srgb8_within_one_code_of_scikit_image(real_photos):
    for name, photo in real_photos.items():
        lab_values = color.rgb2lab(photo)
        lab_values[..., 1:] *= 1.3  # push some colours out of gamut
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reference = to_uint8(color.lab2rgb(lab_values))
        fast = lab_lut.lab_to_srgb8(lab_values[..., 0], lab_values[..., 1:], keep_lightness=False)
        difference = np.abs(fast.astype(int) - reference)
        assert difference.max() <= 1, name
        assert (difference > 0).mean() < 0.01, name


def test_gamut_mapping_keeps_lightness_and_hue(real_photos):
    photo = real_photos["astronaut.png"]
    lightness = lab.rgb_to_lab(photo)[..., 0]
    ab = np.zeros(photo.shape[:2] + (2,), np.float32)
    ab[...] = [60.0, 90.0]  # a saturated orange: far outside sRGB for light and dark pixels
    out = lab_lut.lab_to_srgb8(lightness, ab)
    out_lab = lab.rgb_to_lab(out)
    assert np.abs(out_lab[..., 0] - lightness).mean() < 0.3
    clipped = lab.rgb_to_lab(lab_lut.lab_to_srgb8(lightness, ab, keep_lightness=False))
    assert np.abs(clipped[..., 0] - lightness).mean() > 3  # plain clipping would have shifted L
    chroma = np.hypot(out_lab[..., 1], out_lab[..., 2])
    colourful = chroma > 10
    hue = np.degrees(np.arctan2(out_lab[..., 2], out_lab[..., 1]))[colourful]
    assert np.abs(hue - np.degrees(np.arctan2(90, 60))).mean() < 3  # hue kept, chroma reduced
    assert chroma.max() <= np.hypot(60, 90) + 1


def test_round_trip_of_real_photo_is_exact_to_one_code(real_photos):
    photo = real_photos["coffee.png"]
    lab_values = lab.rgb_to_lab(photo)
    assert np.abs(lab_lut.lab_to_srgb8(lab_values[..., 0], lab_values[..., 1:]).astype(int) - photo).max() <= 1


def test_network_scalings():
    # ab / 128 is the paper's tanh target; L / 50 - 1 is our documented input scaling.
    assert lab.AB_SCALE == 128.0
    assert lab.scale_l(0.0) == -1.0 and lab.scale_l(100.0) == 1.0 and lab.scale_l(50.0) == 0.0
    ab = np.array([-128.0, -3.5, 0.0, 127.0])
    np.testing.assert_allclose(lab.unscale_ab(lab.scale_ab(ab)), ab)
    np.testing.assert_allclose(lab.unscale_l(lab.scale_l(np.array([0.0, 37.2, 100.0]))), [0.0, 37.2, 100.0])
    # every sRGB colour's ab fits the tanh range after scaling
    cube = np.stack(np.meshgrid(*[np.linspace(0, 1, 17)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    assert np.abs(lab.scale_ab(color.rgb2lab(cube)[..., 1:])).max() < 1.0


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((4, 4, 4)), np.zeros((4, 4, 3), dtype=np.int64)])
def test_invalid_input_is_refused(bad):
    with pytest.raises((ValueError, TypeError), match="RGB|uint8"):
        lab.rgb_to_lab(bad)


def test_zero_chroma_stays_exactly_gray():
    rng = np.random.default_rng(3)
    gray = np.repeat(rng.integers(0, 256, (64, 64, 1), dtype=np.uint8), 3, axis=2)
    out = lab_lut.lab_to_srgb8(lab_lut.lightness(gray), np.zeros((64, 64, 2), np.float32))
    assert (out.max(axis=-1) == out.min(axis=-1)).all()
    assert np.abs(out.astype(int) - gray).max() <= 1
