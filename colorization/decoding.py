"""The network's raw output and its decoding to ab (Lab units), at a vividness.

:func:`raw_predictions` runs a network on a batch of 256x256 views (:func:`colorization.colorize.network_input`)
and gives :class:`RawPrediction` parts: ab for the regression head (the paper), bin probabilities for the
classification ablation (taken before its last upsampling where that gives the same pixels:
:func:`bins_before_upsampling`). :func:`decode` turns one into ab at a vividness
(:mod:`colorization.vividness`); :func:`decode_many` at several, for the evaluation's sweep.
:func:`colorization.colorize.predict_ab` is the two in one call.
"""

from __future__ import annotations

import sys
import weakref
from dataclasses import dataclass

import numpy as np

from colorization import lab
from colorization import vividness as vividness_module
from colorization.keras_lock import KERAS_LOCK


class NonFinitePrediction(ValueError):
    """The network's output holds NaN or infinity: nothing is written from it."""


CLASSIFICATION_BATCH = 4  # bin probabilities take Q / 2 times the memory of ab


@dataclass
class RawPrediction:
    """The network's output for some views, before decoding to ab.

    ``values``: ab in Lab units (regression head, (n, S, S, 2)) or the bin probabilities
    (classification head, (n, S / repeat, S / repeat, Q)). Decoded by :func:`decode`, once or at several
    vividness values (the evaluation's sweep predicts once and decodes many times). ``repeat``: the
    nearest-neighbour upsampling still to apply after decoding (:func:`bins_before_upsampling`).
    """

    values: np.ndarray
    classification: bool
    repeat: int = 1


_BINS_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its sub-model without up3


def bins_before_upsampling(model):
    """The classification network without its last layer when that layer is the nearest-neighbour x2
    upsampling ``up3`` (the shipped models): the bin probabilities at half the side; else None.

    The annealed mean is computed per pixel and ``up3`` copies each pixel into a 2x2 block, so decoding
    before the upsampling and repeating the ab gives the same pixels for a quarter of the work and
    memory (notebook 03's classification sweep decoded ~1 s per image on one core at full size).
    Other models (bilinear upsampling, exported runtimes) give None and are decoded at full size.
    """
    keras = sys.modules.get("keras")  # not imported: not a Keras model (an export, run without Keras)
    if keras is None or not isinstance(model, keras.Model):
        return None
    with KERAS_LOCK:  # built once, even when two threads decode with the same model
        if model not in _BINS_HEADS:
            last = model.layers[-1]
            nearest = isinstance(last, keras.layers.UpSampling2D) and tuple(last.size) == (2, 2)
            nearest = nearest and last.interpolation == "nearest"
            head = keras.Model(model.inputs, model.layers[-2].output, name="bins_before_up3") if nearest else None
            _BINS_HEADS[model] = head
        return _BINS_HEADS[model]


def raw_predictions(model, rgb256: np.ndarray, hints: np.ndarray | None = None):
    """The network's outputs for a batch of views, in order: an iterator of :class:`RawPrediction`.

    The classification head's probabilities come :data:`CLASSIFICATION_BATCH` views at a time, before
    the last upsampling where :func:`bins_before_upsampling` allows. ``hints``: as :func:`predict_ab`.
    """
    from colorization.colorize import network_input  # the front door's; it imports this module

    channels = tuple(model.input_shape)[-1]
    if hints is not None and channels == 1:
        raise ValueError("this network takes no colour hints: use the hint network (load_weights(name='hints'))")
    if model.output_shape[-1] == 2:
        scaled = _predict(model, network_input(rgb256, hints, channels))
        yield RawPrediction(lab.unscale_ab(scaled), classification=False)
        return
    head = bins_before_upsampling(model)
    for start in range(0, len(rgb256), CLASSIFICATION_BATCH):
        part = slice(start, start + CLASSIFICATION_BATCH)
        inputs = network_input(rgb256[part], None if hints is None else hints[part], channels)
        probs = _predict(model if head is None else head, inputs)
        yield RawPrediction(probs, classification=True, repeat=1 if head is None else 2)


def _predict(model, inputs: np.ndarray) -> np.ndarray:
    """``model.predict_on_batch(inputs)`` as float32, one thread at a time (Keras makes its predict
    function on the first call and a model is not safe to run from two threads: :data:`KERAS_LOCK`)."""
    with KERAS_LOCK:
        return np.asarray(model.predict_on_batch(inputs), dtype=np.float32)


def decode(prediction: RawPrediction, vividness: float = vividness_module.AS_TRAINED) -> np.ndarray:
    """ab (Lab units, float32) from a :class:`RawPrediction` at ``vividness``.

    Raises :class:`NonFinitePrediction` when any value is NaN or infinite.
    """
    return decode_many(prediction, (vividness,))[0]


def decode_many(prediction: RawPrediction, values) -> list[np.ndarray]:
    """:func:`decode` at each vividness of ``values`` (the classification head shares ``log z``)."""
    if prediction.classification:
        from colorization.ablation.quantize import annealed_means

        temperatures = [vividness_module.temperature(value) for value in values]
        decoded = annealed_means(prediction.values, temperatures)
        if prediction.repeat > 1:  # the nearest-neighbour upsampling left out before decoding
            decoded = [ab.repeat(prediction.repeat, axis=-3).repeat(prediction.repeat, axis=-2) for ab in decoded]
    else:
        decoded = [vividness_module.chroma_gain(prediction.values, value) for value in values]
    for ab in decoded:
        if not np.isfinite(ab).all():  # finite weights can still overflow (float16 activations, a diverged model)
            raise NonFinitePrediction(f"the network predicted {int((~np.isfinite(ab)).sum())} non-finite ab values")
    return decoded
