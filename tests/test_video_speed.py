"""Where a video's colorization spends its time (VideoReport.stages), and that the pipeline's output is the
sequential computation's, frame for frame (so that no speed-up of the pipeline changes what it writes)."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("av")
pytest.importorskip("cv2")

from colorization.colorize import predict_ab, render  # noqa: E402
from colorization.video import temporal, writer  # noqa: E402
from colorization.video.container import probe, read_frames  # noqa: E402
from colorization.video.pipeline import colorize_video, full_batch, stored_orientation, upright_view  # noqa: E402
from colorization.video.threads import STAGES, WAITS  # noqa: E402
from tests import video_files as vf  # noqa: E402
from tests.test_video_io import StandIn  # noqa: E402

FRAMES, BATCH = 12, 4


class SlowStandIn(StandIn):
    """The stand-in network, ``seconds`` slower per call."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def predict_on_batch(self, batch):
        time.sleep(self.seconds)
        return super().predict_on_batch(batch)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return vf.write_video(tmp_path_factory.mktemp("speed") / "pan.mp4", vf.moving_frames(FRAMES), 25)


@pytest.fixture
def encoded(monkeypatch):
    """The frames handed to the encoder, in order; ``encoded.delay`` seconds added to each write."""
    frames: list[np.ndarray] = []
    write = writer.VideoWriter.write

    def recording(self, frame):
        time.sleep(recording.delay)
        frames.append(frame.rgb.copy())
        write(self, frame)

    recording.delay = 0.0
    monkeypatch.setattr(writer.VideoWriter, "write", recording)
    return frames, recording


def sequential(model, clip, method: str) -> list[np.ndarray]:
    """What the pipeline must write: each step in turn, one thread, no queues."""
    info = probe(clip)
    frames = [frame.rgb for frame in read_frames(info)]
    stabilizer, out = temporal.stabilizer(method), []
    for start in range(0, len(frames), BATCH):
        views = np.stack([upright_view(rgb, info.rotation) for rgb in frames[start : start + BATCH]])
        for rgb, view, ab in zip(frames[start:], views, predict_ab(model, full_batch(views, BATCH)), strict=False):
            out.append(render(rgb, stored_orientation(stabilizer.update(view, ab), info.rotation)))
    return out


@pytest.mark.parametrize("method", temporal.METHODS)
def test_the_pipeline_writes_what_the_steps_make_in_turn(tmp_path, clip, encoded, method):
    colorize_video(StandIn(), clip, tmp_path / "out.mp4", temporal=method, batch=BATCH)
    expected = sequential(StandIn(), clip, method)
    assert len(encoded[0]) == len(expected) == FRAMES
    for written, made in zip(encoded[0], expected, strict=True):
        np.testing.assert_array_equal(written, made)


def test_the_report_names_every_stage_and_the_processor_time(tmp_path, clip):
    report = colorize_video(StandIn(), clip, tmp_path / "out.mp4", batch=BATCH)
    assert set(STAGES) <= set(report.stages) <= set(STAGES) | set(WAITS)
    assert all(seconds >= 0 for seconds in report.stages.values())
    assert 0 < report.cpu_seconds and report.frames == FRAMES


def test_a_slow_encoder_shows_as_encoding_and_as_the_network_waiting_for_it(tmp_path, clip, encoded):
    encoded[1].delay = 0.05
    report = colorize_video(StandIn(), clip, tmp_path / "out.mp4", temporal="frame", batch=BATCH)
    assert report.stages["encode"] >= FRAMES * 0.05
    assert report.stages["network waits for the encoder"] >= (FRAMES - 2 * BATCH) * 0.05 * 0.8
    assert report.stages.get("network waits for frames", 0.0) < report.stages["network waits for the encoder"]


def test_a_slow_network_shows_as_the_network_and_as_the_others_waiting_for_it(tmp_path, clip):
    report = colorize_video(SlowStandIn(0.2), clip, tmp_path / "out.mp4", temporal="frame", batch=BATCH)
    calls = FRAMES // BATCH
    assert report.stages["network"] >= calls * 0.2
    assert report.stages["encoder waits for frames"] >= (calls - 1) * 0.2 * 0.8
    assert report.stages["decoder waits for room"] >= 0.2 / 2  # the third batch waits while the first is predicted
    assert report.stages["network"] > 4 * report.stages["encode"]
