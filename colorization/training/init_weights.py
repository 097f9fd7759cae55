"""Starting a run from trained weights (``init_weights``: fine-tuning; beyond the paper).

``init_weights`` names a ``.keras`` file or a shipped model (``paper``, ``classification``,
``hints``; :func:`colorization.weights.reference_weights`). It is loaded as any weights file is
(:func:`colorization.weights.load_weights`: safe mode, checked, float32) and copied into the
fresh network layer by layer, by name. Every layer must have the same shape, with one
exception: a hint network (``hints: true``) started from a network without hints gets the
source's ``conv1`` kernel for L and zeros for its three hint channels, so that it begins as
the source network and learns what the hints add. Anything else that does not fit is a
:class:`~colorization.training.config.ConfigError` raised before the run folder is written.
The source's name and sha256 go into ``run.json`` (``init_weights``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorization.training.config import ConfigError

FIRST_LAYER = "conv1"


def init_source(name_or_path: str) -> Path:
    """The file ``init_weights`` names: a shipped model's name or a path."""
    from colorization.weights import reference_weights, registry

    if name_or_path in registry():
        return reference_weights(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(registry())
        raise ConfigError(f"init_weights: {path}: no such file (or a shipped model: {known})", field="init_weights")
    return path


def describe_init(name_or_path: str) -> dict:
    """What ``run.json`` records of the weights a run started from: name, file, sha256."""
    from colorization.io.files import sha256_file

    path = init_source(name_or_path)
    return {"source": str(name_or_path), "path": str(path), "sha256": sha256_file(path)}


def start_from(network, name_or_path: str) -> None:
    """Copy the weights ``name_or_path`` holds into ``network`` (see the module's docstring)."""
    from colorization.weights import WeightsError, load_weights

    path = init_source(name_or_path)
    try:
        source = load_weights(path)
    except WeightsError as error:
        raise ConfigError(f"init_weights: {error}", field="init_weights") from None
    layers = {layer.name: layer for layer in source.layers if layer.weights}
    for layer in network.layers:
        if not layer.weights:
            continue
        if layer.name not in layers:
            raise ConfigError(f"init_weights: {path} has no layer {layer.name}; it is another network", "init_weights")
        layer.set_weights(_fitted(layer, layers[layer.name].get_weights(), path))


def _fitted(layer, arrays: list[np.ndarray], path: Path) -> list[np.ndarray]:
    """``arrays`` in ``layer``'s shapes and dtypes: equal shapes, or the hint channels of
    ``conv1`` added as zeros."""
    fitted = []
    for array, variable in zip(arrays, layer.weights, strict=True):
        wanted = tuple(variable.shape)
        if layer.name == FIRST_LAYER and array.ndim == 4 and array.shape[2] < wanted[2] and array.shape[3] == wanted[3]:
            array = np.concatenate([array, np.zeros((*array.shape[:2], wanted[2] - array.shape[2], wanted[3]))], axis=2)
        if tuple(array.shape) != wanted:
            raise ConfigError(
                f"init_weights: {path}: layer {layer.name} is {tuple(array.shape)}, this network's is {wanted} "
                "(another head or input size)",
                field="init_weights",
            )
        fitted.append(np.asarray(array).astype(variable.dtype))
    return fitted
