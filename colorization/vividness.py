"""Vividness: one knob for how colourful a colorization is, for both heads of the network.

``vividness = 1`` is each head's estimate of the *mean* colour, as it was trained:

regression head (the paper's network, MSE on ab)
    The output ab is the conditional mean itself; vividness ``v`` is a chroma gain,
    ``ab' = v * ab``: lightness and hue stay, chroma ``C* = sqrt(a^2 + b^2)`` is scaled.
    It is gamut-safe because rendering (:func:`colorization.colorize.render`, through
    :func:`colorization.fast.lab_lut.lab_to_srgb8`) maps a colour outside sRGB back to the
    gamut's edge by shrinking its chroma at fixed L and hue, pixel by pixel at the
    output's own lightness: a gain never changes L, never turns a hue, and never clips a
    channel on its own.
classification head (the ablation, :mod:`colorization.ablation.quantize`)
    The output is a distribution over ab bins, decoded by the annealed mean at
    temperature ``T = 1 / v``: ``v = 1`` is the plain mean of the distribution (what MSE
    regression estimates), larger ``v`` moves towards its mode (more vivid), and Zhang et
    al.'s ``T = 0.38`` is ``v = 1 / 0.38 = 2.63``.

Each shipped model has a default vividness chosen on the validation split by
:func:`colorization.evaluation.vividness.choose` and recorded in the weights registry
(:func:`colorization.weights.registered_vividness`); any other model has its head's
default (:func:`default_of`).

References
----------
Zhang, R., Isola, P. and Efros, A. A. (2016). Colorful Image Colorization. ECCV, Sec. 2.2
("annealed mean").
"""

from __future__ import annotations

import math

import numpy as np

from colorization.ablation.quantize import ANNEAL_T

AS_TRAINED = 1.0  # the mean colour: the network's output as it was trained to give it
LIMITS = (0.1, 5.0)  # beyond: the regression's colours at the gamut edge, the classification's at the mode


def check_vividness(value) -> float:
    """``value`` as a float within :data:`LIMITS`; ValueError (one line, what to do) otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"vividness must be a number, got {value!r}") from None
    low, high = LIMITS
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"vividness must be between {low:g} and {high:g} (1 = the network as trained), got {value!r}")
    return number


def default_of(model) -> float:
    """The vividness ``model`` is used at when none is given.

    A shipped model's registered default (:func:`colorization.weights.load_weights` sets
    ``model.default_vividness``); otherwise the head's own: 1 for the regression head (the
    network as trained), ``1 / 0.38`` for the classification head (Zhang et al.'s temperature).
    """
    registered = getattr(model, "default_vividness", None)
    if registered is not None:
        return float(registered)
    return AS_TRAINED if model.output_shape[-1] == 2 else 1.0 / ANNEAL_T


def temperature(vividness: float) -> float:
    """The annealed-mean temperature of the classification head at ``vividness``: ``1 / v``."""
    return 1.0 / check_vividness(vividness)


def chroma_gain(ab: np.ndarray, vividness: float) -> np.ndarray:
    """The regression head's ab at ``vividness``: chroma scaled, hue kept (float32, same shape).

    Out-of-gamut results are brought back at fixed L and hue when rendered (module doc).
    """
    vividness = check_vividness(vividness)
    ab = np.asarray(ab, dtype=np.float32)
    return ab if vividness == AS_TRAINED else ab * np.float32(vividness)
