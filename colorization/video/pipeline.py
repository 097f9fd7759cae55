"""Colorizing a video: :func:`colorize_video`.

Each frame takes the image path's steps: its 256x256 view (:func:`colorization.colorize.network_view`,
mode "full") -> the network, a batch of frames at a time (:func:`colorization.colorize.predict_ab`)
-> the temporal stabilizer (:mod:`colorization.video.temporal`), which keeps the colours
steady from frame to frame -> :func:`colorization.colorize.render`, which joins the frame's
*own* lightness, exactly, with the colour -> the encoder (:mod:`colorization.video.writer`).

The network sees each view upright: a video whose display matrix turns it (a phone held
upright) has its small view turned before the network and the predicted colour turned back;
the frames themselves stay as stored, and the output carries the same matrix.

The stages overlap: frames are decoded (and their views made) in one thread, the network
and the stabilizer run in the caller's, and rendering and encoding in another, with bounded
queues between them (:mod:`colorization.video.threads`, which also times each stage and wait:
:attr:`VideoReport.stages`); frames are rendered a few at a time where one render leaves cores
idle (:func:`render_threads`). At most about four batches of frames are in memory whatever the
clip's length, and a batch holds fewer frames when they are large
(:func:`frames_per_batch`), so memory is bounded for any length and resolution up to
the package's ``MAX_PIXELS`` per frame.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from colorization.colorize import network_view, predict_ab, render
from colorization.io.images import MAX_PIXELS
from colorization.video.container import Frame, VideoError, VideoInfo, probe, read_frames
from colorization.video.threads import StageClock, Worker, prefetched
from colorization.video.writer import open_writer

PIXELS_IN_FLIGHT = 100_000_000  # frame pixels in a batch, times the four batches in flight (~300 MB of RGB)
BATCHES_IN_FLIGHT = 4
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # this process's
RENDER_STRIP_PIXELS = 1 << 18  # a render keeps about one core busy per this many pixels (colorization.fast.lab_lut)
MAX_RENDER_THREADS = 4


@dataclass(frozen=True)
class VideoReport:
    """What :func:`colorize_video` did: ``frames`` written in ``seconds`` (``fps`` frames/s) with ``method``.

    ``cpu_seconds``: the processor time the process used meanwhile (all its threads and cores;
    unlike ``seconds``, it hardly changes when other programs share the cores). ``stages``: the
    seconds each stage worked and each thread waited (:data:`colorization.video.threads.STAGES`
    and ``WAITS``), added over the run.
    """

    source: Path
    target: Path
    frames: int
    seconds: float
    fps: float
    method: str
    cpu_seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)


def colorize_video(
    model,
    source: str | Path,
    target: str | Path,
    vividness: float | None = None,
    temporal: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int], object] | None = None,
    batch: int = 8,
) -> VideoReport:
    """Colorize the video ``source`` into ``target`` (``.mp4``, ``.mov`` or ``.mkv``).

    Parameters
    ----------
    model : keras.Model or OnnxModel
        The network (:func:`colorization.load_weights`).
    source, target : path-like
        The input, never changed, and the output, which appears only when complete.
    vividness : float, optional
        As :func:`colorization.colorize.predict_ab` (default: the model's own).
    temporal : str, optional
        A method of :data:`colorization.video.temporal.METHODS` (default: its ``DEFAULT``).
    overwrite : bool
        Replace an existing ``target`` (never ``source``).
    progress : callable, optional
        Called with the number of frames done, after each batch.
    batch : int
        Frames per network call (fewer for large frames, :func:`frames_per_batch`).

    Raises
    ------
    VideoError
        A bad input or output (one line naming the file); nothing is written.
    colorization.io.files.OutputExistsError
        ``target`` exists and ``overwrite`` is False.
    """
    from colorization.video import temporal as temporal_methods

    method = temporal_methods.DEFAULT if temporal is None else temporal
    stabilizer = temporal_methods.stabilizer(method)
    info = probe(source)
    check_frame_size(info)
    size = frames_per_batch(info, batch)
    clock, count = StageClock(), 0
    with (
        ThreadPoolExecutor(render_threads(info), thread_name_prefix="video-render") as renderers,
        open_writer(target, info, overwrite) as writer,
        Worker(writer.write, depth=size, clock=clock) as encoder,
    ):
        for frames, views in prefetched(view_batches(info, size, clock), clock=clock):
            predicted = clock.call("network", predict_ab, model, full_batch(views, size), vividness)[: len(frames)]
            for frame, view, ab in zip(frames, views, predicted, strict=True):
                steady = stored_orientation(clock.call("stabilizer", stabilizer.update, view, ab), info.rotation)
                encoder.put(renderers.submit(rendered, frame, steady, clock).result)  # written in order
            count += len(frames)
            if progress is not None:
                progress(len(frames))
    (seconds, cpu_seconds), stages = clock.elapsed(), clock.seconds
    return VideoReport(info.path, Path(target), count, seconds, count / seconds, method, cpu_seconds, stages)


def rendered(frame: Frame, ab: np.ndarray, clock: StageClock | None = None) -> Frame:
    """``frame`` with the colour ``ab`` and its own lightness, exactly (:func:`colorization.colorize.render`)."""
    with (StageClock() if clock is None else clock).timing("render"):
        return dataclasses.replace(frame, rgb=render(frame.rgb, ab))


def full_batch(views: np.ndarray, size: int) -> np.ndarray:
    """``views`` made up to ``size`` by repeating the last: the network sees one batch shape (XLA compiles once)."""
    missing = size - len(views)
    return np.concatenate([views, np.repeat(views[-1:], missing, axis=0)]) if missing > 0 else views


def check_frame_size(info: VideoInfo, max_pixels: int | None = None) -> None:
    """A :class:`VideoError` for frames over ``max_pixels`` (default: the images' guard, ``MAX_PIXELS``)."""
    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    if info.pixels > max_pixels:
        raise VideoError(
            f"{info.path}: its frames are {info.width}x{info.height} ({info.pixels:,} pixels), over the limit of "
            f"{max_pixels:,} pixels per frame"
        )


def frames_per_batch(info: VideoInfo, batch: int) -> int:
    """``batch``, or fewer for large frames: the frames in flight stay within :data:`PIXELS_IN_FLIGHT`.

    Examples: 8 at 640x480 and 1920x1080, 3 at 3840x2160, 1 at 7680x4320.
    """
    return max(1, min(batch, PIXELS_IN_FLIGHT // (BATCHES_IN_FLIGHT * info.pixels)))


def render_threads(info: VideoInfo, cores: int | None = None) -> int:
    """Frames rendered at once: one, unless a frame's render leaves most of the cores idle.

    A render keeps one core busy per :data:`RENDER_STRIP_PIXELS`; half of the ``cores``
    (default: this process's) are left to decoding, the network and encoding. Examples on
    16 cores: 4 at 640x480, 1 at 1920x1080; on 2 cores: 1.
    """
    busy = -(-info.pixels // RENDER_STRIP_PIXELS)
    return max(1, min(MAX_RENDER_THREADS, (CORES if cores is None else cores) // busy // 2))


def quarter_turns(rotation: int) -> int:
    """Degrees counter-clockwise in quarter turns, for ``np.rot90`` (0 unless a multiple of 90)."""
    return (rotation // 90) % 4 if rotation % 90 == 0 else 0


def upright_view(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """The network's 256x256 view of a stored frame, turned as players show it."""
    return np.ascontiguousarray(np.rot90(network_view(rgb, "full"), quarter_turns(rotation)))


def stored_orientation(ab: np.ndarray, rotation: int) -> np.ndarray:
    """ab predicted on an upright view, turned back to the frame as stored."""
    return np.ascontiguousarray(np.rot90(ab, -quarter_turns(rotation)))


def view_batches(
    info: VideoInfo, size: int, clock: StageClock | None = None
) -> Iterator[tuple[list[Frame], np.ndarray]]:
    """The video's frames, ``size`` at a time, with their upright views stacked: (frames, (n, 256, 256, 3)).

    ``clock`` counts the time spent decoding and making the views.
    """
    clock = StageClock() if clock is None else clock
    frames: list[Frame] = []
    for frame in clock.timed("decode", read_frames(info)):
        frames.append(frame)
        if len(frames) == size:
            yield frames, views_of(frames, info.rotation, clock)
            frames = []
    if frames:
        yield frames, views_of(frames, info.rotation, clock)


def views_of(frames: list[Frame], rotation: int, clock: StageClock) -> np.ndarray:
    """The frames' upright network views, stacked (n, 256, 256, 3); the time counted as ``"view"``."""
    with clock.timing("view"):
        return np.stack([upright_view(frame.rgb, rotation) for frame in frames])
