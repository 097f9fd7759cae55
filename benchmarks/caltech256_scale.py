"""The paper profile's training at Caltech-256's size, end to end, on a Caltech-101 stand-in (issue 18).

Caltech-256 cannot be fetched here, so its size is made from Caltech-101 (every colour image,
seed-0 80/10/10 split per category): the train and val splits are cycled to Caltech-256's
24,486 / 3,061 images (colorization.data.stand_in; the same pixels several times: a test of
speed and memory, never of accuracy). Then, timed stage by stage:

  prepare   scan + inspect the raw folder, the manifest, the decoded 256x256 cache
  stand-in  the cycled train/val sets written as .npy files (memory-mapped by training)
  train     configs/caltech256.yaml (the paper profile's recipe), data: npy; ``--placement``
            device (uploaded once) or host (streamed from the memory-mapped files by the loop's
            gather threads, as data that does not fit the GPU would be)
  evaluate  the trained model on the Caltech-101 test split (not cycled): model, gray, mean ab

Printed: seconds per stage and in all, training images/s (steady and with validation and
checkpoints, from run.json) and the test PSNR/AuC. Needs a GPU to be quick (KERAS_BACKEND=jax);
``--epochs 1 --count-scale 0.01 --source sample`` runs it in minutes on a CPU as a check.

Run:  KERAS_BACKEND=jax python benchmarks/caltech256_scale.py --work /tmp/c256 [--placement device|host]
          [--epochs N] [--source caltech101] [--count-scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def prepare(source_name: str, work: Path):
    """Manifest and cache of every usable image of the source (seed 0, 80/10/10)."""
    from colorization import data

    source = data.get_source(source_name)
    manifest = data.build_manifest(source, seed=0)
    data.write_manifest(manifest, work / "manifest.csv")
    return data.build_cache(manifest, work / "cache", progress=True)


def stand_in(cache, work: Path, scale: float) -> dict[str, Path]:
    """The cycled train and val sets as .npy files; their paths."""
    from colorization.data.stand_in import CALTECH256_SPLITS, write_cycled

    paths = {}
    for split in ("train", "val"):
        count = max(1, round(CALTECH256_SPLITS[split] * scale))
        paths[split] = write_cycled(cache.images, cache.rows(split), count, work / f"stand_in_{split}.npy")
        print(f"stand-in {split}: {count} images cycled from {len(cache.rows(split))}", flush=True)
    return paths


def train_paper(paths: dict, work: Path, args) -> Path:
    """configs/caltech256.yaml on the stand-in; the trained model's path."""
    from colorization.training import load_config, train

    overrides = {
        "data": "npy",
        "train_path": str(paths["train"]),
        "val_path": str(paths["val"]),
        "output_dir": str(work / "train"),
        "data_placement": args.placement,
    }
    if args.epochs:
        overrides["epochs"] = args.epochs
    if args.loop:
        overrides["loop"] = args.loop
    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "caltech256.yaml", overrides)
    return train(config).model_path


def evaluate_test(source_name: str, work: Path, model_path: Path) -> dict:
    """Mean PSNR and AuC of the trained model and the baselines on the (uncycled) test split."""
    from colorization import data
    from colorization.evaluation import evaluate, load_data

    test = load_data(
        data.get_source(source_name), split="test", manifest=work / "manifest.csv", cache_dir=work / "cache"
    )
    summary = evaluate(test, model_path).summary
    return {
        m: {k: round(v["mean"], 4) for k, v in e["metrics"].items() if k in ("psnr", "auc")}
        for m, e in summary["methods"].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (created)")
    parser.add_argument("--source", default="caltech101", help="the raw data (default caltech101)")
    parser.add_argument("--placement", choices=("device", "host"), default="device")
    parser.add_argument("--loop", choices=("jax_scan", "fit"), help="default: the config's (jax_scan)")
    parser.add_argument("--epochs", type=int, help="default: the config's (100, early stopping)")
    parser.add_argument("--count-scale", type=float, default=1.0, help="fraction of Caltech-256's counts")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    seconds, started = {}, time.perf_counter()

    def timed(name, function, *a):
        t0 = time.perf_counter()
        result = function(*a)
        seconds[name] = round(time.perf_counter() - t0, 1)
        print(f"== {name}: {seconds[name]} s", flush=True)
        return result

    cache = timed("prepare", prepare, args.source, args.work)
    paths = timed("stand-in", stand_in, cache, args.work, args.count_scale)
    model_path = timed("train", train_paper, paths, args.work, args)
    scores = timed("evaluate", evaluate_test, args.source, args.work, model_path)
    run = json.loads((args.work / "train" / "run.json").read_text())
    session = run["sessions"][-1]
    report = {
        "stand_in": "Caltech-101 cycled to Caltech-256's split sizes (speed and memory only)",
        "seconds": seconds,
        "total_seconds": round(time.perf_counter() - started, 1),
        "devices": run.get("devices"),
        "epochs": run.get("epochs_completed"),
        "images_per_s": {k: round(session.get(k) or 0) for k in ("steady_images_per_s", "steady_wall_images_per_s")},
        "test": scores,
    }
    (args.work / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
