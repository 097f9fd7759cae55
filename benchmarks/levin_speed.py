"""Speed and memory of Levin et al.'s colorization (colorization.hints.levin) on this machine's CPU.

Prints:
  * seconds for the 256x256 network view of a photo (``levin_ab_for_image``) with 10, 100 and 500
    hints drawn by the protocol's user (``hints_from_truth``): the first call in the process, the
    best and median wall time and the median CPU time of the repeats after it, and one call's
    parts (affinities and system, factorization, solve);
  * the choice of ordering: factorization seconds and fill (nonzeros of L + U) of the same 256x256
    system in nested-dissection order (the package's) and in SuperLU's own orderings;
  * full-resolution solves of the photo's lightness at a few sizes (``levin_colorize``), each in a
    fresh process: seconds and peak resident memory (VmHWM) above the process's state before the solve;
    and the 12-megapixel figure extrapolated from the largest size by n log n (not run: over the guard).

Target (issue 17): <= 0.5 s on a 256x256 view on the 2-core CI machine.

Run:  .venv/bin/python benchmarks/levin_speed.py [--repeats 5] [--sizes 512 768 1024 | --sizes]
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def peak_memory_mb() -> float:
    """This process's peak resident memory, MB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def photo(size: int | None = None) -> np.ndarray:
    """scikit-image's astronaut (512x512), resized to size x size when given."""
    from skimage import data

    from colorization.io.preprocess import resize

    image = data.astronaut()
    return image if size is None else resize(image, (size, size), "bicubic")


def timed(function, clock=time.perf_counter) -> float:
    """Seconds one call of ``function`` takes on ``clock`` (wall time by default)."""
    start = clock()
    function()
    return clock() - start


def view_runs(repeats: int) -> None:
    from colorization.hints import hints_from_truth
    from colorization.hints.levin import levin_ab_for_image

    image = photo()
    print("\n256x256 view (levin_ab_for_image), seconds")
    print("(CPU: this process's CPU seconds, less disturbed than wall time when other work shares the cores)")
    header = f"{'hints':>6} {'first call':>11} {'best':>6} {'median':>8} {'median CPU':>11}"
    print(f"{header} {'affinities+system':>18} {'factorize':>10} {'solve':>6}")
    for n in (10, 100, 500):
        hints = hints_from_truth(image, n, seed=0)
        run = functools.partial(levin_ab_for_image, image, hints)
        first = timed(run)
        walls = [timed(run) for _ in range(repeats)]
        cpu = statistics.median(timed(run, time.process_time) for _ in range(repeats))
        parts = stage_times(image, hints)
        row = f"{n:>6} {first:>11.3f} {min(walls):>6.3f} {statistics.median(walls):>8.3f} {cpu:>11.3f}"
        print(f"{row} {parts[0]:>18.3f} {parts[1]:>10.3f} {parts[2]:>6.3f}")


def view_system(image, hints):
    """The 256x256 system of ``levin_ab_for_image``: (matrix, rhs)."""
    from colorization.fast import lab_lut
    from colorization.hints import hint_planes
    from colorization.hints.levin import affinities, levin_system
    from colorization.io.preprocess import resize

    lightness = lab_lut.lightness(resize(image, (256, 256), "bicubic")).astype(np.float64)
    planes = hint_planes(hints, image.shape)
    hinted = planes[..., 2] == 1
    ab = np.where(hinted[..., None], planes[..., :2], 0).astype(np.float64)
    matrix, rhs, _ = levin_system(affinities(lightness / 100.0), hinted, ab)
    return matrix, rhs


def stage_times(image, hints) -> tuple[float, float, float]:
    from colorization.hints.levin import factorize

    start = time.perf_counter()
    matrix, rhs = view_system(image, hints)
    built = time.perf_counter()
    factor = factorize(matrix)
    factored = time.perf_counter()
    factor.solve(rhs)
    return built - start, factored - built, time.perf_counter() - factored


def ordering_runs() -> None:
    import scipy.sparse.linalg

    from colorization.hints import hints_from_truth
    from colorization.hints.levin import factorize

    image = photo()
    matrix, rhs = view_system(image, hints_from_truth(image, 100, seed=0))
    print("\nordering of the 256x256 system (100 hints): factorization + solve")
    print(f"{'ordering':>28} {'seconds':>8} {'fill (nnz L+U)':>15}")
    runs = {"nested dissection (ours)": lambda: factorize(matrix)}
    for spec in ("COLAMD", "MMD_AT_PLUS_A", "MMD_ATA"):
        runs[f"SuperLU {spec}"] = lambda spec=spec: scipy.sparse.linalg.splu(matrix, permc_spec=spec)
    for name, make in runs.items():
        start = time.perf_counter()
        factor = make()
        factor.solve(rhs)
        print(f"{name:>28} {time.perf_counter() - start:>8.3f} {factor.L.nnz + factor.U.nnz:>15,}")


def full_run(size: int) -> None:
    """One full-resolution solve of the photo's lightness at size x size; prints 'seconds growth_mb'."""
    from colorization.fast import lab_lut
    from colorization.hints import hints_from_truth
    from colorization.hints.levin import levin_colorize, nested_dissection

    image = photo(size)
    lightness, hints = lab_lut.lightness(image), hints_from_truth(image, 100, seed=0)
    nested_dissection(size, size)
    before = peak_memory_mb()
    seconds = timed(lambda: levin_colorize(lightness, hints))
    print(f"{seconds:.3f} {peak_memory_mb() - before:.1f}")


def full_runs(sizes: list[int]) -> None:
    print("\nfull resolution (levin_colorize, 100 hints), each in a fresh process")
    print(f"{'size':>10} {'megapixels':>11} {'seconds':>8} {'peak growth MB':>15}")
    measured = []
    for size in sizes:
        result = subprocess.run(
            [sys.executable, __file__, "--full", str(size)], check=True, capture_output=True, text=True
        )
        seconds, growth = (float(v) for v in result.stdout.split())
        measured.append((size * size, growth))
        print(f"{f'{size}x{size}':>10} {size * size / 1e6:>11.2f} {seconds:>8.2f} {growth:>15.0f}")
    pixels, growth = measured[-1]
    target = 4000 * 3000
    estimate = growth * target * math.log(target) / (pixels * math.log(pixels))
    print(f"12 MP (4000x3000), extrapolated by n log n from {pixels / 1e6:.2f} MP: ~{estimate / 1024:.0f} GB (not run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[512, 768, 1024], help="full-resolution sides (none: skip them)"
    )
    parser.add_argument("--full", type=int, metavar="SIZE", help=argparse.SUPPRESS)  # the child of full_runs
    args = parser.parse_args()
    if args.full:
        full_run(args.full)
        return
    import scipy

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; scipy {scipy.__version__}")
    view_runs(args.repeats)
    ordering_runs()
    if args.sizes:
        full_runs(args.sizes)


if __name__ == "__main__":
    main()
