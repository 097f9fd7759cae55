"""Builders of the video files the video tests feed the package, made with PyAV directly
(not with the package's writer, which the tests check)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from colorization.video import synthetic

AUDIO = {"aac": (44100, "fltp", 1024), "libopus": (48000, "s16", 960)}  # rate, sample format, samples a frame


def moving_frames(count: int, width: int = 64, height: int = 48, seed: int = 0) -> list[np.ndarray]:
    """``count`` frames of a pan over a colour photograph (sides of at least 16 pixels)."""
    return list(synthetic.clip("pan", seconds=count / 25, size=(height, width), fps=25, seed=seed))


def pattern_frames(count: int, width: int, height: int) -> list[np.ndarray]:
    """``count`` cheap frames of any size: a colour gradient that moves one pixel a frame."""
    rows = np.arange(height, dtype=np.uint16)[:, None]
    cols = np.arange(width, dtype=np.uint16)[None, :]
    frames = []
    for index in range(count):
        level = ((rows + cols + index) % 256).astype(np.uint8)
        frames.append(np.stack([level, np.broadcast_to(rows % 256, level.shape).astype(np.uint8), 255 - level], -1))
    return frames


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: Fraction | int = 25,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: float | None = None,
    audio: str | None = None,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    title: str | None = None,
    format: str | None = None,
    options: dict | None = None,
) -> Path:
    """Encode ``frames`` into ``path`` with PyAV: any codec, rotation, an audio track, given timestamps."""
    output = av.open(str(path), "w", format=format, options=options or {})
    if title is not None:
        output.metadata["title"] = title
    encoder = {"preset": "ultrafast"} if codec == "libx264" else {}
    stream = output.add_stream(codec, rate=Fraction(fps), options=encoder)
    stream.height, stream.width = frames[0].shape[:2]
    stream.pix_fmt = pix_fmt
    if time_base is not None:
        stream.time_base = stream.codec_context.time_base = time_base
    if rotation is not None:
        stream.set_display_rotation(rotation)
    sound = add_audio(output, audio) if audio else None
    for index, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if pts is not None:
            frame.pts, frame.time_base = pts[index], time_base
        output.mux(stream.encode(frame))
    output.mux(stream.encode())
    if sound is not None:
        write_tone(output, sound, seconds=len(frames) / float(fps))
    output.close()
    return path


def add_audio(output, codec: str):
    rate, _, _ = AUDIO[codec]
    stream = output.add_stream(codec, rate=rate)
    stream.layout = "mono"
    return stream


def write_tone(output, stream, seconds: float) -> None:
    """A 440 Hz tone of ``seconds`` into the audio ``stream``."""
    rate, sample_format, size = AUDIO[stream.codec_context.name]
    for start in range(0, int(seconds * rate) + size, size):
        wave = 0.3 * np.sin(2 * np.pi * 440 * (start + np.arange(size)) / rate)
        samples = (wave * 32767).astype(np.int16) if sample_format == "s16" else wave.astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples[None], format=sample_format, layout="mono")
        frame.sample_rate, frame.pts = rate, start
        output.mux(stream.encode(frame))
    output.mux(stream.encode())


def write_audio_only(path: Path, codec: str = "aac", seconds: float = 1.0) -> Path:
    output = av.open(str(path), "w")
    write_tone(output, add_audio(output, codec), seconds)
    output.close()
    return path


def write_zero_frames(path: Path) -> Path:
    """A Matroska file whose video stream holds no frames (its audio track does hold some)."""
    output = av.open(str(path), "w", format="matroska")
    stream = output.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    write_tone(output, add_audio(output, "aac"), 0.5)
    output.close()
    return path


def write_no_streams(path: Path) -> Path:
    """What FFmpeg's MP4 muxer writes for a video stream given no frames: a file with no streams."""
    output = av.open(str(path), "w")
    stream = output.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    output.start_encoding()
    output.close()
    return path


def cut(source: Path, target: Path, share: float) -> Path:
    """The first ``share`` of ``source``'s bytes (a truncated download or copy)."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * share)])
    return target


def audio_packets(path: Path) -> list[bytes]:
    """The bytes of every audio packet of ``path``, in order."""
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(*container.streams.audio) if packet.size]


def decoded(path: Path) -> list:
    """(pts seconds, rotation, rgb) of each frame of the first video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            (float(f.pts * f.time_base), f.rotation, f.to_ndarray(format="rgb24")) for f in container.decode(stream)
        ]
