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


def _resize_then_crop(image: np.ndarray, size: int = 256) -> np.ndarray:
    """The paper's crop as first written: resize the whole image (Pillow, bicubic), then cut the centre."""
    height, width = image.shape[:2]
    scale = size / min(height, width)
    new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
    if image.dtype == np.uint8:
        gap = 2.0 if min(height / new_h, width / new_w) > 2 else None
        scaled = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BICUBIC, reducing_gap=gap))
    else:
        scaled = np.asarray(Image.fromarray(image, "F").resize((new_w, new_h), Image.Resampling.BICUBIC))
    top, left = (new_h - size) // 2, (new_w - size) // 2
    return scaled[top : top + size, left : left + size]


MODERATE_SHAPES = [(300, 400), (400, 300), (100, 120), (2000, 257), (31, 900), (1000, 333), (1200, 1900), (50, 3)]


@pytest.mark.parametrize("shape", MODERATE_SHAPES)
def test_paper_crop_equals_resize_then_crop(real_photos, shape):
    photo = np.asarray(Image.fromarray(real_photos["astronaut.png"]).resize(shape[::-1]))
    # in float no pass rounds, so the geometry shows exactly: a box off by a pixel differs by tens of levels
    plane = photo[..., 1].astype(np.float32)
    np.testing.assert_allclose(paper_crop(plane), _resize_then_crop(plane), atol=0.01)
    # in 8 bits Pillow rounds between its two passes (in an order it picks by cost): a code or two at edges
    difference = np.abs(paper_crop(photo).astype(int) - _resize_then_crop(photo))
    assert difference.max() <= 2 and difference.mean() < 0.2


@pytest.mark.parametrize("shape", [(1, 8000), (8000, 1), (1, 65500), (65500, 1), (3, 200_000)])
def test_paper_crop_of_a_thin_strip_resamples_only_its_centre(shape, monkeypatch):
    strip = np.zeros(shape + (3,), np.uint8)  # red, a green middle third, blue along the long side
    for channel, part in enumerate(np.array_split(np.arange(max(shape)), 3)):
        strip[((slice(None), part) if shape[0] < shape[1] else (part, slice(None))) + (channel,)] = 255
    original = Image.Image.resize

    def only_the_centre(self, size, *args, **kwargs):  # checked before Pillow allocates anything
        assert self.width * self.height <= 16 * min(shape) and tuple(size) == (256, 256), (self.size, size)
        return original(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", only_the_centre)
    out = paper_crop(strip)  # "shorter side to 256" alone would make 256 x 256*long of it
    assert out.shape == (256, 256, 3) and (out[..., 1] == 255).all() and (out[..., [0, 2]] == 0).all()


def test_resize_of_a_box_equals_pillow_on_the_whole_image(real_photos):
    plane = real_photos["coffee.png"][..., 0].astype(np.float32)  # 400 x 600
    box = (101.25, 37.5, 433.75, 290.0)
    expected = np.asarray(Image.fromarray(plane, "F").resize((90, 70), Image.Resampling.BICUBIC, box=box))
    np.testing.assert_allclose(resize(plane, (70, 90), "bicubic", box=box), expected, atol=0.01)
    with pytest.raises(ValueError, match="box"):
        resize(plane, (70, 90), box=(0, 0, 601, 400))


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


def test_rows_too_wide_for_pillow_are_resampled_in_bands(real_photos, monkeypatch):
    import colorization.io.preprocess as preprocess

    photo = np.asarray(Image.fromarray(real_photos["astronaut.png"]).resize((6000, 4)))
    plane = photo[..., 0].astype(np.float32)
    one_pass, one_pass_plane = resize(photo, (256, 256)), resize(plane, (256, 256))
    monkeypatch.setattr(preprocess, "_WIDEST_ROW", 1000)  # as if these rows were too wide for Pillow
    original = Image.Image.resize

    def narrow_rows_only(self, *args, **kwargs):  # a band's window: its share of the row plus the filter's reach
        assert self.width <= 1200, self.size
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", narrow_rows_only)
    np.testing.assert_allclose(resize(plane, (256, 256)), one_pass_plane, atol=1e-3)  # the same sampling
    difference = np.abs(resize(photo, (256, 256)).astype(int) - one_pass)  # box pre-reduction aligns per band
    assert difference.max() <= 3 and difference.mean() < 0.5
