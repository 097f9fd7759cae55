"""Where data lives: the data folder and the offline Caltech-101 copy.

Order of precedence for the data folder (:func:`data_dir`):

1. an explicit argument (the CLI's ``--data-dir``);
2. the environment variable ``COLORIZATION_DATA``;
3. ``<project root>/data`` (:func:`colorization.io.paths.project_root`: the nearest
   checkout above the current directory, else the one the package is installed from
   in editable mode, else the current directory).

The machines this project runs on reach no dataset host, so they provide a read-only
copy of Caltech-101's image folder (``101_ObjectCategories``) beside the checkout:
``data/caltech101/101_ObjectCategories`` inside a sibling folder named ``shared``, i.e.
``../shared/data/caltech101/101_ObjectCategories`` seen from the project root (or from
the current directory). This is a data location only: :func:`offline_caltech101_dir`
finds it, ``COLORIZATION_CALTECH101_DIR`` overrides it, and where there is no such copy
the official archive is downloaded instead (:mod:`colorization.data.caltech`).
"""

from __future__ import annotations

import os
from pathlib import Path

from colorization.io.paths import project_root

ENV_DATA = "COLORIZATION_DATA"
ENV_CALTECH101 = "COLORIZATION_CALTECH101_DIR"
# the read-only Caltech-101 copy the project's machines provide beside the checkout
_SHARED_CALTECH101 = Path("..", "shared", "data", "caltech101", "101_ObjectCategories")


def data_dir(explicit: str | Path | None = None) -> Path:
    """The folder downloads, extracted datasets and prepared data go to (not created)."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(ENV_DATA)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return project_root() / "data"


def offline_caltech101_dir() -> Path | None:
    """The read-only Caltech-101 image folder beside the checkout, if there is one.

    ``COLORIZATION_CALTECH101_DIR`` wins when set (and must then exist: a set but
    missing folder returns None rather than silently using another copy).
    """
    from_env = os.environ.get(ENV_CALTECH101)
    if from_env:
        folder = Path(from_env).expanduser().resolve()
        return folder if folder.is_dir() else None
    for base in (project_root(), Path.cwd().resolve()):
        folder = (base / _SHARED_CALTECH101).resolve()
        if folder.is_dir():
            return folder
    return None
