"""int8 against fp32 (and fp32 against Keras) on a data set's test split, for both shipped models (issue 16).

Each model is exported twice to each of ``--formats`` (ONNX by default; OpenVINO, LiteRT), fp32 and
int8 (int8 calibrated on ``--calibration``'s training split, 64 images, as ``colorization export``
does), and the versions (Keras, each format's fp32 and int8; and the int8 export shipped in the
package, where the registry lists one: the video path's CPU default) colour the test split's paper
crops at the model's registered vividness. Printed per model and version: mean PSNR and mean AuC
(the evaluation's metrics, ``vividness_sweep.sweep_scores``), the differences int8 - fp32 and
fp32 - Keras, and whether they are within the issue's bounds (|delta PSNR| <= 0.1 dB,
|delta AuC| <= 0.002).

Run:  .venv/bin/python benchmarks/export_parity.py --data results/caltech101 --source caltech101
          [--formats onnx openvino litert] [--models paper classification]
      (``--data``: a results folder whose 01_data wrote the manifest; the cache is found as notebook 03 finds it)
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
BOUNDS = {"psnr": 0.1, "auc": 0.002}


def test_views(results: str, source: str, profile: str, limit: int | None) -> np.ndarray:
    """The test split's 256x256 paper crops, from notebook 01's manifest and cache."""
    from colorization.repro.handover import analysis_inputs

    return analysis_inputs(profile, source, results, None, split="test", limit=limit).views


def scores(model, views: np.ndarray, vividness: float, batch: int = 8) -> dict[str, float]:
    """Mean PSNR and AuC of ``model``'s colorizations of ``views`` at ``vividness``."""
    from colorization.colorize import predict_ab, render
    from colorization.evaluation.vividness_sweep import Original, sweep_scores

    rows = []
    for start in range(0, len(views), batch):
        part = views[start : start + batch]
        for view, ab in zip(part, predict_ab(model, part, vividness), strict=True):
            rows.append(sweep_scores(render(view, ab), Original.of(view)))
    return {metric: float(np.mean([row[metric] for row in rows])) for metric in ("psnr", "auc")}


def versions(name: str, formats: list[str], calibration, folder: Path) -> dict:
    """Keras, then fp32 and int8 of the shipped model ``name`` in each of ``formats``, and its shipped int8
    export if it has one."""
    from colorization.export import SUFFIXES, load_exported
    from colorization.export.formats import export_model
    from colorization.weights import load_weights, shipped_export

    found = {"keras": load_weights(name=name)}
    for fmt in formats:
        for precision in ("fp32", "int8"):
            target = folder / f"{name}-{precision}{SUFFIXES[fmt]}"
            made = export_model(name, target, fmt=fmt, precision=precision, calibration=calibration).path
            found[f"{fmt} {precision}"] = load_exported(made)
    shipped = shipped_export(name, "onnx-int8")
    if shipped is not None:
        found["shipped int8"] = load_exported(shipped)
    return found


def comparisons(formats: list[str]) -> list[tuple[str, str | None]]:
    """(version, the version it is measured against): fp32 against Keras, int8 against its format's fp32."""
    pairs = [("keras", None)]
    for fmt in formats:
        pairs += [(f"{fmt} fp32", "keras"), (f"{fmt} int8", f"{fmt} fp32")]
    return pairs + [("shipped int8", "onnx fp32" if "onnx" in formats else "keras")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="results/caltech101", help="results folder with data/manifest.csv")
    parser.add_argument("--source", default="caltech101")
    parser.add_argument("--profile", default="caltech101", help="whose cache folder to use")
    parser.add_argument("--calibration", default="caltech101", help="source whose training split calibrates int8")
    parser.add_argument("--models", nargs="+", default=["paper", "classification"])
    parser.add_argument("--formats", nargs="+", default=["onnx"], choices=["onnx", "openvino", "litert"])
    parser.add_argument("--limit", type=int, default=None, help="the first N test images only")
    args = parser.parse_args()

    from colorization.export.calibration import calibration_set
    from colorization.vividness import default_of

    views = test_views(args.data, args.source, args.profile, args.limit)
    calibration = calibration_set(args.calibration)
    print(f"{len(views)} test images of {args.source}; int8 calibrated on {len(calibration.relpaths)} training images")
    print(f"{'model':15} {'version':14} {'PSNR':>8} {'AuC':>8} {'dPSNR':>8} {'dAuC':>8}  within bounds")
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            models = versions(name, args.formats, calibration, Path(work))
            vividness = default_of(models["keras"])
            measured = {version: scores(model, views, vividness) for version, model in models.items()}
            for version, reference in comparisons(args.formats):
                if version in measured:
                    print(line(name, version, measured, reference), flush=True)


def line(name: str, version: str, measured: dict, reference: str | None) -> str:
    """One row of the table: the version's scores and, against ``reference``, the differences and the verdict."""
    m = measured[version]
    text = f"{name:15} {version:14} {m['psnr']:8.3f} {m['auc']:8.4f}"
    if reference:
        d = {k: m[k] - measured[reference][k] for k in BOUNDS}
        ok = all(abs(d[k]) <= BOUNDS[k] for k in BOUNDS)
        text += f" {d['psnr']:+8.3f} {d['auc']:+8.4f}  {ok} (against {reference})"
    return text


if __name__ == "__main__":
    main()
