"""What is evaluated: a *method* maps a batch of 256x256 network views to ab.

A method is any object with

* ``name`` - a short label (the ``method`` column of every result table);
* ``predict_ab(views)`` - ``views`` uint8 sRGB of shape (N, S, S, 3), the images as
  the network sees them; returns ab in Lab units, float32 of shape (N, S, S, 2);
* optionally ``describe() -> dict`` - what the summary JSON records about it.

The runner (:mod:`colorization.evaluation.runner`) joins each image's own L with
the predicted ab and scores the result, so the paper's network, the two baselines
below and any later model (e.g. a classification head decoding a colour
distribution to ab) are evaluated by the same code: wrap it in an object with these
two members and pass it in ``methods``.

Baselines
---------
``gray`` (:class:`GrayMethod`)
    ab = 0: the output is the input's lightness only (Zhang et al. 2016's "Gray").
``mean_ab`` (:class:`ConstantAbMethod` with :func:`mean_ab`)
    One constant (a, b) for every pixel: the mean over all pixels of the training
    split. What an MSE regression that ignores the image would predict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from colorization.lab import rgb_to_lab

_COLOURS = 1 << 24  # distinct 8-bit sRGB colours


@runtime_checkable
class Method(Protocol):
    """Anything that predicts ab for a batch of uint8 network views (see module doc)."""

    name: str

    def predict_ab(self, views: np.ndarray) -> np.ndarray: ...


def _check_views(views) -> np.ndarray:
    views = np.asarray(views)
    if views.ndim != 4 or views.shape[-1] != 3 or views.dtype != np.uint8:
        raise ValueError(f"views must be uint8 of shape (N, S, S, 3), got {views.dtype} {views.shape}")
    return views


@dataclass
class ModelMethod:
    """A Keras model of the paper's kind (input scaled L, output ab / 128, or ab-bin probabilities).

    ``vividness`` (:mod:`colorization.vividness`): the value its ab are decoded at; None
    is the model's own default. ``info`` is recorded in the summary (e.g. the weights file
    and its sha256).
    """

    model: object
    name: str = "model"
    info: dict = field(default_factory=dict)
    vividness: float | None = None

    @property
    def used_vividness(self) -> float:
        """The vividness this method decodes at."""
        from colorization.vividness import check_vividness, default_of

        return check_vividness(default_of(self.model) if self.vividness is None else self.vividness)

    def predict_ab(self, views: np.ndarray) -> np.ndarray:
        from colorization.colorize import predict_ab

        return predict_ab(self.model, _check_views(views), self.used_vividness)

    def describe(self) -> dict:
        from colorization.vividness import default_of

        return {
            "kind": "keras model",
            "vividness": self.used_vividness,
            "default_vividness": default_of(self.model),
            **self.info,
        }


@dataclass
class GrayMethod:
    """Baseline: ab = 0 everywhere, i.e. the input's own lightness as a gray image."""

    name: str = "gray"

    def predict_ab(self, views: np.ndarray) -> np.ndarray:
        views = _check_views(views)
        return np.zeros((*views.shape[:3], 2), dtype=np.float32)

    def describe(self) -> dict:
        return {"kind": "baseline", "ab": [0.0, 0.0]}


@dataclass
class ConstantAbMethod:
    """Baseline: one constant (a, b) for every pixel of every image."""

    ab: tuple[float, float]
    name: str = "mean_ab"
    info: dict = field(default_factory=dict)

    def predict_ab(self, views: np.ndarray) -> np.ndarray:
        views = _check_views(views)
        out = np.empty((*views.shape[:3], 2), dtype=np.float32)
        out[...] = np.asarray(self.ab, dtype=np.float32)
        return out

    def describe(self) -> dict:
        return {"kind": "baseline", "ab": [float(self.ab[0]), float(self.ab[1])], **self.info}


@dataclass(frozen=True)
class MeanAb:
    """The mean chroma of a set of images: ``a``, ``b`` (Lab units) over ``pixels`` pixels."""

    a: float
    b: float
    images: int
    pixels: int

    @property
    def ab(self) -> tuple[float, float]:
        return (self.a, self.b)

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "images": self.images, "pixels": self.pixels}


def mean_ab(images, *, split: str | None = "train", chunk_pixels: int = 1 << 24, progress: bool = False) -> MeanAb:
    """Mean a and b over every pixel of a set of uint8 sRGB images.

    Parameters
    ----------
    images : ImageCache or ndarray
        A :class:`~colorization.data.cache.ImageCache` (its decodable images of
        ``split``; ``split=None`` for all), or a uint8 array (N, H, W, 3) (all of it).
    chunk_pixels : int
        Pixels read at a time (memory: 4 bytes each, plus a fixed 128 MiB histogram).

    Notes
    -----
    Exact and fast: the pixels are first counted per 8-bit colour (a histogram over
    the 2**24 sRGB colours), then only the colours that occur are converted to Lab
    (:func:`colorization.lab.rgb_to_lab`) and averaged with their counts. This is the
    same number as converting every pixel, at a fraction of the cost.
    """
    from colorization.data.cache import ImageCache

    if isinstance(images, ImageCache):
        array, rows = images.images, images.rows(split)
    else:
        array = np.asarray(images)
        rows = np.arange(len(array))
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(f"images must be uint8 of shape (N, H, W, 3), got {array.dtype} {array.shape}")
    if len(rows) == 0:
        raise ValueError("no images to average (empty set or split)")
    rows = np.sort(rows)
    per_chunk = max(1, chunk_pixels // max(1, array.shape[1] * array.shape[2]))
    counts = np.zeros(_COLOURS, dtype=np.int64)
    starts = range(0, len(rows), per_chunk)
    if progress:
        import sys

        from tqdm import tqdm

        starts = tqdm(starts, desc="mean ab", unit="chunk", file=sys.stderr)
    for start in starts:
        block = np.asarray(array[rows[start : start + per_chunk]])
        codes = block[..., 0].astype(np.uint32) << 16
        codes |= block[..., 1].astype(np.uint32) << 8
        codes |= block[..., 2]
        counts += np.bincount(codes.ravel(), minlength=_COLOURS)
    colours = np.flatnonzero(counts)
    rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=-1).astype(np.uint8)
    lab = rgb_to_lab(rgb[None])[0].astype(np.float64)
    weights = counts[colours].astype(np.float64)
    total = int(counts.sum())
    return MeanAb(
        a=float(weights @ lab[:, 1] / total), b=float(weights @ lab[:, 2] / total), images=int(len(rows)), pixels=total
    )


def baselines(mean: MeanAb | tuple[float, float]) -> list:
    """The two baselines: ``gray`` and ``mean_ab`` (with ``mean``'s constant)."""
    if isinstance(mean, MeanAb):
        constant = ConstantAbMethod(mean.ab, info={"computed_from": mean.as_dict()})
    else:
        constant = ConstantAbMethod((float(mean[0]), float(mean[1])), info={"computed_from": "given"})
    return [GrayMethod(), constant]
