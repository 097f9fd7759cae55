"""Colorizing a user's image with a trained network.

Two modes:

``"full"`` (the package's default, beyond the paper)
    The whole image is resized to 256x256, the network predicts ab there, ab is
    scaled back up to the image's own size (bilinear) and joined with the image's
    *own full-resolution* L. The output has the input's size and exactly its
    lightness (that of the photo as displayed: :func:`colorization.io.images.load_image`
    converts an embedded ICC profile to sRGB first); only the colour comes from the network.
``"paper"``
    As the paper's app: shorter side to 256, centre crop, predict, return the
    256x256 square (docs/paper.md, "Input handling at inference").

The data path is: image -> 256x256 sRGB (uint8) -> L (:func:`colorization.fast.lab_lut.lightness`)
-> scaled L -> network -> ab / 128 -> ab (at a vividness: :mod:`colorization.vividness`) -> Lab -> sRGB.

Memory follows the rule of :mod:`colorization.io.images`; a batch holds its images (and, from
:func:`colorize_batch`, their results) at once: callers keep its pixels within that budget (:func:`pixel_batches`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization import lab
from colorization import vividness as vividness_module
from colorization.decoding import decode, raw_predictions
from colorization.fast import lab_lut, recombine
from colorization.fast.png import write_png
from colorization.fast.recombine import neutral_gray as neutral_gray  # re-exported: the package's name for it
from colorization.io.images import MAX_PIXELS, LoadedImage, as_loaded, load_image, to_uint8
from colorization.io.preprocess import MODES as MODES  # re-exported with network_view: the package's names
from colorization.io.preprocess import PAPER_SIZE, check_mode, network_view, paper_crop


@dataclass
class Colorized:
    """A colorization: ``rgb`` (H, W, 3) uint8 and the source's ``alpha`` (or None)."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None


def network_input(rgb256: np.ndarray, hints: np.ndarray | None = None, channels: int = 1) -> np.ndarray:
    """(N, S, S, 3) uint8 sRGB -> (N, S, S, 1) float32 network input (scaled L).

    ``channels`` 4 (the hint network): scaled L, hint a / 128, hint b / 128 and the mask,
    from ``hints`` (N, S, S, 3) = (a, b, mask) in Lab units (:func:`colorization.hints.points.hint_planes`;
    None: no hints, zeros).
    """
    lightness = lab.scale_l(lab_lut.lightness(rgb256))[..., None].astype(np.float32)
    if channels == 1:
        return lightness
    planes = np.zeros(lightness.shape[:3] + (3,), np.float32) if hints is None else np.asarray(hints, np.float32)
    return np.concatenate([lightness, lab.scale_ab(planes[..., :2]), planes[..., 2:]], axis=-1)


def predict_ab(
    model, rgb256: np.ndarray, vividness: float | None = None, hints: np.ndarray | None = None
) -> np.ndarray:
    """Predict ab (Lab units) for a batch of network views.

    Parameters
    ----------
    model : keras.Model
        The paper's network (input scaled L, output ab / 128), or its classification
        ablation (output: probabilities of the quantized ab bins, see
        :mod:`colorization.ablation.quantize`), decoded here with the annealed mean.
    rgb256 : ndarray, shape (N, S, S, 3), uint8
    vividness : float, optional
        How colourful (:mod:`colorization.vividness`): a chroma gain for the regression
        head, ``1 / temperature`` for the classification head; default: the model's own
        (:func:`colorization.vividness.default_of`).
    hints : ndarray (N, S, S, 3), optional
        Colour points for the hint network (:func:`network_input`); refused by the others.

    Returns
    -------
    ndarray, shape (N, S, S, 2), float32

    Raises
    ------
    colorization.decoding.NonFinitePrediction
        When any predicted value is NaN or infinite (a black image is never returned as a result).
    """
    rgb256 = np.asarray(rgb256)
    if rgb256.ndim != 4 or rgb256.shape[-1] != 3:
        raise ValueError(f"expected a batch of shape (N, S, S, 3), got {rgb256.shape}")
    vividness = vividness_module.default_of(model) if vividness is None else vividness
    vividness = vividness_module.check_vividness(vividness)
    parts = [decode(prediction, vividness) for prediction in raw_predictions(model, rgb256, hints)]
    return np.concatenate(parts) if parts else np.zeros(rgb256.shape[:3] + (2,), np.float32)


def render(rgb: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Join the lightness of ``rgb`` (any size) with ``ab`` scaled to its size: (H, W, 3) uint8 sRGB.

    The one way the package turns predicted chroma into a picture (the CLI, the app,
    evaluation and the figures all call it): :func:`colorization.fast.recombine.render`
    (an all-zero ``ab`` gives the exactly neutral image, :func:`neutral_gray`);
    :meth:`Prediction.save_png` writes the same pixels band by band.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8 or uint16
        The image whose L is kept exactly.
    ab : ndarray, shape (h, w, 2)
        Predicted chroma, at any resolution.
    """
    return recombine.render(rgb, ab)


@dataclass
class Prediction:
    """An image's predicted chroma, before rendering (:func:`predict_batch`).

    ``rgb``: the pixels whose L the result keeps (the image; in paper mode its 256x256 crop),
    ``ab``: the network's ab for them, ``alpha``: the source's opacity (cropped alike) or None.
    """

    rgb: np.ndarray
    ab: np.ndarray
    alpha: np.ndarray | None = None

    def colorized(self) -> Colorized:
        """The result, whole, in memory (:func:`render`)."""
        return Colorized(render(self.rgb, self.ab), self.alpha)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the result (RGB, or RGBA with the alpha), as :meth:`colorized` has them."""
        band = recombine.render_rows(self.rgb, self.ab, start, stop)
        return band if self.alpha is None else np.dstack([band, to_uint8(self.alpha[start:stop])])

    def save_png(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the result as a PNG atomically, band by band (:func:`colorization.fast.png.write_png`): a few
        bands are held, never the whole result, while rendering, filtering and deflating overlap on all cores."""
        return write_png(path, self.rows, self.rgb.shape[:2] + (3 if self.alpha is None else 4,), overwrite)


def predict_batch(
    model, images: list[LoadedImage], mode: str = "full", vividness: float | None = None
) -> list[Prediction]:
    """Predict the chroma of several images with one network call (``vividness``: as :func:`predict_ab`)."""
    check_mode(mode)
    if not images:
        return []
    views = np.stack([network_view(image.rgb, mode) for image in images])
    ab = predict_ab(model, views, vividness)
    if mode == "paper":
        crops = [None if image.alpha is None else paper_crop(image.alpha, PAPER_SIZE) for image in images]
        return [Prediction(*parts) for parts in zip(views, ab, crops, strict=True)]
    return [Prediction(image.rgb, ab_one, image.alpha) for image, ab_one in zip(images, ab, strict=True)]


def colorize_batch(
    model, images: list[LoadedImage], mode: str = "full", vividness: float | None = None
) -> list[Colorized]:
    """Colorize several images with one network call (:func:`predict_batch`, then :meth:`Prediction.colorized`)."""
    return [prediction.colorized() for prediction in predict_batch(model, images, mode, vividness)]


def pixel_batches(pixel_counts: list[int], max_images: int, max_pixels: int = MAX_PIXELS) -> list[list[int]]:
    """Split items, in order, into batches of at most ``max_images`` whose pixels add up to at most ``max_pixels``.

    An item that alone exceeds ``max_pixels`` (the loader refuses it) gets a batch of its own.

    Returns
    -------
    list of lists of indices into ``pixel_counts``.

    Examples
    --------
    >>> pixel_batches([150, 100, 10, 10, 300], max_images=8, max_pixels=200)
    [[0], [1, 2, 3], [4]]
    """
    batches: list[list[int]] = []
    total = max_pixels + 1  # no open batch yet
    for index, pixels in enumerate(pixel_counts):
        if total + pixels > max_pixels or len(batches[-1]) >= max_images:
            batches.append([])
            total = 0
        batches[-1].append(index)
        total += pixels
    return batches


def colorize(
    model,
    image: LoadedImage | np.ndarray | str | Path,
    mode: str = "full",
    vividness: float | None = None,
    hints=None,
    method: str | None = None,
) -> Colorized:
    """Colorize one image: a file path, a :class:`LoadedImage`, or an RGB / grayscale array.

    ``vividness`` (:mod:`colorization.vividness`): 1 is the network's mean colour, more is
    more colourful; default: the model's own (for a shipped model, its registered default).
    ``hints`` (colour points: a JSON file, or a list like it) and ``method`` (``"network"``:
    the hint network; ``"levin"``: Levin et al., no model): :mod:`colorization.guided`.

    Examples
    --------
    >>> import colorization as cz
    >>> model = cz.load_weights()                      # the shipped reference network
    >>> result = cz.colorize(model, "photo.jpg")       # full resolution, the photo's own L
    >>> cz.save_png("photo-colour.png", result.rgb, result.alpha)
    >>> vivid = cz.colorize(model, "photo.jpg", vividness=1.5)
    """
    if isinstance(image, (str, Path)):
        image = load_image(image)
    elif not isinstance(image, LoadedImage):
        image = as_loaded(image)
    if hints is None and method is None:
        return colorize_batch(model, [image], mode, vividness)[0]
    from colorization.guided import DEFAULT_METHOD, colorize_guided

    if mode != "full":
        raise ValueError("colour hints need mode 'full' (hint positions are the whole image's pixels)")
    return colorize_guided(model, image, hints, method or DEFAULT_METHOD, vividness)
