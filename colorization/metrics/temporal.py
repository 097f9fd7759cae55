"""Temporal metrics of a colorized video: how steady its colours are from frame to frame.

``cdc``            colour distribution consistency (TCVC, Liu et al. 2021)
``warping_error``  the warping error (Lai et al. 2018): flow on the grey input, occlusions masked
``frame_change``   mean |delta ab| between consecutive frames
``frame_psnr``, ``frame_auc``  per-frame fidelity (:mod:`colorization.metrics.fidelity`) where truth exists

Frames are sRGB (H, W, 3), uint8 or float in [0, 1], given as any iterable, consumed once and
frame by frame: memory holds a few frames, never the clip. The per-pair pieces
(:func:`channel_histograms` + :func:`cdc_of_histograms`, :func:`input_motion` +
:func:`pair_warping_error`) let one pass over a clip score several methods.

Optical flow is OpenCV's (the ``video`` extra), imported only when a flow is needed.
Convention: ``flow(first, second)[y, x] = (dx, dy)`` with ``first[y, x] ~ second[y + dy, x + dx]``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

import numpy as np

from colorization.fast.lab_lut import lightness
from colorization.lab import rgb_to_lab
from colorization.metrics.checks import as_rgb01, check_same_shape
from colorization.metrics.fidelity import auc_ab_error, psnr

CDC_STEPS = (1, 2, 4)
ALGORITHMS = ("dis-medium", "dis-fast", "farneback")
METRIC_FLOW = "dis-medium"  # most accurate on the synthesized clips at full size: end-point error 0.06-0.09 px clean
CONSISTENCY = (0.01, 0.5)  # forward-backward check: |fw + bw|^2 <= 0.01 (|fw|^2 + |bw|^2) + 0.5 (px^2)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence of histograms along the last axis, natural log: in [0, ln 2].

    ``JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``, each histogram first
    divided by its sum (as ``scipy.stats.entropy``, which TCVC's code uses); ``0 log 0 = 0``.
    """
    p = np.asarray(p, np.float64) / np.sum(p, axis=-1, keepdims=True)
    q = np.asarray(q, np.float64) / np.sum(q, axis=-1, keepdims=True)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum(axis=-1)
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum(axis=-1)
    return np.clip((kl_p + kl_q) / 2, 0.0, math.log(2))


def channel_histograms(frame, bins: int = 256) -> np.ndarray:
    """The R, G and B histograms of one frame, each summing to 1: shape (3, bins).

    ``bins`` equal bins over [0, 1]; with 256 bins a uint8 value k falls in bin k (OpenCV's
    ``calcHist(..., [256], [0, 256])``, as TCVC).
    """
    rgb = as_rgb01(frame, "frame")
    counts = [np.histogram(rgb[..., c], bins=bins, range=(0.0, 1.0))[0] for c in range(3)]
    return np.stack(counts).astype(np.float64) / (rgb.shape[0] * rgb.shape[1])


def cdc_of_histograms(histograms, steps=CDC_STEPS) -> float:
    """:func:`cdc` from the frames' :func:`channel_histograms` (sequence of (3, bins) arrays)."""
    histograms = np.asarray(histograms)
    usable = [d for d in steps if 0 < d < len(histograms)]
    if not usable:
        raise ValueError(f"cdc needs more frames than its smallest step ({min(steps)}), got {len(histograms)}")
    per_step = [js_divergence(histograms[:-d], histograms[d:]).mean() for d in usable]
    return float(np.mean(per_step))


def cdc(frames: Iterable, steps=CDC_STEPS, bins: int = 256) -> float:
    """Colour distribution consistency, lower is steadier (0 for identical frames).

    Liu et al., "Temporally Consistent Video Colorization with Deep Feature Propagation and
    Self-regularization Learning" (TCVC), arXiv 2110.04562, and their ``compute_hist.py``:

    ``CDC = 1/|D| sum_{d in D} 1/3 sum_{c in R,G,B} 1/(N-d) sum_{t=1}^{N-d} JS(h_c(t), h_c(t+d))``

    with ``h_c(t)`` the 256-bin histogram of channel c of frame t (TCVC's own choice: the
    R, G, B channels of the output, not a and b), JS the Jensen-Shannon divergence
    (:func:`js_divergence`, natural log), ``D = {1, 2, 4}`` weighted equally. Steps not shorter
    than the clip are left out (a clip of 3 frames uses d = 1, 2).
    """
    return cdc_of_histograms([channel_histograms(frame, bins) for frame in frames], steps)


def opencv():
    """OpenCV (the ``video`` extra), or an ImportError of one line saying what to install."""
    try:
        import cv2
    except ImportError:
        raise ImportError(
            "optical flow needs OpenCV: pip install 'lab-cnn-colorization[video]' (opencv-python-headless)"
        ) from None
    return cv2


def gray(frame) -> np.ndarray:
    """The uint8 grey image flow is computed on: CIE L of the frame times 2.55, rounded."""
    return np.rint(lightness(np.asarray(frame)) * 2.55).clip(0, 255).astype(np.uint8)


def optical_flow(first: np.ndarray, second: np.ndarray, algorithm: str = METRIC_FLOW) -> np.ndarray:
    """Dense flow (H, W, 2) float32 from uint8 grey ``first`` to ``second`` (OpenCV).

    ``"dis-medium"`` / ``"dis-fast"``: ``cv2.DISOpticalFlow`` (Kroeger et al., ECCV 2016) at that
    preset; ``"farneback"``: ``cv2.calcOpticalFlowFarneback`` (pyramid 0.5 x 4, window 15, 3 iterations).
    """
    cv2 = opencv()
    if algorithm == "farneback":
        return cv2.calcOpticalFlowFarneback(first, second, None, 0.5, 4, 15, 3, 5, 1.2, 0)
    presets = {"dis-medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, "dis-fast": cv2.DISOPTICAL_FLOW_PRESET_FAST}
    if algorithm not in presets:
        raise ValueError(f"unknown flow algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    return cv2.DISOpticalFlow_create(presets[algorithm]).calc(first, second, None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward warp: ``out[y, x] = image[y + dy, x + dx]`` (bilinear ``cv2.remap``, edges repeated)."""
    cv2 = opencv()
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    return cv2.remap(np.asarray(image, np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistent(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Pixels of the first frame whose flow the forward-backward check trusts (bool (H, W)).

    Sundaram, Brox, Keutzer (ECCV 2010), as Lai et al. 2018: with ``b = backward`` warped to the
    first frame along ``f = forward``, a pixel is kept when
    ``|f + b|^2 <= 0.01 (|f|^2 + |b|^2) + 0.5`` and ``x + f`` lands inside the frame
    (a pixel that leaves the picture is occluded).
    """
    height, width = forward.shape[:2]
    back = warp(backward, forward)
    ratio, offset = CONSISTENCY
    mismatch = np.sum((forward + back) ** 2, axis=-1)
    kept = mismatch <= ratio * (np.sum(forward**2, axis=-1) + np.sum(back**2, axis=-1)) + offset
    landing_x = np.arange(width)[None, :] + forward[..., 0]
    landing_y = np.arange(height)[:, None] + forward[..., 1]
    return kept & (landing_x >= 0) & (landing_x <= width - 1) & (landing_y >= 0) & (landing_y <= height - 1)


def input_motion(first_input, second_input, algorithm: str = METRIC_FLOW) -> tuple[np.ndarray, np.ndarray]:
    """``(flow, kept)`` between two input frames: forward flow on their grey, forward-backward mask."""
    first, second = gray(first_input), gray(second_input)
    forward = optical_flow(first, second, algorithm)
    return forward, consistent(forward, optical_flow(second, first, algorithm))


def pair_warping_error(first_output, second_output, motion: tuple[np.ndarray, np.ndarray]) -> float:
    """One term of :func:`warping_error`: output t+1 warped back to t along the input's ``motion``."""
    first, second = as_rgb01(first_output, "output"), as_rgb01(second_output, "output")
    check_same_shape(first, second, ("output t", "output t+1"))
    flow, kept = motion
    if flow.shape[:2] != first.shape[:2]:
        raise ValueError(f"the input frames are {flow.shape[:2]}, the outputs {first.shape[:2]}: sizes must match")
    squared = np.sum((warp(second, flow) - first) ** 2, axis=-1)
    pixels = int(kept.sum())
    return float(squared[kept].sum() / pixels) if pixels else 0.0


def warping_error(frames: Iterable, inputs: Iterable, algorithm: str = METRIC_FLOW) -> float:
    """The warping error of output ``frames``, lower is steadier (0 for identical frames).

    Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018, eq. 9 and their
    ``evaluate_WarpError.py``:

    ``E_warp = 1/(T-1) sum_{t=1}^{T-1} 1/|M_t| sum_{x in M_t} || V_t(x) - W(V_{t+1})(x) ||^2``

    with ``V_t`` the output in [0, 1] RGB, the squared norm summed over R, G, B;
    ``W(V_{t+1})`` frame t+1 warped back to t along the optical flow of the *input* frames
    (their grey, :func:`gray`, at the frames' own size; OpenCV's DIS at the medium preset here,
    FlowNet2 there: :data:`METRIC_FLOW`, not the flow the ``"flow"`` stabilizer uses, DIS fast on
    256x256 views, so the metric does not grade a method by its own motion estimate); ``M_t`` the
    pixels that pass the forward-backward check (:func:`consistent`). A pair with no such pixel
    counts 0, as theirs.
    """
    errors, previous = [], None
    for output, source in zip(frames, inputs, strict=True):
        if previous is not None:
            errors.append(pair_warping_error(previous[0], output, input_motion(previous[1], source, algorithm)))
        previous = (output, source)
    if not errors:
        raise ValueError("warping_error needs at least two frames")
    return float(np.mean(errors))


def frame_change(ab_frames: Iterable) -> float:
    """Mean |delta ab| between consecutive frames, Lab units: ``mean_t mean_{x,c} |ab_{t+1} - ab_t|``.

    How much the colour moves from one frame to the next where the picture does not: on a static
    shot it is the flicker itself (0 for a perfectly steady one).
    """
    recent: deque = deque(maxlen=2)
    changes = []
    for ab in ab_frames:
        recent.append(np.asarray(ab, np.float32))
        if len(recent) == 2:
            check_same_shape(recent[0], recent[1], ("ab t", "ab t+1"))
            changes.append(float(np.mean(np.abs(recent[1] - recent[0]))))
    if not changes:
        raise ValueError("frame_change needs at least two frames")
    return float(np.mean(changes))


def frame_psnr(frames: Iterable, truths: Iterable) -> np.ndarray:
    """PSNR (dB) of each frame against its truth: :func:`colorization.metrics.fidelity.psnr`."""
    return np.array([psnr(frame, truth) for frame, truth in zip(frames, truths, strict=True)])


def frame_auc(frames: Iterable, truths: Iterable) -> np.ndarray:
    """AuC of the ab error of each frame against its truth: :func:`colorization.metrics.fidelity.auc_ab_error`."""
    return np.array(
        [auc_ab_error(rgb_to_lab(as_rgb01(f)), rgb_to_lab(as_rgb01(t))) for f, t in zip(frames, truths, strict=True)]
    )
