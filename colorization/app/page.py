"""The page: :class:`ColorizerApp`, the ipywidgets layout and what each control does."""

from __future__ import annotations

import html
from pathlib import Path

from colorization.app.hints import ColourPoints, takes_hints_choice
from colorization.app.parts import (
    MAX_UPLOAD_BYTES,
    MODEL_INFO_CHARS,
    VIVIDNESS_HINT,
    VIVIDNESS_SLIDER,
    WEIGHTS_DIR_ENV,
    check_upload_size,
    model_summary,
    page_message,
    sample_options,
    served_weights_dir,
    upload_label,
    weights_choices,
)
from colorization.app.work import BackgroundWork, error_html
from colorization.io.images import MAX_PIXELS, ImageError
from colorization.vividness import AS_TRAINED

MODE_OPTIONS = (("full resolution", "full"), ("the paper's 256x256 crop", "paper"))
LIMITS_TEXT = (
    f"Images up to {MAX_UPLOAD_BYTES / 1e6:.0f} MB and {MAX_PIXELS / 1e6:.0f} megapixels "
    "(JPEG, PNG, GIF, TIFF, WebP, BMP ...)."
)
NO_FOLDER_NOTICE = (
    f"The model folder this server names ({WEIGHTS_DIR_ENV}) is not a folder; only the shipped models are offered."
)


class ColorizerApp(ColourPoints, BackgroundWork):
    """The widget tree of the app and what its controls do (the work: :class:`~colorization.app.work.BackgroundWork`;
    the colour points: :class:`~colorization.app.hints.ColourPoints`).

    Parameters
    ----------
    weights_dir : str or Path, optional
        One folder whose ``.keras`` files the page offers besides the registered models;
        by default ``$COLORIZATION_APP_WEIGHTS_DIR``, and none if that is unset. Nothing
        else on the server can be chosen from the page.
    model : str, optional
        The model selected at first: a registered name (``"paper"``, ``"classification"``)
        or a file name in ``weights_dir``; by default the first one offered.

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
    shown_vividness : float or None
        The vividness of the last result (the slider's value when it was made).
    """

    def __init__(self, weights_dir: str | Path | None = None, model: str | None = None):
        import ipywidgets as w

        self._init_work()
        self._source: tuple | None = None  # (kind, label, what): ("upload", label, bytes) or ("sample", label, path)
        self._syncing = False

        self.upload = w.FileUpload(accept="image/*", multiple=False, description="Upload image")
        self.sample = w.Dropdown(
            options=sample_options(), value=None, description="or sample", layout=w.Layout(width="420px")
        )
        self.limits = w.HTML(f"<small>{html.escape(LIMITS_TEXT)}</small>")
        self.error = w.HTML(value="")
        self.vividness = w.FloatSlider(
            value=AS_TRAINED, description="Vividness", readout_format=".2f", continuous_update=False, **VIVIDNESS_SLIDER
        )
        self.vividness.add_class("colorization-vividness")
        self.vividness_hint = w.HTML(f"<small style='color:#555'>{html.escape(VIVIDNESS_HINT)}</small>")
        self.mode = w.ToggleButtons(
            options=MODE_OPTIONS, value="full", description="Mode", style={"button_width": "auto"}
        )
        self.colorize_button = w.Button(description="Colorize", button_style="primary", icon="paint-brush")
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, layout=w.Layout(width="300px"))
        self.status = w.Label(value="Upload an image or pick a sample photo, then press Colorize.")
        self.size = w.Label(value="")
        self._build_result_area(w)
        self._build_points(w)
        self._build_weights(w, served_weights_dir(weights_dir), model)  # last: it starts the worker thread

        self.upload.observe(self._on_upload, names="value")
        self.sample.observe(self._on_sample, names="value")
        self.colorize_button.on_click(self.on_colorize)
        self.vividness.observe(self._recolour, names="value")
        self.widget = w.VBox(
            [
                w.HBox([self.upload, self.sample]),
                self.limits,
                self.weights,
                self.weights_info,
                self.mode,
                w.HBox([self.vividness, self.vividness_hint], layout=w.Layout(align_items="center")),
                self.points_area,
                w.HBox([self.colorize_button, self.progress, self.status]),
                self.error,
                self.size,
                self.images,
                self.download,
                self.metrics_html,
            ]
        )
        self.widget.add_class("colorization-app")

    def _build_weights(self, w, folder: Path | None, model: str | None) -> None:
        """The model dropdown: the registered models and the served folder's files, nothing typed."""
        choices = weights_choices(folder)
        if model is not None and model not in {choice.name for choice in choices}:
            raise ValueError(f"no model named {model!r} is offered (offered: {', '.join(c.name for c in choices)})")
        initial = next((choice for choice in choices if choice.name == model), choices[0] if choices else None)
        self.weights = w.Dropdown(
            options=[(choice.label, choice) for choice in choices],
            value=initial,
            description="Model",
            layout=w.Layout(width="100%", max_width="820px"),
        )
        self.weights_info = w.HTML(value="")
        self.weights.observe(self._on_weights, names="value")
        self._on_weights({"new": initial})
        if folder is not None and not folder.is_dir():
            self.error.value = error_html(NO_FOLDER_NOTICE)

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

    # --- choosing the input and the model --------------------------------------------
    def _on_upload(self, change) -> None:
        if self._syncing or not change["new"]:
            return
        item = change["new"][0]
        label = upload_label(item.get("name"))
        content = item.get("content") or b""
        try:
            check_upload_size(label, memoryview(content).nbytes)
        except ImageError as error:  # refused before it is read; the widget lets go of the bytes
            self._set_source(None, upload=True, sample=True)
            self._show_error(str(error))
            return
        self._set_source(("upload", label, content), sample=True)
        self.error.value = ""
        self.status.value = f"Input: {label} (uploaded). Press Colorize."

    def _on_sample(self, change) -> None:
        if self._syncing or change["new"] is None:
            return
        label = Path(change["new"]).name
        self._set_source(("sample", label, change["new"]), upload=True)
        self.error.value = ""
        self.status.value = f"Input: {label} (sample). Press Colorize."

    def _set_source(self, source: tuple | None, upload: bool = False, sample: bool = False) -> None:
        """Remember the chosen input and clear the input controls named (the last choice wins)."""
        self._source = source
        self._syncing = True
        try:
            if upload:
                self.upload.value = ()
            if sample:
                self.sample.value = None
        finally:
            self._syncing = False

    def _on_weights(self, change) -> None:
        from colorization.weights import registry

        choice = change["new"]
        if choice is None:
            text = "No model is available on this server."
        elif choice.path is None:
            text = model_summary(registry().get(choice.name, {}).get("description", ""))
        else:
            text = "a model file provided by this server"
        self.weights_info.value = (
            f"<small style='color:#555'>{html.escape(page_message(text, MODEL_INFO_CHARS))}</small>"
        )
        if choice is not None:
            self.vividness.disabled = True  # until the worker has moved it to this model's default
            self._start()
        if self.method.value == "network" and not takes_hints_choice(choice):
            self.method.value = "auto"  # a model that takes no points: the user chose automatic colouring
