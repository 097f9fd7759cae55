"""The parallel PNG encoder writes standard PNGs that decode bit for bit."""

import io

import numpy as np
import pytest
from PIL import Image

from colorization.fast import png


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 4), (300, 451, 3), (2000, 1100, 3)])
def test_round_trip_through_pillow(shape, real_photos):
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    if shape == (300, 451, 3):
        pixels = real_photos["chelsea.png"]
    data = png.encode_png(pixels)
    decoded = Image.open(io.BytesIO(data))
    decoded.load()  # Pillow checks every chunk's CRC
    assert decoded.mode == ("RGBA" if shape[2] == 4 else "RGB")
    np.testing.assert_array_equal(np.asarray(decoded), pixels)


def test_strips_are_used_and_compress(real_photos, monkeypatch):
    monkeypatch.setattr(png, "_BAND_BYTES", 50_000)  # force many parallel bands
    photo = np.asarray(Image.fromarray(real_photos["astronaut.png"]).resize((900, 700)))
    data = png.encode_png(photo)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), photo)
    assert len(data) < photo.nbytes * 0.8


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.uint16), np.zeros((0, 4, 3), np.uint8)]
)
def test_refuses_what_it_cannot_encode(bad):
    with pytest.raises(ValueError):
        png.encode_png(bad)
