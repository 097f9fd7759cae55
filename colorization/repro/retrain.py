"""What a rerun that trains its own network reproduces (``--kind retrain``).

A profile whose every rerun trains from scratch (``caltech101_gpu``) ends with another network of
the same quality, never the same network: training on a GPU is not deterministic (the order of
its parallel sums varies), and the differences grow over the epochs. Two retrains on one H200
(docs/measurements.md, 2026-12-02) agreed on every epoch's val_loss within 0.0006 and on every
aggregate, yet single test images moved by up to 1.7 dB of PSNR. Comparing each image's score
with the reference's therefore judges the noise of training, not the reproduction. A retrain
is judged as the published tables are read, by their statistics and intervals:

* ``evaluate/per_image.csv`` and ``evaluate/per_category.csv`` are samples (of test images, of
  categories): for each method and metric, the rerun's mean over the rows must lie inside the
  reference's 95% confidence interval of that mean (mean ± 1.96 standard errors over its rows;
  at least the ``cpu`` tolerance). Text and count columns must match row by row. How many
  single values moved further than the ``gpu`` tolerance is reported, not judged.
* ``analysis/verdicts.csv``: each claim's verdict and reason exactly, and the rerun's statistic
  inside the reference's 95% interval ``[ci_low, ci_high]``; the rerun's own interval is shown,
  not judged.
* ``train/history.csv``: the epochs both runs trained, at the ``gpu`` tolerances; where early
  stopping ended one run earlier (three retrains stopped after 73, 73 and 65 epochs), the other
  run's extra epochs are shown, not judged.
* A table that states each mean's standard error (``x`` beside ``x_sem``, or ``x_mean`` beside
  ``x_sem``: the vividness sweep, the hint curve): the rerun's mean inside the reference's
  ``mean ± 1.96 sem`` (at least the ``cpu`` tolerance); the rerun's own ``sem`` is shown, not judged.
* Every other value (data, video metrics, the summary, columns without a standard error): the
  ``gpu`` tolerances.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from colorization.repro.verify import RUN_KINDS, TOLERANCE, Comparison, compare_table

SAMPLE_TABLES = {"evaluate/per_image.csv", "evaluate/per_category.csv"}
VERDICTS = "analysis/verdicts.csv"
HISTORY = "train/history.csv"
Z95 = 1.96  # two-sided 95% normal quantile


def compare_retrain(name: str, reference: pd.DataFrame, rerun: pd.DataFrame, keys: list) -> Comparison:
    """One table of a retrain (module docstring)."""
    if name in SAMPLE_TABLES:
        return compare_samples(name, reference, rerun, keys)
    if name == VERDICTS:
        return compare_verdicts(reference, rerun)
    if name == HISTORY:
        return compare_history(reference, rerun)
    return compare_with_intervals(name, reference, rerun, keys)


def compare_history(reference: pd.DataFrame, rerun: pd.DataFrame) -> Comparison:
    """The epochs both runs trained at the ``gpu`` tolerances; the others shown."""
    shared = set(reference["epoch"]) & set(rerun["epoch"])
    result = compare_table(
        HISTORY,
        reference[reference["epoch"].isin(shared)],
        rerun[rerun["epoch"].isin(shared)],
        ["epoch"],
        RUN_KINDS["gpu"],
    )
    for label, table in (("the reference", reference), ("the rerun", rerun)):
        extra = sorted(set(table["epoch"]) - shared)
        if extra:
            result.notes.append(f"epochs {extra[0]}-{extra[-1]} only in {label} (early stopping ended the other run)")
    return result


def sem_column(column: str) -> str:
    """The standard-error column stated beside ``column`` (``psnr_mean`` -> ``psnr_sem``, ``auc`` -> ``auc_sem``)."""
    return (column[: -len("_mean")] if column.endswith("_mean") else column) + "_sem"


def compare_with_intervals(name: str, reference: pd.DataFrame, rerun: pd.DataFrame, keys: list) -> Comparison:
    """Means beside a standard error inside the reference's ``mean ± 1.96 sem``; other values at ``gpu``."""
    sems = [c for c in reference.columns if c.endswith("_sem")]
    judged = [c for c in reference.columns if sem_column(c) in sems and c in TOLERANCE and c not in sems]
    result = _other_columns(name, reference, rerun, keys, judged + sems, RUN_KINDS["gpu"])
    a, b = reference.set_index(keys), rerun.set_index(keys)
    rows = a.index.intersection(b.index)
    for column in [c for c in judged if c in rerun.columns]:
        for label in rows:
            old, new = float(a.at[label, column]), float(b.at[label, column])
            sem = float(a.at[label, sem_column(column)])
            half = max(Z95 * sem, TOLERANCE[column]) if math.isfinite(sem) else TOLERANCE[column]
            _count(result, f"{label} {column}", old, new, half)
    return result


def _count(result: Comparison, where: str, reference: float, rerun: float, half: float) -> None:
    """Count one value: exact, inside ``reference ± half``, or beyond (NaN equals NaN)."""
    if reference == rerun or (math.isnan(reference) and math.isnan(rerun)):
        result.exact += 1
    elif abs(rerun - reference) <= half:
        result.within += 1
        result.largest = max(result.largest, abs(rerun - reference))
    else:
        result.beyond.append((where, reference, rerun, abs(rerun - reference), half))


def compare_samples(name: str, reference: pd.DataFrame, rerun: pd.DataFrame, keys: list) -> Comparison:
    """A per-row table as samples: per (method, metric) the rerun's mean within the reference's 95% CI."""
    judged = [c for c in reference.columns if c in TOLERANCE]
    result = _other_columns(name, reference, rerun, keys, judged)
    metrics = [c for c in judged if c in rerun.columns]
    per_value = compare_table(name, reference[keys + metrics], rerun[keys + metrics], keys, RUN_KINDS["gpu"])
    a, b = reference.set_index(keys), rerun.set_index(keys)
    rows = a.index.intersection(b.index)
    for method, group in a.loc[rows].groupby(level="method"):
        other = b.loc[group.index]
        for column in metrics:
            _judge_mean(result, f"{method} mean {column}", group[column], other[column], TOLERANCE[column])
    values = per_value.exact + per_value.within + len(per_value.beyond)
    result.notes.append(f"{len(per_value.beyond)} of {values} single values moved beyond the gpu tolerance")
    return result


def _other_columns(
    name: str, reference: pd.DataFrame, rerun: pd.DataFrame, keys: list, judged: list, scale: float = 1.0
) -> Comparison:
    """Every column but ``judged`` compared row by row at tolerances x ``scale`` (text and counts:
    exactly); ``judged`` columns missing from the rerun are reported."""
    columns = [c for c in reference.columns if c not in judged]
    result = compare_table(name, reference[columns], rerun[[c for c in columns if c in rerun.columns]], keys, scale)
    result.missing += [f"column {c} missing from the rerun" for c in judged if c not in rerun.columns]
    return result


def _judge_mean(result: Comparison, where: str, reference: pd.Series, rerun: pd.Series, floor: float) -> None:
    """Count one (method, metric) mean into ``result``: exact, within the reference's CI, or beyond."""
    x, y = reference.to_numpy(float), rerun.to_numpy(float)
    if np.array_equal(x, y, equal_nan=True):
        result.exact += 1
        return
    if not np.array_equal(np.isfinite(x), np.isfinite(y)):
        result.beyond.append((f"{where} (which rows are finite)", "-", "-", math.inf, 0.0))
        return
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    half = Z95 * x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else 0.0
    _count(result, where, float(x.mean()), float(y.mean()), max(half, floor))


def compare_verdicts(reference: pd.DataFrame, rerun: pd.DataFrame) -> Comparison:
    """Each claim: its text columns exactly, the rerun's statistic inside the reference's 95% interval."""
    result = _other_columns(VERDICTS, reference, rerun, ["claim"], ["value", "ci_low", "ci_high"])
    if "value" not in rerun.columns:
        return result
    a, b = reference.set_index("claim"), rerun.set_index("claim")
    for claim in a.index.intersection(b.index):
        low, value, high = (float(a.at[claim, c]) for c in ("ci_low", "value", "ci_high"))
        new = float(b.at[claim, "value"])
        if new == value or (math.isnan(new) and math.isnan(value)):
            result.exact += 1
        elif math.isfinite(low) and math.isfinite(high) and low <= new <= high:
            result.within += 1
            result.largest = max(result.largest, abs(new - value))
        else:
            where = f"{claim} value (reference interval [{low:.4g}, {high:.4g}])"
            result.beyond.append((where, value, new, abs(new - value), 0.0))
    return result
