"""The app's widgets, driven directly (no browser): upload, click, check the output."""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
import re
import shutil
import struct
import tempfile
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

w = pytest.importorskip("ipywidgets")

from colorization.app import (  # noqa: E402
    MAX_UPLOAD_BYTES,
    MODELS_KEPT,
    WEIGHTS_DIR_ENV,
    ColorizerApp,
    cached_model,
    download_name,
    load_upload,
    page_message,
    upload_label,
)
from colorization.app.work import WORKER_THREAD  # noqa: E402
from colorization.io.images import MAX_PIXELS, ImageError  # noqa: E402
from colorization.weights import registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ODD_NAMES = [
    "..",
    ".",
    "",
    "a" * 300 + ".png",
    "bad\x00name.png",
    "../../escaped.png",
    "sub/dir/photo.png",
    "C:\\fakepath\\photo.png",
    "\x1b[31mred\x1b[0m.png",
    "evil\u202egnp.png",
    "line\nbreak.png",
    "photo.png/",
]


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


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height and whose pixel data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _click(app: ColorizerApp) -> None:
    app.colorize_button.click()
    app.wait(timeout=120)
    assert not app.colorize_button.disabled


def _error_text(app: ColorizerApp) -> str:
    """The error line as the page shows it (the HTML's text)."""
    return html.unescape(re.sub(r"<[^>]+>", "", app.error.value))


def _assert_plain_line(text: str) -> None:
    """One line of plain text: no control characters (ANSI, NUL, newlines), no traceback, no server folder."""
    assert text and not re.search(r"[\x00-\x1f\x7f]", text)
    assert "Traceback" not in text and "/" not in text and "\\" not in text
    assert tempfile.gettempdir() not in text and str(ROOT) not in text


def _widgets(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _widgets(child)


@pytest.fixture(autouse=True)
def _pages_finish_their_work():
    """Every test ends with its pages' worker threads done: a thread still loading a model (a test that
    switched models and did not wait) would otherwise run on into the next test."""
    yield
    for thread in threading.enumerate():
        if thread.name == WORKER_THREAD:
            thread.join(120)
            assert not thread.is_alive(), "an app's worker thread was still running after 120 s"


@pytest.fixture
def small_photo(real_photos) -> bytes:
    return _png_bytes(real_photos["coffee.png"][:40, :60])


@pytest.fixture
def app(model_file, monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    return ColorizerApp(weights_dir=model_file.parent, model="random.keras")


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
    assert 'download="chelsea_colorized.png"' in app.download.value


def test_bad_file_shows_the_clis_one_line_error(app):
    _upload(app, "holiday.jpg", b"this is not a JPEG")
    _click(app)
    assert "holiday.jpg: not an image, or a format Pillow cannot read" in app.error.value
    assert "\n" not in app.error.value and app.status.value == "Failed."
    with pytest.raises(ImageError) as error:  # the message names the uploaded file, not a temp path
        load_upload("holiday.jpg", b"")
    assert str(error.value) == "holiday.jpg: empty file (0 bytes)"


@pytest.mark.parametrize("name", ODD_NAMES, ids=repr)
def test_an_uploads_name_is_only_a_label(app, small_photo, name, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the app's own temporary files go
    _upload(app, name, small_photo)
    label = upload_label(name)
    assert app.status.value == f"Input: {label} (uploaded). Press Colorize."
    _click(app)
    assert app.error.value == "" and app.status.value == "Done."
    filename = re.search(r'download="([^"]*)"', app.download.value).group(1)
    assert re.fullmatch(r"[\w-]{1,60}_colorized\.png", filename), filename
    assert list(tmp_path.iterdir()) == []  # nothing left behind, nothing written next to it
    # the same name on a bad file: one plain line that starts with the label
    _upload(app, name + "x", b"not an image")
    _click(app)
    text = _error_text(app)
    assert text.startswith(f"{upload_label(name + 'x')}: not an image") and app.status.value == "Failed."
    _assert_plain_line(text)


@pytest.mark.parametrize("name", ODD_NAMES, ids=repr)
def test_labels_and_download_names_are_short_and_plain(name):
    label = upload_label(name)
    assert 0 < len(label) <= 80 and label.strip(".") and not re.search(r"[\x00-\x1f\x7f/\\\u202e]", label)
    assert upload_label(label) == label
    assert re.fullmatch(r"[\w-]{1,60}_colorized\.png", download_name(label))


def test_the_limits_are_stated_and_an_oversized_upload_is_refused_before_reading(app, monkeypatch):
    assert f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB" in app.limits.value
    assert f"{MAX_PIXELS / 1e6:.0f} megapixels" in app.limits.value
    monkeypatch.setattr("colorization.app.parts.load_image", pytest.fail)  # nothing may be decoded
    _upload(app, "huge.png", b"\0" * (MAX_UPLOAD_BYTES + 1))
    text = _error_text(app)  # at once, before Colorize
    assert (
        text
        == "huge.png: file is 40.0 MB, above the app's 40 MB upload limit; upload a smaller or more compressed copy"
    )
    assert app.upload.value == () and app.status.value == "Failed."
    app.colorize_button.click()
    assert "Choose an image first" in app.error.value
    with pytest.raises(ImageError, match="upload limit"):
        load_upload("huge.png", b"\0" * (MAX_UPLOAD_BYTES + 1))


def test_an_upload_with_too_many_pixels_is_refused_from_its_header(app, monkeypatch):
    monkeypatch.setattr("colorization.app.parts.load_image", pytest.fail)  # nothing may be decoded
    _upload(app, "bomb.png", _png_header(20_000, 20_000))
    _click(app)
    text = _error_text(app)
    assert (
        text
        == "bomb.png: image is 20000x20000 (400 megapixels), above the app's 200-megapixel limit; upload a smaller copy"
    )


def test_the_model_is_chosen_from_the_registry_not_typed(monkeypatch):
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    app = ColorizerApp()
    assert not any(isinstance(widget, w.Text) for widget in _widgets(app.widget))  # no path box
    offered = [(label, choice.name, choice.path) for label, choice in app.weights.options]
    assert [name for _, name, _ in offered] == list(registry()) == ["paper", "classification", "hints"]
    assert all(path is None for _, _, path in offered)
    for label, name, _ in offered:
        assert label.startswith(f"{name}: {registry()[name]['description'][:40]}")
    assert app.weights.value.name == "paper"
    for label, choice in app.weights.options:  # user-facing: no repository files named
        app.weights.value = choice
        assert "Caltech-101" in app.weights_info.value
        assert not re.search(r"\w/\w|\.(md|yaml|keras)\b", label + app.weights_info.value)
    with pytest.raises(ValueError, match="no model named"):
        ColorizerApp(model="/etc/passwd")


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_a_served_folder_offers_its_keras_files_only(model_file, tmp_path, monkeypatch, small_photo, how):
    folder = tmp_path / "models"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(model_file, folder / "mine.keras")
    shutil.copy(model_file, folder / "sub" / "nested.keras")
    (folder / "notes.txt").write_text("not a model")
    (folder / "folder.keras").mkdir()
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(folder) if how == "environment" else "")
    app = ColorizerApp(weights_dir=folder if how == "argument" else None, model="mine.keras")
    assert [choice.name for _, choice in app.weights.options] == [*registry(), "mine.keras"]
    assert all(str(tmp_path) not in label for label, _ in app.weights.options)
    _upload(app, "photo.png", small_photo)
    _click(app)
    assert app.error.value == "" and app.status.value == "Done."


def test_a_bad_model_in_the_served_folder_gives_one_plain_line(tmp_path, small_photo):
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    app = ColorizerApp(weights_dir=tmp_path, model="broken.keras")
    _upload(app, "photo.png", small_photo)
    _click(app)
    text = _error_text(app)
    assert text.startswith("broken.keras: not a ") and app.status.value == "Failed."
    _assert_plain_line(text)
    app.wait()
    assert app.vividness.value == 1.0 and not app.vividness.disabled  # a model that does not load: as trained
    (tmp_path / "broken.keras").unlink()  # gone since the page was built
    _click(app)
    assert _error_text(app) == "broken.keras: no such weights file"


def test_a_missing_served_folder_is_said_without_its_path(tmp_path):
    app = ColorizerApp(weights_dir=tmp_path / "nowhere")
    assert WEIGHTS_DIR_ENV in app.error.value and str(tmp_path) not in app.error.value
    assert [choice.name for _, choice in app.weights.options] == list(registry())


def test_no_input_chosen(app):
    app.colorize_button.click()
    assert "Choose an image first" in app.error.value


def test_two_pages_in_one_kernel_load_and_colorize_at_once(model_file, small_photo, monkeypatch):
    """Two pages (two app cells of one notebook) switching models and colorizing at the same time: their
    worker threads take turns with Keras (:data:`colorization.model.KERAS_LOCK`) and both finish."""
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    cached_model.cache_clear()
    pages = [ColorizerApp(weights_dir=model_file.parent, model="random.keras") for _ in range(2)]
    for page, choice in zip(pages, (1, 2), strict=True):  # classification and hints: two models loading
        page.weights.value = page.weights.options[choice][1]
        _upload(page, "photo.png", small_photo)
        page.colorize_button.click()
    for page in pages:
        page.wait(timeout=120)
        assert page.error.value == "" and page.status.value == "Done."


def test_at_most_two_models_stay_loaded(app, small_photo):
    app.wait()  # the first model's default vividness is read before the count starts
    cached_model.cache_clear()
    _upload(app, "photo.png", small_photo)
    app.mode.value = "paper"
    offered = len(app.weights.options)  # random.keras and the registered models
    for _, choice in app.weights.options:
        app.weights.value = choice
        _click(app)
        assert app.error.value == ""
    assert cached_model.cache_info().maxsize == MODELS_KEPT == 2
    # each model loaded once: choosing it (for its default vividness) and colorizing with it share the load
    assert cached_model.cache_info().currsize == 2 and cached_model.cache_info().misses == offered
    hits = cached_model.cache_info().hits
    _click(app)  # the last model again: from the cache
    assert cached_model.cache_info().hits == hits + 1 and cached_model.cache_info().misses == offered


def test_unexpected_errors_are_one_plain_line(app, small_photo, monkeypatch):
    message = '\x1b[1;31mboom\x1b[0m in /srv/secret/model.py\nTraceback (most recent call last):\n  File "/srv/x.py"'

    def explode(*args, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr("colorization.app.work.colorize", explode)
    _upload(app, "photo.png", small_photo)
    _click(app)
    text = _error_text(app)
    assert text == "colorizing failed (RuntimeError): boom in model.py"
    _assert_plain_line(text)


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("/tmp/colorization-upload-x/upload: truncated", "upload: truncated"),
        ("C:\\Users\\me\\x.keras: bad", "x.keras: bad"),
        ("\x1b[31mred\x1b[0m text\x00\nnext line", "red text next line"),
        ("ab/128 and 1/2", "ab/128 and 1/2"),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_page_message(raw, shown):
    assert page_message(raw) == shown


def test_notebook_is_thin_and_speaks_to_users():
    notebook = json.loads((ROOT / "notebooks" / "app.ipynb").read_text())
    code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "ColorizerApp" in code and len([line for line in code.splitlines() if line.strip()]) <= 2
    text = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert text.startswith("# ")
    for developer_words in ("colorization/", "voila", "Voilà", "`", ".py", "logic"):
        assert developer_words not in text


def test_voila_raises_its_websocket_limit_above_the_upload_limit():
    settings = json.loads((ROOT / "voila.json").read_text())["Voila"]["tornado_settings"]
    assert settings["websocket_max_message_size"] >= MAX_UPLOAD_BYTES + 1_000_000  # the file and its message


# --- the vividness slider --------------------------------------------------------------------------------------
def _colourfulness(png: bytes) -> float:
    from colorization.metrics.vividness import colorfulness

    return colorfulness(_decode(png)[..., :3])


def test_the_vividness_slider_speaks_to_a_class(app):
    from colorization.vividness import LIMITS

    app.wait()
    slider = app.vividness
    assert isinstance(slider, w.FloatSlider) and slider in _widgets(app.widget)
    assert slider.description == "Vividness" and slider.readout_format == ".2f" and not slider.continuous_update
    assert LIMITS[0] <= slider.min < 1 < slider.max <= LIMITS[1]
    hint = html.unescape(re.sub(r"<[^>]+>", "", app.vividness_hint.value))
    assert hint == "1 = the network's own (mean) colours; more = more colourful"
    assert app.vividness_hint in _widgets(app.widget)


def test_the_slider_moves_to_each_models_default_without_colorizing(monkeypatch):
    from colorization.vividness import default_of
    from colorization.weights import load_weights

    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    app = ColorizerApp(model="classification")
    app.wait()
    classification = default_of(load_weights(name="classification"))
    assert app.vividness.value == pytest.approx(classification) and not app.vividness.disabled
    app.weights.value = next(choice for _, choice in app.weights.options if choice.name == "paper")
    app.wait()
    assert app.vividness.value == default_of(load_weights(name="paper")) != pytest.approx(classification)
    assert app.result is None and app.images.layout.display == "none"  # choosing a model colorizes nothing


def test_a_served_copy_of_a_shipped_model_starts_at_its_registered_default(tmp_path, monkeypatch):
    import colorization.weights as weights

    entries = weights.registry()
    entries["paper"]["vividness"] = {"default": 1.6}
    monkeypatch.setattr(weights, "REGISTRY_FILE", tmp_path / "registry.json")
    weights.REGISTRY_FILE.write_text(json.dumps(entries), encoding="utf-8")
    (tmp_path / "models").mkdir()
    shutil.copy(ROOT / "colorization" / "weights" / entries["paper"]["file"], tmp_path / "models" / "copy.keras")
    app = ColorizerApp(weights_dir=tmp_path / "models", model="copy.keras")
    app.wait()
    assert app.vividness.value == 1.6


def test_moving_the_slider_colorizes_the_image_on_the_page_again(app, real_photos):
    from colorization.colorize import colorize

    photo = real_photos["coffee.png"][:90, :130]
    _upload(app, "coffee.png", _png_bytes(photo))
    _click(app)
    assert app.shown_vividness == app.vividness.value == 1.0  # the test model's default
    before = app.png
    app.vividness.value = 3.0  # no press: the slider itself colorizes again
    app.wait(timeout=120)
    assert app.error.value == "" and app.status.value == "Done." and app.shown_vividness == 3.0
    assert app.png != before and _colourfulness(app.png) > _colourfulness(before)
    assert "vividness 3.00" in app.size.value and app.size.value.startswith("result: 130x90 pixels")
    expected = colorize(cached_model("random.keras", app.weights.value.path, _stamp(app)), photo, "full", 3.0)
    np.testing.assert_array_equal(app.result.rgb, expected.rgb)
    assert 'download="coffee_colorized.png"' in app.download.value


def _stamp(app: ColorizerApp) -> tuple:
    stat = Path(app.weights.value.path).stat()
    return stat.st_mtime_ns, stat.st_size


def test_a_result_at_an_older_slider_value_never_replaces_a_newer_one(app, small_photo, monkeypatch):
    import threading

    from colorization.app import work

    _upload(app, "photo.png", small_photo)
    _click(app)
    real, gate, started = work.colorize, threading.Event(), []

    def held(model, image, mode, vividness):
        started.append(vividness)
        gate.wait(60)
        return real(model, image, mode, vividness)

    monkeypatch.setattr(work, "colorize", held)
    shown = []
    app.result_image.observe(lambda change: shown.append(app.vividness.value), names="value")
    app.vividness.value = 1.5
    while not started:  # 1.5 is being colorized ...
        gate.wait(0.01)
    app.vividness.value = 3.0  # ... when the slider moves on, twice
    app.vividness.value = 2.0
    gate.set()
    app.wait(timeout=120)
    assert started == [1.5, 2.0]  # 3.0 was overtaken before it started; 1.5 finished, but too late
    assert app.shown_vividness == 2.0 and len(shown) == 1 and "vividness 2.00" in app.size.value
    assert not app.colorize_button.disabled and app.status.value == "Done."


def test_the_slider_before_any_colorization_only_sets_the_next_one(app, small_photo):
    app.wait()
    app.vividness.value = 2.5
    app.wait()
    assert app.result is None and app.status.value.startswith("Upload an image")
    _upload(app, "photo.png", small_photo)
    _click(app)
    assert app.shown_vividness == 2.5 and "vividness 2.50" in app.size.value


def test_after_a_failed_upload_the_slider_colorizes_the_image_still_shown(app, small_photo):
    _upload(app, "photo.png", small_photo)
    _click(app)
    _upload(app, "broken.png", b"not an image")
    _click(app)
    assert app.status.value == "Failed." and "broken.png" in app.error.value
    app.vividness.value = 2.0
    app.wait(timeout=120)
    assert app.status.value == "Done." and app.error.value == "" and app.shown_vividness == 2.0
    assert app.loaded.path == "photo.png" and 'download="photo_colorized.png"' in app.download.value


def test_colorize_pressed_while_the_models_default_loads_waits_for_it(model_file, small_photo, monkeypatch):
    import threading

    from colorization.app import work

    gate = threading.Event()

    def slow_default(choice):
        gate.wait(60)
        return 2.0

    monkeypatch.setattr(work, "model_default", slow_default)
    app = ColorizerApp(weights_dir=model_file.parent, model="random.keras")
    assert app.vividness.disabled  # until the default is known
    _upload(app, "photo.png", small_photo)
    app.colorize_button.click()  # queued, not lost
    gate.set()
    app.wait(timeout=120)
    assert app.status.value == "Done." and app.vividness.value == app.shown_vividness == 2.0
    assert not app.vividness.disabled


# --- colour points ---------------------------------------------------------------------------------------------
GREEN, RED = ("#00aa28", [0, 170, 40]), ("#c81e1e", [200, 30, 30])


def _ab(rgb) -> np.ndarray:
    from colorization.lab import rgb_to_lab

    return rgb_to_lab(np.asarray(rgb, np.float64) / 255.0)[..., 1:]


def _hint_text(app: ColorizerApp) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", app.method_hint.value))


def _put_point(app: ColorizerApp, x: int, y: int, colour: str, wait: bool = True) -> None:
    """Put a point as a page user does: the x and y sliders, the colour picker, "Add point"."""
    app.point_x.value, app.point_y.value, app.colour.value = x, y, colour
    app.add_button.click()
    if wait:
        app.wait(timeout=120)


@pytest.fixture
def coffee(app, real_photos) -> np.ndarray:
    """A 130x90 colour photo colorized on the page (automatically), its pixels returned."""
    photo = real_photos["coffee.png"][:90, :130]
    _upload(app, "coffee.png", _png_bytes(photo))
    _click(app)
    return photo


def test_the_colour_points_area_offers_three_methods_and_waits_for_an_image(app):
    from colorization.app.hints import HOW_TO_ADD

    assert app.points_area in _widgets(app.widget) and isinstance(app.colour, w.ColorPicker)
    assert [label for label, _ in app.method.options] == ["automatic", "hint network", "Levin et al."]
    assert app.method.value == "auto" and app.add_button.disabled  # automatic colouring takes no points
    assert "choose hint network or Levin et al." in _hint_text(app)
    app.method.value = "levin"
    app.wait()
    assert HOW_TO_ADD in _hint_text(app) and "stays gray" in _hint_text(app)
    assert app.add_button.disabled and app.point_x.disabled and app.undo_button.disabled  # no image yet
    app.add_button.click()
    assert app.points == [] and app.result is None and app.error.value == ""


def test_levin_points_colour_the_photo_and_undo_and_clear_take_them_back(app, coffee):
    app.mode.value = "paper"
    app.method.value = "levin"  # the image on the page again, at full resolution, without points: gray
    app.wait(timeout=120)
    assert app.mode.value == "full" and app.mode.disabled and app.vividness.disabled
    assert app.error.value == "" and "(input 130x90, Levin et al., 0 points)" in app.size.value
    gray = app.result.rgb.copy()
    assert gray.shape == coffee.shape and np.abs(_ab(gray)).max() < 2  # gray, up to uint8 rounding
    x, y = 100, 30
    _put_point(app, x, y, GREEN[0])
    one = app.result.rgb.copy()
    assert app.error.value == "" and "Levin et al., 1 point)" in app.size.value
    assert app.points == [{"x": x, "y": y, "rgb": GREEN[1]}] and "(100, 30)" in app.points_list.value
    target = _ab(GREEN[1])
    before, after = (np.linalg.norm(_ab(result[y, x]) - target) for result in (gray, one))
    assert after < 0.75 * before, (before, after)  # towards the picked colour (as far as its gamut at this L allows)
    hue = np.degrees(np.arctan2(*_ab(one[y, x])[::-1]) - np.arctan2(*target[::-1]))
    assert abs((hue + 180) % 360 - 180) < 20, hue  # with the picked colour's hue
    _put_point(app, 10, 80, RED[0])  # a second colour elsewhere
    assert "2 points" in app.size.value and not np.array_equal(app.result.rgb, one)
    app.undo_button.click()
    app.wait(timeout=120)
    assert app.points == [{"x": x, "y": y, "rgb": GREEN[1]}] and "1 point)" in app.size.value
    np.testing.assert_array_equal(app.result.rgb, one)
    app.clear_button.click()
    app.wait(timeout=120)
    assert app.points == [] and "0 points" in app.size.value and "No points yet" in app.points_list.value
    np.testing.assert_array_equal(app.result.rgb, gray)
    assert app.undo_button.disabled and app.clear_button.disabled
    app.method.value = "auto"  # back: the model by itself, and the paper's crop can be chosen again
    app.wait(timeout=120)
    assert not app.mode.disabled and not app.vividness.disabled and "mode full, vividness" in app.size.value


def test_points_are_drawn_on_the_gray_input_where_they_are_put(app, coffee):
    from colorization.app.markers import preview_position

    app.method.value = "levin"
    app.wait(timeout=120)
    _put_point(app, 100, 30, GREEN[0])
    app.point_x.value, app.point_y.value, app.colour.value = 20, 70, RED[0]  # the cross: where the next one goes
    shown = _decode(app.gray_image.value)
    assert shown.shape == coffee.shape
    assert shown[preview_position(100, 30, (90, 130), shown.shape[:2])].tolist() == GREEN[1]
    row, column = preview_position(20, 70, (90, 130), shown.shape[:2])
    assert shown[row, column + 8].tolist() == RED[1] and shown[row - 8, column].tolist() == RED[1]
    app.method.value = "auto"  # points unused: none drawn
    app.wait(timeout=120)
    plain = _decode(app.gray_image.value)
    assert np.all(plain[..., 0] == plain[..., 1]) and np.all(plain[..., 1] == plain[..., 2])
    assert app.points == [{"x": 100, "y": 30, "rgb": GREEN[1]}]  # kept for the next guided colouring


def test_a_point_maps_onto_a_shrunk_preview_and_never_leaves_the_image():
    from colorization.app.markers import marked_preview, preview_position

    image_hw, preview_hw = (1000, 1600), (480, 768)  # a preview of PREVIEW_SIDE
    assert preview_position(0, 0, image_hw, preview_hw) == (0, 0)
    assert preview_position(1599, 999, image_hw, preview_hw) == (479, 767)
    assert preview_position(800, 500, image_hw, preview_hw) == (240, 384)
    columns = [preview_position(x, 0, image_hw, preview_hw)[1] for x in range(1600)]
    assert columns == sorted(columns) and set(columns) == set(range(768))  # every preview column is reachable
    corners = [{"x": x, "y": y, "rgb": RED[1]} for x in (0, 1599) for y in (0, 999)]
    marked = marked_preview(np.zeros(preview_hw + (3,), np.uint8), corners, image_hw, (1599, 999, GREEN[1]))
    assert all(marked[row, column].tolist() == RED[1] for row in (0, 479) for column in (0, 767))


def _click_on_gray(app: ColorizerApp, x, y, shown_w, shown_h, wait: bool = True, **fields) -> None:
    """A click on the gray input as the browser's ipyevents sends it: the message a click's event reaches."""
    event = {"type": "click", "relativeX": x, "relativeY": y, "boundingRectWidth": shown_w}
    event |= {"boundingRectHeight": shown_h, "button": 0, "clientX": 20, "clientY": 300} | fields
    app.gray_clicks._handle_custom_msg(event, [])
    if wait:
        app.wait(timeout=120)


def test_a_click_on_the_gray_input_puts_a_point_at_the_clicked_pixel(app, coffee):
    from colorization.app.markers import preview_position

    app.method.value = "levin"
    app.wait(timeout=120)
    gray = app.result.rgb.copy()
    app.colour.value = GREEN[0]
    _click_on_gray(app, 100, 30, 130, 90)  # the preview shown at the image's own size
    clicked = app.result.rgb.copy()
    assert app.error.value == "" and app.points == [{"x": 100, "y": 30, "rgb": GREEN[1]}]
    assert "(100, 30)" in app.points_list.value and "Levin et al., 1 point)" in app.size.value
    assert (app.point_x.value, app.point_y.value) == (100, 30)  # the sliders follow the click
    target = _ab(GREEN[1])
    assert np.linalg.norm(_ab(clicked[30, 100]) - target) < 0.75 * np.linalg.norm(_ab(gray[30, 100]) - target)
    shown = _decode(app.gray_image.value)
    assert shown[preview_position(100, 30, (90, 130), shown.shape[:2])].tolist() == GREEN[1]  # drawn where clicked
    app.undo_button.click()
    _put_point(app, 100, 30, GREEN[0])  # "Add point" at the same pixel: the same point, the same result
    assert app.points == [{"x": 100, "y": 30, "rgb": GREEN[1]}]
    np.testing.assert_array_equal(app.result.rgb, clicked)


@pytest.mark.parametrize(
    "click, shown, pixel",
    [
        ((50, 15), (65, 45), (101, 31)),  # the page shrank the preview to half: two image pixels a CSS pixel
        ((200, 60), (260, 180), (100, 30)),  # shown at twice the size
        ((0, 0), (130, 90), (0, 0)),  # the corners of the preview shown at the image's size
        ((129, 89), (130, 90), (129, 89)),
        ((0, 0), (65, 45), (1, 1)),  # the first CSS pixel shows image pixels 0 and 1: its centre is on 1
        ((64, 44), (65, 45), (129, 89)),  # the last CSS pixel: the last image pixel
        ((65, 45), (65, 45), (129, 89)),  # on the far edge (the browser rounds the pointer's offset)
        ((-3, -1), (65, 45), (1, 1)),  # left of the corner: kept inside, as the first CSS pixel
        ((10**6, 10.0), (97.5, 67.5), (129, 14)),  # a fractional shown size; far off: kept inside
    ],
)
def test_a_click_maps_from_the_preview_as_shown_to_the_image_and_stays_inside(app, coffee, click, shown, pixel):
    app.method.value = "levin"
    app.wait(timeout=120)
    app.colour.value = RED[0]
    _click_on_gray(app, *click, *shown)
    assert app.error.value == "" and app.points == [{"x": pixel[0], "y": pixel[1], "rgb": RED[1]}]


def test_every_pixel_of_a_shrunk_preview_can_be_clicked_and_is_marked_where_it_was_clicked():
    from colorization.app.markers import clicked_pixel, preview_position

    image_hw, preview_hw = (1000, 1600), (480, 768)  # a preview of PREVIEW_SIDE, shown at its own size
    for column in range(preview_hw[1]):
        event = {"relativeX": column, "relativeY": 0, "boundingRectWidth": 768, "boundingRectHeight": 480}
        x, y = clicked_pixel(event, image_hw)
        assert preview_position(x, y, image_hw, preview_hw) == (0, column)  # the marker is under the pointer
    shrunk = {"relativeX": 0, "boundingRectWidth": 300.8, "boundingRectHeight": 188}  # shrunk further by the page
    rows = [clicked_pixel(shrunk | {"relativeY": row}, image_hw)[1] for row in range(189)]
    steps = np.diff(rows[:-1])  # each CSS pixel 1000 / 188 image pixels further; its far edge: the last row
    assert rows[0] <= 1000 / 188 and steps.min() >= 5 and steps.max() <= 6 and rows[-2:] == [997, 999]


@pytest.mark.parametrize(
    "fields",
    [
        {"relativeX": None},
        {"relativeY": "left"},
        {"boundingRectWidth": 0},
        {"boundingRectHeight": float("nan")},
        {"relativeX": float("inf")},
        {"relativeX": [3]},
    ],
)
def test_a_click_without_a_usable_position_is_one_line_and_adds_nothing(app, coffee, fields):
    from colorization.app.markers import NO_CLICK_POSITION

    app.method.value = "levin"
    app.wait(timeout=120)
    _click_on_gray(app, 10, 10, 130, 90, **fields)
    assert app.points == [] and _error_text(app) == NO_CLICK_POSITION
    _assert_plain_line(NO_CLICK_POSITION)
    event = {"type": "click", "relativeX": 3, "relativeY": 4}  # no shown size at all
    app.gray_clicks._handle_custom_msg(event, [])
    assert app.points == []


def test_a_click_puts_no_point_where_points_are_not_used(app, coffee, monkeypatch):
    import threading

    from colorization.app import work
    from colorization.app.hints import CLICKABLE

    assert CLICKABLE not in app.gray_image._dom_classes  # automatic colouring: no crosshair ...
    _click_on_gray(app, 10, 10, 130, 90)
    assert app.points == [] and app.error.value == ""  # ... and a click does nothing
    app.mode.value = "paper"
    _click(app)  # the paper's crop on the page
    real, gate = work.colorize, threading.Event()
    monkeypatch.setattr(work, "colorize", lambda *args, **kwargs: gate.wait(60) and real(*args, **kwargs))
    app.method.value = "levin"  # the full image is on its way ...
    _click_on_gray(app, 10, 10, 256, 256, wait=False)
    assert app.points == [] and app.error.value == ""  # ... a click on the crop is not a pixel of the image
    gate.set()
    app.wait(timeout=120)
    assert CLICKABLE in app.gray_image._dom_classes and app.points == []
    _click_on_gray(app, 10, 10, 130, 90)
    assert [(point["x"], point["y"]) for point in app.points] == [(10, 10)] and app.error.value == ""


def test_the_sliders_span_the_image_on_the_page_and_a_new_image_starts_without_points(app, coffee, real_photos):
    app.method.value = "levin"
    app.wait(timeout=120)
    assert (app.point_x.max, app.point_y.max) == (129, 89) and not app.add_button.disabled
    app.point_x.value, app.point_y.value = 10**6, -5  # a position outside the image cannot be given
    assert (app.point_x.value, app.point_y.value) == (129, 0)
    _put_point(app, 129, 89, GREEN[0])  # the last pixel is inside
    assert app.error.value == "" and len(app.points) == 1
    _upload(app, "broken.png", b"not an image")  # a failed new image: the points stay with the one shown
    _click(app)
    assert app.status.value == "Failed." and len(app.points) == 1
    _upload(app, "cat.png", _png_bytes(real_photos["chelsea.png"][:40, :60]))
    _click(app)
    assert app.error.value == "" and app.points == [] and "No points yet" in app.points_list.value
    assert (app.point_x.max, app.point_y.max) == (59, 39) and "(input 60x40, Levin et al., 0 points)" in app.size.value


def test_the_hint_network_is_chosen_for_points_and_a_model_without_hints_is_not_used(monkeypatch, real_photos):
    from colorization.app.hints import model_for
    from colorization.model import takes_hints

    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    app = ColorizerApp()  # the paper's network, vividness 2
    photo = real_photos["coffee.png"][:90, :130]
    _upload(app, "coffee.png", _png_bytes(photo))
    _click(app)
    paper, paper_vividness = app.weights.value, app.vividness.value
    app.method.value = "network"
    app.wait(timeout=120)
    assert app.weights.value.name == "hints" and app.vividness.value == 1.0 and not app.vividness.disabled
    assert app.error.value == "" and "hint network, 0 points, vividness 1.00" in app.size.value
    automatic = app.result.rgb.copy()
    _put_point(app, 65, 45, "#283cdc")
    assert "hint network, 1 point" in app.size.value and not np.array_equal(app.result.rgb, automatic)
    target = _ab([40, 60, 220])
    assert np.linalg.norm(_ab(app.result.rgb[45, 65]) - target) < 0.75 * np.linalg.norm(_ab(automatic[45, 65]) - target)
    app.method.value = "auto"  # the model chosen before comes back, at its own vividness
    app.wait(timeout=120)
    assert app.weights.value == paper and app.vividness.value == paper_vividness
    app.method.value = "network"
    app.wait(timeout=120)
    app.weights.value = paper  # choosing a model that takes no points: automatic colouring
    app.wait(timeout=120)
    assert app.method.value == "auto" and app.weights.value == paper
    assert takes_hints(model_for(paper, "network")) and model_for(paper, "levin") is None


def test_a_served_model_without_hints_gives_way_to_the_hint_network(app, coffee):
    app.method.value = "network"  # random.keras takes no points
    app.wait(timeout=120)
    assert app.weights.value.name == "hints" and app.error.value == "" and "hint network" in app.size.value


def test_a_hint_network_that_does_not_load_is_one_plain_line(model_file, small_photo, tmp_path, monkeypatch):
    import colorization.weights as weights

    entries = weights.registry()
    entries["hints"]["sha256"] = "0" * 64  # the shipped file no longer matches
    monkeypatch.setattr(weights, "REGISTRY_FILE", tmp_path / "registry.json")
    weights.REGISTRY_FILE.write_text(json.dumps(entries), encoding="utf-8")
    cached_model.cache_clear()
    app = ColorizerApp(weights_dir=model_file.parent, model="random.keras")
    _upload(app, "photo.png", small_photo)
    _click(app)
    app.method.value = "network"
    app.wait(timeout=120)
    text = _error_text(app)
    assert text.startswith("hints-caltech101.keras: sha256 ") and "does not match the registered" in text
    assert app.status.value == "Failed."
    _assert_plain_line(text)
    cached_model.cache_clear()


@pytest.mark.parametrize("value", ["transparent", "rgba(1, 2, 3, 0.5)", "var(--accent)"])
def test_a_colour_a_point_cannot_take_is_one_line_and_adds_nothing(app, coffee, value):
    app.method.value = "levin"
    app.wait(timeout=120)
    app.colour.value = value  # the widget accepts any CSS colour; a point needs an opaque one
    app.add_button.click()
    text = _error_text(app)
    assert text.startswith(f"the colour {value!r} cannot be a point's colour") and app.points == []
    _assert_plain_line(text.replace("(#rrggbb)", ""))


@pytest.mark.parametrize(
    "value, rgb",
    [("#c81e1e", [200, 30, 30]), ("#abc", [170, 187, 204]), ("RED", [255, 0, 0]), ("indigo ", [75, 0, 130])]
    + [("rgb(1, 2, 3)", [1, 2, 3]), ("hsl(0, 100%, 50%)", [255, 0, 0]), ("#11223344", [17, 34, 51])],
)
def test_every_opaque_colour_the_picker_takes_is_read(value, rgb):
    from colorization.app.markers import picked_rgb

    assert w.ColorPicker(value=value).value == value and picked_rgb(value) == rgb


def test_only_the_newest_points_are_shown(app, coffee, monkeypatch):
    import threading

    from colorization.app import work

    app.method.value = "levin"
    app.wait(timeout=120)
    real, gate, started = work.colorize, threading.Event(), []

    def held(model, image, mode, vividness, **guided):
        started.append(len(guided["hints"]))
        gate.wait(60)
        return real(model, image, mode, vividness, **guided)

    monkeypatch.setattr(work, "colorize", held)
    shown = []
    app.result_image.observe(lambda change: shown.append(len(app.points)), names="value")
    _put_point(app, 10, 10, GREEN[0], wait=False)
    while not started:  # one point is being colorized ...
        gate.wait(0.01)
    _put_point(app, 60, 40, RED[0], wait=False)  # ... when two more are put
    _put_point(app, 120, 80, GREEN[0], wait=False)
    gate.set()
    app.wait(timeout=120)
    assert started == [1, 3] and len(shown) == 1 and "Levin et al., 3 points" in app.size.value
    assert app.status.value == "Done." and not app.colorize_button.disabled
