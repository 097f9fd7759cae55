"""`colorization colorize`: a batch with broken files skips them, reports one line each, and does the rest."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorization.cli import main
from tests import odd_images as odd


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mixed_inputs(tmp_path_factory, real_photos):
    """A folder of good, odd and broken files, as a user's photo folder might be."""
    folder = tmp_path_factory.mktemp("inputs")
    rgb = odd.photo(real_photos)
    Image.fromarray(real_photos["chelsea.png"]).save(folder / "cat.jpg", quality=92)
    (folder / "nested").mkdir()
    Image.fromarray(real_photos["coffee.png"]).save(folder / "nested" / "coffee.png")
    good = {
        "gray16": odd.write_png16(folder / "gray16.png", rgb),
        "rgba": odd.write_rgba(folder / "rgba.png", rgb),
        "palette": odd.write_palette(folder / "palette.png", rgb),
        "anim": odd.write_palette(folder / "anim.gif", rgb),
        "cmyk": odd.write_cmyk_jpeg(folder / "cmyk.jpg", rgb),
        "grayjpeg": odd.write_gray_jpeg(folder / "grayjpeg.jpg", rgb),
        "rotated": odd.write_exif_rotated(folder / "rotated.jpg", rgb),
    }
    Image.new("RGB", (1, 1), (10, 200, 30)).save(folder / "tiny.png")
    bad = {
        "text": odd.write_text_as_jpg(folder / "text.jpg"),
        "truncated": odd.write_truncated_jpeg(folder / "truncated.jpg", rgb),
        "empty": folder / "empty.png",
        "bomb": odd.write_png_claiming(folder / "bomb.png", 40000, 40000),
    }
    bad["empty"].write_bytes(b"")
    return folder, good, bad


def test_batch_with_bad_files(mixed_inputs, model_file, tmp_path, capsys):
    folder, good, bad = mixed_inputs
    before = {p: _digest(p) for p in folder.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    missing = tmp_path / "no-such.jpg"
    status = main(
        ["colorize", str(folder), str(missing), "-o", str(out), "--weights", str(model_file), "--batch-size", "3"]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "skipped" in line or "no such" in line]
    for name, path in bad.items():
        assert sum(str(path) in line for line in lines) == 1, f"{name} must be reported once:\n{err}"
    assert f"{missing}: no such file or folder" in err
    assert "colorized 10 of 15 image(s)" in err and "5 failed" in err
    # everything valid was written, with the input's own size, and the tree's shape kept
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    expected = sorted(
        [
            "cat.png",
            "nested/coffee.png",
            "gray16.png",
            "rgba.png",
            "palette.png",
            "anim.png",
            "cmyk.png",
            "grayjpeg.png",
            "rotated.png",
            "tiny.png",
        ]
    )
    assert written == expected
    assert np.asarray(Image.open(out / "rotated.png")).shape == (120, 90, 3)  # EXIF orientation applied
    assert Image.open(out / "rgba.png").mode == "RGBA"
    assert np.asarray(Image.open(out / "tiny.png")).shape == (1, 1, 3)
    assert np.asarray(Image.open(out / "cat.png")).shape == real_photos_shape("chelsea.png")
    assert not [p for p in out.rglob(".*")]  # no temporary files
    # inputs untouched
    assert before == {p: _digest(p) for p in folder.rglob("*") if p.is_file()}


def real_photos_shape(name):
    from tests.conftest import SKIMAGE_DATA

    return np.asarray(Image.open(SKIMAGE_DATA / name).convert("RGB")).shape


def test_existing_output_is_kept_unless_overwrite(model_file, tmp_path, capsys, real_photos):
    source = tmp_path / "photo.jpg"
    Image.fromarray(real_photos["coffee.png"]).save(source)
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.png").write_bytes(b"precious")
    assert main(["colorize", str(source), "-o", str(out), "--weights", str(model_file)]) == 1
    err = capsys.readouterr().err
    assert "exists (use --overwrite" in err and (out / "photo.png").read_bytes() == b"precious"
    assert (
        main(["colorize", str(source), "-o", str(out), "--weights", str(model_file), "--overwrite", "--mode", "paper"])
        == 0
    )
    assert np.asarray(Image.open(out / "photo.png")).shape == (256, 256, 3)


def test_input_is_never_the_output(model_file, tmp_path, capsys, real_photos):
    Image.fromarray(real_photos["coffee.png"]).save(tmp_path / "photo.png")
    digest = _digest(tmp_path / "photo.png")
    assert (
        main(
            ["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path), "--weights", str(model_file), "--overwrite"]
        )
        == 1
    )
    assert "replace the input itself" in capsys.readouterr().err
    assert _digest(tmp_path / "photo.png") == digest


def test_unwritable_output_folder(tmp_path, capsys, real_photos):
    source = tmp_path / "photo.jpg"
    Image.fromarray(real_photos["coffee.png"]).save(source)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for outdir in (blocker, blocker / "sub"):
        assert main(["colorize", str(source), "-o", str(outdir)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(outdir) in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_read_only_output_folder(tmp_path, capsys, real_photos, model_file):
    source = tmp_path / "photo.jpg"
    Image.fromarray(real_photos["coffee.png"]).save(source)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["colorize", str(source), "-o", str(locked), "--weights", str(model_file)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_missing_weights_say_how_to_get_them(tmp_path, capsys, real_photos):
    source = tmp_path / "photo.jpg"
    Image.fromarray(real_photos["coffee.png"]).save(source)
    assert main(["colorize", str(source), "-o", str(tmp_path / "o"), "--weights", str(tmp_path / "none.keras")]) == 2
    err = capsys.readouterr().err
    assert "none.keras: no such weights file" in err and err.count("\n") == 1
    (tmp_path / "junk.keras").write_bytes(b"PK not really")
    assert main(["colorize", str(source), "-o", str(tmp_path / "o"), "--weights", str(tmp_path / "junk.keras")]) == 2
    err = capsys.readouterr().err
    assert "junk.keras: not a usable Keras model" in err and err.count("\n") == 1


def test_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["colorize", "x.jpg", "-o", "out", "--batch-size", "0"])
    assert caught.value.code == 2 and "at least 1" in capsys.readouterr().err
