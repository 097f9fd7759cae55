"""``make reproduce``: rerun the notebook pipeline and say whether it reproduced the published results.

    python -m colorization.repro.reproduce --profile tiny [--kind cpu|gpu|backend] [--quiet]

1. The pipeline (:mod:`colorization.repro.pipeline`) runs every notebook of the profile into
   ``runs/reproduce/<profile>/`` (ignored by git), never into the published ``results/<profile>/``,
   so a reviewer's checkout stays clean.
2. Profiles whose training needs a GPU (all but ``tiny`` and :data:`TRAINING_PROFILES`) start
   from the published training record: notebook 02 then shows that finished run instead of
   retraining on a CPU, and the verify step says so. Delete ``runs/reproduce/<profile>/train``
   on a GPU machine to retrain. ``caltech101_gpu`` is the same data trained on a GPU from
   scratch by every rerun (``KERAS_BACKEND=jax``).
3. :mod:`colorization.repro.verify` compares the rerun with ``results/<profile>/`` number by
   number and prints its table; the exit status is 1 when something moved beyond tolerance.
   A profile that trains at every rerun is always compared as a ``retrain``
   (:mod:`colorization.repro.retrain`: its network is another one of the same quality, so its
   per-image scores and claim statistics are judged by their means and 95% intervals).

Promoting a rerun to the published reference is the separate ``make publish``
(:mod:`colorization.repro.publish`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from colorization.io.paths import project_root
from colorization.repro import verify

CPU_PROFILES = ("tiny",)  # profiles whose training runs on a CPU in minutes
TRAINING_PROFILES = ("caltech101_gpu",)  # profiles a rerun always trains (on a GPU): never seeded
TRAINING_RECORDS = ("train", "train_classification")


def run_folder(profile: str, root: Path | None = None) -> Path:
    """Where a reviewer's rerun of ``profile`` goes."""
    return (root or project_root()) / "runs" / "reproduce" / profile


def comparison_kind(profile: str, kind: str) -> str:
    """The tolerances a rerun of ``profile`` is verified with: ``retrain`` for a profile that trains
    its own network at every rerun (:mod:`colorization.repro.retrain`), else ``kind``."""
    return "retrain" if profile in TRAINING_PROFILES else kind


def seed_training(profile: str, reference: Path, run: Path) -> list[str]:
    """Copy the published training records into a new rerun of a GPU profile; the names copied."""
    if profile in CPU_PROFILES + TRAINING_PROFILES:
        return []
    copied = []
    for name in TRAINING_RECORDS:
        if (reference / name / "state.json").is_file() and not (run / name).exists():
            shutil.copytree(reference / name, run / name)
            copied.append(name)
    return copied


def main(argv: list[str] | None = None) -> int:
    from colorization.repro import pipeline

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny", help="profile name (default: tiny)")
    parser.add_argument("--kind", choices=sorted(verify.RUN_KINDS), default="cpu", help="tolerances (default: cpu)")
    parser.add_argument("--quiet", action="store_true", help="one line per notebook instead of their output")
    args = parser.parse_args(argv)
    reference = project_root() / "results" / args.profile
    kind = comparison_kind(args.profile, args.kind)
    run = run_folder(args.profile)
    copied = seed_training(args.profile, reference, run)
    if copied:
        print(f"[{args.profile}] training needs a GPU: showing the published run ({', '.join(copied)})", flush=True)
    status = pipeline.main(["--profile", args.profile, "--results-root", str(run.parent)] + ["--quiet"] * args.quiet)
    if status:
        return status
    if not reference.is_dir():
        print(f"reproduce: {reference}: no published reference to compare with; `make publish` makes one")
        return 0
    trained = f"; {args.profile} trains its own network at every rerun" if kind == "retrain" else ""
    print(f"\nVerifying {run} against {reference} ({kind} tolerances{trained}):\n", flush=True)
    status = verify.main(["--profile", args.profile, "--run", str(run), "--kind", kind])
    if status == 0:
        print(f"\nTo make this run the published reference: make publish PROFILE={args.profile}")
    return status


if __name__ == "__main__":
    sys.exit(main())
