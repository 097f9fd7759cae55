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
