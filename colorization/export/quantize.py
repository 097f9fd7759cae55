"""int8 exports: ONNX Runtime's post-training static quantization, calibrated on training images.

:func:`quantize_int8` runs ONNX Runtime's own tools: ``quant_pre_process`` (graph optimization and
shape inference), then ``quantize_static`` in the QDQ format (QuantizeLinear / DequantizeLinear
pairs, which ONNX Runtime fuses into int8 kernels), with

* weights int8, symmetric, one scale per output channel, in 7 bits (``reduce_range``): x86 int8 kernels
  without VNNI (AVX2, AVX-512F) add pairs of uint8 x int8 products in 16 bits, which 8-bit weights can
  saturate (on the sample photos: mean |Δab| vs fp32 0.41 with 8 bits, 0.13 with 7); activations uint8,
  one scale per tensor (MinMax calibration);
* every convolution quantized except the head's (``conv12_ab`` / ``conv12_bins``): its ab / 128
  or bin probabilities, and the softmax and upsampling after it, stay float32, so the annealed
  mean of the classification head decodes probabilities, not 256 levels of them.

The calibration images (:mod:`colorization.export.calibration`) go through the network one at a
time, and ONNX Runtime merges the activation ranges every :data:`RANGES_EVERY` images, so memory
stays that of a few images whatever the size of the set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorization.colorize import network_input

RANGES_EVERY = 4  # calibration images whose activations are held before their ranges are merged


class ViewReader:
    """ONNX Runtime's calibration reader over 256x256 uint8 views: one scaled-L image per call."""

    def __init__(self, views: np.ndarray, input_name: str = "L"):
        self.views = views
        self.input_name = input_name
        self.position = 0

    def get_next(self) -> dict | None:
        if self.position >= len(self.views):
            return None
        self.position += 1
        return {self.input_name: network_input(self.views[self.position - 1 : self.position])}

    def rewind(self) -> None:
        self.position = 0


def quantize_int8(fp32: Path, output: Path, views: np.ndarray) -> dict:
    """Write the int8 quantization of the float32 model ``fp32`` to ``output``; return its settings.

    Parameters
    ----------
    views : ndarray, shape (N, 256, 256, 3), uint8
        The calibration images (training split).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = output.with_name(output.stem + ".prepared.onnx")
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    kept = float_nodes(prepared)
    quantize_static(
        str(prepared),
        str(output),
        ViewReader(views),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        calibrate_method=CalibrationMethod.MinMax,
        nodes_to_exclude=kept,
        extra_options=ranges_option(len(views)),
    )
    return {
        "method": "onnxruntime.quantization.quantize_static (QDQ, MinMax calibration)",
        "weights": "int8 in 7 bits (reduce_range), symmetric, per output channel",
        "activations": "uint8, per tensor",
        "float32_nodes": kept,
    }


def ranges_option(count: int) -> dict:
    """ONNX Runtime's ``CalibMaxIntermediateOutputs`` for ``count`` calibration images: at most
    :data:`RANGES_EVERY`, and never a divisor of ``count`` (onnxruntime 1.32 merges each full group
    and then fails with "No data is collected" when the last group came out empty: 64 images
    with groups of 4 did); none (all held) when every candidate divides ``count``."""
    every = next((k for k in range(RANGES_EVERY, 1, -1) if count % k), None)
    return {"CalibMaxIntermediateOutputs": every} if every else {}


def float_nodes(path: Path) -> list[str]:
    """The nodes that stay float32: the last convolution (the head) and every node after it."""
    import onnx

    nodes = onnx.load(str(path), load_external_data=False).graph.node
    last_conv = max(index for index, node in enumerate(nodes) if node.op_type == "Conv")
    return [node.name for node in nodes[last_conv:]]
