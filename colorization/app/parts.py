"""The app's pieces that are plain functions: reading an upload, previews, the PNG to save,
the download link, the metrics table and the sample photographs offered."""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path

import numpy as np

from colorization.fast.png import encode_png
from colorization.io.images import ImageError, LoadedImage, load_image, to_uint8
from colorization.io.preprocess import resize

#: longest side of the on-page previews (the saved PNG is always full size)
PREVIEW_SIDE = 768


def load_upload(name: str, content: bytes) -> LoadedImage:
    """Read uploaded file bytes as :func:`load_image` reads a file of that name.

    Raises
    ------
    ImageError
        As the CLI reports it, ``"<name>: <problem>"`` (one line), with the name the
        user uploaded rather than the temporary file's path.
    """
    name = Path(str(name or "upload")).name or "upload"
    with tempfile.TemporaryDirectory(prefix="colorization-app-") as folder:
        path = Path(folder) / name
        path.write_bytes(bytes(content))
        try:
            image = load_image(path)
        except ImageError as error:
            raise ImageError(name, error.problem) from None
    image.path = name
    return image


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
