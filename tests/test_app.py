"""The app's widgets, driven directly (no browser): upload, click, check the output."""

from __future__ import annotations

import base64
import datetime
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import SKIMAGE_DATA

pytest.importorskip("ipywidgets")

from colorization.app import ColorizerApp, load_upload  # noqa: E402
from colorization.io.images import ImageError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _upload(app: ColorizerApp, name: str, data: bytes) -> None:
    app.upload.value = (
        {
            "name": name,
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(),
        },
    )


def _png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _click(app: ColorizerApp) -> None:
    app.colorize_button.click()
    app.wait(timeout=120)
    assert not app.colorize_button.disabled


@pytest.fixture
def app(model_file):
    return ColorizerApp(weights=str(model_file))


def test_colour_upload_full_resolution(app, real_photos):
    photo = real_photos["coffee.png"][:90, :130]  # small: the test stays fast
    _upload(app, "coffee.png", _png_bytes(photo))
    _click(app)
    assert app.error.value == ""
    assert app.status.value == "Done." and app.progress.value == 1.0
    saved = _decode(app.png)
    assert saved.shape == photo.shape  # the input's size
    assert np.any(saved[..., 0] != saved[..., 1])  # colour came back
    assert app.size.value.startswith("result: 130x90 pixels")
    # gray input, colorization and original on the page, with the metrics
    assert _decode(app.gray_image.value).shape == photo.shape
    np.testing.assert_array_equal(_decode(app.original_image.value), photo)
    assert app.original_panel.layout.display is None and app.images.layout.display == "flex"
    assert set(app.metrics) >= {"psnr", "ssim", "auc"} and "PSNR (dB)" in app.metrics_html.value
    # the download link holds exactly the saved PNG
    link = app.download.value
    assert 'download="coffee_colorized.png"' in link
    assert base64.b64decode(link.split("base64,")[1].split('"')[0]) == app.png


def test_gray_sample_in_paper_mode_shows_no_original_or_metrics(app, real_photos):
    gray = np.asarray(Image.fromarray(real_photos["chelsea.png"]).convert("L"))
    _upload(app, "cat.png", _png_bytes(gray))
    app.mode.value = "paper"
    _click(app)
    assert app.error.value == ""
    assert _decode(app.png).shape == (256, 256, 3)
    assert app.metrics is None and app.metrics_html.value == ""
    assert app.original_panel.layout.display == "none"


def test_sample_dropdown_replaces_the_upload(app):
    _upload(app, "x.png", _png_bytes(np.zeros((8, 8, 3), np.uint8)))
    path = next(value for _, value in app.sample.options if value and value.endswith("chelsea.png"))
    app.sample.value = path
    assert app.upload.value == ()  # the last choice wins
    app.mode.value = "paper"
    _click(app)
    assert app.loaded.size == (300, 451) and app.error.value == ""


def test_bad_file_shows_the_clis_one_line_error(app):
    _upload(app, "holiday.jpg", b"this is not a JPEG")
    _click(app)
    assert "holiday.jpg: not an image, or a format Pillow cannot read" in app.error.value
    assert "\n" not in app.error.value and app.status.value == "Failed."
    with pytest.raises(ImageError) as error:  # the message names the uploaded file, not a temp path
        load_upload("holiday.jpg", b"")
    assert str(error.value) == "holiday.jpg: empty file (0 bytes)"


def test_bad_weights_and_no_input(tmp_path):
    app = ColorizerApp(weights=str(tmp_path / "missing.keras"))
    app.colorize_button.click()  # nothing chosen yet
    assert "Choose an image first" in app.error.value
    _upload(app, "tiny.png", (SKIMAGE_DATA / "chelsea.png").read_bytes())
    _click(app)
    assert "missing.keras: no such weights file" in app.error.value


def test_notebook_is_thin():
    notebook = json.loads((ROOT / "notebooks" / "app.ipynb").read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "ColorizerApp" in code and len(code.splitlines()) <= 5
