"""The two claims measured by running the network on images, not read from the
per-image table: small details (claim 4) and fragments (claim 6).

Each takes ``predict``, a callable (N, 256, 256, 3) uint8 -> (N, 256, 256, 2) ab (e.g. a
method's ``predict_ab``), and the ground-truth views, and returns a
:class:`~colorization.evaluation.verdicts.Verdict` by the common rule.
"""

from __future__ import annotations

import numpy as np

from colorization.evaluation.verdicts import Verdict, decide


def claim_small_details(predict, images: np.ndarray, edge_quantile: float = 0.9) -> Verdict:
    """Claim 4 (small details): ab error is larger on fine detail than on smooth areas.

    Per image: mean ab error on its detail pixels (the top 10% of the Sobel gradient
    of L) minus that on the other pixels. Positive supports the claim.

    Parameters
    ----------
    predict : callable
        (N, 256, 256, 3) uint8 -> (N, 256, 256, 2) ab, e.g. ``lambda v: predict_ab(model, v)``.
    images : ndarray, (N, 256, 256, 3) uint8
        Ground-truth views.
    """
    from skimage.filters import sobel

    from colorization.lab import rgb_to_lab

    differences = []
    for start in range(0, len(images), 16):
        batch = np.asarray(images[start : start + 16])
        predicted = predict(batch)
        for truth, ab in zip(batch, predicted, strict=True):
            lab = rgb_to_lab(truth)
            error = np.hypot(*np.moveaxis(ab - lab[..., 1:], -1, 0))
            gradient = sobel(lab[..., 0])
            detail = gradient >= np.quantile(gradient, edge_quantile)
            differences.append(float(error[detail].mean() - error[~detail].mean()))
    return decide("4. small details coloured poorly", "ab error: detail − smooth pixels", differences, +1, "detail")


def fragment_views(images: np.ndarray, zoom: int = 2) -> np.ndarray:
    """Centre fragments: the middle 1/zoom of each view, scaled back up to its size."""
    from colorization.io.preprocess import resize

    size = images.shape[1]
    part = size // zoom
    start = (size - part) // 2
    return np.stack([resize(np.asarray(v)[start : start + part, start : start + part], (size, size)) for v in images])


def claim_fragments(predict, images: np.ndarray, zoom: int = 2) -> Verdict:
    """Claim 6: images showing only fragments of objects end up sepia or brown.

    Each view's centre (1/zoom of its side) is shown to the network alone, scaled
    up, as a fragment. Statistic per image: brown share of the fragment's prediction
    minus the brown share of the whole view's prediction over the same region.
    Positive supports the claim.
    """
    from colorization.io.preprocess import resize
    from colorization.lab import rgb_to_lab
    from colorization.metrics import brown_sepia_score

    size = images.shape[1]
    part = size // zoom
    start = (size - part) // 2
    differences = []
    for begin in range(0, len(images), 16):
        batch = np.asarray(images[begin : begin + 16])
        whole = predict(batch)
        fragments = predict(fragment_views(batch, zoom))
        for truth, ab_whole, ab_fragment in zip(batch, whole, fragments, strict=True):
            lightness = rgb_to_lab(truth)[..., :1]
            region = (slice(start, start + part), slice(start, start + part))
            lab_whole = np.concatenate([lightness, ab_whole], -1)[region]
            lab_fragment = np.concatenate([resize(lightness, (size, size)), ab_fragment], -1)
            differences.append(brown_sepia_score(lab_fragment, space="lab") - brown_sepia_score(lab_whole, space="lab"))
    return decide("6. fragments end up brown/sepia", "brown share: fragment − whole view", differences, +1, "fragments")
