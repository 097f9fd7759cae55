"""The page's work: colorizing in one background thread, the newest request winning.

:class:`BackgroundWork` is the half of :class:`colorization.app.page.ColorizerApp` that
does the work; the page builds the widgets it uses (``weights``, ``mode``, ``vividness``,
``colorize_button``, the status line, the result area and the colour points,
:mod:`colorization.app.hints`). Requests come from the Colorize button, from the vividness
slider and from the colour points (the image on the page again, at the new settings). One
worker thread catches up with the page: it first moves the slider to the chosen model's
default (:func:`model_default`), then colorizes the newest request, reading the page's
settings (:class:`Settings`) as it starts; a result that a newer request has overtaken is
never shown, so one made at an older slider value or with older points cannot replace one
made at newer.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass

import numpy as np

from colorization.app.hints import model_for
from colorization.app.parts import (
    download_link,
    download_name,
    has_colour,
    load_choice,
    load_upload,
    metrics_table,
    page_message,
    preview,
    result_png,
)
from colorization.colorize import Colorized, colorize, network_view, neutral_gray
from colorization.fast.png import encode_png
from colorization.hints.points import HintError
from colorization.io.images import ImageError, LoadedImage, load_image, to_uint8

WORKER_THREAD = "colorization-app-work"  # the worker thread's name


def model_default(choice) -> float:
    """The vividness the page sets for a :class:`~colorization.app.parts.WeightsChoice`: its model's
    default (:func:`colorization.vividness.default_of`), or 1 when the model does not load (pressing
    Colorize then says why, in one line)."""
    from colorization.vividness import AS_TRAINED, default_of

    try:
        return default_of(load_choice(choice))
    except Exception:  # whatever the problem, Colorize reports it
        return AS_TRAINED


@dataclass(frozen=True)
class Settings:
    """The page's settings a colorization is made at, read as it starts.

    ``method`` is ``"auto"`` (the chosen model by itself) or one of :data:`colorization.guided.METHODS`;
    ``points`` are hint dicts (``{"x", "y", "rgb"}``, the image's own pixels) for those two.
    """

    mode: str
    vividness: float
    method: str = "auto"
    points: tuple = ()

    def describe(self) -> str:
        """The settings as the result's size line names them."""
        if self.method == "auto":
            return f"mode {self.mode}, vividness {self.vividness:.2f}"
        points = f"{len(self.points)} point{'' if len(self.points) == 1 else 's'}"
        if self.method == "levin":
            return f"Levin et al., {points}"
        return f"hint network, {points}, vividness {self.vividness:.2f}"


def colorize_at(model, image: LoadedImage, settings: Settings) -> Colorized:
    """:func:`colorization.colorize.colorize` of ``image`` at ``settings`` (and its points, for the guided methods)."""
    if settings.method == "auto":
        return colorize(model, image, settings.mode, settings.vividness)
    vividness = settings.vividness if settings.method == "network" else None
    return colorize(model, image, "full", vividness, hints=list(settings.points), method=settings.method)


@dataclass(eq=False)
class Request:
    """One colorization asked for (Colorize pressed, the slider moved, the points or the method changed):
    ``source`` is (kind, label, what)."""

    source: tuple


@dataclass
class Views:
    """A finished colorization, ready for the page: the result, its PNG, the gray preview (pixels, for
    the points' markers), the other previews (PNG), the metrics."""

    result: Colorized
    png: bytes
    gray: np.ndarray
    colour: bytes
    original: bytes | None  # None for an input without colour, which has no metrics either
    metrics: dict | None


def colorized_views(model, image: LoadedImage, settings: Settings, step) -> Views:
    """Colorize ``image`` at ``settings`` and prepare what the page shows, telling ``step(fraction, message)``
    how far it is.

    The metrics (:func:`colorization.metrics.image_metrics`) compare the colorization with the
    input, for an input with colour (:func:`~colorization.app.parts.has_colour`).
    """
    height, width = image.size
    step(0.4, f"Colorizing {width}x{height} ...")
    result = colorize_at(model, image, settings)
    step(0.7, "Preparing the views ...")
    original = network_view(image.rgb, "paper") if settings.mode == "paper" else to_uint8(image.rgb)
    metrics = None
    if has_colour(image):
        from colorization.metrics import image_metrics

        step(0.75, "Measuring against the original ...")
        metrics = image_metrics(result.rgb, original)
    step(0.85, "Encoding the PNG ...")
    return Views(
        result=result,
        png=result_png(result),
        gray=preview(neutral_gray(original)),
        colour=encode_png(preview(to_uint8(result.rgb))),
        original=encode_png(preview(original)) if metrics is not None else None,
        metrics=metrics,
    )


class BackgroundWork:
    """Colorizing for the page, in a background thread (see the module's description)."""

    def _init_work(self) -> None:
        """The state the page and the worker thread share, guarded by ``_lock``."""
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._busy = False  # a worker thread is running
        self._wanted: Request | None = None  # the newest colorization asked for
        self._done: Request | None = None  # the last one finished (shown if it was still the newest)
        self._shown_source: tuple | None = None  # the input of the colorization on the page
        self._default_for = None  # the model whose default the slider was set to
        self._setting_default = False
        self.result = self.png = self.metrics = self.shown_vividness = None
        self.loaded: LoadedImage | None = None

    def on_colorize(self, _button=None) -> None:
        """Colorize the chosen input with the page's settings, in the worker thread."""
        if self._source is None:
            self._show_error("Choose an image first: upload one or pick a sample photo.")
            return
        if self.weights.value is None:
            self._show_error("No model is available on this server.")
            return
        self._ask(self._source)

    def _recolour(self, _change=None) -> None:
        """Colorize the image on the page (or the one on its way) again at the page's new settings
        (the vividness slider moved, the method switched, a point added or taken away)."""
        if self._setting_default:
            return
        with self._lock:
            source = self._wanted.source if self._wanted is not self._done else self._shown_source
        if source is not None:
            self._ask(source)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the page's background work (the slider's default, colorizing) is done."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _ask(self, source: tuple) -> None:
        """Make colorizing ``source`` the newest request: the one whose result the page shows."""
        with self._lock:
            self._wanted = Request(source)
        self._start()

    def _start(self) -> None:
        """Start the worker thread, unless it is running (it then takes up the newest request itself)."""
        with self._lock:
            if not self._busy:
                self._busy = True
                self._thread = threading.Thread(target=self._work, name=WORKER_THREAD, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        """Catch up with the page: move the slider to the chosen model's default, then colorize as asked."""
        while True:
            with self._lock:
                choice, request = self.weights.value, self._wanted
                if choice == self._default_for and request is self._done:
                    self._busy = False
                    self.colorize_button.disabled = False
                    return
            if choice != self._default_for:
                self._set_default(choice)
            else:
                self._run(request)

    def _set_default(self, choice) -> None:
        """Move the slider to ``choice``'s default, without colorizing again (Colorize uses it)."""
        value = model_default(choice)
        with self._lock:
            self._default_for = choice
            if self.weights.value == choice:  # else the worker goes on to the model chosen since
                self._setting_default = True
                try:
                    self.vividness.value = value
                finally:
                    self._setting_default = False
                self.vividness.disabled = self.method.value == "levin"  # Levin et al. has no vividness

    def _run(self, request: Request) -> None:
        """Colorize ``request``'s input at the page's settings; shown only if no newer request came meanwhile."""
        from colorization.weights import WeightsError

        self.colorize_button.disabled = True
        self.error.value, self.progress.bar_style = "", ""
        choice, settings = self.weights.value, self._settings(request)
        try:
            image = self._read(request.source)
            self._step(0.2, "Loading the model ...")
            outcome = colorized_views(model_for(choice, settings.method), image, settings, self._step)
        except (ImageError, WeightsError, HintError) as error:
            outcome = str(error)
        except Exception as error:  # shown in the page, not lost in a thread
            outcome = f"colorizing failed ({type(error).__name__}): {error}"
        with self._lock:
            self._done = request
            if request is not self._wanted:  # a newer one was asked for: the worker goes on with it
                return
            if isinstance(outcome, str):
                self._show_error(outcome)
            else:
                self._show_result(request.source, image, outcome, settings)
                self.shown_vividness = settings.vividness

    def _settings(self, request: Request) -> Settings:
        """The page's settings now; the points only for the image they were put on (the one on the page)."""
        method = self.method.value
        with self._lock:
            points = tuple(self.points) if method != "auto" and request.source is self._shown_source else ()
        mode = "full" if method != "auto" else self.mode.value  # hint positions are the whole image's pixels
        return Settings(mode, self.vividness.value, method, points)

    def _read(self, source: tuple) -> LoadedImage:
        """The image of ``source``: the one on the page again, or read from the upload or the sample."""
        if source is self._shown_source and self.loaded is not None:
            return self.loaded
        self._step(0.05, "Reading the image ...")
        kind, label, what = source
        return load_upload(label, what) if kind == "upload" else load_image(what)

    def _step(self, fraction: float, message: str) -> None:
        self.progress.value = fraction
        self.status.value = message

    def _show_error(self, message: str) -> None:
        self.error.value = error_html(message)
        self.status.value = "Failed."
        self.progress.bar_style = "danger"

    def _show_result(self, source: tuple, image: LoadedImage, views: Views, settings: Settings) -> None:
        """Put a finished colorization on the page: the three views, the metrics, the download link."""
        height, width = image.size
        out_h, out_w = views.result.rgb.shape[:2]
        self._show_gray(source, image.size, views.gray, settings.mode)
        self.loaded, self._shown_source = image, source
        self._sync_points_controls()
        self.result_image.value = views.colour
        if views.original is not None:
            self.original_image.value = views.original
        self.original_panel.layout.display = None if views.original is not None else "none"
        self.images.layout.display = "flex"
        self.metrics_html.value = metrics_table(views.metrics) if views.metrics is not None else ""
        link_text = f"Save the colorization as PNG ({out_w}x{out_h})"
        self.download.value = download_link(views.png, download_name(source[1]), link_text)
        self.size.value = f"result: {out_w}x{out_h} pixels (input {width}x{height}, {settings.describe()})"
        self.result, self.png, self.metrics = views.result, views.png, views.metrics
        self.progress.bar_style = "success"
        self._step(1.0, "Done.")


def error_html(message: str) -> str:
    """``message`` as the page's error line: plain text (see :func:`page_message`), escaped."""
    return f'<span class="colorization-error" style="color:#b00020">{html.escape(page_message(message))}</span>'
