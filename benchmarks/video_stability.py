"""Temporal stability of the video colorization on synthesized film (issue 15).

Prints, for each synthesized clip (colorization.video.synthetic: pan, zoom, rotate and the static
grain-only shot, plain and as old film, and a pan with a scene cut to another photograph) and each
temporal method (colorization.video.temporal), the table of colorization.evaluation.temporal.compare_methods
(CDC, warping error, PSNR, AuC, mean frame-to-frame |delta ab|, cuts found), then the ratios flow / frame
with the PSNR difference, the static shots' |delta ab|, and the method choose_default picks.
Target: on the pans flow lowers CDC and warping error by >= 30 % at <= 0.1 dB PSNR cost; on the
static grain-only shot the output's ab is steady.

--sweep adds flow's settings to the methods: alpha 0.5-0.9 (a colour must be able to change:
alpha**25 <= 0.1 keeps a step's response within one second at 25 fps, so alpha <= 0.91) and the
flow algorithms, to choose the defaults by the same rule.

Run:  .venv/bin/python benchmarks/video_stability.py [--seconds 2] [--photos astronaut coffee] [--sweep]
      [--jobs N] [--csv table.csv] [--weights FILE]     (default: the shipped paper model; --jobs: clips in
      parallel processes; --weights: another network, e.g. an int8 export, scored by the same rule)
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # several processes share one GPU under JAX

KINDS = ("pan", "zoom", "rotate", "static")
ALPHAS = (0.5, 0.6, 0.7, 0.8, 0.9)
FLOWS = ("dis-fast", "dis-medium", "farneback")
GROUPS = {"pans (the target)": " pan", "pans, old film": " pan old film", "static grain-only shots": " static"}


def methods(sweep: bool) -> dict[str, dict]:
    """The methods compared: frame and flow at their defaults, and with --sweep flow's settings."""
    from colorization.video.temporal import ALPHA, FLOW, METHODS

    chosen = {name: {"method": name} for name in METHODS}
    if sweep:
        chosen |= {f"flow alpha={a}": {"method": "flow", "alpha": a} for a in ALPHAS if a != ALPHA}
        chosen |= {f"flow {f}": {"method": "flow", "flow": f} for f in FLOWS if f != FLOW}
    return chosen


def clip_specs(photos, seconds: float) -> list[tuple[str, str, bool, str]]:
    """(name, kind, old film, photo) of every clip; kind "cut" is a pan that cuts to the next photo."""
    specs = [(f"{photo} {kind}{' old film' if old else ''}", kind, old, photo)
             for photo in photos for kind in KINDS for old in (False, True)]  # fmt: skip
    return specs + [(f"{photo} pan cut", "cut", False, photo) for photo in photos]


def make_clip(kind: str, old: bool, photo: str, seconds: float, seed: int, photos):
    from colorization.video.synthetic import clip_with_truth

    if kind != "cut":
        return clip_with_truth(kind, seconds=seconds, seed=seed, old_film=old, photo=photo)
    other = photos[(photos.index(photo) + 1) % len(photos)] if len(photos) > 1 else "rocket"
    other = "rocket" if other == photo else other
    half = seconds / 2
    return itertools.chain(clip_with_truth("pan", half, photo=photo), clip_with_truth("pan", half, photo=other))


def score(spec, seconds: float, seed: int, photos, sweep: bool, weights: str | None = None) -> pd.DataFrame:
    """One clip's rows (a worker's task: loads the model once per process)."""
    from colorization.evaluation.temporal import compare_methods

    name, kind, old, photo = spec
    clip = make_clip(kind, old, photo, seconds, seed, photos)
    return compare_methods(model(weights), {name: clip}, methods(sweep))


@functools.cache
def model(weights: str | None = None):
    """The network in ``weights`` (default: the shipped paper model), loaded once per process."""
    import colorization as cz

    return cz.load_weights(weights)


def report(table: pd.DataFrame) -> None:
    from colorization.evaluation.temporal import choose_default, ratios

    with pd.option_context("display.width", 200, "display.max_rows", 1000, "display.max_columns", 20):
        print(table.round(5).to_string(index=False))
        print("\nflow / frame, per clip (psnr_difference in dB):")
        print(ratios(table).round(3).to_string(index=False))
        means = table.groupby("method", sort=False)[["cdc", "warping_error", "psnr", "auc", "frame_change"]].mean()
        print("\nmeans over all clips:")
        print(means.round(5).to_string())
        for group, ending in GROUPS.items():
            part = ratios(table[table["clip"].str.endswith(ending)])
            print(f"\n{group}: mean ratios to frame by frame")
            print(part.groupby("method", sort=False)[part.columns[2:]].mean().round(3).to_string())
        static = table[table["clip"].str.contains("static")]
        print("\nstatic shots, mean frame-to-frame |delta ab| (Lab units):")
        print(static.pivot(index="clip", columns="method", values="frame_change").round(3).to_string())
    print(f"\nchoose_default: {choose_default(table)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--photos", nargs="+", default=["astronaut", "coffee"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true", help="also flow at other alphas and flow algorithms")
    parser.add_argument("--jobs", type=int, default=1, help="clips scored in parallel processes")
    parser.add_argument("--csv", help="also write the table here")
    parser.add_argument("--weights", help="the network: a .keras or .onnx file (default: the shipped paper model)")
    args = parser.parse_args(argv)
    specs = clip_specs(args.photos, args.seconds)
    start = time.perf_counter()
    task = (args.seconds, args.seed, args.photos, args.sweep, args.weights)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            parts = list(pool.map(score, specs, *(itertools.repeat(value) for value in task)))
    else:
        parts = [score(spec, *task) for spec in specs]
    table = pd.concat(parts, ignore_index=True)
    print(f"{len(specs)} clips of {args.seconds} s, {len(table)} rows, in {time.perf_counter() - start:.0f} s\n")
    if args.csv:
        table.to_csv(args.csv, index=False)
    report(table)


if __name__ == "__main__":
    main()
