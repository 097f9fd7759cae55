"""Video colorization speed and memory on this machine (issue 15).

Speed: on a clip of ``--size`` (default 640x480), for the shipped float32 network, the CLI's default
network where it is another (the shipped int8 export on a CPU with ONNX Runtime:
:mod:`colorization.video.runtime`) and each ``--weights`` file: every stage alone (decode, the
network's views, the network, the stabilizer, render,
encode), in wall-clock and processor milliseconds per frame; the same stages and the threads'
waits within a run of ``colorize_video`` (its ``VideoReport.stages``); and the run end to end
(decode -> colorize -> encode) for the default stabilizer and frame by frame. Other programs
sharing the cores slow the wall-clock figures, hardly the processor ones, so the bounds are
computed from those: frames/s on this process's cores if it had them alone, for all the stages
and for the network alone, and the run's processor time against the sum of the stages alone
(above 1: time lost to the threads' contention). Target: >= 8 frames/s at 640x480 on the 2-core
CI machine with the default backend.

Memory: peak resident memory (VmHWM) of ``colorize_video`` on a long clip (``--minutes``,
default 1) and a short one (``--short-seconds``, default 10) at ``--memory-size`` (default
1920x1080), each in a fresh process, after the model is loaded and warmed: the growth with
the clip's length must be ~0.

The clips are synthesized (``colorization.video.synthetic``, a pan over a photograph) and
written with the package's writer; the memory runs use the CLI's default network here (--runtime auto).

Run:  .venv/bin/python benchmarks/video_speed.py [--size 640x480] [--seconds 10] [--weights FILE ...]
          [--minutes 1] [--memory-size 1920x1080] [--temporal flow] [--skip-speed] [--skip-memory]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TRACE_FRAMES = 150  # frames between two readings of the resident memory
FPS = 25
DISTINCT_FRAMES = 50  # frames synthesized; longer clips repeat them (the content does not change the speed)


def size_value(text: str) -> tuple[int, int]:
    """argparse type: WIDTHxHEIGHT."""
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def make_clip(path: Path, size: tuple[int, int], seconds: float) -> Path:
    """A synthesized pan of ``seconds`` at ``size`` (width, height), FPS frames/s, written with the package's writer."""
    from colorization.video import synthetic
    from colorization.video.container import Frame, VideoInfo
    from colorization.video.writer import open_writer

    width, height = size
    distinct = list(synthetic.clip("pan", seconds=DISTINCT_FRAMES / FPS, size=(height, width), fps=FPS))
    count = round(seconds * FPS)
    with open_writer(path, VideoInfo.for_frames(width, height, FPS), overwrite=True) as writer:
        for index in range(count):
            cycle, position = divmod(index, len(distinct))
            writer.write(Frame(distinct[position if cycle % 2 == 0 else -1 - position], index))
    return path


def rate(function, count: int) -> float:
    """Items per second of ``function()``, which handles ``count`` items."""
    return count / timed(function)[0]


def timed(function) -> tuple[float, float]:
    """(wall-clock seconds, processor seconds of the whole process) of ``function()``."""
    start, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - cpu


def machine() -> str:
    """The processor's model (``lscpu``), this process's cores and the load average, in words."""
    from colorization.video.pipeline import CORES

    model = "unknown processor"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), model)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    return f"{model}, {CORES} cores for this process, load average {load}"


def stage_costs(model, clip: Path, batch: int, temporal: str) -> dict[str, tuple[float, float]]:
    """Each stage alone on the clip's frames: (wall ms, processor ms) per frame."""
    from colorization.colorize import predict_ab, render
    from colorization.video import temporal as temporal_methods
    from colorization.video.container import Frame, probe, read_frames
    from colorization.video.pipeline import full_batch, upright_view
    from colorization.video.writer import open_writer

    info = probe(clip)
    frames = [frame.rgb for frame in read_frames(info)]
    views = np.stack([upright_view(rgb, 0) for rgb in frames])
    batches = [full_batch(views[i : i + batch], batch) for i in range(0, len(views), batch)]
    ab = predict_ab(model, batches[0])  # also compiles the network for this batch shape
    stabilizer = temporal_methods.stabilizer(temporal)

    def encode() -> None:
        with open_writer(clip.with_name("encoded.mp4"), info, overwrite=True) as writer:
            for index, rgb in enumerate(frames):
                writer.write(Frame(rgb, index))

    stages = {
        "decode": lambda: sum(1 for _ in read_frames(info)),
        "view": lambda: [upright_view(rgb, 0) for rgb in frames],
        "network": lambda: [predict_ab(model, b) for b in batches],
        "stabilizer": lambda: [stabilizer.update(v, ab[i % len(ab)]) for i, v in enumerate(views)],
        "render": lambda: [render(rgb, ab[i % len(ab)]) for i, rgb in enumerate(frames)],
        "encode": encode,
    }
    counts = {"network": len(batches) * batch}
    return {name: tuple(1000 * t / counts.get(name, len(frames)) for t in timed(run)) for name, run in stages.items()}


def rate_without_codec(model, size: tuple[int, int], seconds: float, batch: int, temporal: str) -> dict[str, float]:
    """Frames/s of ``colorize_video`` with decoding and encoding left out (``--no-ffmpeg``: where PyAV is missing).

    The same pipeline (threads, queues, network, stabilizer, render) on frames held in memory:
    the reader yields them, the writer drops them.
    """
    import contextlib
    from unittest import mock

    from colorization.colorize import predict_ab, render
    from colorization.video import pipeline, synthetic
    from colorization.video import temporal as temporal_methods
    from colorization.video.container import Frame, VideoInfo

    width, height = size
    distinct = list(synthetic.clip("pan", seconds=DISTINCT_FRAMES / FPS, size=(height, width), fps=FPS))
    count = round(seconds * FPS)
    frames = [Frame(distinct[i % len(distinct)], i) for i in range(count)]
    info = dataclasses.replace(VideoInfo.for_frames(width, height, FPS), path=Path("in-memory.mp4"))

    class Dropped:
        def write(self, frame) -> None:
            pass

    views = np.stack([pipeline.upright_view(f.rgb, 0) for f in frames[:batch]])
    ab = predict_ab(model, views)  # compiles
    stabilizer = temporal_methods.stabilizer(temporal)
    rates = {"view": rate(lambda: [pipeline.upright_view(f.rgb, 0) for f in frames[:batch]], batch)}
    rates["network"] = rate(
        lambda: [predict_ab(model, views) for _ in range(max(1, count // batch))], batch * max(1, count // batch)
    )
    rates[f"stabilizer ({temporal})"] = rate(lambda: [stabilizer.update(v, ab[0]) for v in views], batch)
    rates["render"] = rate(lambda: [render(f.rgb, ab[0]) for f in frames[:batch]], batch)
    with (
        mock.patch.object(pipeline, "probe", lambda source: info),
        mock.patch.object(pipeline, "read_frames", lambda info: iter(frames)),
        mock.patch.object(pipeline, "open_writer", lambda *a, **k: contextlib.nullcontext(Dropped())),
    ):
        for method in dict.fromkeys([temporal, "frame"]):
            report = pipeline.colorize_video(model, info.path, "dropped.mp4", temporal=method, batch=batch)
            rates[f"no codec, end to end ({method})"] = report.fps
    return rates


def end_to_end(model, clip: Path, temporal: str, batch: int):
    """:func:`colorize_video` of ``clip`` with ``temporal``: its report."""
    from colorization.video.pipeline import colorize_video

    return colorize_video(
        model, clip, clip.with_name(f"out-{temporal}.mp4"), temporal=temporal, overwrite=True, batch=batch
    )


def speed(args) -> None:
    from colorization.cli.common import compiled_model
    from colorization.video import temporal as temporal_methods

    temporal = args.temporal or temporal_methods.DEFAULT
    if args.no_ffmpeg:
        print_rates(rate_without_codec(compiled_model(None), args.size, args.seconds, args.batch, temporal))
        return
    width, height = args.size
    print(f"\nSpeed at {width}x{height}, {round(args.seconds * FPS)} frames, batch {args.batch}, on {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        clip = make_clip(Path(folder, "clip.mp4"), args.size, args.seconds)
        fps = {}
        for name, weights in networks(args.weights).items():
            model = compiled_model(weights)
            costs = stage_costs(model, clip, args.batch, temporal)
            reports = {
                method: end_to_end(model, clip, method, args.batch) for method in dict.fromkeys([temporal, "frame"])
            }
            print_speed(name, costs, reports)
            fps[name] = reports[temporal].fps
    baseline = next(iter(fps.values()))
    print(f"\nend to end ({temporal}), frames/s here, against the float32 Keras run of the same clip in this run:")
    for name, value in fps.items():
        print(f"  {value:6.2f}  x{value / baseline:.2f}  {name}")


def networks(extra: list[str]) -> dict[str, str | None]:
    """What is timed: the shipped float32 network, the CLI's default network where it is another
    (:func:`colorization.video.runtime.choose_runtime`), then each ``--weights`` file."""
    from colorization.video.runtime import choose_runtime, video_weights

    found = {"the shipped float32 network (Keras, XLA; --runtime keras)": None}
    default = choose_runtime("auto")
    if default != "keras":
        found[f"the CLI's default here (--runtime auto: {default})"] = str(video_weights(default))
    return found | {weights: weights for weights in extra}


def print_speed(name: str, costs: dict[str, tuple[float, float]], reports: dict) -> None:
    """The stage table (alone, and within the run of the first report) and the end-to-end lines."""
    from colorization.video.pipeline import CORES
    from colorization.video.threads import STAGES, WAITS

    first = next(iter(reports.values()))
    print(f"\n{name}: ms per frame, each stage alone (wall, processor) and within the {first.method} run (wall)")
    print(f"{'stage':<32} {'alone':>8} {'cpu':>8} {'in run':>8}")
    for stage in (*STAGES, *WAITS):
        alone = " ".join(f"{value:>8.1f}" for value in costs[stage]) if stage in costs else " " * 17
        print(f"{stage:<32} {alone} {1000 * first.stages.get(stage, 0.0) / first.frames:>8.1f}")
    total = sum(cpu for _, cpu in costs.values())
    network = costs["network"][1]
    print(f"{'sum of the stages alone':<32} {'':>8} {total:>8.1f}")
    print(
        f"bound on {CORES} cores of its own: {1000 * CORES / total:.1f} frames/s (all stages), "
        f"{1000 * CORES / network:.1f} frames/s (the network alone, {100 * network / total:.0f} % of the work)"
    )
    for method, report in reports.items():
        cpu = 1000 * report.cpu_seconds / report.frames
        print(
            f"end to end ({method}): {report.fps:.2f} frames/s here; {cpu:.0f} processor ms per frame, "
            f"{cpu / total:.2f} x the stages alone, so {1000 * CORES / cpu:.1f} frames/s on {CORES} cores of its own"
        )


def print_rates(rates: dict[str, float]) -> None:
    """The --no-ffmpeg table: frames/s of each stage and of the pipeline, against the network's."""
    print(f"{'stage':<28} {'frames/s':>9} {'/ network':>10}")
    for name, value in rates.items():
        print(f"{name:<28} {value:>9.1f} {value / rates['network']:>10.2f}")


def child(clip: str, batch: int) -> None:
    """In a fresh process: the CLI's default network, warm-up, peak reset, then ``colorize_video``; prints JSON."""
    from colorization.cli.common import compiled_model
    from colorization.colorize import predict_ab
    from colorization.video.pipeline import colorize_video
    from colorization.video.runtime import choose_runtime, video_weights

    weights = video_weights(choose_runtime("auto"))  # the CLI's default network here
    model = compiled_model(None if weights is None else str(weights))
    predict_ab(model, np.zeros((batch, 256, 256, 3), np.uint8))
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = memory_mb("VmRSS")
    done, trace = [0], []  # resident memory every TRACE_FRAMES frames: a plateau, or growth with the length

    def progress(frames: int) -> None:
        done[0] += frames
        if done[0] // TRACE_FRAMES > len(trace):
            trace.append((done[0], round(memory_mb("VmRSS"))))

    report = colorize_video(model, clip, Path(clip).with_suffix(".out.mp4"), batch=batch, progress=progress)
    row = {"before_mb": before, "peak_mb": memory_mb("VmHWM"), "frames": report.frames, "fps": report.fps}
    print(json.dumps(row | {"trace": trace}))


def memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(args) -> None:
    width, height = args.memory_size
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for seconds in (args.short_seconds, args.minutes * 60):
            clip = make_clip(Path(folder, f"clip-{seconds:g}s.mp4"), args.memory_size, seconds)
            command = [sys.executable, __file__, "--child", str(clip), str(args.batch)]
            output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
            rows.append((seconds, json.loads(output.strip().splitlines()[-1])))
    from colorization.video.runtime import choose_runtime

    print(f"\nPeak resident memory at {width}x{height} (a fresh process per clip, after the model is loaded;")
    print(f"the CLI's default network here: --runtime auto = {choose_runtime('auto')})")
    print(f"{'clip':>8} {'frames':>7} {'frames/s':>9} {'before MB':>10} {'peak MB':>8} {'peak - before':>14}")
    for seconds, row in rows:
        print(
            f"{seconds:>7g}s {row['frames']:>7} {row['fps']:>9.1f} {row['before_mb']:>10.0f} {row['peak_mb']:>8.0f} "
            f"{row['peak_mb'] - row['before_mb']:>14.0f}"
        )
    growth = rows[1][1]["peak_mb"] - rows[0][1]["peak_mb"]
    print(f"growth of the peak from the short clip to the long one: {growth:+.0f} MB")
    trace = ", ".join(f"{frames}: {mb}" for frames, mb in rows[1][1]["trace"])
    print(f"resident MB of the long clip's run, by frames done: {trace}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=size_value, default=(640, 480), help="WIDTHxHEIGHT of the speed clip")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the speed clip")
    parser.add_argument("--memory-size", type=size_value, default=(1920, 1080), help="WIDTHxHEIGHT of the memory clips")
    parser.add_argument("--minutes", type=float, default=1.0, help="length of the long memory clip")
    parser.add_argument("--short-seconds", type=float, default=10.0, help="length of the short memory clip")
    parser.add_argument("--batch", type=int, default=8, help="frames per network call")
    parser.add_argument("--temporal", help="the stabilizer (default: colorization.video.temporal.DEFAULT)")
    parser.add_argument("--no-ffmpeg", action="store_true", help="speed without decoding and encoding (no PyAV)")
    parser.add_argument(
        "--weights", nargs="*", default=[], metavar="FILE", help="also time these models (.keras, .onnx: e.g. int8)"
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if not args.skip_speed:
        speed(args)
    if not args.skip_memory:
        memory(args)


if __name__ == "__main__":
    main()
