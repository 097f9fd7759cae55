"""Exported networks: the trained models as files that run without Keras (ONNX, OpenVINO, LiteRT) or on TensorFlow.

``colorization export MODEL -o FILE --format onnx|openvino|litert|saved_model [--precision fp32|fp16|int8]``
(:mod:`colorization.cli.export`) writes a file that its runtime runs, with its provenance inside it
(ONNX ``metadata_props``, OpenVINO ``rt_info``, LiteRT flatbuffer metadata, a SavedModel's
``assets/colorization.json``) and in a JSON sidecar beside it (``FILE.json``, with each file's sha256).

``formats``      the one export path (``export_model``): request checks, source weights, provenance, sidecar
``onnx``         Keras 3's own ``Model.export(format="onnx")`` (tf2onnx under it); fp16 by ONNX Runtime's converter
``quantize``     ONNX int8: ONNX Runtime's post-training static quantization (QDQ), calibrated on training images
``openvino``     OpenVINO IR from the ONNX file (``openvino.convert_model``); int8 by NNCF, fp16 compressed weights
``litert``       LiteRT (TensorFlow Lite) by TensorFlow's converter; fp16 weights, int8 with a representative dataset
``saved_model``  Keras 3's ``Model.export(format="tf_saved_model")`` (fp32 only), and running one on TensorFlow
``calibration``  the calibration images: a data source's training split, as the trainer crops them
``runtime``, ``openvino_runtime``, ``litert_runtime``
                 an exported file looking like a Keras model to :func:`colorization.colorize.predict_ab`
                 (importing neither TensorFlow nor Keras)

This package imports nothing when imported itself, so that the runtimes stay free of TensorFlow.
"""

from __future__ import annotations

import importlib
from pathlib import Path

FORMATS = ("onnx", "openvino", "litert", "saved_model")
PRECISIONS = ("fp32", "fp16", "int8")
FORMAT_PRECISIONS = {"onnx": PRECISIONS, "openvino": PRECISIONS, "litert": PRECISIONS, "saved_model": ("fp32",)}
SUFFIXES = {"onnx": ".onnx", "openvino": ".xml", "litert": ".tflite", "saved_model": ""}  # saved_model: a folder
SAVED_MODEL_FILE = "saved_model.pb"
METADATA_PREFIX = "colorization."  # the keys of the provenance in an ONNX model's metadata_props
SIDECAR_SUFFIX = ".json"
LOADERS = {
    "onnx": ("colorization.export.runtime", "load_onnx"),
    "openvino": ("colorization.export.openvino_runtime", "load_openvino"),
    "litert": ("colorization.export.litert_runtime", "load_litert"),
    "saved_model": ("colorization.export.saved_model", "load_saved_model"),
}


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar beside an exported file: ``FILE.onnx`` -> ``FILE.onnx.json``, ``FOLDER`` -> ``FOLDER.json``."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def output_files(fmt: str, output: str | Path) -> list[Path]:
    """What an export to ``output`` in format ``fmt`` writes besides its sidecar: an OpenVINO IR is
    ``FILE.xml`` and ``FILE.bin``; a SavedModel is the folder ``output``."""
    output = Path(output)
    return [output, output.with_suffix(".bin")] if fmt == "openvino" else [output]


def exported_format(path: str | Path) -> str | None:
    """The export format of ``path`` by its name (``.onnx``, ``.xml``, ``.tflite``) or, for a folder,
    by its ``saved_model.pb``; None for anything else (a ``.keras`` file)."""
    path = Path(path)
    if path.is_dir():
        return "saved_model" if (path / SAVED_MODEL_FILE).is_file() else None
    return next((fmt for fmt, suffix in SUFFIXES.items() if suffix and path.suffix.lower() == suffix), None)


def load_exported(path: str | Path, threads: int | None = None):
    """An exported network run by its format's runtime (:data:`LOADERS`), checked; one-line
    :class:`~colorization.weights.WeightsError` when it is not usable."""
    module, function = LOADERS[exported_format(path) or "onnx"]
    return getattr(importlib.import_module(module), function)(path, threads)
