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
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from colorization.data import download as dl


@dataclass(frozen=True)
class CaltechSpec:
    name: str
    url: str
    fname: str
    checksum: str
    folder: str  # the image folder inside the archive
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
    doi="10.22002/D1.20087",
)

CALTECH101 = CaltechSpec(
    name="caltech101",
    # the CaltechDATA record's file URL (record mzrjq-6wc02)
    url="https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip",
    fname="caltech-101.zip",
    checksum="md5:3138e1922a9193bfa496528edbbc45d0",
    folder="101_ObjectCategories",
    inner="101_ObjectCategories.tar.gz",
    inner_checksum="md5:b224c7392d521a49829488ab0f1120d9",
    doi="10.22002/D1.20086",
)

SPECS = {spec.name: spec for spec in (CALTECH101, CALTECH256)}


def _find_folder(root: Path, name: str) -> Path | None:
    for candidate in (root / name, *sorted(root.glob(f"*/{name}")), *sorted(root.glob(f"*/*/{name}"))):
        if candidate.is_dir():
            return candidate
    return None


def installed_folder(spec: CaltechSpec, data_dir: Path, checksum: str | None = None) -> Path | None:
    """The extracted image folder if a completed extraction of ``checksum`` is there."""
    target = Path(data_dir) / spec.name
    marker = dl.read_marker(target)
    if not marker or marker.get("checksum", "").lower() != (checksum or spec.checksum).lower():
        return None
    folder = target / marker.get("folder", spec.folder)
    return folder if folder.is_dir() else None


def fetch(
    spec: CaltechSpec,
    data_dir: str | Path,
    *,
    url: str | None = None,
    checksum: str | None = None,
    progress: bool = True,
    retries: int = 0,
    keep_archive: bool = False,
) -> Path:
    """Download, verify and extract a Caltech archive; return its image folder.

    A second call finds the completion marker and returns without the network.
    Layout: ``<data_dir>/downloads/<fname>`` (deleted after extraction unless
    ``keep_archive``), ``<data_dir>/<name>/<folder>/`` and ``<data_dir>/<name>/.complete.json``.

    Raises
    ------
    DownloadError, UnsafeArchiveError
        With nothing new left behind: no marker, no partial archive, no partial folder.
    """
    data_dir = Path(data_dir)
    checksum = checksum or spec.checksum
    done = installed_folder(spec, data_dir, checksum)
    if done is not None:
        return done
    url = url or spec.url
    downloads = data_dir / "downloads"
    archive = dl.fetch_file(url, checksum, downloads, spec.fname, progress=progress, retries=retries)
    target = data_dir / spec.name
    created = not target.exists()
    dl.remove_marker(target)
    try:
        with _image_archive(spec, archive, checksum) as images_archive:
            dl.safe_extract(images_archive, target)
        folder = _find_folder(target, spec.folder)
        if folder is None:
            raise dl.UnsafeArchiveError(f"{archive}: no folder named {spec.folder!r} inside")
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    dl.write_marker(
        target,
        {
            "source": spec.name,
            "url": url,
            "checksum": checksum,
            "archive": spec.fname,
            "folder": folder.relative_to(target).as_posix(),
            "files": count,
            "doi": spec.doi,
            "extracted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    if not keep_archive:
        archive.unlink(missing_ok=True)
    return folder


@contextlib.contextmanager
def _image_archive(spec: CaltechSpec, archive: Path, checksum: str):
    """Yield the archive that holds the image folder (unzipping Caltech-101's wrapper)."""
    import zipfile

    if spec.inner is None or not zipfile.is_zipfile(archive):
        yield archive
        return
    scratch = Path(tempfile.mkdtemp(prefix=".inner-", dir=archive.parent))
    try:
        dl.safe_extract(archive, scratch, only=spec.inner)
        found = sorted(scratch.rglob(spec.inner))
        if not found:
            raise dl.UnsafeArchiveError(f"{archive}: no {spec.inner} inside")
        if spec.inner_checksum and checksum.lower() == spec.checksum.lower():
            algorithm = spec.inner_checksum.split(":")[0]
            actual = dl.file_checksum(found[0], algorithm)
            if actual != spec.inner_checksum:
                raise dl.DownloadError(
                    f"{archive}: {spec.inner} inside has {actual}, expected the published {spec.inner_checksum}"
                )
        yield found[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
