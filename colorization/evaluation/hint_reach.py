"""How far one colour point reaches: the hint network against Levin et al. (issue 17's analysis).

A point changes the hint network's colours only inside the network's receptive field: every layer
of the paper's table is a 3x3 convolution, three of them with stride 2, so an output pixel sees at
most :func:`receptive_field` = 91 input pixels across (45 on each side) of the 256x256 view.
Levin et al.'s optimization propagates a point along similar lightness over the whole image. This
module measures both: one point of a fixed, vivid colour at the centre of each image, and the mean
change of ab (CIE Lab units) in rings of distance from it:

* network: ``|ab(with the point) - ab(without)|``, both predicted by the hint network;
* Levin et al.: ``|ab(with the point)|`` (without any point it leaves every pixel gray).

References
----------
.. [1] Levin, A., Lischinski, D., Weiss, Y. "Colorization using optimization." SIGGRAPH 2004.
.. [2] Zhang, R. et al. "Real-Time User-Guided Image Colorization with Learned Deep Priors." SIGGRAPH 2017.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from colorization.hints.points import Hint

PROBE_AB = (60.0, -40.0)  # a vivid purple, far from the gray most photos' centres are near
RING_EDGES = (0, 4, 8, 16, 24, 32, 40, 48, 64, 96, 128, 182)  # pixels of the 256x256 view


def receptive_field(model) -> int:
    """The side, in input pixels, of what one output pixel of ``model`` sees (its convolutions and
    upsamplings in order: ``r += (k - 1) * jump``, ``jump *= stride``; an upsampling halves ``jump``)."""
    import keras

    size, jump = 1.0, 1.0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            size += (layer.kernel_size[0] - 1) * jump
            jump *= layer.strides[0]
        elif isinstance(layer, keras.layers.UpSampling2D):
            jump /= layer.size[0]
    return int(size)


def ring_means(change: np.ndarray, centre: tuple[float, float], edges=RING_EDGES) -> np.ndarray:
    """Mean of ``change`` (H, W) over each ring ``edges[i] <= distance < edges[i + 1]`` from ``centre`` (row, col)."""
    rows, cols = np.indices(change.shape)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    ring = np.digitize(distance, edges) - 1
    return np.array([change[ring == i].mean() if (ring == i).any() else np.nan for i in range(len(edges) - 1)])


def hint_reach(model, views: np.ndarray, ab=PROBE_AB, radius: int = 2) -> pd.DataFrame:
    """The mean ab change per ring of distance from one centred point, per method.

    Parameters
    ----------
    model : keras.Model
        The hint network (``load_weights(name="hints")``).
    views : ndarray (N, 256, 256, 3) uint8
        The images' 256x256 views.
    ab : (float, float)
        The point's colour; ``radius``: its patch, in view pixels.

    Returns
    -------
    DataFrame
        One row per (method, ring): ``method``, ``inner``, ``outer`` (pixels), ``change`` (mean
        over pixels and images, Lab units), ``images``.
    """
    from colorization.colorize import predict_ab
    from colorization.hints.levin import levin_ab_for_image
    from colorization.hints.points import hint_planes

    side = views.shape[1]
    point = [Hint(x=(side - 1) / 2, y=(side - 1) / 2, ab=tuple(ab), radius=radius)]
    planes = np.stack([hint_planes([], views.shape[1:3], side), hint_planes(point, views.shape[1:3], side)])
    centre = ((side - 1) / 2, (side - 1) / 2)
    rings = {"network": [], "levin": []}
    for view in views:
        without, with_point = predict_ab(model, np.stack([view, view]), None, planes)
        rings["network"].append(ring_means(np.hypot(*np.moveaxis(with_point - without, -1, 0)), centre))
        levin = levin_ab_for_image(view, point, size=side)
        rings["levin"].append(ring_means(np.hypot(*np.moveaxis(levin, -1, 0)), centre))
    rows = []
    for method, values in rings.items():
        means = np.nanmean(np.stack(values), axis=0)
        for inner, outer, change in zip(RING_EDGES[:-1], RING_EDGES[1:], means, strict=True):
            rows.append({"method": method, "inner": inner, "outer": outer, "change": change, "images": len(views)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m colorization.evaluation.hint_reach --cache DIR [--images N]``: N test images of a cache."""
    import argparse

    from colorization.data.cache import open_cache
    from colorization.weights import load_weights

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True, help="an image cache folder (notebook 01's), its test split used")
    parser.add_argument("--images", type=int, default=100, help="test images, evenly spaced over the split")
    args = parser.parse_args(argv)
    cache = open_cache(args.cache)
    if cache is None or not len(cache.rows("test")):
        parser.error(f"{args.cache}: not an image cache with a test split")
    rows = cache.rows("test")
    pick = rows[np.linspace(0, len(rows) - 1, min(args.images, len(rows))).astype(int)]
    model = load_weights(name="hints")
    table = hint_reach(model, np.asarray(cache.images[pick]))
    print(f"receptive field of the hint network: {receptive_field(model)} pixels of the view; {len(pick)} images")
    print(table.pivot(index=["inner", "outer"], columns="method", values="change").round(2).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
