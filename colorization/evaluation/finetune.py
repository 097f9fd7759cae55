"""A fine-tuned model against the model it started from, on the same held-out images.

A fine-tuning run (``init_weights`` in its configuration; docs/finetune.md) starts from a
shipped model or a ``.keras`` file. :func:`compare_models` scores both models on the same
images (by default the test split of the run's categories or content group: images neither
model was trained on) with every metric of the package, both at vividness 1 (the networks as
trained), and :func:`paired_statistics` summarises each metric: each model's mean ± standard
error and the per-image paired difference (tuned − untuned) with its standard error, a 95%
bootstrap interval and how many images improved. After a run::

    python -m colorization.evaluation.finetune runs/caltech101_finetune_animals -o results/finetune_animals

reads the run's ``run.json`` (its pack or cache, categories or content group, and the weights it
started from, whose sha256 must still match) and writes into the output folder
(:data:`COMPARISON_FILES`, atomically; a folder the package did not write results into is
refused unless ``--overwrite``): ``per_image.csv`` (one row per image and model),
``comparison.json`` (provenance and the statistics) and ``comparison.md`` (the table).
Problems are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from colorization.evaluation.selection import EvalData

COMPARED_METRICS = ("psnr", "auc", "ab_rmse")  # the paper's two measures, and the error the networks minimise
COMPARISON_FILES = {"per_image": "per_image.csv", "summary": "comparison.json", "markdown": "comparison.md"}
TUNED, UNTUNED = "tuned", "untuned"


@dataclass
class Comparison:
    """``per_image`` (one row per image and model), ``summary`` (JSON-ready) and ``markdown``."""

    per_image: pd.DataFrame
    summary: dict
    markdown: str


def compare_models(data: EvalData, tuned, untuned="paper", *, batch_size: int = 8, progress: bool = True) -> Comparison:
    """Score ``tuned`` and ``untuned`` on ``data``'s images and compare them per image.

    Parameters
    ----------
    data : EvalData
        The images (:func:`colorization.evaluation.load_data` or ``load_pack_data``, e.g.
        with ``content_group="animals"``).
    tuned : path
        The fine-tuned ``.keras`` model.
    untuned : str or path
        The model it started from: a shipped model's name (``paper``) or a ``.keras`` file.
    """
    from colorization.evaluation.methods import ModelMethod
    from colorization.evaluation.runner import score_methods
    from colorization.reporting.provenance import provenance, weights_entry
    from colorization.vividness import AS_TRAINED
    from colorization.weights import load_weights, reference_weights, registry

    paths = {TUNED: Path(tuned), UNTUNED: reference_weights(untuned) if untuned in registry() else Path(untuned)}
    info = {
        name: {"given": str(given), **weights_entry(paths[name])}
        for name, given in ((TUNED, tuned), (UNTUNED, untuned))
    }
    methods = [
        ModelMethod(load_weights(paths[name]), name=name, info={"weights": info[name]}, vividness=AS_TRAINED)
        for name in (UNTUNED, TUNED)
    ]
    per_image = score_methods(methods, data, resolution="paper", batch_size=batch_size, progress=progress)
    statistics = {metric: paired_statistics(per_image, metric) for metric in COMPARED_METRICS}
    summary = provenance(
        "finetune-comparison", data=data.describe(), models=info, vividness=AS_TRAINED, statistics=statistics
    )
    return Comparison(per_image, summary, comparison_markdown(summary))


def paired_statistics(per_image: pd.DataFrame, metric: str, tuned: str = TUNED, untuned: str = UNTUNED) -> dict:
    """Each model's mean ± standard error of ``metric`` and the per-image difference ``tuned - untuned``.

    Images where either value is not finite (PSNR of an exact match, a metric undefined
    for the image) are left out of all three, so the means are over the same images.
    """
    from colorization.evaluation.verdicts import bootstrap_ci

    table = per_image.pivot_table(index="relpath", columns="method", values=metric, aggfunc="first")
    pairs = table[[untuned, tuned]].to_numpy(dtype=float)
    pairs = pairs[np.isfinite(pairs).all(axis=1)]
    difference = pairs[:, 1] - pairs[:, 0]
    low, high = bootstrap_ci(difference)
    return {
        "images": int(len(pairs)),
        "left_out": int(len(table) - len(pairs)),
        untuned: _mean_and_error(pairs[:, 0]),
        tuned: _mean_and_error(pairs[:, 1]),
        "difference": {**_mean_and_error(difference), "ci95": [low, high]},
        "better": int((difference < 0).sum() if metric == "ab_rmse" else (difference > 0).sum()),
    }


def _mean_and_error(values: np.ndarray) -> dict:
    """``{"mean", "se"}``: the mean and its standard error (NaN below two values)."""
    mean = float(values.mean()) if len(values) else float("nan")
    error = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
    return {"mean": mean, "se": error}


def comparison_markdown(summary: dict) -> str:
    """The comparison as a Markdown table, with what was compared on which images."""
    data, models = summary["data"], summary["models"]
    chosen = f"content group {data['content_group']}" if data.get("content_group") else "all categories"
    if data.get("categories") and not data.get("content_group"):
        chosen = "categories " + ", ".join(data["categories"])
    lines = [
        f"Fine-tuned vs. untuned on {data['images_evaluated']} images of the {data['split']} split of "
        f"{data['source']} ({chosen}), both at vividness 1 (as trained).",
        "",
        "| metric | untuned (mean ± s.e.) | tuned (mean ± s.e.) | tuned − untuned (mean ± s.e.) | 95% CI | "
        "images better |",
        "|---|---|---|---|---|---|",
    ]
    for metric, stats in summary["statistics"].items():
        cells = [_pm(stats[UNTUNED]), _pm(stats[TUNED]), _pm(stats["difference"], signed=True)]
        low, high = stats["difference"]["ci95"]
        lines.append(
            f"| {metric} | {' | '.join(cells)} | [{low:+.4f}, {high:+.4f}] | {stats['better']} of {stats['images']} |"
        )
    lines += ["", *(f"- {name}: `{entry['given']}` (sha256 {entry['sha256'][:12]}…)" for name, entry in models.items())]
    return "\n".join(lines) + "\n"


def _pm(entry: dict, signed: bool = False) -> str:
    return f"{entry['mean']:{'+' if signed else ''}.4f} ± {entry['se']:.4f}"


def write_comparison(comparison: Comparison, folder: str | Path, *, overwrite: bool = False) -> dict[str, Path]:
    """Write :data:`COMPARISON_FILES` atomically into a results folder.

    Raises :class:`~colorization.io.files.OutputExistsError` (nothing written) if one exists
    and ``overwrite`` is False, and :class:`~colorization.data.paths.FolderError` for a folder
    the package did not write results into.
    """
    from colorization.data.paths import atomic_temporaries, folder_lock
    from colorization.evaluation.tables import jsonable, results_folder
    from colorization.io.files import OutputExistsError, atomic_path, write_text_atomic

    folder = results_folder(folder, overwrite=overwrite)
    targets = {key: folder / name for key, name in COMPARISON_FILES.items()}
    with folder_lock(folder, stale=atomic_temporaries(COMPARISON_FILES.values())):
        found = [path for path in targets.values() if path.exists()]
        if found and not overwrite:
            raise OutputExistsError(17, "exists (use --overwrite to replace it)", str(found[0]))
        with atomic_path(targets["per_image"], overwrite=overwrite) as tmp:
            comparison.per_image.to_csv(tmp, index=False, lineterminator="\n", na_rep="nan")
        text = json.dumps(jsonable(comparison.summary), indent=2, allow_nan=False) + "\n"
        write_text_atomic(targets["summary"], text, overwrite=overwrite)
        write_text_atomic(targets["markdown"], comparison.markdown, overwrite=overwrite)
    return targets


def read_run(folder: str | Path) -> dict:
    """A completed training run's ``run.json``; ``ValueError`` (one line) if there is none."""
    path = Path(folder) / "run.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(
            f"{path}: cannot read the run record ({error.strerror or error}); is it a run folder?"
        ) from None
    except ValueError:
        raise ValueError(f"{path}: not a run record (not JSON)") from None
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise ValueError(f"{path}: not a run record (no configuration in it)")
    if record.get("status") != "completed" or not record.get("model"):
        raise ValueError(
            f"{path}: the run has not completed (status {record.get('status')!r}); finish it with "
            "`colorization train --config ... --resume` first"
        )
    return record


def untuned_of(record: dict, folder: Path) -> str:
    """The weights a run started from (``init_weights``), checked against the sha256 it recorded."""
    from colorization.io.files import sha256_file
    from colorization.weights import reference_weights, registry

    start = record.get("init_weights")
    if not isinstance(start, dict) or not start.get("source"):
        raise ValueError(f"{folder}: the run did not start from trained weights (no init_weights); give --untuned")
    name = start["source"]
    path = reference_weights(name) if name in registry() else Path(name)
    actual = sha256_file(path) if path.is_file() else None
    if actual != start.get("sha256"):
        found = f"sha256 {actual[:12]}…" if actual else "no such file"
        raise ValueError(
            f"{path}: {found}, but the run started from sha256 {str(start.get('sha256'))[:12]}…; "
            "give the weights it started from with --untuned"
        )
    return name


def run_data(record: dict, *, split: str = "test", pack=None, limit: int | None = None) -> EvalData:
    """The images of the run's pack (``pack`` if it moved) or cache, and categories, in ``split``."""
    from colorization.evaluation.selection import load_cache_data, load_pack_data

    config = record["config"]
    chosen = {"categories": config.get("categories"), "content_group": config.get("content_group")}
    if pack is None and config.get("data") == "cache":
        if not config.get("manifest_path"):
            raise ValueError(
                "the run trained on data: cache without manifest_path, so its split is unknown here; "
                "give the pack to evaluate on with --pack, or train with manifest_path set"
            )
        return load_cache_data(config["cache_dir"], config["manifest_path"], split=split, limit=limit, **chosen)
    if pack is None and config.get("data") != "pack":
        raise ValueError(
            f"the run trained on data: {config.get('data')}; give the pack to evaluate on with --pack "
            "(`colorization prepare` writes one), or compare in Python (compare_models)"
        )
    return load_pack_data(
        pack or config["pack_path"],
        split=split,
        limit=limit,
        cache_dir=config.get("cache_dir") if pack is None else None,
        **chosen,
    )


def build_parser() -> argparse.ArgumentParser:
    from colorization.evaluation.selection import SPLIT_CHOICES

    parser = argparse.ArgumentParser(
        prog="python -m colorization.evaluation.finetune",
        description="Compare a fine-tuning run's model with the model it started from on the run's "
        "categories' held-out images (module docstring: colorization/evaluation/finetune.py).",
    )
    parser.add_argument(
        "run", metavar="RUN_DIR", help="the fine-tuning run's folder (output_dir: run.json, model.keras)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the comparison files")
    parser.add_argument("--split", choices=SPLIT_CHOICES, default="test", help="which images (default test)")
    parser.add_argument("--untuned", metavar="NAME|FILE", help="the model to compare with (default: the run's start)")
    parser.add_argument("--pack", metavar="PATH", help="the pack to evaluate on (default: the run's pack_path)")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate only N images, spread over the split")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N", help="images per network call (default 8)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing comparison files")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line: one line on stderr and exit status 2 for a problem the user can fix."""
    from colorization.io.files import OutputExistsError
    from colorization.weights import WeightsError

    args = build_parser().parse_args(argv)
    try:
        record = read_run(args.run)
        untuned = args.untuned or untuned_of(record, Path(args.run))
        data = run_data(record, split=args.split, pack=args.pack, limit=args.limit)
        comparison = compare_models(
            data, Path(args.run) / record["model"], untuned, batch_size=args.batch_size, progress=sys.stderr.isatty()
        )
        paths = write_comparison(comparison, args.output, overwrite=args.overwrite)
    except OutputExistsError as error:
        return _fail(f"{error.filename}: exists (use --overwrite to replace it)")
    except (ValueError, OSError, WeightsError) as error:
        return _fail(" ".join(str(error).split()))
    print(comparison.markdown, end="")
    print(f"comparison: {', '.join(str(path) for path in paths.values())}")
    return 0


def _fail(message: str) -> int:
    print(f"colorization.evaluation.finetune: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
