"""Exported networks against Keras on this machine's CPU, all measured in one run (issue 16).

Cases, each timed in a fresh process (so that each has its own peak memory), at each batch size:

  keras predict     bare Keras: ``load_weights()`` then ``model.predict(scaled L)``, the network alone (baseline)
  package keras     the package's Keras path: XLA-compiled as the CLI does, ``predict_ab`` (input and ab decoding too)
  onnx fp32 / int8  the exported file through ONNX Runtime, the same ``predict_ab``

Printed: ms per 256x256 image (best of --repeats calls, then the best of --rounds processes, the
rounds interleaving the cases so that a busy machine slows them alike), the ratio to bare Keras
(> 1: faster), and the process's peak resident memory. Then the cold start of a one-image colorization
(process start to the PNG written): ``colorization colorize --weights FILE`` for the .keras file, and for
the .onnx file the same command if ``load_weights`` takes .onnx files, otherwise the Python path
(``load_onnx`` -> ``colorize`` -> ``save_png``), which the command would run.

Run:  .venv/bin/python benchmarks/export_speed.py [--model paper] [--batch-sizes 1 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from inference_speed import best_of, peak_memory_mb  # the same timing rules as the Keras benchmark

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
CASES = ("keras predict", "package keras", "onnx fp32", "onnx int8")


def sample_views(batch: int) -> np.ndarray:
    """``batch`` 256x256 network views of the sample photographs (repeated as needed)."""
    from colorization.colorize import network_view
    from colorization.data.sources import SampleSource
    from colorization.io.images import load_image

    records = sorted(SampleSource().records(), key=lambda record: record.relpath)
    return np.stack([network_view(load_image(records[i % len(records)].path).rgb) for i in range(batch)])


def time_case(case: str, model_name: str, files: dict, batch: int, repeats: int) -> dict:
    """One case in this process: ms per image and peak memory."""
    from colorization.colorize import network_input, predict_ab

    views = sample_views(batch)
    if case.startswith("onnx"):
        from colorization.export.runtime import load_onnx

        model = load_onnx(files[case.split()[1]])
        seconds = best_of(lambda: predict_ab(model, views), repeats)
    else:
        from colorization.weights import load_weights

        model = load_weights(name=model_name)
        if case == "keras predict":
            x = network_input(views)
            seconds = best_of(lambda: model.predict(x, batch_size=batch, verbose=0), repeats)
        else:
            model.compile(jit_compile=True)  # as colorization.cli.common.compiled_model
            seconds = best_of(lambda: predict_ab(model, views), repeats)
    return {"ms_per_image": seconds / batch * 1e3, "peak_mb": peak_memory_mb()}


def run_case(case: str, args, files: dict, batch: int) -> dict:
    """:func:`time_case` in a fresh process."""
    command = [sys.executable, __file__, "--case", case, "--model", args.model, "--batch-sizes", str(batch)]
    command += ["--repeats", str(args.repeats), "--files", json.dumps({k: str(v) for k, v in files.items()})]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def export_files(model: str, folder: Path) -> dict[str, Path]:
    """fp32 and int8 (calibrated on the sample set's training split) exports of ``model``."""
    for precision in ("fp32", "int8"):
        target = folder / f"{model}-{precision}.onnx"
        command = ["export", model, "-o", str(target), "--precision", precision, "-q"]
        subprocess.run([sys.executable, "-m", "colorization.cli", *command], check=True, stdout=subprocess.DEVNULL)
    return {precision: folder / f"{model}-{precision}.onnx" for precision in ("fp32", "int8")}


def throughput_table(args, files: dict) -> None:
    results: dict[tuple[str, int], dict] = {}
    for _ in range(args.rounds):
        for batch in args.batch_sizes:
            for case in CASES:
                measured = run_case(case, args, files, batch)
                best = results.setdefault((case, batch), measured)
                best["ms_per_image"] = min(best["ms_per_image"], measured["ms_per_image"])
                best["peak_mb"] = min(best["peak_mb"], measured["peak_mb"])
    print(f"\n256x256 images, {args.model} model, best of {args.repeats} calls x {args.rounds} processes")
    print(f"{'case':<16} {'batch':>5} {'ms/img':>8} {'vs bare Keras':>14} {'peak RSS MB':>12}")
    for batch in args.batch_sizes:
        baseline = results[("keras predict", batch)]["ms_per_image"]
        for case in CASES:
            result = results[(case, batch)]
            ratio = baseline / result["ms_per_image"]
            print(f"{case:<16} {batch:>5} {result['ms_per_image']:>8.1f} {ratio:>13.2f}x {result['peak_mb']:>12.0f}")


ONNX_COLORIZE = """
import sys
from colorization.colorize import colorize
from colorization.export.runtime import load_onnx
from colorization.io.images import save_png
result = colorize(load_onnx(sys.argv[1]), sys.argv[2])
save_png(sys.argv[3], result.rgb, result.alpha, overwrite=True)  # as --overwrite
"""


def cold_start(args, files: dict, weights: Path, folder: Path) -> None:
    """Seconds from process start to the PNG written, for one photo, best of --rounds."""
    from colorization.data.sources import sample_path

    photo = sample_path("coffee.png")
    cli = [sys.executable, "-m", "colorization.cli", "colorize", str(photo), "-q", "--overwrite", "--weights"]
    onnx_by_cli = subprocess.run([*cli, str(files["fp32"]), "-o", str(folder / "probe")], capture_output=True)
    runs = {"keras (colorization colorize)": [*cli, str(weights), "-o", str(folder / "k")]}
    for precision, path in files.items():
        if onnx_by_cli.returncode == 0:
            runs[f"onnx {precision} (colorization colorize)"] = [*cli, str(path), "-o", str(folder / precision)]
        else:
            target = folder / f"{precision}.png"
            runs[f"onnx {precision} (Python path)"] = [sys.executable, "-c", ONNX_COLORIZE, str(path), photo, target]
    print(f"\ncold start: one {photo.name} (600x400) colorized and written, best of {args.rounds}")
    for label, command in runs.items():
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            subprocess.run([str(part) for part in command], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"  {label:<36} {min(times):6.2f} s")


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "unknown CPU",
    )
    flags = Path("/proc/cpuinfo").read_text()
    simd = [name for name in ("avx512_vnni", "avx512f", "avx_vnni", "avx2") if f" {name}" in flags]
    return f"{model}, {os.cpu_count()} cores ({', '.join(simd) or 'no AVX2'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="paper", choices=("paper", "classification"))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", choices=CASES, help="time this one case in this process (used by the run)")
    parser.add_argument("--files", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(time_case(args.case, args.model, json.loads(args.files), args.batch_sizes[0], args.repeats)))
        return
    import onnxruntime

    from colorization.weights import reference_weights

    print(f"machine: {machine()}; onnxruntime {onnxruntime.__version__}")
    with tempfile.TemporaryDirectory() as work:
        files = export_files(args.model, Path(work))
        sizes = ", ".join(f"{p} {path.stat().st_size / 2**20:.1f} MiB" for p, path in files.items())
        print(f"exported {args.model}: {sizes}")
        throughput_table(args, files)
        cold_start(args, files, reference_weights(args.model), Path(work))


if __name__ == "__main__":
    main()
