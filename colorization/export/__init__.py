"""Exported networks: the trained models as ONNX files, run by ONNX Runtime without TensorFlow.

``colorization export MODEL -o FILE.onnx [--precision fp32|int8]`` (:mod:`colorization.cli.export`)
writes a file that any ONNX runtime can run, with its provenance inside it (the ONNX model's
``metadata_props``, keys ``colorization.*``) and in a JSON sidecar beside it (``FILE.onnx.json``).

``onnx``         Keras 3's own ``Model.export(format="onnx")`` (tf2onnx under it), provenance, atomic writing
``quantize``     int8: ONNX Runtime's post-training static quantization (QDQ), calibrated on training images
``calibration``  the calibration images: a data source's training split, as the trainer crops them
``runtime``      :class:`~colorization.export.runtime.OnnxModel`: an exported file looking like a Keras model
                 to :func:`colorization.colorize.predict_ab` (imports neither TensorFlow nor Keras)

This package imports nothing when imported itself, so that :mod:`~colorization.export.runtime`
stays free of TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

FORMATS = ("onnx",)
PRECISIONS = ("fp32", "int8")
METADATA_PREFIX = "colorization."  # the keys of the provenance in an ONNX model's metadata_props
SIDECAR_SUFFIX = ".json"


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar beside an exported file: ``FILE.onnx`` -> ``FILE.onnx.json``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)
