"""A profile's results folder, replaced whole or not at all.

A run never writes into ``results/<profile>/``. It starts a staging folder beside it,
``results/.staging-<profile>-<pid>/``, as a copy of the last good results (so that what
the run does not regenerate is carried over: a finished training run that notebook 02
shows instead of retraining, the outputs of notebooks left out with ``--only``), runs
the notebooks there and, only when all of them succeeded, promotes it::

    results/<profile>                  -> results/.old-<profile>-<pid>     (1)
    results/.staging-<profile>-<pid>   -> results/<profile>                (2)
    remove results/.old-<profile>-<pid>                                    (3)

A crash at any point leaves a complete folder: before (1) and after (2) it is
``results/<profile>``; between them the old one, which the next run puts back. A failed
or killed run leaves its staging folder for inspection; the next run of the profile
takes over its unfinished work (:data:`RESUMABLE`: training resumes from its last
checkpoint) and removes it. One run per profile at a time (a lock file,
``results/.lock-<profile>``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RESUMABLE = ("train",)  # work a killed run leaves that the next run continues
STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"


class StagingError(RuntimeError):
    """The results folder cannot be staged (another run holds it)."""


@contextmanager
def locked(final: Path) -> Iterator[None]:
    """Hold the lock of the results folder ``final`` (one run per profile); StagingError if taken."""
    final.parent.mkdir(parents=True, exist_ok=True)
    lock = final.parent / f".lock-{final.name}"
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StagingError(f"{final}: another run of this profile is in progress (lock {lock})") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def leftovers(final: Path, prefix: str) -> list[Path]:
    """Folders ``<prefix><name>-<pid>`` beside ``final`` (this package's naming only), oldest first."""
    start = f"{prefix}{final.name}-"
    found = [p for p in final.parent.glob(f"{start}*") if p.is_dir() and p.name[len(start) :].isdigit()]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def recover(final: Path) -> None:
    """Undo an interrupted promotion: put the old folder back if ``final`` is missing; drop the rest."""
    old = leftovers(final, OLD_PREFIX)
    if old and not final.exists():
        old.pop().rename(final)
    for folder in old:
        shutil.rmtree(folder)


def start(final: Path) -> Path:
    """A new staging folder for ``final``: a copy of it, plus the unfinished work of a stale staging folder.

    Call under :func:`locked`: every other staging folder of ``final`` is then stale and removed.
    """
    recover(final)
    staging = final.parent / f"{STAGING_PREFIX}{final.name}-{os.getpid()}"
    stale = [p for p in leftovers(final, STAGING_PREFIX) if p != staging]
    if staging.exists():
        shutil.rmtree(staging)
    if final.is_dir():
        shutil.copytree(final, staging, symlinks=True)
    else:
        staging.mkdir()
    if stale:
        adopt(stale[-1], staging)
    for folder in stale:
        shutil.rmtree(folder)
    return staging


def adopt(stale: Path, staging: Path) -> None:
    """Move the :data:`RESUMABLE` folders of a stale staging folder into ``staging``."""
    for name in RESUMABLE:
        if (stale / name).is_dir():
            if (staging / name).exists():
                shutil.rmtree(staging / name)
            (stale / name).rename(staging / name)


def promote(staging: Path, final: Path) -> None:
    """Make ``staging`` the results folder ``final`` (the three renames of the module's docstring)."""
    old = final.parent / f"{OLD_PREFIX}{final.name}-{os.getpid()}"
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old)
