"""Writing videos: H.264 (yuv420p) into ``.mp4``, ``.mov`` or ``.mkv``, the source's audio copied.

:func:`open_writer` gives a :class:`VideoWriter` that keeps what :mod:`colorization.video.container`
read: each frame's timestamp, the frame rate and time base, the display matrix (rotation),
the colour matrix and range, the container's metadata (title, creation time ...), and every
audio stream, copied packet for packet (no re-encoding) and interleaved by time. Subtitle
and data streams are left out. H.264 in 4:2:0 needs an even width and height (libx264
refuses odd ones), so an odd size gets its last column and/or row repeated (641x481 ->
642x482): every input pixel is kept. The encoder settings are :data:`ENCODER_OPTIONS`.

A video takes minutes to write, so a kill in the middle is likely. It is written through
:func:`colorization.io.files.atomic_stream_path`: on Linux an *unnamed* file in the output's
folder, given its name only once complete, so that even a SIGKILL leaves nothing behind;
elsewhere the package's named temporary (:func:`~colorization.io.files.atomic_path`). Every problem is one
:class:`~colorization.video.container.VideoError` line naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from colorization.io.files import OutputExistsError, SameFileIndex, atomic_stream_path
from colorization.video.container import SWS_MATRIX, Frame, VideoError, VideoInfo, load_av, opened, reason

OUTPUT_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
CODEC, PIXEL_FORMAT = "libx264", "yuv420p"
ENCODER_OPTIONS = {"preset": "veryfast", "crf": "18"}  # benchmarks/video_speed.py: the encoder's share of the time
MUXER_OPTIONS = {".mp4": {"movflags": "+faststart"}, ".mov": {"movflags": "+faststart"}}  # index first: plays streamed


def to_yuv(rgb: np.ndarray, info: VideoInfo):
    """An RGB frame as the encoder's yuv420p frame, an odd size padded (module doc)."""
    av = load_av()
    pad = ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0))
    rgb = np.pad(rgb, pad, mode="edge") if any(after for _, after in pad) else rgb
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(
        format=PIXEL_FORMAT, dst_colorspace=SWS_MATRIX[info.colorspace], dst_color_range=info.color_range
    )


class VideoWriter:
    """Encodes frames into an open output container, copying the source's audio alongside (module doc).

    Made by :func:`open_writer`; call :meth:`write` once per frame, in order.
    """

    def __init__(self, container, source, info: VideoInfo, target: Path) -> None:
        self.container, self.info, self.target = container, info, target
        self.video = container.add_stream(CODEC, rate=info.fps, options=dict(ENCODER_OPTIONS))
        self.video.width, self.video.height = info.encoded_size
        self.video.pix_fmt = PIXEL_FORMAT
        self.video.time_base = self.video.codec_context.time_base = info.time_base
        context = self.video.codec_context
        context.colorspace, context.color_range = info.colorspace, info.color_range
        context.color_primaries, context.color_trc = info.color_primaries, info.color_trc
        if info.display_matrix is not None:
            self.video.set_display_matrix(info.display_matrix)
        container.metadata.update(info.metadata)
        audio = list(source.streams.audio) if source is not None else []
        refused = sorted({s.codec_context.name for s in audio} - set(container.supported_codecs))
        if refused:
            raise VideoError(
                f"{target}: a {target.suffix} file cannot hold the input's {', '.join(refused)} audio; use .mkv"
            )
        self.audio = {stream.index: container.add_stream_from_template(stream) for stream in audio}
        self.packets = source.demux(*audio) if audio else iter(())
        self.waiting = None  # the next audio packet, once read
        self.last_pts: int | None = None
        self.step = max(1, round(1 / (info.fps * info.time_base)))  # one frame, in time_base units

    def write(self, frame: Frame) -> None:
        """Encode one frame (its timestamp kept; a missing or repeated one follows the previous by one frame)."""
        pts = frame.pts
        if pts is None or (self.last_pts is not None and pts <= self.last_pts):
            pts = 0 if self.last_pts is None else self.last_pts + self.step
        encoded = to_yuv(frame.rgb, self.info)
        encoded.pts, encoded.time_base = pts, self.info.time_base
        if frame.duration:
            encoded.duration = frame.duration
        self.last_pts = pts
        with self.failures():
            self.copy_audio(until=float(pts * self.info.time_base))
            self.container.mux(self.video.encode(encoded))

    def finish(self) -> None:
        """The encoder's last packets, the rest of the audio, and the file's index."""
        with self.failures():
            self.container.mux(self.video.encode(None))
            self.copy_audio(until=None)
            self.container.close()

    def next_packet(self):
        """The source's next audio packet (None at the end); a damaged one is the input's :class:`VideoError`."""
        av = load_av()
        try:
            return next(self.packets, None)
        except av.error.FFmpegError as error:
            raise VideoError(f"{self.info.path}: its audio is damaged ({reason(error)})") from None

    @contextlib.contextmanager
    def failures(self):
        """FFmpeg's and the system's errors while writing, as one :class:`VideoError` line."""
        av = load_av()
        try:
            yield
        except (av.error.FFmpegError, OSError) as error:
            width, height = self.info.encoded_size
            raise VideoError(f"{self.target}: cannot write {width}x{height} H.264 ({reason(error)})") from None

    def copy_audio(self, until: float | None) -> None:
        """Mux the source's audio packets up to ``until`` seconds (None: all that are left)."""
        while True:
            packet, self.waiting = self.waiting or self.next_packet(), None
            if packet is None:
                return
            if not packet.size:  # the demuxer's end-of-stream marker
                continue
            stamp = packet.pts if packet.pts is not None else packet.dts
            if until is not None and stamp is not None and stamp * packet.time_base > until:
                self.waiting = packet
                return
            packet.stream = self.audio[packet.stream.index]
            self.container.mux(packet)


@contextlib.contextmanager
def open_writer(target: str | Path, info: VideoInfo, overwrite: bool = False) -> Iterator[VideoWriter]:
    """A :class:`VideoWriter` for ``target``, which appears, complete, only when the block succeeds.

    ``info``: what :func:`~colorization.video.container.probe` found in the source, whose
    audio is copied, or :meth:`VideoInfo.for_frames` for frames made in memory. ``target``
    is checked first (:func:`check_target`); an existing one is replaced only with
    ``overwrite``, the source never. Any failure leaves no file.

    Examples
    --------
    >>> info = VideoInfo.for_frames(640, 480, fps=25)
    >>> with open_writer("clip.mp4", info) as writer:          # doctest: +SKIP
    ...     for rgb in frames:
    ...         writer.write(Frame(rgb))
    """
    av = load_av()
    target = check_target(target, info.path, overwrite)
    source = opened(info.path) if info.path is not None else contextlib.nullcontext()
    try:
        with atomic_stream_path(target, overwrite) as url, source as source:
            suffix = target.suffix.lower()
            container = av.open(url, "w", format=OUTPUT_FORMATS[suffix], options=MUXER_OPTIONS.get(suffix))
            try:
                writer = VideoWriter(container, source, info, target)
                yield writer
                writer.finish()
            finally:
                with contextlib.suppress(av.error.FFmpegError, OSError):
                    container.close()  # a second close does nothing
    except OutputExistsError:
        raise
    except (av.error.FFmpegError, OSError) as error:  # making, opening or putting the file in place
        raise VideoError(f"{target}: cannot write ({reason(error)})") from None


def check_target(target: str | Path, source: str | Path | None, overwrite: bool = False) -> Path:
    """``target`` as a Path if a video may be written there, before anything is done.

    Refused (:class:`VideoError`): a suffix not in :data:`OUTPUT_FORMATS`, a folder, a path inside
    something that is not a folder, and the input itself (however spelled, even with
    ``overwrite``). An existing file without ``overwrite`` is
    :class:`~colorization.io.files.OutputExistsError`: the caller decides whether it is done.
    """
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        kinds = ", ".join(OUTPUT_FORMATS)
        raise VideoError(
            f"{target}: cannot write {f'{suffix} files' if suffix else 'a file without a suffix'}; use {kinds}"
        )
    if target.is_dir():
        raise VideoError(f"{target}: is a folder; name the output file (ending in {', '.join(OUTPUT_FORMATS)})")
    if source is not None and SameFileIndex([source]).find(target) is not None:
        raise VideoError(f"{target}: is the input {source} itself; choose another output name")
    for folder in target.parents:
        if folder.exists():
            if not folder.is_dir():
                raise VideoError(f"{target}: cannot write there, {folder} is not a folder")
            break
    if os.path.lexists(target) and not overwrite:
        raise OutputExistsError(errno.EEXIST, "exists (use --overwrite to replace it)", str(target))
    return target
