"""A compact, self-contained training set to carry to a GPU machine.

The working tree that travels to the accelerator is limited to 64 MiB, far less than
a decoded cache (192 KiB per 256x256 image). A pack stores each usable image of a
manifest already paper-cropped to 256x256, as JPEG bytes, in one uncompressed
``pack.npz``:

* ``jpeg`` - all JPEG files concatenated (uint8), ``offsets`` - (N + 1,) int64;
* ``manifest`` - the manifest CSV (UTF-8 bytes), the packed images being its usable
  rows in order;

plus ``manifest.csv`` and ``pack.json`` (quality, chroma subsampling, sizes) beside it
for people. :func:`cache_from_pack` decodes a pack in parallel into the ordinary
image cache, so training reads it exactly like a cache built from files.

The folder is a *prepared* folder (``colorization prepare --out``): it must be new,
empty or one the package prepared (:func:`prepared_folder`, the ownership marker of
:func:`colorization.data.paths.claim_folder`); any other non-empty folder is refused
unless ``overwrite``. Writers hold the folder's lock, which removes the temporaries a
killed run left.

Chroma subsampling defaults to 4:2:0 (Pillow's default): the network predicts ab at
128x128 and upsamples it (docs/paper.md, "Network (exact)", layer 15), so chroma at half resolution loses
little of what it can learn, and the files are about a third smaller than 4:4:4.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.data.cache import ImageCache, cache_key, decode_file, fill_cache, open_cache
from colorization.data.manifest import manifest_csv, manifest_hash, usable, write_manifest
from colorization.data.parallel import chunked, parallel_map
from colorization.data.paths import atomic_temporaries, check_folder, claim_folder, folder_lock
from colorization.io.files import atomic_path, write_text_atomic
from colorization.io.preprocess import PAPER_SIZE

PACK_NAME, PACK_META, MANIFEST_NAME = "pack.npz", "pack.json", "manifest.csv"
PREPARED_KIND = "prepared"
#: the temporaries a killed writer of a prepared folder may leave (removed under its lock)
PREPARED_TEMPORARIES = atomic_temporaries((PACK_NAME, PACK_META, MANIFEST_NAME))
DEFAULT_QUALITY = 85


@dataclass
class Pack:
    manifest: pd.DataFrame
    jpeg: np.ndarray
    offsets: np.ndarray
    meta: dict
    path: Path

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def entry(self, i: int) -> bytes:
        return self.jpeg[self.offsets[i] : self.offsets[i + 1]].tobytes()

    def digest(self) -> str:
        return hashlib.sha256(self.jpeg.tobytes()).hexdigest()


def prepared_folder(folder: str | Path, *, overwrite: bool = False, check_only: bool = False) -> Path:
    """``folder`` for a prepared data set: new, empty or prepared before (else a one-line FolderError).

    Created and marked unless ``check_only``; ``overwrite`` writes into any folder.
    """
    if check_only:
        check_folder(folder, PREPARED_KIND, overwrite=overwrite)
        return Path(folder)
    return claim_folder(folder, PREPARED_KIND, overwrite=overwrite)


def encode_jpeg(rgb: np.ndarray, quality: int = DEFAULT_QUALITY, subsampling: str = "4:2:0") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=int(quality), subsampling=subsampling, optimize=True)
    return buffer.getvalue()


def _encode_chunk(task) -> list[bytes]:
    paths, size, quality, subsampling = task
    return [encode_jpeg(decode_file(p, size), quality, subsampling) for p in paths]


def write_pack(
    manifest: pd.DataFrame,
    folder: str | Path,
    *,
    quality: int = DEFAULT_QUALITY,
    subsampling: str = "4:2:0",
    size: int = PAPER_SIZE,
    workers: int | None = None,
    kind: str = "process",
    progress: bool = True,
    extra_meta: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Encode the manifest's usable images into ``folder/pack.npz`` (needs ``path``).

    ``folder``: see :func:`prepared_folder`.
    """
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    folder = prepared_folder(folder, overwrite=overwrite)
    with folder_lock(folder, stale=PREPARED_TEMPORARIES):
        return _write_pack(manifest, folder, quality, subsampling, size, workers, kind, progress, extra_meta)


def _write_pack(manifest, folder: Path, quality, subsampling, size, workers, kind, progress, extra_meta) -> Path:
    started = time.perf_counter()
    rows = usable(manifest)
    chunks = chunked(rows["path"].tolist(), 16)
    results = parallel_map(
        _encode_chunk,
        [(c, size, quality, subsampling) for c in chunks],
        workers=workers,
        kind=kind,
        progress=progress,
        desc="packing",
        unit="img",
        weights=[len(c) for c in chunks],
    )
    blobs = [blob for part in results for blob in part]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    jpeg = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    text = manifest_csv(manifest).encode("utf-8")
    with atomic_path(folder / PACK_NAME) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, jpeg=jpeg, offsets=offsets, manifest=np.frombuffer(text, dtype=np.uint8))
    write_manifest(manifest, folder / MANIFEST_NAME)
    total = (folder / PACK_NAME).stat().st_size
    meta = {
        "count": len(blobs),
        "quality": int(quality),
        "subsampling": subsampling,
        "size": int(size),
        "pack_bytes": total,
        "jpeg_bytes": int(offsets[-1]),
        "mean_jpeg_bytes": round(float(offsets[-1]) / max(1, len(blobs)), 1),
        "manifest_hash": manifest_hash(manifest),
        "encode_seconds": round(time.perf_counter() - started, 2),
        **(extra_meta or {}),
    }
    write_text_atomic(folder / PACK_META, json.dumps(meta, indent=2) + "\n")
    return folder / PACK_NAME


def load_pack(path: str | Path) -> Pack:
    """Read a pack (``pack.npz`` or the folder holding it)."""
    from colorization.data.manifest import read_manifest

    path = Path(path)
    if path.is_dir():
        path = path / PACK_NAME
    with np.load(path, allow_pickle=False) as data:
        jpeg, offsets = data["jpeg"], data["offsets"]
        try:
            manifest = read_manifest(io.StringIO(data["manifest"].tobytes().decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: the manifest inside is not usable ({error})") from None
    meta_path = path.with_name(PACK_META)
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    if len(offsets) - 1 != len(usable(manifest)):
        raise ValueError(f"{path}: {len(offsets) - 1} images but {len(usable(manifest))} usable manifest rows")
    return Pack(manifest, jpeg, offsets, meta, path)


def cache_from_pack(
    pack: Pack | str | Path,
    folder: str | Path | None = None,
    *,
    workers: int | None = None,
    kind: str = "process",
    progress: bool = True,
    rebuild: bool = False,
    overwrite: bool = False,
) -> ImageCache:
    """Decode a pack into the uint8 image cache (default ``<pack folder>/cache``); reuse it if built.

    ``overwrite``: build into a folder that is not a cache (see :mod:`colorization.data.cache`).
    """
    pack = pack if isinstance(pack, Pack) else load_pack(pack)
    folder = Path(folder) if folder is not None else pack.path.parent / "cache"
    size = int(pack.meta.get("size", PAPER_SIZE))
    key = cache_key(pack.manifest, size, origin=f"pack:{pack.digest()}")
    if not rebuild:
        existing = open_cache(folder, key)
        if existing is not None:
            return existing
    items = [pack.entry(i) for i in range(len(pack))]
    return fill_cache(
        folder,
        key,
        usable(pack.manifest),
        items,
        decoder="jpeg",
        size=size,
        workers=workers,
        kind=kind,
        progress=progress,
        extra_meta={"origin": f"pack {pack.path}", "manifest_hash": manifest_hash(pack.manifest)},
        overwrite=overwrite,
    )


def pack_cache_folder(pack: Pack, cache_dir: str | Path | None = None) -> Path:
    """Where training and evaluation decode ``pack``: ``cache_dir``, or by default
    ``<data dir>/cache/pack-<the pack's folder name>`` (the pack's own folder may be read-only)."""
    from colorization.data.paths import data_dir

    return Path(cache_dir) if cache_dir else data_dir() / "cache" / f"pack-{pack.path.parent.name}"
