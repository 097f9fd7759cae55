"""The command line as a Unix tool: --version, plain help, -q/--quiet and --verbose everywhere,
results on stdout, and no TensorFlow or absl lines on stderr unless --verbose."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import colorization
from colorization.cli import COMMANDS, build_parser, main
from colorization.cli.common import SilentImport, backend_logs, on_terminal
from colorization.io.quiet import stderr_captured

# RST a module docstring may carry: ``literal``, `title`, :role:`target`
RST_MARKUP = re.compile(r"`|:[a-z]+:")


def _help(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0 and capsys.readouterr().out == f"colorization {colorization.__version__}\n"


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_is_plain_words(command, capsys):
    text = _help([command] if command else [], capsys)
    assert not RST_MARKUP.search(text), RST_MARKUP.findall(text)
    if command:
        assert "-q, --quiet" in text and "--verbose" in text


def test_every_command_takes_quiet_and_verbose():
    parser = build_parser()
    for command in COMMANDS:
        args = parser.parse_args([command, "-q", "--verbose", *_required(command)])
        assert args.quiet and args.verbose, command
        assert not parser.parse_args([command, *_required(command)]).quiet


def _required(command: str) -> list[str]:
    return {
        "download": ["sample"],
        "prepare": ["sample", "--out", "x"],
        "colorize": ["a.jpg", "-o", "x"],
        "evaluate": ["--data", "sample", "-o", "x"],
        "export": ["paper", "-o", "x.onnx"],
        "video": ["a.mp4", "-o", "x.mp4"],
    }.get(command, [])


# --- the backend's import, with file descriptor 2 captured --------------------------------------------------------


def test_stderr_captured_hides_fd_2_and_puts_it_back(capfd):
    with stderr_captured():
        os.write(2, b"C++ chatter\n")
        print("python chatter", file=sys.stderr)
    os.write(2, b"after\n")
    print("python after", file=sys.stderr)
    assert capfd.readouterr().err == "after\npython after\n"


def test_stderr_captured_shows_what_it_caught_when_the_block_fails(capfd):
    with pytest.raises(ImportError), stderr_captured():
        os.write(2, b"why the import failed\n")
        raise ImportError("no backend")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "why the import failed\nafter\n"


@pytest.fixture
def noisy_packages(tmp_path, monkeypatch):
    """Two packages that write to fd 2 and to sys.stderr while imported; the second then fails."""
    for name, tail in (("noisy_backend", ""), ("broken_backend", "raise ImportError('broken')\n")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(
            f"import os, sys\nos.write(2, b'{name}: C++ start-up note\\n')\n"
            f"print('{name}: python note', file=sys.stderr)\n{tail}"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("noisy_backend", "broken_backend"):
        sys.modules.pop(name, None)


def test_silent_import_hides_only_the_packages_own_import(noisy_packages, capfd, monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [SilentImport(["noisy_backend", "broken_backend"]), *sys.meta_path])
    import noisy_backend

    print("the package's own message", file=sys.stderr)
    assert capfd.readouterr().err == "the package's own message\n"
    assert type(noisy_backend.__loader__).__name__ == "SourceFileLoader"  # the real loader, as without the hook
    assert noisy_backend.__spec__.loader is noisy_backend.__loader__
    with pytest.raises(ImportError, match="broken"):
        import broken_backend  # noqa: F401
    assert capfd.readouterr().err == "broken_backend: C++ start-up note\nbroken_backend: python note\n"


def test_backend_logs_are_as_before_after_the_command(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    before, absl_level = list(sys.meta_path), logging.getLogger("absl").level
    with backend_logs(verbose=False):
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
        assert logging.getLogger("absl").getEffectiveLevel() == logging.ERROR
        assert isinstance(sys.meta_path[0], SilentImport)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1" and sys.meta_path == before
    assert logging.getLogger("absl").level == absl_level
    with backend_logs(verbose=True):
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" and sys.meta_path == before


def test_progress_belongs_to_a_terminal(tmp_path):
    primary, secondary = os.openpty()
    with open(secondary, "w") as terminal, open(tmp_path / "log", "w") as file:
        assert on_terminal(terminal) and not on_terminal(file)
    os.close(primary)
    assert not on_terminal(object()) and not on_terminal(terminal)  # no isatty; a closed stream


# --- the real command in a fresh process, as a user runs it ------------------------------------------------------


def _run(argv: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    """``colorization ARGV`` in a fresh Python, where TensorFlow is noisy: oneDNN on, as on an
    AVX-512 machine, which prints a note at import whatever TF_CPP_MIN_LOG_LEVEL says, and no
    log level of the user's."""
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update({"TF_ENABLE_ONEDNN_OPTS": "1", **env})
    return subprocess.run(
        [sys.executable, "-m", "colorization.cli", *argv],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def text_as_jpg(tmp_path) -> Path:
    (tmp_path / "bad.jpg").write_text("a text file, not a photo\n")
    return tmp_path / "bad.jpg"


@pytest.mark.subprocess
@pytest.mark.parametrize("users_level", [None, "0"])
def test_a_bad_photo_is_one_line_on_stderr(users_level, text_as_jpg, tmp_path):
    env = {} if users_level is None else {"TF_CPP_MIN_LOG_LEVEL": users_level}
    done = _run(["colorize", "bad.jpg", "-o", "out"], tmp_path, **env)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "bad.jpg: not an image, or a format Pillow cannot read; skipped\n", done.stderr


@pytest.mark.subprocess
def test_missing_weights_are_one_line_on_stderr(text_as_jpg, tmp_path):
    done = _run(["colorize", "bad.jpg", "-o", "out", "--weights", "missing.keras"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("colorization colorize: missing.keras: ")


@pytest.mark.subprocess
def test_verbose_brings_tensorflows_lines_back(text_as_jpg, tmp_path):
    done = _run(["colorize", "bad.jpg", "-o", "out", "--verbose"], tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and "bad.jpg: not an image, or a format Pillow cannot read; skipped" in lines
    assert any(re.match(r"[IWE]\d{4} ", line) for line in lines), done.stderr  # absl's format: I0000 00:00...


@pytest.mark.subprocess
def test_stdout_pipes_and_a_reader_that_leaves_stops_it_quietly(tmp_path):
    (tmp_path / "in").mkdir()
    for index in range(40):
        Image.new("RGB", (24, 16), (index * 6, 90, 30)).save(tmp_path / "in" / f"{index:02d}.png")
    argv = [sys.executable, "-m", "colorization.cli", "colorize", "in", "-o", "out", "--batch-size", "1"]
    with subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        first = process.stdout.readline()  # as `| head -1` does
        process.stdout.close()
        stderr = process.stderr.read()
        status = process.wait(timeout=300)
    assert first == f"{Path('out', '00.png')}\n" and (tmp_path / first.strip()).is_file()
    assert status == 141 and stderr == "", stderr
