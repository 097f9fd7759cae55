"""Keeping a video's colours steady: the network's ab, frame by frame or carried along the motion.

The paper's network colorizes each frame on its own, and small changes of a frame (grain,
flicker, a one-pixel move) change its colours: the video flickers. Methods (:func:`stabilizer`):

``"frame"``  frame by frame: the network's ab as it is.
``"flow"``   motion-aware: the previous *output* ab is carried to the current frame along the
             optical flow between the two 256x256 L views (current -> previous, OpenCV's DIS,
             :func:`colorization.metrics.temporal.optical_flow`; ``cv2.remap``) and blended with
             the new prediction, ``out = ab + w (carried - ab)``, with ``w = alpha`` where the flow
             passes the forward-backward check and ``w = 0`` where it does not (occlusions, pixels
             entering the picture take the new prediction). A scene cut (fewer than ``cut_share``
             of the pixels pass the check) starts afresh: the output is the new prediction.

``w = alpha`` makes the output an exponential moving average along the motion: a colour
persists ``1 / (1 - alpha)`` frames on average (10 at the default 0.9), which averages the
network's frame-to-frame noise away, yet a real change of colour is followed to 90 % within
22 frames (``alpha ** 22 < 0.1``: under a second at 25 fps).

How the default was chosen (``benchmarks/video_stability.py --sweep``: 36 clips of 2 s, four
photographs, every kind plain and as old film, and a pan cut to another photograph; the
shipped paper model). The rule, :func:`colorization.evaluation.temporal.choose_default`:
among the methods whose mean PSNR is within 0.1 dB of frame by frame, the one with the lowest
mean warping error. It picks ``"flow"`` over ``"frame"`` (at these defaults, on six photographs'
plain pans: CDC x 0.25, warping error x 0.14, PSNR + 0.16 dB; on the static grain-only shots
mean |delta ab| x 0.15), and among flow's settings:

- ``alpha`` from 0.5, 0.6, 0.7, 0.8, 0.9 (larger is not offered: a colour must be able to
  change within a second, ``alpha ** 25 <= 0.1``, so ``alpha <= 0.91``): 0.9, the lowest
  warping error, on every one of the 36 clips;
- the flow: ``"dis-fast"``, ``"dis-medium"`` and ``"farneback"`` are within 1 % of each
  other in mean warping error; DIS fast has the lower error on 23 of 36 clips against
  Farneback, 27 against DIS medium, and is the fastest (2 ms a pair of 256x256 views against
  7 and 18 ms), so it is kept (and :data:`CUT_SHARE` was set on it).

The cut rule was set on pairs of consecutive views of every sample photograph and kind
(plain and old film: at least 49 % of pixels pass the check) against pairs of views of
different photographs (at most 13 % pass): :data:`CUT_SHARE` = 0.3 sits between. In the
sweep it found each of the 4 cuts and no cut within a shot.
"""

from __future__ import annotations

import numpy as np

from colorization.metrics import temporal as temporal_metrics

METHODS = ("frame", "flow")  # "frame": frame by frame; "flow": motion-aware
DEFAULT = "flow"  # the rule: colorization.evaluation.temporal.choose_default (module docstring)
ALPHA = 0.9  # weight of the colour carried along the flow (module docstring: how it was chosen)
FLOW = "dis-fast"  # optical flow on the 256x256 views (module docstring)
CUT_SHARE = 0.3  # a scene cut: fewer than this share of pixels pass the forward-backward check


class Stabilizer:
    """Turns each frame's predicted ab into the ab to render; one per shot sequence, frames in order."""

    def update(self, view_rgb: np.ndarray, ab: np.ndarray) -> np.ndarray:
        """view_rgb: the frame's 256x256 uint8 network view (only its L matters); ab: (256, 256, 2) float32
        prediction for it. Returns the ab (256, 256, 2) float32 to render. Once per frame, in order."""
        return checked_ab(view_rgb, ab)

    def reset(self) -> None:
        """Forget the frames seen so far (the next frame starts a new shot)."""


class FrameStabilizer(Stabilizer):
    """Frame by frame: the prediction unchanged (a float32 copy)."""


class FlowStabilizer(Stabilizer):
    """The previous output carried along the optical flow, blended with the new prediction (module docstring).

    Parameters
    ----------
    alpha : float in [0, 1)
        Weight of the carried colour where the flow is trusted (0 is frame by frame).
    flow : str
        The optical flow (:data:`colorization.metrics.temporal.ALGORITHMS`).
    cut_share : float in [0, 1]
        A frame where fewer pixels than this share pass the forward-backward check is a scene cut.
    """

    def __init__(self, alpha: float = ALPHA, flow: str = FLOW, cut_share: float = CUT_SHARE):
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
        if not 0.0 <= cut_share <= 1.0:
            raise ValueError(f"cut_share must be in [0, 1], got {cut_share!r}")
        if flow not in temporal_metrics.ALGORITHMS:
            raise ValueError(f"unknown flow {flow!r}: use one of {', '.join(temporal_metrics.ALGORITHMS)}")
        temporal_metrics.opencv()  # fail now, in one line, if the video extra is missing
        self.alpha, self.flow, self.cut_share = float(alpha), flow, float(cut_share)
        self.cuts = 0  # scene cuts found so far (the first frame is not one)
        self.reset()

    def reset(self) -> None:
        self._gray = self._ab = None

    def update(self, view_rgb: np.ndarray, ab: np.ndarray) -> np.ndarray:
        ab = checked_ab(view_rgb, ab)
        gray = temporal_metrics.gray(view_rgb)
        out = ab
        if self._gray is not None and self._gray.shape == gray.shape:
            carried = self._carried(gray)
            if carried is None:
                self.cuts += 1
            else:
                weight, colour = carried
                out = ab + weight * (colour - ab)
        self._gray, self._ab = gray, out
        return out

    def _carried(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(weight (H, W, 1), previous output carried to this frame), or None at a scene cut."""
        if np.array_equal(gray, self._gray):  # nothing moved: no flow to estimate
            return np.float32(self.alpha), self._ab
        backward = temporal_metrics.optical_flow(gray, self._gray, self.flow)  # current -> previous
        forward = temporal_metrics.optical_flow(self._gray, gray, self.flow)
        kept = temporal_metrics.consistent(backward, forward)
        if kept.mean() < self.cut_share:
            return None
        return (self.alpha * kept[..., None]).astype(np.float32), temporal_metrics.warp(self._ab, backward)


def checked_ab(view_rgb: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """``ab`` as float32 after checking it fits ``view_rgb`` and is finite (ValueError, one line, if not)."""
    view_rgb, ab = np.asarray(view_rgb), np.asarray(ab, dtype=np.float32)
    if view_rgb.ndim != 3 or view_rgb.shape[2] != 3 or view_rgb.dtype != np.uint8:
        raise ValueError(f"view_rgb must be a uint8 RGB image (S, S, 3), got {view_rgb.dtype} {view_rgb.shape}")
    if ab.shape != view_rgb.shape[:2] + (2,):
        raise ValueError(f"ab must have shape {view_rgb.shape[:2] + (2,)} (the view's), got {ab.shape}")
    if not np.isfinite(ab).all():
        raise ValueError(f"ab holds {int((~np.isfinite(ab)).sum())} non-finite values: nothing to render from it")
    return ab.copy()


def stabilizer(method: str = DEFAULT, **options) -> Stabilizer:
    """A new :class:`Stabilizer` for ``method`` (:data:`METHODS`); ``options`` go to its class.

    ``"flow"`` takes ``alpha``, ``flow`` and ``cut_share`` (:class:`FlowStabilizer`); ``"frame"`` none.
    """
    if method == "frame":
        if options:
            raise ValueError(f"the 'frame' method takes no options, got {', '.join(sorted(options))}")
        return FrameStabilizer()
    if method == "flow":
        return FlowStabilizer(**options)
    raise ValueError(f"unknown stabilization method {method!r}: use one of {', '.join(METHODS)}")
