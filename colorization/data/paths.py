"""Where data lives, and which folders the package may write into.

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

Folders the package writes into
-------------------------------
Every folder the package fills (an image cache, ``prepare --out``, ``evaluate -o``, a
data set's download and extraction folders) is *claimed* first (:func:`claim_folder`):
a new or empty folder is created and marked with a small JSON file (by default
:data:`OWNER_MARKER`; a cache uses its own ``meta.json``) holding
``{"format": "colorization", "kind": ...}``. A folder that holds that marker for the
same kind is the package's and is written into; any other non-empty folder is refused
with one line (``overwrite=True``, the CLI's ``--overwrite``, writes into it anyway,
without marking it). :func:`check_folder` asks the same question without creating
anything, so that a command can refuse before it does any work.

Writers hold :func:`folder_lock` while they write: an exclusive lock on the folder
under which any temporary of the package's own naming found there is left over from a
killed run, and is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.io.paths import project_root

try:  # POSIX; elsewhere there is no lock and nothing is removed as stale
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

ENV_DATA = "COLORIZATION_DATA"
ENV_CALTECH101 = "COLORIZATION_CALTECH101_DIR"
# the read-only Caltech-101 copy the project's machines provide beside the checkout
_SHARED_CALTECH101 = Path("..", "shared", "data", "caltech101", "101_ObjectCategories")

OWNER_MARKER = ".colorization.json"
OWNER_FORMAT = "colorization"
OVERWRITE_HINT = "pass --overwrite to write into it anyway"


class FolderError(ValueError):
    """A folder the package cannot or may not write into; ``str(error)`` is one line naming it."""


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


def not_a_folder(path: str | Path) -> Path | None:
    """``path`` or the first of its parents that exists but is not a folder (None if there is none)."""
    path = Path(path)
    for part in (path, *path.parents):
        if part.is_dir():
            return None
        if part.exists() or part.is_symlink():
            return part
    return None


def require_folder_path(path: str | Path) -> Path:
    """``path``, unless it or one of its parents exists as something other than a folder.

    Raises
    ------
    FolderError
        One line naming the file in the way.
    """
    path = Path(path)
    blocker = not_a_folder(path)
    if blocker is not None:
        needed = "" if blocker == path else f" (needed as a folder for {path})"
        raise FolderError(f"{blocker}: exists and is not a folder{needed}")
    return path


def ensure_folder(path: str | Path) -> Path:
    """``path`` as an existing folder (created with its parents).

    Raises
    ------
    FolderError
        One line, when ``path`` or one of its parents is a file, or it cannot be created.
    """
    path = require_folder_path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FolderError(f"{path}: cannot create the folder ({error.strerror or error})") from None
    return path


def folder_owner(path: str | Path, marker: str = OWNER_MARKER) -> dict | None:
    """The package's marker in ``path`` (a dict with ``format`` and ``kind``), or None."""
    with contextlib.suppress(OSError, ValueError):
        info = json.loads((Path(path) / marker).read_text(encoding="utf-8"))
        if isinstance(info, dict) and info.get("format") == OWNER_FORMAT:
            return info
    return None


def mark_folder(path: str | Path, kind: str, marker: str = OWNER_MARKER, **extra) -> Path:
    """Write the marker saying the package made ``path`` for ``kind`` files (atomically)."""
    info = {
        "format": OWNER_FORMAT,
        "kind": kind,
        "marked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    return write_text_atomic(Path(path) / marker, json.dumps(info, indent=2) + "\n")


def check_folder(
    path: str | Path,
    kind: str,
    *,
    marker: str = OWNER_MARKER,
    overwrite: bool = False,
    adopt: Callable[[Path], bool] | None = None,
    hint: str = OVERWRITE_HINT,
) -> str:
    """Whether the package may write ``kind`` files into ``path``; creates nothing.

    Returns
    -------
    str
        ``"ours"`` (marked for ``kind``), ``"new"`` (missing, empty, or recognised by
        ``adopt`` as an earlier version's: to be marked) or ``"overwrite"`` (someone
        else's, but ``overwrite`` is set).

    Raises
    ------
    FolderError
        One line naming the folder, when it (or a parent) is a file, or it is not empty
        and not the package's for ``kind`` while ``overwrite`` is False.
    """
    path = require_folder_path(path)
    if not path.exists():
        return "new"
    owner = folder_owner(path, marker)
    if owner is not None and owner.get("kind") == kind:
        return "ours"
    if overwrite:
        return "overwrite"
    if owner is not None:
        raise FolderError(f"{path}: holds colorization {owner.get('kind')} files, not {kind}; {hint}")
    if not any(path.iterdir()) or (adopt is not None and adopt(path)):
        return "new"
    raise FolderError(
        f"{path}: not empty, and not a folder colorization made for {kind} files (no {marker} saying so); "
        f"choose a new or empty folder, or {hint}"
    )


def claim_folder(path: str | Path, kind: str, *, marker: str = OWNER_MARKER, **options) -> Path:
    """Check ``path`` as :func:`check_folder` does, then create and mark it where it is new.

    ``options``: ``overwrite``, ``adopt``, ``hint`` (see :func:`check_folder`).
    """
    state = check_folder(path, kind, marker=marker, **options)
    path = ensure_folder(path)
    if state == "new":
        mark_folder(path, kind, marker)
    return path


def atomic_temporaries(names: Iterable[str]) -> tuple[str, ...]:
    """Glob patterns of the temporaries :func:`colorization.io.files.atomic_path` makes for these files."""
    return tuple(f".{Path(name).stem}.*.tmp{Path(name).suffix}" for name in names)


_HELD: set[str] = set()  # the folders whose lock this process holds (the lock is re-entrant)


@contextlib.contextmanager
def folder_lock(path: str | Path, stale: Iterable[str] = ()) -> Iterator[Path]:
    """Hold an exclusive lock on the folder ``path`` (waiting while another process holds it).

    Every writer of a package folder holds this lock, so with it held the entries
    matching the ``stale`` glob patterns (temporaries of the package's own naming) belong
    to no running process: they are left over from a killed run and are removed. Taking
    the lock again in the same process (a writer calling another) just goes on.
    """
    path = Path(path)
    key = os.path.realpath(path)
    if fcntl is None or key in _HELD:
        yield path
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        _HELD.add(key)
        for pattern in stale:
            for entry in path.glob(pattern):
                remove_entry(entry)
        yield path
    finally:
        _HELD.discard(key)
        os.close(descriptor)  # releases the lock


def remove_entry(path: Path) -> None:
    """Remove a file, link or folder tree (nothing if it is gone)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
