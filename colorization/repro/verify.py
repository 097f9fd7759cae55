"""Did a rerun reproduce the published results? Every table value and verdict, compared.

``python -m colorization.repro.verify --profile tiny --run runs/reproduce/tiny`` compares the
rerun's results folder with the published reference ``results/<profile>/`` number by number
and ends with a short table: what matched exactly, what moved within its tolerance, what moved
beyond it (and by how much). The exit status is 1 when anything moved beyond its tolerance or
is missing.

Tolerances
----------
Each compared column has an absolute tolerance (:data:`TOLERANCE`, in the column's own units),
scaled by the kind of run (:data:`RUN_KINDS`):

``cpu``      a rerun on a CPU with the same package versions: only floating-point rounding of
             other SIMD widths and thread counts moves numbers (the default)
``gpu``      training or inference on a GPU: nondeterministic reductions and other kernels
``backend``  another Keras backend (TensorFlow against JAX): other convolution kernels
``retrain``  a rerun that trained its own network (``caltech101_gpu``): ``gpu`` tolerances, but
             per-image and per-category scores and the claims' statistics are judged by their
             means and 95% intervals (:mod:`colorization.repro.retrain`)

Text columns (splits, categories, verdicts, reasons) and counts must match exactly whatever the
kind. Timings (seconds, images/s) are not compared. The package versions of both runs are
listed when they differ: a difference there explains a moved number, it is not itself one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from colorization.io.paths import project_root

# Absolute tolerance per column for a `cpu` rerun (units of the column).
TOLERANCE = {
    "psnr": 0.01,
    "ssim": 1e-4,
    "ab_rmse": 0.01,
    "auc": 1e-4,
    "cf_pred": 0.01,
    "cf_true": 1e-6,
    "delta_cf": 0.01,
    "brown_pred": 1e-3,
    "brown_true": 1e-6,
    "delta_b": 0.01,
    "warmth_shift": 0.01,
    "sand_pixels": 0.0,
    "sand_as_water": 1e-3,
    "auc_sem": 1e-4,
    "delta_cf_sem": 0.01,  # standard errors of the vividness sweep
    "psnr_mean": 0.01,
    "psnr_sem": 0.01,
    "auc_mean": 1e-4,  # the colour-hint curve (dB, AuC)
    "cdc": 1e-5,
    "warping_error": 1e-5,
    "frame_change": 0.01,  # the video notebook (CDC, squared RGB error in [0, 1], Lab units)
    "value": 1e-4,
    "ci_low": 1e-4,
    "ci_high": 1e-4,  # claim statistics (AuC, shares, Lab units)
    "loss": 1e-4,
    "val_loss": 1e-4,
    "learning_rate": 1e-9,  # training history (MSE on ab/128)
}
# Relative tolerance on top: for columns whose units differ from row to row (the claims' statistics),
# and for training losses, which other CPUs' kernels move by a fraction of their size.
RELATIVE = {
    "value": 1e-3,
    "ci_low": 1e-3,
    "ci_high": 1e-3,
    "loss": 1e-2,
    "val_loss": 1e-2,
}  # training: three CPU epochs from one seed, other kernels move ~0.1%
RUN_KINDS = {"cpu": 1.0, "gpu": 100.0, "backend": 30.0, "retrain": 100.0}  # retrain: colorization.repro.retrain
IGNORED = {"seconds", "wall_seconds", "images_per_s"}

# The tables of a results folder and the columns that identify a row in each.
TABLES = {
    "data/manifest.csv": ["relpath"],
    "data/per_split.csv": ["split"],
    "data/per_category.csv": ["category"],
    "data/excluded.csv": ["relpath"],
    "evaluate/per_image.csv": ["relpath", "method"],
    "evaluate/per_category.csv": ["category", "method"],
    "analysis/verdicts.csv": ["claim"],
    "train/history.csv": ["epoch"],
    "vividness/sweep.csv": ["method", "vividness"],
    "hints/summary.csv": ["method", "n"],
    "video/metrics.csv": ["clip", "method"],
}


@dataclass
class Comparison:
    """What one table (or the summary) gave: counts and the values beyond tolerance."""

    name: str
    exact: int = 0
    within: int = 0
    beyond: list = field(default_factory=list)  # (where, reference, rerun, |difference|, tolerance)
    missing: list = field(default_factory=list)  # what one side has and the other lacks
    notes: list = field(default_factory=list)  # shown, not judged
    largest: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.beyond and not self.missing


def close(column: str, reference, rerun, scale: float) -> tuple[bool, bool, float, float]:
    """(exactly equal, within tolerance, |difference|, tolerance) of one value of ``column``."""
    if isinstance(reference, str) or isinstance(rerun, str) or column not in TOLERANCE:
        same = str(reference) == str(rerun)
        return same, same, 0.0 if same else math.inf, 0.0
    a, b = float(reference), float(rerun)
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        same = (math.isnan(a) and math.isnan(b)) or a == b
        return same, same, 0.0 if same else math.inf, 0.0
    difference = abs(a - b)
    tolerance = (TOLERANCE[column] + RELATIVE.get(column, 1e-12) * max(abs(a), abs(b))) * scale
    return difference == 0.0, difference <= tolerance, difference, tolerance


def compare_table(name: str, reference: pd.DataFrame, rerun: pd.DataFrame, keys: list, scale: float) -> Comparison:
    """Align two tables on ``keys`` and compare every shared, non-timing column value by value."""
    result = Comparison(name)
    reference, rerun = reference.set_index(keys), rerun.set_index(keys)
    for label in reference.index.difference(rerun.index)[:5]:
        result.missing.append(f"row {label} only in the reference")
    for label in rerun.index.difference(reference.index)[:5]:
        result.missing.append(f"row {label} only in the rerun")
    result.missing += [f"column {c} missing from the rerun" for c in reference.columns.difference(rerun.columns)]
    rows = reference.index.intersection(rerun.index)
    for column in [c for c in reference.columns.intersection(rerun.columns) if c not in IGNORED]:
        for label, a, b in zip(rows, reference.loc[rows, column], rerun.loc[rows, column], strict=True):
            exact, within, difference, tolerance = close(column, a, b, scale)
            result.exact += exact
            result.within += within and not exact
            if not within:
                result.beyond.append((f"{label} {column}", a, b, difference, tolerance))
            elif math.isfinite(difference):
                result.largest = max(result.largest, difference)
    return result


def summary_table(path: Path) -> pd.DataFrame:
    """``evaluate/summary.json``'s statistics as a table: one row per (method, statistic), one
    column per metric; the counts of valid images as text, so that they must match exactly."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for method, entry in summary["methods"].items():
        metrics = entry["metrics"]
        for stat in ("mean", "median"):
            rows.append({"method": method, "stat": stat, **{m: s.get(stat) for m, s in metrics.items()}})
        rows.append({"method": method, "stat": "valid", **{m: str(s.get("valid")) for m, s in metrics.items()}})
    return pd.DataFrame(rows)


def compare_summary(reference: Path, rerun: Path, scale: float) -> Comparison:
    result = compare_table("", summary_table(reference), summary_table(rerun), ["method", "stat"], scale)
    result.name = "evaluate/summary.json"
    return result


def read_csv(path: Path) -> pd.DataFrame:
    """A results table; empty cells (pandas' NaN) read back as NaN, and compare equal to NaN."""
    return pd.read_csv(path, dtype={"relpath": str, "category": str})


def compare_tables(name: str, reference: pd.DataFrame, rerun: pd.DataFrame, keys: list, kind: str) -> Comparison:
    """One table of :data:`TABLES`, value by value; a retrain's samples and verdicts by their statistics."""
    if kind == "retrain":
        from colorization.repro.retrain import compare_retrain

        return compare_retrain(name, reference, rerun, keys)
    return compare_table(name, reference, rerun, keys, RUN_KINDS[kind])


def compare_folders(reference: Path, rerun: Path, kind: str = "cpu") -> list[Comparison]:
    """Every table of :data:`TABLES` present in the reference, and the summary."""
    scale = RUN_KINDS[kind]
    results = []
    for name, keys in TABLES.items():
        if not (reference / name).is_file():
            continue
        if not (rerun / name).is_file():
            results.append(Comparison(name, missing=[f"{name} missing from the rerun"]))
            continue
        results.append(compare_tables(name, read_csv(reference / name), read_csv(rerun / name), keys, kind))
    if (reference / "evaluate" / "summary.json").is_file():
        if (rerun / "evaluate" / "summary.json").is_file():
            results.append(compare_summary(reference / "evaluate/summary.json", rerun / "evaluate/summary.json", scale))
        else:
            results.append(Comparison("evaluate/summary.json", missing=["evaluate/summary.json missing"]))
    return results


def version_differences(reference: Path, rerun: Path) -> list[str]:
    """Package versions that differ between the two runs' evaluation provenance."""

    def versions(folder):
        path = folder / "evaluate" / "summary.json"
        return json.loads(path.read_text(encoding="utf-8")).get("packages", {}) if path.is_file() else {}

    old, new = versions(reference), versions(rerun)
    return [
        f"{k}: {old.get(k, '-')} -> {new.get(k, '-')}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    ]


def report(results: list[Comparison], versions: list[str], kind: str) -> str:
    """The verdict table (Markdown) and the first values beyond tolerance."""
    lines = [
        f"| results ({kind} tolerances) | exact | within tolerance | beyond | largest move within |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.exact} | {r.within} | {len(r.beyond) + len(r.missing)} | {r.largest:.3g} |")
    for r in results:
        for where, a, b, difference, tolerance in r.beyond[:5]:
            lines.append(f"- {r.name}: {where}: {a} -> {b} (moved {difference:.3g}, tolerance {tolerance:.3g})")
        lines += [f"- {r.name}: {m}" for m in r.missing[:5]]
        lines += [f"- {r.name} (not judged): {n}" for n in r.notes]
    if versions:
        lines.append("- package versions differ from the reference's: " + "; ".join(versions))
    verdict = "REPRODUCED" if all(r.ok for r in results) else "NOT REPRODUCED"
    lines.append(
        f"\n**{verdict}**: {sum(r.exact for r in results)} values exact, "
        f"{sum(r.within for r in results)} within tolerance, "
        f"{sum(len(r.beyond) + len(r.missing) for r in results)} beyond or missing."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare a rerun's results with the published reference.")
    parser.add_argument("--profile", default="tiny", help="profile name: the reference is results/<profile>/")
    parser.add_argument("--run", required=True, help="the rerun's results folder")
    parser.add_argument("--reference", help="the reference folder (default: results/<profile>/)")
    parser.add_argument("--kind", choices=sorted(RUN_KINDS), default="cpu", help="kind of rerun (default: cpu)")
    args = parser.parse_args(argv)
    reference = Path(args.reference) if args.reference else project_root() / "results" / args.profile
    run = Path(args.run)
    for folder in (reference, run):
        if not (folder / "evaluate").is_dir():
            print(f"verify: {folder}: not a results folder (no evaluate/)", file=sys.stderr)
            return 2
    results = compare_folders(reference, run, args.kind)
    print(report(results, version_differences(reference, run), args.kind))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
