"""Film made here: camera moves over a still colour photograph, with the truth known.

No video data can be fetched, so the temporal tests, notebooks and benchmarks share clips
synthesized from the colour photographs the package already ships (the ``sample`` source:
scikit-image's and matplotlib's photographs, :mod:`colorization.data.sources`). Kinds:

``"pan"``     the window slides left to right at :data:`PAN_SPEED` (bouncing at the photo's edge)
``"zoom"``    the window shrinks (zooms in) at :data:`ZOOM_SPEED`, from 90 % down to 45 % of the photo
``"rotate"``  the window turns at :data:`ROTATE_SPEED`, between -/+ :data:`MAX_ANGLE` degrees
``"static"``  the still and film grain only (:func:`grain`): the frames differ by the grain alone

Each frame is the photo resampled through one similarity transform (scikit-image's bicubic
``warp``), the photo first scaled once (Pillow, antialiased) so that no frame shrinks it:
no aliasing. With ``old_film=True`` every frame also goes through :func:`old_film` (grain,
brightness flicker, vertical scratches, gate weave, vignette).

Ground truth (:func:`clip_with_truth`): the clean colour frame, where the camera was. For
old film that is the clean frame moved by the same gate weave: weave is where the picture
*is* on the film (it moves colour and grey alike), while grain, flicker, scratches and
vignette are damage to the grey record that a colorization should not be blamed for, so
the truth leaves them out; PSNR against it therefore includes the damage's error in L,
the same for every method that keeps the input's L (compare methods by differences).
The network's input is the frame's grey version: the pipeline uses only its L.

Everything is deterministic from ``seed`` and made one frame at a time (generators).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.transform import AffineTransform, warp

from colorization.data.sources import SampleSource
from colorization.io.images import load_image, to_uint8
from colorization.io.preprocess import resize

KINDS = ("pan", "zoom", "rotate", "static")
DEFAULT_PHOTO = "astronaut"
PAN_SPEED = 0.1  # window widths per second (64 px/s, 2.6 px a frame at 640 wide and 25 fps)
PAN_WINDOW = 0.7  # the panning window's size, as a share of the largest one that fits the photo
ZOOM_SPEED = 0.1  # natural log of the window's size, per second (about 10 % a second)
ZOOM_RANGE = (0.9, 0.45)  # the zoom window's size, from widest to narrowest
ROTATE_SPEED = 4.0  # degrees per second
MAX_ANGLE = 12.0  # degrees
STILL_WINDOW = 0.9  # the static and rotating windows' size (the rotating one shrunk to fit when turned)
GRAIN_SIGMA = 0.035  # standard deviation of the grain, in [0, 1] sRGB (about 9 code values)
GRAIN_BLUR = 0.6  # pixels: grain comes in clumps, not single pixels
FLICKER_SIGMA = 0.04  # standard deviation of the per-frame brightness gain
FLICKER_SWING = (0.04, 1.3)  # a slow "pumping" of the gain: amplitude, frequency in Hz
WEAVE_SIGMA = 0.6  # pixels, standard deviation of the gate weave in x and y
SCRATCHES_PER_FRAME = 1.5  # mean number of vertical scratches (Poisson)
VIGNETTE = 0.35  # brightness lost in the corners


def clip(
    kind: str,
    seconds: float = 2.0,
    size: tuple[int, int] = (480, 640),
    fps: float = 25,
    seed: int = 0,
    old_film: bool = False,
    photo: str | np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """The frames of a synthesized clip, uint8 RGB (H, W, 3), one at a time.

    Parameters
    ----------
    kind : {"pan", "zoom", "rotate", "static"}
    seconds, fps : float
        The clip has ``round(seconds * fps)`` frames (at least one).
    size : (int, int)
        Frame height and width, each at least 16.
    seed : int
        Seeds the grain and the old-film damage: equal arguments give equal frames.
    old_film : bool
        Age every frame with :func:`old_film`.
    photo : str or ndarray, optional
        A sample photograph by name (``"chelsea"``, ``"coffee"``, ``"skimage/rocket.jpg"``:
        :func:`sample_photo`) or an RGB array; default :data:`DEFAULT_PHOTO`.
    """
    for frame, _ in clip_with_truth(kind, seconds, size, fps, seed, old_film, photo):
        yield frame


def clip_with_truth(
    kind: str,
    seconds: float = 2.0,
    size: tuple[int, int] = (480, 640),
    fps: float = 25,
    seed: int = 0,
    old_film: bool = False,
    photo: str | np.ndarray | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(frame, truth)`` pairs of :func:`clip` (same arguments): truth is the clean colour frame."""
    height, width, count = _checked_shape(kind, seconds, size, fps)
    still = _prescaled(as_photo(photo), height, width)
    rng = np.random.default_rng(seed)
    for index in range(count):
        t = index / fps
        truth = render_view(still, camera(kind, t, still.shape[:2], (height, width)), (height, width))
        if old_film:
            yield _aged(truth, t, rng)
        elif kind == "static":
            yield to_uint8(grain(truth, rng)), to_uint8(truth)
        else:
            frame = to_uint8(truth)
            yield frame, frame


def _aged(truth: np.ndarray, t: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    frame, moved = old_film(truth, t, rng)
    return to_uint8(frame), to_uint8(moved)


def frame_count(seconds: float, fps: float) -> int:
    """How many frames a clip of ``seconds`` at ``fps`` has: ``round(seconds * fps)``."""
    return int(round(seconds * fps))


def _checked_shape(kind, seconds, size, fps) -> tuple[int, int, int]:
    if kind not in KINDS:
        raise ValueError(f"unknown clip kind {kind!r}: use one of {', '.join(KINDS)}")
    if not (math.isfinite(seconds) and math.isfinite(fps) and seconds > 0 and fps > 0):
        raise ValueError(f"seconds and fps must be positive numbers, got seconds={seconds!r}, fps={fps!r}")
    if frame_count(seconds, fps) < 1:
        raise ValueError(f"a clip of {seconds} s at {fps} fps has no frame: make it longer")
    height, width = (int(side) for side in size)
    if min(height, width) < 16 or (height, width) != tuple(size):
        raise ValueError(f"size must be two whole numbers of pixels, each at least 16, got {size!r}")
    return height, width, frame_count(seconds, fps)


def sample_photo(name: str) -> np.ndarray:
    """A colour photograph of the ``sample`` source by file stem or relpath, uint8 RGB."""
    records = SampleSource().records()
    for record in records:
        if name in (record.relpath, Path(record.relpath).stem):
            return load_image(record.path).rgb
    names = ", ".join(Path(record.relpath).stem for record in records)
    raise ValueError(f"no sample photograph {name!r}: use one of {names}")


def as_photo(photo: str | np.ndarray | None) -> np.ndarray:
    """``photo`` as a uint8 RGB array: a sample photograph's name, an array, or None (the default)."""
    if photo is None or isinstance(photo, str):
        return sample_photo(photo or DEFAULT_PHOTO)
    array = np.asarray(photo)
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 16:
        raise ValueError(f"photo must be an RGB array of shape (H, W, 3), H and W >= 16, got {array.shape}")
    return to_uint8(array)


def _prescaled(photo: np.ndarray, height: int, width: int) -> np.ndarray:
    """The photo scaled so that the still window maps one to one: frames only enlarge it (float32)."""
    fit = min(photo.shape[0] / height, photo.shape[1] / width)  # photo pixels per frame pixel, largest window
    factor = 1.0 / (STILL_WINDOW * fit)
    shape = (max(16, round(photo.shape[0] * factor)), max(16, round(photo.shape[1] * factor)))
    return resize(photo, shape, "bicubic").astype(np.float32) / 255.0


def camera(kind: str, t: float, photo_shape: tuple[int, int], size: tuple[int, int]) -> AffineTransform:
    """The map from frame pixel (x, y) to photo pixel at time ``t`` (seconds): centre, scale, angle."""
    (ph, pw), (height, width) = photo_shape, size
    fit = min(ph / height, pw / width)  # scale of the largest unrotated window
    center_x, center_y, angle = (pw - 1) / 2, (ph - 1) / 2, 0.0
    if kind == "pan":
        scale = PAN_WINDOW * fit
        room = (pw - width * scale) / 2
        center_x += bounce(PAN_SPEED * width * scale * t, -room, room)
    elif kind == "zoom":
        widest, narrowest = (math.log(share * fit) for share in ZOOM_RANGE)
        scale = math.exp(bounce(-ZOOM_SPEED * t, narrowest, widest, start=widest))
    elif kind == "rotate":
        angle = bounce(ROTATE_SPEED * t, -MAX_ANGLE, MAX_ANGLE, start=0.0)
        scale = STILL_WINDOW * _turned_fit(ph, pw, height, width)
    else:
        scale = STILL_WINDOW * fit
    return _similarity((center_x, center_y), scale, math.radians(angle), size)


def bounce(travelled: float, low: float, high: float, start: float | None = None) -> float:
    """Where a point is after moving ``travelled`` from ``start`` (default ``low``), bouncing in [low, high]."""
    span = high - low
    if span <= 0:
        return low
    start = low if start is None else start
    offset = (start - low + travelled) % (2 * span)
    return low + (offset if offset <= span else 2 * span - offset)


def _turned_fit(ph: int, pw: int, height: int, width: int) -> float:
    """Scale of the largest window that still fits the photo when turned by :data:`MAX_ANGLE`."""
    cos, sin = math.cos(math.radians(MAX_ANGLE)), math.sin(math.radians(MAX_ANGLE))
    return min(pw / (width * cos + height * sin), ph / (width * sin + height * cos))


def _similarity(center, scale: float, angle: float, size: tuple[int, int]) -> AffineTransform:
    height, width = size
    to_center = AffineTransform(translation=(-(width - 1) / 2, -(height - 1) / 2))
    turn = AffineTransform(scale=scale, rotation=angle, translation=center)
    return AffineTransform(matrix=turn.params @ to_center.params)


def render_view(still: np.ndarray, transform: AffineTransform, size: tuple[int, int]) -> np.ndarray:
    """The frame the camera ``transform`` sees of ``still`` (float32 [0, 1], bicubic, clipped)."""
    frame = warp(still, transform, output_shape=size, order=3, mode="edge", preserve_range=True)
    return np.clip(frame, 0.0, 1.0).astype(np.float32)


def grain(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Film grain: Gaussian noise of :data:`GRAIN_SIGMA`, clumped by a blur of :data:`GRAIN_BLUR` px.

    Monochrome (the same in R, G and B: black-and-white stock); float [0, 1] in and out.
    """
    noise = ndimage.gaussian_filter(rng.standard_normal(frame.shape[:2]).astype(np.float32), GRAIN_BLUR)
    noise *= GRAIN_SIGMA / max(float(noise.std()), 1e-6)  # the blur lowers the spread: restore it
    return np.clip(frame + noise[..., None], 0.0, 1.0)


def old_film(frame: np.ndarray, t: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Age one frame (float [0, 1] RGB) at time ``t`` seconds: ``(aged, truth)``.

    In the order a print gets them: gate weave (the whole picture moves by a random sub-pixel
    shift of :data:`WEAVE_SIGMA` px, bilinear, edges repeated), then grain (:func:`grain`),
    brightness flicker (gain ``1 + a sin(2 pi f t) + N(0, FLICKER_SIGMA)``, :data:`FLICKER_SWING`),
    vertical scratches (:data:`SCRATCHES_PER_FRAME` on average, 1-2 px wide, light or dark),
    and a vignette (brightness times ``1 - VIGNETTE r^2``, r = 1 in the corners). ``truth`` is
    the clean frame moved by the same weave.
    """
    shift = rng.normal(0.0, WEAVE_SIGMA, size=2)
    moved = ndimage.shift(frame, (shift[0], shift[1], 0.0), order=1, mode="nearest")
    aged = grain(moved, rng)
    amplitude, frequency = FLICKER_SWING
    aged = aged * (1.0 + amplitude * math.sin(2 * math.pi * frequency * t) + rng.normal(0.0, FLICKER_SIGMA))
    aged = _scratched(aged, rng) * _vignette(frame.shape[:2])[..., None]
    return np.clip(aged, 0.0, 1.0).astype(np.float32), moved


def _scratched(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = frame.copy()
    for _ in range(rng.poisson(SCRATCHES_PER_FRAME)):
        column, width = int(rng.integers(0, frame.shape[1])), int(rng.integers(1, 3))
        out[:, column : column + width] = rng.choice((0.08, 0.95))
    return out


def _vignette(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = (np.linspace(-1.0, 1.0, side, dtype=np.float32) for side in shape)
    radius2 = (rows[:, None] ** 2 + cols[None, :] ** 2) / 2.0
    return 1.0 - VIGNETTE * radius2
