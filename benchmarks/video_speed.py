"""Video colorization speed and memory on this machine (issue 15).

Speed: frames/s of ``colorize_video`` end to end (decode -> network -> stabilizer -> render ->
encode) on a clip of ``--size`` (default 640x480), against the network alone on the same
frames' views in the same run (the ratio transfers between machines, times do not), and
each stage timed alone. Target: >= 8 frames/s at 640x480 on the 2-core CI machine with
the default backend.

Memory: peak resident memory (VmHWM) of ``colorize_video`` on a long clip (``--minutes``,
default 1) and a short one (``--short-seconds``, default 10) at ``--memory-size`` (default
1920x1080), each in a fresh process, after the model is loaded and warmed: the growth with
the clip's length must be ~0.

The clips are synthesized (``colorization.video.synthetic``, a pan over a photograph) and
written with the package's writer; the model is the CLI's (shipped weights, XLA-compiled).

Run:  .venv/bin/python benchmarks/video_speed.py [--size 640x480] [--seconds 10] [--minutes 1]
          [--memory-size 1920x1080] [--temporal flow] [--skip-speed] [--skip-memory]
"""

from __future__ import annotations

import argparse
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
    start = time.perf_counter()
    function()
    return count / (time.perf_counter() - start)


def stage_rates(model, clip: Path, batch: int, temporal: str) -> dict[str, float]:
    """Frames/s of each stage alone, on the clip's frames."""
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
    rates = {"decode": rate(lambda: sum(1 for _ in read_frames(info)), len(frames))}
    rates["view"] = rate(lambda: [upright_view(rgb, 0) for rgb in frames], len(frames))
    rates["network"] = rate(lambda: [predict_ab(model, b) for b in batches], len(batches) * batch)
    stabilizer = temporal_methods.stabilizer(temporal)
    rates[f"stabilizer ({temporal})"] = rate(lambda: [stabilizer.update(v, ab[0]) for v in views], len(views))
    rates["render"] = rate(lambda: [render(rgb, ab[0]) for rgb in frames], len(frames))

    def encode() -> None:
        with open_writer(clip.with_name("encoded.mp4"), info, overwrite=True) as writer:
            for index, rgb in enumerate(frames):
                writer.write(Frame(rgb, index))

    rates["encode"] = rate(encode, len(frames))
    return rates


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


def speed(args) -> None:
    from colorization.cli.common import compiled_model
    from colorization.video import temporal as temporal_methods
    from colorization.video.pipeline import CORES, colorize_video

    temporal = args.temporal or temporal_methods.DEFAULT
    model = compiled_model(None)
    if args.no_ffmpeg:
        rates = rate_without_codec(model, args.size, args.seconds, args.batch, temporal)
    else:
        with tempfile.TemporaryDirectory() as folder:
            clip = make_clip(Path(folder, "clip.mp4"), args.size, args.seconds)
            rates = stage_rates(model, clip, args.batch, temporal)
            for method in dict.fromkeys([temporal, "frame"]):
                out = Path(folder, f"out-{method}.mp4")
                rates[f"end to end ({method})"] = colorize_video(
                    model, clip, out, temporal=method, batch=args.batch
                ).fps
    import keras

    width, height = args.size
    print(
        f"\nSpeed at {width}x{height}, {round(args.seconds * FPS)} frames, batch {args.batch}, "
        f"Keras {keras.__version__} on {keras.backend.backend()}, {CORES} CPU cores"
    )
    print(f"{'stage':<28} {'frames/s':>9} {'/ network':>10}")
    for name, value in rates.items():
        print(f"{name:<28} {value:>9.1f} {value / rates['network']:>10.2f}")


def child(clip: str, batch: int) -> None:
    """In a fresh process: model, warm-up, peak reset, then ``colorize_video``; prints JSON."""
    from colorization.cli.common import compiled_model
    from colorization.colorize import predict_ab
    from colorization.video.pipeline import colorize_video

    model = compiled_model(None)
    predict_ab(model, np.zeros((batch, 256, 256, 3), np.uint8))
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = memory_mb("VmRSS")
    report = colorize_video(model, clip, Path(clip).with_suffix(".out.mp4"), batch=batch)
    print(json.dumps({"before_mb": before, "peak_mb": memory_mb("VmHWM"), "frames": report.frames, "fps": report.fps}))


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
    print(f"\nPeak resident memory at {width}x{height} (a fresh process per clip, after the model is loaded)")
    print(f"{'clip':>8} {'frames':>7} {'frames/s':>9} {'before MB':>10} {'peak MB':>8} {'peak - before':>14}")
    for seconds, row in rows:
        print(
            f"{seconds:>7g}s {row['frames']:>7} {row['fps']:>9.1f} {row['before_mb']:>10.0f} {row['peak_mb']:>8.0f} "
            f"{row['peak_mb'] - row['before_mb']:>14.0f}"
        )
    growth = rows[1][1]["peak_mb"] - rows[0][1]["peak_mb"]
    print(f"growth of the peak from the short clip to the long one: {growth:+.0f} MB")


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
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if not args.skip_speed:
        speed(args)
    if not args.skip_memory:
        memory(args)


if __name__ == "__main__":
    main()
