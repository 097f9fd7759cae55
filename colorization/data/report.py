"""The data report: what a manifest holds, as tables and CSV files.

* :func:`category_table` - per category: files, usable, grayscale, unreadable, other
  exclusions, and images per split;
* :func:`split_table` - per split: images and categories;
* :func:`excluded_table` - every excluded file with its reason;
* :func:`conversion_table` - files used after a conversion (CMYK, palette, 16-bit ...).

:func:`write_report` writes them as ``per_category.csv``, ``per_split.csv``,
``excluded.csv`` and ``conversions.csv`` (atomically); :func:`summary` is a few lines
of text for the command line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from colorization.data.splits import SPLITS
from colorization.io.files import atomic_path


def _kind(reason: str) -> str:
    if not reason:
        return "usable"
    if reason.startswith("grayscale"):
        return "grayscale"
    if reason.startswith("unreadable"):
        return "unreadable"
    return "other_excluded"


def category_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per category (sorted) plus a ``TOTAL`` row."""
    kinds = manifest["excluded"].map(_kind)
    columns = ["files", "usable", "grayscale", "unreadable", "other_excluded", *SPLITS]
    rows = []
    for category, group in manifest.groupby("category", sort=True):
        kind = kinds.loc[group.index]
        row = {"category": category, "files": len(group)}
        for name in ("usable", "grayscale", "unreadable", "other_excluded"):
            row[name] = int((kind == name).sum())
        for split in SPLITS:
            row[split] = int((group["split"] == split).sum())
        rows.append(row)
    table = pd.DataFrame(rows, columns=["category", *columns])
    total = {"category": "TOTAL", **{c: int(table[c].sum()) for c in columns}}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def split_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Images and categories per split, and the excluded files."""
    rows = []
    for split in SPLITS:
        part = manifest[manifest["split"] == split]
        rows.append({"split": split, "images": len(part), "categories": part["category"].nunique()})
    excluded = manifest[manifest["excluded"] != ""]
    rows.append({"split": "excluded", "images": len(excluded), "categories": excluded["category"].nunique()})
    return pd.DataFrame(rows, columns=["split", "images", "categories"])


def excluded_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Every excluded file: relpath, category, mode, reason."""
    part = manifest[manifest["excluded"] != ""]
    return (
        part[["relpath", "category", "mode", "excluded"]].rename(columns={"excluded": "reason"}).reset_index(drop=True)
    )


def conversion_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """Files kept after a conversion, and how they were converted."""
    part = manifest[manifest["note"] != ""]
    return part[["relpath", "category", "mode", "split", "note"]].reset_index(drop=True)


def tables(manifest: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        "per_category": category_table(manifest),
        "per_split": split_table(manifest),
        "excluded": excluded_table(manifest),
        "conversions": conversion_table(manifest),
    }


def write_report(manifest: pd.DataFrame, folder: str | Path) -> dict[str, Path]:
    """Write the report CSVs into ``folder``; return {name: path}."""
    written = {}
    for name, table in tables(manifest).items():
        path = Path(folder) / f"{name}.csv"
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, lineterminator="\n")
        written[name] = path
    return written


def summary(manifest: pd.DataFrame) -> str:
    """A few lines: totals per split and exclusions by reason kind."""
    kinds = manifest["excluded"].map(_kind).value_counts()
    per_split = ", ".join(f"{s} {int((manifest['split'] == s).sum())}" for s in SPLITS)
    lines = [
        f"{len(manifest)} files in {manifest['category'].nunique()} categories; "
        f"usable {int(kinds.get('usable', 0))} ({per_split})",
        f"excluded: grayscale {int(kinds.get('grayscale', 0))}, unreadable "
        f"{int(kinds.get('unreadable', 0))}, other {int(kinds.get('other_excluded', 0))}",
    ]
    converted = int((manifest["note"] != "").sum())
    if converted:
        lines.append(f"converted and kept: {converted} (see conversions.csv)")
    return "\n".join(lines)
