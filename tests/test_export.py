"""Exported networks: ONNX files that run without TensorFlow, agree with Keras, refuse bad input in one line.

Fast tests use small ONNX graphs built here (a 3x3 convolution with the network's input and output);
the ``slow`` ones export the shipped models with Keras' exporter (tens of seconds each).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from colorization.ablation.quantize import NUM_BINS
from colorization.colorize import colorize, predict_ab
from colorization.export import METADATA_PREFIX, sidecar_path
from colorization.export.calibration import calibration_set
from colorization.export.onnx import check_request, export_model, metadata_entries
from colorization.export.runtime import load_onnx
from colorization.io.files import OutputExistsError, sha256_file
from colorization.weights import WeightsError, registry

ROOT = Path(__file__).resolve().parents[1]
PARITY_LIMIT = 0.5  # Lab units: issue 16's tolerance for fp32 vs Keras


def tiny_onnx(
    path: Path,
    *,
    size=256,
    channels_in: int = 1,
    channels_out: int = 2,
    stride: int = 1,
    inputs: int = 1,
    dtype=TensorProto.FLOAT,
    metadata: dict | None = None,
) -> Path:
    """An ONNX model with the network's interface: NHWC in, a 3x3 convolution (tanh, or a softmax
    for more than 2 channels), NHWC out. Options break one part of the contract at a time."""
    rng = np.random.default_rng(0)
    kernel = numpy_helper.from_array(rng.normal(0, 0.3, (channels_out, channels_in, 3, 3)).astype(np.float32), "W")
    activation = helper.make_node("Tanh", ["conv"], ["act"]) if channels_out == 2 else None
    if activation is None:
        activation = helper.make_node("Softmax", ["conv"], ["act"], axis=1)
    nodes = [
        helper.make_node("Cast", ["L"], ["Lf"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["Lf"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "W"], ["conv"], pads=[1, 1, 1, 1], strides=[stride, stride]),
        activation,
        helper.make_node("Transpose", ["act"], ["out"], perm=[0, 2, 3, 1]),
    ]
    side = None if size is None else size
    graph_inputs = [helper.make_tensor_value_info("L", dtype, ["batch", side, side, channels_in])]
    graph_inputs += [helper.make_tensor_value_info(f"extra{i}", TensorProto.FLOAT, [1]) for i in range(inputs - 1)]
    out_side = None if size is None else size // stride
    output = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", out_side, out_side, channels_out])
    model = helper.make_model(
        helper.make_graph(nodes, "tiny", graph_inputs, [output], [kernel]), opset_imports=[helper.make_opsetid("", 15)]
    )
    model.ir_version = 8
    for key, value in metadata_entries(metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def sample_views() -> np.ndarray:
    """The 9 sample photographs paper-cropped to 256x256 (the tiny set), in path order."""
    from colorization.data.cache import decode_file
    from colorization.data.manifest import build_manifest, usable
    from colorization.data.sources import get_source

    table = usable(build_manifest(get_source("sample"), progress=False)).sort_values("relpath")
    assert len(table) == 9
    return np.stack([decode_file(path) for path in table["path"]])


# --- the runtime, on small hand-made graphs ---------------------------------------------------------------


@pytest.mark.parametrize("channels", [2, NUM_BINS])
def test_an_onnx_model_goes_through_the_inference_path_like_keras(channels, tmp_path, sample_views):
    model = load_onnx(tiny_onnx(tmp_path / "tiny.onnx", channels_out=channels))
    assert model.output_shape == (None, 256, 256, channels) and model.input_shape == (None, 256, 256, 1)
    assert model.predict_on_batch(np.zeros((3, 256, 256, 1), np.float32)).shape == (3, 256, 256, channels)
    ab = predict_ab(model, sample_views[:2])
    assert ab.shape == (2, 256, 256, 2) and ab.dtype == np.float32 and np.isfinite(ab).all() and np.abs(ab).max() > 0


def test_any_size_model_is_checked_on_each_run(tmp_path):
    model = load_onnx(tiny_onnx(tmp_path / "any.onnx", size=None))
    assert model.output_shape == (None, None, None, 2)
    halving = load_onnx(tiny_onnx(tmp_path / "halving.onnx", size=None, stride=2))
    with pytest.raises(WeightsError, match=r"halving\.onnx: the network gave an output of shape \(1, 128, 128, 2\)"):
        halving.predict_on_batch(np.zeros((1, 256, 256, 1), np.float32))


def _truncated(path: Path) -> Path:
    tiny_onnx(path)
    path.write_bytes(path.read_bytes()[:-300])
    return path


def _zip_named_onnx(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    return path


def _holding(content: bytes):
    def make(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return make


BAD_FILES = {
    "missing": (lambda p: p, "no such model file"),
    "folder": (lambda p: p.mkdir() or p, "is a folder"),
    "empty": (_holding(b""), r"empty file \(0 bytes\)"),
    "text": (_holding(b"not a model\n" * 10), "not a usable ONNX model"),
    "random bytes": (_holding(np.random.default_rng(1).bytes(4096)), "not a usable ONNX model"),
    "a zip (a .keras renamed)": (_zip_named_onnx, "not a usable ONNX model"),
    "truncated": (_truncated, "not a usable ONNX model"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_file_that_is_not_a_sound_onnx_model_is_one_line(case, tmp_path):
    make, message = BAD_FILES[case]
    path = make(tmp_path / "model.onnx")
    with pytest.raises(WeightsError, match=message) as refused:
        load_onnx(path)
    assert str(refused.value).startswith(str(path)) and "\n" not in str(refused.value)


def test_a_model_file_must_end_in_onnx(tmp_path):
    path = tiny_onnx(tmp_path / "model.onnx").rename(tmp_path / "model.bin")
    with pytest.raises(WeightsError, match=r"model\.bin: expected an \.onnx model file"):
        load_onnx(path)


WRONG_CONTRACTS = {
    "two inputs": (dict(inputs=2), "2 input"),
    "128x128 input": (dict(size=128), r"input is 128x128x1 \(tensor\(float\)\)"),
    "RGB input": (dict(channels_in=3), "input is 256x256x3"),
    "int64 input": (dict(dtype=TensorProto.INT64), r"input is 256x256x1 \(tensor\(int64\)\)"),
    "3 output channels": (dict(channels_out=3), "output is 256x256x3"),
    "half-size output": (dict(stride=2), "output is 128x128x2"),
}


@pytest.mark.parametrize("case", WRONG_CONTRACTS, ids=list(WRONG_CONTRACTS))
def test_a_model_that_does_not_fit_the_network_path_is_refused(case, tmp_path):
    options, message = WRONG_CONTRACTS[case]
    path = tiny_onnx(tmp_path / "model.onnx", **options)
    with pytest.raises(WeightsError, match=message) as refused:
        load_onnx(path)
    assert str(refused.value).startswith(f"{path}: ") and "\n" not in str(refused.value)


def test_the_registered_vividness_follows_the_source_weights(tmp_path):
    name, entry = next((name, entry) for name, entry in registry().items() if "vividness" in entry)
    shipped = load_onnx(
        tiny_onnx(tmp_path / "a.onnx", metadata={"source_sha256": entry["sha256"], "precision": "fp32"})
    )
    assert shipped.default_vividness == entry["vividness"]["default"], name
    assert shipped.provenance == {"source_sha256": entry["sha256"], "precision": "fp32"}
    trained = load_onnx(tiny_onnx(tmp_path / "b.onnx", metadata={"source_sha256": "0" * 64}))
    foreign = load_onnx(tiny_onnx(tmp_path / "c.onnx"))
    assert not hasattr(trained, "default_vividness") and not hasattr(foreign, "default_vividness")
    assert foreign.provenance == {}


NO_TENSORFLOW = textwrap.dedent(
    """
    import sys
    from colorization.colorize import colorize
    from colorization.data.sources import sample_path
    from colorization.export.runtime import load_onnx

    model = load_onnx(sys.argv[1])
    result = colorize(model, sample_path("coffee.png"))
    assert result.rgb.shape == (400, 600, 3), result.rgb.shape
    print(sorted(name for name in ("tensorflow", "keras", "jax", "torch") if name in sys.modules))
    """
)


@pytest.mark.subprocess
def test_colorizing_with_an_onnx_file_imports_no_tensorflow_or_keras(tmp_path):
    path = tiny_onnx(tmp_path / "model.onnx", metadata={"source_sha256": registry()["paper"]["sha256"]})
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, str(path)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- export requests refused before any work ---------------------------------------------------------------


def test_an_existing_file_or_sidecar_is_never_replaced_unless_asked(tmp_path):
    target = tmp_path / "model.onnx"
    for existing in (target, sidecar_path(target)):
        existing.write_text("mine")
        with pytest.raises(OutputExistsError):
            check_request(target, "onnx", "fp32", None, overwrite=False)
        check_request(target, "onnx", "fp32", None, overwrite=True)
        existing.unlink()
    with pytest.raises(OutputExistsError):
        export_model("paper", _dangling_link(tmp_path))


def _dangling_link(folder: Path) -> Path:
    link = folder / "link.onnx"
    link.symlink_to(folder / "nowhere")
    return link


@pytest.mark.parametrize(
    "output, options, message",
    [
        ("model.txt", {}, r"must end in \.onnx"),
        ("model.onnx", {"precision": "bf16"}, "precision must be one of fp32, fp16, int8"),
        ("model.onnx", {"fmt": "openvino"}, r"openvino exports must end in \.xml"),
        ("model.onnx", {"precision": "int8"}, "int8 needs calibration images"),
        ("folder.onnx", {}, "is a folder"),
        ("file/model.onnx", {}, "file: is a file, not a folder"),
    ],
)
def test_an_export_that_cannot_be_made_is_refused_before_any_work(output, options, message, tmp_path):
    (tmp_path / "folder.onnx").mkdir()
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValueError, match=message):
        export_model("paper", tmp_path / output, **options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.onnx"]


def test_the_cli_refuses_an_existing_int8_output_before_reading_calibration_images(tmp_path, capsys, monkeypatch):
    from colorization.cli import main
    from colorization.export import calibration

    monkeypatch.setattr(calibration, "calibration_set", lambda *a, **k: pytest.fail("calibration images were read"))
    (tmp_path / "x.onnx").write_text("mine")
    assert main(["export", "paper", "-o", str(tmp_path / "x.onnx"), "--precision", "int8"]) == 2
    assert "x.onnx: exists (use --overwrite to replace it)" in capsys.readouterr().err
    assert (tmp_path / "x.onnx").read_text() == "mine"


def test_the_cli_names_an_unknown_model_in_one_line(tmp_path, capsys):
    from colorization.cli import main

    assert main(["export", "nope", "-o", str(tmp_path / "x.onnx")]) == 2
    error = capsys.readouterr().err
    registered = "(classification, hints, paper)"
    assert error == f"colorization export: nope: neither a registered model {registered} nor a .keras file\n"
    assert main(["export", str(tmp_path / "gone.keras"), "-o", str(tmp_path / "x.onnx")]) == 2
    assert "gone.keras: no such weights file" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_int8_is_calibrated_on_the_training_split_only():
    from colorization.data.sources import SAMPLE_SPLITS

    calibration = calibration_set("sample")
    assert calibration.views.shape == (7, 256, 256, 3) and calibration.views.dtype == np.uint8
    assert not set(calibration.relpaths) & set(SAMPLE_SPLITS)  # the val and test images
    assert calibration.record()["images"] == 7 and calibration.record()["relpaths"] == sorted(calibration.relpaths)
    assert len(calibration_set("sample", limit=3).relpaths) == 3


# --- exports of the shipped models (slow: Keras' exporter) ------------------------------------------------


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """fp32 exports of both shipped models, through the command line."""
    from colorization.cli import main

    folder = tmp_path_factory.mktemp("exports")
    for name in ("paper", "classification"):
        assert main(["export", name, "-o", str(folder / f"{name}.onnx"), "-q"]) == 0
    return {name: folder / f"{name}.onnx" for name in ("paper", "classification")}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["paper", "classification"])
def test_fp32_export_agrees_with_keras_on_the_tiny_set(name, exports, sample_views):
    from colorization.weights import load_weights

    keras_model, onnx_model = load_weights(name=name), load_onnx(exports[name])
    assert onnx_model.default_vividness == keras_model.default_vividness
    for vividness in (None, 1.0):  # the registered default, and the network as trained
        difference = np.abs(
            predict_ab(onnx_model, sample_views, vividness) - predict_ab(keras_model, sample_views, vividness)
        )
        assert difference.max() <= PARITY_LIMIT, (name, vividness, difference.max())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["paper", "classification"])
def test_an_export_carries_its_provenance_inside_and_beside_it(name, exports):
    path = exports[name]
    side = json.loads(sidecar_path(path).read_text())
    metadata = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert side["sha256"] == sha256_file(path) and side["file"] == path.name
    assert side["source_sha256"] == registry()[name]["sha256"] and side["source_registered_name"] == name
    assert side["precision"] == "fp32" and side["keras_version"] and side["tf2onnx_version"] != "not installed"
    assert metadata == {METADATA_PREFIX + k: v for k, v in side.items() if k not in ("file", "sha256", "bytes")}
    assert load_onnx(path).provenance["head"] == ("classification" if name == "classification" else "regression")


@pytest.mark.slow
def test_a_model_the_trainer_writes_exports_too(model_file, tmp_path, sample_views):
    from colorization.weights import load_weights

    exported = export_model(model_file, tmp_path / "trained.onnx")
    model = load_onnx(exported.path)
    assert exported.provenance["source_registered_name"] == "" and not hasattr(model, "default_vividness")
    difference = np.abs(predict_ab(model, sample_views) - predict_ab(load_weights(model_file), sample_views))
    assert difference.max() <= PARITY_LIMIT


@pytest.mark.slow
@pytest.mark.parametrize("name", ["paper", "classification"])
def test_int8_records_its_calibration_and_stays_near_fp32(name, exports, tmp_path, sample_views):
    from colorization.cli import main

    path = tmp_path / f"{name}-int8.onnx"
    assert main(["export", name, "-o", str(path), "--precision", "int8", "-q"]) == 0
    side = json.loads(sidecar_path(path).read_text())
    assert side["precision"] == "int8" and side["calibration"] == calibration_set("sample").record()
    assert path.stat().st_size < exports[name].stat().st_size / 2
    int8, fp32 = load_onnx(path), load_onnx(exports[name])
    difference = np.abs(predict_ab(int8, sample_views, 1.0) - predict_ab(fp32, sample_views, 1.0))
    assert difference.mean() <= 0.25 and np.percentile(difference, 99) <= 2.0, (difference.mean(), difference.max())


@pytest.mark.slow
def test_the_exported_shipped_model_colorizes_a_photo_as_keras_does(exports):
    from colorization.data.sources import sample_path
    from colorization.weights import load_weights

    photo = sample_path("chelsea.png")
    via_onnx = colorize(load_onnx(exports["paper"]), photo).rgb.astype(int)
    via_keras = colorize(load_weights(), photo).rgb.astype(int)
    assert np.abs(via_onnx - via_keras).max() <= 2


@pytest.mark.subprocess
def test_the_command_line_colorizes_with_an_onnx_file_and_no_tensorflow(tmp_path):
    """``colorization colorize --weights model.onnx``: load_weights hands the file to ONNX Runtime."""
    from colorization.weights import load_weights

    path = tiny_onnx(tmp_path / "model.onnx")
    assert type(load_weights(path)).__name__ == "OnnxModel"
    script = (
        "import sys; from colorization.cli import main; "
        "code = main(['colorize', sys.argv[1], '-o', sys.argv[2], '--weights', sys.argv[3], '-q']); "
        "print(code, sorted(n for n in ('tensorflow', 'keras') if n in sys.modules))"
    )
    from tests.conftest import REAL_PHOTOS, SKIMAGE_DATA

    photo = SKIMAGE_DATA / REAL_PHOTOS[0]
    done = subprocess.run(
        [sys.executable, "-c", script, str(photo), str(tmp_path / "out"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "out" / f"{Path(REAL_PHOTOS[0]).stem}.png").is_file()


@pytest.mark.slow
def test_int8_calibrates_on_a_number_of_images_its_range_groups_divide(exports, tmp_path, sample_views):
    # onnxruntime's grouped range collection failed ("No data is collected") when the group size divided
    # the number of calibration images (64 images, groups of 4); 8 views: every candidate group but 3 divides it
    from colorization.export.quantize import quantize_int8, ranges_option

    assert ranges_option(64) == {"CalibMaxIntermediateOutputs": 3} and ranges_option(12) == {}
    assert all(count % ranges_option(count).get("CalibMaxIntermediateOutputs", count + 1) for count in range(1, 70))
    output = tmp_path / "int8.onnx"
    quantize_int8(exports["paper"], output, sample_views[:8])
    assert predict_ab(load_onnx(output), sample_views[:2], 1.0).shape == (2, 256, 256, 2)
