"""int8 against fp32 (and fp32 against Keras) on a data set's test split, for both shipped models (issue 16).

Each model is exported to ONNX twice here, fp32 and int8 (int8 calibrated on ``--calibration``'s
training split, 64 images, as ``colorization export`` does), and the three versions (Keras, ONNX fp32,
ONNX int8; and the int8 export shipped in the package, where the registry lists one: the video path's
CPU default) colour the test split's paper crops at the model's registered vividness. Printed per model
and version: mean PSNR and mean AuC (the evaluation's metrics, ``vividness_sweep.sweep_scores``),
the differences int8 - fp32 and fp32 - Keras, and whether int8 is within the issue's bounds
(|delta PSNR| <= 0.1 dB, |delta AuC| <= 0.002).

Run:  .venv/bin/python benchmarks/export_parity.py --data results/caltech101 --source caltech101
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
COMPARED = (("keras", None), ("onnx fp32", "keras"), ("onnx int8", "onnx fp32"), ("shipped int8", "onnx fp32"))


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


def versions(name: str, calibration, folder: Path) -> dict:
    """Keras, ONNX fp32 and ONNX int8 of the shipped model ``name``, and its shipped int8 export if it has one."""
    from colorization.export.onnx import export_model
    from colorization.export.runtime import load_onnx
    from colorization.weights import load_weights, shipped_export

    fp32 = export_model(name, folder / f"{name}-fp32.onnx").path
    int8 = export_model(name, folder / f"{name}-int8.onnx", precision="int8", calibration=calibration).path
    found = {"keras": load_weights(name=name), "onnx fp32": load_onnx(fp32), "onnx int8": load_onnx(int8)}
    shipped = shipped_export(name, "onnx-int8")
    if shipped is not None:
        found["shipped int8"] = load_onnx(shipped)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="results/caltech101", help="results folder with data/manifest.csv")
    parser.add_argument("--source", default="caltech101")
    parser.add_argument("--profile", default="caltech101", help="whose cache folder to use")
    parser.add_argument("--calibration", default="caltech101", help="source whose training split calibrates int8")
    parser.add_argument("--models", nargs="+", default=["paper", "classification"])
    parser.add_argument("--limit", type=int, default=None, help="the first N test images only")
    args = parser.parse_args()

    from colorization.export.calibration import calibration_set
    from colorization.vividness import default_of

    views = test_views(args.data, args.source, args.profile, args.limit)
    calibration = calibration_set(args.calibration)
    print(f"{len(views)} test images of {args.source}; int8 calibrated on {len(calibration.relpaths)} training images")
    print(f"{'model':15} {'version':10} {'PSNR':>8} {'AuC':>8} {'dPSNR':>8} {'dAuC':>8}  within bounds")
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            models = versions(name, calibration, Path(work))
            vividness = default_of(models["keras"])
            measured = {version: scores(model, views, vividness) for version, model in models.items()}
            for version, reference in COMPARED:
                if version not in measured:
                    continue
                m = measured[version]
                line = f"{name:15} {version:10} {m['psnr']:8.3f} {m['auc']:8.4f}"
                if reference:
                    d = {k: m[k] - measured[reference][k] for k in BOUNDS}
                    ok = all(abs(d[k]) <= BOUNDS[k] for k in BOUNDS)
                    line += f" {d['psnr']:+8.3f} {d['auc']:+8.4f}  {ok} (against {reference})"
                print(line, flush=True)


if __name__ == "__main__":
    main()
