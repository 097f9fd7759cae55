"""Simulated users for training the network with hints (``hints: true``; beyond the paper).

Zhang et al., "Real-Time User-Guided Image Colorization with Learned Deep Priors"
(SIGGRAPH 2017, Sec. 3.2 and their ``get_colorization_data``) train with points drawn as
follows, and so do we, per training image and epoch:

* the number of points is geometric with p = 1/8 (none with probability 1/8, 7 on average),
  cut at :data:`MAX_POINTS` (the 1.4% of draws that want more get 32);
* each point is a square patch of side P, uniform in 1..9 pixels of the 256x256 view;
* its top-left corner is centre-biased: ``clip(N((S - P + 1) / 2, (S - P + 1) / 4), 0, S - P)``
  per axis;
* the patch reveals its mean ab (of the ground truth, after the flip).

The host draws the *plan* (:func:`plan_hints`: corner and side of each point, side 0 for an
unused slot) from ``(seed, epoch)`` as :func:`colorization.data.batches.plan_epoch` draws the
flips, so both loops and a resumed run see the same points; the compiled step turns it into the
network's three extra input channels (:func:`hint_channels`) on the accelerator, with
``keras.ops`` only: patch means from an integral image, patches painted with one batched
matrix product. Where patches overlap the pixel gets their average colour.

The network's input is then (scaled L, hint a / 128, hint b / 128, mask) (:data:`HINT_CHANNELS`);
an image without hints has zeros in the last three, which is how the hint network colorizes
automatically.
"""

from __future__ import annotations

import numpy as np
from keras import ops

MAX_POINTS = 32
POINT_PROBABILITY = 1 / 8  # p of the geometric number of points
PATCH_SIDES = (1, 9)  # smallest and largest patch side, pixels of the view
HINT_CHANNELS = 3  # hint a / 128, hint b / 128, mask
VALIDATION_EPOCH = 2**31 - 1  # the plan of the validation images: one fixed draw


def plan_hints(count: int, size: int, seed: int, epoch: int) -> np.ndarray:
    """The simulated points of ``count`` images of ``size`` x ``size`` pixels.

    Returns
    -------
    ndarray (count, MAX_POINTS, 3) int32
        ``(row, column, side)`` of each point's top-left corner and side; side 0: no point.
        Depends only on ``(seed, epoch)`` (:data:`VALIDATION_EPOCH` for the validation set).
    """
    rng = np.random.default_rng([seed, epoch, 0x417])
    points = np.minimum(rng.geometric(POINT_PROBABILITY, count) - 1, MAX_POINTS)
    sides = rng.integers(PATCH_SIDES[0], PATCH_SIDES[1] + 1, (count, MAX_POINTS))
    room = size - sides + 1
    corners = rng.normal(room[..., None] / 2, room[..., None] / 4, (count, MAX_POINTS, 2))
    corners = np.clip(corners, 0, (size - sides)[..., None]).astype(np.int32)
    used = np.arange(MAX_POINTS)[None, :] < points[:, None]
    return np.concatenate([corners, (sides * used)[..., None]], axis=-1).astype(np.int32)


def hint_channels(ab_scaled, plan):
    """The three hint channels of a batch, on the device (``keras.ops``).

    Parameters
    ----------
    ab_scaled : tensor (B, S, S, 2) float32
        The ground truth ab / 128 (:func:`colorization.fast.lab_ops.lab_batch`).
    plan : tensor (B, K, 3) int32
        From :func:`plan_hints`.

    Returns
    -------
    tensor (B, S, S, 3) float32
        Each point's patch filled with the patch's mean ab / 128 (averaged where patches
        overlap), then the mask (1 inside any patch, 0 elsewhere).
    """
    size = ops.shape(ab_scaled)[1]
    rows, columns, sides = plan[..., 0], plan[..., 1], plan[..., 2]
    means = _patch_means(ab_scaled, rows, columns, sides)  # (B, K, 2)
    axis = ops.arange(size, dtype="int32")
    in_rows = _inside(axis, rows, sides)  # (B, K, S)
    in_columns = _inside(axis, columns, sides)
    by_row = ops.transpose(in_rows, (0, 2, 1))  # (B, S, K): two batched matrix products paint every patch
    count = ops.matmul(by_row, in_columns)  # (B, S, S) patches covering each pixel
    coloured = ops.reshape(in_columns[..., None] * means[:, :, None, :], (-1, ops.shape(means)[1], size * 2))
    total = ops.reshape(ops.matmul(by_row, coloured), (-1, size, size, 2))
    mask = ops.cast(count > 0, "float32")
    colour = total / ops.maximum(count, 1.0)[..., None]
    return ops.concatenate([colour, mask[..., None]], axis=-1)


def _inside(axis, starts, sides):
    """(B, K, S) float32: 1 where ``starts <= axis < starts + sides``."""
    start, stop = starts[..., None], (starts + sides)[..., None]
    return ops.cast(ops.logical_and(axis >= start, axis < stop), "float32")


def _patch_means(ab_scaled, rows, columns, sides):
    """(B, K, 2): the mean of each patch, from the integral image (zero for side 0)."""
    size = ops.shape(ab_scaled)[1]
    integral = ops.cumsum(ops.cumsum(ab_scaled, axis=1), axis=2)
    integral = ops.pad(integral, ((0, 0), (1, 0), (1, 0), (0, 0)))  # (B, S + 1, S + 1, 2)
    flat = ops.reshape(integral, (ops.shape(integral)[0], -1, 2))

    def at(r, c):
        index = ops.expand_dims(r * (size + 1) + c, -1)
        return ops.take_along_axis(flat, ops.broadcast_to(index, (*ops.shape(index)[:2], 2)), axis=1)

    bottom, right = rows + sides, columns + sides
    sums = at(bottom, right) - at(rows, right) - at(bottom, columns) + at(rows, columns)
    area = ops.cast(ops.maximum(sides * sides, 1), "float32")
    return sums / ops.expand_dims(area, -1)


def with_hints(lightness, ab_scaled, plan):
    """The hint network's input (B, S, S, 4): scaled L and :func:`hint_channels`."""
    return ops.concatenate([lightness, hint_channels(ab_scaled, plan)], axis=-1)


def epoch_plan(config, steps: int, epoch: int) -> np.ndarray | None:
    """The points of one epoch's ``steps`` batches, (steps, B, K, 3), aligned with
    :func:`colorization.data.batches.plan_epoch`'s order; None unless ``config.hints``."""
    if not config.hints:
        return None
    plan = plan_hints(steps * config.batch_size, config.input_size, config.seed, epoch)
    return plan.reshape(steps, config.batch_size, MAX_POINTS, 3)


def validation_plan(config, n: int) -> np.ndarray | None:
    """The points of the ``n`` validation images, (n, K, 3), one fixed draw; None unless ``config.hints``."""
    return plan_hints(n, config.input_size, config.seed, VALIDATION_EPOCH) if config.hints else None
