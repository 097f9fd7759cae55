"""Every exported runtime x precision against Keras on this machine's CPU, all measured in one run (issue 16).

Cases, each timed in a fresh process (so that each has its own peak memory), at each batch size:

  keras predict       bare Keras: ``load_weights()`` then ``model.predict(scaled L)``, the network alone (baseline)
  package keras       the package's Keras path: XLA-compiled as the CLI does, ``predict_ab`` (input and ab decoding too)
  FORMAT PRECISION    each export (``colorization export --format F --precision P``: onnx, openvino, litert
                      fp32 / fp16 / int8, saved_model fp32) loaded by ``load_weights(FILE)``, the same ``predict_ab``

Printed: a markdown table, one row per case: ms per 256x256 image at each batch size (best of --repeats
calls, then the best of --rounds processes, the rounds interleaving the cases so that a busy machine
slows them alike), the ratio to bare Keras in the same run (> 1: faster), the process's peak resident
memory at the largest batch, and the cold start of a one-image CLI call (``colorization colorize
coffee.png --weights FILE``: process start to the PNG written, best of --rounds). Then the machine
(CPU model, cores, SIMD) and its load average: wall times on a busy machine are noisy, ratios less so.

Run:  .venv/bin/python benchmarks/export_speed.py [--model paper] [--batch-sizes 1 8] [--rounds 3]
      [--cases "onnx fp32" "openvino int8" ...] [--folder DIR: keep the exports, reuse them next time]
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

from colorization.export import FORMAT_PRECISIONS, SUFFIXES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
KERAS_CASES = ("keras predict", "package keras")
EXPORTED_CASES = tuple(
    f"{fmt} {precision}" for fmt, precisions in FORMAT_PRECISIONS.items() for precision in precisions
)
CASES = KERAS_CASES + EXPORTED_CASES


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
    from colorization.weights import load_weights

    views = sample_views(batch)
    if case in files:
        model = load_weights(files[case])  # the front door: each export on its runtime
        seconds = best_of(lambda: predict_ab(model, views), repeats)
    else:
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


def export_files(model: str, cases, folder: Path) -> dict[str, Path]:
    """Each exported case of ``cases`` written by ``colorization export`` into ``folder`` (int8: calibrated on
    the sample set); one already there (``--folder`` of an earlier run) is used as it is."""
    files = {}
    for case in cases:
        fmt, precision = case.split()
        target = folder / f"{model}-{precision}{SUFFIXES[fmt] or '-saved-model'}"
        if not target.exists():
            command = ["export", model, "-o", str(target), "--format", fmt, "--precision", precision, "-q"]
            subprocess.run([sys.executable, "-m", "colorization.cli", *command], check=True, capture_output=True)
        files[case] = target
    return files


def throughput(args, cases, files: dict) -> dict:
    """Best ms/img and peak RSS of each (case, batch) over --rounds interleaved rounds."""
    results: dict[tuple[str, int], dict] = {}
    for _ in range(args.rounds):
        for batch in args.batch_sizes:
            for case in cases:
                measured = run_case(case, args, files, batch)
                best = results.setdefault((case, batch), measured)
                best["ms_per_image"] = min(best["ms_per_image"], measured["ms_per_image"])
                best["peak_mb"] = min(best["peak_mb"], measured["peak_mb"])
    return results


def cold_starts(args, cases, files: dict, folder: Path) -> dict[str, float]:
    """Seconds from process start to the PNG written by ``colorization colorize`` for one photo, best of --rounds."""
    from colorization.data.sources import sample_path
    from colorization.weights import reference_weights

    photo = sample_path("coffee.png")
    weights = {case: files.get(case, reference_weights(args.model)) for case in cases}
    times: dict[str, float] = {}
    for _ in range(args.rounds):
        for case in cases:
            if case == "keras predict":
                continue  # the CLI runs the package's Keras path
            out = folder / "cold" / case.replace(" ", "-")
            command = [sys.executable, "-m", "colorization.cli", "colorize", str(photo), "-o", str(out)]
            start = time.perf_counter()
            subprocess.run(
                [*command, "-q", "--overwrite", "--weights", str(weights[case])], check=True, capture_output=True
            )
            times[case] = min(times.get(case, float("inf")), time.perf_counter() - start)
    return times


def markdown_table(args, cases, files: dict, results: dict, cold: dict) -> str:
    """One row per case: file size, ms/img and ratio to bare Keras at each batch, peak RSS, cold start."""
    batches = args.batch_sizes
    header = ["runtime", "precision", "file MiB"]
    for batch in batches:
        header += [f"ms/img b{batch}", f"vs bare Keras b{batch}"]
    header += [f"peak RSS MB b{batches[-1]}", "cold start s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for case in cases:
        runtime, _, precision = case.rpartition(" ") if case in files else (case, "", "fp32")
        row = [runtime, precision, f"{size_mib(files[case]):.1f}" if case in files else "-"]
        for batch in batches:
            ms = results[(case, batch)]["ms_per_image"]
            row += [f"{ms:.1f}", f"{results[('keras predict', batch)]['ms_per_image'] / ms:.2f}x"]
        row += [f"{results[(case, batches[-1])]['peak_mb']:.0f}", f"{cold[case]:.2f}" if case in cold else "-"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def size_mib(path: Path) -> float:
    paths = [path, path.with_suffix(".bin")] if path.suffix == ".xml" else [path]
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else paths
    return sum(p.stat().st_size for p in paths) / 2**20


def machine() -> str:
    text = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line), "unknown CPU")
    simd = [name for name in ("avx512_vnni", "avx512_bf16", "avx512f", "avx_vnni", "avx2") if f" {name}" in text]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores ({', '.join(simd) or 'no AVX2'}); load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="paper", choices=("paper", "classification"))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=EXPORTED_CASES, default=list(EXPORTED_CASES))
    parser.add_argument("--folder", type=Path, help="keep the exports here, and use those already there")
    parser.add_argument("--case", choices=CASES, help="time this one case in this process (used by the run)")
    parser.add_argument("--files", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(time_case(args.case, args.model, json.loads(args.files), args.batch_sizes[0], args.repeats)))
        return
    cases = [*KERAS_CASES, *args.cases]
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as work:
        files = export_files(args.model, args.cases, args.folder or Path(work))
        results = throughput(args, cases, files)
        cold = cold_starts(args, cases, files, Path(work))
        table = markdown_table(args, cases, files, results, cold)
    print(f"\n256x256 images, {args.model} model, best of {args.repeats} calls x {args.rounds} processes; cold start:")
    print("`colorization colorize coffee.png --weights FILE` (600x400), process start to PNG written\n")
    print(table)
    print(f"\nafter the run: {machine()}")


if __name__ == "__main__":
    main()
