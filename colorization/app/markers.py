"""Where the page's colour points are and how they look: a click on the gray preview as an image pixel,
an image pixel on the preview, the markers drawn there, the picked colour, the list of points.

Positions are in the image's own pixels (x: the column, y: the row, from the top-left corner), as a
hints file gives them (:mod:`colorization.hints.points`). One rule moves a pixel from one grid to a
scaled copy of it, whichever way: its centre, scaled, floored, kept inside
(:func:`colorization.hints.points.view_patch`, the rule that puts a hint on the network's view).
:func:`preview_position` puts an image pixel on the preview, where its marker goes; :func:`clicked_pixel`
puts the pixel a click hit on the preview, as the browser shows it, back on the image.
"""

from __future__ import annotations

import math

import numpy as np

from colorization.fast.png import encode_png
from colorization.hints.points import Hint, view_patch

#: the one line for a click whose event carries no usable position (the sliders still place points)
NO_CLICK_POSITION = "that click carried no position on the gray input; click again, or use the x and y sliders"
#: what ipyevents reports of a click on the gray input (:func:`clicked_pixel`)
CLICK_FIELDS = ("relativeX", "relativeY", "boundingRectWidth", "boundingRectHeight")


def picked_rgb(value: str) -> list[int]:
    """The colour picker's value (``#rrggbb``, ``#rgb``, ``rgb(...)`` or a CSS colour name) as ``[r, g, b]``, 0..255.

    Raises
    ------
    ValueError
        One line, for a value that is not a colour.
    """
    from PIL import ImageColor

    try:
        return [int(channel) for channel in ImageColor.getrgb(str(value).strip())[:3]]
    except ValueError:
        raise ValueError(
            f"the colour {value!r} cannot be a point's colour; pick an opaque colour (#rrggbb) with the colour picker"
        ) from None


def preview_position(x: float, y: float, image_hw: tuple, preview_hw: tuple) -> tuple[int, int]:
    """(row, column) on a ``preview_hw`` preview of the pixel (``x``, ``y``) of an ``image_hw`` image
    (the rule that puts a hint on the network's view: :func:`colorization.hints.points.view_patch`)."""
    rows, columns = view_patch(Hint(x, y, (0.0, 0.0), 0), image_hw, preview_hw)
    return rows.start, columns.start


def clicked_pixel(event: dict, image_hw: tuple[int, int]) -> tuple[int, int]:
    """The pixel (x, y) of an ``image_hw`` image that a click on its preview hit, always inside the image.

    Parameters
    ----------
    event : dict
        An ipyevents click on the gray input (:data:`CLICK_FIELDS`): ``relativeX``, ``relativeY``, the
        pointer's position from the preview's top-left corner, and ``boundingRectWidth``,
        ``boundingRectHeight``, the size the browser shows the preview at, all in CSS pixels. The shown
        size is what counts, however the page has shrunk the preview or the preview the image.
    image_hw : (int, int)
        The image's own height and width.

    Raises
    ------
    ValueError
        :data:`NO_CLICK_POSITION`, for an event without those four numbers or a preview shown at no size.
    """
    try:
        x, y, shown_w, shown_h = (float(event[field]) for field in CLICK_FIELDS)
    except (KeyError, TypeError, ValueError):
        raise ValueError(NO_CLICK_POSITION) from None
    if not all(math.isfinite(value) for value in (x, y, shown_w, shown_h)) or min(shown_w, shown_h) <= 0:
        raise ValueError(NO_CLICK_POSITION)
    row, column = preview_position(max(0.0, x), max(0.0, y), (shown_h, shown_w), image_hw)
    return column, row


def marked_preview(gray: np.ndarray, points: list[dict], image_hw: tuple[int, int], cursor=None) -> np.ndarray:
    """``gray`` (the preview, uint8 RGB) with a ringed disc in each point's colour and, if ``cursor`` is
    ``(x, y, rgb)``, a cross with an open centre where the next point goes; positions in the image's own pixels."""
    canvas = np.array(gray, dtype=np.uint8)
    radius = max(3, round(max(canvas.shape[:2]) / 100))
    for point in points:
        centre = preview_position(point["x"], point["y"], image_hw, canvas.shape[:2])
        for grow, rgb in ((2, (255, 255, 255)), (1, (0, 0, 0)), (0, point["rgb"])):
            _paint(canvas, centre, radius + grow, rgb, lambda dy, dx, r: dy**2 + dx**2 <= r**2)
    if cursor is not None:
        centre = preview_position(cursor[0], cursor[1], image_hw, canvas.shape[:2])
        for half, rgb in ((1, (0, 0, 0)), (0, cursor[2])):
            _paint(canvas, centre, 3 * radius, rgb, _cross(half, gap=radius + 3 - half))
    return canvas


def _cross(half: int, gap: int):
    """The mask of a cross whose arms are ``2 half + 1`` pixels wide, open within ``gap`` of its centre."""

    def mask(dy, dx, reach):
        arms = ((np.abs(dy) <= half) & (np.abs(dx) <= reach)) | ((np.abs(dx) <= half) & (np.abs(dy) <= reach))
        return arms & (np.maximum(np.abs(dy), np.abs(dx)) > gap)

    return mask


def _paint(canvas: np.ndarray, centre: tuple[int, int], reach: int, rgb, shape) -> None:
    """Paint ``rgb`` on ``canvas`` where ``shape(dy, dx, reach)`` holds, within ``reach`` of ``centre`` (row, col)."""
    row, column = centre
    top, left = max(0, row - reach), max(0, column - reach)
    window = canvas[top : row + reach + 1, left : column + reach + 1]
    dy, dx = np.ogrid[top - row : top - row + window.shape[0], left - column : left - column + window.shape[1]]
    window[shape(dy, dx, reach)] = rgb


def encode_marked(gray: np.ndarray, points: list[dict], image_hw: tuple[int, int], cursor=None) -> bytes:
    """:func:`marked_preview` as the PNG the gray panel shows."""
    return encode_png(marked_preview(gray, points, image_hw, cursor))


def points_html(points: list[dict]) -> str:
    """The points as the page lists them: number, position (x, y) and a swatch of the colour."""
    if not points:
        return "<small style='color:#555'>No points yet.</small>"
    items = "".join(_point_item(point) for point in points)
    return f"<ol class='colorization-points' style='margin:0;max-height:9em;overflow:auto'>{items}</ol>"


def _point_item(point: dict) -> str:
    r, g, b = point["rgb"]
    swatch = (
        "<span style='display:inline-block;width:1.2em;height:0.9em;vertical-align:middle;"
        f"border:1px solid #333;background:rgb({r},{g},{b})'></span>"
    )
    return f"<li>({point['x']}, {point['y']}) {swatch} #{r:02x}{g:02x}{b:02x}</li>"
