"""Inference keeps the user's image: its size, its lightness, its alpha; paper mode is the paper's crop."""

import numpy as np
import pytest

from colorization import lab
from colorization.colorize import colorize, colorize_batch, network_view, predict_ab
from colorization.fast import lab_lut
from colorization.io.images import load_image
from colorization.io.preprocess import paper_crop
from tests import odd_images as odd


def test_full_mode_keeps_size_and_lightness(model, real_photos):
    for name, photo in real_photos.items():
        out = colorize(model, photo, mode="full").rgb
        assert out.shape == photo.shape and out.dtype == np.uint8
        delta_l = np.abs(lab.rgb_to_lab(out)[..., 0] - lab.rgb_to_lab(photo)[..., 0]).mean()
        assert delta_l < 0.5, f"{name}: mean |dL| = {delta_l:.3f}"


def test_output_colour_comes_from_the_network(model, real_photos):
    photo = real_photos["astronaut.png"]
    out = colorize(model, photo).rgb
    ab_out = lab.rgb_to_lab(out)[..., 1:]
    # the prediction at 256x256, scaled up, is the output's ab (up to 8-bit rounding and gamut)
    ab_pred = predict_ab(model, network_view(photo)[None])[0]
    from colorization.io.preprocess import resize

    up = resize(ab_pred, photo.shape[:2], "bilinear")
    assert np.median(np.abs(ab_out - up)) < 1.5
    assert np.hypot(*np.moveaxis(ab_out, -1, 0)).mean() > 5  # not gray: the test model adds colour


def test_gray_input_gets_colour_and_keeps_its_gray_levels(model, real_photos):
    gray = real_photos["coffee.png"].mean(axis=2).astype(np.uint8)
    out = colorize(model, gray).rgb
    assert out.shape == gray.shape + (3,)
    assert np.abs(lab_lut.lightness(out) - lab_lut.lightness(np.dstack([gray] * 3))).mean() < 0.5


def test_paper_mode_is_the_paper_crop(model, real_photos):
    photo = real_photos["rocket.jpg"]  # 427 x 640
    out = colorize(model, photo, mode="paper").rgb
    assert out.shape == (256, 256, 3)
    crop = paper_crop(photo)
    assert np.abs(lab_lut.lightness(out) - lab_lut.lightness(crop)).mean() < 0.5


def test_batch_equals_single(model, real_photos):
    images = [odd.photo(real_photos, n, (100 + 10 * i, 80)) for i, n in enumerate(real_photos)]
    from colorization.colorize import as_loaded

    batch = colorize_batch(model, [as_loaded(i) for i in images])
    for image, result in zip(images, batch, strict=True):
        single = colorize(model, image).rgb
        assert np.abs(single.astype(int) - result.rgb).max() <= 1


def test_odd_files_are_colorized(model, real_photos, tmp_path):
    rgb = odd.photo(real_photos)
    cases = {
        "png16": odd.write_png16(tmp_path / "g16.png", rgb),
        "rgba": odd.write_rgba(tmp_path / "a.png", rgb),
        "palette": odd.write_palette(tmp_path / "p.gif", rgb),
        "cmyk": odd.write_cmyk_jpeg(tmp_path / "c.jpg", rgb),
        "exif": odd.write_exif_rotated(tmp_path / "r.jpg", rgb),
    }
    for name, path in cases.items():
        image = load_image(path)
        result = colorize(model, image)
        assert result.rgb.shape == image.rgb.shape[:2] + (3,), name
        assert np.abs(lab_lut.lightness(result.rgb) - lab_lut.lightness(image.rgb)).mean() < 0.5, name
    rgba = colorize(model, load_image(cases["rgba"]))
    np.testing.assert_array_equal(rgba.alpha, load_image(cases["rgba"]).alpha)


def test_one_pixel_image(model):
    out = colorize(model, np.array([[[120, 90, 60]]], np.uint8)).rgb
    assert out.shape == (1, 1, 3)


def test_unknown_mode(model, real_photos):
    with pytest.raises(ValueError, match="mode"):
        colorize(model, real_photos["coffee.png"], mode="square")


@pytest.mark.parametrize("shape", [(1, 8000), (8000, 1), (2, 300_000)])
def test_thin_strips_in_both_modes(model, shape):
    strip = np.random.default_rng(0).integers(0, 256, shape + (3,), dtype=np.uint8)
    assert colorize(model, strip, mode="paper").rgb.shape == (256, 256, 3)
    full = colorize(model, strip, mode="full").rgb
    assert full.shape == strip.shape
    assert np.abs(lab_lut.lightness(full) - lab_lut.lightness(strip)).mean() < 0.5


@pytest.mark.parametrize("shape, ab_shape", [((1, 600_000), (1, 5)), ((600_000, 1), (5, 1)), ((700, 900), (7, 9))])
def test_render_in_strips_and_tiles_is_the_per_pixel_formula(shape, ab_shape):
    from colorization.colorize import render
    from colorization.io.preprocess import resize

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    ab = rng.normal(0, 5, ab_shape + (2,)).astype(np.float32)  # inside sRGB: no gamut search to differ in
    # reference: ab upscaled whole (Pillow's bilinear, centres aligned), then Lab -> sRGB pixel by pixel
    expected = lab_lut.lab_to_srgb8(lab_lut.lightness(rgb), resize(ab, shape, "bilinear"))
    difference = np.abs(render(rgb, ab).astype(int) - expected)
    assert difference.max() <= 1 and (difference > 0).mean() < 0.01


def test_neutral_gray_in_chunks_is_the_formula(real_photos):
    from colorization.colorize import neutral_gray
    from colorization.fast.recombine import NEUTRAL_CHUNK
    from colorization.io.images import to_uint8

    photo = np.concatenate([real_photos["coffee.png"]] * 2)  # 800 x 600: more pixels than one chunk
    assert photo.shape[0] * photo.shape[1] > NEUTRAL_CHUNK
    lab_image = np.zeros(photo.shape, np.float32)
    lab_image[..., 0] = lab_lut.lightness(photo)
    expected = to_uint8(lab.lab_to_rgb(lab_image).mean(axis=-1))
    np.testing.assert_array_equal(neutral_gray(photo), np.repeat(expected[..., None], 3, axis=-1))


def test_pixel_batches_keep_each_batch_within_the_pixel_budget():
    from colorization.colorize import pixel_batches

    counts = [150, 100, 10, 10, 300, 0, 5]
    batches = pixel_batches(counts, max_images=2, max_pixels=200)
    assert batches == [[0], [1, 2], [3], [4], [5, 6]]
    assert sorted(i for batch in batches for i in batch) == list(range(len(counts)))
    assert all(len(b) == 1 or sum(counts[i] for i in b) <= 200 for b in batches)
    assert pixel_batches([], 8, 200) == []


def test_adobe_rgb_photo_and_its_untagged_twin_differ(model, real_photos, tmp_path):
    rgb = odd.photo(real_photos)
    tagged = load_image(odd.write_tagged(tmp_path / "adobe.png", rgb, odd.adobe_rgb_profile()))
    untagged = load_image(odd.write_tagged(tmp_path / "plain.png", rgb, b""))
    out_tagged, out_untagged = colorize(model, tagged).rgb, colorize(model, untagged).rgb
    assert np.abs(out_tagged.astype(int) - out_untagged).mean() > 1
    # the output's lightness is the photo's as displayed (sRGB from its profile), not its stored bytes'
    assert np.abs(lab_lut.lightness(out_tagged) - lab_lut.lightness(odd.adobe_rgb_to_srgb(rgb))).mean() < 0.6


def test_non_finite_predictions_are_refused_not_written():
    from colorization.colorize import colorize
    from colorization.decoding import NonFinitePrediction
    from colorization.model import build_paper_model

    model = build_paper_model(input_size=None)
    bias = model.get_layer("conv12_ab").bias
    bias.assign(np.full(bias.shape, np.nan, dtype="float32"))  # finite checks on load are bypassed here
    with pytest.raises(NonFinitePrediction, match="non-finite"):
        colorize(model, np.full((40, 60, 3), 128, np.uint8))
