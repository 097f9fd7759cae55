"""Temporal metrics (colorization.metrics.temporal) on constructed cases with known answers."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import scipy.stats

from colorization.metrics import fidelity
from colorization.metrics import temporal as mt
from colorization.video import synthetic

pytest.importorskip("cv2")


def tcvc_cdc(frames, steps=(1, 2, 4)):
    """TCVC's compute_hist.py, written out: per channel, per step, JS with scipy.stats.entropy."""
    per_channel = []
    for c in range(3):
        hists = [np.bincount(f[..., c].ravel(), minlength=256) / f[..., c].size for f in frames]
        js = lambda p, q: 0.5 * scipy.stats.entropy(p, (p + q) / 2) + 0.5 * scipy.stats.entropy(q, (p + q) / 2)  # noqa: E731
        per_channel.append(
            np.mean([np.mean([js(hists[i], hists[i + d]) for i in range(len(hists) - d)]) for d in steps])
        )
    return np.mean(per_channel)


@pytest.fixture(scope="module")
def pan():
    return list(synthetic.clip("pan", seconds=0.28, size=(96, 128), photo="coffee"))


def test_js_divergence_is_zero_for_equal_and_ln2_for_disjoint_histograms():
    p = np.array([1.0, 2.0, 0.0, 0.0])
    assert mt.js_divergence(p, 3 * p) == pytest.approx(0.0, abs=1e-12)
    assert mt.js_divergence(p, np.array([0.0, 0.0, 5.0, 1.0])) == pytest.approx(math.log(2))


def test_js_divergence_stays_in_its_bounds_and_is_symmetric():
    rng = np.random.default_rng(0)
    p, q = rng.random((500, 16)) ** 4, rng.random((500, 16)) ** 4
    js = mt.js_divergence(p, q)
    assert js.shape == (500,) and (js >= 0).all() and (js <= math.log(2)).all()
    np.testing.assert_allclose(js, mt.js_divergence(q, p))


def test_uint8_values_fall_in_their_own_bin_and_float_input_agrees():
    frame = np.zeros((2, 128, 3), np.uint8)
    frame[0, :, 0] = np.arange(128) * 2 + 1
    frame[1, :, 0] = 255
    hist = mt.channel_histograms(frame)
    assert hist.shape == (3, 256) and np.allclose(hist.sum(axis=1), 1)
    assert hist[0, 255] == pytest.approx(0.5 + 1 / 256) and hist[0, 3] == pytest.approx(1 / 256)
    np.testing.assert_allclose(mt.channel_histograms(frame.astype(np.float64) / 255), hist)


def test_cdc_of_identical_frames_is_zero(pan):
    assert mt.cdc([pan[0]] * 6) == 0.0


def test_cdc_follows_tcvc_formula(pan):
    assert mt.cdc(pan) == pytest.approx(tcvc_cdc(pan), rel=1e-9)


def test_a_frame_swapped_for_another_photo_raises_cdc_tenfold(pan):
    other = next(synthetic.clip("static", seconds=0.04, size=(96, 128), photo="chelsea"))
    swapped = pan[:3] + [other] + pan[4:]
    assert mt.cdc(swapped) > 10 * mt.cdc(pan)


def test_cdc_uses_the_steps_a_short_clip_has_and_refuses_one_frame(pan):
    assert mt.cdc(pan[:3]) == pytest.approx(tcvc_cdc(pan[:3], steps=(1, 2)))
    with pytest.raises(ValueError, match="more frames"):
        mt.cdc(pan[:1])


def test_warping_error_of_identical_frames_is_zero(pan):
    assert mt.warping_error([pan[0]] * 4, [pan[0]] * 4) == pytest.approx(0.0, abs=1e-12)


def test_warping_error_is_the_squared_colour_change_where_nothing_moves():
    inputs = [np.full((64, 64, 3), 128, np.uint8)] * 3
    outputs = [np.full((64, 64, 3), v, np.float64) for v in (0.5, 0.6, 0.6)]
    assert mt.warping_error(outputs, inputs) == pytest.approx((3 * 0.1**2 + 0) / 2)


def test_a_translation_followed_by_the_flow_leaves_a_small_warping_error():
    photo = synthetic.sample_photo("coffee")[100:196, 100:240]
    moving = [photo[:, 12 - 3 * t : 140 - 3 * t] for t in range(4)]  # 3 px a frame to the right
    unwarped = np.mean(
        [np.sum((b / 255 - a / 255) ** 2, axis=-1).mean() for a, b in zip(moving[:-1], moving[1:], strict=True)]
    )
    assert mt.warping_error(moving, moving) < 0.05 * unwarped


def test_warping_error_sees_flicker_that_the_motion_does_not_explain(pan):
    flickering = [
        np.clip(f.astype(np.int16) + (12 if i % 2 else 0), 0, 255).astype(np.uint8) for i, f in enumerate(pan)
    ]
    assert mt.warping_error(flickering, pan) > 10 * mt.warping_error(pan, pan)


def test_flow_follows_the_convention_of_the_module(pan):
    first, second = mt.gray(pan[0]), mt.gray(pan[4])
    flow = mt.optical_flow(first, second)
    dx = np.median(flow[8:-8, 8:-8, 0])
    assert dx < -0.5  # the window pans right: content moves left
    assert np.abs(mt.warp(second, flow) - first)[8:-8, 8:-40].mean() < 2.0


def test_the_forward_backward_check_rejects_disagreeing_and_outgoing_flow():
    zero = np.zeros((32, 32, 2), np.float32)
    assert mt.consistent(zero, zero).all()
    away = zero.copy()
    away[..., 0] = 3.0
    kept = mt.consistent(away, -away)
    assert kept[:, :28].all() and not kept[:, 29:].any()  # x + 3 leaves a 32-wide frame after x = 28
    assert not mt.consistent(away, away)[:, :28].any()


def test_warping_error_needs_matching_sizes_and_two_frames(pan):
    with pytest.raises(ValueError, match="sizes must match"):
        mt.warping_error(pan[:2], [f[:64] for f in pan[:2]])
    with pytest.raises(ValueError, match="two frames"):
        mt.warping_error(pan[:1], pan[:1])


def test_frame_change_is_the_mean_absolute_ab_step():
    ab = [np.full((8, 8, 2), t * 1.5, np.float32) for t in range(5)]
    assert mt.frame_change(ab) == pytest.approx(1.5)
    assert mt.frame_change([ab[0]] * 3) == 0.0


def test_per_frame_fidelity_is_the_image_metric_of_each_frame(pan):
    from colorization.lab import rgb_to_lab

    noisy = [np.clip(f.astype(np.int16) + 9, 0, 255).astype(np.uint8) for f in pan[:3]]
    np.testing.assert_allclose(
        mt.frame_psnr(noisy, pan[:3]), [fidelity.psnr(a, b) for a, b in zip(noisy, pan[:3], strict=True)]
    )
    expected = [fidelity.auc_ab_error(rgb_to_lab(a), rgb_to_lab(b)) for a, b in zip(noisy, pan[:3], strict=True)]
    np.testing.assert_allclose(mt.frame_auc(noisy, pan[:3]), expected)


def test_without_opencv_the_flow_metrics_say_what_to_install(monkeypatch, pan):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ImportError, match=r"pip install 'lab-cnn-colorization\[video\]'"):
        mt.warping_error(pan[:2], pan[:2])
    assert mt.cdc(pan[:2]) >= 0  # CDC needs no flow
    from colorization.video import temporal

    with pytest.raises(ImportError, match="needs OpenCV"):
        temporal.stabilizer("flow")
    assert temporal.stabilizer("frame") is not None


def test_an_unknown_flow_algorithm_is_one_line():
    with pytest.raises(ValueError, match="unknown flow algorithm 'raft'"):
        mt.optical_flow(np.zeros((16, 16), np.uint8), np.zeros((16, 16), np.uint8), "raft")
