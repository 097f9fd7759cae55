"""Reading video files, with the FFmpeg inside PyAV's wheel (no system ffmpeg).

:func:`probe` says what a file holds (:class:`VideoInfo`) and :func:`read_frames` streams its
frames, one at a time, as uint8 RGB; :mod:`colorization.video.writer` writes them back.
Decisions (the writer keeps each of them):

Rotation
    Carried as metadata, never applied: frames come as stored, ``VideoInfo.rotation`` (and
    the whole display matrix, flips included) says how players turn them, and the writer
    writes the same matrix, so the output is shown as the input was. (The pipeline turns
    the network's small view upright, :mod:`colorization.video.pipeline`.)
Time
    Each frame keeps its own timestamp (and duration) in the input's time base, so the
    frame rate, the duration and a variable frame rate stay as they were.
Colour
    Frames become RGB with the input's own matrix and range (untagged ones as players take
    them: BT.709 from 720 lines up, BT.601 below, limited range); the writer goes back
    with the same and tags the output with them.
Damage
    A file that does not open, a still image, audio only, no frames, a decoding error,
    a change of frame size, or a video that ends well before the end it declares
    (truncated) is a :class:`VideoError`: one line naming the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

# FFmpeg's matrix coefficients code -> swscale's (PyAV's ``Colorspace``) for the conversions to and from RGB
SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
BT709, SMPTE170M, UNSPECIFIED, LIMITED_RANGE = 1, 6, 2, 1
HD_LINES = 720
STILL_FORMATS = ("image2", "apng")  # and every "*_pipe" demuxer: single pictures, not videos


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found in a video file: its first video stream and its audio.

    ``fps``: the average frame rate; ``time_base``: the unit of the frames' timestamps;
    ``frames``: the count the file declares (None if it does not); ``duration``: seconds of
    video (None if unknown); ``rotation``: degrees counter-clockwise players turn the frames
    (``display_matrix``: FFmpeg's 9 numbers, None without one); ``audio``: the codec of each
    audio stream; ``colorspace``, ``color_range``: FFmpeg's codes, resolved as players do.
    """

    path: Path | None
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frames: int | None
    duration: float | None
    rotation: int
    display_matrix: tuple[int, ...] | None
    codec: str
    audio: tuple[str, ...]
    stream_index: int
    colorspace: int = BT709
    color_range: int = LIMITED_RANGE
    color_primaries: int = UNSPECIFIED
    color_trc: int = UNSPECIFIED
    metadata: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def for_frames(cls, width: int, height: int, fps: Fraction | int = 25) -> VideoInfo:
        """A new video of ``width`` x ``height`` frames at ``fps``, with no source file (no audio)."""
        fps = Fraction(fps)
        return cls(None, width, height, fps, 1 / fps, None, None, 0, None, "rawvideo", (), -1)

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def encoded_size(self) -> tuple[int, int]:
        """(width, height) as written: odd ones one larger (:mod:`colorization.video.writer` pads them)."""
        return self.width + self.width % 2, self.height + self.height % 2


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``rgb`` (H, W, 3) uint8 as stored, its timestamp and duration (in ``time_base``)."""

    rgb: np.ndarray
    pts: int | None = None
    duration: int | None = None


class VideoError(ValueError):
    """A video that cannot be read or written: one line naming the file and what is wrong."""


def load_av():
    """PyAV, or a one-line :class:`VideoError` saying how to install it."""
    try:
        import av
    except ImportError:
        raise VideoError("video files need PyAV: pip install 'lab-cnn-colorization[video]'") from None
    return av


def reason(error: BaseException) -> str:
    """FFmpeg's or the system's words for ``error``, without the file name it repeats."""
    return str(getattr(error, "strerror", None) or error).rstrip(".")


@contextlib.contextmanager
def opened(path: Path):
    """The input container of ``path``; anything FFmpeg cannot open is a :class:`VideoError`."""
    av = load_av()
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video file")
    if path.is_file() and path.stat().st_size == 0:
        raise VideoError(f"{path}: is empty (0 bytes), not a video")
    try:
        container = av.open(str(path), metadata_errors="replace")
    except FileNotFoundError:
        raise VideoError(f"{path}: no such file") from None
    except PermissionError as error:
        raise VideoError(f"{path}: cannot read it ({reason(error)})") from None
    except (av.error.FFmpegError, OSError) as error:
        raise VideoError(f"{path}: not a video file FFmpeg can read ({reason(error)})") from None
    try:
        yield container
    finally:
        container.close()


def probe(path: str | Path) -> VideoInfo:
    """What the video file ``path`` holds; its first frame is decoded to be sure it is a video.

    Raises :class:`VideoError` for anything that is not a readable video: no file, not a
    video, a still image, audio only, no frames, a first frame that does not decode.
    """
    path = Path(path)
    with opened(path) as container:
        name = container.format.name
        if name in STILL_FORMATS or name.endswith("_pipe"):
            raise VideoError(f"{path}: is a still image ({name}), not a video; use `colorization colorize` for it")
        stream = video_stream(container, path)
        first = first_frame(container, stream, path)
        time_base = stream.time_base or Fraction(1, 90000)
        matrix = first.side_data.get("DISPLAYMATRIX") if len(first.side_data) else None
        return VideoInfo(
            path=path,
            width=first.width,
            height=first.height,
            fps=stream.average_rate or stream.guessed_rate or Fraction(25),
            time_base=time_base,
            frames=stream.frames or None,
            duration=declared_duration(stream, time_base),
            rotation=int(first.rotation),
            display_matrix=struct.unpack("<9i", bytes(matrix)) if matrix is not None else None,
            codec=stream.codec_context.name,
            audio=tuple(audio.codec_context.name for audio in container.streams.audio),
            stream_index=stream.index,
            colorspace=resolved_colorspace(first.colorspace, first.height),
            color_range=first.color_range or LIMITED_RANGE,
            color_primaries=first.color_primaries,
            color_trc=first.color_trc,
            metadata=dict(container.metadata),
        )


def video_stream(container, path: Path):
    """The first video stream that is not a cover picture, or a :class:`VideoError` saying what there is."""
    av = load_av()
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic and stream.codec_context is not None:
            return stream
    if container.streams.audio:
        raise VideoError(f"{path}: holds only audio ({len(container.streams.audio)} audio stream(s)), no video")
    raise VideoError(f"{path}: holds no video stream (an empty or damaged recording?)")


def first_frame(container, stream, path: Path):
    """The first decoded frame of ``stream``; none, or a decoding error, is a :class:`VideoError`."""
    av = load_av()
    try:
        frame = next(iter(container.decode(stream)), None)
    except av.error.FFmpegError as error:
        raise VideoError(f"{path}: its video does not decode ({reason(error)}); damaged or truncated?") from None
    if frame is None:
        raise VideoError(f"{path}: its video stream holds no frames")
    return frame


def declared_duration(stream, time_base: Fraction) -> float | None:
    """Seconds of video the stream declares: its duration, or Matroska's DURATION tag (HH:MM:SS.fraction)."""
    if stream.duration:
        return float(stream.duration * time_base)
    hours, _, rest = str(stream.metadata.get("DURATION", "")).partition(":")
    minutes, _, seconds = rest.partition(":")
    try:
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def resolved_colorspace(code: int, height: int) -> int:
    """FFmpeg's matrix code, an unspecified (or unknown) one as players take it: BT.709 from 720 lines up."""
    if code in SWS_MATRIX:
        return code
    return BT709 if height >= HD_LINES else SMPTE170M


def read_frames(video: str | Path | VideoInfo) -> Iterator[Frame]:
    """The frames of ``video`` (a path, or what :func:`probe` found) in order, one at a time.

    Frames are as stored (rotation not applied, module doc). A decoding error, a frame
    of another size than the first, or a video that ends well before the end it declares
    (a truncated file) is a :class:`VideoError`, raised when it is met.
    """
    info = video if isinstance(video, VideoInfo) else probe(video)
    av = load_av()
    with opened(info.path) as container:
        stream = container.streams[info.stream_index]
        stream.thread_type = "AUTO"
        decoded, count, end = iter(container.decode(stream)), 0, 0.0
        while True:
            try:
                frame = next(decoded, None)
            except av.error.FFmpegError as error:
                raise VideoError(f"{info.path}: damaged or truncated after frame {count} ({reason(error)})") from None
            if frame is None:
                break
            if (frame.width, frame.height) != (info.width, info.height):
                raise VideoError(
                    f"{info.path}: frame {count + 1} is {frame.width}x{frame.height}, the first was "
                    f"{info.width}x{info.height}; videos that change size are not supported"
                )
            yield Frame(to_rgb(frame, info), frame.pts, frame.duration or None)
            count += 1
            end = max(end, float(((frame.pts or 0) + (frame.duration or 0)) * info.time_base))
        check_complete(info, count, end)


def to_rgb(frame, info: VideoInfo) -> np.ndarray:
    """A decoded frame as (H, W, 3) uint8 RGB, with the video's own matrix and range."""
    return frame.to_ndarray(
        format="rgb24", src_colorspace=SWS_MATRIX[info.colorspace], src_color_range=info.color_range
    )


def check_complete(info: VideoInfo, count: int, end: float) -> None:
    """A :class:`VideoError` if fewer frames decoded than the file declares and they end early (truncated).

    Early: more than two frame intervals (and 0.1 s) before the video stream's declared
    end; an edit list that leaves frames out still ends where it declares.
    """
    declared_end = info.duration
    if declared_end is None or (info.frames is not None and count >= info.frames):
        return
    if end < declared_end - max(2 / float(info.fps), 0.1):
        of = f" of the {info.frames} it declares" if info.frames else ""
        raise VideoError(
            f"{info.path}: truncated or damaged: {count} frame(s){of} decoded, ending at {end:.2f} s "
            f"of its {declared_end:.2f} s"
        )
