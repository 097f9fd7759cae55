"""Exporting a trained network to OpenVINO IR (``FILE.xml`` + ``FILE.bin``): fp32, fp16 or int8.

The IR is converted from the fp32 ONNX export (:func:`colorization.export.onnx.convert_fp32`, Keras 3's
own exporter) by OpenVINO's ``openvino.convert_model``; then

* ``fp32``: saved as it is; ``fp16``: saved with float16 weights (``compress_to_fp16``; OpenVINO's CPU
  plugin computes in float32, or bfloat16 where the processor has it, from them);
* ``int8``: NNCF's post-training quantization (``nncf.quantize``, the CPU's mixed preset) calibrated on
  the same training-split images as ONNX int8, the head's convolution (``conv12_*``) kept in float
  as in :mod:`colorization.export.quantize`, so that the classification head's probabilities stay smooth.

The provenance goes into the IR's ``rt_info`` (section ``colorization``, read by
:func:`colorization.export.openvino_runtime.read_rt_provenance`). Both files are checked by
:class:`~colorization.export.openvino_runtime.OpenVinoModel` before they are moved into place, the
``.bin`` first, each atomically.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from pathlib import Path

from colorization.export.onnx import convert_fp32
from colorization.export.openvino_runtime import PROVENANCE_SECTION, load_openvino, weights_file
from colorization.io.files import atomic_path


def write(network, work: Path, output: Path, record: dict, calibration, overwrite: bool) -> None:
    """Write ``network`` to ``output`` (and its ``.bin``) as OpenVINO IR at ``record["precision"]``."""
    import openvino

    model = openvino.convert_model(str(convert_fp32(network, work / "fp32.onnx")))
    if record["precision"] == "int8":
        model, record["quantization"] = quantize_int8(model, calibration.views)
    elif record["precision"] == "fp16":
        record["quantization"] = {"method": "openvino.save_model(compress_to_fp16=True)", "weights": "float16"}
    for key, value in rt_entries(record).items():
        model.set_rt_info(value, [PROVENANCE_SECTION, key])
    staged = work / output.name
    openvino.save_model(model, str(staged), compress_to_fp16=record["precision"] == "fp16")
    load_openvino(staged)  # the IR runs and fits the network path, or nothing is written
    for source, target in ((weights_file(staged), weights_file(output)), (staged, output)):
        with atomic_path(target, overwrite=overwrite) as tmp:
            shutil.copyfile(source, tmp)


def quantize_int8(model, views) -> tuple:
    """NNCF's int8 quantization of the OpenVINO ``model``, calibrated on ``views`` (N, 256, 256, 3) uint8;
    the head's (last) convolution stays float. Returns the model and its settings."""
    import nncf

    from colorization.colorize import network_input

    nncf.set_log_level(logging.ERROR)

    head = [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() == "Convolution"][-1]
    dataset = nncf.Dataset(list(views), lambda view: network_input(view[None]))
    with contextlib.redirect_stdout(sys.stderr):  # NNCF's progress bars; stdout is for the path written
        quantized = nncf.quantize(
            model,
            dataset,
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=len(views),
            ignored_scope=nncf.IgnoredScope(names=[head]),
        )
    settings = {
        "method": "nncf.quantize (post-training, mixed preset, fast bias correction)",
        "weights": "int8, symmetric, per output channel",
        "activations": "uint8 / int8 (asymmetric where the preset says), per tensor",
        "float32_nodes": [head],
    }
    return quantized, settings


def rt_entries(record: dict) -> dict[str, str]:
    """The provenance as ``rt_info`` text: each key -> text (JSON for non-text values)."""
    from colorization.export.onnx import metadata_entries

    return {key.split(".", 1)[1]: value for key, value in metadata_entries(record).items()}
