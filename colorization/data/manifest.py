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
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.data import splits
from colorization.data.download import member_problem
from colorization.data.inspection import inspect_paths
from colorization.data.sources import Source
from colorization.io.files import atomic_path

MANIFEST_COLUMNS = ("relpath", "category", "split", "width", "height", "mode", "is_gray", "excluded", "note")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


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
        groups = near_duplicate_groups(table, together)
        split = splits.assign_splits(
            categories, table["relpath"].tolist(), seed=seed, fractions=fractions, usable=usable, groups=groups
        )
    table.insert(2, "split", list(split))
    return table[[*MANIFEST_COLUMNS, "path"]].reset_index(drop=True)


def near_duplicate_groups(manifest: pd.DataFrame, split_together: dict[str, str] | None) -> list[str]:
    """Each row's group: rows of one group are near-duplicates that one split must hold together
    (``Source.split_together``: e.g. Caltech-101's ``Faces_easy/x.jpg`` and ``Faces/x.jpg``)."""
    together = split_together or {}
    return [
        f"{together[c]}/{r.rsplit('/', 1)[-1]}" if c in together else r
        for c, r in zip(manifest["category"], manifest["relpath"], strict=True)
    ]


def unselected_to_train(manifest: pd.DataFrame, split_together: dict[str, str] | None = None) -> pd.DataFrame:
    """The manifest with the images a per-category cap left out (``max_per_category``) added to the
    train split; the val and test splits are unchanged, so a model trained on the wider set is
    scored on the same held-out images. An unselected image whose near-duplicate is held out
    (:func:`near_duplicate_groups`) stays out."""
    table = manifest.copy()
    groups = pd.Series(near_duplicate_groups(table, split_together), index=table.index)
    twin = groups.isin(groups[table["split"].isin(["val", "test"])])
    unselected = table["excluded"].str.startswith("not selected (max ")
    table.loc[unselected & ~twin, ["split", "excluded"]] = ["train", ""]
    table.loc[unselected & twin, "excluded"] = "not selected (a near-duplicate is held out)"
    return table


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


class ManifestError(ValueError):
    """A manifest that cannot be used; ``str(error)`` is one line naming the file and the problem."""


def read_manifest(path, root: str | Path | Source | None = None) -> pd.DataFrame:
    """Read and check a manifest CSV (a path or a text buffer); with ``root``, add absolute paths.

    Returns the :data:`MANIFEST_COLUMNS` (other columns are dropped), ``width`` and
    ``height`` as integers and ``is_gray`` as booleans.

    Raises
    ------
    ManifestError
        One line naming the file: missing, a folder, not UTF-8, empty or not CSV, columns
        missing, a value of the wrong kind (with its line), a relpath that is unsafe
        (absolute, ``..``) or listed twice, or (with a source as ``root``) usable rows
        that are not files of that source.
    """
    label = "<manifest>" if hasattr(path, "read") else str(path)
    table = _checked(_parsed(path, label), label)
    return attach_paths(table, root, label=label) if root is not None else table


def _parsed(path, label: str) -> pd.DataFrame:
    """The CSV as text columns, with a one-line error when it is no CSV at all."""
    if not hasattr(path, "read"):
        if Path(path).is_dir():
            raise ManifestError(f"{label}: is a folder, not a manifest CSV")
        if not Path(path).is_file():
            raise ManifestError(f"{label}: no such file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise ManifestError(f"{label}: not UTF-8 text, so not a manifest CSV") from None
    except pd.errors.EmptyDataError:
        raise ManifestError(f"{label}: empty file, not a manifest (no header {','.join(MANIFEST_COLUMNS)})") from None
    except pd.errors.ParserError as error:
        raise ManifestError(f"{label}: not a valid CSV ({' '.join(str(error).split())})") from None
    except OSError as error:
        raise ManifestError(f"{label}: cannot read it ({error.strerror or error})") from None


def _refuse(label: str, table: pd.DataFrame, bad: pd.Series, column: str, problem: str) -> None:
    """Raise for the first row flagged in ``bad`` (its line in the file: the header is line 1)."""
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        count = int(bad.sum())
        more = f" ({count} such rows)" if count > 1 else ""
        raise ManifestError(f"{label}: line {first + 2}: {column} {table[column].iloc[first]!r} {problem}{more}")


def _checked(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """The manifest's columns with their types, after checking every value."""
    missing = [column for column in MANIFEST_COLUMNS if column not in table.columns]
    if missing:
        raise ManifestError(
            f"{label}: not a manifest, missing column(s) {', '.join(missing)} (a manifest has "
            f"{', '.join(MANIFEST_COLUMNS)}; `colorization prepare` writes one)"
        )
    table = table[list(MANIFEST_COLUMNS)].copy()
    for column in ("width", "height"):
        values = pd.to_numeric(table[column], errors="coerce")
        _refuse(label, table, ~(values >= 0) | (values % 1 != 0), column, "is not a whole number >= 0")
        table[column] = values.astype("int64")
    gray = table["is_gray"].str.strip().str.lower()
    _refuse(label, table, ~gray.isin(_BOOLEANS), "is_gray", "is not True or False")
    table["is_gray"] = gray.map(_BOOLEANS).astype(bool)
    names = ", ".join(splits.SPLITS)
    _refuse(label, table, ~table["split"].isin((*splits.SPLITS, "")), "split", f"is not one of {names} or empty")
    usable_rows = table["excluded"] == ""
    _refuse(label, table, usable_rows & (table["split"] == ""), "split", "is empty on a usable row (excluded is empty)")
    unsafe = table["relpath"].map(lambda relpath: member_problem(relpath) is not None)
    _refuse(label, table, unsafe, "relpath", "is not a plain relative path (empty, absolute or with '..')")
    _refuse(label, table, table["relpath"].duplicated(), "relpath", "is listed twice")
    return table


def attach_paths(manifest: pd.DataFrame, root: str | Path | Source, *, label: str = "the manifest") -> pd.DataFrame:
    """Add the ``path`` column from a source (its records) or a root folder.

    Usable rows that are not files of the source get an empty path (the cache counts
    them as undecodable) and one warning line; when none of them is, the manifest is of
    another data set and :class:`ManifestError` is raised.
    """
    table = manifest.copy()
    if not isinstance(root, Source):
        table["path"] = [str(Path(root, r)) for r in table["relpath"]]
        return table
    known = {r.relpath: str(r.path) for r in root.records()}
    table["path"] = [known.get(r, "") for r in table["relpath"]]
    usable_rows = table["excluded"] == ""
    unknown = table.loc[usable_rows & (table["path"] == ""), "relpath"]
    if len(unknown):
        problem = (
            f"{label}: {len(unknown)} of its {int(usable_rows.sum())} usable rows are not files of {root.name} "
            f"({root.origin}), first {unknown.iloc[0]!r}"
        )
        if len(unknown) == usable_rows.sum():
            raise ManifestError(f"{problem}; was it made from another data set?")
        warnings.warn(f"{problem}; they are left out", stacklevel=2)
    return table


def usable(manifest: pd.DataFrame, split: str | None = None) -> pd.DataFrame:
    """Rows that are training/evaluation images (optionally of one split)."""
    rows = manifest[manifest["excluded"] == ""]
    return rows if split is None else rows[rows["split"] == split]
