"""What every command shares: the one-line error, the argparse types, the output options
(-q/--quiet, --verbose), and keeping the numerical backends' own log lines off stderr.

TensorFlow (and XLA, and JAX) write start-up notes from C++ straight to file descriptor 2:
"oneDNN custom operations are on ...", "oneDNN supports DT_HALF only on platforms with
AVX-512", "All log messages before absl::InitializeLog() ...". TF_CPP_MIN_LOG_LEVEL=3 hides
those logged after start-up, but not the oneDNN note, which is written while TensorFlow is
imported whatever the level (GLOG_minloglevel does not help either). So, unless --verbose,
the command also sends file descriptor 2 to a temporary file while the backend is imported,
and only then: the package's own messages and progress, which come after, reach stderr as
usual. oneDNN itself is left as TensorFlow chooses for the processor (TF_ENABLE_ONEDNN_OPTS is
not touched); benchmarks/cli_startup.py times start-up and inference with and without the hiding.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import logging
import os
import sys
import warnings

from colorization.io.quiet import stderr_captured
from colorization.vividness import LIMITS

# The backends whose import is silenced, and whose Python loggers are raised to ERROR.
BACKENDS = ("tensorflow", "jax")
QUIET_LOGGERS = ("absl", *BACKENDS)
VIVIDNESS_HELP = f"""how colourful, {LIMITS[0]:g} to {LIMITS[1]:g}: 1 is the network as trained (its mean colour), more
is more colourful, less is paler (default: the model's own; each shipped model has a registered default)"""


class CommandError(Exception):
    """A problem that stops a whole command (bad option, unusable output folder ...)."""


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1, with a one-line message otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def vividness_value(text: str) -> float:
    """argparse type: a vividness (:func:`colorization.vividness.check_vividness`), with its one-line message."""
    from colorization.vividness import check_vividness

    try:
        return check_vividness(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class ReaderGone(Exception):
    """The reader of stdout went away (``colorization colorize ... | head -1``)."""


def print_result(text: str) -> None:
    """One line (or block) of the command's results on stdout, passed on at once so that it pipes.

    Progress bars step aside while it is written where both share a terminal. A reader that
    went away is :class:`ReaderGone`, which ends the command quietly, as a Unix tool ends.
    """
    from tqdm import tqdm

    try:
        tqdm.write(str(text), file=sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        raise ReaderGone from None


def compiled_model(weights: str | None):
    """The network in ``weights`` (default: the shipped reference model), XLA-compiled.

    A file that is missing or does not fit is a :class:`CommandError` (one line).
    """
    from colorization.weights import WeightsError, load_weights

    try:
        model = load_weights(weights)
    except WeightsError as error:
        raise CommandError(str(error)) from None
    model.compile(jit_compile=True)  # XLA: ~1.5x faster inference on the CPU
    return model


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """-q/--quiet and --verbose, which every command has."""
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bars or informational lines; errors are still shown"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show the log lines of TensorFlow, XLA and absl (hidden by default)"
    )


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default: stderr) is a terminal, where progress bars belong."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def show_progress(args) -> bool:
    """Progress bars and running totals: on a terminal, unless --quiet."""
    return not args.quiet and on_terminal()


def shown(kind: str, quiet: bool) -> bool:
    """Whether a line of this kind goes to stderr: failures always, the others unless quiet."""
    return kind == "failed" or not quiet


def say(args, line: str) -> None:
    """An informational line on stderr, left out with --quiet."""
    if not args.quiet:
        print(line, file=sys.stderr)


@contextlib.contextmanager
def one_line_warnings(command: str):
    """Show every Python warning raised in the block as one line on stderr."""

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"colorization {command}: warning: {text} ({category.__name__})", file=file or sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def backend_logs(verbose: bool):
    """While the block runs: the backends' log lines shown (``verbose``) or kept off stderr.

    Not verbose: TF_CPP_MIN_LOG_LEVEL=3, their Python loggers at ERROR, and their import
    silenced (:class:`SilentImport`). Verbose: TF_CPP_MIN_LOG_LEVEL=0. Takes effect for a
    backend not imported yet; everything is as it was after the block.
    """
    saved_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved_loggers = [logger.level for logger in loggers]
    finder = SilentImport(BACKENDS)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose else "3"
    if not verbose:
        for logger in loggers:
            logger.setLevel(max(logger.level, logging.ERROR))
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        for logger, level in zip(loggers, saved_loggers, strict=True):
            logger.setLevel(level)
        if saved_level is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = saved_level


class SilentImport(importlib.abc.MetaPathFinder):
    """Imports the top-level packages ``names`` with file descriptor 2 captured (:func:`stderr_captured`).

    Wherever in the program the import happens (``import keras`` imports TensorFlow), only
    the package's own module is run so; the spec comes from the finders after this one.
    """

    def __init__(self, names) -> None:
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name not in self.names or self not in sys.meta_path:
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1 :]:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = SilentLoader(spec.loader)
                return spec
        return None


class SilentLoader(importlib.abc.Loader):
    """``loader``, executing the module with stderr captured; the module keeps the real loader."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__spec__.loader = module.__loader__ = self.loader
        with stderr_captured():
            self.loader.exec_module(module)
