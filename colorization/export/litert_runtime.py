"""Running an exported LiteRT (TensorFlow Lite) network, ``FILE.tflite``, with the ``ai-edge-litert`` interpreter.

:class:`LiteRtModel` is an :class:`~colorization.export.runtime.ExportedModel`: the same attributes,
checks and one-line refusals as :class:`~colorization.export.runtime.OnnxModel`, the provenance read
from the flatbuffer's ``metadata`` entry ``colorization`` (JSON). Neither TensorFlow nor Keras is
imported here. The file's graph has a batch of one (the converter needs static shapes for this
network), so a batch runs one image at a time. A LiteRT file holds built-in operators; one that
needs TensorFlow's (Flex) or custom operators does not load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from colorization.export.runtime import ExportedModel, Port, static_shape, unusable

METADATA_NAME = "colorization"  # the flatbuffer metadata entry that holds the provenance (JSON)


class LiteRtModel(ExportedModel):
    """An exported ``.tflite`` network (:class:`~colorization.export.runtime.ExportedModel`)."""

    suffix = ".tflite"
    kind = "LiteRT (.tflite) model"

    def open(self, threads: int | None):
        from ai_edge_litert.interpreter import Interpreter

        from colorization.io.quiet import stderr_captured

        try:
            content = self.path.read_bytes()
            with stderr_captured():  # the interpreter's "Created TensorFlow Lite XNNPACK delegate for CPU."
                self.interpreter = Interpreter(model_content=content, num_threads=int(threads) if threads else None)
                self.interpreter.allocate_tensors()
            provenance = read_metadata(content)
        except Exception as error:  # OSError; ValueError / RuntimeError: a damaged flatbuffer, unknown operators
            raise unusable(self.path, self.kind, error) from None
        ports = [
            [Port(d["name"], port_shape(d), np.dtype(d["dtype"]).name, d["dtype"] == np.float32) for d in details]
            for details in (self.interpreter.get_input_details(), self.interpreter.get_output_details())
        ]
        return ports[0], ports[1], provenance

    def run(self, x: np.ndarray) -> np.ndarray:
        source = self.interpreter.get_input_details()[0]["index"]
        result = self.interpreter.get_output_details()[0]["index"]
        outputs = []
        for image in x:
            self.interpreter.set_tensor(source, image[None])
            self.interpreter.invoke()
            outputs.append(self.interpreter.get_tensor(result))
        return np.concatenate(outputs) if outputs else np.zeros((0, *self.output_shape[1:]), np.float32)


def load_litert(path: str | Path, threads: int | None = None) -> LiteRtModel:
    """An exported LiteRT network, checked (:class:`LiteRtModel`)."""
    return LiteRtModel(path, threads)


def port_shape(details: dict) -> tuple:
    """An interpreter tensor's shape: the batch as None (any number of images runs, one at a time)."""
    shape = static_shape(details.get("shape_signature", details["shape"]))
    return (None, *shape[1:]) if shape else shape


def read_metadata(content: bytes) -> dict[str, str]:
    """The provenance in the flatbuffer's metadata entry ``colorization`` (empty for a file made elsewhere)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(content, 0)
    for index in range(model.MetadataLength()):
        entry = model.Metadata(index)
        if entry.Name() and entry.Name().decode("utf-8", "replace") == METADATA_NAME:
            data = model.Buffers(entry.Buffer()).DataAsNumpy()
            record = json.loads(bytes(data).decode("utf-8")) if not isinstance(data, int) else {}
            return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in record.items()}
    return {}
