"""The manifest: one row per file of a source, saying exactly which images are used where.

Columns (:data:`MANIFEST_COLUMNS`): ``relpath, category, split, width, height, mode,
is_gray, excluded, note``. ``split`` is ``train``/``val``/``test`` for usable images and
empty for excluded ones; ``excluded`` gives the reason (empty if usable); ``mode`` is
Pillow's mode as stored; ``note`` lists conversions (CMYK to RGB ...). Rows are sorted
by relpath. In memory the table also carries ``path`` (absolute), which is not written.

:func:`manifest_hash` fingerprints the written columns; the image cache is keyed by it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.data import splits
from colorization.data.inspection import inspect_paths
from colorization.data.sources import Source
from colorization.io.files import atomic_path

MANIFEST_COLUMNS = ("relpath", "category", "split", "width", "height", "mode", "is_gray", "excluded", "note")


def build_manifest(
    source: Source,
    *,
    seed: int = splits.DEFAULT_SEED,
    fractions: Sequence[float] = splits.DEFAULT_FRACTIONS,
    max_per_category: int | None = None,
    limit: int | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Inspect every file of ``source`` and assign splits.

    Parameters
    ----------
    max_per_category : int, optional
        Keep at most this many usable images per category (seeded choice); the others
        are marked ``excluded = "not selected (max N per category)"``.
    limit : int, optional
        Look at only this many files, evenly spaced over the sorted list (for quick
        benchmarks; the manifest then lists only those files).
    """
    records = sorted(source.records(), key=lambda r: r.relpath)
    if limit is not None and limit < len(records):
        picks = np.linspace(0, len(records) - 1, int(limit)).round().astype(int)
        records = [records[i] for i in sorted(set(picks.tolist()))]
    info = inspect_paths([r.path for r in records], workers=workers, progress=progress)
    table = pd.DataFrame(
        {
            "relpath": [r.relpath for r in records],
            "category": [r.category for r in records],
            "path": [str(r.path) for r in records],
        }
    )
    table = pd.concat([table, info], axis=1)
    usable = (table["excluded"] == "").to_numpy()
    if max_per_category is not None:
        keep = splits.cap_per_category(
            table["category"].tolist(), table["relpath"].tolist(), max_per_category, seed=seed, usable=usable
        )
        dropped = usable & ~keep
        table.loc[dropped, "excluded"] = f"not selected (max {int(max_per_category)} per category)"
        usable = keep
    if source.fixed_splits is not None:
        split = [
            source.fixed_splits.get(r, "train") if ok else "" for r, ok in zip(table["relpath"], usable, strict=True)
        ]
    else:
        together = source.split_together or {}
        categories = [together.get(c, c) for c in table["category"]]
        groups = [
            f"{together[c]}/{r.rsplit('/', 1)[-1]}" if c in together else r
            for c, r in zip(table["category"], table["relpath"], strict=True)
        ]
        split = splits.assign_splits(
            categories, table["relpath"].tolist(), seed=seed, fractions=fractions, usable=usable, groups=groups
        )
    table.insert(2, "split", list(split))
    return table[[*MANIFEST_COLUMNS, "path"]].reset_index(drop=True)


def _written(manifest: pd.DataFrame) -> pd.DataFrame:
    return manifest[list(MANIFEST_COLUMNS)]


def manifest_csv(manifest: pd.DataFrame) -> str:
    return _written(manifest).to_csv(index=False, lineterminator="\n")


def manifest_hash(manifest: pd.DataFrame) -> str:
    """sha256 of the manifest as written (hex)."""
    return hashlib.sha256(manifest_csv(manifest).encode("utf-8")).hexdigest()


def write_manifest(manifest: pd.DataFrame, path: str | Path) -> Path:
    """Write the manifest CSV atomically (without the ``path`` column)."""
    with atomic_path(path) as tmp:
        tmp.write_text(manifest_csv(manifest), encoding="utf-8")
    return Path(path)


def read_manifest(path: str | Path, root: str | Path | Source | None = None) -> pd.DataFrame:
    """Read a manifest CSV; with ``root`` (a folder or a source), add absolute paths."""
    table = pd.read_csv(
        path,
        dtype={"relpath": str, "category": str, "split": str, "mode": str, "excluded": str, "note": str},
        keep_default_na=False,
    )
    table["is_gray"] = table["is_gray"].astype(str).str.lower().isin(("true", "1"))
    if root is not None:
        table = attach_paths(table, root)
    return table


def attach_paths(manifest: pd.DataFrame, root: str | Path | Source) -> pd.DataFrame:
    """Add the ``path`` column from a source (its records) or a root folder."""
    table = manifest.copy()
    if isinstance(root, Source):
        known = {r.relpath: str(r.path) for r in root.records()}
        table["path"] = [known.get(r, "") for r in table["relpath"]]
    else:
        table["path"] = [str(Path(root, r)) for r in table["relpath"]]
    return table


def usable(manifest: pd.DataFrame, split: str | None = None) -> pd.DataFrame:
    """Rows that are training/evaluation images (optionally of one split)."""
    rows = manifest[manifest["excluded"] == ""]
    return rows if split is None else rows[rows["split"] == split]
