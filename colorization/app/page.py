"""The page: :class:`ColorizerApp`, the ipywidgets layout and what each control does."""

from __future__ import annotations

import html
import threading
from pathlib import Path

from colorization.app.parts import (
    download_link,
    has_colour,
    load_upload,
    metrics_table,
    preview,
    result_png,
    sample_options,
)
from colorization.colorize import colorize, network_view, neutral_gray
from colorization.fast.png import encode_png
from colorization.io.images import ImageError, LoadedImage, load_image, to_uint8

MODE_OPTIONS = (("full resolution", "full"), ("the paper's 256x256 crop", "paper"))
REFERENCE_LABEL = "shipped reference model"


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
        self.sample = w.Dropdown(
            options=sample_options(), value=None, description="or sample", layout=w.Layout(width="420px")
        )
        self.weights = w.Text(
            value=weights or "",
            placeholder=f"empty: {REFERENCE_LABEL}",
            description="Weights",
            layout=w.Layout(width="420px"),
        )
        self.mode = w.ToggleButtons(
            options=MODE_OPTIONS, value="full", description="Mode", style={"button_width": "auto"}
        )
        self.colorize_button = w.Button(description="Colorize", button_style="primary", icon="paint-brush")
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, layout=w.Layout(width="300px"))
        self.status = w.Label(value="Upload an image or pick a sample photo, then press Colorize.")
        self.error = w.HTML(value="")
        self.size = w.Label(value="")
        self._build_result_area(w)

        self.upload.observe(self._on_upload, names="value")
        self.sample.observe(self._on_sample, names="value")
        self.colorize_button.on_click(self.on_colorize)
        self.widget = w.VBox(
            [
                w.HBox([self.upload, self.sample]),
                self.weights,
                self.mode,
                w.HBox([self.colorize_button, self.progress, self.status]),
                self.error,
                self.size,
                self.images,
                self.download,
                self.metrics_html,
            ]
        )
        self.widget.add_class("colorization-app")

    def _build_result_area(self, w) -> None:
        """The three image panels (gray input, colorization, original), the download link, the metrics."""
        self.gray_image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.result_image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.original_image = w.Image(format="png", layout=w.Layout(max_width="100%"))

        def panel(title, image):
            return w.VBox([w.HTML(f"<b>{title}</b>"), image], layout=w.Layout(flex="1 1 0", min_width="0"))

        self.gray_panel = panel("gray input", self.gray_image)
        self.result_panel = panel("colorization", self.result_image)
        self.original_panel = panel("original", self.original_image)
        self.images = w.HBox(
            [self.gray_panel, self.result_panel, self.original_panel], layout=w.Layout(display="none", width="100%")
        )
        self.metrics_html = w.HTML(value="")
        self.download = w.HTML(value="")

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
        self._thread = threading.Thread(
            target=self._run, args=(self._source, self.weights.value.strip(), self.mode.value), daemon=True
        )
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
            self.download.value = download_link(
                png, f"{stem}_colorized.png", f"Save the colorization as PNG ({out_w}x{out_h})"
            )
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
