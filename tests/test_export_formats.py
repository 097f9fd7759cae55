"""The other export formats (OpenVINO IR, LiteRT, SavedModel) and precisions (fp16): each runs through the
inference path like Keras, refuses bad files in one line, carries its provenance; the request checks.

Fast tests use small graphs built here with the network's interface (a 3x3 convolution); the ``slow``
ones export the shipped model in every format and precision and compare it with Keras on the tiny set.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from colorization.colorize import predict_ab
from colorization.export import exported_format, load_exported, output_files, sidecar_path
from colorization.export.formats import check_request, export_model
from colorization.io.files import OutputExistsError, sha256_file
from colorization.weights import WeightsError, load_weights, registry
from tests import test_export as onnx_tests
from tests.test_export import PARITY_LIMIT, ROOT, tiny_onnx

openvino = pytest.importorskip("openvino")
pytest.importorskip("ai_edge_litert")
sample_views = onnx_tests.sample_views  # the tiny set, a fixture
PROVENANCE = {"source_sha256": "0" * 64, "precision": "fp32", "format": "test"}


def tiny_openvino(path: Path, metadata: dict | None = None, **options) -> Path:
    """:func:`tests.test_export.tiny_onnx` as an OpenVINO IR (``path`` .xml and its .bin)."""
    from colorization.export.openvino_runtime import PROVENANCE_SECTION

    model = openvino.convert_model(str(tiny_onnx(path.with_suffix(".onnx"), **options)))
    for key, value in (metadata or {}).items():
        model.set_rt_info(value, [PROVENANCE_SECTION, key])
    openvino.save_model(model, str(path), compress_to_fp16=False)
    return path


def tiny_saved_model(folder: Path, body=None, batch=None) -> Path:
    """A SavedModel with the network's interface: ``L`` (batch, 256, 256, 1) -> tanh of a 3x3 convolution
    (or ``body``), 2 channels."""
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(np.random.default_rng(0).normal(0, 0.3, (3, 3, 1, 2)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec((batch, 256, 256, 1), tf.float32, name="L")])
        def serve(self, x):
            return {"ab": (body or (lambda m, x: tf.tanh(tf.nn.conv2d(x, m.kernel, 1, "SAME"))))(self, x)}

    module = Tiny()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


def tiny_litert(path: Path, metadata: dict | None = None) -> Path:
    """:func:`tiny_saved_model` (batch 1) converted to LiteRT by TensorFlow's converter, with ``metadata``."""
    import tensorflow as tf

    from colorization.export.litert import with_metadata

    folder = tiny_saved_model(path.with_suffix(".saved"), batch=1)
    content = tf.lite.TFLiteConverter.from_saved_model(str(folder)).convert()
    path.write_bytes(with_metadata(content, metadata) if metadata else content)
    return path


MAKERS = {"openvino": (tiny_openvino, "model.xml"), "litert": (tiny_litert, "model.tflite")}


@pytest.mark.parametrize("fmt", MAKERS)
def test_an_exported_file_goes_through_the_inference_path_like_keras(fmt, tmp_path, sample_views):
    make, name = MAKERS[fmt]
    model = load_weights(make(tmp_path / name, metadata=PROVENANCE))
    assert exported_format(model.path) == fmt and type(model).__name__ in ("OpenVinoModel", "LiteRtModel")
    assert model.input_shape == (None, 256, 256, 1) and model.output_shape == (None, 256, 256, 2)
    assert model.provenance == PROVENANCE and not hasattr(model, "default_vividness")
    ab = predict_ab(model, sample_views[:3])
    assert ab.shape == (3, 256, 256, 2) and np.isfinite(ab).all() and np.abs(ab).max() > 0


@pytest.mark.parametrize("fmt", MAKERS)
def test_the_registered_vividness_follows_the_source_weights_in_every_format(fmt, tmp_path):
    entry = registry()["paper"]
    make, name = MAKERS[fmt]
    model = load_exported(make(tmp_path / name, metadata={"source_sha256": entry["sha256"]}))
    assert model.default_vividness == entry["vividness"]["default"]


def test_a_saved_model_folder_runs_through_the_inference_path(tmp_path, sample_views):
    model = load_weights(tiny_saved_model(tmp_path / "saved"))
    assert type(model).__name__ == "SavedModelModel" and model.path == tmp_path / "saved"
    assert model.output_shape == (None, 256, 256, 2) and model.provenance == {}
    assert predict_ab(model, sample_views[:2]).shape == (2, 256, 256, 2)


def test_a_saved_model_that_would_touch_files_is_refused_before_it_runs(tmp_path):
    import tensorflow as tf

    marker = tmp_path / "ran.txt"

    def writes(module, x):
        tf.io.write_file(str(marker), "ran")
        return tf.tile(x, [1, 1, 1, 2])

    folder = tiny_saved_model(tmp_path / "writer", body=writes)
    with pytest.raises(WeightsError, match=r"writer: the SavedModel's .* \(WriteFile\); refused") as refused:
        load_weights(folder)
    assert "\n" not in str(refused.value) and not marker.exists()

    def reads(module, x):
        size = tf.cast(tf.strings.length(tf.io.read_file(__file__)), tf.float32)
        return tf.tile(x, [1, 1, 1, 2]) + 0.0 * size

    reader = tiny_saved_model(tmp_path / "reader", body=reads)
    with pytest.raises(WeightsError, match="ReadFile"):
        load_weights(reader)


def _truncated(make, name):
    def cut(path: Path) -> Path:
        make(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return path

    return cut


def _holding(content: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return make


def _with_bin(path: Path) -> Path:
    path.with_suffix(".bin").write_bytes(b"\0" * 64)
    return path


def _without_bin(path: Path) -> Path:
    tiny_openvino(path).with_suffix(".bin").unlink()
    return path


def _short_bin(path: Path) -> Path:
    binary = tiny_openvino(path).with_suffix(".bin")
    binary.write_bytes(binary.read_bytes()[:10])
    return path


BAD_FILES = {
    "missing": ("model.xml", lambda p: p, "no such model file"),
    "folder": ("model.tflite", lambda p: p.mkdir() or p, "is a folder"),
    "empty xml": ("model.xml", _holding(b""), r"empty file \(0 bytes\)"),
    "empty tflite": ("model.tflite", _holding(b""), r"empty file \(0 bytes\)"),
    "text xml": (
        "model.xml",
        lambda p: _holding(b"not a model\n" * 10)(p) and _with_bin(p),
        "not a usable OpenVINO IR",
    ),
    "random tflite": ("model.tflite", _holding(np.random.default_rng(1).bytes(4096)), r"not a usable LiteRT"),
    "truncated xml": ("model.xml", _truncated(tiny_openvino, "model.xml"), "not a usable OpenVINO IR model"),
    "truncated tflite": ("model.tflite", _truncated(tiny_litert, "model.tflite"), r"not a usable LiteRT"),
    "xml without its .bin": ("model.xml", _without_bin, r"its weights file model\.bin is missing"),
    "xml with a short .bin": ("model.xml", _short_bin, "not a usable OpenVINO IR model"),
    "folder without saved_model.pb": ("saved", lambda p: p.mkdir() or p, "is a folder, not a .keras"),
    "damaged saved_model.pb": ("saved", lambda p: _damaged_saved_model(p), "not a usable TensorFlow SavedModel"),
}


def _damaged_saved_model(folder: Path) -> Path:
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"\xff" * 64)
    return folder


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_file_that_is_not_a_sound_export_is_one_line(case, tmp_path):
    name, make, message = BAD_FILES[case]
    path = make(tmp_path / name)
    with pytest.raises(WeightsError, match=message) as refused:
        load_weights(path)
    assert str(refused.value).startswith(str(path)) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(size=128), r"input is 128x128x1 \(f32\)"),
        (dict(channels_out=3), "output is 256x256x3"),
        (dict(inputs=2), "2 input"),
    ],
)
def test_an_ir_that_does_not_fit_the_network_path_is_refused(options, message, tmp_path):
    path = tiny_openvino(tmp_path / "model.xml", **options)
    with pytest.raises(WeightsError, match=message):
        load_exported(path)


NO_TENSORFLOW = textwrap.dedent(
    """
    import sys
    from colorization.colorize import colorize
    from colorization.data.sources import sample_path
    from colorization.weights import load_weights

    result = colorize(load_weights(sys.argv[1]), sample_path("coffee.png"))
    assert result.rgb.shape == (400, 600, 3), result.rgb.shape
    print(sorted(name for name in ("tensorflow", "keras", "jax", "torch") if name in sys.modules))
    """
)


@pytest.mark.subprocess
@pytest.mark.parametrize("fmt", MAKERS)
def test_colorizing_with_an_openvino_or_litert_file_imports_no_tensorflow(fmt, tmp_path):
    make, name = MAKERS[fmt]
    path = make(tmp_path / name)
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, str(path)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "XNNPACK" not in done.stderr  # the LiteRT interpreter's own stderr line is held back


RUNTIME_MODULES = ("runtime", "openvino_runtime", "litert_runtime")


@pytest.mark.parametrize("module", RUNTIME_MODULES)
def test_the_runtimes_import_neither_tensorflow_nor_keras(module):
    import ast

    from tests.test_architecture import imports

    tree = ast.parse((ROOT / "colorization" / "export" / f"{module}.py").read_text(encoding="utf-8"))
    banned = ("tensorflow", "keras", "tf2onnx", "colorization.model", "colorization.data")
    assert not [name for name, _ in imports(tree) if name.startswith(banned)]


# --- export requests refused before any work ---------------------------------------------------------------


@pytest.mark.parametrize(
    "output, fmt, precision, message",
    [
        ("model.onnx", "openvino", "fp32", r"openvino exports must end in \.xml"),
        ("model.xml", "litert", "fp16", r"litert exports must end in \.tflite"),
        ("model.tflite", "onnx", "int8", r"onnx exports must end in \.onnx"),
        ("saved", "saved_model", "fp16", "saved_model exports are fp32 only"),
        ("saved", "saved_model", "int8", "saved_model exports are fp32 only"),
        ("mine", "saved_model", "fp32", "is a folder that is not a SavedModel"),
        ("file", "saved_model", "fp32", "is a file; a SavedModel is a folder"),
        ("model.onnx", "onnx", "bf16", "precision must be one of fp32, fp16, int8"),
        ("model.onnx", "coreml", "fp32", "format must be one of onnx, openvino, litert, saved_model"),
    ],
)
def test_an_export_that_cannot_be_made_is_refused_before_any_work(output, fmt, precision, message, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "photo.jpg").write_text("mine")
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValueError, match=message):
        export_model("paper", tmp_path / output, fmt=fmt, precision=precision)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]
    assert (tmp_path / "mine" / "photo.jpg").read_text() == "mine"


def test_an_existing_bin_or_sidecar_of_an_ir_is_never_replaced_unless_asked(tmp_path):
    target = tmp_path / "model.xml"
    assert output_files("openvino", target) == [target, tmp_path / "model.bin"]
    for existing in (tmp_path / "model.bin", sidecar_path(target)):
        existing.write_text("mine")
        with pytest.raises(OutputExistsError):
            check_request(target, "openvino", "fp32", None, overwrite=False)
        check_request(target, "openvino", "fp32", None, overwrite=True)
        existing.unlink()


def test_the_cli_refuses_a_precision_the_format_cannot_give_in_one_line(tmp_path, capsys):
    from colorization.cli import main

    assert main(["export", "paper", "-o", str(tmp_path / "sm"), "--format", "saved_model", "--precision", "int8"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("colorization export: saved_model exports are fp32 only") and error.count("\n") == 1
    assert not list(tmp_path.iterdir())


# --- exports of the shipped model in every format and precision (slow: the converters) ----------------------

EXPORTS = {
    ("onnx", "fp16"): "paper-fp16.onnx",
    ("openvino", "fp32"): "paper.xml",
    ("openvino", "fp16"): "paper-fp16.xml",
    ("openvino", "int8"): "paper-int8.xml",
    ("litert", "fp32"): "paper.tflite",
    ("litert", "fp16"): "paper-fp16.tflite",
    ("litert", "int8"): "paper-int8.tflite",
    ("saved_model", "fp32"): "paper-saved-model",
}
INT8_MEAN_LIMIT, INT8_P99_LIMIT = 0.35, 2.5  # Lab units vs Keras, as for ONNX int8 (tests/test_export.py)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """The shipped paper model in each format and precision of :data:`EXPORTS`, through the command line."""
    from colorization.cli import main

    folder = tmp_path_factory.mktemp("formats")
    for (fmt, precision), name in EXPORTS.items():
        command = ["export", "paper", "-o", str(folder / name), "--format", fmt, "--precision", precision, "-q"]
        assert main(command) == 0, (fmt, precision)
    return {key: folder / name for key, name in EXPORTS.items()}


@pytest.fixture(scope="module")
def keras_ab(sample_views) -> np.ndarray:
    return predict_ab(load_weights(name="paper"), sample_views, 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("key", list(EXPORTS), ids=["-".join(key) for key in EXPORTS])
def test_every_format_and_precision_agrees_with_keras_on_the_tiny_set(key, exports, sample_views, keras_ab):
    model = load_weights(exports[key])
    assert model.default_vividness == registry()["paper"]["vividness"]["default"]
    difference = np.abs(predict_ab(model, sample_views, 1.0) - keras_ab)
    if key[1] == "int8":
        assert difference.mean() <= INT8_MEAN_LIMIT and np.percentile(difference, 99) <= INT8_P99_LIMIT, key
    else:
        assert difference.max() <= PARITY_LIMIT, (key, difference.max())


@pytest.mark.slow
@pytest.mark.parametrize("key", list(EXPORTS), ids=["-".join(key) for key in EXPORTS])
def test_every_export_carries_its_provenance_inside_and_beside_it(key, exports):
    path = exports[key]
    side = json.loads(sidecar_path(path).read_text())
    inside = load_exported(path).provenance
    assert side["format"] == inside["format"] == key[0] and side["precision"] == inside["precision"] == key[1]
    assert side["source_sha256"] == inside["source_sha256"] == registry()["paper"]["sha256"]
    files = side.get("files", {path.name: {"sha256": side["sha256"]}})
    root = path if key[0] == "saved_model" else path.parent
    assert all(sha256_file(root / name) == entry["sha256"] for name, entry in files.items())
    if key[1] == "int8":
        assert json.loads(inside["calibration"])["split"] == "train"


@pytest.mark.slow
def test_a_saved_model_export_replaces_only_a_saved_model(exports, tmp_path):
    target = tmp_path / "copy"
    export_model("paper", target, fmt="saved_model")
    first = json.loads(sidecar_path(target).read_text())["sha256"]
    with pytest.raises(OutputExistsError):
        export_model("paper", target, fmt="saved_model")
    export_model("paper", target, fmt="saved_model", overwrite=True)
    assert (target / "saved_model.pb").is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["copy", "copy.json"]
    assert json.loads(sidecar_path(target).read_text())["sha256"] != "" and first


@pytest.mark.parametrize("fmt", MAKERS)
def test_a_file_above_the_size_limit_is_refused_unread(fmt, tmp_path, monkeypatch):
    from colorization.export import openvino_runtime, runtime

    make, name = MAKERS[fmt]
    path = make(tmp_path / name)
    monkeypatch.setattr(openvino_runtime, "MAX_UNPACKED_BYTES", 64)  # the IR's .bin
    monkeypatch.setattr(runtime, "MAX_UNPACKED_BYTES", 64 if fmt == "litert" else 2**30)  # the file itself
    with pytest.raises(WeightsError, match=r"GiB limit") as refused:
        load_exported(path)
    assert str(refused.value).startswith(str(path))
