"""Exporting a trained network (either head) to ONNX: fp32, fp16 or int8, with its provenance inside.

The conversion is Keras 3's own ``Model.export(path, format="onnx")`` (tf2onnx under it, with
the TensorFlow backend); nothing of the network is re-implemented here. The exported file:

* computes in float32 (``fp32``), in float16 with float32 input and output (``fp16``: ONNX Runtime's
  ``convert_float_to_float16``, ``keep_io_types``), or is quantized to int8 (``int8``,
  :mod:`colorization.export.quantize`);
* has one input ``L`` (scaled L, ``(batch, 256, 256, 1)``) and one output, ``ab_scaled`` (ab / 128) or
  ``ab_bins`` (the classification head's bin probabilities), with a ``batch`` dimension of any size;
* carries its provenance (:func:`colorization.export.formats.provenance`) in ``metadata_props`` (keys
  ``colorization.*``), and in the sidecar :func:`colorization.export.formats.export_model` writes;
* is checked by :func:`colorization.export.runtime.load_onnx` before it is moved into place, and is
  written atomically, never over an existing file unless ``overwrite``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from colorization.export import METADATA_PREFIX
from colorization.export.formats import Exported, check_request, export_model, provenance, source_weights
from colorization.io.files import atomic_path
from colorization.weights import WeightsError

BATCH_DIMENSION = "batch"
__all__ = ["Exported", "check_request", "export_model", "provenance", "source_weights", "write"]


def write(network, work: Path, output: Path, record: dict, calibration, overwrite: bool) -> None:
    """Write ``network`` to ``output`` as ONNX at ``record["precision"]`` (temporary files in ``work``)."""
    converted = convert_fp32(network, work / "fp32.onnx")
    if record["precision"] == "int8":
        from colorization.export.quantize import quantize_int8

        record["quantization"] = quantize_int8(converted, work / "int8.onnx", calibration.views)
        converted = work / "int8.onnx"
    elif record["precision"] == "fp16":
        record["quantization"] = to_float16(converted, work / "fp16.onnx")
        converted = work / "fp16.onnx"
    write_onnx(converted, output, record, overwrite)


def to_float16(fp32: Path, output: Path) -> dict:
    """Write ``fp32`` with float16 weights and computation to ``output``, input and output float32; its settings."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    model = OnnxModel(convert_float_to_float16(onnx.load(str(fp32)), keep_io_types=True))
    model.topological_sort()  # the converter appends the input's cast after the nodes that read it
    onnx.save(model.model, str(output))
    return {
        "method": "onnxruntime.transformers.float16.convert_float_to_float16 (keep_io_types)",
        "weights": "float16",
        "activations": "float16 inside the graph; input and output float32",
    }


def convert_fp32(network, path: Path) -> Path:
    """``network`` as a float32 ONNX file at ``path``, by Keras 3's exporter (one input named ``L``)."""
    import keras

    spec = keras.InputSpec(shape=(None, *network.input_shape[1:]), dtype="float32", name="L")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf2onnx's and NumPy's deprecation notes, not about this model
            network.export(str(path), format="onnx", verbose=False, input_signature=[spec])
    except ImportError as error:
        raise WeightsError(
            f"exporting to ONNX needs tf2onnx and onnx ({error}); install the export extra: "
            "pip install 'lab-cnn-colorization[export]'"
        ) from None
    return path


def write_onnx(converted: Path, output: Path, record: dict, overwrite: bool) -> None:
    """Name the output and batch dimension, add the provenance to ``converted``'s metadata and write it to
    ``output`` atomically, once :func:`~colorization.export.runtime.load_onnx` accepts it."""
    import onnx

    from colorization.export.runtime import load_onnx

    model = onnx.load(str(converted))
    rename_output(model.graph, record["output"])
    for value in (*model.graph.input, *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIMENSION
    del model.metadata_props[:]
    for key, value in metadata_entries(record).items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = f"colorization {record['head']} network ({record['precision']}), from {record['source_weights']}"
    onnx.checker.check_model(model)
    with atomic_path(output, overwrite=overwrite) as tmp:
        onnx.save(model, str(tmp))
        load_onnx(tmp)  # the file runs and fits the network path, or nothing is written


def rename_output(graph, name: str) -> None:
    """Rename the graph's one output (tf2onnx calls it after a TensorFlow node) to ``name``."""
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [name if value == old else value for value in node.output]
        node.input[:] = [name if value == old else value for value in node.input]
    graph.output[0].name = name


def metadata_entries(record: dict) -> dict[str, str]:
    """The provenance as ONNX ``metadata_props``: ``colorization.<key>`` -> text (JSON for non-text values)."""
    return {
        METADATA_PREFIX + key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in record.items()
    }
