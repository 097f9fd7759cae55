"""Result tables of an evaluation, and writing them.

Files (:data:`RESULT_FILES`), all written atomically:

``per_image.csv``
    ``relpath, category, method, height, width`` + every metric of
    :data:`colorization.metrics.METRIC_KEYS`; one row per image and method. A
    metric that is undefined for an image (``warmth_shift`` without chromatic
    pixels, ``sand_as_water`` without sand) is ``nan``; ``psnr`` is ``inf`` for
    an exact match.
``per_category.csv``
    ``category, method, images``, the mean of each metric (NaN skipped), then
    ``valid_<metric>``: how many images had a value.
``summary.json``
    Provenance (package version, git commit, data source, split, manifest hash,
    exclusions, weights path and sha256, resolution, mean-ab value) and, per
    method, ``images`` and for each metric ``mean``, ``median`` (NaN skipped) and
    ``valid``. Non-finite numbers are written as ``null`` (NaN) or ``"inf"``/``"-inf"``.
``summary.md``
    The summary as a Markdown table, model vs. baselines.

The folder must be new, empty or one the package wrote results into
(:func:`results_folder`, the ownership marker of
:func:`colorization.data.paths.claim_folder`): any other non-empty folder is refused
unless ``overwrite``, and existing result files are never replaced without it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.data.paths import atomic_temporaries, check_folder, claim_folder, folder_lock
from colorization.io.files import OutputExistsError, atomic_path, write_text_atomic
from colorization.metrics import METRIC_KEYS

RESULT_FILES = {
    "per_image": "per_image.csv",
    "per_category": "per_category.csv",
    "summary": "summary.json",
    "markdown": "summary.md",
}
RESULTS_KIND = "evaluation"

# metric -> (label in the Markdown table, which way is better)
METRIC_INFO = {
    "psnr": ("PSNR (dB)", "higher"),
    "ssim": ("SSIM", "higher"),
    "ab_rmse": ("ab RMSE (Lab units)", "lower"),
    "auc": ("AuC of ab error, thresholds 0-150 (0-1)", "higher"),
    "cf_pred": ("colourfulness of the output", "-"),
    "cf_true": ("colourfulness of the original", "-"),
    "delta_cf": ("colourfulness output - original", "near 0"),
    "brown_pred": ("brown/sepia share, output", "-"),
    "brown_true": ("brown/sepia share, original", "-"),
    "delta_b": ("mean b* output - original (< 0: bluer)", "near 0"),
    "warmth_shift": ("warmth shift (< 0: colder)", "near 0"),
    "sand_pixels": ("sand-like pixels in the original", "-"),
    "sand_as_water": ("share of sand painted blue", "lower"),
}


def _metric_columns(table: pd.DataFrame) -> list[str]:
    return [k for k in METRIC_KEYS if k in table.columns]


def _method_order(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["method"]))


def per_category(per_image: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric per category and method (NaN skipped), with counts.

    Columns: ``category, method, images``, one column per metric (its mean), then
    ``valid_<metric>`` (images with a value). Categories sorted, methods in the
    order of ``per_image``.
    """
    metrics = _metric_columns(per_image)
    order = {name: i for i, name in enumerate(_method_order(per_image))}
    rows = []
    for (category, method), group in per_image.groupby(["category", "method"], sort=False):
        values = group[metrics]
        rows.append(
            {
                "category": category,
                "method": method,
                "images": len(group),
                **values.mean(skipna=True).to_dict(),
                **{f"valid_{k}": int(v) for k, v in values.notna().sum().items()},
            }
        )
    table = pd.DataFrame(rows, columns=["category", "method", "images", *metrics, *(f"valid_{m}" for m in metrics)])
    table["_order"] = table["method"].map(order)
    return table.sort_values(["category", "_order"]).drop(columns="_order").reset_index(drop=True)


def method_statistics(per_image: pd.DataFrame) -> dict:
    """Per method: ``images`` and, per metric, ``mean``, ``median`` (NaN skipped) and ``valid``."""
    out = {}
    for method in _method_order(per_image):
        group = per_image[per_image["method"] == method]
        stats = {}
        for key in _metric_columns(per_image):
            values = group[key].to_numpy(dtype=np.float64)
            valid = values[~np.isnan(values)]
            stats[key] = {
                "mean": float(valid.mean()) if valid.size else math.nan,
                "median": float(np.median(valid)) if valid.size else math.nan,
                "valid": int(valid.size),
            }
        out[method] = {"images": int(len(group)), "metrics": stats}
    return out


def summarize(per_image: pd.DataFrame, provenance: dict | None = None) -> dict:
    """The summary: ``provenance``'s keys plus ``methods`` (:func:`method_statistics`)."""
    return {**(provenance or {}), "methods": method_statistics(per_image)}


def format_value(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def markdown_summary(summary: dict) -> str:
    """The summary as Markdown: one row per metric, one column per method (means).

    A value computed from fewer images than the method has (NaN metrics) shows its
    count, e.g. ``0.120 (n=3)``.
    """
    methods = summary["methods"]
    names = list(methods)
    data = summary.get("data", {})
    lines = []
    if data:
        lines.append(
            f"Data: `{data.get('source')}`, split `{data.get('split')}`, "
            f"{data.get('images_evaluated')} of {data.get('images_in_split')} images, "
            f"resolution `{summary.get('resolution')}`; manifest `{str(data.get('manifest_hash'))[:12]}`."
        )
        lines.append("")
    lines.append("| metric | better | " + " | ".join(names) + " |")
    lines.append("|---|---|" + "---:|" * len(names))
    lines.append("| images | | " + " | ".join(str(methods[n]["images"]) for n in names) + " |")
    for key in METRIC_KEYS:
        if not all(key in methods[n]["metrics"] for n in names):
            continue
        label, better = METRIC_INFO.get(key, (key, "-"))
        cells = []
        for name in names:
            stat = methods[name]["metrics"][key]
            cell = format_value(stat["mean"])
            if 0 < stat["valid"] < methods[name]["images"]:
                cell += f" (n={stat['valid']})"
            cells.append(cell)
        lines.append(f"| {label} (`{key}`) | {better} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in summary_notes(summary)) + "\n"


def summary_notes(summary: dict) -> list[str]:
    """The notes under the summary table: the baselines, each model's vividness, the weights, exclusions."""
    names, data = list(summary["methods"]), summary.get("data", {})
    notes = []
    mean = summary.get("mean_ab")
    if mean:
        notes.append(f"`mean_ab` baseline: a = {mean['a']:.3f}, b = {mean['b']:.3f} ({mean.get('source', '')}).")
    if "gray" in names:
        notes.append("`gray` baseline: ab = 0 (the input's lightness only).")
    vivid = vividness_note(summary.get("methods_info") or {})
    if vivid:
        notes.append(vivid)
    weights = summary.get("weights") or {}
    if weights.get("sha256"):
        notes.append(f"Model weights: `{Path(weights['path']).name}` (sha256 `{weights['sha256'][:12]}`).")
    excluded = data.get("excluded_by_manifest") if data else None
    if excluded:
        notes.append(
            f"Excluded by the manifest: {excluded['total']} files ({excluded['grayscale']} grayscale, "
            f"{excluded['unreadable']} unreadable, {excluded['other_excluded']} other)."
        )
    notes.append("Means skip undefined values; `(n=k)`: only k images had a value.")
    return notes


def vividness_note(methods_info: dict) -> str:
    """ "Vividness (1 = as trained): `model` 1, `classification` 1.75 (its default) ..." or ""."""
    parts = []
    for name, info in methods_info.items():
        if "vividness" in info:
            used, default = info["vividness"], info.get("default_vividness")
            parts.append(f"`{name}` {used:.4g}" + (" (its default)" if used == default else ""))
    if not parts:
        return ""
    return "Vividness (1 = the network as trained; `colorization.vividness`): " + ", ".join(parts) + "."


def jsonable(value):
    """``value`` with NaN -> None and +-inf -> "inf"/"-inf", recursively (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    return value


def result_paths(folder: str | Path) -> dict[str, Path]:
    return {key: Path(folder) / name for key, name in RESULT_FILES.items()}


def existing_results(folder: str | Path) -> list[Path]:
    """Result files already in ``folder``."""
    return [path for path in result_paths(folder).values() if path.exists()]


def results_folder(folder: str | Path, *, overwrite: bool = False, check_only: bool = False) -> Path:
    """``folder`` for result files: new, empty or holding the package's results.

    Created and marked unless ``check_only``; ``overwrite`` writes into any folder.

    Raises
    ------
    colorization.data.paths.FolderError
        One line, for a file, or a non-empty folder the package did not write results into.
    """
    if check_only:
        check_folder(folder, RESULTS_KIND, overwrite=overwrite)
        return Path(folder)
    return claim_folder(folder, RESULTS_KIND, overwrite=overwrite)


def write_results(results, folder: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Write :data:`RESULT_FILES` for ``results`` (a :class:`~colorization.evaluation.runner.Results`).

    Raises :class:`~colorization.io.files.OutputExistsError` (nothing written) if any
    exists and ``overwrite`` is False, and :class:`~colorization.data.paths.FolderError`
    for a folder that is not :func:`results_folder`'s; each file is written atomically.
    """
    folder = results_folder(folder, overwrite=overwrite)
    targets = result_paths(folder)
    with folder_lock(folder, stale=atomic_temporaries(RESULT_FILES.values())):
        if not overwrite:
            found = existing_results(folder)
            if found:
                raise OutputExistsError(17, "exists (use --overwrite to replace it)", str(found[0]))
        with atomic_path(targets["per_image"], overwrite=overwrite) as tmp:
            results.per_image.to_csv(tmp, index=False, lineterminator="\n", na_rep="nan")
        with atomic_path(targets["per_category"], overwrite=overwrite) as tmp:
            results.per_category.to_csv(tmp, index=False, lineterminator="\n", na_rep="nan")
        text = json.dumps(jsonable(results.summary), indent=2, allow_nan=False) + "\n"
        write_text_atomic(targets["summary"], text, overwrite=overwrite)
        write_text_atomic(targets["markdown"], results.markdown, overwrite=overwrite)
    return targets


def read_per_image(path: str | Path) -> pd.DataFrame:
    """Read a ``per_image.csv`` back (relpath/category as text, metrics as floats)."""
    return pd.read_csv(
        path, dtype={"relpath": str, "category": str, "method": str}, keep_default_na=False, na_values=["nan"]
    )
