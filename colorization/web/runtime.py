"""ONNX Runtime Web, the page's runtime: one pinned npm release, hash-checked and cached, and the files the page loads.

The release is pinned by version, by npm's own ``dist.integrity`` (sha512, as ``npm view onnxruntime-web@VERSION
dist.integrity`` prints it) and by the same tarball's sha256 (what :func:`colorization.data.download.fetch_file`
checks while it downloads: nothing that fails it is kept). The tarball is cached in
``<data dir>/downloads/`` (:func:`colorization.data.paths.data_dir`), beside the data sets, so a second build,
or one without a network, uses it without asking the registry.

Of the package's 150 MB the page loads two files, measured by recording a page load's requests in Chromium:
``ort.wasm.bundle.min.mjs`` (the WebAssembly backend alone, with its Emscripten loader inside) and
``ort-wasm-simd-threaded.wasm`` (ONNX Runtime's CPU kernels: the one build, SIMD, which also runs on one thread).
The package's MIT licence notice is at the top of the ``.mjs`` file.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

MAX_MEMBER_BYTES = 64 << 20  # the largest file taken from the tarball (the .wasm is 14 MB)
CHUNK_BYTES = 1 << 20


class PackageError(ValueError):
    """The npm package is not the pinned one, or lacks a file the page needs; ``str(error)`` is one line."""


@dataclass(frozen=True)
class NpmPackage:
    """One release of an npm package, pinned, and the files of it that the page needs."""

    name: str
    version: str
    tarball: str  # npm's dist.tarball: the registry's address of the release
    integrity: str  # npm's dist.integrity: "sha512-<base64 digest>"
    sha256: str  # the same tarball's sha256 (hex)
    license: str
    entry: str  # the script the page imports, inside the tarball's package/ folder
    files: tuple[str, ...]  # everything the page loads from it (entry included)

    @property
    def filename(self) -> str:
        """The tarball's name in the cache."""
        return f"{self.name}-{self.version}.tgz"


ORT_WEB = NpmPackage(
    name="onnxruntime-web",
    version="1.30.0",
    tarball="https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-1.30.0.tgz",
    integrity="sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ==",
    sha256="d2228df7e4616bc3348bf504ee888f3bec43789a273f0a63f3e68d203ce3bf71",
    license="MIT",
    entry="dist/ort.wasm.bundle.min.mjs",
    files=("dist/ort.wasm.bundle.min.mjs", "dist/ort-wasm-simd-threaded.wasm"),
)


def cache_folder() -> Path:
    """Where downloaded packages are kept: ``<data dir>/downloads/``, as the data sets' archives."""
    from colorization.data.paths import data_dir

    return data_dir() / "downloads"


def cached_package(package: NpmPackage, cache: Path | None = None) -> Path | None:
    """The cached tarball of ``package`` if it is there and matches its sha256 (no network), else None."""
    from colorization.io.files import sha256_file

    path = (cache or cache_folder()) / package.filename
    return path if path.is_file() and sha256_file(path) == package.sha256 else None


def fetch_package(package: NpmPackage, cache: Path | None = None, progress: bool = True) -> Path:
    """The package's tarball: from the cache, or downloaded from the registry, both hash-checked.

    Raises
    ------
    colorization.data.download.DownloadError
        The registry cannot be reached, or the download does not match the pinned sha256 (nothing is kept).
    PackageError
        The tarball matches the pinned sha256 but not npm's integrity (the pins disagree; the file is removed).
    """
    from colorization.data.download import DownloadError, fetch_file

    folder = cache or cache_folder()
    try:
        path = fetch_file(package.tarball, f"sha256:{package.sha256}", folder, package.filename, progress=progress)
    except DownloadError as error:
        where = folder / package.filename
        raise DownloadError(f"{error} (the build needs the registry once, then uses {where})") from None
    check_integrity(path, package)
    return path


def check_integrity(path: Path, package: NpmPackage) -> None:
    """Raise :class:`PackageError` (and remove ``path``) unless ``path`` has npm's ``dist.integrity``."""
    algorithm, _, expected = package.integrity.partition("-")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    actual = base64.b64encode(digest.digest()).decode("ascii")
    if actual != expected:
        path.unlink(missing_ok=True)
        raise PackageError(
            f"{path}: not npm's {package.name} {package.version} (integrity {algorithm}-{actual}, "
            f"pinned {package.integrity}); the file was removed"
        )


def copy_files(tarball: Path, package: NpmPackage, folder: Path) -> list[Path]:
    """Copy the files the page needs out of ``tarball`` into ``folder`` (flat; nothing else is extracted).

    Each must be a regular file of at most :data:`MAX_MEMBER_BYTES`; anything else is a :class:`PackageError`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    with tarfile.open(tarball, "r:gz") as archive:
        for name in package.files:
            try:
                member = archive.getmember(f"package/{name}")
            except KeyError:
                raise PackageError(f"{tarball}: no package/{name} in it; the page needs that file") from None
            if not member.isfile() or member.size > MAX_MEMBER_BYTES:
                raise PackageError(f"{tarball}: package/{name} is not a regular file of at most 64 MiB")
            target = folder / Path(name).name
            with archive.extractfile(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_BYTES)
            copied.append(target)
    return copied
