"""`load_weights`, the one place every front end loads a model: anything the network path
cannot run is refused on load with one plain line naming the file and what is wrong."""

from __future__ import annotations

import json
import os
import zipfile

import keras
import numpy as np
import pytest

from colorization.model import build_paper_model, save_model
from colorization.weights import WeightsError, load_weights, plain_line
from colorization.weights.storage import export_float16


def _refusal(path) -> str:
    with pytest.raises(WeightsError) as caught:
        load_weights(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and "\x1b" not in message
    return message


@pytest.fixture(scope="module")
def any_size_file(tmp_path_factory):
    """The paper's network, fully convolutional (input None x None), saved as .keras."""
    keras.utils.set_random_seed(0)
    return save_model(build_paper_model(input_size=None), tmp_path_factory.mktemp("weights") / "any.keras")


def _tiny(tmp_path, name, input_shape, filters=2, strides=1, inputs=1):
    layers = [keras.Input(input_shape) for _ in range(inputs)]
    joined = layers[0] if inputs == 1 else keras.layers.Concatenate()(layers)
    output = keras.layers.Conv2D(filters, 3, strides=strides, padding="same")(joined)
    return save_model(keras.Model(layers if inputs > 1 else layers[0], output), tmp_path / f"{name}.keras")


def test_fitting_models_load(any_size_file, model_file, tmp_path):
    assert load_weights(any_size_file).input_shape == (None, None, None, 1)
    assert load_weights(model_file).input_shape == (None, 256, 256, 1)
    assert load_weights(_tiny(tmp_path, "other", (256, 256, 1))).output_shape == (None, 256, 256, 2)


def test_model_of_another_input_size(tmp_path):
    path = save_model(build_paper_model(input_size=32), tmp_path / "size32.keras")
    message = _refusal(path)
    wanted = "input is 32x32x1, the network path needs 256x256x1 (or None x None x 1: any size; x4 for the hint network"
    assert wanted in message


@pytest.mark.parametrize(
    ("shape", "options", "expected"),
    [
        ((256, 256, 3), {}, "input is 256x256x3"),
        ((256, 128, 1), {}, "input is 256x128x1"),
        ((256, 256), {}, "input is 256x256,"),
        ((None, None, 1), {"strides": 2}, "output is 128x128x2 for a 256x256x1 input"),
        ((256, 256, 1), {"filters": 3}, "output is 256x256x3"),
        ((256, 256, 1), {"inputs": 2}, "has 2 input(s) and 1 output(s)"),
    ],
)
def test_model_whose_input_or_output_does_not_fit(shape, options, expected, tmp_path):
    if len(shape) == 2:
        inputs = keras.Input(shape)
        path = save_model(keras.Model(inputs, keras.layers.Dense(2)(inputs)), tmp_path / "rank3.keras")
    else:
        path = _tiny(tmp_path, "misfit", shape, **options)
    assert expected in _refusal(path)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(value, tmp_path):
    model = build_paper_model(input_size=None)
    kernel, bias = model.get_layer("conv7").get_weights()
    kernel[1, 1, 0, :3] = value
    model.get_layer("conv7").set_weights([kernel, bias])
    message = _refusal(save_model(model, tmp_path / "diverged.keras"))
    assert "3 weight value(s) are NaN or infinite (first in conv7/kernel)" in message


def test_folder_missing_and_other_suffixes(tmp_path, any_size_file):
    folder = tmp_path / "model.keras"
    folder.mkdir()
    assert "is a folder, not a .keras model file" in _refusal(folder)
    assert "no such weights file" in _refusal(tmp_path / "none.keras")
    (tmp_path / "dangling.keras").symlink_to(tmp_path / "gone.keras")
    assert "no such weights file" in _refusal(tmp_path / "dangling.keras")
    os.mkfifo(tmp_path / "pipe.keras")
    assert "not a regular file" in _refusal(tmp_path / "pipe.keras")
    h5 = tmp_path / "model.h5"
    h5.write_bytes(any_size_file.read_bytes())
    assert "expected a .keras model file" in _refusal(h5)


def test_files_that_are_not_keras_archives(tmp_path, any_size_file):
    data = any_size_file.read_bytes()
    cases = {
        "empty": (b"", "empty file (0 bytes)"),
        "hdf5": (b"\x89HDF\r\n\x1a\n" + bytes(200), "not a .keras zip archive (an HDF5 file?"),
        "text": (b"just some text\n", "not a .keras zip archive (another kind of file"),
        "truncated": (data[: len(data) // 2], "truncated or corrupt .keras archive"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / f"{name}.keras"
        path.write_bytes(content)
        assert expected in _refusal(path), name


def test_real_hdf5_model_renamed_keras(tmp_path):
    model = build_paper_model(input_size=32)
    model.save(tmp_path / "legacy.h5")
    renamed = tmp_path / "legacy.keras"
    (tmp_path / "legacy.h5").rename(renamed)
    assert "not a .keras zip archive (an HDF5 file? re-save the model as .keras)" in _refusal(renamed)


def test_damaged_archive_content(tmp_path, any_size_file):
    data = bytearray(any_size_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside model.weights.h5
    flipped = tmp_path / "flipped.keras"
    flipped.write_bytes(bytes(data))
    assert "truncated or corrupt .keras archive (bad checksum in model.weights.h5)" in _refusal(flipped)
    other_zip = tmp_path / "other.keras"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "a zip archive without config.json, not a Keras model" in _refusal(other_zip)


def test_library_messages_reach_the_user_as_one_plain_line(tmp_path):
    unknown = tmp_path / "unknown.keras"
    config = {"module": "nowhere", "class_name": "\x1b[31mMadeUp\x1b[0m", "config": {}, "registered_name": "x\ny"}
    with zipfile.ZipFile(unknown, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
    message = _refusal(unknown)  # Keras' message quotes the class name: its escape codes are removed
    assert "not a usable Keras model" in message and "MadeUp" in message
    assert (
        plain_line("\x1b[1;31merror:\x1b[0m bad\n  value \x1b]8;;http://x\x07link\x1b]8;;\x07")
        == "error: bad value link"
    )
    assert str(WeightsError("a\x1b[2K\rb\tc")) == "a b c"


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float16_export_refuses_weights_beyond_its_range(tmp_path):
    model = build_paper_model(input_size=None)
    kernel, bias = model.get_layer("conv1").get_weights()
    kernel[0, 0, 0, 0] = 1e6  # float16 ends at 65504
    model.get_layer("conv1").set_weights([kernel, bias])
    target = tmp_path / "half.keras"
    with pytest.raises(WeightsError, match="beyond float16's range"):
        export_float16(model, target)
    assert not target.exists()


def test_models_load_and_run_one_thread_at_a_time(model_file, monkeypatch):
    """Keras is not safe to build, load or run a model from two threads at once (two of the app's worker
    threads loading models together crashed the interpreter under TensorFlow): loading and predicting
    take turns, whichever thread asks."""
    import threading
    import time

    import colorization.model as model_module
    from colorization.decoding import raw_predictions

    inside, most = [0], [0]
    count = threading.Lock()
    real_load = model_module.keras.models.load_model

    def counted(*args, **kwargs):
        with count:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for the other threads to arrive
        try:
            return real_load(*args, **kwargs)
        finally:
            with count:
                inside[0] -= 1

    monkeypatch.setattr(model_module.keras.models, "load_model", counted)
    loaded, failures = [], []

    def load_and_run():
        try:
            model = load_weights(model_file)
            loaded.append(next(raw_predictions(model, np.zeros((1, 256, 256, 3), np.uint8))))
        except Exception as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=load_and_run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures and len(loaded) == 3
    assert most[0] == 1
    assert all(np.array_equal(one.values, loaded[0].values) for one in loaded)
