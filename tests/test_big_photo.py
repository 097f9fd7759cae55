"""The full-resolution output path of issue 16: render, filter, deflate and write band by band.

The band-by-band PNG holds the very pixels of the whole-image render; the render is bit for bit
the one before the strip pipeline (benchmarks/big_photo_before.py keeps that code); and writing
holds a few bands, not the whole result.
"""

import io
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorization.colorize import Prediction, render
from colorization.fast import png, recombine
from colorization.io.images import to_uint8

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import big_photo_before  # noqa: E402  (the frozen previous renderer and encoder)


def _photo(real_photos, shape=(700, 900)) -> np.ndarray:
    return np.asarray(Image.fromarray(real_photos["astronaut.png"]).resize(shape[::-1], Image.Resampling.BICUBIC))


def _ab(seed: int, scale: float, shape=(256, 256)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(0, scale, shape + (2,))).astype(np.float32)


@pytest.mark.parametrize("vividness", [1.0, 4.0])  # 4: most colours out of gamut, the chroma search runs
def test_render_is_bit_for_bit_the_previous_one(real_photos, vividness):
    photo = _photo(real_photos)
    ab = _ab(0, 25.0) * vividness
    np.testing.assert_array_equal(render(photo, ab), big_photo_before.render(photo, ab))
    for dtype, scale in ((np.uint16, 257), (np.float32, 1 / 255)):  # deep and float sources too
        deep = (photo.astype(np.float32) * scale).astype(dtype)
        np.testing.assert_array_equal(recombine.render(deep, ab), big_photo_before.render(deep, ab))


@pytest.mark.parametrize("shape", [(1, 700_000), (700_000, 1), (37, 29)])
def test_render_of_thin_and_tiny_images_is_the_previous_one(shape):
    rgb = np.random.default_rng(2).integers(0, 256, shape + (3,), dtype=np.uint8)
    ab = _ab(3, 40.0, (5, 5))
    np.testing.assert_array_equal(recombine.render(rgb, ab), big_photo_before.render(rgb, ab))


def test_rows_are_the_rows_of_the_whole_render(real_photos):
    photo, ab = _photo(real_photos), _ab(1, 30.0)
    whole = recombine.render(photo, ab)
    for start, stop in ((0, 1), (13, 200), (650, 700)):
        np.testing.assert_array_equal(recombine.render_rows(photo, ab, start, stop), whole[start:stop])
    zero = np.zeros((8, 8, 2), np.float32)  # no chroma: the exactly neutral image, band by band too
    np.testing.assert_array_equal(recombine.render_rows(photo, zero, 5, 9), recombine.neutral_gray(photo)[5:9])


@pytest.mark.parametrize("with_alpha", [False, True])
def test_band_by_band_png_holds_the_whole_render(real_photos, tmp_path, monkeypatch, with_alpha):
    monkeypatch.setattr(png, "_BAND_BYTES", 40_000)  # many bands, many IDAT chunks
    photo, ab = _photo(real_photos), _ab(4, 30.0)
    alpha = (np.arange(photo.shape[1], dtype=np.uint16) * 70)[None, :].repeat(photo.shape[0], 0) if with_alpha else None
    path = Prediction(photo, ab, alpha).save_png(tmp_path / "out.png")
    decoded = Image.open(path)
    decoded.load()  # Pillow checks every chunk's CRC; the zlib stream's Adler-32 is checked below
    expected = render(photo, ab) if alpha is None else np.dstack([render(photo, ab), to_uint8(alpha)])
    np.testing.assert_array_equal(np.asarray(decoded), expected)
    assert zlib.decompress(_idat_stream(path.read_bytes()))  # raises if the combined checksum is wrong


def _idat_stream(data: bytes) -> bytes:
    """The zlib stream of a PNG: its IDAT chunks' data joined."""
    stream, position = b"", 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IDAT":
            stream += data[position + 8 : position + 8 + length]
        position += 12 + length
    return stream


def test_existing_output_is_kept_and_a_failed_band_leaves_nothing(real_photos, tmp_path):
    from colorization.io.files import OutputExistsError

    photo, ab = _photo(real_photos, (64, 80)), _ab(5, 20.0, (8, 8))
    target = tmp_path / "out.png"
    target.write_bytes(b"the user's file")
    with pytest.raises(OutputExistsError):
        Prediction(photo, ab).save_png(target)
    assert target.read_bytes() == b"the user's file"

    def broken(start, stop):
        raise MemoryError("no room for this band")

    with pytest.raises(MemoryError):
        png.write_png(tmp_path / "new.png", broken, (64, 80, 3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary, no partial file


def test_band_checksums_combine_to_the_stream_checksum():
    rng = np.random.default_rng(6)
    for first_size, second_size in ((0, 0), (1, 7), (5000, 1), (70_000, 123_457)):
        first, second = rng.bytes(first_size), rng.bytes(second_size)
        combined = png.adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
        assert combined == zlib.adler32(first + second)


def test_encoder_writes_the_pixels_the_previous_one_wrote_at_its_size(real_photos):
    photo = _photo(real_photos, (300, 451))
    now, before = png.encode_png(photo), big_photo_before.encode_png(photo)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(now))), photo)
    assert len(now) < len(before) * 1.02  # "None" on each band's first row costs next to nothing


def test_writing_holds_a_few_bands_not_the_whole_result(tmp_path, monkeypatch):
    monkeypatch.setattr(recombine, "BAND_PIXELS", 1 << 14)  # small bands: their temporaries are small too
    monkeypatch.setattr(png, "_BAND_BYTES", 1 << 15)
    rgb = np.random.default_rng(7).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)  # 9 MB of result
    prediction = Prediction(rgb, _ab(8, 20.0, (16, 16)))
    tracemalloc.start()
    try:
        prediction.save_png(tmp_path / "banded.png")
        banded = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        (tmp_path / "whole.png").write_bytes(png.encode_png(prediction.colorized().rgb))
        whole = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert whole > rgb.nbytes  # the whole-image route holds the result and more
    assert banded < rgb.nbytes / 4, f"writing band by band peaked at {banded / 2**20:.1f} MiB"
    assert (tmp_path / "banded.png").read_bytes() == (tmp_path / "whole.png").read_bytes()
