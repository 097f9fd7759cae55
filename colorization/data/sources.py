"""Image sources behind one interface: each lists image records.

An :class:`ImageRecord` is ``(relpath, category, path)``: the path relative to the
source's root (what manifests show), the category, and the absolute path.

Sources (:func:`get_source`):

``sample``
    The colour photographs that ship inside installed packages (scikit-image's data
    folder and matplotlib's sample data), resolved as files inside the packages:
    no network ever (the ``skimage.data`` fetchers are never called). Nine images;
    the tiny data set CI trains and evaluates on, with a fixed split
    (:data:`SAMPLE_SPLITS`).
``folder``
    Any directory tree of images; an image's folder (relative to the root) is its
    category, files directly in the root take the root's name.
``caltech101`` / ``caltech256``
    The official CaltechDATA archives (:mod:`colorization.data.caltech`). Caltech-101
    is read from the offline copy beside the checkout when there is one and no
    ``--url`` asks for a download; both read their image folder with the same
    :func:`scan_folder` as the ``folder`` source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from colorization.data import caltech, paths

SOURCE_NAMES = ("sample", "caltech101", "caltech256")


@dataclass(frozen=True)
class ImageRecord:
    relpath: str  # POSIX path relative to the source root
    category: str
    path: Path  # absolute


def scan_folder(root: str | Path) -> list[ImageRecord]:
    """Every regular file under ``root`` (sorted; folder symlinks not followed).

    Nothing is filtered by extension here: Caltech-101's ``BACKGROUND_Google/tmp`` is
    a JPEG without one. The inspection step opens each file and decides. A folder that
    cannot be listed raises its ``OSError`` (``<folder>: Permission denied``) rather than
    silently leaving its images out.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    records = []
    for folder, subfolders, files in os.walk(root, onerror=_unlistable):
        subfolders.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if not path.is_file():
                continue
            relpath = path.relative_to(root).as_posix()
            parent = Path(relpath).parent.as_posix()
            records.append(ImageRecord(relpath, root.name if parent == "." else parent, path))
    return records


def _unlistable(error: OSError) -> None:
    raise error


class Source:
    """Where images come from. Subclasses set ``name`` and implement :meth:`records`."""

    name = "source"
    #: relpath -> split for sources with a fixed assignment (else None: seeded split)
    fixed_splits: dict[str, str] | None = None
    #: category -> category it is split together with, file by file (near-duplicates)
    split_together: dict[str, str] | None = None
    #: human-readable provenance (filled by :meth:`records`)
    origin = ""

    def records(self) -> list[ImageRecord]:
        raise NotImplementedError


class FolderSource(Source):
    """A directory tree of images."""

    def __init__(self, root: str | Path, name: str | None = None):
        self.root = Path(root).expanduser().resolve()
        self.name = name or "folder"
        self.origin = str(self.root)

    def records(self) -> list[ImageRecord]:
        return scan_folder(self.root)


# (package, file inside its data folder, category). Chosen by looking at every image
# shipped: colour photographs only. Left out: motorcycle_right (the other half of a
# stereo pair), color.png (a synthetic colour wheel), horse/logo (graphics),
# brick/grass/gravel/camera (grayscale), Minduka_Present_Blue_Pack (rendered clip art).
SAMPLE_IMAGES = (
    ("skimage", "astronaut.png", "portrait"),
    ("matplotlib", "grace_hopper.jpg", "portrait"),
    ("skimage", "chelsea.png", "animal"),
    ("skimage", "coffee.png", "food"),
    ("skimage", "rocket.jpg", "scene"),
    ("skimage", "motorcycle_left.png", "vehicle"),
    ("skimage", "hubble_deep_field.jpg", "astronomy"),
    ("skimage", "retina.jpg", "medical"),
    ("skimage", "ihc.png", "microscopy"),
)
# Fixed split for the 9 sample images (a seeded 80/10/10 split means nothing at one
# image per category). It exists so CI can train and evaluate end to end, not to
# measure generalisation: the two portraits are split so that the test image has a
# related training image; chelsea is the validation image.
SAMPLE_SPLITS = {
    "matplotlib/grace_hopper.jpg": "test",
    "skimage/chelsea.png": "val",
}


def _package_data_dir(package: str) -> Path:
    if package == "skimage":
        import skimage

        return Path(skimage.__file__).parent / "data"
    if package == "matplotlib":
        import matplotlib

        return Path(matplotlib.get_data_path()) / "sample_data"
    raise ValueError(f"unknown package {package!r}")


class SampleSource(Source):
    """The colour photographs shipped inside scikit-image and matplotlib."""

    name = "sample"

    def __init__(self):
        self.fixed_splits = {
            f"{package}/{fname}": SAMPLE_SPLITS.get(f"{package}/{fname}", "train")
            for package, fname, _ in SAMPLE_IMAGES
        }
        self.origin = "files inside the installed scikit-image and matplotlib packages"

    def records(self) -> list[ImageRecord]:
        records = []
        for package, fname, category in SAMPLE_IMAGES:
            path = _package_data_dir(package) / fname
            if path.is_file():  # a trimmed install may lack one; the report then shows fewer
                records.append(ImageRecord(f"{package}/{fname}", category, path))
        return records


def sample_path(name: str) -> Path:
    """Path of one built-in sample photograph by file name (e.g. ``"coffee.png"``)."""
    for record in SampleSource().records():
        if Path(record.relpath).name == name:
            return Path(record.path)
    known = ", ".join(fname for _, fname, _ in SAMPLE_IMAGES)
    raise FileNotFoundError(f"{name}: no such sample photograph (known: {known})")


class CaltechSource(Source):
    """Caltech-101 or Caltech-256: downloaded, verified and extracted on first use."""

    def __init__(
        self,
        name: str,
        data_dir: str | Path | None = None,
        *,
        url: str | None = None,
        checksum: str | None = None,
        progress: bool = True,
        retries: int = 2,
        offline_ok: bool = True,
    ):
        self.spec = caltech.SPECS[name]
        self.name = name
        self.data_dir = paths.data_dir(data_dir)
        self.url, self.checksum = url, checksum
        self.progress, self.retries = progress, retries
        self.offline_ok = offline_ok
        self.root: Path | None = None
        if name == "caltech101":
            # Faces_easy/image_N is Faces/image_N, cropped closer: split each pair together.
            self.split_together = {"Faces_easy": "Faces"}

    def fetch(self) -> Path:
        """The image folder: an extracted download, the offline copy, or a new download."""
        if self.root is not None:
            return self.root
        done = caltech.installed_folder(self.spec, self.data_dir, self.checksum)
        if done is not None:
            self.root, self.origin = done, f"extracted CaltechDATA archive in {done.parent}"
            return done
        offline = paths.offline_caltech101_dir() if self.name == "caltech101" else None
        if offline is not None and self.offline_ok and self.url is None:
            self.root, self.origin = offline, f"offline copy at {offline}"
            return offline
        self.root = caltech.fetch(
            self.spec, self.data_dir, url=self.url, checksum=self.checksum, progress=self.progress, retries=self.retries
        )
        self.origin = f"downloaded from {self.url or self.spec.url}, verified and extracted"
        return self.root

    def records(self) -> list[ImageRecord]:
        return scan_folder(self.fetch())


def get_source(name: str, data_dir: str | Path | None = None, **options) -> Source:
    """A source by name (``sample``, ``caltech101``, ``caltech256``) or a folder path.

    ``options`` go to :class:`CaltechSource` (``url``, ``checksum``, ``progress``,
    ``retries``, ``offline_ok``).
    """
    if name == "sample":
        return SampleSource()
    if name in caltech.SPECS:
        return CaltechSource(name, data_dir, **options)
    path = Path(name).expanduser()
    if path.is_dir():
        return FolderSource(name)
    if path.exists():
        raise ValueError(f"{path}: is a file, not a folder of images (or use one of {', '.join(SOURCE_NAMES)})")
    raise ValueError(f"unknown source {name!r}: use one of {', '.join(SOURCE_NAMES)} or an existing folder")
