"""The official Caltech-101 and Caltech-256 files on CaltechDATA, fetched and unpacked.

Checksums and where they come from
----------------------------------
Caltech-256 (the paper's data), doi 10.22002/D1.20087, record
https://data.caltech.edu/records/nyy15-4j048: ``256_ObjectCategories.tar``,
1,183,006,720 bytes, md5 ``67b4f42ca05d46448c6bb8ecd2220f6d`` (as restated in
docs/paper.md, "Data and training"; the same md5 is in torchvision's ``torchvision/datasets/caltech.py``). The
URL is the record's file URL, ``<record>/files/<name>``.

Caltech-101, doi 10.22002/D1.20086, record https://data.caltech.edu/records/mzrjq-6wc02:
the record publishes one file, ``caltech-101.zip``, which holds
``caltech-101/101_ObjectCategories.tar.gz`` (plus the annotations). Checksums:

* ``caltech-101.zip``: md5 ``3138e1922a9193bfa496528edbbc45d0``, as used by the
  R package torchvision (mlverse/torchvision, ``R/dataset-caltech.R``) for exactly
  this record URL, and by several independent projects that download it. We could
  not read the CaltechDATA page itself from here, so this is *not* verified
  against the record's own listing; ``--md5``/``--sha256`` override it.
* ``101_ObjectCategories.tar.gz`` inside it: md5 ``b224c7392d521a49829488ab0f1120d9``,
  from pytorch/vision ``torchvision/datasets/caltech.py`` (the file published on the
  old vision.caltech.edu page). It is checked after unzipping when the official zip
  hash is in use, so the images come from the published archive even if the zip's
  published hash were wrong.

Neither archive can be fetched on the project's machines (no dataset host is
reachable); Caltech-101 is read from the offline copy beside the checkout instead
(:func:`colorization.data.paths.offline_caltech101_dir`), through the same folder
reading code as an extracted download.

Folders and safety
------------------
``<data_dir>/<name>/`` is claimed for the package before anything is extracted into it
(:func:`colorization.data.paths.claim_folder`, with ``.complete.json`` as the ownership
marker: bare while extracting, complete after; a non-empty folder the package did not
make is refused, never written into) and locked while extracting. The extraction may
write at most ``max_expansion`` (default 2) times the smaller of the data set's size
(:attr:`CaltechSpec.size`) and the archive's own: photographs barely compress, so more
means the archive is not the data set, or is a decompression bomb. A refused archive is
deleted from ``downloads/`` (a verified one that merely could not be written out, for
lack of space say, is kept there for the next run, and the message says so).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from colorization.data import download as dl
from colorization.data.paths import OWNER_FORMAT, check_folder, claim_folder, folder_lock, mark_folder
from colorization.io.files import write_text_atomic

MARKER_NAME = ".complete.json"
DATASET_KIND = "dataset"
DEFAULT_MAX_EXPANSION = 2.0
MOVE_HINT = "move it away or choose another --data-dir"


@dataclass(frozen=True)
class CaltechSpec:
    name: str
    url: str
    fname: str
    checksum: str
    folder: str  # the image folder inside the archive
    size: int  # bytes of the data set's files (what the extraction cap is a multiple of)
    inner: str | None = None  # an archive inside the download (Caltech-101's zip)
    inner_checksum: str | None = None
    doi: str = ""


CALTECH256 = CaltechSpec(
    name="caltech256",
    # the CaltechDATA record's file URL (record nyy15-4j048)
    url="https://data.caltech.edu/records/nyy15-4j048/files/256_ObjectCategories.tar",
    fname="256_ObjectCategories.tar",
    checksum="md5:67b4f42ca05d46448c6bb8ecd2220f6d",
    folder="256_ObjectCategories",
    size=1_183_006_720,  # the published (uncompressed) tar's size; the files inside take less
    doi="10.22002/D1.20087",
)

CALTECH101 = CaltechSpec(
    name="caltech101",
    # the CaltechDATA record's file URL (record mzrjq-6wc02)
    url="https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip",
    fname="caltech-101.zip",
    checksum="md5:3138e1922a9193bfa496528edbbc45d0",
    folder="101_ObjectCategories",
    size=138_607_039,  # the 9,145 files of 101_ObjectCategories, summed on the offline copy
    inner="101_ObjectCategories.tar.gz",
    inner_checksum="md5:b224c7392d521a49829488ab0f1120d9",
    doi="10.22002/D1.20086",
)

SPECS = {spec.name: spec for spec in (CALTECH101, CALTECH256)}


def read_marker(folder: str | Path) -> dict | None:
    """The completion marker of an extracted dataset, or None."""
    with contextlib.suppress(OSError, ValueError):
        return json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    return None


def write_marker(folder: str | Path, info: dict) -> Path:
    """Write the completion marker atomically (call only after verified extraction).

    It carries the ownership fields of :func:`colorization.data.paths.mark_folder` too.
    """
    info = {"format": OWNER_FORMAT, "kind": DATASET_KIND, **info}
    return write_text_atomic(Path(folder) / MARKER_NAME, json.dumps(info, indent=2, sort_keys=True) + "\n")


def _find_folder(root: Path, name: str) -> Path | None:
    for candidate in (root / name, *sorted(root.glob(f"*/{name}")), *sorted(root.glob(f"*/*/{name}"))):
        if candidate.is_dir():
            return candidate
    return None


def installed_folder(spec: CaltechSpec, data_dir: Path, checksum: str | None = None) -> Path | None:
    """The extracted image folder if a completed extraction of ``checksum`` is there."""
    target = Path(data_dir) / spec.name
    marker = read_marker(target)
    if not isinstance(marker, dict) or str(marker.get("checksum", "")).lower() != (checksum or spec.checksum).lower():
        return None
    folder = target / str(marker.get("folder", spec.folder))
    return folder if folder.is_dir() else None


def _claim_target(target: Path, *, check_only: bool = False) -> None:
    """Refuse (one line) a non-empty ``target`` the package did not make; else create and mark it."""
    options = {"marker": MARKER_NAME, "adopt": lambda folder: read_marker(folder) is not None, "hint": MOVE_HINT}
    (check_folder if check_only else claim_folder)(target, DATASET_KIND, **options)


def fetch(
    spec: CaltechSpec,
    data_dir: str | Path,
    *,
    url: str | None = None,
    checksum: str | None = None,
    progress: bool = True,
    retries: int = 0,
    keep_archive: bool = False,
    max_expansion: float = DEFAULT_MAX_EXPANSION,
) -> Path:
    """Download, verify and extract a Caltech archive; return its image folder.

    A second call finds the completion marker and returns without the network.
    Layout: ``<data_dir>/downloads/<fname>`` (deleted after extraction unless
    ``keep_archive``), ``<data_dir>/<name>/<folder>/`` and ``<data_dir>/<name>/.complete.json``.

    Raises
    ------
    DownloadError, UnsafeArchiveError, FolderError
        One line, with nothing new left behind: no marker, no partial archive, no partial folder.
    """
    data_dir = Path(data_dir)
    checksum = checksum or spec.checksum
    done = installed_folder(spec, data_dir, checksum)
    if done is not None:
        return done
    url = dl.check_url(url or spec.url)
    target = data_dir / spec.name
    _claim_target(target, check_only=True)  # refuse before the download, not after
    archive = dl.fetch_file(url, checksum, data_dir / "downloads", spec.fname, progress=progress, retries=retries)
    created = not target.exists()
    _claim_target(target)
    with folder_lock(target, stale=(f"{dl.TEMP_PREFIX}*",)):
        folder = installed_folder(spec, data_dir, checksum)  # another process may have finished meanwhile
        if folder is None:
            folder = _extract(spec, archive, target, checksum, max_expansion, created)
            write_marker(target, _marker_info(spec, url, checksum, target, folder))
    if not keep_archive:
        archive.unlink(missing_ok=True)
    return folder


def _marker_info(spec: CaltechSpec, url: str, checksum: str, target: Path, folder: Path) -> dict:
    return {
        "source": spec.name,
        "url": url,
        "checksum": checksum,
        "archive": spec.fname,
        "folder": folder.relative_to(target).as_posix(),
        "files": sum(1 for p in folder.rglob("*") if p.is_file()),
        "doi": spec.doi,
        "extracted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _extract(spec: CaltechSpec, archive: Path, target: Path, checksum: str, max_expansion: float, created: bool):
    """Extract the image folder into ``target`` (locked); on failure undo, and delete a refused archive."""
    mark_folder(target, DATASET_KIND, MARKER_NAME)  # not complete any more, still the package's
    try:
        with _image_archive(spec, archive, target, checksum, max_expansion) as images_archive:
            dl.safe_extract(images_archive, target, max_bytes=_extract_limit(spec, images_archive, max_expansion))
        folder = _find_folder(target, spec.folder)
        if folder is None:
            raise dl.UnsafeArchiveError(f"{archive}: no folder named {spec.folder!r} inside")
        return folder
    except BaseException as error:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        if isinstance(error, (dl.UnsafeArchiveError, dl.DownloadError)):
            archive.unlink(missing_ok=True)
            raise type(error)(f"{error}; the downloaded archive was deleted") from None
        if isinstance(error, OSError):
            raise dl.DownloadError(
                f"{target}: cannot extract ({error.strerror or error}); the verified archive is kept in "
                f"{archive} for the next run"
            ) from None
        raise


def _extract_limit(spec: CaltechSpec, archive: Path, max_expansion: float) -> int:
    """Bytes an extraction of ``archive`` may write: ``max_expansion`` x min(data set size, archive size)."""
    return int(max_expansion * min(spec.size, archive.stat().st_size))


@contextlib.contextmanager
def _image_archive(spec: CaltechSpec, archive: Path, target: Path, checksum: str, max_expansion: float):
    """Yield the archive that holds the image folder (unzipping Caltech-101's wrapper into ``target``)."""
    if spec.inner is None or not zipfile.is_zipfile(archive):
        yield archive
        return
    scratch = Path(tempfile.mkdtemp(prefix=f"{dl.TEMP_PREFIX}inner-", dir=target))
    try:
        dl.safe_extract(archive, scratch, only=spec.inner, max_bytes=_extract_limit(spec, archive, max_expansion))
        found = sorted(scratch.rglob(spec.inner))
        if not found:
            raise dl.UnsafeArchiveError(f"{archive}: no {spec.inner} inside")
        if spec.inner_checksum and checksum.lower() == spec.checksum.lower():
            actual = dl.file_checksum(found[0], spec.inner_checksum.split(":")[0])
            if actual != spec.inner_checksum:
                raise dl.DownloadError(
                    f"{archive}: {spec.inner} inside has {actual}, expected the published {spec.inner_checksum}"
                )
        yield found[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
