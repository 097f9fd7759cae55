"""The page's colour points: how the photo is coloured and the points a user puts on it.

"Colour points" offers three methods: ``"auto"`` (the chosen model, no points), ``"network"``
(the hint network) and ``"levin"`` (Levin et al.; :mod:`colorization.guided` for both). For the
last two a user clicks on the gray input where a point should go: ipyevents (the ``app`` extra)
reports the click, :func:`~colorization.app.markers.clicked_pixel` maps it from the preview as the
browser shows it back to the image's own pixels (x: the column, y: the row, from the top-left
corner; always inside the image), and the point is added there in the colour picker's colour.
Two sliders give the same position from the keyboard (a cross on the gray preview shows it; a
click moves them to the clicked pixel) and "Add point" adds a point there; a click and the button
go through one handler (:meth:`ColourPoints.add_point`). Each point becomes a hint dict as a hints
file writes it (``{"x", "y", "rgb"}``) and is checked by the package's one validator
(:func:`colorization.guided.as_hints`) when used.

The points belong to the image on the page: a new image's result clears them. Each change (a
point added, undone or cleared, the method switched) colorizes the image again through the
page's background work (:mod:`colorization.app.work`: the newest request wins). "hint network"
moves the model dropdown to the registered hint network unless the chosen model takes hints;
choosing a model that takes none while "hint network" is on goes back to "automatic".
"""

from __future__ import annotations

import html

import numpy as np

from colorization.app.markers import clicked_pixel, encode_marked, picked_rgb, points_html
from colorization.app.parts import cached_model, load_choice
from colorization.fast.png import encode_png

METHOD_OPTIONS = (("automatic", "auto"), ("hint network", "network"), ("Levin et al.", "levin"))
HINT_MODEL = "hints"  # the registered hint network (colorization.weights.load_weights(name="hints"))
DEFAULT_COLOUR = "#d02828"
METHOD_HINTS = {
    "auto": "The chosen model colours the photo by itself; choose hint network or Levin et al. to add points.",
    "network": "The hint network follows the points and colours the rest itself.",
    "levin": "Levin et al. spread each point's colour over similar neighbours; without points the photo stays gray.",
}
CLICKABLE = "colorization-clickable"  # the gray input while a click puts a point (a crosshair cursor)
HOW_TO_ADD = (
    "Pick a colour, then click on the gray input where it goes; or move x and y (the cross shows where) "
    "and press Add point."
)


def hint_choice(options) -> object | None:
    """The registered hint network among the model dropdown's ``options`` ((label, WeightsChoice) pairs)."""
    return next((choice for _, choice in options if choice.path is None and choice.name == HINT_MODEL), None)


def takes_hints_choice(choice) -> bool:
    """True if the model of ``choice`` (a WeightsChoice) takes colour points: the registered hint
    network, or a served file that does (loaded through the app's cache); False if it does not load."""
    from colorization.model import takes_hints

    if choice is None:
        return False
    if choice.path is None:
        return choice.name == HINT_MODEL
    try:
        return takes_hints(load_choice(choice))
    except Exception:  # a model that does not load takes no points; colorizing says why
        return False


def model_for(choice, method: str):
    """The network a colorization by ``method`` uses: none for Levin et al.; for the hint network the
    chosen model if it takes hints, else the registered hint network (never one that takes none);
    else the chosen model."""
    from colorization.model import takes_hints

    if method == "levin":
        return None
    model = load_choice(choice)
    if method == "network" and not takes_hints(model):
        return cached_model(HINT_MODEL, None, None)
    return model


class ColourPoints:
    """The "Colour points" area of :class:`~colorization.app.page.ColorizerApp` (the module's description).

    Attributes
    ----------
    points : list of dict
        The points on the image on the page, oldest first, each ``{"x", "y", "rgb"}`` in its own pixels.
    """

    def _build_points(self, w) -> None:
        """The method choice, the clicks on the gray input, the position sliders, the colour picker,
        the buttons and the list."""
        from ipyevents import Event

        self.points: list[dict] = []
        self._gray_preview = None  # (gray preview, image (H, W)) of the full-mode gray input on the page
        self._model_before_hints = None  # the model chosen before "hint network" moved the dropdown
        self.method = w.ToggleButtons(
            options=METHOD_OPTIONS, value="auto", description="Colouring", style={"button_width": "auto"}
        )
        self.method_hint = w.HTML(value="")
        sliders = {"min": 0, "max": 0, "continuous_update": False, "style": {"description_width": "initial"}}
        self.point_x = w.IntSlider(description="x (column)", **sliders)
        self.point_y = w.IntSlider(description="y (row)", **sliders)
        self.colour = w.ColorPicker(value=DEFAULT_COLOUR, description="Colour", concise=False)
        self.add_button = w.Button(description="Add point", icon="plus")
        self.undo_button = w.Button(description="Undo", icon="undo")
        self.clear_button = w.Button(description="Clear", icon="trash")
        self.points_list = w.HTML(value=points_html([]))
        self.gray_clicks = Event(source=self.gray_image, watched_events=["click"])
        self.points_area = w.VBox(
            [
                w.HTML(f"<b>Colour points</b><style>.{CLICKABLE} {{cursor: crosshair}}</style>"),
                self.method,
                self.method_hint,
                w.HBox([self.point_x, self.point_y]),
                w.HBox([self.colour, self.add_button, self.undo_button, self.clear_button]),
                self.points_list,
            ]
        )
        self.method.observe(self._on_method, names="value")
        for control in (self.point_x, self.point_y, self.colour):
            control.observe(lambda _change: self._draw_points(), names="value")
        self.gray_clicks.on_dom_event(self._on_click)
        self.add_button.on_click(self._on_add)
        self.undo_button.on_click(self._on_undo)
        self.clear_button.on_click(self._on_clear)
        self._sync_points_controls()

    def _on_method(self, change) -> None:
        """Switch the method: points need the full image; the hint network needs a model that takes them."""
        method = change["new"]
        if method != "auto":
            self.mode.value = "full"  # hint positions are the whole image's pixels
        self.mode.disabled = method != "auto"
        if method == "network":
            self._choose_hint_network()
        elif self._model_before_hints is not None:
            if self.weights.value is hint_choice(self.weights.options):  # still the one "hint network" chose
                self.weights.value = self._model_before_hints
            self._model_before_hints = None
        with self._lock:
            self.vividness.disabled = method == "levin" or self._default_for != self.weights.value
        self._sync_points_controls()
        self._draw_points()
        self._recolour()

    def _choose_hint_network(self) -> None:
        """Move the dropdown to the registered hint network unless the chosen model takes hints
        (where none is offered, colorizing says so in one line)."""
        target = hint_choice(self.weights.options)
        if target is None or takes_hints_choice(self.weights.value):
            return
        self._model_before_hints = self.weights.value
        self.weights.value = target

    def _on_click(self, event: dict) -> None:
        """A click on the gray input (an ipyevents event): a point at the clicked pixel, the sliders moved there."""
        with self._lock:  # the pixel of the image on the page, not of one a result is replacing
            if self.add_button.disabled or self._gray_preview is None:
                return  # no points now (automatic colouring, no image yet, or the paper's crop on the page)
            try:
                x, y = clicked_pixel(event, self._gray_preview[1])
            except ValueError as error:
                self._show_error(str(error))
                return
            self.point_x.value, self.point_y.value = x, y
            self.add_point(x, y)

    def _on_add(self, _button=None) -> None:
        """ "Add point": a point at the sliders' position."""
        self.add_point(self.point_x.value, self.point_y.value)

    def add_point(self, x: int, y: int) -> None:
        """Add a point at (``x``, ``y``), the image's own pixels, in the picked colour, and colorize again
        (what a click on the gray input and "Add point" do). Nothing is added while points cannot be put
        or at a position outside the image on the page; a colour that is not one is one line on the page."""
        with self._lock:
            height, width = self.loaded.size if self.loaded is not None else (0, 0)
            if self.add_button.disabled or not (0 <= x < width and 0 <= y < height):
                return
            try:
                rgb = picked_rgb(self.colour.value)
            except ValueError as error:
                self._show_error(str(error))
                return
            self.points.append({"x": int(x), "y": int(y), "rgb": rgb})
        self._points_changed()

    def _on_undo(self, _button=None) -> None:
        with self._lock:
            if self.points:
                self.points.pop()
        self._points_changed()

    def _on_clear(self, _button=None) -> None:
        with self._lock:
            self.points.clear()
        self._points_changed()

    def _points_changed(self) -> None:
        """Show the new points and colorize the image on the page again with them."""
        self.points_list.value = points_html(self.points)
        self._sync_points_controls()
        self._draw_points()
        if self.method.value != "auto":
            self._recolour()

    def _sync_points_controls(self) -> None:
        """Points can be put once an image is on the page and a method that uses them is chosen."""
        method = self.method.value
        ready = method != "auto" and self.loaded is not None
        for control in (self.point_x, self.point_y, self.colour, self.add_button):
            control.disabled = not ready
        if ready:
            self.gray_image.add_class(CLICKABLE)
        else:
            self.gray_image.remove_class(CLICKABLE)
        self.undo_button.disabled = self.clear_button.disabled = not (ready and self.points)
        text = METHOD_HINTS[method] + (f" {HOW_TO_ADD}" if method != "auto" else "")
        self.method_hint.value = f"<small style='color:#555'>{html.escape(text)}</small>"

    def _show_gray(self, source: tuple, image_hw: tuple[int, int], gray: np.ndarray, mode: str) -> None:
        """Put a result's gray input on the page; a new image starts without points, the sliders over its pixels."""
        if source is not self._shown_source:
            self._gray_preview = None  # nothing is drawn while the sliders move to the new image
            self.points.clear()
            self.points_list.value = points_html(self.points)
            height, width = image_hw
            self.point_x.max, self.point_y.max = width - 1, height - 1
            self.point_x.value, self.point_y.value = width // 2, height // 2
        self._gray_preview = (gray, image_hw) if mode == "full" else None  # the paper's crop takes no points
        if self._gray_preview is None:
            self.gray_image.value = encode_png(gray)
        else:
            self._draw_points()

    def _draw_points(self) -> None:
        """The gray input with the points and, where they are used, the cross of the next point."""
        if self._gray_preview is None:
            return
        gray, image_hw = self._gray_preview
        points, cursor = [], None
        if self.method.value != "auto":
            points = list(self.points)
            try:
                cursor = (self.point_x.value, self.point_y.value, picked_rgb(self.colour.value))
            except ValueError:  # "Add point" says why
                cursor = None
        self.gray_image.value = encode_marked(gray, points, image_hw, cursor)
