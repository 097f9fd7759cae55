"""Which network `colorization video` runs without --weights (colorization.video.runtime), and the shipped
int8 export it runs on a CPU: registered, verified, traceable to the paper network, and close to it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from colorization.video import runtime
from colorization.weights import WEIGHTS_DIR, WeightsError, registry, shipped_export

ENTRY = registry()["paper"]["exports"]["onnx-int8"]


@pytest.fixture
def no_gpu(monkeypatch, tmp_path):
    (tmp_path / "gpus").mkdir()
    monkeypatch.setattr(runtime, "NVIDIA_GPUS", tmp_path / "gpus")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return tmp_path / "gpus"


def _onnxruntime(monkeypatch, installed: bool):
    real = runtime.importlib.util.find_spec
    monkeypatch.setattr(
        runtime.importlib.util,
        "find_spec",
        lambda name: (real(name) if installed else None) if name == "onnxruntime" else real(name),
    )


@pytest.mark.parametrize(
    ("backend", "gpu", "installed", "chosen"),
    [
        ("tensorflow", False, True, "onnx-int8"),  # a CPU with ONNX Runtime: the int8 export
        ("tensorflow", True, True, "onnx-int8"),  # the core install's TensorFlow is its CPU build
        ("jax", True, True, "keras"),  # Keras on the GPU
        ("jax", False, True, "onnx-int8"),
        ("tensorflow", False, False, "keras"),  # no ONNX Runtime: float32 Keras
    ],
)
def test_auto_picks_by_the_documented_rule(no_gpu, monkeypatch, backend, gpu, installed, chosen):
    monkeypatch.setenv("KERAS_BACKEND", backend)
    if gpu:
        (no_gpu / "0000:01:00.0").mkdir()
    _onnxruntime(monkeypatch, installed)
    assert runtime.choose_runtime("auto") == chosen
    assert runtime.choose_runtime("keras") == "keras" and runtime.choose_runtime("onnx-int8") == "onnx-int8"


def test_hidden_gpus_do_not_count(no_gpu, monkeypatch):
    (no_gpu / "0000:01:00.0").mkdir()
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert not runtime.keras_on_gpu()


def test_an_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="choose one of auto, keras, onnx-int8"):
        runtime.choose_runtime("tpu")


def test_the_shipped_export_is_verified_and_traceable_to_the_paper_network():
    path = shipped_export("paper", "onnx-int8")
    assert path == WEIGHTS_DIR / ENTRY["file"] and runtime.video_weights("onnx-int8") == path
    assert runtime.video_weights("keras") is None and shipped_export("classification", "onnx-int8") is None
    sidecar = json.loads((WEIGHTS_DIR / f"{ENTRY['file']}.json").read_text())
    assert sidecar["sha256"] == ENTRY["sha256"] and sidecar["precision"] == "int8"
    assert sidecar["source_sha256"] == registry()["paper"]["sha256"]  # made from the shipped paper network
    assert sidecar["calibration"]["source"] == "caltech101" and sidecar["calibration"]["split"] == "train"


def test_an_altered_export_is_refused(monkeypatch, tmp_path):
    altered = tmp_path / ENTRY["file"]
    altered.write_bytes((WEIGHTS_DIR / ENTRY["file"]).read_bytes()[:-1] + b"\0")
    monkeypatch.setattr("colorization.weights.WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="does not match the registered"):
        shipped_export("paper", "onnx-int8")
    altered.unlink()
    with pytest.raises(WeightsError, match="listed but missing"):
        runtime.video_weights("onnx-int8")


def test_onnx_int8_without_onnx_runtime_says_what_to_install(monkeypatch):
    _onnxruntime(monkeypatch, installed=False)
    with pytest.raises(WeightsError, match=r"pip install 'lab-cnn-colorization\[video\]', or use --runtime keras"):
        runtime.video_weights("onnx-int8")


def test_the_int8_export_colours_like_the_paper_network(real_photos):
    """On the package's sample photographs the int8 export's ab stays within half a Lab unit of float32 Keras on
    average (its Caltech-101 test-split parity, PSNR and AuC, is benchmarks/export_parity.py's)."""
    pytest.importorskip("onnxruntime")
    from colorization.colorize import network_view, predict_ab
    from colorization.weights import load_weights

    views = np.stack([network_view(rgb, "full") for rgb in list(real_photos.values())[:6]])
    keras_ab = predict_ab(load_weights(name="paper"), views, 1.0)
    int8_ab = predict_ab(load_weights(shipped_export("paper", "onnx-int8")), views, 1.0)
    difference = np.abs(int8_ab - keras_ab)
    assert difference.mean() < 0.5 and np.percentile(difference, 99) < 5.0  # measured: 0.21, 3.7
