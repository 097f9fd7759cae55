"""No folder the package did not make is written into without --overwrite.

The one mechanism (:func:`colorization.data.paths.claim_folder`) behind the image cache
(``evaluate --cache``, the cache builder), ``prepare --out``, ``evaluate -o`` and the
data sets' folders; and the lock under which a killed writer's temporaries are removed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from colorization.cli import main
from colorization.data.cache import META_NAME, build_cache, open_cache
from colorization.data.manifest import build_manifest
from colorization.data.pack import write_pack
from colorization.data.paths import (
    OWNER_MARKER,
    FolderError,
    check_folder,
    claim_folder,
    folder_lock,
    folder_owner,
)
from colorization.data.sources import FolderSource


def photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:36, 0:48]
    base = np.stack([x * 5, y * 7, np.full_like(x, seed * 37 % 256)], axis=-1)
    return np.clip(base + rng.integers(-10, 10, (36, 48, 3)), 0, 255).astype(np.uint8)


@pytest.fixture
def photos(tmp_path):
    root = tmp_path / "photos"
    for c in range(2):
        (root / f"cat{c}").mkdir(parents=True)
        for i in range(6):
            Image.fromarray(photo(10 * c + i)).save(root / f"cat{c}" / f"{i:02d}.png")
    return root


@pytest.fixture
def manifest(photos):
    return build_manifest(FolderSource(photos), workers=0, progress=False)


def users_folder(path, files=None):
    """A folder of the user's own files; returns {name: bytes} to compare with afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    files = files or {"meta.json": b'{"mine": true}\n', "index.csv": b"my,own\n1,2\n"}
    for name, data in files.items():
        (path / name).write_bytes(data)
    return files


def unchanged(path, files) -> bool:
    return sorted(p.name for p in path.iterdir()) == sorted(files) and all(
        (path / name).read_bytes() == data for name, data in files.items()
    )


def _one_line_error(capsys, command) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"colorization {command}:") and "\n" not in err and "Traceback" not in err, err
    return err


# --- the mechanism ------------------------------------------------------------------------------
def test_claim_new_empty_ours_and_refused(tmp_path):
    new = claim_folder(tmp_path / "new", "things")
    assert folder_owner(new)["kind"] == "things" and new.is_dir()
    (tmp_path / "empty").mkdir()
    assert folder_owner(claim_folder(tmp_path / "empty", "things"))["kind"] == "things"
    (new / "result.txt").write_text("ours")
    assert claim_folder(new, "things") == new  # ours, not empty: fine
    with pytest.raises(FolderError, match="holds colorization things files, not others"):
        claim_folder(new, "others")
    files = users_folder(tmp_path / "user")
    with pytest.raises(FolderError, match="not empty, and not a folder colorization made") as info:
        claim_folder(tmp_path / "user", "things")
    assert "\n" not in str(info.value) and str(tmp_path / "user") in str(info.value)
    assert unchanged(tmp_path / "user", files)
    claim_folder(tmp_path / "user", "things", overwrite=True)  # allowed, and not marked as the package's
    assert unchanged(tmp_path / "user", files)


def test_check_creates_nothing_and_files_are_refused(tmp_path):
    assert check_folder(tmp_path / "a" / "b", "things") == "new" and not (tmp_path / "a").exists()
    (tmp_path / "file").write_text("x")
    for path in (tmp_path / "file", tmp_path / "file" / "below"):
        with pytest.raises(FolderError, match=f"{tmp_path / 'file'}: exists and is not a folder"):
            claim_folder(path, "things")
    fake = users_folder(tmp_path / "fake", {OWNER_MARKER: b'{"format": "something else", "kind": "things"}'})
    with pytest.raises(FolderError):
        claim_folder(tmp_path / "fake", "things")  # a marker must carry the package's format
    assert unchanged(tmp_path / "fake", fake)


# --- the image cache ------------------------------------------------------------------------------
def test_cache_is_not_built_into_a_users_folder(manifest, tmp_path):
    folder = tmp_path / "mine"
    files = users_folder(folder)
    with pytest.raises(FolderError, match="mine: not empty"):
        build_cache(manifest, folder, workers=0, progress=False)
    assert unchanged(folder, files)
    cache = build_cache(manifest, folder, workers=0, progress=False, overwrite=True)
    assert len(cache) == 12 and json.loads((folder / META_NAME).read_text())["kind"] == "cache"


def test_cache_meta_is_its_marker_and_a_killed_build_stays_ours(manifest, tmp_path, monkeypatch):
    from colorization.data import cache as cache_module

    folder = tmp_path / "cache"
    build_cache(manifest, folder, workers=0, progress=False)
    meta = json.loads((folder / META_NAME).read_text())
    assert (meta["format"], meta["kind"]) == ("colorization", "cache")
    monkeypatch.setitem(cache_module._DECODERS, "file", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        build_cache(manifest, folder, workers=0, progress=False, rebuild=True)
    monkeypatch.undo()
    assert open_cache(folder) is None  # not taken as valid
    assert len(build_cache(manifest, folder, workers=0, progress=False)) == 12  # still ours: rebuilt


def test_a_complete_cache_of_an_earlier_version_is_adopted(manifest, tmp_path):
    folder = tmp_path / "cache"
    build_cache(manifest, folder, workers=0, progress=False)
    meta = json.loads((folder / META_NAME).read_text())
    legacy = {k: v for k, v in meta.items() if k not in ("format", "kind")}
    (folder / META_NAME).write_text(json.dumps(legacy))
    changed = manifest.copy()
    changed.loc[changed.index[changed["split"] == "train"][0], "split"] = "test"
    assert build_cache(changed, folder, workers=0, progress=False).meta["kind"] == "cache"


def test_temporaries_of_a_killed_cache_build_are_removed(manifest, tmp_path):
    folder = tmp_path / "cache"
    build_cache(manifest, folder, workers=0, progress=False)
    stale = folder / ".images.k1ll3d.tmp.npy"
    stale.write_bytes(b"\0" * 1000)
    other = folder / ".notes.k1ll3d.tmp.npy"  # not a name the cache writes
    other.write_bytes(b"keep")
    build_cache(manifest, folder, workers=0, progress=False, rebuild=True)
    assert not stale.exists() and other.read_bytes() == b"keep"


def test_the_lock_is_reentrant_in_one_process(tmp_path):
    with folder_lock(tmp_path), folder_lock(tmp_path):  # a writer calling another: no deadlock
        pass


# --- the commands ---------------------------------------------------------------------------------
def test_evaluate_cache_refuses_a_users_folder_before_any_work(tmp_path, capsys, model_file):
    folder = tmp_path / "mine"
    files = users_folder(folder)
    argv = [
        "evaluate",
        "--weights",
        str(model_file),
        "--data",
        "sample",
        "--cache",
        str(folder),
        "-o",
        str(tmp_path / "out"),
        "--quiet",
        "--workers",
        "1",
    ]
    assert main(argv) == 2
    err = _one_line_error(capsys, "evaluate")
    assert "mine: not empty" in err and "--overwrite" in err
    assert unchanged(folder, files) and not (tmp_path / "out").exists()


def test_evaluate_output_refuses_a_users_folder_and_another_kind(tmp_path, capsys, model_file):
    files = users_folder(tmp_path / "notes", {"notes.txt": b"mine"})
    base = ["evaluate", "--weights", str(model_file), "--data", "sample", "--quiet", "--workers", "1"]
    assert main([*base, "-o", str(tmp_path / "notes")]) == 2
    assert "notes: not empty" in _one_line_error(capsys, "evaluate")
    assert unchanged(tmp_path / "notes", files)
    claim_folder(tmp_path / "prepared", "prepared")
    (tmp_path / "prepared" / "manifest.csv").write_text("x")
    assert main([*base, "-o", str(tmp_path / "prepared")]) == 2
    assert "holds colorization prepared files, not evaluation" in _one_line_error(capsys, "evaluate")


def test_prepare_out_refuses_a_users_folder(photos, tmp_path, capsys):
    files = users_folder(tmp_path / "out", {"manifest.csv": b"my,own,manifest\n"})
    argv = ["prepare", str(photos), "--out", str(tmp_path / "out"), "--quiet", "--workers", "0", "--no-pack"]
    assert main(argv) == 2
    assert "out: not empty" in _one_line_error(capsys, "prepare")
    assert unchanged(tmp_path / "out", files)
    assert main([*argv, "--overwrite"]) == 0
    assert (tmp_path / "out" / "manifest.csv").read_bytes() != files["manifest.csv"]


def test_prepare_reruns_into_its_folder_but_never_replaces_another_manifest(photos, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["prepare", str(photos), "--out", str(out), "--quiet", "--workers", "0", "--cache"]
    assert main(argv) == 0
    first = (out / "manifest.csv").read_bytes()
    assert main(argv) == 0  # the same manifest again (a killed run resumes)
    assert main([*argv, "--seed", "7"]) == 2
    assert "manifest.csv: exists and differs" in _one_line_error(capsys, "prepare")
    assert (out / "manifest.csv").read_bytes() == first
    assert main([*argv, "--seed", "7", "--overwrite"]) == 0
    assert (out / "manifest.csv").read_bytes() != first


def test_prepare_refuses_a_users_cache_folder_before_any_work(photos, tmp_path, capsys):
    claim_folder(tmp_path / "out", "prepared")  # prepare's own folder, with the user's files in cache/
    files = users_folder(tmp_path / "out" / "cache")
    argv = ["prepare", str(photos), "--out", str(tmp_path / "out"), "--quiet", "--workers", "0", "--cache"]
    assert main(argv) == 2
    assert "cache: not empty" in _one_line_error(capsys, "prepare")
    assert unchanged(tmp_path / "out" / "cache", files) and not (tmp_path / "out" / "manifest.csv").exists()


def test_prepare_out_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    assert main(["prepare", "sample", "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "out: exists and is not a folder" in _one_line_error(capsys, "prepare")


def test_write_pack_refuses_a_users_folder(manifest, tmp_path):
    files = users_folder(tmp_path / "mine", {"pack.json": b"{}"})
    with pytest.raises(FolderError):
        write_pack(manifest, tmp_path / "mine", workers=0, progress=False)
    assert unchanged(tmp_path / "mine", files)


def test_evaluate_cache_and_output_must_differ(tmp_path, capsys, model_file):
    argv = [
        "evaluate",
        "--weights",
        str(model_file),
        "--data",
        "sample",
        "--cache",
        str(tmp_path / "same"),
        "-o",
        str(tmp_path / "same"),
        "--quiet",
    ]
    assert main(argv) == 2
    assert "different folders" in _one_line_error(capsys, "evaluate") and not (tmp_path / "same").exists()
