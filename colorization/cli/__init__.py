"""The ``colorization`` command line: one sub-command per module of this package.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int``; every
command also gets -q/--quiet and --verbose (:func:`~colorization.cli.common.add_output_options`).
Results go to stdout, messages and progress to stderr (progress bars only on a terminal).
Errors the user can fix are printed as one line on stderr, never as a traceback, and so
is each Python warning; the numerical backends' own log lines are hidden unless --verbose.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from colorization import __version__
from colorization.cli.common import CommandError, ReaderGone, add_output_options, backend_logs, one_line_warnings

# Sub-commands, in the order of the data path: data -> train -> colorize (images, video) -> evaluate.
COMMANDS = ("download", "prepare", "train", "colorize", "video", "evaluate", "export")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``argv`` naming one, of that one only (its modules alone are imported)."""
    parser = argparse.ArgumentParser(
        prog="colorization",
        description="Automatic colorization of grayscale photographs with the paper's CNN in CIE Lab. "
        "Run 'colorization COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in argv[:1] if argv and argv[0] in COMMANDS else COMMANDS:
        importlib.import_module(f"colorization.cli.{name}").add_parser(subparsers)
        add_output_options(subparsers.choices[name])
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        with one_line_warnings(args.command), backend_logs(args.verbose):
            return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("colorization: interrupted", file=sys.stderr)
        return 130
    except ReaderGone:  # `| head`: stop, as a Unix tool stopped by SIGPIPE, without a word
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor one from Python's last flush
        return 141
    except CommandError as error:
        print(f"colorization {args.command}: {error}", file=sys.stderr)
        return 2
