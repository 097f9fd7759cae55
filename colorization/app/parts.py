"""The app's pieces that are plain functions: reading an upload safely, the text the page
shows (labels, one-line errors, the vividness slider's range and hint), the weights
offered, previews, the PNG to save, the download link, the metrics table and the sample
photographs offered."""

from __future__ import annotations

import base64
import functools
import html
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization.fast.png import encode_png
from colorization.io.images import MAX_PIXELS, ImageError, LoadedImage, load_image, to_uint8
from colorization.io.preprocess import resize

#: longest side of the on-page previews (the saved PNG is always full size)
PREVIEW_SIDE = 768
#: the largest upload the app reads (bytes); the pixel limit is the package's decompression-bomb guard
MAX_UPLOAD_BYTES = 40_000_000
#: names the one folder whose ``.keras`` files the page may offer (set by the person serving the app)
WEIGHTS_DIR_ENV = "COLORIZATION_APP_WEIGHTS_DIR"
#: how many loaded models stay in memory
MODELS_KEPT = 2
#: the vividness slider (within colorization.vividness.LIMITS) and the line beside it
VIVIDNESS_SLIDER = {"min": 0.25, "max": 4.0, "step": 0.05}
VIVIDNESS_HINT = "1 = the network's own (mean) colours; more = more colourful"
LABEL_CHARS = 80
MESSAGE_CHARS = 300
MODEL_INFO_CHARS = 600  # a registered model's description, as the page shows it under the dropdown

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# the folders of an absolute path ("/srv/x/", "C:\\x\\", "~/x/"); what follows (the file's name) stays
_FOLDERS = re.compile(r"(?<![\w.~-])(?:~|[A-Za-z]:)?(?:[\\/][^\\/\s'\"]+)*[\\/]")


def plain_text(text: object) -> str:
    """``text`` as one line of plain text: ANSI escapes and control or format characters
    (NUL, bidi overrides ...) dropped, whitespace collapsed."""
    text = _ANSI.sub("", str(text))
    text = "".join(" " if char.isspace() else char for char in text if char.isspace() or not _is_control(char))
    return " ".join(text.split())


def _is_control(char: str) -> bool:
    return unicodedata.category(char).startswith("C")


def shorten(text: str, limit: int, keep_end: int = 0) -> str:
    """``text`` cut to at most ``limit`` characters with an ellipsis, keeping its last ``keep_end``."""
    if len(text) <= limit:
        return text
    return text[: limit - keep_end - 1] + "…" + (text[-keep_end:] if keep_end else "")


def page_message(text: object, limit: int = MESSAGE_CHARS) -> str:
    """An error as the page shows it: one plain line, no traceback, no server folders, at most ``limit`` characters."""
    text = str(text).split("Traceback (most recent call last)")[0]
    return shorten(" ".join(_FOLDERS.sub("", plain_text(text)).split()), limit)


def upload_label(name: object) -> str:
    """The uploaded file's name as a label to show, never a path.

    Only what follows the last ``/`` or ``\\`` is kept, as :func:`plain_text`, shortened to
    ``LABEL_CHARS`` keeping its end (the suffix); a name with nothing left (``""``, ``"."``,
    ``".."``) is ``"upload"``.
    """
    label = plain_text(re.split(r"[\\/]", str(name or ""))[-1])
    return shorten(label, LABEL_CHARS, keep_end=20) if label.strip(".") else "upload"


def download_name(label: str) -> str:
    """The file name the download link suggests: ``<label's stem>_colorized.png`` in safe characters."""
    stem = label.rsplit(".", 1)[0] if "." in label.lstrip(".") else label
    stem = re.sub(r"[^\w-]+", "_", stem)[:60].strip("_")
    return f"{stem or 'image'}_colorized.png"


def check_upload_size(label: str, size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse an upload of more than ``max_bytes`` (before anything reads it), with one line."""
    if size > max_bytes:
        raise ImageError(
            label,
            f"file is {size / 1e6:.1f} MB, above the app's {max_bytes / 1e6:.0f} MB upload limit; "
            "upload a smaller or more compressed copy",
        )


def load_upload(name: object, content, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read uploaded bytes as :func:`load_image` reads a file.

    The name is only a label (:func:`upload_label`): the bytes go to a temporary file the
    app names itself. Too many bytes, or more than ``max_pixels`` pixels in the image's
    header, are refused before decoding.

    Raises
    ------
    ImageError
        ``"<label>: <problem>"``, one line, naming the upload and never a server path.
    """
    label = upload_label(name)
    data = memoryview(content).cast("B")
    check_upload_size(label, data.nbytes, max_bytes)
    with tempfile.TemporaryDirectory(prefix="colorization-upload-") as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        try:
            _check_pixels(label, path, max_pixels)
            image = load_image(path, max_pixels)
        except ImageError as error:
            raise ImageError(label, page_message(error.problem)) from None
    image.path = label
    return image


def _check_pixels(label: str, path: Path, max_pixels: int) -> None:
    """Refuse an image whose header says it has more than ``max_pixels`` pixels (nothing is decoded)."""
    from PIL import Image

    previous_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # the check below replaces Pillow's
    try:
        with Image.open(path) as img:
            width, height = img.size
    except Exception:  # not an image: load_image says so
        return
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit
    if width * height > max_pixels:
        raise ImageError(
            label,
            f"image is {width}x{height} ({width * height / 1e6:.0f} megapixels), above the app's "
            f"{max_pixels / 1e6:.0f}-megapixel limit; upload a smaller copy",
        )


@dataclass(frozen=True)
class WeightsChoice:
    """One model the page offers: a registered model (``path`` None) or a file of the served folder."""

    label: str
    name: str
    path: str | None = None


def served_weights_dir(folder: str | Path | None = None) -> Path | None:
    """The one folder whose ``.keras`` files the page may offer: ``folder``, else ``$COLORIZATION_APP_WEIGHTS_DIR``,
    else None (only the registered models)."""
    value = str(folder if folder is not None else os.environ.get(WEIGHTS_DIR_ENV, "")).strip()
    return Path(value).expanduser().resolve() if value else None


def weights_choices(folder: Path | None = None) -> list[WeightsChoice]:
    """The registered models (labelled by their descriptions), then the ``.keras`` files directly in ``folder``."""
    from colorization.weights import registry

    choices = [
        WeightsChoice(shorten(f"{name}: {model_summary(entry.get('description', ''))}", 110), name)
        for name, entry in registry().items()
    ]
    if folder is not None and folder.is_dir():
        files = sorted(path for path in folder.glob("*.keras") if path.is_file())
        choices += [
            WeightsChoice(f"{upload_label(path.name)} (this server's model)", path.name, str(path)) for path in files
        ]
    return choices


def model_summary(description: str) -> str:
    """A registered model's description for page users: without the notes that name
    repository files (a ``(configs/x.yaml, ...)`` aside, a ``; see docs/x.md`` clause)."""
    text = re.sub(r"\([^()]*/[^()]*\)", "", plain_text(description))
    clauses = [clause.strip() for clause in text.split(";") if "/" not in clause]
    return " ".join("; ".join(clause for clause in clauses if clause).split())


def load_choice(choice: WeightsChoice):
    """The model of ``choice``, from a cache of the last ``MODELS_KEPT`` models (a changed file is reloaded)."""
    stamp = None
    if choice.path is not None:
        stat = Path(choice.path).stat() if Path(choice.path).is_file() else None
        stamp = (stat.st_mtime_ns, stat.st_size) if stat else None
    return cached_model(choice.name, choice.path, stamp)


@functools.lru_cache(maxsize=MODELS_KEPT)
def cached_model(name: str, path: str | None, stamp: tuple | None):
    """:func:`colorization.weights.load_weights` of ``path`` (or the registered ``name``), kept while recent."""
    from colorization.weights import load_weights

    return load_weights(path, name=name)


def has_colour(image: LoadedImage) -> bool:
    """True if the image stores colour and not every pixel is neutral (R = G = B)."""
    if image.is_gray:
        return False
    rgb = image.rgb
    return bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 1] != rgb[..., 2]))


def preview(rgb: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    """``rgb`` (uint8) shrunk so that its longer side is at most ``side`` pixels."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return rgb
    return resize(rgb, (max(1, round(height * scale)), max(1, round(width * scale))), "bicubic")


def result_png(result) -> bytes:
    """PNG bytes of a :class:`~colorization.colorize.Colorized` (with its alpha, if any)."""
    pixels = to_uint8(result.rgb)
    if result.alpha is not None:
        pixels = np.dstack([pixels, to_uint8(result.alpha)])
    return encode_png(pixels)


def download_link(png: bytes, filename: str, label: str) -> str:
    """An HTML ``<a download>`` link whose target is ``png`` as a base64 data URL."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<a class="colorization-download" download="{html.escape(filename)}" '
        f'style="color:#1565c0;text-decoration:underline" '
        f'href="data:image/png;base64,{data}">{html.escape(label)}</a>'
    )


def metrics_table(metrics: dict[str, float]) -> str:
    """The image's metrics as a small HTML table (labels as in the results tables)."""
    from colorization.evaluation.tables import METRIC_INFO, format_value

    rows = "".join(
        f"<tr><td style='padding:0 12px 0 0'>{html.escape(METRIC_INFO[key][0])}</td>"
        f"<td style='text-align:right;padding:0 12px'>{format_value(value)}</td>"
        f"<td>{html.escape(METRIC_INFO[key][1])}</td></tr>"
        for key, value in metrics.items()
        if key in METRIC_INFO
    )
    return (
        "<table class='colorization-metrics' style='line-height:1.3'><tr><th style='text-align:left'>"
        "metric (colorization vs original)</th><th style='padding:0 12px'>value</th>"
        f"<th style='text-align:left'>better</th></tr>{rows}</table>"
    )


def sample_options() -> list[tuple[str, str | None]]:
    """Dropdown options for the built-in sample photographs: (label, path)."""
    from colorization.data.sources import SampleSource

    options = [("(pick a sample photo)", None)]
    options += [(f"{record.relpath} ({record.category})", str(record.path)) for record in SampleSource().records()]
    return options
