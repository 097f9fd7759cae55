"""Promote a rerun to the published reference: a deliberate, separate step.

``python -m colorization.repro.publish --profile tiny`` (``make publish``) checks that the run
in ``runs/reproduce/<profile>/`` is complete, makes it portable evidence
(:mod:`colorization.repro.evidence`: no machine paths, no per-run churn, an HTML copy of each
notebook), records each notebook's wall time and the machine, puts it in place of
``results/<profile>/`` in one swap (:mod:`colorization.repro.staging`) and regenerates the
README's results sections. ``make reproduce`` never does this: a reviewer's rerun is only
compared with the reference (:mod:`colorization.repro.verify`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from colorization.io.files import write_text_atomic
from colorization.io.paths import project_root
from colorization.repro import staging
from colorization.repro.evidence import make_portable

REQUIRED = ("evaluate/summary.json", "evaluate/per_image.csv", "analysis/verdicts.csv", "data/manifest.csv")


def check_complete(run: Path, notebooks) -> None:
    """Raise ValueError unless every notebook ran without error and the tables exist."""
    for name in notebooks:
        path = run / f"{name}.ipynb"
        if not path.is_file():
            raise ValueError(f"{path}: missing; the run is incomplete")
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if any(o.get("output_type") == "error" for c in cells for o in c.get("outputs", [])):
            raise ValueError(f"{path}: a cell failed; not published")
    for relative in REQUIRED:
        if not (run / relative).is_file():
            raise ValueError(f"{run / relative}: missing; the run is incomplete")


def record_timings(run: Path, notebooks) -> dict | None:
    """``timings.json`` in ``run``: each notebook's wall time (papermill's, read before the
    notebooks are made portable) and the machine it ran on (the analysis provenance's).
    Nothing is written for notebooks already made portable (no durations left in them)."""
    seconds = {}
    for name in notebooks:
        meta = json.loads((run / f"{name}.ipynb").read_text(encoding="utf-8")).get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None:
            seconds[name] = round(float(meta["duration"]), 1)
    if not seconds:
        return None
    provenance = run / "analysis" / "provenance.json"
    machine = json.loads(provenance.read_text(encoding="utf-8")).get("machine") if provenance.is_file() else None
    record = {"notebook_seconds": seconds, "total_seconds": round(sum(seconds.values()), 1), "machine": machine}
    write_text_atomic(run / "timings.json", json.dumps(record, indent=2) + "\n")
    return record


def publish(profile: str, run: Path, root: Path | None = None) -> Path:
    """Copy ``run`` to ``results/<profile>/`` as portable evidence; return the published folder."""
    from colorization.reporting import readme
    from colorization.repro.pipeline import PIPELINE

    root = root or project_root()
    target = root / "results" / profile
    check_complete(run, PIPELINE)
    with staging.locked(target):
        staging.recover(target)
        folder = target.with_name(f"{staging.STAGING_PREFIX}{profile}-{os.getpid()}")
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(run, folder)
        record_timings(folder, PIPELINE)
        make_portable(folder, root, moved={run: f"./results/{profile}"})
        staging.promote(folder, target)
    readme_path = root / "README.md"
    write_text_atomic(readme_path, readme.update(readme_path.read_text(encoding="utf-8"), root / "results"))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--run", help="the run's results folder (default: runs/reproduce/<profile>)")
    args = parser.parse_args(argv)
    run = Path(args.run) if args.run else project_root() / "runs" / "reproduce" / args.profile
    try:
        target = publish(args.profile, run.resolve())
    except (ValueError, OSError) as error:
        print(f"publish: {error}", file=sys.stderr)
        return 1
    print(f"published {run} as {target}; README results regenerated. Review with `git diff --stat`, then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
