"""The verdict rule and the claims' table logic (notebook 04 only calls these)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from colorization.evaluation import claims
from colorization.evaluation.verdicts import INCONCLUSIVE, MIN_IMAGES, NOT_SUPPORTED, SUPPORTED, decide


def table(rows):
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "values,sign,expected",
    [
        (np.full(20, 1.0) + np.linspace(-0.1, 0.1, 20), +1, SUPPORTED),
        (np.full(20, 1.0) + np.linspace(-0.1, 0.1, 20), -1, NOT_SUPPORTED),
        (np.linspace(-1, 1, 21), +1, INCONCLUSIVE),
        (np.ones(MIN_IMAGES - 1), +1, INCONCLUSIVE),
    ],
)
def test_decide_applies_the_rule(values, sign, expected):
    verdict = decide("x", "stat", values, sign, "things")
    assert verdict.verdict == expected
    assert verdict.n_images == len(values)
    assert verdict.ci_low <= verdict.value <= verdict.ci_high


def test_verdict_reads_as_one_sentence_and_relabels():
    verdict = decide("5. brown", "brown share", np.full(10, 0.2), +1, "pixels")
    text = str(verdict)
    assert text.startswith("**5. brown: supported**") and "0.2" in text and "n = 10" in text and "\n" not in text
    assert verdict.labelled("classification").claim == "5. brown [classification]"
    assert verdict.claim == "5. brown"  # the original is unchanged


def per_image_rows(method, n, height, width, sand_pixels, sand_as_water=0.5):
    return [
        {
            "relpath": f"beach/{i}.jpg",
            "category": "beach",
            "method": method,
            "height": height,
            "width": width,
            "sand_pixels": sand_pixels,
            "sand_as_water": sand_as_water,
            "brown_pred": 0.3,
            "brown_true": 0.1,
            "delta_b": -1.0 - 0.01 * i,
            "warmth_shift": -1.0,
            "auc": 0.9,
        }
        for i in range(n)
    ]


def test_sand_share_uses_each_images_own_size():
    # 4,000 sand pixels are 6% of a 256x256 view but 1.5% of a 512x512 image
    paper = table(per_image_rows("model", 6, 256, 256, 4000))
    full = table(per_image_rows("model", 6, 512, 512, 4000))
    assert claims.sand_scenes(paper).all() and not claims.sand_scenes(full).any()
    assert claims.claim_sand_as_water(paper).n_images == 6
    assert claims.claim_sand_as_water(full).n_images == 0


def test_claim_columns_and_ablation_verdicts():
    rows = table(
        per_image_rows("model", 8, 256, 256, 8000)
        + per_image_rows("classification", 8, 256, 256, 8000)
        + per_image_rows("gray", 8, 256, 256, 8000)
    )
    derived = claims.with_claim_columns(rows)
    np.testing.assert_allclose(derived["brown_excess"], 0.2)
    np.testing.assert_allclose(derived["sand_share"], 8000 / 65536)
    labelled = claims.ablation_verdicts(rows, "classification")
    assert [v.claim for v in labelled][:3] == [
        "2. colder hues [classification]",
        "3. sand painted as water [classification]",
        "5. brown/sepia when unsure [classification]",
    ]
    assert labelled[2].verdict == SUPPORTED  # brown 0.3 against 0.1 on every image
    assert claims.ablation_verdicts(rows, "no-such-model") == []


def test_write_verdicts(tmp_path):
    verdicts = [decide("2. colder hues", "mean Δb*", -np.ones(9), -1, "colour")]
    written = claims.write_verdicts(verdicts, tmp_path)
    assert list(written["verdict"]) == [SUPPORTED]
    assert "**supported**" in (tmp_path / "verdicts.md").read_text(encoding="utf-8")
    assert pd.read_csv(tmp_path / "verdicts.csv")["claim"].tolist() == ["2. colder hues"]
