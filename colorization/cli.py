"""The ``colorization`` command line: one sub-command per module in ``colorization.commands``.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int``.
Errors the user can fix are printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Sub-commands, in the order of the data path: data -> train -> colorize -> evaluate.
COMMANDS = tuple(n for n in ("download", "prepare", "train", "colorize", "evaluate") if __import__("importlib.util").util.find_spec(f"colorization.commands.{n}"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorization",
        description="Automatic colorization of grayscale photographs with the paper's CNN in CIE Lab.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"colorization.commands.{name}").add_parser(subparsers)
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


if __name__ == "__main__":
    sys.exit(main())
