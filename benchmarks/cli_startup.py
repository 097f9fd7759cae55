"""What hiding TensorFlow's log lines costs `colorization colorize`: start-up and inference time.

Every figure comes from a fresh process, so that each one imports TensorFlow anew:

  * end to end: `python -m colorization.cli colorize PHOTO -o OUT` of one 512x512 JPEG
    (scikit-image's astronaut) with the shipped model, wall clock from outside;
  * by stage, inside the process and under the CLI's own settings (colorization.cli.common.backend_logs):
    the import of Keras and TensorFlow, loading and compiling the model, the first call (XLA
    compiles) and the best of three later calls (inference proper);
  * each in wall-clock seconds and in CPU seconds (all threads), which other work on the
    machine disturbs less.

Configurations: "hidden" (the default: TF_CPP_MIN_LOG_LEVEL=3 and the backend imported with file
descriptor 2 captured) and "verbose" (--verbose: nothing hidden). With --onednn also "hidden,
oneDNN off" and "hidden, oneDNN on" (TF_ENABLE_ONEDNN_OPTS=0 / 1): setting the variable to 0
would hide oneDNN's note without the capture, but changes the kernels, which is the trade-off
the CLI does not take (it leaves oneDNN as TensorFlow chooses for the processor). Runs are
interleaved, configuration by configuration; the best run and the median of each figure are
printed, each with its ratio to the same figure of "verbose".

Run:  .venv/bin/python benchmarks/cli_startup.py [--repeats 3] [--onednn]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs inside a fresh process: times each stage under the CLI's settings, prints them as JSON.
STAGES = """
import json, sys, time
from colorization.cli.common import backend_logs, compiled_model
from colorization.colorize import colorize_batch
from colorization.io.images import load_image
times = {}
def timed(name, step):
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    for key, value in ((name, time.perf_counter() - wall), (name + " cpu", time.process_time() - cpu)):
        times[key] = min(times.get(key, value), value)
    return result
with backend_logs(verbose=sys.argv[1] == "verbose"):
    timed("import", lambda: __import__("keras"))  # imports TensorFlow
    model = timed("load", lambda: compiled_model(None))
    image = load_image(sys.argv[2])
    timed("first call", lambda: colorize_batch(model, [image], "full"))
    for _ in range(3):
        timed("inference", lambda: colorize_batch(model, [image], "full"))
print(json.dumps(times))
"""

CONFIGS = {
    "verbose": ("verbose", {}),
    "hidden": ("hidden", {}),
    "hidden, oneDNN off": ("hidden", {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "hidden, oneDNN on": ("hidden", {"TF_ENABLE_ONEDNN_OPTS": "1"}),
}


def environment(extra: dict) -> dict:
    """This process's environment as a user's shell has it (no log level set), plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL",)}
    return {**env, **extra}


def end_to_end(mode: str, extra: dict, photo: Path, out: Path) -> dict[str, float]:
    """Wall and CPU seconds, and lines on stderr, of one `colorization colorize` in a fresh process."""
    argv = [sys.executable, "-m", "colorization.cli", "colorize", str(photo), "-o", str(out), "--overwrite"]
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        argv + ["--verbose"] * (mode == "verbose"), env=environment(extra), capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {
        "end to end": time.perf_counter() - start,
        "end to end cpu": cpu,
        "stderr lines": len(done.stderr.splitlines()),
    }


def by_stage(mode: str, extra: dict, photo: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", STAGES, mode, str(photo)],
        env=environment(extra),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def make_photo(folder: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = folder / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=92)
    return path


def measure(names: list[str], repeats: int, photo: Path, out: Path) -> dict[str, dict[str, list[float]]]:
    """Every figure of every configuration, ``repeats`` times, the configurations interleaved."""
    figures = {name: {} for name in names}
    for round_ in range(repeats):
        for name in names:
            mode, extra = CONFIGS[name]
            whole = end_to_end(mode, extra, photo, out)
            for key, value in {**whole, **by_stage(mode, extra, photo)}.items():
                figures[name].setdefault(key, []).append(value)
            print(f"  round {round_ + 1}/{repeats} {name}: {whole['end to end']:.2f} s end to end", file=sys.stderr)
    return figures


def report(figures: dict[str, dict[str, list[float]]]) -> None:
    """Per configuration and figure: the best run and the median, each with its ratio to "verbose".

    Wall-clock and CPU seconds (all threads). Other work on the machine disturbs single runs:
    compare the ratios of both columns, and the spread between best and median.
    """
    for clock in ("wall", "cpu"):
        suffix = " cpu" * (clock == "cpu")
        keys = [f"{key}{suffix}" for key in ("end to end", "import", "load", "first call", "inference")]
        print(f"\n{clock} seconds, best and median, each / the same figure of 'verbose' (where nothing is hidden)")
        print(f"{'configuration':<20} {'stderr lines':>12}  " + "  ".join(f"{key:>27}" for key in keys))
        for name, values in figures.items():
            cells = []
            for key in keys:
                best, median = min(values[key]), statistics.median(values[key])
                base_best, base_median = min(figures["verbose"][key]), statistics.median(figures["verbose"][key])
                cells.append(f"{best:5.2f} {best / base_best:4.2f}x | {median:5.2f} {median / base_median:4.2f}x")
            lines = statistics.median(values["stderr lines"])
            print(f"{name:<20} {lines:>12.0f}  " + "  ".join(f"{cell:>27}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--onednn", action="store_true", help="also with TF_ENABLE_ONEDNN_OPTS=0 and =1")
    args = parser.parse_args()
    names = list(CONFIGS) if args.onednn else ["verbose", "hidden"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; {args.repeats} rounds")
    with tempfile.TemporaryDirectory() as folder:
        photo = make_photo(Path(folder))
        report(measure(names, args.repeats, photo, Path(folder) / "out"))


if __name__ == "__main__":
    main()
