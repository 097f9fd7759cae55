"""The paper's network, layer for layer (docs/paper.md, "Network (exact)").

Input: L of a 256x256 image, scaled to [-1, 1]. Output: ab / 128 (tanh).
Every convolution is 3x3, "same" zero padding, ReLU except the last (tanh).
Downsampling by stride-2 convolutions (no pooling); upsampling by a factor of 2.

=====  ================  =======  ======  =================
paper  layer             filters  stride  Keras layer name
=====  ================  =======  ======  =================
1      conv              64       1       conv1
2      conv              64       2       conv2_down
3      conv              128      1       conv3
4      conv              128      2       conv4_down
5      conv              256      1       conv5
6      conv              256      2       conv6_down
7      conv              512      1       conv7
8      conv              256      1       conv8
9      conv              128      1       conv9
10     upsample x2                        up1
11     conv              64       1       conv10
12     upsample x2                        up2
13     conv              32       1       conv11
14     conv (tanh)       2        1       conv12_ab
15     upsample x2                        up3
=====  ================  =======  ======  =================

3,892,194 trainable parameters. The paper's text speaks of "13 convolutional
layers"; its table (above) has 12 - we follow the table. It says the design is
"based on VGG16" (3x3 convolutions, depth) but there are no fully connected layers
and no pretrained weights, and none are used here.

Ablation (not the paper): ``head="classification"`` replaces layer 14 by
``conv12_bins``, a convolution with one filter per quantized ab bin
(:mod:`colorization.ablation.quantize`, Q = 261) and a softmax over the bins, as Zhang et al.
(ECCV 2016); ``up3`` then upsamples the bin probabilities. Every other layer, name and
size is the same (3,967,045 parameters: 75,429 in the head instead of 578).
:func:`head_of` tells a loaded model's head from its layer names, and
:func:`colorization.colorize.predict_ab` decodes the probabilities with the annealed
mean, so every user of the models handles both.

Hints (not the paper): ``hints=True`` gives the first layer three more input channels,
(hint a / 128, hint b / 128, mask), as Zhang et al.'s user-guided network (SIGGRAPH 2017);
every other layer is the paper's (3,893,922 parameters: 1,728 more in ``conv1``). Its input is
``L_hints``; :func:`takes_hints` tells a loaded model, :mod:`colorization.training.hints`
simulates the users it is trained with, and with all-zero hint channels it colorizes
automatically.

Not stated by the paper, our documented choice: the upsampling interpolation
(``UPSAMPLING = "nearest"``, Keras' default, a parameter of :func:`build_paper_model`).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from colorization.keras_lock import KERAS_LOCK

# (name, filters, stride) for convolutions; (name, None, None) for the x2 upsamplings.
PAPER_LAYERS = (
    ("conv1", 64, 1),
    ("conv2_down", 64, 2),
    ("conv3", 128, 1),
    ("conv4_down", 128, 2),
    ("conv5", 256, 1),
    ("conv6_down", 256, 2),
    ("conv7", 512, 1),
    ("conv8", 256, 1),
    ("conv9", 128, 1),
    ("up1", None, None),
    ("conv10", 64, 1),
    ("up2", None, None),
    ("conv11", 32, 1),
    ("conv12_ab", 2, 1),
    ("up3", None, None),
)
PAPER_INPUT_SIZE = 256
PAPER_PARAMETER_COUNT = 3_892_194
UPSAMPLING = "nearest"  # our choice; the paper does not name the interpolation
HEADS = ("regression", "classification")
HEAD_LAYER = {"regression": "conv12_ab", "classification": "conv12_bins"}
HINT_INPUT_CHANNELS = 4  # scaled L, hint a / 128, hint b / 128, mask (hints=True)


def build_paper_model(
    input_size: int | None = PAPER_INPUT_SIZE,
    upsampling: str = UPSAMPLING,
    dtype_policy: str | None = None,
    head: str = "regression",
    bins: int | None = None,
    hints: bool = False,
) -> keras.Model:
    """Build the paper's colorization network.

    Parameters
    ----------
    input_size : int or None
        Side of the square input; 256 in the paper. ``None`` makes a fully
        convolutional model for any size divisible by 8.
    upsampling : {"nearest", "bilinear"}
        Interpolation of the three x2 upsampling layers (not stated by the paper).
    dtype_policy : str, optional
        Keras dtype policy for the hidden layers, e.g. ``"mixed_bfloat16"``.
        The output layer always computes in float32.
    head : {"regression", "classification"}
        ``regression`` (the paper): layer 14 has 2 filters and tanh, the output is
        ab / 128. ``classification`` (the ablation): layer 14 is ``conv12_bins`` with
        ``bins`` filters and a softmax, the output is the probability of each ab bin.
    bins : int, optional
        Number of bins of the classification head (default
        :data:`colorization.ablation.quantize.NUM_BINS`, 261).
    hints : bool
        Three more input channels after L: hint a / 128, hint b / 128 and their mask
        (the user-guided network; not the paper).

    Returns
    -------
    keras.Model
        Maps L scaled to [-1, 1], shape (batch, H, W, 1) (with ``hints``: (batch, H, W, 4)),
        to ab / 128, shape (batch, H, W, 2), or to bin probabilities (batch, H, W, bins).
    """
    bins = _check_options(upsampling, head, bins)
    channels, name = (HINT_INPUT_CHANNELS, "L_hints") if hints else (1, "L")
    inputs = keras.Input(shape=(input_size, input_size, channels), name=name)
    x = inputs
    in_float32 = False  # conv12_ab (tanh) and the upsampling after it stay float32
    for name, filters, stride in PAPER_LAYERS:
        in_float32 = in_float32 or name == "conv12_ab"
        x = _paper_layer(name, filters, stride, upsampling, head, bins, "float32" if in_float32 else dtype_policy)(x)
    return keras.Model(inputs, x, name="paper_colorization")


def _check_options(upsampling: str, head: str, bins: int | None) -> int | None:
    """Validate :func:`build_paper_model`'s options; the classification head's bin count."""
    if upsampling not in ("nearest", "bilinear"):
        raise ValueError(f"upsampling must be 'nearest' or 'bilinear', got {upsampling!r}")
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    if head != "classification":
        return None
    from colorization.ablation.quantize import NUM_BINS

    bins = NUM_BINS if bins is None else int(bins)
    if bins < 2:
        raise ValueError(f"a classification head needs at least 2 bins, got {bins}")
    return bins


def _paper_layer(name: str, filters: int | None, stride: int, upsampling: str, head: str, bins: int | None, dtype):
    """One row of :data:`PAPER_LAYERS` as a Keras layer (x2 upsampling, or a 3x3 convolution
    with ReLU; tanh on ``conv12_ab``, or a softmax over ``bins`` for the classification head)."""
    if filters is None:
        return layers.UpSampling2D(2, interpolation=upsampling, name=name, dtype=dtype)
    if name == "conv12_ab" and head == "classification":
        return layers.Conv2D(
            bins, 3, strides=stride, padding="same", activation="softmax", name=HEAD_LAYER[head], dtype=dtype
        )
    activation = "tanh" if name == "conv12_ab" else "relu"
    return layers.Conv2D(filters, 3, strides=stride, padding="same", activation=activation, name=name, dtype=dtype)


def head_of(model: keras.Model) -> str:
    """``"classification"`` if the model has the ``conv12_bins`` head, else ``"regression"``."""
    names = {layer.name for layer in model.layers}
    return "classification" if HEAD_LAYER["classification"] in names else "regression"


def takes_hints(model) -> bool:
    """True for the hint network (an input of :data:`HINT_INPUT_CHANNELS` channels)."""
    return tuple(model.input_shape)[-1] == HINT_INPUT_CHANNELS


def model_options(model: keras.Model) -> dict:
    """The :func:`build_paper_model` arguments that rebuild ``model``'s architecture
    (input size, upsampling, head, bins, hints), read from its layers."""
    head = head_of(model)
    options = {"input_size": model.input_shape[1], "head": head, "hints": takes_hints(model)}
    names = {layer.name: layer for layer in model.layers}
    if "up3" in names:
        options["upsampling"] = names["up3"].interpolation
    if head == "classification":
        options["bins"] = int(model.output_shape[-1])
    return options


def rebuild(model: keras.Model, dtype_policy: str | None = None) -> keras.Model:
    """A fresh, uncompiled paper network with ``model``'s architecture and weights.

    The one way the package changes a network's precision: ``dtype_policy`` None
    computes in float32 (inference files, training exports), ``"float16"`` stores
    half-size weights (shipped files), ``"mixed_bfloat16"`` as in training. Weights
    are cast to the new variables' dtypes.
    """
    import numpy as np

    fresh = build_paper_model(**model_options(model), dtype_policy=dtype_policy)
    fresh.set_weights([np.asarray(w).astype(v.dtype) for w, v in zip(model.get_weights(), fresh.weights, strict=True)])
    return fresh


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Save structure and weights to a ``.keras`` file, atomically."""
    from colorization.io.files import atomic_path

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: model files must end in .keras")
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


def load_model(path: str | Path) -> keras.Model:
    """Load a ``.keras`` model with Keras' safe mode on (no arbitrary code runs)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    with KERAS_LOCK:
        return keras.models.load_model(path, compile=False, safe_mode=True)


def multiply_accumulates(model: keras.Model) -> int:
    """Multiply-accumulate operations of one forward pass (convolutions only).

    Per convolution: output height x width x output channels x (3 x 3 x input channels).
    The paper's network at 256x256 costs about 7.6 GMAC (15.2 GFLOP) per forward pass
    (docs/paper.md, "Network (exact)").
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, height, width, channels = layer.output.shape
            kernel_h, kernel_w, inputs, _ = layer.kernel.shape
            total += height * width * channels * kernel_h * kernel_w * inputs
    return int(total)
