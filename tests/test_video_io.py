"""Video in and out: what a colorized video keeps of its input, and every bad input or output as one line."""

from __future__ import annotations

import hashlib
import os
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

from colorization.colorize import network_input, network_view  # noqa: E402
from colorization.decoding import NonFinitePrediction  # noqa: E402
from colorization.fast import lab_lut  # noqa: E402
from colorization.io import files  # noqa: E402
from colorization.io.files import OutputExistsError  # noqa: E402
from colorization.video import pipeline, writer  # noqa: E402
from colorization.video.container import Frame, VideoError, VideoInfo, probe, read_frames  # noqa: E402
from colorization.video.pipeline import colorize_video, frames_per_batch  # noqa: E402
from colorization.video.writer import open_writer  # noqa: E402
from tests import video_files as vf  # noqa: E402


class StandIn:
    """A network stand-in: colour that follows the lightness; it records what it was given."""

    input_shape, output_shape = (None, 256, 256, 1), (None, 256, 256, 2)

    def __init__(self, fail_at_call: int | None = None) -> None:
        self.inputs: list[np.ndarray] = []
        self.fail_at_call = fail_at_call

    def predict_on_batch(self, batch):
        self.inputs.append(np.array(batch))
        if len(self.inputs) == self.fail_at_call:
            return np.full(batch.shape[:3] + (2,), np.nan, np.float32)
        return np.concatenate([0.3 * np.tanh(batch), np.full_like(batch, -0.2)], axis=-1).astype(np.float32)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lightness_error(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.abs(lab_lut.lightness(first) - lab_lut.lightness(second)).mean())


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """12 frames of a pan, 64x48, at 30000/1001 frames/s, with AAC audio and a title."""
    folder = tmp_path_factory.mktemp("clip")
    return vf.write_video(folder / "pan.mp4", vf.moving_frames(12), Fraction(30000, 1001), audio="aac", title="A pan")


@pytest.fixture
def rendered(monkeypatch) -> list[np.ndarray]:
    """The frames the pipeline hands to the encoder, as they are before H.264 (recorded here)."""
    frames: list[np.ndarray] = []
    write = writer.VideoWriter.write

    def recording(self, frame):
        frames.append(frame.rgb.copy())
        write(self, frame)

    monkeypatch.setattr(writer.VideoWriter, "write", recording)
    return frames


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(25)], ids=["29.97", "25"])
def test_round_trip_keeps_rate_size_frames_duration_and_times(tmp_path, suffix, fps):
    source = vf.write_video(tmp_path / f"in{suffix}", vf.moving_frames(10, 80, 48), fps)
    before = digest(source)
    report = colorize_video(StandIn(), source, tmp_path / f"out{suffix}")
    got, expected = probe(tmp_path / f"out{suffix}"), probe(source)
    assert (got.width, got.height, got.fps, got.frames) == (80, 48, fps, expected.frames)
    assert got.duration == pytest.approx(expected.duration, abs=1e-3)
    times = [t for t, _, _ in vf.decoded(tmp_path / f"out{suffix}")]
    assert times == pytest.approx([t for t, _, _ in vf.decoded(source)], abs=1e-3)
    assert report.frames == 10 and report.method == "flow" and report.fps > 0
    assert digest(source) == before  # the input is only read


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotation_is_kept_and_the_network_sees_the_frame_upright(tmp_path, rotation):
    frames = vf.moving_frames(4, 64, 48)
    source = vf.write_video(tmp_path / "phone.mp4", frames, rotation=rotation)
    model = StandIn()
    colorize_video(model, source, tmp_path / "out.mp4", batch=4)
    got, expected = probe(tmp_path / "out.mp4"), probe(source)
    assert (got.rotation, got.display_matrix) == (expected.rotation, expected.display_matrix)
    assert got.rotation % 360 == rotation % 360 and (got.width, got.height) == (64, 48)  # frames stay as stored
    stored = [frame.rgb for frame in read_frames(source)]
    upright = np.stack([np.rot90(network_view(rgb), rotation // 90) for rgb in stored])
    np.testing.assert_array_equal(model.inputs[0], network_input(upright))


@pytest.mark.parametrize(
    "codec,source_suffix,target_suffix",
    [("aac", ".mp4", ".mp4"), ("aac", ".mp4", ".mkv"), ("libopus", ".mkv", ".mkv"), ("libopus", ".mkv", ".mp4")],
)
def test_audio_is_copied_packet_for_packet(tmp_path, codec, source_suffix, target_suffix):
    source = vf.write_video(tmp_path / f"in{source_suffix}", vf.moving_frames(8), audio=codec)
    colorize_video(StandIn(), source, tmp_path / f"out{target_suffix}")
    packets = vf.audio_packets(source)
    assert packets and vf.audio_packets(tmp_path / f"out{target_suffix}") == packets


def test_audio_the_output_cannot_hold_is_one_line(tmp_path):
    source = vf.write_video(tmp_path / "in.mov", vf.moving_frames(4), audio=None)
    mulaw = tmp_path / "mulaw.mov"
    import av

    with av.open(str(source)) as video, av.open(str(mulaw), "w") as output:
        stream = output.add_stream_from_template(video.streams.video[0])
        sound = output.add_stream("pcm_mulaw", rate=8000)
        sound.layout = "mono"
        for packet in video.demux(video.streams.video[0]):
            if packet.size:
                packet.stream = stream
                output.mux(packet)
        samples = np.zeros((1, 800), np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 8000, 0
        output.mux(sound.encode(frame) + sound.encode())
    target = tmp_path / "out" / "out.mp4"
    with pytest.raises(VideoError, match=r"out\.mp4: a \.mp4 file cannot hold the input's pcm_mulaw audio"):
        colorize_video(StandIn(), mulaw, target)
    assert not target.parent.exists() or not list(target.parent.iterdir())


def test_each_frame_keeps_its_own_lightness(tmp_path, clip, rendered):
    colorize_video(StandIn(), clip, tmp_path / "out.mp4")
    inputs = [frame.rgb for frame in read_frames(clip)]
    assert len(rendered) == len(inputs) == 12
    for before, after in zip(inputs, rendered, strict=True):
        assert after.shape == before.shape
        assert lightness_error(after, before) < 0.5  # exactly, up to 8-bit rounding, as for images
        assert np.abs(after.astype(int) - before.astype(int)).max() > 8  # and it was colorized
    encoded = [rgb for _, _, rgb in vf.decoded(tmp_path / "out.mp4")]
    assert max(lightness_error(after, before) for before, after in zip(inputs, encoded, strict=True)) < 2.0  # H.264


def test_frames_rendered_at_once_are_written_in_order(tmp_path, clip, rendered, monkeypatch):
    monkeypatch.setattr(pipeline, "CORES", 16)  # small frames on a machine of 16 cores: 4 rendered at once
    assert pipeline.render_threads(probe(clip)) == 4
    colorize_video(StandIn(), clip, tmp_path / "out.mp4", batch=4)
    inputs = [frame.rgb for frame in read_frames(clip)]
    assert [int(np.argmin([lightness_error(out, rgb) for rgb in inputs])) for out in rendered] == list(range(12))


@pytest.mark.parametrize("pix_fmt", ["yuvj420p", "yuv420p10le"], ids=["full range", "10 bits"])
def test_full_range_and_10_bit_inputs_keep_their_lightness(tmp_path, pix_fmt):
    source = vf.write_video(tmp_path / "in.mp4", vf.moving_frames(4), pix_fmt=pix_fmt)
    colorize_video(StandIn(), source, tmp_path / "out.mp4")
    assert probe(tmp_path / "out.mp4").color_range == probe(source).color_range
    inputs, outputs = (vf.decoded(path) for path in (source, tmp_path / "out.mp4"))
    for (_, _, before), (_, _, after) in zip(inputs, outputs, strict=True):
        assert lightness_error(after, before) < 2.0


def test_title_and_times_of_a_variable_frame_rate_are_kept(tmp_path):
    pts = [0, 1, 2, 5, 6, 10, 11, 12, 20, 21]
    source = vf.write_video(tmp_path / "vfr.mp4", vf.moving_frames(10), 25, pts=pts, time_base=Fraction(1, 25))
    colorize_video(StandIn(), source, tmp_path / "out.mp4")
    times = [t for t, _, _ in vf.decoded(tmp_path / "out.mp4")]
    assert times == pytest.approx([p / 25 for p in pts], abs=1e-6)
    assert probe(tmp_path / "out.mp4").metadata.get("title") is None  # this input had none


def test_container_metadata_is_kept(tmp_path, clip):
    colorize_video(StandIn(), clip, tmp_path / "out.mkv")
    assert {k.lower(): v for k, v in probe(tmp_path / "out.mkv").metadata.items()}["title"] == "A pan"


def test_odd_sizes_are_padded_by_one_repeated_line(tmp_path, rendered):
    frames = vf.moving_frames(3, 65, 49)
    source = vf.write_video(tmp_path / "odd.mkv", frames, pix_fmt="yuv444p")
    colorize_video(StandIn(), source, tmp_path / "out.mp4")
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height) == (66, 50)
    assert all(rgb.shape == (49, 65, 3) for rgb in rendered)  # rendered at the input's own size
    out = vf.decoded(tmp_path / "out.mp4")[0][2]
    assert lightness_error(out[:49, :65], rendered[0]) < 2.0
    assert lightness_error(out[:, 65], out[:, 64]) < 2.0 and lightness_error(out[49], out[48]) < 2.0


def test_frames_in_flight_stay_bounded_whatever_the_length(tmp_path, monkeypatch):
    source = vf.write_video(tmp_path / "long.mp4", vf.pattern_frames(60, 32, 32), 25)
    counts = {"read": 0, "written": 0, "most": 0}
    read, write = pipeline.read_frames, writer.VideoWriter.write

    def reading(info):
        for frame in read(info):
            counts["read"] += 1
            counts["most"] = max(counts["most"], counts["read"] - counts["written"])
            yield frame

    def writing(self, frame):  # slower than the rest: frames would pile up before it, if they could
        time.sleep(0.01)
        write(self, frame)
        counts["written"] += 1

    monkeypatch.setattr(pipeline, "read_frames", reading)
    monkeypatch.setattr(writer.VideoWriter, "write", writing)
    colorize_video(StandIn(), source, tmp_path / "out.mp4", temporal="frame", batch=2)
    assert counts["written"] == 60
    assert counts["most"] <= pipeline.BATCHES_IN_FLIGHT * 2 + 1


def test_batches_shrink_for_large_frames():
    def info(width, height):
        return VideoInfo.for_frames(width, height)

    assert [frames_per_batch(info(w, h), 8) for w, h in [(640, 480), (1920, 1080), (3840, 2160), (7680, 4320)]] == [
        8,
        8,
        3,
        1,
    ]
    for width, height in [(3840, 2160), (7680, 4320), (20000, 10000)]:
        size = frames_per_batch(info(width, height), 8)
        assert size == 1 or size * pipeline.BATCHES_IN_FLIGHT * width * height <= pipeline.PIXELS_IN_FLIGHT


def test_frames_are_rendered_a_few_at_a_time_only_where_cores_would_idle():
    sizes = [(640, 480), (1920, 1080), (3840, 2160)]
    threads = {
        cores: [pipeline.render_threads(VideoInfo.for_frames(w, h), cores) for w, h in sizes] for cores in (2, 16)
    }
    assert threads == {2: [1, 1, 1], 16: [4, 1, 1]}


def test_the_last_batch_has_the_shape_of_the_others(tmp_path):
    model = StandIn()
    colorize_video(model, vf.write_video(tmp_path / "in.mp4", vf.moving_frames(7)), tmp_path / "out.mp4", batch=3)
    assert [batch.shape[0] for batch in model.inputs] == [3, 3, 3]  # XLA compiles one shape


@pytest.mark.slow
def test_4k_is_admitted_and_streamed(tmp_path):
    source = vf.write_video(tmp_path / "4k.mp4", vf.pattern_frames(4, 3840, 2160))
    model = StandIn()
    colorize_video(model, source, tmp_path / "out.mp4", batch=8)
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height, info.frames) == (3840, 2160, 4)
    assert [batch.shape[0] for batch in model.inputs] == [3, 3]  # frames_per_batch: 3 frames of 4K at a time


def test_frames_over_the_pixel_limit_are_refused(tmp_path, clip, monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_PIXELS", 1000)
    with pytest.raises(VideoError, match=r"pan\.mp4: its frames are 64x48 \(3,072 pixels\), over the limit of 1,000"):
        colorize_video(StandIn(), clip, tmp_path / "out.mp4")
    assert not list(tmp_path.iterdir())


def make_bad_input(kind: str, folder: Path) -> Path:
    """A file of each kind of bad input (item 6 of the issue, and the siblings found)."""
    good = vf.write_video(folder / "good.mp4", vf.moving_frames(25), options={})
    fast = vf.write_video(folder / "fast.mp4", vf.moving_frames(25), options={"movflags": "+faststart"})
    mkv = vf.write_video(folder / "good.mkv", vf.moving_frames(25))
    makers = {
        "text": lambda p: p.write_text("this is not a video\n") and p,
        "empty": lambda p: p.write_bytes(b"") or p,
        "no streams": vf.write_no_streams,
        "zero frames": vf.write_zero_frames,
        "truncated, index at the end": lambda p: vf.cut(good, p, 0.5),
        "truncated, index first": lambda p: vf.cut(fast, p, 0.8),
        "truncated matroska": lambda p: vf.cut(mkv, p, 0.5),
        "audio only": vf.write_audio_only,
        "still image": lambda p: vf.write_video(p, vf.moving_frames(1), codec="png", pix_fmt="rgb24", format="image2"),
        "folder": lambda p: p.mkdir() or p,
        "missing": lambda p: p,
        "size change": lambda p: (
            p.write_bytes(
                vf.write_video(folder / "a.ts", vf.moving_frames(3), format="mpegts").read_bytes()
                + vf.write_video(folder / "b.ts", vf.moving_frames(3, 80, 64), format="mpegts").read_bytes()
            )
            and p
        ),
    }
    names = {"still image": "still.png", "audio only": "sound.m4a", "zero frames": "zero.mkv"}
    names.update({"truncated matroska": "cut.mkv", "size change": "joined.ts", "folder": "folder.mp4"})
    return makers[kind](folder / names.get(kind, f"{kind.replace(' ', '-').replace(',', '')}.mp4"))


BAD_INPUTS = {
    "text": "not a video file FFmpeg can read",
    "empty": "is empty",
    "no streams": "holds no video stream",
    "zero frames": "its video stream holds no frames",
    "truncated, index at the end": "not a video file FFmpeg can read",
    "truncated, index first": "truncated or damaged",
    "truncated matroska": "truncated or damaged",
    "audio only": "holds only audio",
    "still image": "is a still image",
    "folder": "is a folder",
    "missing": "no such file",
    "size change": "videos that change size are not supported",
}


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_bad_input_is_one_line_naming_the_file_and_nothing_is_written(tmp_path, kind):
    source = make_bad_input(kind, tmp_path)
    out = tmp_path / "out"
    with pytest.raises(VideoError) as raised:
        colorize_video(StandIn(), source, out / "result.mp4")
    message = str(raised.value)
    assert message.startswith(f"{source}: ") and BAD_INPUTS[kind] in message and "\n" not in message
    assert not out.exists() or not list(out.iterdir())  # no output, no temporary


@pytest.mark.parametrize("name", ["out.xyz", "out.gif", "out.avi", "out.webm", "out"])
def test_an_output_the_encoder_cannot_write_is_refused_first(tmp_path, clip, name):
    model = StandIn()
    with pytest.raises(VideoError, match=r"cannot write .*; use \.mp4, \.mov, \.mkv"):
        colorize_video(model, clip, tmp_path / name)
    assert not model.inputs and not list(tmp_path.iterdir())


def test_outputs_that_are_folders_or_inside_files_are_refused(tmp_path, clip):
    (tmp_path / "folder.mp4").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(VideoError, match="is a folder"):
        colorize_video(StandIn(), clip, tmp_path / "folder.mp4")
    with pytest.raises(VideoError, match="is not a folder"):
        colorize_video(StandIn(), clip, tmp_path / "file" / "out.mp4")


def test_an_output_folder_that_cannot_be_made_is_one_line(clip):
    target = Path("/proc/no-such-folder/out.mp4")  # /proc takes no new folders, not even from root
    with pytest.raises(VideoError, match=r"^/proc/no-such-folder/out\.mp4: cannot write \("):
        colorize_video(StandIn(), clip, target)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_input_is_one_line(tmp_path, clip):
    locked = tmp_path / "locked.mp4"
    locked.write_bytes(clip.read_bytes())
    locked.chmod(0)
    with pytest.raises(VideoError, match=r"locked\.mp4: cannot read it"):
        colorize_video(StandIn(), locked, tmp_path / "out.mp4")


def test_the_input_is_never_the_output(tmp_path, clip):
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(clip.read_bytes())
    (tmp_path / "link.mp4").symlink_to(copy)
    for target in (copy, tmp_path / "link.mp4", tmp_path / "." / "copy.mp4"):
        with pytest.raises(VideoError, match="is the input"):
            colorize_video(StandIn(), copy, target, overwrite=True)
    assert copy.read_bytes() == clip.read_bytes()


def test_an_existing_output_needs_overwrite(tmp_path, clip):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"earlier result")
    with pytest.raises(OutputExistsError):
        colorize_video(StandIn(), clip, target)
    assert target.read_bytes() == b"earlier result"
    colorize_video(StandIn(), clip, target, overwrite=True)
    assert probe(target).frames == 12 and sorted(tmp_path.iterdir()) == [target]


def test_a_failure_midway_leaves_no_file(tmp_path, clip):
    with pytest.raises(NonFinitePrediction):
        colorize_video(StandIn(fail_at_call=2), clip, tmp_path / "out.mp4", batch=4)
    assert not list(tmp_path.iterdir())


def test_a_failure_in_the_encoding_thread_reaches_the_caller(tmp_path, clip, monkeypatch):
    calls = []

    def failing(rgb, ab):
        calls.append(1)
        if len(calls) == 5:
            raise MemoryError("no room for this frame")
        return np.asarray(rgb)

    monkeypatch.setattr(pipeline, "render", failing)
    with pytest.raises(MemoryError, match="no room"):
        colorize_video(StandIn(), clip, tmp_path / "out.mp4", batch=2)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("fails", [False, True], ids=["complete", "failed"])
def test_without_unnamed_files_the_atomic_temporary_is_used(tmp_path, clip, monkeypatch, fails):
    monkeypatch.setattr(files, "unnamed_file", lambda folder: None)
    model = StandIn(fail_at_call=1 if fails else None)
    if fails:
        with pytest.raises(NonFinitePrediction):
            colorize_video(model, clip, tmp_path / "out.mp4")
        assert not list(tmp_path.iterdir())
    else:
        colorize_video(model, clip, tmp_path / "out.mp4")
        assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"] and probe(tmp_path / "out.mp4").frames == 12


def test_frames_made_in_memory_can_be_written(tmp_path):
    frames = vf.moving_frames(5)
    with open_writer(tmp_path / "made.mp4", VideoInfo.for_frames(64, 48, 25)) as video:
        for rgb in frames:
            video.write(Frame(rgb))
    info = probe(tmp_path / "made.mp4")
    assert (info.width, info.height, info.fps, info.frames, info.audio) == (64, 48, 25, 5, ())
    assert max(lightness_error(a, b) for a, b in zip(frames, (f.rgb for f in read_frames(info)), strict=True)) < 2
