"""`colorization video`: one line per problem, the exit status of `colorize`, no half-written file ever."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("av")

from colorization.cli import main  # noqa: E402
from colorization.video.container import probe  # noqa: E402
from tests import video_files as vf  # noqa: E402
from tests.test_video_io import BAD_INPUTS, make_bad_input  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return vf.write_video(tmp_path_factory.mktemp("clip") / "pan.mp4", vf.moving_frames(10), audio="aac")


def test_a_video_is_colorized(tmp_path, clip, model_file, capsys):
    before = digest(clip)
    target = tmp_path / "out" / "colour.mkv"
    status = main(["video", str(clip), "-o", str(target), "--weights", str(model_file), "--temporal", "frame"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.splitlines() == [str(target)]
    assert captured.err == ""  # stderr is not a terminal: no progress bar, no summary
    info = probe(target)
    assert (info.width, info.height, info.frames or 10, info.audio) == (64, 48, 10, ("aac",))
    assert digest(clip) == before and sorted(p.name for p in target.parent.iterdir()) == ["colour.mkv"]


@pytest.mark.parametrize("kind", ["text", "zero frames", "truncated, index first", "audio only", "missing", "folder"])
def test_bad_input_is_one_line_and_status_1(tmp_path, kind, model_file, capsys):
    source = make_bad_input(kind, tmp_path)
    out = tmp_path / "out"
    status = main(["video", str(source), "-o", str(out / "result.mp4"), "--weights", str(model_file)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.splitlines() == [err.strip()] and err.startswith(f"{source}: ") and BAD_INPUTS[kind] in err
    assert "Traceback" not in err and (not out.exists() or not list(out.iterdir()))


def test_an_input_is_refused_before_the_network_is_loaded(tmp_path, capsys):
    source = make_bad_input("text", tmp_path)
    status = main(["video", str(source), "-o", str(tmp_path / "out.mp4"), "--weights", str(tmp_path / "none.keras")])
    assert status == 1 and "not a video file" in capsys.readouterr().err  # not the missing weights


@pytest.mark.parametrize("name", ["out.xyz", "out.gif", "out"])
def test_an_output_it_cannot_write_is_status_2(tmp_path, clip, name, capsys):
    status = main(["video", str(clip), "-o", str(tmp_path / name)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == [f"colorization video: {tmp_path / name}: " + err.split(": ", 2)[2].strip()]
    assert "cannot write" in err and not list(tmp_path.iterdir())


def test_the_input_as_output_is_refused_even_with_overwrite(clip, capsys):
    before = digest(clip)
    assert main(["video", str(clip), "-o", str(clip), "--overwrite"]) == 2
    assert "is the input" in capsys.readouterr().err and digest(clip) == before


def test_missing_weights_are_status_2(tmp_path, clip, capsys):
    status = main(["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--weights", str(tmp_path / "none.keras")])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1 and "none.keras" in err
    assert not list(tmp_path.iterdir())


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, clip, model_file, capsys):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"an earlier result")
    assert main(["video", str(clip), "-o", str(target), "--weights", str(model_file)]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == f"{clip}: skipped, {target} exists (use --overwrite to replace it)"
    assert captured.out == "" and target.read_bytes() == b"an earlier result"
    assert main(["video", str(clip), "-o", str(target), "--weights", str(model_file), "--overwrite", "-q"]) == 0
    assert probe(target).frames == 10 and capsys.readouterr().err == ""


def test_an_unknown_temporal_method_lists_the_choices(tmp_path, clip, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--temporal", "magic"])
    err = capsys.readouterr().err
    assert raised.value.code == 2 and "invalid choice: 'magic'" in err and "frame" in err and "flow" in err


@pytest.mark.subprocess
def test_the_parser_does_not_import_the_video_stack():
    """Every command builds the whole parser: PyAV, OpenCV and the stabilizer (SciPy's statistics) wait for a run."""
    code = (
        "import sys\n"
        "from colorization.cli import build_parser\n"
        "build_parser().parse_args(['video', 'in.mp4', '-o', 'out.mp4'])\n"
        "print(sorted(m for m in ('av', 'cv2', 'scipy.stats', 'colorization.video.temporal') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def unnamed_files_of(pid: int, folder: Path) -> list[str]:
    """The files process ``pid`` holds open in ``folder`` that have no name (O_TMPFILE: '/folder/#123 (deleted)')."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(f"{folder}/") and target.endswith("(deleted)"):
            found.append(target)
    return found


@pytest.mark.subprocess
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_killed_run_leaves_neither_output_nor_temporary(tmp_path, model_file):
    source = vf.write_video(tmp_path / "long.mp4", vf.pattern_frames(400, 64, 48), audio="aac")
    before = digest(source)
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-m", "colorization", "video", str(source), "-o", str(out / "colour.mp4")]
    child = subprocess.Popen([*command, "--weights", str(model_file), "-q"], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not unnamed_files_of(child.pid, out) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert unnamed_files_of(child.pid, out), "the run never started writing"
        time.sleep(0.5)  # well into the frames
        assert child.poll() is None, "the run ended before it was killed"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert list(out.iterdir()) == [] and digest(source) == before


def test_the_shipped_int8_network_colorizes_and_is_named_in_the_summary(tmp_path, clip, capsys, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr("colorization.cli.video.show_progress", lambda args: True)  # as on a terminal
    target = tmp_path / "colour.mp4"
    assert main(["video", str(clip), "-o", str(target), "--runtime", "onnx-int8", "--temporal", "frame"]) == 0
    err = capsys.readouterr().err
    assert "network: the shipped int8 export (ONNX Runtime)" in err.splitlines()[-1]
    assert probe(target).frames == 10


def test_runtime_with_weights_is_one_line_and_status_2(tmp_path, clip, model_file, capsys):
    command = ["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--weights", str(model_file)]
    assert main([*command, "--runtime", "keras"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and "with --weights FILE, the file decides" in err
    assert not list(tmp_path.iterdir())


def test_onnx_int8_without_onnx_runtime_is_one_line_and_status_2(tmp_path, clip, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "onnxruntime" else real(name))
    assert main(["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--runtime", "onnx-int8"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and "needs ONNX Runtime" in err and not list(tmp_path.iterdir())
