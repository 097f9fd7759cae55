"""Which network a video is colorized with when none is named: the rule of ``colorization video --runtime``.

Video is the one path where speed decides what a user can do (issue 15's target: 8 frames/s at
640x480 on two CPU cores, end to end). On a CPU the shipped paper network in float32 runs at about
5 frames/s there; its int8 export, shipped beside it (the registry's ``exports``, made by
``colorization export paper --format onnx --precision int8 --calibration caltech101``), runs at about
twice that and colours the Caltech-101 test split as well as float32 does (docs/video.md, "Runtime",
gives the figures and the commands that made them). So, with no ``--weights``:

``auto`` (the default)
    ``keras`` when Keras runs on an NVIDIA GPU here (``KERAS_BACKEND=jax`` and a GPU listed by the
    driver), else ``onnx-int8`` when ONNX Runtime is installed (the ``video`` extra has it), else ``keras``.
``keras``
    the shipped paper network in float32, XLA-compiled: the image path's network, exactly.
``onnx-int8``
    the shipped int8 export, on ONNX Runtime (TensorFlow is not imported).

A ``--weights FILE`` is run as it is (a ``.keras`` file on Keras, an export on its runtime).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

RUNTIMES = ("auto", "keras", "onnx-int8")
EXPORT_KIND = "onnx-int8"  # the registry's name of the shipped int8 export
NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")  # one folder per GPU the driver sees


def keras_on_gpu() -> bool:
    """True when Keras would run on an NVIDIA GPU here: the JAX backend and a GPU the driver lists."""
    if os.environ.get("KERAS_BACKEND") != "jax" or os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1"):
        return False
    return NVIDIA_GPUS.is_dir() and any(NVIDIA_GPUS.iterdir())


def choose_runtime(requested: str = "auto") -> str:
    """``keras`` or ``onnx-int8`` for the ``--runtime`` asked for (:data:`RUNTIMES`; the module's rule)."""
    if requested not in RUNTIMES:
        raise ValueError(f"unknown runtime {requested!r}: choose one of {', '.join(RUNTIMES)}")
    if requested != "auto":
        return requested
    if keras_on_gpu() or importlib.util.find_spec("onnxruntime") is None:
        return "keras"
    from colorization.weights import DEFAULT_MODEL, registry

    return EXPORT_KIND if EXPORT_KIND in registry().get(DEFAULT_MODEL, {}).get("exports", {}) else "keras"


def video_weights(runtime: str) -> Path | None:
    """The weights file of a chosen runtime (:func:`choose_runtime`): the shipped int8 export for
    ``onnx-int8``, None (the shipped Keras model) for ``keras``.

    Raises :class:`~colorization.weights.WeightsError` (one line) when ``onnx-int8`` cannot run here.
    """
    from colorization.weights import DEFAULT_MODEL, WeightsError, shipped_export

    if runtime == "keras":
        return None
    if importlib.util.find_spec("onnxruntime") is None:
        raise WeightsError(
            "--runtime onnx-int8 needs ONNX Runtime: pip install 'lab-cnn-colorization[video]', or use --runtime keras"
        )
    path = shipped_export(DEFAULT_MODEL, EXPORT_KIND)
    if path is None:
        raise WeightsError(f"this package ships no {EXPORT_KIND} export of {DEFAULT_MODEL!r}; use --runtime keras")
    return path
