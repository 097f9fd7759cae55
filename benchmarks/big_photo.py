"""A 12-megapixel photo end to end, and the cold start of a one-image CLI call, with exported (ONNX) networks.

Issue 16's targets: 12 MP end to end <= 0.5 s with peak RSS <= 1.0 GB (fastest runtime), and
`colorization colorize one.jpg -o out/ --weights FILE.onnx` <= 1.5 s from a cold process.

For each .onnx file (default: `colorization export paper` at fp32 and int8, made here), in a fresh
process each, with the model loaded and warmed up first:

  * stages: decode (load_image), network (the 256x256 view + ONNX Runtime + decoding ab),
    render (upsample + recombine, whole image), PNG (encode + write of that image), best of --repeats;
  * "before": the same photo through the code as it was before the strip pipeline
    (benchmarks/big_photo_before.py: whole-image render, then whole-image PNG), and "now":
    decode + network + Prediction.save_png (render, filter, deflate and write overlapped band by
    band); the ratio before / now of both, measured in the same process;
  * peak RSS (VmHWM) of each flow, in a process of its own, and its growth over the loaded model;
  * wall seconds and CPU seconds (all threads): other work on a shared machine disturbs the CPU
    figures less.

Then the cold start: `python -m colorization.cli colorize` of one 512x512 JPEG and of the 12-MP JPEG
with each .onnx file, best and median of --repeats fresh processes, from outside.

Run:  .venv/bin/python benchmarks/big_photo.py [--weights a.onnx b.onnx] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def machine() -> str:
    """CPU model, cores and the load average (a busy machine's wall times are noisy)."""
    model = platform.processor() or platform.machine()
    try:
        done = subprocess.run(["lscpu"], capture_output=True, text=True, check=True)
        model = next(line.split(":", 1)[1].strip() for line in done.stdout.splitlines() if "Model name" in line)
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load}"


def memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(step, repeats: int) -> tuple[float, float, object]:
    """Best wall and best CPU seconds of ``repeats`` calls of ``step``, and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def child(weights: str, photo: str, flow: str, repeats: int) -> dict:
    """In a fresh process: load + warm the model, reset the peak, run ``flow``; its figures."""
    sys.path.insert(0, str(HERE))
    import big_photo_before as before

    from colorization.colorize import network_view, predict_ab, predict_batch
    from colorization.fast import png, recombine
    from colorization.io.images import load_image
    from colorization.weights import load_weights

    model = load_weights(weights)
    predict_ab(model, np.zeros((1, 256, 256, 3), np.uint8))
    out = Path(photo).with_suffix(f".{flow}.png")
    Path("/proc/self/clear_refs").write_text("5")
    before_mb, figures = memory_mb("VmRSS"), {}
    if flow == "stages":
        figures["decode"] = timed(lambda: load_image(photo), repeats)[:2]
        image = load_image(photo)
        figures["network"] = timed(lambda: predict_ab(model, network_view(image.rgb)[None])[0], repeats)[:2]
        ab = predict_ab(model, network_view(image.rgb)[None])[0]
        *figures["render"], rgb = timed(lambda: recombine.render(image.rgb, ab), repeats)
        figures["png"] = timed(lambda: out.write_bytes(png.encode_png(rgb)), repeats)[:2]
        *figures["render before"], old_rgb = timed(lambda: before.render(image.rgb, ab), repeats)
        figures["png before"] = timed(lambda: out.write_bytes(before.encode_png(old_rgb)), repeats)[:2]
        figures["max code difference"] = int(np.abs(rgb.astype(np.int16) - old_rgb).max())
    elif flow == "now":
        (prediction,) = predict_batch(model, [load_image(photo)])
        figures["end to end"] = timed(lambda: prediction.save_png(out, overwrite=True), 1)[:2]
    else:  # before: whole-image render, then whole-image PNG
        image = load_image(photo)
        ab = predict_ab(model, network_view(image.rgb)[None])[0]
        figures["end to end"] = timed(lambda: out.write_bytes(before.encode_png(before.render(image.rgb, ab))), 1)[:2]
    return {"before_mb": before_mb, "peak_mb": memory_mb("VmHWM"), **figures}


def run_child(weights: Path, photo: Path, flow: str, repeats: int) -> dict:
    command = [sys.executable, __file__, "--child", str(weights), str(photo), flow, str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def end_to_end(weights: Path, photo: Path) -> tuple[float, dict]:
    """Wall seconds and peak RSS (MB) of the whole flow, decode included, in a fresh process per flow."""
    results = {}
    for flow in ("before", "now"):
        start = time.perf_counter()
        results[flow] = run_child(weights, photo, flow, 1)
        results[flow]["process seconds"] = time.perf_counter() - start
    return results


def cold_start(weights: Path, photo: Path, out: Path, repeats: int) -> list[float]:
    """Wall seconds of `colorization colorize PHOTO -o OUT --weights W` in fresh processes."""
    argv = [sys.executable, "-m", "colorization.cli", "colorize", str(photo), "-o", str(out), "--weights", str(weights)]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([*argv, "--overwrite", "-q"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def make_photos(folder: Path) -> tuple[Path, Path]:
    """The 12-MP JPEG (scikit-image's astronaut upscaled to 4000x3000, plus grain) and the 512x512 original."""
    from PIL import Image
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    small = folder / "one.jpg"
    photo.save(small, quality=92)
    grain = np.random.default_rng(0).normal(0, 6, (3000, 4000, 1))
    pixels = np.asarray(photo.resize((4000, 3000), Image.Resampling.BICUBIC)) + grain
    big = folder / "photo_12mp.jpg"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(big, quality=92)
    return small, big


def exported(folder: Path) -> list[Path]:
    """`colorization export paper` at fp32 and int8 into ``folder``."""
    paths = []
    for precision in ("fp32", "int8"):
        path = folder / f"paper-{precision}.onnx"
        command = [sys.executable, "-m", "colorization.cli", "export", "paper", "-o", str(path), "-q"]
        subprocess.run([*command, "--precision", precision], capture_output=True, check=True)
        paths.append(path)
    return paths


def report(weights: Path, stages: dict, flows: dict, starts: dict[str, list[float]]) -> None:
    print(f"\n{weights.name}")
    for name in ("decode", "network", "render", "png", "render before", "png before"):
        wall, cpu = stages[name]
        print(f"  {name:<16} {wall * 1000:7.0f} ms wall {cpu * 1000:7.0f} ms cpu")
    print(f"  render+PNG now / before: {stages['max code difference']} code(s) apart at most")
    for flow, figures in flows.items():
        wall, cpu = figures["end to end"]
        print(
            f"  {flow:<6} render+PNG+write {wall * 1000:6.0f} ms wall {cpu * 1000:6.0f} ms cpu; "
            f"peak RSS {figures['peak_mb']:6.0f} MB (+{figures['peak_mb'] - figures['before_mb']:.0f} over the model)"
        )
    (wall_b, cpu_b), (wall_n, cpu_n) = flows["before"]["end to end"], flows["now"]["end to end"]
    print(f"  ratio before / now: wall {wall_b / wall_n:.2f}x, cpu {cpu_b / cpu_n:.2f}x")
    decode_network = sum(stages[name][0] for name in ("decode", "network"))
    print(f"  12 MP end to end (decode + network + overlapped render/PNG/write): {decode_network + wall_n:.2f} s")
    for name, times in starts.items():
        print(f"  cold start, {name}: best {min(times):.2f} s, median {statistics.median(times):.2f} s")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--weights", nargs="+", type=Path, metavar="ONNX", help="exported networks (default: made here)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small, big = make_photos(folder)
        for weights in args.weights or exported(folder):
            stages = run_child(weights, big, "stages", args.repeats)
            flows = end_to_end(weights, big)
            starts = {
                "one 512x512 JPEG": cold_start(weights, small, folder / "out", args.repeats),
                "the 12-MP JPEG": cold_start(weights, big, folder / "out", args.repeats),
            }
            report(weights, stages, flows, starts)
    print(f"\nmachine after the run: {machine()}")


if __name__ == "__main__":
    main()
