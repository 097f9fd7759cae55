"""Sources, inspection, the data report and the splits."""

from __future__ import annotations

import io
import socket

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from colorization.cli import main
from colorization.data import splits
from colorization.data.inspection import inspect_file, looks_gray
from colorization.data.manifest import MANIFEST_COLUMNS, build_manifest, manifest_hash, read_manifest, write_manifest
from colorization.data.report import category_table, excluded_table, split_table, summary, write_report
from colorization.data.sources import FolderSource, SampleSource, get_source, scan_folder


def photo(seed: int, size=(40, 32)) -> np.ndarray:
    """A small colourful image (smooth gradients plus noise)."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], axis=-1)
    return np.clip(base + rng.integers(-20, 20, (h, w, 3)), 0, 255).astype(np.uint8)


def save(path, array, fmt="JPEG", mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if mode:
        image = image.convert(mode)
    image.save(path, format=fmt)


@pytest.fixture
def mixed_folder(tmp_path):
    """Colour photos in two categories plus every kind of problem file."""
    root = tmp_path / "photos"
    for i in range(6):
        save(root / "cats" / f"cat{i}.jpg", photo(i))
        save(root / "dogs" / f"dog{i}.png", photo(100 + i), "PNG")
    save(root / "dogs" / "gray_mode.png", photo(7)[..., 0], "PNG")  # mode L
    gray3 = np.repeat(photo(8)[..., :1], 3, axis=2)
    save(root / "dogs" / "gray_rgb.jpg", gray3)  # RGB JPEG, equal channels
    save(root / "cats" / "cmyk.jpg", photo(9), mode="CMYK")
    (root / "cats" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "cats" / "empty.jpg").write_bytes(b"")
    buffer = io.BytesIO()
    Image.fromarray(photo(10)).save(buffer, format="JPEG")
    (root / "cats" / "tmp").write_bytes(buffer.getvalue())  # a JPEG without extension
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "cats" / ".DS_Store").write_bytes(b"\0\0")
    return root


def test_sample_source_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    source = get_source("sample")
    records = source.records()
    assert len(records) == 9
    assert {r.category for r in records} >= {"portrait", "animal", "food", "scene", "vehicle"}
    assert all(r.path.is_file() for r in records)
    assert not any("motorcycle_right" in r.relpath for r in records)
    manifest = build_manifest(source, workers=0, progress=False)
    assert (manifest["excluded"] == "").all() and not manifest["is_gray"].any()
    counts = manifest["split"].value_counts()
    assert counts["train"] == 7 and counts["val"] == 1 and counts["test"] == 1
    assert manifest.equals(build_manifest(SampleSource(), seed=5, workers=0, progress=False))  # fixed split


def test_folder_source_categories_and_all_files(mixed_folder):
    records = scan_folder(mixed_folder)
    names = {r.relpath for r in records}
    assert "cats/tmp" in names and "cats/notes.txt" in names and "cats/.DS_Store" in names
    assert {r.category for r in records} == {"cats", "dogs"}
    assert get_source(str(mixed_folder)).records() == records


def test_report_grayscale_cmyk_unreadable(mixed_folder, tmp_path):
    manifest = build_manifest(FolderSource(mixed_folder), workers=0, progress=False)
    assert list(manifest.columns[: len(MANIFEST_COLUMNS)]) == list(MANIFEST_COLUMNS)
    row = manifest.set_index("relpath")
    assert row.loc["dogs/gray_mode.png", "excluded"] == "grayscale (mode L)"
    assert row.loc["dogs/gray_rgb.jpg", "excluded"].startswith("grayscale (RGB")
    assert row.loc["dogs/gray_rgb.jpg", "is_gray"] and row.loc["dogs/gray_rgb.jpg", "mode"] == "RGB"
    assert row.loc["cats/cmyk.jpg", "excluded"] == "" and row.loc["cats/cmyk.jpg", "mode"] == "CMYK"
    assert "CMYK converted" in row.loc["cats/cmyk.jpg", "note"]
    assert row.loc["cats/broken.jpg", "excluded"].startswith("unreadable")
    assert row.loc["cats/empty.jpg", "excluded"].startswith("unreadable: empty file")
    assert row.loc["cats/tmp", "excluded"] == "" and row.loc["cats/tmp", "mode"] == "RGB"  # by content
    assert row.loc["cats/notes.txt", "excluded"].startswith("not an image")
    assert row.loc["cats/.DS_Store", "excluded"] == "hidden file"
    assert (row.loc["cats/cat0.jpg", ["width", "height"]] == [40, 32]).all()
    assert (manifest.loc[manifest["excluded"] != "", "split"] == "").all()

    per_category = category_table(manifest).set_index("category")
    assert per_category.loc["dogs", "grayscale"] == 2 and per_category.loc["cats", "unreadable"] == 2
    assert per_category.loc["cats", "other_excluded"] == 2
    assert per_category.loc["TOTAL", "files"] == len(manifest)
    assert per_category.loc["TOTAL", "usable"] == per_category.loc["TOTAL", ["train", "val", "test"]].sum()
    excluded = excluded_table(manifest)
    assert set(excluded["relpath"]) == set(manifest.loc[manifest["excluded"] != "", "relpath"])
    assert split_table(manifest).set_index("split").loc["excluded", "images"] == 6
    assert "grayscale 2, unreadable 2" in summary(manifest)

    written = write_report(manifest, tmp_path / "report")
    assert pd.read_csv(written["excluded"])["reason"].str.len().gt(0).all()
    write_manifest(manifest, tmp_path / "manifest.csv")
    again = read_manifest(tmp_path / "manifest.csv")
    assert manifest_hash(again) == manifest_hash(manifest)


def test_looks_gray_thresholds():
    gray = np.repeat(photo(1)[..., :1], 3, axis=2)
    assert looks_gray(gray)
    noisy = gray.astype(int)
    noisy[..., 0] += 3  # JPEG-like chroma noise
    assert looks_gray(np.clip(noisy, 0, 255).astype(np.uint8))
    assert not looks_gray(photo(1))
    spot = gray.copy()
    spot[:8, :8] = (255, 0, 0)  # a small but real coloured area (5% of pixels)
    assert not looks_gray(spot)


def test_inspect_file_on_missing_file(tmp_path):
    assert inspect_file(tmp_path / "nope.jpg")["excluded"] == "unreadable: no such file"


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, (0, 0, 0)),
        (1, (1, 0, 0)),
        (2, (1, 0, 1)),
        (3, (1, 1, 1)),
        (10, (8, 1, 1)),
        (31, (25, 3, 3)),
        (800, (640, 80, 80)),
    ],
)
def test_split_counts(n, expected):
    assert splits.split_counts(n) == expected


def _synthetic(n_categories=5, per=(1, 2, 3, 17, 40)):
    categories, keys = [], []
    for c in range(n_categories):
        for i in range(per[c % len(per)]):
            categories.append(f"c{c}")
            keys.append(f"c{c}/img{i:03d}.jpg")
    return categories, keys


def test_split_determinism():
    categories, keys = _synthetic()
    a = splits.assign_splits(categories, keys, seed=0)
    assert list(a) == list(splits.assign_splits(categories, keys, seed=0))
    assert list(a) != list(splits.assign_splits(categories, keys, seed=1))
    # independent of listing order and of other categories
    order = np.random.default_rng(3).permutation(len(keys))
    shuffled = splits.assign_splits([categories[i] for i in order], [keys[i] for i in order], seed=0)
    assert {keys[i]: s for i, s in zip(order, shuffled, strict=True)} == dict(zip(keys, a, strict=True))
    only_c4 = [i for i, c in enumerate(categories) if c == "c4"]
    alone = splits.assign_splits(["c4"] * len(only_c4), [keys[i] for i in only_c4], seed=0)
    assert list(alone) == [a[i] for i in only_c4]


def test_cap_per_category():
    categories, keys = _synthetic()
    keep = splits.cap_per_category(categories, keys, 5, seed=0)
    kept = pd.Series(categories)[keep].value_counts()
    assert kept.max() == 5 and kept["c0"] == 1
    assert list(keep) == list(splits.cap_per_category(categories, keys, 5, seed=0))


def test_manifest_same_seed_same_manifest(mixed_folder):
    source = FolderSource(mixed_folder)
    a = build_manifest(source, seed=0, workers=0, progress=False)
    b = build_manifest(source, seed=0, workers=2, progress=False)  # in worker processes
    c = build_manifest(source, seed=1, workers=0, progress=False)
    assert manifest_hash(a) == manifest_hash(b)
    assert manifest_hash(a) != manifest_hash(c)
    capped = build_manifest(source, seed=0, max_per_category=2, workers=0, progress=False)
    assert (capped["split"] != "").groupby(capped["category"]).sum().max() == 2
    assert capped["excluded"].str.startswith("not selected").sum() > 0


def test_cli_prepare_sample(tmp_path, capsys):
    out = tmp_path / "prepared"
    assert main(["prepare", "sample", "--out", str(out), "--quiet", "--workers", "0", "--cache"]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "usable 9 (train 7, val 1, test 1)" in text and "pack:" in text and captured.err == ""
    assert main(["prepare", "sample", "--out", str(tmp_path / "again"), "--workers", "0", "--cache"]) == 0
    captured = capsys.readouterr()  # not quiet, and stderr not a terminal: the same, no progress bars
    assert captured.err == "" and "pack:" in captured.out
    for name in (
        "manifest.csv",
        "pack.npz",
        "pack.json",
        "report/per_category.csv",
        "report/excluded.csv",
        "cache/images.npy",
        "cache/meta.json",
    ):
        assert (out / name).is_file(), name


def test_split_together_keeps_near_duplicates_in_one_split(tmp_path):
    root = tmp_path / "c101"
    for i in range(20):
        save(root / "Faces" / f"image_{i:04d}.jpg", photo(i))
        save(root / "Faces_easy" / f"image_{i:04d}.jpg", photo(i)[4:-4, 4:-4])
    source = FolderSource(root)
    source.split_together = {"Faces_easy": "Faces"}
    manifest = build_manifest(source, workers=0, progress=False)
    pairs = manifest.assign(name=manifest["relpath"].str.split("/").str[-1]).pivot(
        index="name", columns="category", values="split"
    )
    assert (pairs["Faces"] == pairs["Faces_easy"]).all()
    assert pairs["Faces"].value_counts().to_dict() == {"train": 16, "val": 2, "test": 2}


def test_unselected_images_join_train_and_never_beside_a_held_out_twin(tmp_path):
    from colorization.data.manifest import near_duplicate_groups, unselected_to_train

    root = tmp_path / "c101"
    for i in range(30):
        save(root / "Faces" / f"image_{i:04d}.jpg", photo(i))
        save(root / "Faces_easy" / f"image_{i:04d}.jpg", photo(i)[4:-4, 4:-4])
        save(root / "other" / f"image_{i:04d}.jpg", photo(100 + i))
    source = FolderSource(root)
    source.split_together = {"Faces_easy": "Faces"}
    capped = build_manifest(source, max_per_category=10, workers=0, progress=False)
    wide = unselected_to_train(capped, source.split_together)
    for split in ("val", "test"):  # the held-out images are the same
        kept = capped.loc[capped["split"] == split, "relpath"].tolist()
        assert wide.loc[wide["split"] == split, "relpath"].tolist() == kept
    groups = pd.Series(near_duplicate_groups(wide, source.split_together))
    held_out = set(groups[wide["split"].isin(["val", "test"])])
    assert not held_out & set(groups[wide["split"] == "train"])
    assert (wide.loc[wide["category"] == "other", "split"] == "train").sum() == 30 - 2  # 20 unselected joined
    twins = wide["excluded"] == "not selected (a near-duplicate is held out)"
    assert twins.any() and (wide.loc[twins, "split"] == "").all()
    assert (capped["split"] == "train").sum() + 40 + 20 - twins.sum() == (wide["split"] == "train").sum()


# --- reading a manifest: every problem is one line naming the file --------------------------------
@pytest.fixture
def good_manifest(mixed_folder, tmp_path):
    manifest = build_manifest(FolderSource(mixed_folder), workers=0, progress=False)
    path = tmp_path / "manifest.csv"
    write_manifest(manifest, path)
    return path


def _edited(path, old: str, new: str, name: str):
    text = path.read_text()
    assert old in text
    edited = path.with_name(name)
    edited.write_text(text.replace(old, new, 1))
    return edited


def test_read_manifest_round_trip_types(good_manifest):
    table = read_manifest(good_manifest)
    assert list(table.columns) == list(MANIFEST_COLUMNS)
    assert table["width"].dtype == np.int64 and table["is_gray"].dtype == bool


# files that are no manifest at all: name -> content (None: absent, "folder": a folder)
NOT_MANIFESTS = {
    "missing.csv": None,
    "folder.csv": "folder",
    "empty.csv": b"",
    "latin.csv": "relpath\ncaf\xe9\n".encode("latin-1"),
    "short.csv": b"relpath,category,split\na.jpg,x,train\n",
    "quote.csv": b'relpath,category\n"a.jpg,x\n',
}


def not_a_manifest(folder, name):
    path, content = folder / name, NOT_MANIFESTS[name]
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "name, problem",
    [
        ("missing.csv", "no such file"),
        ("folder.csv", "is a folder"),
        ("empty.csv", "empty file"),
        ("latin.csv", "not UTF-8"),
        ("short.csv", "missing column(s) width, height, mode, is_gray, excluded, note"),
        ("quote.csv", "not a valid CSV"),
    ],
)
def test_read_manifest_refuses_a_file_that_is_no_manifest(tmp_path, name, problem):
    from colorization.data.manifest import ManifestError

    path = not_a_manifest(tmp_path, name)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert message.startswith(f"{path}:") and problem in message and "\n" not in message, message


@pytest.mark.parametrize(
    "old, new, problem",
    [
        (",40,32,", ",forty,32,", "width 'forty' is not a whole number"),
        (",40,32,", ",40,-3,", "height '-3' is not a whole number"),
        (",RGB,False,", ",RGB,perhaps,", "is_gray 'perhaps' is not True or False"),
        ("cats/cat0.jpg,cats,", "cats/cat0.jpg,cats,holdout", "split 'holdout"),
        ("cats/cat0.jpg", "../../etc/passwd", "not a plain relative path"),
        ("cats/cat0.jpg", "/etc/passwd", "not a plain relative path"),
        ("cats/cat1.jpg", "cats/cat0.jpg", "is listed twice"),
    ],
)
def test_read_manifest_refuses_a_wrong_value_in_one_line(good_manifest, old, new, problem):
    from colorization.data.manifest import ManifestError

    path = _edited(good_manifest, old, new, "edited.csv")
    line = next(n for n, text in enumerate(good_manifest.read_text().splitlines(), 1) if old in text)  # edited
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line {line}: ") and problem in message and "\n" not in message, message


def test_manifest_of_another_data_set_is_refused(good_manifest):
    from colorization.data.manifest import ManifestError

    with pytest.raises(ManifestError, match=r"usable rows are not files of sample .* another data set"):
        read_manifest(good_manifest, root=SampleSource())


def test_manifest_rows_missing_from_the_source_are_left_out_with_one_warning(good_manifest, mixed_folder):
    edited = _edited(good_manifest, "cats/cat0.jpg", "cats/gone.jpg", "edited.csv")
    with pytest.warns(UserWarning) as caught:
        table = read_manifest(edited, root=FolderSource(mixed_folder))
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{edited}: 1 of its ") and "'cats/gone.jpg'" in message and "\n" not in message
    paths = table.set_index("relpath")["path"]
    assert paths["cats/gone.jpg"] == "" and paths["cats/cat1.jpg"].endswith("cat1.jpg")


def test_get_source_of_a_file_is_one_line(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="is a file, not a folder of images"):
        get_source(str(tmp_path / "photo.jpg"))


@pytest.mark.parametrize("name", sorted(NOT_MANIFESTS))
def test_cli_evaluate_bad_manifest_is_one_line_before_any_work(tmp_path, capsys, name):
    path = not_a_manifest(tmp_path, name)
    missing_weights = tmp_path / "never-loaded.keras"  # the manifest is refused first
    argv = [
        "evaluate",
        "--weights",
        str(missing_weights),
        "--data",
        "sample",
        "--manifest",
        str(path),
        "-o",
        str(tmp_path / "out"),
        "--quiet",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"colorization evaluate: {path}:") and "\n" not in err and "KeyError" not in err
    assert not (tmp_path / "out").exists()


@pytest.fixture
def unlistable_dogs(monkeypatch):
    """Listing any folder named ``dogs`` fails, as an unreadable folder does (tests run as root)."""
    import os

    real_scandir = os.scandir

    def scandir(path="."):
        if str(path).endswith("dogs"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_a_folder_that_cannot_be_listed_is_an_error_not_a_gap(mixed_folder, unlistable_dogs):
    with pytest.raises(PermissionError, match="Permission denied"):
        scan_folder(mixed_folder)


def test_cli_prepare_folder_that_cannot_be_listed_is_one_line(mixed_folder, tmp_path, capsys, unlistable_dogs):
    assert main(["prepare", str(mixed_folder), "--out", str(tmp_path / "out"), "--quiet", "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"colorization prepare: {mixed_folder / 'dogs'}: Permission denied"
