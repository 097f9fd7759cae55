"""The colour-hint protocol: the same stored-seed hints for every method, flat automatic line,
summary with standard errors, the targets computed from the table, and its files."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from colorization.evaluation import hint_curve
from colorization.model import build_paper_model


@pytest.fixture(scope="module")
def small_data(real_photos):
    from colorization.io.preprocess import paper_crop

    views = np.stack([paper_crop(photo) for photo in list(real_photos.values())[:2]])
    items = pd.DataFrame({"row": [0, 1], "relpath": ["a/one.jpg", "b/two.jpg"]})
    return SimpleNamespace(items=items, cache=SimpleNamespace(images=views))


def test_curve_rows_and_summary(small_data):
    methods = hint_curve.curve_methods(paper=build_paper_model(None), hints=build_paper_model(None, hints=True))
    counts = (0, 2, 10)
    per_image = hint_curve.run_hint_curve(methods, small_data, counts, progress=False)
    assert len(per_image) == 2 * 3 * len(counts)
    assert per_image["seed"].tolist()[0] == hint_curve.image_seed("a/one.jpg", 0)
    automatic = per_image[per_image["method"] == "automatic"].groupby("relpath")["psnr"].nunique()
    assert (automatic == 1).all()  # takes no hints: a flat line
    levin = per_image[per_image["method"] == "levin"].set_index(["relpath", "n"])["psnr"]
    assert (levin.xs(10, level="n") > levin.xs(0, level="n")).all()  # hints from the truth help Levin et al.
    summary = hint_curve.summarize_curve(per_image)
    assert set(summary.columns) >= {"psnr_mean", "psnr_sem", "auc_mean", "auc_sem", "images"}
    assert (summary["images"] == 2).all()
    again = hint_curve.run_hint_curve(methods, small_data, counts, progress=False, workers=1)
    pd.testing.assert_frame_equal(per_image, again)  # the stored seeds reproduce the curve exactly


@pytest.mark.subprocess
def test_levin_solves_in_worker_processes_give_the_same_table(small_data, monkeypatch):
    methods = hint_curve.curve_methods(levin=True)
    counts = (0, 1, 5)
    alone = hint_curve.run_hint_curve(methods, small_data, counts, progress=False, workers=1)
    pools = []
    real_pool = hint_curve.cpu_pool

    def counted(*args):
        pool = real_pool(*args)
        pools.append(type(pool).__name__)
        return pool

    monkeypatch.setattr(hint_curve, "cpu_pool", counted)
    spread = hint_curve.run_hint_curve(methods, small_data, counts, progress=False, workers=2)
    assert pools == ["ProcessPoolExecutor"]
    pd.testing.assert_frame_equal(alone, spread)


def test_targets_are_computed_from_the_summary():
    rows = [("automatic", 10, 20.0), ("hint network", 10, 22.5), ("levin", 10, 23.0), ("hint network", 5, 21.0)]
    rows += [("levin", 5, 20.5), ("automatic", 5, 20.0)]
    summary = pd.DataFrame(rows, columns=["method", "n", "psnr_mean"])
    targets = hint_curve.curve_targets(summary)
    assert targets["gain_db_at_10"] == {"value": 2.5, "target": 2.0, "met": True}
    assert targets["above_levin_up_to_20"]["met"] is False
    assert targets["above_levin_up_to_20"]["margins_db"] == {5: 0.5, 10: -0.5}


def test_write_curve(tmp_path, small_data):
    methods = hint_curve.curve_methods(paper=build_paper_model(None), levin=False)
    per_image = hint_curve.run_hint_curve(methods, small_data, (0, 1), progress=False)
    summary = hint_curve.summarize_curve(per_image)
    paths = hint_curve.write_curve(per_image, summary, tmp_path / "hints")
    assert pd.read_csv(paths["per_image"]).shape[0] == len(per_image)
    assert "targets" in json.loads(paths["targets"].read_text())
    assert "| automatic |" in paths["markdown"].read_text()
