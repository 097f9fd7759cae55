"""What every command shares: the one-line error and the argparse types."""

from __future__ import annotations

import argparse


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
