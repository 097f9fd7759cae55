"""Reading any image a user has: odd-but-valid files load correctly, broken ones fail in one line."""

import numpy as np
import pytest

from colorization.io.files import OutputExistsError
from colorization.io.images import ImageError, load_image, save_png
from tests import odd_images as odd


@pytest.fixture
def rgb(real_photos):
    return odd.photo(real_photos)


def test_rgb_jpeg(tmp_path, rgb):
    from PIL import Image

    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    image = load_image(tmp_path / "a.jpg")
    assert image.rgb.shape == (90, 120, 3) and image.rgb.dtype == np.uint8
    assert image.alpha is None and not image.is_gray


def test_png16_stays_16_bit(tmp_path, rgb):
    image = load_image(odd.write_png16(tmp_path / "g16.png", rgb))
    assert image.rgb.dtype == np.uint16 and image.is_gray and image.source_mode.startswith("I;16")
    expected = (rgb.mean(axis=2) * 257).astype(np.uint16)
    np.testing.assert_array_equal(image.rgb[..., 1], expected)


def test_rgba_keeps_alpha(tmp_path, rgb):
    image = load_image(odd.write_rgba(tmp_path / "a.png", rgb))
    np.testing.assert_array_equal(image.rgb, rgb)
    assert image.alpha is not None and image.alpha[0, 0] == 0 and image.alpha[0, -1] == 255


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette(tmp_path, rgb, suffix):
    image = load_image(odd.write_palette(tmp_path / f"p{suffix}", rgb))
    assert image.source_mode == "P" and image.rgb.shape == rgb.shape
    assert np.abs(image.rgb.astype(int) - rgb).mean() < 12  # 64-colour quantization


def test_cmyk_is_converted(tmp_path, rgb):
    image = load_image(odd.write_cmyk_jpeg(tmp_path / "c.jpg", rgb))
    assert image.source_mode == "CMYK" and image.rgb.shape == rgb.shape
    assert np.abs(image.rgb.astype(int) - rgb).mean() < 12


def test_gray_jpeg(tmp_path, rgb):
    image = load_image(odd.write_gray_jpeg(tmp_path / "g.jpg", rgb))
    assert image.is_gray and (image.rgb[..., 0] == image.rgb[..., 2]).all()


def test_exif_orientation_is_applied(tmp_path, rgb):
    image = load_image(odd.write_exif_rotated(tmp_path / "r.jpg", rgb))  # stored 120 wide, 90 high
    assert image.rgb.shape == (120, 90, 3)
    # orientation 6 = rotate 90° clockwise for display: the stored top-left corner goes to the top-right
    assert np.abs(image.rgb[0, -1].astype(int) - rgb[0, 0]).max() < 40


def test_one_pixel(tmp_path):
    from PIL import Image

    Image.new("RGB", (1, 1), (200, 30, 40)).save(tmp_path / "one.png")
    assert load_image(tmp_path / "one.png").rgb.shape == (1, 1, 3)


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p, rgb: odd.write_text_as_jpg(p / "text.jpg"), "not an image"),
        (lambda p, rgb: odd.write_truncated_jpeg(p / "cut.jpg", rgb), "truncated or corrupt"),
        (lambda p, rgb: (p / "empty.jpg").write_bytes(b"") or p / "empty.jpg", "empty file"),
        (lambda p, rgb: odd.write_png_claiming(p / "bomb.png", 40000, 40000), "decompression bombs"),
        (lambda p, rgb: odd.write_png_claiming(p / "wide.png", 90_000_000, 1), "too large for the image decoder"),
        (lambda p, rgb: p / "missing.jpg", "no such file"),
        (lambda p, rgb: p, "is a folder"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(tmp_path, rgb, make, problem):
    path = make(tmp_path, rgb)
    with pytest.raises(ImageError) as caught:
        load_image(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_bomb_is_refused_before_decoding(tmp_path):
    path = odd.write_png_claiming(tmp_path / "big.png", 20000, 20000)
    with pytest.raises(ImageError, match="400 megapixels"):
        load_image(path)
    with pytest.raises(ImageError, match="truncated or corrupt"):  # allowed through, then the data is missing
        load_image(path, max_pixels=500_000_000)


def test_save_png_is_atomic_and_never_overwrites(tmp_path, rgb, monkeypatch):
    target = tmp_path / "out.png"
    save_png(target, rgb)
    before = target.read_bytes()
    with pytest.raises(OutputExistsError):
        save_png(target, rgb[::-1])
    assert target.read_bytes() == before

    from pathlib import Path

    def dies_midway(self, data):  # killed half-way through writing the file
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        save_png(tmp_path / "never.png", rgb)
    with pytest.raises(KeyboardInterrupt):
        save_png(target, rgb, overwrite=True)
    assert not (tmp_path / "never.png").exists() and target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary files left


# --- colour: embedded ICC profiles are converted to sRGB -------------------------------------


def _srgb_encode(linear: np.ndarray) -> np.ndarray:
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.rint(encoded * 255).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_adobe_rgb_photo_is_converted_to_srgb(tmp_path, rgb, suffix):
    tagged = load_image(odd.write_tagged(tmp_path / f"adobe{suffix}", rgb, odd.adobe_rgb_profile()))
    untagged = load_image(odd.write_tagged(tmp_path / f"plain{suffix}", rgb, b""))
    assert np.abs(tagged.rgb.astype(int) - untagged.rgb).mean() > 5  # the profile changed the colours
    expected = odd.adobe_rgb_to_srgb(untagged.rgb)  # the specifications' formulas, not littlecms
    assert np.abs(tagged.rgb.astype(int) - expected).max() <= 2 and tagged.notes == ()


def test_the_adobe_rgb_sample_photo_is_not_read_as_srgb(tmp_path):
    from PIL import Image

    from colorization.data.sources import sample_path

    with Image.open(sample_path("rocket.jpg")) as img:
        stored = np.asarray(img.convert("RGB"))
    loaded = load_image(sample_path("rocket.jpg")).rgb
    np.testing.assert_allclose(loaded, odd.adobe_rgb_to_srgb(stored), atol=2)
    assert np.abs(loaded.astype(int) - stored).max() > 20


def test_srgb_profile_keeps_the_pixels(tmp_path, rgb):
    from PIL import Image

    from colorization.data.sources import sample_path

    with Image.open(sample_path("astronaut.png")) as img:
        srgb_icc = img.info["icc_profile"]  # "sRGB IEC61966-2.1"
    image = load_image(odd.write_tagged(tmp_path / "srgb.png", rgb, srgb_icc))
    np.testing.assert_array_equal(image.rgb, rgb)


def test_rgba_and_palette_files_are_converted_and_keep_alpha(tmp_path, rgb):
    alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    rgba = load_image(odd.write_tagged(tmp_path / "a.png", np.dstack([rgb, alpha]), odd.adobe_rgb_profile()))
    assert np.abs(rgba.rgb.astype(int) - odd.adobe_rgb_to_srgb(rgb)).max() <= 2
    np.testing.assert_array_equal(rgba.alpha, alpha)
    palette = load_image(odd.write_tagged(tmp_path / "p.png", rgb, odd.adobe_rgb_profile(), mode="P"))
    plain = load_image(odd.write_palette(tmp_path / "plain.png", rgb))
    assert palette.source_mode == "P" and np.abs(palette.rgb.astype(int) - odd.adobe_rgb_to_srgb(plain.rgb)).max() <= 2


@pytest.mark.parametrize("bits", [8, 16])
def test_gray_profile_is_converted(tmp_path, bits):
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    stored = levels if bits == 8 else levels.astype(np.uint16) * 257
    image = load_image(odd.write_tagged(tmp_path / "g.png", stored, odd.gray_profile(1.0)))  # linear gray
    assert image.is_gray and image.rgb.dtype == np.uint8
    assert (image.rgb[..., 0] == image.rgb[..., 1]).all() and (image.rgb[..., 1] == image.rgb[..., 2]).all()
    assert np.abs(image.rgb[..., 0].astype(int) - _srgb_encode(levels / 255.0)).max() <= 1


def test_gray_alpha_with_profile_keeps_alpha(tmp_path):
    pixels = np.dstack([np.full((4, 6), 10, np.uint8), np.arange(24, dtype=np.uint8).reshape(4, 6) * 10])
    image = load_image(odd.write_tagged(tmp_path / "la.png", pixels, odd.gray_profile(1.0), mode="LA"))
    np.testing.assert_array_equal(image.alpha, pixels[..., 1])
    assert (np.abs(image.rgb.astype(int) - _srgb_encode(np.float64(10 / 255))) <= 1).all()


@pytest.mark.parametrize(
    "icc, mode",
    [(b"not an ICC profile", None), (None, "CMYK"), (None, "L")],  # None: Adobe RGB on pixels it does not describe
    ids=["garbage", "rgb-profile-on-cmyk", "rgb-profile-on-gray"],
)
def test_unusable_profile_is_ignored_with_a_note(tmp_path, rgb, icc, mode):
    suffix = ".jpg" if mode == "CMYK" else ".png"
    tagged = odd.write_tagged(tmp_path / f"t{suffix}", rgb, icc or odd.adobe_rgb_profile(), mode=mode)
    untagged = odd.write_tagged(tmp_path / f"u{suffix}", rgb, b"", mode=mode)
    image = load_image(tagged)
    np.testing.assert_array_equal(image.rgb, load_image(untagged).rgb)
    assert len(image.notes) == 1 and "ICC" in image.notes[0] and "\n" not in image.notes[0]


# --- deep and float data ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_image_with_nan_or_inf_is_refused_in_one_line(tmp_path, bad):
    plane = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    plane[3, 5] = bad
    path = odd.write_float_tiff(tmp_path / "f.tif", plane)
    with pytest.raises(ImageError, match="NaN or infinite") as caught:
        load_image(path)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_float_image_is_scaled_to_16_bit(tmp_path, scale):
    plane = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8) * scale  # [0, 1], or [0, max]
    image = load_image(odd.write_float_tiff(tmp_path / "f.tif", plane))
    assert image.rgb.dtype == np.uint16 and image.is_gray and image.source_mode == "F"
    np.testing.assert_array_equal(image.rgb[..., 0], np.rint(plane / plane.max() * 65535).astype(np.uint16))


def test_deep_conversions_in_chunks_match_the_formulas():
    from colorization.io.images import to_uint8

    rng = np.random.default_rng(0)
    deep = rng.integers(0, 65536, (700, 800, 3), dtype=np.uint16)  # more values than one chunk
    np.testing.assert_array_equal(to_uint8(deep), ((deep.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8))
    floats = rng.normal(0.5, 0.5, (700, 800)).astype(np.float32)
    np.testing.assert_array_equal(to_uint8(floats), np.clip(np.rint(floats * 255), 0, 255).astype(np.uint8))


# --- geometry and size ------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(tmp_path, rgb, orientation):
    from PIL import Image, ImageOps

    path = odd.write_exif_png(tmp_path / "o.png", rgb, orientation)
    with Image.open(path) as img:
        expected = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    np.testing.assert_array_equal(load_image(path).rgb, expected)


@pytest.mark.parametrize("shape", [(1, 3_000_000), (3_000_000, 1)])
def test_extreme_strips_load(tmp_path, shape):
    from PIL import Image

    gray = (np.arange(shape[0] * shape[1]) % 256).astype(np.uint8).reshape(shape)
    Image.fromarray(gray).save(tmp_path / "strip.png")
    image = load_image(tmp_path / "strip.png")
    assert image.rgb.shape == shape + (3,)
    np.testing.assert_array_equal(image.rgb[..., 2], gray)


def test_pixel_count_reads_the_header_only(tmp_path):
    from colorization.io.images import pixel_count

    assert pixel_count(odd.write_png_claiming(tmp_path / "big.png", 20000, 20000)) == 400_000_000
    assert pixel_count(odd.write_text_as_jpg(tmp_path / "text.jpg")) == 0
