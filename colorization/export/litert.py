"""Exporting a trained network to LiteRT (TensorFlow Lite), ``FILE.tflite``: fp32, fp16 or int8.

TensorFlow's own converter (``tf.lite.TFLiteConverter.from_saved_model``) converts a Keras 3
``tf_saved_model`` export of the network with a batch of one: with a free batch dimension the
converter leaves the convolutions after the upsampling unconverted (they would need TensorFlow's
Flex operators), and LiteRT's XNNPack delegate cannot resize the graph afterwards, so
:class:`~colorization.export.litert_runtime.LiteRtModel` runs a batch one image at a time.

* ``fp32``: as converted; ``fp16``: float16 weights (``target_spec.supported_types = [tf.float16]``,
  computed in float32 on the CPU);
* ``int8``: full-integer post-training quantization with the training-split calibration images as
  its representative dataset (``TFLITE_BUILTINS_INT8``), input and output kept float32.

The provenance goes into the flatbuffer's metadata (entry ``colorization``, JSON), written with
``ai_edge_litert``'s flatbuffer tools, and the file is checked by
:func:`~colorization.export.litert_runtime.load_litert` before it is moved into place.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from colorization.export.litert_runtime import METADATA_NAME, load_litert
from colorization.io.files import atomic_path
from colorization.io.preprocess import PAPER_SIZE


def write(network, work: Path, output: Path, record: dict, calibration, overwrite: bool) -> None:
    """Write ``network`` to ``output`` as LiteRT at ``record["precision"]`` (temporary files in ``work``)."""
    import keras

    folder = work / "saved_model"
    spec = keras.InputSpec(shape=(1, PAPER_SIZE, PAPER_SIZE, 1), dtype="float32", name="L")
    network.export(str(folder), format="tf_saved_model", verbose=False, input_signature=[spec])
    content, record["quantization"] = convert(folder, record["precision"], calibration)
    content = with_metadata(content, record)
    with atomic_path(output, overwrite=overwrite) as tmp:
        tmp.write_bytes(content)
        load_litert(tmp)  # the file runs and fits the network path, or nothing is written


def convert(folder: Path, precision: str, calibration) -> tuple[bytes, dict]:
    """The SavedModel ``folder`` as LiteRT flatbuffer bytes at ``precision``, and the settings used."""
    import tensorflow as tf

    from colorization.colorize import network_input

    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder))
    settings = {"method": "tf.lite.TFLiteConverter", "weights": "float32"}
    if precision != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "fp16":
        converter.target_spec.supported_types = [tf.float16]
        settings["weights"] = "float16 (computed in float32)"
    if precision == "int8":
        views = calibration.views
        converter.representative_dataset = lambda: ([network_input(view[None])] for view in views)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.float32
        settings.update(weights="int8 per channel", activations="int8 per tensor, input and output float32")
    return bytes(converter.convert()), settings


def with_metadata(content: bytes, record: dict) -> bytes:
    """``content`` with the provenance ``record`` as its metadata entry ``colorization`` (JSON)."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(record, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != METADATA_NAME.encode()] + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
