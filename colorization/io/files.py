"""Writing outputs safely: atomically, and never over something that exists unless asked.

Every file the package writes goes through :func:`atomic_path`: the content is
written to a hidden temporary file in the target's folder and moved into place in
one step, so a killed process never leaves a half-written PNG, CSV or model.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


class OutputExistsError(FileExistsError):
    """The output file exists and overwriting was not allowed."""


@contextlib.contextmanager
def atomic_path(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write to; move it onto ``path`` on success.

    Parameters
    ----------
    path : path-like
        The final file. Its folder is created if needed.
    overwrite : bool
        If False and ``path`` exists when the write completes,
        :class:`OutputExistsError` is raised and nothing is changed. The check and
        the move are one atomic step (a hard link), so two writers cannot both win.

    Notes
    -----
    The temporary file keeps ``path``'s suffix (Keras and Pillow choose the format
    from it) and is removed if the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs get the usual mode
    try:
        yield tmp
        with open(tmp, "rb+") as handle:  # flush to disk before the rename
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _link_no_clobber(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)  # fails atomically if path exists
    except FileExistsError:
        raise OutputExistsError(errno.EEXIST, "exists (use --overwrite to replace it)", str(path)) from None
    except OSError:  # file systems without hard links
        if path.exists():
            raise OutputExistsError(errno.EEXIST, "exists (use --overwrite to replace it)", str(path)) from None
        os.replace(tmp, path)


def write_text_atomic(path: str | Path, text: str, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (the package's one file hash)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
