"""Running an exported ``.onnx`` network with ONNX Runtime, where a Keras model would run.

:class:`OnnxModel` has what the inference path uses of a Keras model (``output_shape`` and
``predict_on_batch``, see :func:`colorization.colorize.raw_predictions`), so an exported file
goes through the same pre- and post-processing, and the same evaluation code, as its source.
Neither TensorFlow nor Keras is imported here (``tests/test_export.py`` checks it in a fresh
process): a colorization with an exported file starts in a fraction of the time.

:func:`load_onnx` refuses, with one plain line naming the file (:class:`~colorization.weights.WeightsError`),
anything the network path could not run: a missing or empty file, a file that is not ONNX or is
truncated, more than one input or output, or an input or output of the wrong shape or type.
ONNX files hold a graph of standard operators, never code, so loading one runs nothing from it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from colorization.export import METADATA_PREFIX
from colorization.io.preprocess import PAPER_SIZE
from colorization.weights import MAX_UNPACKED_BYTES, WeightsError, plain_line, registered_vividness

FLOAT_TENSOR = "tensor(float)"


class OnnxModel:
    """An exported network run by ONNX Runtime on the CPU.

    Attributes
    ----------
    path : Path
    output_shape : tuple
        ``(None, H, W, C)``: C is 2 (ab / 128, the paper's head) or the number of ab bins
        (the classification head), as the Keras model's.
    provenance : dict of str to str
        The ``colorization.*`` entries of the file's metadata (empty for a file made elsewhere).
    default_vividness : float, optional
        Present when the file was exported from a registered model whose registry entry
        names a default vividness (read by :func:`colorization.vividness.default_of`).
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        self.path = Path(path)
        check_file(self.path)
        self.session = open_session(self.path, threads)
        self.input_name, self.input_shape = check_input(self.session, self.path)
        self.output_name, self.output_shape = check_output(self.session, self.path)
        self.provenance = read_provenance(self.session)
        source = self.provenance.get("source_sha256", "")
        vividness = registered_vividness(digest=source) if source else None
        if vividness is not None:
            self.default_vividness = vividness

    def predict_on_batch(self, x) -> np.ndarray:
        """The network's output for a batch of scaled L, ``(N, H, W, 1)`` float32, as the Keras model gives it."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[-1] != 1:
            raise ValueError(f"expected a batch of scaled L of shape (N, H, W, 1), got {x.shape}")
        (y,) = self.session.run([self.output_name], {self.input_name: x})
        expected = x.shape[:3] + (self.output_shape[-1],)
        if y.shape != expected:
            raise WeightsError(
                f"{self.path}: the network gave an output of shape {y.shape} for an input of shape {x.shape}; "
                f"the network path needs {expected}"
            )
        return y

    def compile(self, **_options) -> None:
        """Nothing to compile (ONNX Runtime optimizes the graph when it loads it); here for
        front ends that compile a Keras model before use."""

    def __repr__(self) -> str:
        precision = self.provenance.get("precision", "unknown precision")
        return f"OnnxModel({str(self.path)!r}, {precision}, output {self.output_shape})"


def load_onnx(path: str | Path, threads: int | None = None) -> OnnxModel:
    """An exported network, checked (:class:`OnnxModel`); ``threads``: ONNX Runtime's (default: one per core)."""
    return OnnxModel(path, threads)


def check_file(path: Path) -> None:
    """Raise :class:`WeightsError` unless ``path`` is a non-empty regular ``.onnx`` file of a bounded size."""
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, not an .onnx model file")
    if not path.exists():
        raise WeightsError(f"{path}: no such model file")
    if not path.is_file():
        raise WeightsError(f"{path}: not a regular file (a device or a pipe?), not an .onnx model file")
    if path.suffix.lower() != ".onnx":
        raise WeightsError(f"{path}: expected an .onnx model file")
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(f"{path}: empty file (0 bytes), not an ONNX model")
    if size > MAX_UNPACKED_BYTES:
        raise WeightsError(f"{path}: {size / 2**30:.1f} GiB, above the {MAX_UNPACKED_BYTES / 2**30:.0f} GiB limit")


def open_session(path: Path, threads: int | None = None):
    """An ONNX Runtime session for ``path`` on the CPU; an unreadable model is a :class:`WeightsError`."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are about graph optimizations
    if threads:
        options.intra_op_num_threads = int(threads)
    try:
        return onnxruntime.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own exception types (InvalidProtobuf, Fail, ...)
        message = plain_line(error)[:300]
        raise WeightsError(
            f"{path}: not a usable ONNX model, truncated or damaged ({type(error).__name__}: {message}); "
            "export it again with `colorization export`"
        ) from None


def check_input(session, path: Path) -> tuple[str, tuple]:
    """The input's name and shape, ``(None, H, W, 1)``; :class:`WeightsError` unless it fits the network path."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise WeightsError(
            f"{path}: the model has {len(inputs)} input(s) and {len(outputs)} output(s); "
            "the network path needs one of each"
        )
    shape = static_shape(inputs[0].shape)
    size = PAPER_SIZE
    if inputs[0].type != FLOAT_TENSOR or len(shape) != 4 or shape[1:3] not in _sizes(size) or shape[3] != 1:
        raise WeightsError(
            f"{path}: input is {_described(inputs[0])}, the network path needs float {size}x{size}x1 "
            "(or None x None x 1: any size)"
        )
    return inputs[0].name, (None, *shape[1:])


def check_output(session, path: Path) -> tuple[str, tuple]:
    """The output's name and shape, ``(None, H, W, C)``, C 2 or the number of ab bins; else :class:`WeightsError`."""
    from colorization.ablation.quantize import NUM_BINS

    output = session.get_outputs()[0]
    shape = static_shape(output.shape)
    size = PAPER_SIZE
    if (
        output.type != FLOAT_TENSOR
        or len(shape) != 4
        or shape[1:3] not in _sizes(size)
        or shape[3] not in (2, NUM_BINS)
    ):
        raise WeightsError(
            f"{path}: output is {_described(output)}, the network path needs float {size}x{size}x2 (ab) "
            f"or {size}x{size}x{NUM_BINS} (ab bins)"
        )
    return output.name, (None, *shape[1:])


def static_shape(dims) -> tuple:
    """An ONNX Runtime shape with its symbolic dimensions (names, or None) as None."""
    return tuple(dim if isinstance(dim, int) and dim > 0 else None for dim in dims)


def _sizes(size: int) -> tuple:
    return ((size, size), (None, None))


def _described(node) -> str:
    dims = "x".join("?" if side is None else str(side) for side in static_shape(node.shape)[1:])
    return f"{dims or 'a scalar'} ({node.type})"


def read_provenance(session) -> dict[str, str]:
    """The ``colorization.*`` entries of the model's metadata, without the prefix."""
    metadata = session.get_modelmeta().custom_metadata_map
    return {key[len(METADATA_PREFIX) :]: value for key, value in metadata.items() if key.startswith(METADATA_PREFIX)}
