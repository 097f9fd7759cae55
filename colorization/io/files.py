"""Writing outputs safely: atomically, and never over something that exists unless asked.

Every file the package writes goes through :func:`atomic_path`: the content is
written to a hidden temporary file in the target's folder and moved into place in
one step, so a killed process never leaves a half-written PNG, CSV or model; a video,
minutes long to write, through :func:`atomic_stream_path`, an unnamed file where the
system has them, named only once complete.
:class:`SameFileIndex` tells whether a planned output names one of a run's inputs,
however its path is spelled, so that a command can refuse it before writing anything.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


class OutputExistsError(FileExistsError):
    """The output file exists and overwriting was not allowed."""


def _exists(path: Path) -> OutputExistsError:
    return OutputExistsError(errno.EEXIST, "exists (use --overwrite to replace it)", str(path))


# errno values meaning "no unnamed files here" (old kernels say EISDIR, some file systems EOPNOTSUPP)
NO_UNNAMED_FILES = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT}


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
        raise _exists(path) from None
    except OSError:  # file systems without hard links
        if path.exists():
            raise _exists(path) from None
        os.replace(tmp, path)


@contextlib.contextmanager
def atomic_stream_path(target: str | Path, overwrite: bool = True) -> Iterator[str]:
    """A name to write ``target``'s content to, for writers told the format (FFmpeg): ``target``
    appears, complete, only if the block succeeds.

    An unnamed file in ``target``'s folder (``O_TMPFILE``, named ``/proc/self/fd/N``) where the
    system has them: a process killed even with SIGKILL leaves nothing behind, neither the
    output nor a temporary. Elsewhere :func:`atomic_path` (whose hidden temporary only a SIGKILL
    can leave). The name has no suffix, so writers that choose the format from it (Keras,
    Pillow) use :func:`atomic_path`. ``overwrite`` as there.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = unnamed_file(target.parent)
    if descriptor is None:
        with atomic_path(target, overwrite=overwrite) as temporary:
            yield str(temporary)
        return
    try:
        yield f"/proc/self/fd/{descriptor}"
        os.fsync(descriptor)
        link_in_place(descriptor, target, overwrite)
    finally:
        os.close(descriptor)


def unnamed_file(folder: Path) -> int | None:
    """A descriptor of a new unnamed file in ``folder`` (None where there are none)."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_RDWR, 0o666)  # the umask applies, as for any new file
    except OSError as error:
        if error.errno in NO_UNNAMED_FILES:
            return None
        raise


def link_in_place(descriptor: int, target: Path, overwrite: bool) -> None:
    """Give the unnamed file ``descriptor`` the name ``target`` (replacing it only with ``overwrite``)."""
    folder = os.open(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    source = f"/proc/self/fd/{descriptor}"
    try:
        if not overwrite:
            try:
                os.link(source, target.name, dst_dir_fd=folder, follow_symlinks=True)  # fails if it exists
            except FileExistsError:
                raise _exists(target) from None
            return
        while True:  # a fresh name beside the target, then one rename over it
            name = f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}"
            with contextlib.suppress(FileExistsError):
                os.link(source, name, dst_dir_fd=folder, follow_symlinks=True)
                break
        try:
            os.replace(name, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError:
            os.unlink(name, dir_fd=folder)
            raise
    finally:
        os.close(folder)


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


def sha256_path(path: str | Path) -> str:
    """Hex sha256 of a file, or of a folder (a SavedModel): of each regular file's relative path
    and sha256, in sorted order, so that the same tree always gives the same digest."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{sha256_file(file)}\n".encode())
    return digest.hexdigest()


def same_file(first: str | Path, second: str | Path) -> bool:
    """True if both paths exist and are one file (``os.path.samefile``: one inode)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


class SameFileIndex:
    """Paths, each with a value, looked up by the file they name rather than by their spelling.

    A path finds a member if it is the same file (one device and inode: also through
    symlinks and hard links), or if the two names are equal once symlinks are resolved
    and they are ``os.path.normcase``'d, NFC-normalized and case-folded - the same file
    on a case-insensitive file system (macOS, Windows, many USB drives), where
    ``IMG.PNG`` and ``IMG.png`` are one name - unless both exist as different files.
    """

    def __init__(self, paths=()) -> None:
        self._by_inode: dict[tuple[int, int], object] = {}
        self._by_name: dict[str, tuple[object, tuple[int, int] | None]] = {}
        for path in paths:
            self.add(path)

    def add(self, path: str | Path, value: object = None) -> None:
        """Index ``path`` with ``value`` (default: the path); the first value of a file is kept."""
        value = Path(path) if value is None else value
        inode = _inode_key(path)
        self._by_name.setdefault(_name_key(path), (value, inode))
        if inode is not None:
            self._by_inode.setdefault(inode, value)

    def find(self, path: str | Path):
        """The value of the member that ``path`` names, or None."""
        inode = _inode_key(path)
        if inode in self._by_inode:
            return self._by_inode[inode]
        value, member_inode = self._by_name.get(_name_key(path), (None, None))
        if inode is not None and member_inode is not None:
            return None  # both exist, and are different files
        return value


def _name_key(path: str | Path) -> str:
    return unicodedata.normalize("NFC", os.path.normcase(os.path.realpath(path))).casefold()


def _inode_key(path: str | Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino
