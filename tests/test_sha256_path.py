"""One digest for a weights file or a weights folder (a SavedModel): the provenance of any format."""

from __future__ import annotations

from colorization.io.files import sha256_file, sha256_path
from colorization.reporting.provenance import weights_entry


def test_a_file_gets_its_own_sha256(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"weights")
    assert sha256_path(path) == sha256_file(path)


def test_a_folder_digest_follows_names_and_contents(tmp_path):
    folder = tmp_path / "saved"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"graph")
    (folder / "variables" / "variables.index").write_bytes(b"index")
    first = sha256_path(folder)
    assert sha256_path(folder) == first  # stable
    (folder / "variables" / "variables.index").write_bytes(b"other")
    assert sha256_path(folder) != first  # content
    (folder / "variables" / "variables.index").write_bytes(b"index")
    assert sha256_path(folder) == first
    (folder / "variables" / "variables.index").rename(folder / "variables" / "renamed")
    assert sha256_path(folder) != first  # names


def test_weights_entry_of_a_saved_model_folder(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"graph")
    entry = weights_entry(folder)
    assert entry["sha256"] == sha256_path(folder) and entry["path"].endswith("saved")
