"""Running an exported network where a Keras model would run; ``.onnx`` files with ONNX Runtime.

:class:`ExportedModel` has what the inference path uses of a Keras model (``input_shape``,
``output_shape`` and ``predict_on_batch``, see :func:`colorization.decoding.raw_predictions`), so an
exported file goes through the same pre- and post-processing, and the same evaluation code, as its
source. Each runtime (:class:`OnnxModel` here, :class:`~colorization.export.openvino_runtime.OpenVinoModel`,
:class:`~colorization.export.litert_runtime.LiteRtModel`) opens its file and runs a batch; the checks
are shared. Neither TensorFlow nor Keras is imported here (``tests/test_export.py`` checks it in a
fresh process): a colorization with an exported file starts in a fraction of the time.

Every runtime refuses, with one plain line naming the file (:class:`~colorization.weights.WeightsError`),
anything the network path could not run: a missing or empty file, a file that is not of its format or
is truncated, more than one input or output, or an input or output of the wrong shape or type
(:func:`check_ports`). These formats hold graphs of standard operators, never code, so loading one
runs nothing from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization.export import METADATA_PREFIX
from colorization.io.preprocess import PAPER_SIZE
from colorization.weights import MAX_UNPACKED_BYTES, WeightsError, plain_line, registered_vividness

FLOAT_TENSOR = "tensor(float)"


@dataclass(frozen=True)
class Port:
    """An input or output of an exported graph: its name, shape (None: any size) and element type."""

    name: str
    shape: tuple
    element: str  # the runtime's own name for it ("tensor(float)", "f32", "float32")
    is_float32: bool

    def described(self) -> str:
        dims = "x".join("?" if side is None else str(side) for side in self.shape[1:])
        return f"{dims or 'a scalar'} ({self.element})"


class ExportedModel:
    """An exported network run on the CPU; subclasses open the file (:meth:`open`) and run a batch (:meth:`run`).

    Attributes
    ----------
    path : Path
    input_name, output_name : str
    input_shape, output_shape : tuple
        ``(None, H, W, 1)`` and ``(None, H, W, C)``: C is 2 (ab / 128, the paper's head) or the number
        of ab bins (the classification head), as the Keras model's.
    provenance : dict of str to str
        The ``colorization.*`` entries of the file's metadata (empty for a file made elsewhere).
    default_vividness : float, optional
        Present when the file was exported from a registered model whose registry entry
        names a default vividness (read by :func:`colorization.vividness.default_of`).
    """

    suffix = ""  # the file's suffix, checked by check_file
    kind = "exported model"  # what the refusals call the file

    def __init__(self, path: str | Path, threads: int | None = None):
        self.path = Path(path)
        check_file(self.path, self.suffix, self.kind)
        inputs, outputs, self.provenance = self.open(threads)
        source, result = check_ports(self.path, inputs, outputs)
        self.input_name, self.input_shape = source.name, (None, *source.shape[1:])
        self.output_name, self.output_shape = result.name, (None, *result.shape[1:])
        digest = self.provenance.get("source_sha256", "")
        vividness = registered_vividness(digest=digest) if digest else None
        if vividness is not None:
            self.default_vividness = vividness

    def open(self, threads: int | None) -> tuple[list[Port], list[Port], dict[str, str]]:
        """Open :attr:`path`; return its inputs, outputs and provenance (WeightsError if unreadable)."""
        raise NotImplementedError

    def run(self, x: np.ndarray) -> np.ndarray:
        """The graph's output for the float32 batch ``x``."""
        raise NotImplementedError

    def predict_on_batch(self, x) -> np.ndarray:
        """The network's output for a batch of scaled L, ``(N, H, W, 1)`` float32, as the Keras model gives it."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[-1] != 1:
            raise ValueError(f"expected a batch of scaled L of shape (N, H, W, 1), got {x.shape}")
        y = np.asarray(self.run(x), dtype=np.float32)
        expected = x.shape[:3] + (self.output_shape[-1],)
        if y.shape != expected:
            raise WeightsError(
                f"{self.path}: the network gave an output of shape {y.shape} for an input of shape {x.shape}; "
                f"the network path needs {expected}"
            )
        return y

    def compile(self, **_options) -> None:
        """Nothing to compile (the runtime optimizes the graph when it loads it); here for
        front ends that compile a Keras model before use."""

    def __repr__(self) -> str:
        precision = self.provenance.get("precision", "unknown precision")
        return f"{type(self).__name__}({str(self.path)!r}, {precision}, output {self.output_shape})"


class OnnxModel(ExportedModel):
    """An exported ``.onnx`` network run by ONNX Runtime on the CPU (:class:`ExportedModel`)."""

    suffix = ".onnx"
    kind = "ONNX model"

    def open(self, threads: int | None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its warnings are about graph optimizations
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = onnxruntime.InferenceSession(
                os.fspath(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime's own exception types (InvalidProtobuf, Fail, ...)
            raise unusable(self.path, self.kind, error) from None
        ports = [
            [Port(p.name, static_shape(p.shape), p.type, p.type == FLOAT_TENSOR) for p in group]
            for group in (self.session.get_inputs(), self.session.get_outputs())
        ]
        return ports[0], ports[1], read_provenance(self.session.get_modelmeta().custom_metadata_map)

    def run(self, x: np.ndarray) -> np.ndarray:
        (y,) = self.session.run([self.output_name], {self.input_name: x})
        return y


def load_onnx(path: str | Path, threads: int | None = None) -> OnnxModel:
    """An exported network, checked (:class:`OnnxModel`); ``threads``: ONNX Runtime's (default: one per core)."""
    return OnnxModel(path, threads)


def unusable(path: Path, kind: str, error: Exception) -> WeightsError:
    """The one line for a file its runtime cannot read."""
    message = plain_line(error)[:300]
    return WeightsError(
        f"{path}: not a usable {kind}, truncated or damaged ({type(error).__name__}: {message}); "
        "export it again with `colorization export`"
    )


def check_file(path: Path, suffix: str = ".onnx", kind: str = "ONNX model") -> None:
    """Raise :class:`WeightsError` unless ``path`` is a non-empty regular ``suffix`` file of a bounded size."""
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, not an {suffix} model file")
    if not path.exists():
        raise WeightsError(f"{path}: no such model file")
    if not path.is_file():
        raise WeightsError(f"{path}: not a regular file (a device or a pipe?), not an {suffix} model file")
    if path.suffix.lower() != suffix:
        raise WeightsError(f"{path}: expected an {suffix} model file")
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(f"{path}: empty file (0 bytes), not an {kind}")
    if size > MAX_UNPACKED_BYTES:
        raise WeightsError(f"{path}: {size / 2**30:.1f} GiB, above the {MAX_UNPACKED_BYTES / 2**30:.0f} GiB limit")


def check_ports(path: Path, inputs: list[Port], outputs: list[Port]) -> tuple[Port, Port]:
    """The one input and output, checked against the network path; :class:`WeightsError` unless they fit:
    input float ``(None, 256, 256, 1)``, output float with 2 channels (ab / 128) or one per ab bin."""
    from colorization.ablation.quantize import NUM_BINS

    if len(inputs) != 1 or len(outputs) != 1:
        raise WeightsError(
            f"{path}: the model has {len(inputs)} input(s) and {len(outputs)} output(s); "
            "the network path needs one of each"
        )
    (source,), (result,), size = inputs, outputs, PAPER_SIZE
    if not fits(source, (1,)):
        raise WeightsError(
            f"{path}: input is {source.described()}, the network path needs float {size}x{size}x1 "
            "(or None x None x 1: any size)"
        )
    if not fits(result, (2, NUM_BINS)):
        raise WeightsError(
            f"{path}: output is {result.described()}, the network path needs float {size}x{size}x2 (ab) "
            f"or {size}x{size}x{NUM_BINS} (ab bins)"
        )
    return source, result


def fits(port: Port, channels: tuple) -> bool:
    """Whether ``port`` is float32, ``(batch, 256, 256, C)`` (or any height and width) with C in ``channels``."""
    shape = port.shape
    sizes = ((PAPER_SIZE, PAPER_SIZE), (None, None))
    return port.is_float32 and len(shape) == 4 and shape[1:3] in sizes and shape[3] in channels


def static_shape(dims) -> tuple:
    """A runtime's shape with its symbolic dimensions (names, -1 or None) as None."""
    return tuple(int(dim) if isinstance(dim, (int, np.integer)) and dim > 0 else None for dim in dims)


def read_provenance(metadata: dict) -> dict[str, str]:
    """The ``colorization.*`` entries of a file's metadata, without the prefix."""
    return {key[len(METADATA_PREFIX) :]: value for key, value in metadata.items() if key.startswith(METADATA_PREFIX)}
