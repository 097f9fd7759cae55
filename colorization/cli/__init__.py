"""The ``colorization`` command line: one sub-command per module of this package.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int``.
Errors the user can fix are printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from colorization.cli.common import CommandError

# Sub-commands, in the order of the data path: data -> train -> colorize -> evaluate.
COMMANDS = ("download", "prepare", "train", "colorize", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorization",
        description="Automatic colorization of grayscale photographs with the paper's CNN in CIE Lab.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"colorization.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("colorization: interrupted", file=sys.stderr)
        return 130
    except CommandError as error:
        print(f"colorization {args.command}: {error}", file=sys.stderr)
        return 2
