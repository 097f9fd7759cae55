"""Synthesized film (colorization.video.synthetic): sizes, determinism, motion, old-film damage."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from skimage.registration import phase_cross_correlation

from colorization.video import synthetic

SMALL = (96, 128)


def frames(kind, **options):
    return np.stack(list(synthetic.clip(kind, size=options.pop("size", SMALL), **options)))


def pairs(kind, **options):
    return list(synthetic.clip_with_truth(kind, size=options.pop("size", SMALL), **options))


@pytest.mark.parametrize("kind", synthetic.KINDS)
def test_each_kind_gives_uint8_frames_of_the_size_asked(kind):
    clip = frames(kind, seconds=0.12, size=(50, 70))
    assert clip.shape == (3, 50, 70, 3) and clip.dtype == np.uint8


@pytest.mark.parametrize("seconds,fps", [(0.4, 25), (1.0, 10), (0.5, 30), (0.02, 50)])
def test_frame_count_is_seconds_times_fps(seconds, fps):
    assert len(frames("pan", seconds=seconds, fps=fps, size=(16, 16))) == round(seconds * fps)


def test_clips_are_generators_made_one_frame_at_a_time():
    clip = synthetic.clip("pan", seconds=100.0)
    assert inspect.isgenerator(clip)
    assert next(clip).shape == (480, 640, 3)  # the default size, without making 2,500 frames


@pytest.mark.parametrize("kind,old_film", [("pan", True), ("static", False), ("rotate", True)])
def test_the_same_seed_gives_the_same_frames_and_another_seed_others(kind, old_film):
    first = frames(kind, seconds=0.12, old_film=old_film, seed=4)
    assert np.array_equal(first, frames(kind, seconds=0.12, old_film=old_film, seed=4))
    assert not np.array_equal(first, frames(kind, seconds=0.12, old_film=old_film, seed=5))


def test_the_pan_moves_at_its_speed():
    clip = frames("pan", seconds=0.4, photo="coffee")
    gray = clip.mean(axis=-1)
    shift, _, _ = phase_cross_correlation(gray[0], gray[-1], upsample_factor=20)
    expected = synthetic.PAN_SPEED * SMALL[1] * (len(clip) - 1) / 25  # frame widths per second, to the right
    assert abs(shift[0]) < 0.2 and shift[1] == pytest.approx(expected, abs=0.3)


def test_the_pan_bounces_at_the_photos_edge():
    assert synthetic.bounce(0.0, -2.0, 2.0) == -2.0
    assert synthetic.bounce(3.0, -2.0, 2.0) == 1.0
    assert synthetic.bounce(5.0, -2.0, 2.0) == 1.0  # 4 to the right edge, then 1 back
    assert synthetic.bounce(1.0, -2.0, 2.0, start=0.0) == 1.0


def test_zoom_enlarges_and_rotate_turns():
    zoom = synthetic.camera("zoom", 1.0, (400, 500), SMALL)
    assert zoom.scale[0] < synthetic.camera("zoom", 0.0, (400, 500), SMALL).scale[0]
    turn = synthetic.camera("rotate", 1.0, (400, 500), SMALL)
    assert np.degrees(turn.rotation) == pytest.approx(synthetic.ROTATE_SPEED)
    for kind in synthetic.KINDS:  # every frame's corners stay inside the photo
        for t in np.linspace(0, 30, 61):
            corners = synthetic.camera(kind, t, (400, 500), SMALL)(np.array([[0, 0], [127, 0], [0, 95], [127, 95]]))
            assert (corners >= -0.5).all() and (corners[:, 0] <= 499.5).all() and (corners[:, 1] <= 399.5).all()


def test_plain_moving_clips_are_their_own_truth():
    for frame, truth in pairs("zoom", seconds=0.08):
        assert np.array_equal(frame, truth)


def test_the_static_shot_is_the_still_plus_grain():
    clip = pairs("static", seconds=0.2, photo="chelsea")
    truths = np.stack([truth for _, truth in clip]).astype(np.float64)
    grain = np.stack([frame for frame, _ in clip]) - truths
    assert (truths == truths[0]).all()  # the truth does not move
    assert grain.std() == pytest.approx(synthetic.GRAIN_SIGMA * 255, rel=0.25)
    assert np.abs(grain[..., 0] - grain[..., 2]).mean() < 1.0  # monochrome grain
    assert not np.array_equal(grain[0], grain[1])


def test_old_film_truth_is_the_clean_frame_moved_by_the_weave():
    clean = frames("pan", seconds=0.2, photo="coffee").astype(np.float64)
    truths = np.stack([truth for _, truth in pairs("pan", seconds=0.2, photo="coffee", old_film=True)])
    shifts = [
        phase_cross_correlation(c.mean(-1), t.mean(-1), upsample_factor=20)[0]
        for c, t in zip(clean, truths, strict=True)
    ]
    sizes = np.abs(np.array(shifts))
    assert sizes.max() < 4 * synthetic.WEAVE_SIGMA and sizes.max() > 0.1


def test_old_film_damage_changes_what_it_should():
    frame = np.full((120, 160, 3), 0.5, np.float32)
    rng = np.random.default_rng(1)
    aged = [synthetic.old_film(frame, t / 25, rng)[0] for t in range(40)]
    means = [a[40:80, 60:100].mean() for a in aged]
    assert np.std(means) > 0.01  # brightness flicker
    assert np.mean([a[:10, :10].mean() / a[55:65, 75:85].mean() for a in aged]) < 0.8  # vignette: darker corners
    columns = [np.abs(a[20:100].mean(axis=0).mean(axis=-1) - a[20:100].mean()) for a in aged]
    assert sum(int((c > 0.15).any()) for c in columns) >= 20  # vertical scratches in most frames
    assert np.mean([a[50:70, 70:90].std() for a in aged]) > 0.02  # grain


def test_a_photo_can_be_given_by_name_relpath_or_array():
    by_name = frames("static", seconds=0.04, photo="rocket")
    assert np.array_equal(by_name, frames("static", seconds=0.04, photo="skimage/rocket.jpg"))
    array = synthetic.sample_photo("rocket")
    assert np.array_equal(by_name, frames("static", seconds=0.04, photo=array))


@pytest.mark.parametrize(
    "options,message",
    [
        ({"kind": "dolly"}, "unknown clip kind 'dolly'"),
        ({"seconds": 0}, "positive numbers"),
        ({"fps": float("nan")}, "positive numbers"),
        ({"seconds": 0.001}, "has no frame"),
        ({"size": (8, 64)}, "at least 16"),
        ({"size": (32.5, 64)}, "whole numbers"),
        ({"photo": "lena"}, "no sample photograph 'lena': use one of .*chelsea"),
        ({"photo": np.zeros((32, 32))}, "RGB array"),
    ],
)
def test_bad_arguments_are_one_line_errors(options, message):
    arguments = {"kind": "pan", "size": SMALL} | options
    with pytest.raises(ValueError, match=message):
        next(synthetic.clip(arguments.pop("kind"), **arguments))
