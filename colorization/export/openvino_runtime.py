"""Running an exported OpenVINO IR network (``FILE.xml`` + ``FILE.bin``) with OpenVINO on the CPU.

:class:`OpenVinoModel` is an :class:`~colorization.export.runtime.ExportedModel`: the same attributes,
checks and one-line refusals as :class:`~colorization.export.runtime.OnnxModel`, the provenance read
from the IR's ``rt_info`` (section ``colorization``). Neither TensorFlow nor Keras is imported here.
An IR holds a graph of OpenVINO's standard operations; one that needs a custom operation does not
load (extensions are never loaded from a file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorization.export.runtime import ExportedModel, Port, static_shape, unusable
from colorization.weights import MAX_UNPACKED_BYTES, WeightsError

PROVENANCE_SECTION = "colorization"  # the rt_info section that holds the provenance


def weights_file(xml: Path) -> Path:
    """The ``.bin`` file that holds the weights of the IR ``xml``."""
    return xml.with_suffix(".bin")


class OpenVinoModel(ExportedModel):
    """An exported OpenVINO IR network (:class:`~colorization.export.runtime.ExportedModel`)."""

    suffix = ".xml"
    kind = "OpenVINO IR model"

    def open(self, threads: int | None):
        import openvino

        binary = weights_file(self.path)
        if not binary.is_file():
            raise WeightsError(f"{self.path}: its weights file {binary.name} is missing beside it")
        if binary.stat().st_size > MAX_UNPACKED_BYTES:
            size = binary.stat().st_size / 2**30
            raise WeightsError(
                f"{self.path}: its {binary.name} is {size:.1f} GiB, "
                f"above the {MAX_UNPACKED_BYTES / 2**30:.0f} GiB limit"
            )
        core = openvino.Core()
        try:
            model = core.read_model(str(self.path), str(binary))
            config = {"INFERENCE_NUM_THREADS": int(threads)} if threads else {}
            self.compiled = core.compile_model(model, "CPU", config)
        except Exception as error:  # openvino's RuntimeError for a damaged .xml or .bin
            raise unusable(self.path, self.kind, error) from None
        ports = [
            [Port(port_name(p), ov_shape(p), p.get_element_type().get_type_name(), is_f32(p)) for p in group]
            for group in (model.inputs, model.outputs)
        ]
        return ports[0], ports[1], read_rt_provenance(model)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.compiled(x)[0]


def load_openvino(path: str | Path, threads: int | None = None) -> OpenVinoModel:
    """An exported OpenVINO IR network, checked (:class:`OpenVinoModel`)."""
    return OpenVinoModel(path, threads)


def port_name(port) -> str:
    try:
        return port.get_any_name()
    except RuntimeError:  # a port without a tensor name
        return ""


def ov_shape(port) -> tuple:
    """A port's shape, its dynamic dimensions as None."""
    return static_shape([-1 if dim.is_dynamic else dim.get_length() for dim in port.get_partial_shape()])


def is_f32(port) -> bool:
    import openvino

    return port.get_element_type() == openvino.Type.f32


def read_rt_provenance(model) -> dict[str, str]:
    """The entries of the model's ``rt_info`` section ``colorization`` (empty for an IR made elsewhere)."""
    if not model.has_rt_info([PROVENANCE_SECTION]):
        return {}
    section = model.get_rt_info()[PROVENANCE_SECTION]
    return {key: str(value.astype(str)) for key, value in section.items()}
