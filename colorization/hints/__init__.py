"""Colour hints: a user's colours at a few points, and the methods that spread them over the image.

A hint
------
A position in the input image's own pixels, a colour and a patch radius (:class:`Hint`). Positions
are continuous, from the top-left corner: pixel column ``i`` covers ``i <= x < i + 1`` (rows
likewise for ``y``), so ``0 <= x < W`` and ``0 <= y < H`` are inside and the hint's pixel is
``(floor(y), floor(x))``. Its patch is the ``(2 radius + 1)``-pixel square centred on that pixel,
clipped to the image. The colour is kept as CIE Lab chroma only: an ``rgb`` colour is converted
with :func:`colorization.lab.rgb_to_lab` at its own lightness and its a, b kept. A hint gives
chroma; the image keeps its own lightness.

The file
--------
A JSON list (never code), ``[{"x": 120, "y": 48, "rgb": [200, 30, 30], "radius": 2}]``: ``x``
column, ``y`` row; exactly one of ``rgb`` (0..255 sRGB) or ``ab`` (``[a, b]``, within +-128);
``radius`` optional, a whole number of input pixels (0..256, default 2). ``[]`` is no hints.
:func:`load_hints` refuses, in one line naming the file and the hint: a file over 4 MiB, more
than 10,000 hints, anything that is not such a list (an object, NaN, 1e309, strings or booleans
as numbers, duplicate or unknown keys), and positions outside the image. :func:`parse_hints`
checks already-parsed JSON (the app, the Python front door) the same way; :func:`save_hints`
writes a file atomically.

The radius on the network's view (our rule)
-------------------------------------------
A radius in input pixels marks the same part of the photo whatever its resolution. On the network's
256x256 view of a "full"-mode image (the whole image resized:
:func:`colorization.colorize.network_view`) x scales by ``256 / W`` and y by ``256 / H``: the
hint's view pixel holds the centre of its input pixel, and the patch's half-side is
``round(radius * 256 / W)`` columns and ``round(radius * 256 / H)`` rows, so a hint always marks
at least its own view pixel (:func:`hint_planes`; overlapping patches: later hints win). The
default radius 2 (5x5) is SIGGRAPH17's patch at the network's scale for photos of about 256
pixels a side, as this package evaluates on (Zhang et al. train on squares of 1-9 pixels at
256x256 and sweep with 6). On a 12-megapixel photo (4000x3000) a radius up to 5 marks a single
view pixel (1-pixel hints are in SIGGRAPH17's training too); a 5x5 view patch there needs about
31 (x) and 23 (y).

The two methods
---------------
* The hint network: SIGGRAPH17's extra input channels a, b and mask, which :func:`hint_planes`
  makes on the network's view.
* Levin, Lischinski and Weiss's optimization (SIGGRAPH 2004), training-free:
  :mod:`colorization.hints.levin` (imported on its own: it loads ``scipy.sparse.linalg``).

Both render with :func:`colorization.colorize.render`. The evaluation's simulated user is
:func:`hints_from_truth` (:mod:`colorization.hints.protocol`).
"""

from colorization.hints.points import (
    DEFAULT_RADIUS,
    MAX_FILE_BYTES,
    MAX_HINTS,
    MAX_RADIUS,
    Hint,
    HintError,
    hint_planes,
    load_hints,
    parse_hints,
    save_hints,
)
from colorization.hints.protocol import PROTOCOL_COUNTS, hints_from_truth

__all__ = [
    "DEFAULT_RADIUS", "MAX_FILE_BYTES", "MAX_HINTS", "MAX_RADIUS", "PROTOCOL_COUNTS", "Hint", "HintError",
    "hint_planes", "hints_from_truth", "load_hints", "parse_hints", "save_hints",
]  # fmt: skip
