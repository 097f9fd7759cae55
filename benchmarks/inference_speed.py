"""Inference speed and memory on this machine's CPU.

Prints, for the paper's network with the current Keras backend:
  * ms per 256x256 image in batches (network only, and paper mode end to end from arrays);
  * a 12-megapixel JPEG colorized end to end at full resolution
    (decode -> predict -> full-resolution recombine -> PNG encode), stage by stage;
  * the process's peak resident memory after the 12-MP run;
  * the ratio to the paper's 1-2 minutes per 256x256 image.
Targets (issue 2): <= 120 ms per 256x256 image in batches; <= 1.0 s per 12-MP photo;
peak memory < 1.5 GB. Weights do not change the speed, so random weights are used.

Run:  .venv/bin/python benchmarks/inference_speed.py [--repeats 5] [--batch-sizes 1 8 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_of(function, repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls, in seconds (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def make_12mp_jpeg(folder: Path) -> Path:
    """A 4000x3000 JPEG made from a real photograph (scikit-image's astronaut) plus grain."""
    from PIL import Image
    from skimage import data

    photo = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC)
    grain = np.random.default_rng(0).normal(0, 6, (3000, 4000, 1))
    pixels = np.clip(np.asarray(photo) + grain, 0, 255).astype(np.uint8)
    path = folder / "photo_12mp.jpg"
    Image.fromarray(pixels).save(path, quality=92)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument(
        "--photo",
        metavar="JPEG",
        help="only the 12-MP run on this file (the default makes one and runs this in a fresh process)",
    )
    args = parser.parse_args()

    import keras

    from colorization.colorize import colorize_batch, predict_ab
    from colorization.model import build_paper_model

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Keras {keras.__version__} on {keras.backend.backend()}"
    )
    model = build_paper_model()
    model.compile(jit_compile=True)
    rng = np.random.default_rng(0)
    if args.photo:
        photo_run(model, Path(args.photo), args.repeats)
        return

    print("\n256x256 images in batches")
    print(f"{'batch':>6} {'network ms/img':>15} {'paper mode ms/img':>18}")
    from colorization.colorize import as_loaded

    for batch in args.batch_sizes:
        views = rng.integers(0, 256, (batch, 256, 256, 3), dtype=np.uint8)
        network = best_of(lambda views=views: predict_ab(model, views), args.repeats) / batch
        images = [as_loaded(v) for v in views]
        end_to_end = best_of(lambda images=images: colorize_batch(model, images, "paper"), args.repeats) / batch
        print(f"{batch:>6} {network * 1e3:>15.1f} {end_to_end * 1e3:>18.1f}")

    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as folder:
        source = make_12mp_jpeg(Path(folder))
        subprocess.run([sys.executable, __file__, "--photo", str(source), "--repeats", str(args.repeats)], check=True)


def photo_run(model, source: Path, repeats: int) -> None:
    from colorization.colorize import network_view, predict_ab, render
    from colorization.io.images import load_image, save_png

    with tempfile.TemporaryDirectory() as folder:
        rss_before = peak_memory_mb()

        def run_once(index: int) -> dict[str, float]:
            t0 = time.perf_counter()
            image = load_image(source)
            t1 = time.perf_counter()
            ab = predict_ab(model, network_view(image.rgb)[None])[0]
            t2 = time.perf_counter()
            rgb = render(image.rgb, ab)
            t3 = time.perf_counter()
            save_png(Path(folder) / f"out{index}.png", rgb)
            t4 = time.perf_counter()
            return {
                "decode": t1 - t0,
                "network (resize + predict)": t2 - t1,
                "recombine at full resolution": t3 - t2,
                "PNG encode + atomic write": t4 - t3,
                "total": t4 - t0,
            }

        run_once(0)
        best = min((run_once(i + 1) for i in range(repeats)), key=lambda r: r["total"])
    peak = peak_memory_mb()
    print(f"\n12-megapixel JPEG (4000x3000) at full resolution, best of {repeats} (fresh process)")
    for stage, seconds in best.items():
        print(f"  {stage:<30} {seconds * 1e3:8.0f} ms")
    print(
        f"peak resident memory: {peak:.0f} MB in all ({rss_before:.0f} MB before the photo: "
        "Python, TensorFlow and the model)"
    )
    per_image = best["network (resize + predict)"]
    print(
        f"paper: 1-2 minutes per 256x256 image; one image here takes {per_image:.2f} s "
        f"-> {60 / per_image:.0f}x to {120 / per_image:.0f}x faster"
    )


if __name__ == "__main__":
    main()
