"""Peak memory of colorizing the worst shapes the pixel guard admits, in both modes.

The rule under test (colorization/io/images.py): decoding, colorizing and saving an image
of N pixels peaks at most PEAK_BYTES_PER_PIXEL * N bytes above what the process held
before, in either mode, whatever the image's shape; a batch is bounded by its pixels added up.

Each case runs in a fresh Python process. This process first writes the case's image
file(s); the child then builds the paper's network (random weights: they change no
memory), warms it up on a batch of the case's size, resets its peak-RSS counter
(/proc/self/clear_refs) and notes its resident memory, then loads, colorizes and saves the
image(s) as the CLI does (``predict_batch``, then ``Prediction.save_png``: rendered and written
band by band), and reports its peak
(VmHWM). A watchdog kills a child that grows past --limit-gb, so a regression cannot
take the machine down. The baseline is a 256x256 image, measured in the same run.

Printed per case: the peak RSS (MB), its growth over the child's state before the image,
the growth beyond the baseline's per source pixel beyond the baseline's ("B/px", to compare
with PEAK_BYTES_PER_PIXEL), the ratios of peak and growth to the baseline's, and whether
growth <= baseline growth + PEAK_BYTES_PER_PIXEL * pixels ("in rule").

Run:  .venv/bin/python benchmarks/memory_peak.py [--megapixels 200] [--only square strip-wide ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class Case:
    name: str
    mode: str
    shapes: list[tuple[int, int]]  # (height, width) of each image of one colorize_batch call
    kind: str = "rgb"  # rgb: 8-bit RGB PNG; gray8 / gray16: gray PNG; jpeg: 8-bit RGB JPEG

    @property
    def pixels(self) -> int:
        return sum(h * w for h, w in self.shapes)


# Pillow's decoders take rows of at most 2**31 bits: the widest RGB row is ~89.4 megapixels
# (wider files get a one-line ImageError), the widest 8-bit gray row ~268 megapixels.
WIDEST_RGB_ROW = 89_000_000


def cases(budget: int) -> list[Case]:
    """The worst shapes the guard admits for a pixel ``budget`` (the guard itself by default)."""
    side = math.isqrt(budget)
    quarter = math.isqrt(budget // 4)
    found = [Case("baseline", mode, [(256, 256)]) for mode in ("full", "paper")]
    for mode in ("full", "paper"):
        found += [
            Case("strip-wide", mode, [(1, min(budget, WIDEST_RGB_ROW))]),
            Case("strip-wide-L", mode, [(1, budget)], "gray8"),
            Case("strip-tall", mode, [(budget, 1)]),
            Case("square", mode, [(side, side)]),
            Case("batch-4", mode, [(quarter, quarter)] * 4),
        ]
    found += [
        Case("jpeg-65500x1", "paper", [(1, 65500)], "jpeg"),
        Case("gray16-square", "full", [(side, side)], "gray16"),
    ]
    return found


def write_image(path: Path, shape: tuple[int, int], kind: str) -> None:
    """A colourful smooth pattern of ``shape`` as a file (PNG by our fast encoder; 16-bit gray and JPEG by Pillow)."""
    from PIL import Image

    from colorization.fast.png import encode_png

    height, width = shape
    rows = (np.arange(height) % 251).astype(np.uint8)[:, None]
    cols = (np.arange(width) % 241).astype(np.uint8)[None, :]
    level = rows + cols  # uint8, wraps: a repeating diagonal pattern
    if kind.startswith("gray"):
        Image.fromarray(level if kind == "gray8" else level.astype(np.uint16) * 257).save(path)
        return
    rgb = np.stack([level, rows * np.uint8(3) + cols, np.uint8(255) - level], axis=-1)
    if kind == "jpeg":
        Image.fromarray(rgb).save(path, quality=90)
    else:
        path.write_bytes(encode_png(rgb))


def child(paths: list[str], mode: str) -> None:
    """In a fresh process: model, warm-up, reset the peak, then decode + colorize + save; print JSON."""
    import gc

    from colorization.colorize import predict_ab, predict_batch
    from colorization.io.images import load_image
    from colorization.model import build_paper_model

    model = build_paper_model()
    predict_ab(model, np.zeros((len(paths), 256, 256, 3), np.uint8))
    gc.collect()
    reset = reset_peak()
    before = memory_mb("VmRSS")
    start = time.perf_counter()
    images = [load_image(path) for path in paths]
    for path, prediction in zip(paths, predict_batch(model, images, mode), strict=True):
        prediction.save_png(Path(path).with_suffix(".out.png"))
    seconds = time.perf_counter() - start
    print(json.dumps({"before_mb": before, "peak_mb": memory_mb("VmHWM"), "reset": reset, "seconds": seconds}))


def reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memory_mb(field: str, pid: str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_child(paths: list[Path], mode: str, limit_mb: float) -> dict:
    """Run :func:`child` in a fresh process, killed if its RSS passes ``limit_mb``."""
    command = [sys.executable, __file__, "--child", mode, *map(str, paths)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    killed = threading.Event()

    def watch() -> None:
        while process.poll() is None:
            try:
                if memory_mb("VmRSS", str(process.pid)) > limit_mb:
                    killed.set()
                    process.kill()
            except OSError:
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    output, _ = process.communicate()
    if killed.is_set():
        return {"error": f"killed: resident memory passed {limit_mb:.0f} MB"}
    if process.returncode:
        return {"error": f"exit status {process.returncode}"}
    return json.loads(output.strip().splitlines()[-1])


def measure(case: Case, folder: Path, limit_mb: float) -> dict:
    suffix = {"jpeg": ".jpg"}.get(case.kind, ".png")
    paths = [folder / f"{case.name}-{i}{suffix}" for i in range(len(case.shapes))]
    for path, shape in zip(paths, case.shapes, strict=True):
        write_image(path, shape, case.kind)
    try:
        return run_child(paths, case.mode, limit_mb)
    finally:
        for path in folder.iterdir():
            path.unlink()


def report(case: Case, result: dict, baseline: dict | None, bound: int) -> str:
    """One table row; the baseline (256x256, same mode, same run) gives the fixed overhead."""
    count = len(case.shapes)
    shape = f"{case.shapes[0][1]}x{case.shapes[0][0]}" + (f" (x{count})" if count > 1 else "")
    head = f"{case.name:<14} {case.mode:<6} {shape:<22} {case.pixels / 1e6:>8.2f}"
    if "error" in result:
        return f"{head}  {result['error']}"
    growth = result["peak_mb"] - result["before_mb"]
    base = baseline or result
    base_growth = base["peak_mb"] - base["before_mb"]
    extra_pixels = max(case.pixels - 256 * 256, 1)
    per_pixel = max(growth - base_growth, 0.0) * 2**20 / extra_pixels
    within = growth <= base_growth + bound * case.pixels / 2**20
    return (
        f"{head} {result['peak_mb']:>9.0f} {growth:>9.0f} {per_pixel:>8.2f} {result['peak_mb'] / base['peak_mb']:>9.2f}"
        f" {growth / max(base_growth, 1.0):>11.1f} {'yes' if within else 'NO':>7} {result['seconds']:>7.1f}"
    )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[3:], sys.argv[2])
        return
    from colorization.io.images import MAX_PIXELS, PEAK_BYTES_PER_PIXEL

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, default=MAX_PIXELS / 1e6, help="pixel budget of the cases")
    parser.add_argument("--only", nargs="+", metavar="CASE", help="run only these cases (and the baseline)")
    parser.add_argument("--limit-gb", type=float, default=16.0, help="kill a case whose RSS passes this")
    args = parser.parse_args()
    budget = int(args.megapixels * 1e6)
    print(f"pixel budget {budget:,} (guard MAX_PIXELS = {MAX_PIXELS:,}); rule: growth <= {PEAK_BYTES_PER_PIXEL} B/px")
    print(
        f"{'case':<14} {'mode':<6} {'image (WxH)':<22} {'MP':>8} {'peak MB':>9} {'growth':>9} {'B/px':>8}"
        f" {'peak/base':>9} {'growth/base':>11} {'in rule':>7} {'seconds':>7}"
    )
    baselines: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for case in cases(budget):
            if args.only and case.name not in args.only and case.name != "baseline":
                continue
            result = measure(case, Path(folder), args.limit_gb * 1024)
            if case.name == "baseline":
                baselines[case.mode] = result
            print(report(case, result, baselines.get(case.mode), PEAK_BYTES_PER_PIXEL), flush=True)


if __name__ == "__main__":
    main()
