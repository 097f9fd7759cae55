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
    captured = capsys.readouterr()
    err = captured.err
    assert status == 1
    assert "Traceback" not in err
    lines = err.splitlines()
    for name, path in bad.items():
        assert sum(str(path) in line for line in lines) == 1, f"{name} must be reported once:\n{err}"
    assert f"{missing}: no such file or folder" in lines
    assert len(lines) == 5, err  # one line per failure, nothing else when stderr is not a terminal
    # everything valid was written, with the input's own size, and the tree's shape kept; stdout names each file
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert sorted(str(Path(line).relative_to(out)) for line in captured.out.splitlines()) == written
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
    assert main(["colorize", str(source), "-o", str(out), "--weights", str(model_file)]) == 0  # skipped: no failure
    captured = capsys.readouterr()
    assert f"{source}: skipped, {out / 'photo.png'} exists (use --overwrite" in captured.err and captured.out == ""
    assert (out / "photo.png").read_bytes() == b"precious"
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
    assert "junk.keras: not a .keras zip archive" in err and err.count("\n") == 1


def test_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["colorize", "x.jpg", "-o", "out", "--batch-size", "0"])
    assert caught.value.code == 2 and "at least 1" in capsys.readouterr().err


# --- outputs are planned before anything is written; no output may name an input -------------------------------


def _image(path: Path, colour=(120, 80, 40)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 12), colour).save(path)
    return path


def _digests(folder: Path) -> dict:
    return {p: _digest(p) for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


def _same_folder(tmp_path):  # the report: cp a.jpg a.png dir/; colorize dir -o dir --overwrite
    folder = tmp_path / "dir"
    return [folder], folder, [_image(folder / "a.jpg"), _image(folder / "a.png", (10, 20, 200))]


def _separate_paths(tmp_path):
    folder = tmp_path / "dir"
    sources = [_image(folder / "a.jpg"), _image(folder / "a.png", (10, 20, 200))]
    return sources, folder, sources


def _separate_paths_png_first(tmp_path):
    sources, folder, _ = _separate_paths(tmp_path)
    return sources[::-1], folder, sources


def _input_in_output_folder(tmp_path):
    sources = [_image(tmp_path / "in" / "a.jpg"), _image(tmp_path / "out" / "a.png", (10, 20, 200))]
    return sources, tmp_path / "out", sources


def _output_folder_contains_input_folder(tmp_path):
    folder = tmp_path / "dir"
    deep = _image(folder / "sub" / "sub" / "a.jpg")
    _image(folder / "sub" / "a.png", (10, 20, 200))
    return [folder / "sub"], folder, [deep]  # sub/sub/a.jpg -> dir/sub/a.png, an input; sub/a.png -> dir/a.png


def _output_folder_is_a_link_to_the_input_folder(tmp_path):
    _, folder, sources = _same_folder(tmp_path)
    (tmp_path / "link").symlink_to(folder, target_is_directory=True)
    return [folder], tmp_path / "link", sources


def _name_in_other_letter_case(tmp_path):  # one file on a case-insensitive file system
    folder = tmp_path / "dir"
    return [folder], folder, [_image(folder / "IMG.PNG"), _image(folder / "IMG.jpg", (10, 20, 200))]


@pytest.mark.parametrize(
    "layout",
    [
        _same_folder,
        _separate_paths,
        _separate_paths_png_first,
        _input_in_output_folder,
        _output_folder_contains_input_folder,
        _output_folder_is_a_link_to_the_input_folder,
        _name_in_other_letter_case,
    ],
)
def test_overwrite_never_writes_over_an_input(layout, tmp_path, model_file, capsys):
    inputs, outdir, refused = layout(tmp_path)
    before = _digests(tmp_path)
    status = main(["colorize", *map(str, inputs), "-o", str(outdir), "--weights", str(model_file), "--overwrite"])
    captured = capsys.readouterr()
    err = captured.err
    assert status == 1 and "Traceback" not in err
    after = _digests(tmp_path)
    assert {path: after[path] for path in before} == before, "an input was written over"
    for source in refused:  # each refused input: one line that says what happened
        lines = [line for line in err.splitlines() if line.startswith(f"{source}: ")]
        assert len(lines) == 1 and ": not colorized, " in lines[0] and "choose another -o folder" in lines[0], err
    assert "already taken" not in err and len(captured.out.splitlines()) == 2 - len(refused)


def test_refusals_say_which_input_they_protect(tmp_path):
    from colorization.cli.colorize import plan_jobs

    _, folder, (jpg, png) = _same_folder(tmp_path)
    jobs, outcome = plan_jobs([str(folder)], folder, overwrite=True)
    assert jobs == [] and outcome.counts["failed"] == 2
    assert outcome.lines == [
        f"{jpg}: not colorized, its output {png} would be written over the input {png}; choose another -o folder",
        f"{png}: not colorized, its output {png} would replace the input itself; choose another -o folder",
    ]
    _, _, (upper, jpeg) = _name_in_other_letter_case(tmp_path / "case")
    _, outcome = plan_jobs([str(upper.parent)], upper.parent, overwrite=True)
    assert all("on a case-insensitive file system" in line for line in outcome.lines), outcome.lines


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_output_that_is_a_link_to_an_input_is_refused(link, tmp_path, model_file, capsys):
    jpg, png = _image(tmp_path / "in" / "a.jpg"), _image(tmp_path / "in" / "b.png", (10, 20, 200))
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").symlink_to(png) if link == "symlink" else os.link(png, out / "a.png")
    before = _digests(tmp_path / "in")
    status = main(["colorize", str(jpg), str(png), "-o", str(out), "--weights", str(model_file), "--overwrite"])
    captured = capsys.readouterr()
    assert (
        status == 1
        and f"{jpg}: not colorized, its output {out / 'a.png'} would be written over the input {png}" in captured.err
    )
    assert captured.out == f"{out / 'b.png'}\n" and (out / "b.png").is_file()
    assert _digests(tmp_path / "in") == before and os.path.samefile(out / "a.png", png)


def test_distinct_files_whose_outputs_collide(tmp_path):
    from colorization.cli.colorize import plan_jobs

    folder = tmp_path / "in"
    first, second = _image(folder / "a.jpg"), _image(folder / "a.tif")
    upper, lower = _image(folder / "B.jpg"), _image(folder / "b.jpg")  # one output on a case-insensitive disk
    out = tmp_path / "out"
    jobs, outcome = plan_jobs([str(folder)], out, overwrite=True)
    assert [job.source for job in jobs] == [upper, first]
    assert outcome.lines == [
        f"{second}: not colorized, its output {out / 'a.png'} is already taken by {first} (rename one of the two)",
        f"{lower}: not colorized, its output {out / 'b.png'} is already taken by {upper} (rename one of the two)",
    ]
    for job in jobs:  # a re-run over the outputs: the same collisions, the finished ones skipped
        _image(job.target)
    jobs, again = plan_jobs([str(folder)], out, overwrite=False)
    assert jobs == [] and again.counts == {"skipped": 2, "failed": 2} and again.lines[2:] == outcome.lines


def test_output_through_a_symlinked_folder_is_refused(tmp_path):
    from colorization.cli.colorize import plan_jobs

    source = _image(tmp_path / "in" / "nested" / "a.jpg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "nested").symlink_to(elsewhere, target_is_directory=True)
    jobs, outcome = plan_jobs([str(tmp_path / "in")], tmp_path / "out", overwrite=False)
    assert jobs == [] and outcome.counts["failed"] == 1
    assert (
        outcome.lines[0].startswith(f"{source}: not colorized, its output ")
        and "through a symlinked folder" in outcome.lines[0]
    )


def test_same_file_twice_and_a_rerun_are_not_failures(tmp_path, model_file, capsys, monkeypatch):
    source = _image(tmp_path / "photo.jpg")
    (tmp_path / "alias.jpg").symlink_to(source)
    monkeypatch.chdir(tmp_path)
    given = [str(source), str(source), "photo.jpg", "./alias.jpg"]
    out = tmp_path / "out"
    assert main(["colorize", *given, "-o", str(out), "--weights", str(model_file)]) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert err.count(f"{source}: given more than once; taken once") == 1
    assert f"photo.jpg: the same file as {source}; taken once" in err and "alias.jpg: the same file as" in err
    assert len(err.splitlines()) == 3 and captured.out == f"{out / 'photo.png'}\n"
    written = _digest(out / "photo.png")
    assert main(["colorize", str(source), "-o", str(out), "--weights", str(model_file)]) == 0  # a re-run
    captured = capsys.readouterr()
    assert captured.err == f"{source}: skipped, {out / 'photo.png'} exists (use --overwrite to replace it)\n"
    assert captured.out == ""
    assert _digest(out / "photo.png") == written


def test_output_folder_inside_the_input_folder_is_not_scanned(tmp_path, model_file, capsys):
    folder = tmp_path / "photos"
    _image(folder / "a.jpg")
    _image(folder / "deep" / "b.png")
    for name in ("c.heic", "d.heic", "e.svg", "notes.txt", "README"):
        (folder / name).write_bytes(b"not read")
    out = folder / "out"
    command = ["colorize", str(folder), "-o", str(out), "--weights", str(model_file)]
    assert main(command) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert sorted(captured.out.splitlines()) == [str(out / "a.png"), str(out / "deep" / "b.png")]
    scan_notes = [line for line in err.splitlines() if line.startswith("skipped 5 file(s)")]
    assert len(scan_notes) == 1 and "2 .heic, 1 .svg, 1 .txt, 1 without a suffix" in scan_notes[0]
    assert main(command) == 0  # again: the outputs under photos/out are not inputs now
    err = capsys.readouterr().err
    assert f"its sub-folder {out} is the output folder" in err and err.count(" exists (use --overwrite") == 2
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["a.png", "deep", "deep/b.png"]


def test_folder_of_unreadable_kinds_only(tmp_path, capsys):
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "IMG_1.HEIC").write_bytes(b"heic")
    assert main(["colorize", str(folder), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{folder}: folder holds no image files" in err and "skipped 1 file(s)" in err and "1 .heic" in err


def test_unreadable_sub_folder_is_one_line(tmp_path, monkeypatch):
    from colorization.cli.colorize import plan_jobs

    _image(tmp_path / "in" / "a.jpg")
    locked = tmp_path / "in" / "locked"
    _image(locked / "b.jpg")
    scandir = os.scandir

    def denied(path):  # as chmod 000 does for anyone but root
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", denied)
    jobs, outcome = plan_jobs([str(tmp_path / "in")], tmp_path / "out", overwrite=False)
    assert [job.source.name for job in jobs] == ["a.jpg"] and outcome.counts["failed"] == 1
    assert outcome.lines == [f"{locked}: cannot read this folder (Permission denied); its images are skipped"]


def test_output_written_meanwhile_is_skipped_not_overwritten(tmp_path):
    from colorization.cli.colorize import Job, _save
    from colorization.colorize import Prediction

    target = tmp_path / "a.png"
    target.write_bytes(b"another process")
    prediction = Prediction(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 2), np.float32))
    kind, line = _save(Job(tmp_path / "a.jpg", target), prediction, overwrite=False)
    assert kind == "skipped" and "exists" in line and target.read_bytes() == b"another process"


# --- weights that do not fit: one line, exit 2, nothing written -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "message"), [("size32", "input is 32x32x1, the network path needs 256x256x1"), ("nan", "NaN or infinite")]
)
def test_unusable_weights_stop_before_any_output(kind, message, tmp_path, capsys):
    from colorization.model import build_paper_model, save_model

    model = build_paper_model(input_size=32 if kind == "size32" else None)
    if kind == "nan":
        kernel, bias = model.get_layer("conv5").get_weights()
        kernel[0, 0, 0, 0] = np.nan
        model.get_layer("conv5").set_weights([kernel, bias])
    weights = save_model(model, tmp_path / f"{kind}.keras")
    source = _image(tmp_path / "photo.jpg")
    out = tmp_path / "out"
    assert main(["colorize", str(source), "-o", str(out), "--weights", str(weights)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{weights}: " in err and message in err and "\x1b" not in err
    assert not list(out.iterdir())


# --- stdout names each file written; quiet leaves only failures; the count belongs to a terminal -----------------


def _skip_and_fail_case(tmp_path):
    """A run with one good photo, one whose output exists, one given twice, a text file and a non-image."""
    folder = tmp_path / "in"
    good = _image(folder / "good.jpg")
    _image(folder / "kept.jpg")
    odd.write_text_as_jpg(folder / "text.jpg")
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    _image(out / "kept.png")
    return [str(folder), str(good)], out, good


@pytest.mark.parametrize("quiet", [False, True])
def test_quiet_shows_failures_only_and_stdout_still_names_the_outputs(quiet, tmp_path, model_file, capsys):
    inputs, out, _ = _skip_and_fail_case(tmp_path)
    argv = ["colorize", *inputs, "-o", str(out), "--weights", str(model_file)]
    assert main(argv + ["-q"] * quiet) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{out / 'good.png'}\n"
    lines = captured.err.splitlines()
    failures = [line for line in lines if "text.jpg: not an image" in line]
    assert len(failures) == 1
    if quiet:
        assert lines == failures
    else:  # and what was skipped, and why
        assert any("kept.png exists" in line for line in lines) and any("taken once" in line for line in lines)
        assert any(line.startswith("skipped 1 file(s)") for line in lines) and len(lines) == 4


def test_on_a_terminal_the_run_ends_with_its_count(tmp_path, model_file, capsys, monkeypatch):
    from colorization.cli import common

    monkeypatch.setattr(common, "on_terminal", lambda stream=None: True)
    inputs, out, _ = _skip_and_fail_case(tmp_path)
    assert main(["colorize", *inputs, "-o", str(out), "--weights", str(model_file)]) == 1
    captured = capsys.readouterr()
    assert f"colorized 1 of 2 image(s) into {out}; 2 skipped (already done); 1 failed" in captured.err.splitlines()
    assert "colorize:" in captured.err  # the progress bar
    assert captured.out == f"{out / 'good.png'}\n"  # stdout is the same on a terminal
    assert main(["colorize", *inputs, "-o", str(tmp_path / "quiet"), "--weights", str(model_file), "-q"]) == 1
    captured = capsys.readouterr()
    assert "colorized" not in captured.err and "colorize:" not in captured.err


# --- --vividness: checked by argparse, passed to the network, the model's own default without it ----------------


@pytest.mark.parametrize("value", ["0", "nan", "inf", "-1", "5.5", "abc", ""])
def test_a_bad_vividness_is_one_usage_error_before_any_work(value, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as caught:
        main(["colorize", "x.jpg", "-o", str(out), "--vividness", value])
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == [err.splitlines()[-1]] and errors[0].startswith(
        "colorization colorize: error: argument --vividness"
    )
    assert "vividness must be" in errors[0] and not out.exists()


@pytest.mark.parametrize(("extra", "passed"), [([], None), (["--vividness", "2.5"], 2.5)])
def test_vividness_reaches_predict_batch_and_none_means_the_models_default(
    extra, passed, tmp_path, model_file, monkeypatch
):
    import importlib

    colorize_module = importlib.import_module("colorization.colorize")  # the attribute is the function
    calls = []

    def recording(model, images, mode="full", vividness=None):
        calls.append(vividness)
        return [colorize_module.Prediction(image.rgb, np.zeros((8, 8, 2), np.float32), image.alpha) for image in images]

    monkeypatch.setattr(colorize_module, "predict_batch", recording)
    source = _image(tmp_path / "photo.png")
    assert main(["colorize", str(source), "-o", str(tmp_path / "out"), "--weights", str(model_file), *extra]) == 0
    assert calls == [passed]


@pytest.mark.slow
def test_more_vividness_is_more_colourful_and_a_registered_default_is_used(tmp_path, model_file, monkeypatch):
    import json

    import colorization.weights as weights
    from colorization.io.files import sha256_file
    from colorization.metrics.vividness import colorfulness

    entries = {**weights.registry(), "test": {"sha256": sha256_file(model_file), "vividness": {"default": 2.0}}}
    monkeypatch.setattr(weights, "REGISTRY_FILE", tmp_path / "registry.json")
    weights.REGISTRY_FILE.write_text(json.dumps(entries), encoding="utf-8")
    source = _image(tmp_path / "in" / "photo.png")
    outputs = {}
    for name, extra in {"one": ["--vividness", "1"], "two": ["--vividness", "2"], "default": []}.items():
        assert main(["colorize", str(source), "-o", str(tmp_path / name), "--weights", str(model_file), *extra]) == 0
        outputs[name] = tmp_path / name / "photo.png"
    assert colorfulness(np.asarray(Image.open(outputs["one"]))) < colorfulness(np.asarray(Image.open(outputs["two"])))
    assert outputs["default"].read_bytes() == outputs["two"].read_bytes()  # the registered default, 2
