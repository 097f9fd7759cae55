"""How the shipped weights are stored: float16 on disk (half the size in git), float32 in use.

Predictions of a float16 copy differ from the float32 original's by at most 0.02 in a or b
(the package's docstring); :func:`export_float16` writes such a copy, :func:`as_float32`
(which :func:`colorization.weights.load_weights` applies) computes with it in float32.
"""

from __future__ import annotations

from pathlib import Path

from colorization.weights import WeightsError, count_non_finite


def as_float32(model):
    """The paper's network (either head, see :func:`colorization.model.head_of`) computing
    in float32, whatever precision its weights were stored in."""
    from colorization.model import rebuild

    stored = {str(w.dtype) for w in model.weights}
    if stored == {"float32"} or model.name != "paper_colorization":
        return model
    return rebuild(model)


def export_float16(model, path: str | Path) -> Path:
    """Save the paper's network (either head) with float16 weights (for shipping); see :func:`as_float32`.

    Raises
    ------
    WeightsError
        If a weight is not finite in float16 (NaN, or beyond float16's range of +-65504);
        nothing is written then.
    """
    from colorization.model import rebuild, save_model

    half = rebuild(model, "float16")
    non_finite, where = count_non_finite(half)
    if non_finite:
        raise WeightsError(
            f"{path}: {non_finite:,} weight value(s) are NaN or beyond float16's range (first in {where}); "
            "keep this model in float32"
        )
    return save_model(half, path)
