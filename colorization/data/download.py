"""Hash-checked downloads and safe archive extraction.

* :func:`fetch_file` downloads over http(s) with pooch's HTTP downloader into a
  temporary of the package's naming (:data:`TEMP_PREFIX`) beside the target, moved onto
  its final name only after the checksum matched: a wrong checksum, a dropped
  connection or a killed process never leaves a file a later call takes as valid, and
  the next run removes what a killed one left (:func:`colorization.data.paths.folder_lock`).
* What cannot succeed fails at once, in one line: a URL that is not http(s) (before any
  network), an HTTP 4xx, a refused connection or unknown host, no connection within
  :data:`CONNECT_TIMEOUT`, a server silent for :data:`READ_TIMEOUT`, a checksum
  mismatch. Only a transfer that broke off, or a temporary server error (5xx, 408,
  429), is tried again (``retries``).
* :func:`safe_extract` unpacks tar (any compression) or zip archives and refuses, in
  one line, any member with an absolute path, a ``..`` component, a link, a device or
  a FIFO, and members adding up to more than ``max_bytes``; tar members also go through
  Python's ``filter="data"``. It extracts into a temporary folder removed on any error.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from colorization.data.paths import ensure_folder, folder_lock, remove_entry

#: every temporary file or folder the downloads and extractions make starts with this
TEMP_PREFIX = ".colorization-tmp-"
SCHEMES = ("http", "https")
CONNECT_TIMEOUT = 5.0  # seconds to establish a connection
READ_TIMEOUT = 15.0  # seconds the server may stay silent (before the answer or between bytes)
RETRY_STATUS = frozenset({408, 429})  # and every 5xx: the server may answer the next attempt
CHUNK_BYTES = 1 << 20


class DownloadError(RuntimeError):
    """A download failed (URL, network, HTTP status, checksum). Nothing was kept."""


class UnsafeArchiveError(ValueError):
    """An archive member would escape the target folder, is not a plain file/folder, or is too large."""


def check_url(url: str) -> str:
    """``url`` if it is an http(s) address with a host; else :class:`DownloadError` (no network used)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        scheme = f"unsupported URL scheme {parts.scheme!r}" if parts.scheme else "no URL scheme"
        raise DownloadError(f"{url}: {scheme}; give an http:// or https:// address (nothing was downloaded)")
    if not parts.hostname:
        raise DownloadError(f"{url}: no host in the URL (nothing was downloaded)")
    return url


def checksum_algorithm(url: str, checksum: str | None) -> str:
    """The algorithm of an ``"md5:<hex>"`` / ``"sha256:<hex>"`` checksum; unverified data is refused."""
    if not checksum:
        raise DownloadError(f"{url}: no checksum given; refusing to download unverified data")
    algorithm = checksum.split(":", 1)[0].lower()
    if algorithm not in ("md5", "sha256") or ":" not in checksum:
        raise DownloadError(f"{url}: checksum {checksum!r} is not 'md5:<hex>' or 'sha256:<hex>'")
    return algorithm


def fetch_file(
    url: str,
    checksum: str,
    folder: str | Path,
    fname: str,
    *,
    progress: bool = True,
    retries: int = 0,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Path:
    """Download ``url`` to ``folder/fname`` unless a file with that checksum is there.

    Parameters
    ----------
    checksum : str
        ``"md5:<hex>"`` or ``"sha256:<hex>"``; required (unverified data is refused).
    retries : int
        Extra attempts after a transfer broke off or a temporary server error.
    connect_timeout, read_timeout : float
        Seconds to connect, and seconds the server may stay silent.

    Raises
    ------
    DownloadError
        One line naming the URL and the problem; no partial file remains.
    """
    check_url(url)
    algorithm = checksum_algorithm(url, checksum)
    folder = ensure_folder(folder)
    target = folder / fname
    with folder_lock(folder, stale=(f"{TEMP_PREFIX}download-*",)):
        if target.is_file() and file_checksum(target, algorithm) == checksum.lower():
            return target
        for attempt in range(retries + 1):
            problem, again = download_once(url, checksum.lower(), target, progress, (connect_timeout, read_timeout))
            if problem is None:
                return target
            if not again or attempt == retries:
                break
            time.sleep(min(attempt + 1, 10))
    retry = "run again to retry" if again else "retrying would not help"
    raise DownloadError(f"{url}: {problem}; nothing was kept, {retry}")


def download_once(url: str, checksum: str, target: Path, progress: bool, timeout) -> tuple[str | None, bool]:
    """One attempt: download into a temporary beside ``target``, moved onto it once the checksum matched.

    Returns ``(None, False)`` when ``target`` is in place, else ``(the problem, whether another
    attempt may succeed)``; the temporary is gone in every case.
    """
    import pooch
    import requests

    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f"{TEMP_PREFIX}download-", suffix=".part")
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            if progress:
                print(f"downloading {url} to {target}", file=sys.stderr)
            downloader = pooch.HTTPDownloader(
                progressbar=progress and sys.stderr.isatty(), chunk_size=CHUNK_BYTES, timeout=timeout
            )
            try:
                downloader(url, handle, None)
            except requests.exceptions.RequestException as error:
                return network_problem(error, handle.tell(), timeout)
            except OSError as error:  # writing the file: disk full, quota ...
                return f"cannot write {temporary} ({error.strerror or error})", False
        actual = file_checksum(temporary, checksum.split(":", 1)[0])
        if actual != checksum:
            return f"checksum mismatch (expected {checksum}, got {actual}), the download was discarded", False
        os.replace(temporary, target)
        return None, False
    finally:
        temporary.unlink(missing_ok=True)


def network_problem(error, received: int, timeout) -> tuple[str, bool]:
    """(the problem in a few words, whether another attempt may succeed) for a requests error.

    Retried: 5xx, 408, 429, and a transfer that broke off after the server began to answer.
    """
    import requests
    from urllib3.exceptions import ReadTimeoutError

    response = getattr(error, "response", None)
    if isinstance(error, requests.exceptions.HTTPError) and response is not None:
        status = int(response.status_code)
        return f"HTTP {status} {response.reason or ''}".rstrip(), status >= 500 or status in RETRY_STATUS
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout[0]:g} s (connect timeout)", False
    if isinstance(error, requests.exceptions.ReadTimeout):  # before the answer began
        return f"the server sent nothing for {timeout[1]:g} s (read timeout)", False
    cause = error.args[0] if error.args else None
    if received or isinstance(error, requests.exceptions.ChunkedEncodingError) or isinstance(cause, ReadTimeoutError):
        return f"the transfer broke off after {received:,} bytes were saved ({errno_reason(error)})", True
    return f"cannot connect ({errno_reason(error)})", False


def errno_reason(error) -> str:
    """The operating system's reason inside a requests error (``Connection refused`` ...), else its text."""
    text = " ".join(str(error).split())
    found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    return found[-1].strip() if found else text


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


def _check_total(archive: Path, total: int, max_bytes: int | None) -> None:
    if max_bytes is not None and total > max_bytes:
        raise UnsafeArchiveError(
            f"{archive}: refusing to extract more than {max_bytes:,} bytes (the members add up to at least "
            f"{total:,}): not the expected archive, or a decompression bomb"
        )


def _wanted(name: str, only: str | None) -> bool:
    return only is None or name.rstrip("/").endswith(only)


def _extract_tar(archive: Path, tmp: Path, only: str | None, max_bytes: int | None) -> None:
    total = 0
    with tarfile.open(archive, mode="r:*") as tar:
        for member in tar:  # streaming: one pass even for .tar.gz
            _check_tar_member(archive, member)
            if _wanted(member.name, only):
                total += member.size if member.isfile() else 0
                _check_total(archive, total, max_bytes)  # before a byte of this member is written
                tar.extract(member, tmp, filter="data")


def _extract_zip(archive: Path, tmp: Path, only: str | None, max_bytes: int | None) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            _check_zip_member(archive, info)
        wanted = [info for info in infos if _wanted(info.filename, only)]
        # zipfile never yields more than a member's declared size (a larger stream fails its CRC check)
        _check_total(archive, sum(info.file_size for info in wanted), max_bytes)
        for info in wanted:
            zf.extract(info, tmp)


def safe_extract(
    archive: str | Path, dest: str | Path, only: str | None = None, max_bytes: int | None = None
) -> list[str]:
    """Extract a tar or zip archive (decided by content) into ``dest``.

    Every member is checked before it is written; the whole extraction goes into a
    temporary folder inside ``dest`` and is moved into place only when complete.

    Parameters
    ----------
    only : str, optional
        Extract only members whose path ends with this name (and folders above it).
    max_bytes : int, optional
        Refuse the archive when the files to extract add up to more than this.

    Returns
    -------
    list of str
        Top-level names now in ``dest`` that came from the archive.
    """
    archive, dest = Path(archive), ensure_folder(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}extract-", dir=dest))
    try:
        if tarfile.is_tarfile(archive):
            _extract_tar(archive, tmp, only, max_bytes)
        elif zipfile.is_zipfile(archive):
            _extract_zip(archive, tmp, only, max_bytes)
        else:
            raise UnsafeArchiveError(f"{archive}: not a tar or zip archive")
        names = sorted(p.name for p in tmp.iterdir())
        for name in names:
            remove_entry(dest / name)
            (tmp / name).rename(dest / name)
        return names
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise UnsafeArchiveError(f"{archive}: corrupt archive ({' '.join(str(error).split())})") from None
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
