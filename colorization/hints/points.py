"""Colour hints as data: the :class:`Hint`, its JSON file, and its planes on the network's view.

What a hint is, the file format and the rule that scales a radius to the network's view:
:mod:`colorization.hints`. Every way in (a file, parsed JSON from the app, :class:`Hint` objects
from Python) goes through :func:`parse_hints`, which refuses bad input with one :class:`HintError` line.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization.io.files import write_text_atomic
from colorization.io.preprocess import PAPER_SIZE
from colorization.lab import rgb_to_lab

DEFAULT_RADIUS = 2  # input pixels: a 5x5 patch (the rule: colorization.hints)
MAX_RADIUS = 256  # input pixels: a hint is a point with a small patch, not a fill tool
MAX_HINTS = 10_000  # more is no longer a person's hints: refused
MAX_FILE_BYTES = 4 << 20  # 4 MiB: MAX_HINTS pretty-printed hints are about 1.5 MiB
AB_LIMIT = 128.0  # |a|, |b| of any sRGB colour stay below this (colorization.lab.AB_SCALE)
KEYS = frozenset({"x", "y", "rgb", "ab", "radius"})
EXAMPLE = '{"x": 120, "y": 48, "rgb": [200, 30, 30], "radius": 2}'


@dataclass(frozen=True)
class Hint:
    """One colour hint: position ``x`` (column), ``y`` (row) in input pixels, chroma ``ab`` (CIE Lab units)
    and the patch ``radius`` in input pixels."""

    x: float
    y: float
    ab: tuple[float, float]
    radius: int = DEFAULT_RADIUS

    def as_json(self) -> dict:
        """The hint as its file writes it: ``{"x", "y", "ab", "radius"}``."""
        return {"x": float(self.x), "y": float(self.y), "ab": [float(v) for v in self.ab], "radius": int(self.radius)}


class HintError(ValueError):
    """Bad hints: one line naming the file (or ``source``), the hint and the problem, and what to do."""


def load_hints(path: str | Path, image_shape) -> list[Hint]:
    """Read a hints file (JSON, never code; the format: :mod:`colorization.hints`) for an image of ``image_shape``.

    Raises
    ------
    HintError
        One line naming the file: unreadable, over :data:`MAX_FILE_BYTES`, not UTF-8, not JSON
        (NaN and Infinity are not JSON; duplicate keys are refused), or any problem of :func:`parse_hints`.
    """
    source = " ".join(str(path).split())
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise HintError(
            f"{source}: cannot be read ({error.strerror or error}); give the path of a hints file"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise HintError(f"{source}: larger than {MAX_FILE_BYTES >> 20} MiB; give at most {MAX_HINTS} hints in a file")
    return parse_hints(parse_json(raw, source), image_shape, source)


def parse_json(raw: bytes, source: str):
    """The JSON value in ``raw`` (UTF-8, a BOM allowed); HintError naming ``source`` otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HintError(
            f"{source}: not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start}); save it as UTF-8"
        ) from None

    def refuse_constant(name):
        raise HintError(f"{source}: {name} is not a number JSON allows; give finite numbers")

    def unique_keys(pairs):
        hint = dict(pairs)
        if len(hint) < len(pairs):
            seen = set()
            repeated = next(key for key, _ in pairs if key in seen or seen.add(key))
            raise HintError(f"{source}: the key {shown(repeated)} appears twice in one hint; keep one")
        return hint

    try:
        return json.loads(text, parse_constant=refuse_constant, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        raise HintError(
            f"{source}: not valid JSON ({error.msg}, line {error.lineno} column {error.colno}); write a list of hints"
        ) from None
    except RecursionError:
        raise HintError(f"{source}: nested too deeply to be a list of hints; write a list like [{EXAMPLE}]") from None
    except HintError:
        raise
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise HintError(
            f"{source}: not valid JSON ({' '.join(str(error).split())[:80]}); write plain numbers"
        ) from None


def save_hints(path: str | Path, hints, overwrite: bool = False) -> Path:
    """Write ``hints`` (a list of :class:`Hint`) as a hints file, atomically, one hint a line (ab form).

    An existing file is kept unless ``overwrite`` (:class:`colorization.io.files.OutputExistsError`).
    """
    entries = [json.dumps(hint.as_json(), allow_nan=False) for hint in hints]
    text = "[\n" + ",\n".join(f"  {entry}" for entry in entries) + "\n]\n" if entries else "[]\n"
    return write_text_atomic(path, text, overwrite=overwrite)


def parse_hints(obj, image_shape, source: str = "hints") -> list[Hint]:
    """Validate already-parsed hints (a list of dicts as in the file, or of :class:`Hint`) for an image.

    Parameters
    ----------
    obj : list
        What ``json.load`` gives for a hints file; an empty list is no hints.
    image_shape : tuple
        ``(H, W, ...)`` of the input image the positions refer to.
    source : str
        What the messages name (the file's path for :func:`load_hints`).

    Raises
    ------
    HintError
        For anything but a list of at most :data:`MAX_HINTS` valid hints inside the image.
    """
    height, width = image_size(image_shape)
    if isinstance(obj, dict):
        raise HintError(f"{source}: a JSON object, not a list of hints; write them as [{EXAMPLE}, ...]")
    if not isinstance(obj, (list, tuple)):
        raise HintError(f"{source}: {kind(obj)}, not a list of hints; write them as [{EXAMPLE}, ...]")
    if len(obj) > MAX_HINTS:
        raise HintError(f"{source}: {len(obj)} hints, more than {MAX_HINTS}; give at most {MAX_HINTS}")
    return [parse_entry(entry, f"{source}: hint {index}", height, width) for index, entry in enumerate(obj)]


def image_size(image_shape) -> tuple[int, int]:
    """``(H, W)`` of an image shape ``(H, W, ...)``; ValueError unless both are positive."""
    height, width = (int(side) for side in tuple(image_shape)[:2])
    if height < 1 or width < 1:
        raise ValueError(f"expected an image shape (H, W, ...) with H, W >= 1, got {tuple(image_shape)}")
    return height, width


def parse_entry(entry, where: str, height: int, width: int) -> Hint:
    """One hint (a dict as in the file, or a :class:`Hint`) checked against an image of ``height`` x ``width``."""
    if isinstance(entry, Hint):
        entry = dict(vars(entry))  # its fields as they are: checked like a file's
    if not isinstance(entry, dict):
        raise HintError(f"{where}: {kind(entry)}, not an object; write each hint like {EXAMPLE}")
    unknown = sorted(str(key) for key in entry if key not in KEYS)
    if unknown:
        raise HintError(f"{where}: unknown key {unknown[0]!r}; use only x, y, rgb or ab, and radius")
    for key in ("x", "y"):
        if key not in entry:
            raise HintError(f"{where}: no {key!r}; give it, as in {EXAMPLE}")
    x = coordinate(entry["x"], f"{where}: x", width, "width")
    y = coordinate(entry["y"], f"{where}: y", height, "height")
    radius = patch_radius(entry.get("radius", DEFAULT_RADIUS), f"{where}: radius")
    return Hint(x, y, colour(entry, where), radius)


def number(value, where: str) -> float:
    """``value`` (a JSON or numpy number) as a finite float; HintError for bools, strings, lists, NaN, infinities."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HintError(f"{where}: {kind(value)}, not a number; write a plain number such as 120")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise HintError(f"{where}: {shown(value)} is not a finite number; give a number within range")
    return result


def coordinate(value, where: str, side: int, side_name: str) -> float:
    """A position along a side of ``side`` pixels: ``0 <= value < side``."""
    result = number(value, where)
    if not 0 <= result < side:
        raise HintError(
            f"{where} = {result:g} is outside the image (0 <= value < {side}, its {side_name}); "
            "give a position inside the image, counted from its top-left corner"
        )
    return result


def patch_radius(value, where: str) -> int:
    """A radius: a whole number from 0 to :data:`MAX_RADIUS`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise HintError(f"{where}: {kind(value)}, not a whole number of pixels; give e.g. {DEFAULT_RADIUS}")
    if not 0 <= value <= MAX_RADIUS:
        raise HintError(f"{where} = {shown(value)} is not within 0..{MAX_RADIUS} pixels; give a radius in that range")
    return int(value)


def colour(entry: dict, where: str) -> tuple[float, float]:
    """The hint's ab, from exactly one of ``rgb`` (0..255 sRGB, at its own L) or ``ab`` (within +-128)."""
    if ("rgb" in entry) == ("ab" in entry):
        raise HintError(
            f"{where}: not exactly one colour; give one of 'rgb' (e.g. [200, 30, 30]) or 'ab' (e.g. [60, 40])"
        )
    if "ab" in entry:
        a, b = channels(entry["ab"], 2, f"{where}: ab", -AB_LIMIT, AB_LIMIT)
        return a, b
    rgb = channels(entry["rgb"], 3, f"{where}: rgb", 0.0, 255.0)
    lab = rgb_to_lab(np.array(rgb, dtype=np.float64) / 255.0)
    return float(lab[1]), float(lab[2])


def channels(value, count: int, where: str, low: float, high: float) -> tuple[float, ...]:
    """A list (or 1-D array) of ``count`` finite numbers, each within ``[low, high]``."""
    value = value.tolist() if isinstance(value, np.ndarray) else value
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise HintError(
            f"{where}: {kind(value)}, not a list of {count} numbers; write e.g. [{', '.join(['60'] * count)}]"
        )
    values = tuple(number(item, f"{where}[{index}]") for index, item in enumerate(value))
    for index, item in enumerate(values):
        if not low <= item <= high:
            raise HintError(f"{where}[{index}] = {item:g} is not within {low:g}..{high:g}; give a value in that range")
    return values


def kind(value) -> str:
    """What a JSON value is, for a message: 'a string', 'a list of 2', 'true', ..."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"a string ({shown(value)})"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return shown(value) if isinstance(value, numbers.Number) else f"a {type(value).__name__}"


def shown(value) -> str:
    """A value as a message shows it: its repr, one line, at most 40 characters."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str() (Python's digit limit)
        return "a number of thousands of digits"
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def view_patch(hint: Hint, image_hw: tuple[int, int], view_hw: tuple[int, int]) -> tuple[slice, slice]:
    """The rows and columns of ``hint``'s patch on a ``view_hw`` resampling of an ``image_hw`` image."""
    (height, width), (view_h, view_w) = image_hw, view_hw
    scale_y, scale_x = view_h / height, view_w / width
    row = min(view_h - 1, math.floor((math.floor(hint.y) + 0.5) * scale_y))
    column = min(view_w - 1, math.floor((math.floor(hint.x) + 0.5) * scale_x))
    half_h, half_w = math.floor(hint.radius * scale_y + 0.5), math.floor(hint.radius * scale_x + 0.5)
    rows = slice(max(0, row - half_h), min(view_h, row + half_h + 1))
    return rows, slice(max(0, column - half_w), min(view_w, column + half_w + 1))


def hint_planes(hints, image_shape, size: int | tuple[int, int] = PAPER_SIZE) -> np.ndarray:
    """The hints as planes (a, b, mask) on the network's ``size`` x ``size`` view of a "full"-mode image.

    Parameters
    ----------
    hints : list of Hint or of dicts
        Positions in the input image's pixels (checked by :func:`parse_hints`).
    image_shape : tuple
        ``(H, W, ...)`` of the input image.
    size : int or (int, int)
        The view: 256 (the network's) or ``(height, width)``; the image's own ``(H, W)`` paints
        the patches in input pixels.

    Returns
    -------
    ndarray, shape (view_h, view_w, 3), float32
        a, b in Lab units where mask is 1, all 0 elsewhere. Where patches overlap, later hints win.
    """
    hints = parse_hints(hints, image_shape)
    view_hw = (int(size), int(size)) if isinstance(size, numbers.Integral) else tuple(int(side) for side in size)
    planes = np.zeros(view_hw + (3,), dtype=np.float32)
    for hint in hints:
        planes[view_patch(hint, image_size(image_shape), view_hw)] = (hint.ab[0], hint.ab[1], 1.0)
    return planes
