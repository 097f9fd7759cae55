"""Hash-checked downloads and safe archive extraction.

* :func:`fetch_file` downloads with pooch: the bytes go to a temporary file in the
  target folder and are moved to their final name only after the hash matched, so a
  wrong checksum or a dropped connection never leaves a file that a later call takes
  as valid (pooch deletes the temporary file; see ``tests/test_data_download.py``).
* :func:`safe_extract` unpacks tar (any compression) or zip archives and refuses any
  member with an absolute path, a ``..`` component, a link, a device or a FIFO, with
  one-line messages; tar members also go through Python's ``filter="data"``. It
  extracts into a hidden temporary folder that is removed on any error, so a refused
  archive leaves nothing behind.
* A completion marker (:func:`write_marker`), written atomically only after a
  verified extraction, lets a second call return at once without the network.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

from colorization.io.files import write_text_atomic

MARKER_NAME = ".complete.json"


class DownloadError(RuntimeError):
    """A download failed (network, HTTP status, checksum). Nothing was kept."""


class UnsafeArchiveError(ValueError):
    """An archive member would escape the target folder or is not a plain file/folder."""


def known_hash(md5: str | None = None, sha256: str | None = None, default: str | None = None) -> str | None:
    """Pooch's ``"alg:hex"`` string from ``--md5`` / ``--sha256`` (at most one), else ``default``."""
    if md5 and sha256:
        raise ValueError("give either an md5 or a sha256 checksum, not both")
    for algorithm, value, length in (("md5", md5, 32), ("sha256", sha256, 64)):
        if value:
            value = value.strip().lower()
            if len(value) != length or any(c not in "0123456789abcdef" for c in value):
                raise ValueError(f"--{algorithm} must be {length} hexadecimal digits, got {value!r}")
            return f"{algorithm}:{value}"
    return default


def fetch_file(
    url: str,
    checksum: str,
    folder: str | Path,
    fname: str,
    *,
    progress: bool = True,
    retries: int = 0,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``folder/fname`` unless a file with that checksum is there.

    Parameters
    ----------
    checksum : str
        ``"md5:<hex>"`` or ``"sha256:<hex>"``; required (unverified data is refused).
    retries : int
        Extra attempts after a network error or checksum mismatch.

    Raises
    ------
    DownloadError
        One line naming the URL and the problem; no partial file remains.
    """
    import pooch
    import requests

    if not checksum:
        raise DownloadError(f"{url}: no checksum given; refusing to download unverified data")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    for attempt in range(retries + 1):
        try:
            path = pooch.retrieve(
                url, known_hash=checksum, fname=fname, path=folder, downloader=downloader, progressbar=progress
            )
            return Path(path)
        except (ValueError, OSError, requests.exceptions.RequestException) as error:
            if attempt < retries:
                time.sleep(min(attempt + 1, 10))
                continue
            problem = " ".join(str(error).split())
            if isinstance(error, ValueError) and "hash" in problem.lower():
                problem = f"checksum mismatch, the download was discarded ({problem})"
            raise DownloadError(f"{url}: {problem}; nothing was kept, run again to retry") from None
    raise AssertionError("unreachable")


def member_problem(name: str) -> str | None:
    """Why an archive member name is unsafe, or None if it is a plain relative path."""
    if not name or "\x00" in name:
        return "empty or NUL in name"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        return "'..' in path"
    return None


def _check_tar_member(archive: Path, member: tarfile.TarInfo) -> None:
    problem = member_problem(member.name)
    if problem is None:
        if member.issym() or member.islnk():
            problem = f"link to {member.linkname!r}"
        elif member.ischr() or member.isblk():
            problem = "device file"
        elif member.isfifo():
            problem = "FIFO"
        elif not (member.isfile() or member.isdir()):
            problem = "not a regular file or folder"
    if problem:
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: {problem}")


def _check_zip_member(archive: Path, info: zipfile.ZipInfo) -> None:
    problem = member_problem(info.filename)
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip stores no file type
    if problem is None and kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        problem = "link or special file"
    if problem:
        raise UnsafeArchiveError(f"{archive}: refusing member {info.filename!r}: {problem}")


def safe_extract(archive: str | Path, dest: str | Path, only: str | None = None) -> list[str]:
    """Extract a tar or zip archive (decided by content) into ``dest``.

    Every member is checked before it is written; the whole extraction goes into a
    temporary folder beside ``dest`` and is moved into ``dest`` only when complete.

    Parameters
    ----------
    only : str, optional
        Extract only members whose path ends with this name (and folders above it).

    Returns
    -------
    list of str
        Top-level names now in ``dest`` that came from the archive.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive, mode="r:*") as tar:
                for member in tar:  # streaming: one pass even for .tar.gz
                    _check_tar_member(archive, member)
                    if only is None or member.name.rstrip("/").endswith(only):
                        tar.extract(member, tmp, filter="data")
        elif zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    _check_zip_member(archive, info)
                for info in infos:
                    if only is None or info.filename.rstrip("/").endswith(only):
                        zf.extract(info, tmp)
        else:
            raise UnsafeArchiveError(f"{archive}: not a tar or zip archive")
        names = sorted(p.name for p in tmp.iterdir())
        for name in names:
            target = dest / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            (tmp / name).rename(target)
        return names
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
        raise UnsafeArchiveError(f"{archive}: corrupt archive ({error})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def file_checksum(path: str | Path, algorithm: str = "md5") -> str:
    """``"alg:hex"`` of a file (streamed)."""
    import hashlib

    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{algorithm}:{digest.hexdigest()}"


def read_marker(folder: str | Path) -> dict | None:
    """The completion marker of an extracted dataset, or None."""
    with contextlib.suppress(OSError, ValueError):
        return json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    return None


def write_marker(folder: str | Path, info: dict) -> Path:
    """Write the completion marker atomically (call only after verified extraction)."""
    return write_text_atomic(Path(folder) / MARKER_NAME, json.dumps(info, indent=2, sort_keys=True) + "\n")


def remove_marker(folder: str | Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(folder) / MARKER_NAME).unlink()
