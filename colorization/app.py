"""The paper's application, in Jupyter: load an image, colorize it, look, save.

The paper's desktop app (Kivy) lets a user load any image, colorizes it with the
network and shows and saves the result. :class:`ColorizerApp` is the same in
ipywidgets, shown by ``notebooks/app.ipynb`` in JupyterLab or standalone by Voilà::

    from colorization.app import ColorizerApp
    ColorizerApp().widget

All the work is the library's: :func:`colorization.io.images.load_image` reads the file
(a bad one gives the CLI's one-line :class:`~colorization.io.images.ImageError`),
:func:`colorization.colorize.colorize` colorizes it, :func:`colorization.colorize.neutral_gray`
makes the gray input, :func:`colorization.metrics.image_metrics` scores a colour
original and :func:`colorization.fast.png.encode_png` encodes the PNG to save. The work
runs in a thread so the page stays responsive; a progress bar and a status line
follow it. Without a browser the widgets can be driven directly (set
``app.upload.value``, call ``app.colorize_button.click()``, then :meth:`ColorizerApp.wait`).
"""

from __future__ import annotations

import base64
import html
import tempfile
import threading
from pathlib import Path

import numpy as np

from colorization.colorize import colorize, network_view, neutral_gray
from colorization.io.images import ImageError, LoadedImage, load_image, to_uint8
from colorization.fast.png import encode_png
from colorization.io.preprocess import resize

#: longest side of the on-page previews (the saved PNG is always full size)
PREVIEW_SIDE = 768
MODE_OPTIONS = (("full resolution", "full"), ("the paper's 256x256 crop", "paper"))
REFERENCE_LABEL = "shipped reference model"


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
    return (f'<a class="colorization-download" download="{html.escape(filename)}" '
            f'style="color:#1565c0;text-decoration:underline" '
            f'href="data:image/png;base64,{data}">{html.escape(label)}</a>')


def metrics_table(metrics: dict[str, float]) -> str:
    """The image's metrics as a small HTML table (labels as in the results tables)."""
    from colorization.evaluation.tables import METRIC_INFO, format_value

    rows = "".join(
        f"<tr><td style='padding:0 12px 0 0'>{html.escape(METRIC_INFO[key][0])}</td>"
        f"<td style='text-align:right;padding:0 12px'>{format_value(value)}</td><td>{html.escape(METRIC_INFO[key][1])}</td></tr>"
        for key, value in metrics.items() if key in METRIC_INFO
    )
    return ("<table class='colorization-metrics' style='line-height:1.3'><tr><th style='text-align:left'>"
            "metric (colorization vs original)</th><th style='padding:0 12px'>value</th>"
            f"<th style='text-align:left'>better</th></tr>{rows}</table>")


def sample_options() -> list[tuple[str, str | None]]:
    """Dropdown options for the built-in sample photographs: (label, path)."""
    from colorization.data.sources import SampleSource

    options = [("(pick a sample photo)", None)]
    options += [(f"{record.relpath} ({record.category})", str(record.path)) for record in SampleSource().records()]
    return options


class ColorizerApp:
    """The widget tree of the app and what its button does.

    Parameters
    ----------
    weights : str, optional
        Initial ``.keras`` path; empty or None for the shipped reference model.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display.
    result : Colorized or None
        The last colorization (full size in ``"full"`` mode).
    png : bytes or None
        Its PNG, as the download link saves it.
    metrics : dict or None
        :func:`colorization.metrics.image_metrics` of the last result, if the input had colour.
    """

    def __init__(self, weights: str | None = None):
        import ipywidgets as w

        self._models: dict[str, object] = {}
        self._source: tuple | None = None  # ("upload", name, bytes) or ("sample", path)
        self._thread: threading.Thread | None = None
        self._syncing = False
        self.result = self.png = self.metrics = None
        self.loaded: LoadedImage | None = None

        self.upload = w.FileUpload(accept="image/*", multiple=False, description="Upload image")
        self.sample = w.Dropdown(options=sample_options(), value=None, description="or sample",
                                 layout=w.Layout(width="420px"))
        self.weights = w.Text(value=weights or "", placeholder=f"empty: {REFERENCE_LABEL}",
                              description="Weights", layout=w.Layout(width="420px"))
        self.mode = w.ToggleButtons(options=MODE_OPTIONS, value="full", description="Mode",
                                   style={"button_width": "auto"})
        self.colorize_button = w.Button(description="Colorize", button_style="primary", icon="paint-brush")
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, layout=w.Layout(width="300px"))
        self.status = w.Label(value="Upload an image or pick a sample photo, then press Colorize.")
        self.error = w.HTML(value="")
        self.size = w.Label(value="")
        self.gray_image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.result_image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.original_image = w.Image(format="png", layout=w.Layout(max_width="100%"))

        def panel(title, image):
            return w.VBox([w.HTML(f"<b>{title}</b>"), image], layout=w.Layout(flex="1 1 0", min_width="0"))

        self.gray_panel = panel("gray input", self.gray_image)
        self.result_panel = panel("colorization", self.result_image)
        self.original_panel = panel("original", self.original_image)
        self.images = w.HBox([self.gray_panel, self.result_panel, self.original_panel],
                             layout=w.Layout(display="none", width="100%"))
        self.metrics_html = w.HTML(value="")
        self.download = w.HTML(value="")

        self.upload.observe(self._on_upload, names="value")
        self.sample.observe(self._on_sample, names="value")
        self.colorize_button.on_click(self.on_colorize)
        self.widget = w.VBox([
            w.HBox([self.upload, self.sample]),
            self.weights,
            self.mode,
            w.HBox([self.colorize_button, self.progress, self.status]),
            self.error,
            self.size,
            self.images,
            self.download,
            self.metrics_html,
        ])
        self.widget.add_class("colorization-app")

    # --- choosing the input -------------------------------------------------------
    def _on_upload(self, change) -> None:
        if self._syncing or not change["new"]:
            return
        item = change["new"][0]
        self._source = ("upload", item["name"], bytes(item["content"]))
        self._syncing = True
        try:
            self.sample.value = None
        finally:
            self._syncing = False
        self.status.value = f"Input: {item['name']} (uploaded). Press Colorize."

    def _on_sample(self, change) -> None:
        if self._syncing or change["new"] is None:
            return
        self._source = ("sample", change["new"])
        self._syncing = True
        try:
            self.upload.value = ()
        finally:
            self._syncing = False
        self.status.value = f"Input: {Path(change['new']).name} (sample). Press Colorize."

    # --- the work ---------------------------------------------------------------------
    def on_colorize(self, _button=None) -> None:
        """Start colorizing the chosen input in a thread (a second press while busy is ignored)."""
        if self._thread is not None and self._thread.is_alive():
            return
        if self._source is None:
            self._show_error("Choose an image first: upload one or pick a sample photo.")
            return
        self.colorize_button.disabled = True
        self._thread = threading.Thread(target=self._run, args=(self._source, self.weights.value.strip(),
                                                                self.mode.value), daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running colorization (if any) has finished."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _step(self, fraction: float, message: str) -> None:
        self.progress.value = fraction
        self.status.value = message

    def _show_error(self, message: str) -> None:
        self.error.value = f'<span class="colorization-error" style="color:#b00020">{html.escape(message)}</span>'
        self.status.value = "Failed."
        self.progress.bar_style = "danger"

    def _run(self, source: tuple, weights: str, mode: str) -> None:
        from colorization.weights import WeightsError

        self.error.value = ""
        self.progress.bar_style = ""
        try:
            self._step(0.05, "Reading the image ...")
            if source[0] == "upload":
                image = load_upload(source[1], source[2])
            else:
                image = load_image(source[1])
            self.loaded = image
            height, width = image.size
            self._step(0.2, f"Loading the weights ({weights or REFERENCE_LABEL}) ...")
            model = self._model(weights)
            self._step(0.4, f"Colorizing {width}x{height} ...")
            result = colorize(model, image, mode)
            self._step(0.7, "Preparing the views ...")
            original = network_view(image.rgb, "paper") if mode == "paper" else to_uint8(image.rgb)
            coloured = has_colour(image)
            metrics = None
            if coloured:
                from colorization.metrics import image_metrics

                self._step(0.75, "Measuring against the original ...")
                metrics = image_metrics(result.rgb, original)
            self._step(0.85, "Encoding the PNG ...")
            png = result_png(result)
            out_h, out_w = result.rgb.shape[:2]
            self.gray_image.value = encode_png(preview(neutral_gray(original)))
            self.result_image.value = encode_png(preview(to_uint8(result.rgb)))
            if coloured:
                self.original_image.value = encode_png(preview(original))
            self.original_panel.layout.display = None if coloured else "none"
            self.images.layout.display = "flex"
            self.metrics_html.value = metrics_table(metrics) if coloured else ""
            stem = Path(image.path).stem or "image"
            self.download.value = download_link(png, f"{stem}_colorized.png",
                                                f"Save the colorization as PNG ({out_w}x{out_h})")
            self.size.value = f"result: {out_w}x{out_h} pixels (input {width}x{height}, mode {mode})"
            self.result, self.png, self.metrics = result, png, metrics
            self.progress.bar_style = "success"
            self._step(1.0, "Done.")
        except (ImageError, WeightsError) as error:
            self._show_error(str(error))
        except Exception as error:  # shown in the page, not lost in a thread
            self._show_error(f"{type(error).__name__}: {' '.join(str(error).split())}")
        finally:
            self.colorize_button.disabled = False

    def _model(self, weights: str):
        """The model for ``weights`` (empty: the reference), loaded once and kept."""
        from colorization.weights import load_weights

        if weights not in self._models:
            self._models[weights] = load_weights(Path(weights).expanduser() if weights else None)
        return self._models[weights]
