"""Colorizing with a user's colour points (semi-automatic; beyond the paper).

The paper sorts colorization methods into automatic, semi-automatic and manual and cites
Levin et al.'s optimization as the semi-automatic reference before choosing a fully
automatic CNN. The package offers both semi-automatic routes on the same image path as
:func:`colorization.colorize.colorize` (the whole image resized to the 256x256 view, ab
predicted there, upsampled and joined with the photo's own full-resolution L):

``"network"``  the hint network (``load_weights(name="hints")``): the paper's network with
               three more input channels (hint a, hint b, mask), trained on simulated points
               (:mod:`colorization.training.hints`); no hints: it colorizes automatically.
``"levin"``    Levin, Lischinski and Weiss (2004), training-free (:mod:`colorization.hints.levin`);
               no model needed; no hints: gray.

Hints are positions in the input image's own pixels with a colour (:mod:`colorization.hints.points`)::

    import colorization as cz
    model = cz.load_weights(name="hints")
    result = cz.colorize(model, "dress.jpg", hints=[{"x": 120, "y": 48, "rgb": [200, 30, 30]}])
    levin = cz.colorize(None, "dress.jpg", hints="hints.json", method="levin")
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorization.colorize import Colorized, network_view, predict_ab, render
from colorization.hints.points import Hint, hint_planes, load_hints, parse_hints
from colorization.io.images import LoadedImage

METHODS = ("network", "levin")
DEFAULT_METHOD = "network"


def as_hints(hints, shape: tuple[int, int]) -> list[Hint]:
    """``hints`` as a checked list of :class:`~colorization.hints.points.Hint` for an image of
    ``shape`` (height, width): a JSON file's path, a list of dicts as in the file, or of Hints
    (every route through the one validator, :func:`~colorization.hints.points.parse_hints`)."""
    if hints is None:
        return []
    if isinstance(hints, (str, Path)):
        return load_hints(hints, shape)
    return parse_hints(list(hints), shape, source="hints")


def colorize_guided(
    model, image: LoadedImage, hints, method: str = DEFAULT_METHOD, vividness: float | None = None
) -> Colorized:
    """Colorize ``image`` with colour points, by the hint network or Levin et al.'s optimization.

    Parameters
    ----------
    model : keras.Model or None
        The hint network for ``method="network"`` (any other network refuses hints);
        ignored by ``"levin"``.
    image : LoadedImage
    hints : path, list of dicts or list of Hint
        See :func:`as_hints`; positions in ``image``'s own pixels.
    method : {"network", "levin"}
    vividness : float, optional
        The network's (:func:`colorization.colorize.predict_ab`); Levin et al. has none.

    Returns
    -------
    Colorized
        The image's own size and lightness, ab from the chosen method.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    points = as_hints(hints, image.rgb.shape[:2])
    if method == "levin":
        from colorization.hints.levin import levin_ab_for_image  # scipy's sparse solver: imported when used

        ab = levin_ab_for_image(image.rgb, points)
    else:
        if model is None:
            raise ValueError("method 'network' needs the hint network: load_weights(name='hints')")
        view = network_view(image.rgb, "full")
        planes = hint_planes(points, image.rgb.shape[:2], view.shape[0])
        ab = predict_ab(model, view[None], vividness, planes[None])[0]
    return Colorized(render(image.rgb, np.asarray(ab, np.float32)), image.alpha)
