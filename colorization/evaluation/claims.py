"""The paper's six qualitative claims, turned into measurements with computed verdicts.

Each ``claim_*`` function takes the per-image evaluation table (one row per image and
method, columns = :data:`colorization.metrics.METRIC_KEYS`, ``category``,
``relpath``, ``method``) and returns a :class:`Verdict`: the numbers, a 95% bootstrap
confidence interval, and ``supported`` / ``not supported`` / ``inconclusive`` decided
by the rule written in the function — never typed in by hand.

The rule common to all claims (bootstrap interval, sign, minimum images) is in
:mod:`colorization.evaluation.verdicts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from colorization.data.categories import CONTENT_GROUPS, group_of
from colorization.evaluation.image_claims import claim_fragments, claim_small_details, fragment_views
from colorization.evaluation.verdicts import Verdict, bootstrap_ci, decide, write_verdicts

__all__ = [  # the claims, in the paper's order, and what notebook 04 reads them with
    "claim_plausible",
    "claim_colder",
    "claim_sand_as_water",
    "claim_many_colours",
    "claim_small_details",
    "claim_brown",
    "claim_fragments",
    "ablation_verdicts",
    "method_means",
    "sand_scenes",
    "with_claim_columns",
    "extremes",
    "fragment_views",
    "write_verdicts",
    "Verdict",
]

SAND_IMAGE_MIN_SHARE = 0.05  # an image counts as a sand scene if >= 5% of its pixels are sand-like

# Objects that come in many colours (claim 4); the content groups (claim 1) are
# colorization.data.categories'. Names present in neither data set are simply absent.
MANY_COLOUR_CATEGORIES = (
    "soccer_ball",
    "umbrella",
    "butterfly",
    "ewer",
    "cup",
    "chair",
    "lamp",
    "003.backpack",
    "010.beer-mug",
    "011.billiards",
    "023.bulldozer",
    "080.frog",
    "128.lathe",
    "235.umbrella-101",
    "255.tennis-shoes",
)


def paired(per_image: pd.DataFrame, metric: str, method: str, baseline: str) -> pd.DataFrame:
    """Per image: ``metric`` of ``method`` and of ``baseline`` side by side, and their difference."""
    table = per_image.pivot_table(index=["relpath", "category"], columns="method", values=metric, aggfunc="first")
    out = pd.DataFrame({method: table[method], baseline: table[baseline]})
    out["difference"] = out[method] - out[baseline]
    return out.reset_index()


def claim_plausible(per_image: pd.DataFrame, method: str = "model", baseline: str = "gray") -> list[Verdict]:
    """Claim 1: plausible colours for landscapes, animals and portraits.

    Measured as the AuC gain over the gray baseline (AuC: share of pixels whose ab
    error is under each threshold 0-150). Plausible = closer to the true colours
    than leaving the image gray. One verdict per content group present.
    """
    gains = paired(per_image, "auc", method, baseline)
    gains["group"] = gains["category"].map(group_of)
    verdicts = []
    for group in CONTENT_GROUPS:
        part = gains[gains["group"] == group]
        if part.empty:
            continue
        verdicts.append(
            decide(
                f"1. plausible colours: {group}",
                f"AuC({method}) - AuC({baseline})",
                part["difference"],
                +1,
                f"{group} content",
                {"categories": sorted(part["category"].unique())},
            )
        )
    return verdicts


def claim_colder(per_image: pd.DataFrame, method: str = "model") -> Verdict:
    """Claim 2: colours mostly right but in slightly colder hues: mean Δb* < 0.

    Δb* = b*(prediction) − b*(truth), averaged over each image's pixels; negative is
    bluer. The warmth shift (projection on the orange–blue axis) is reported beside it.
    """
    rows = per_image[per_image["method"] == method]
    details = {
        "mean_warmth_shift": float(np.nanmean(rows["warmth_shift"])),
        "warmth_shift_ci": bootstrap_ci(rows["warmth_shift"]),
    }
    return decide("2. colder hues", "mean Δb* (prediction − truth)", rows["delta_b"], -1, "colour", details)


def sand_share(per_image: pd.DataFrame) -> pd.Series:
    """Per row: the share of the image's pixels that are sand-like in the ground truth
    (``sand_pixels`` over the image's own height x width, at whatever resolution the
    evaluation ran)."""
    return per_image["sand_pixels"] / (per_image["height"] * per_image["width"])


def sand_scenes(per_image: pd.DataFrame, method: str = "model") -> pd.Series:
    """Rows of ``method`` whose image is a sand scene (>= :data:`SAND_IMAGE_MIN_SHARE` sand-like)."""
    return (per_image["method"] == method) & (sand_share(per_image) >= SAND_IMAGE_MIN_SHARE)


def brown_excess(per_image: pd.DataFrame) -> pd.Series:
    """Per row: brown/sepia share of the prediction minus that of the ground truth (claim 5)."""
    return per_image["brown_pred"] - per_image["brown_true"]


def with_claim_columns(per_image: pd.DataFrame) -> pd.DataFrame:
    """The per-image table plus the derived columns the claims are read from:
    ``brown_excess`` (:func:`brown_excess`) and ``sand_share`` (:func:`sand_share`)."""
    return per_image.assign(brown_excess=brown_excess(per_image), sand_share=sand_share(per_image))


def claim_sand_as_water(per_image: pd.DataFrame, method: str = "model") -> Verdict:
    """Claim 3: sand coloured blue, as if it were water.

    Among sand scenes (>= 5% of pixels sand-like by ground-truth hue, chroma and
    lightness; see :func:`colorization.metrics.sand_as_water`), the share of sand
    pixels the prediction paints blue. Statistic: that share minus 0.05 (our
    tolerance: a few blue pixels at sand edges are interpolation, not confusion), so
    "supported" needs a blue share clearly above 5%.
    """
    scenes = per_image[sand_scenes(per_image, method)]
    return decide(
        "3. sand painted as water",
        "share of sand pixels painted blue − 0.05",
        scenes["sand_as_water"] - 0.05,
        +1,
        "sand scenes",
        {
            "sand_scenes": sorted(scenes["relpath"]),
            "mean_blue_share": float(np.nanmean(scenes["sand_as_water"])) if len(scenes) else float("nan"),
        },
    )


def claim_many_colours(per_image: pd.DataFrame, method: str = "model", baseline: str = "gray") -> Verdict:
    """Claim 4 (objects that come in many colours): their AuC gain over gray is smaller than other objects'.

    Statistic: mean AuC gain of the other categories minus that of many-colour
    categories, per many-colour image (positive supports the claim).
    """
    gains = paired(per_image, "auc", method, baseline)
    many = gains["category"].isin(MANY_COLOUR_CATEGORIES)
    others_mean = float(gains.loc[~many, "difference"].mean()) if (~many).any() else float("nan")
    return decide(
        "4. many-coloured objects coloured poorly",
        "AuC gain: others − many-coloured",
        others_mean - gains.loc[many, "difference"],
        +1,
        "many-coloured objects",
        {"categories": sorted(gains.loc[many, "category"].unique()), "others_mean_gain": others_mean},
    )


def claim_brown(per_image: pd.DataFrame, method: str = "model") -> Verdict:
    """Claim 5: when unsure, the network paints brown/sepia: brown share of prediction > of truth."""
    rows = per_image[per_image["method"] == method]
    return decide(
        "5. brown/sepia when unsure",
        "brown share: prediction − truth",
        brown_excess(rows),
        +1,
        "chromatic pixels",
        {"mean_brown_pred": float(rows["brown_pred"].mean()), "mean_brown_true": float(rows["brown_true"].mean())},
    )


def ablation_verdicts(per_image: pd.DataFrame, ablation: str) -> list[Verdict]:
    """Claims 2, 3, 5 and 1 measured on an ablation model's rows, labelled ``[ablation]``
    (empty when the table has no rows of that method)."""
    if ablation not in set(per_image["method"]):
        return []
    verdicts = [claim(per_image, method=ablation) for claim in (claim_colder, claim_sand_as_water, claim_brown)]
    verdicts += claim_plausible(per_image, method=ablation)
    return [verdict.labelled(ablation) for verdict in verdicts]


ABLATION_COLUMNS = ("auc", "ab_rmse", "psnr", "delta_cf", "brown_pred", "delta_b", "sand_as_water")


def method_means(per_image: pd.DataFrame, columns=ABLATION_COLUMNS) -> pd.DataFrame:
    """Mean of ``columns`` per method (NaN skipped), rounded for display."""
    return per_image.groupby("method")[list(columns)].mean().round(4)


def extremes(
    per_image: pd.DataFrame, column: str, method: str = "model", n: int = 3, among: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` images of ``method`` with the highest and the lowest ``column`` (NaN skipped)."""
    rows = per_image[per_image["method"] == method]
    if among is not None:
        rows = rows[among.reindex(rows.index, fill_value=False)]
    rows = rows.dropna(subset=[column]).sort_values(column, ascending=False)
    return rows.head(n), rows.tail(n).iloc[::-1]
