"""Choosing the default vividness: the sweep (one prediction, many decodings), the rule, the
registry that ships its result, and the evaluation tables that report it."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colorization.ablation import quantize as q
from colorization.colorize import render
from colorization.decoding import RawPrediction, decode, decode_many
from colorization.evaluation import ModelMethod, load_data, select_evenly, tables
from colorization.evaluation import vividness_sweep as vs
from colorization.evaluation.runner import model_methods
from colorization.metrics import image_metrics
from colorization.weights import REGISTRY_FILE, registry
from colorization.weights.defaults import record_vividness

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_CHOICE = ROOT / "results" / "caltech101" / "vividness" / "chosen.json"


def _table(rows):
    frame = pd.DataFrame(rows, columns=["method", "vividness", "auc", "delta_cf"])
    frame["images"] = 10
    return frame


def test_the_rule_takes_the_most_faithful_colourfulness_within_the_auc_tolerance():
    table = _table(
        [
            ("a", 1.0, 0.90, -20.0),
            ("a", 2.0, 0.89, -5.0),
            ("a", 3.0, 0.87, 3.0),  # closest colourfulness, but 0.03 below the best AuC
            ("b", 1.5, 0.81, 4.0),  # a tie on |delta_cf|: the value nearer 1 wins
            ("b", 0.25, 0.80, -4.0),
            ("b", 4.0, 0.70, 0.0),
        ]
    )
    choices = vs.choose(table)
    assert choices["a"]["vividness"] == 2.0 and choices["a"]["best_auc"] == 0.90
    assert choices["b"]["vividness"] == 1.5
    assert vs.choose(table, tolerance=0.04)["a"]["vividness"] == 3.0
    assert vs.choose(table, tolerance=0.2)["b"]["vividness"] == 4.0


def test_summary_means_standard_errors_and_one_choice_per_model():
    rng = np.random.default_rng(0)
    rows = []
    for method in ("m1", "m2"):
        for value in (1.0, 2.0, 3.0):
            for image in range(5):
                scores = {key: rng.normal() for key in vs.SWEEP_METRICS}
                rows.append({"relpath": f"i{image}", "method": method, "vividness": value, **scores})
    sweep = pd.DataFrame(rows)
    table = vs.summarize_sweep(sweep)
    expected = sweep.groupby(["method", "vividness"])["auc"].agg(["mean", "sem"])
    for row in table.itertuples():
        assert row.auc == pytest.approx(expected.loc[(row.method, row.vividness), "mean"])
        assert row.auc_sem == pytest.approx(expected.loc[(row.method, row.vividness), "sem"])
    assert list(table["method"].unique()) == ["m1", "m2"] and (table["images"] == 5).all()
    assert table.groupby("method")["chosen"].sum().to_dict() == {"m1": 1, "m2": 1}


def test_decode_many_is_decode_at_each_value():
    rng = np.random.default_rng(1)
    probs = rng.random((2, 4, 4, q.NUM_BINS)).astype(np.float32)
    probs /= probs.sum(-1, keepdims=True)
    raw = RawPrediction(probs, classification=True)
    for value, ab in zip((0.5, 1.0, 2.5), decode_many(raw, (0.5, 1.0, 2.5)), strict=True):
        np.testing.assert_allclose(ab, q.annealed_mean(probs, 1.0 / value), atol=1e-5)
        np.testing.assert_allclose(ab, decode(raw, value), atol=1e-6)
    ab = rng.normal(0, 20, (2, 4, 4, 2)).astype(np.float32)
    gained = decode_many(RawPrediction(ab, classification=False), (1.0, 2.0))
    np.testing.assert_array_equal(gained[0], ab)
    np.testing.assert_allclose(gained[1], 2 * ab)


def test_classification_is_decoded_before_its_nearest_upsampling_with_the_same_pixels():
    import importlib

    import keras

    from colorization.model import build_paper_model

    colorize = importlib.import_module("colorization.colorize")
    decoding = importlib.import_module("colorization.decoding")
    keras.utils.set_random_seed(0)
    views = np.random.default_rng(2).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    for upsampling, halved in (("nearest", True), ("bilinear", False)):
        model = build_paper_model(32, upsampling=upsampling, head="classification", bins=q.NUM_BINS)
        raws = list(decoding.raw_predictions(model, views))
        assert [r.repeat for r in raws] == [2 if halved else 1] * 2
        assert raws[0].values.shape[1] == (16 if halved else 32)
        full = [decoding.RawPrediction(np.asarray(model.predict_on_batch(colorize.network_input(views))), True)]
        for value in (1.0, 2.5):
            np.testing.assert_allclose(
                np.concatenate([decode(raw, value) for raw in raws]), decode(full[0], value), atol=1e-4
            )
    wrapped = CountingModel(model)  # not a keras.Model (an exported runtime, say): decoded at full size
    assert decoding.bins_before_upsampling(wrapped) is None


@pytest.fixture(scope="module")
def three_images(tmp_path_factory):
    data = load_data("sample", split="all", seed=0, cache_dir=tmp_path_factory.mktemp("c"), workers=1, progress=False)
    items = data.items.iloc[select_evenly(len(data.items), 3)].reset_index(drop=True)
    return replace(data, items=items, limit=3)


class CountingModel:
    """A model wrapper that counts network calls."""

    def __init__(self, model):
        self.model, self.calls = model, 0
        self.input_shape, self.output_shape = model.input_shape, model.output_shape

    def predict_on_batch(self, x):
        self.calls += 1
        return self.model.predict_on_batch(x)


def test_the_sweep_predicts_once_and_scores_like_the_evaluation(three_images, model):
    counting = CountingModel(model)
    sweep = vs.run_sweep({"m": counting}, three_images, (1.0, 2.0), batch_size=2, progress=False)
    assert counting.calls == 2  # two batches, whatever the number of values
    assert len(sweep) == 3 * 2 and set(sweep["vividness"]) == {1.0, 2.0}
    images = three_images.cache.images
    for row in sweep.itertuples():
        position = int(np.flatnonzero(three_images.items["relpath"] == row.relpath)[0])
        truth = np.asarray(images[three_images.items["row"][position]])
        ab = ModelMethod(model, vividness=row.vividness).predict_ab(truth[None])[0]
        expected = image_metrics(render(truth, ab), truth)
        for key in vs.SWEEP_METRICS:
            assert getattr(row, key) == pytest.approx(expected[key], rel=1e-6, abs=1e-9), key
    more = sweep[sweep["vividness"] == 2.0]["cf_pred"].to_numpy()
    assert (more > sweep[sweep["vividness"] == 1.0]["cf_pred"].to_numpy()).all()


def test_sweep_defaults_writes_the_table_and_the_choice(three_images, model, tmp_path):
    result = vs.sweep_defaults({"m": model}, three_images, tmp_path / "v", values=(1.0, 3.0), progress=False)
    choices = result.choices
    written = pd.read_csv(tmp_path / "v" / "sweep.csv")
    assert list(written["vividness"]) == [1.0, 3.0] and written["chosen"].sum() == 1
    record = json.loads((tmp_path / "v" / "chosen.json").read_text())
    assert record["chosen"]["m"]["vividness"] == choices["m"]["vividness"]
    assert record["provenance"]["data"]["split"] == "all" and record["provenance"]["grid"] == [1.0, 3.0]
    assert "`m`" in result.markdown and (tmp_path / "v" / "chosen.md").read_text() == result.markdown


def test_the_evaluation_scores_the_model_as_trained_and_at_its_default(model):
    class Registered:
        output_shape = (None, 256, 256, 2)
        default_vividness = 1.75

    names = [(m.name, m.used_vividness) for m in model_methods(Registered(), {})]
    assert names == [("model", 1.0), ("model_vivid", 1.75)]
    assert [(m.name, m.used_vividness) for m in model_methods(Registered(), {}, vividness=2.0)] == [("model", 2.0)]
    assert [m.name for m in model_methods(model, {})] == ["model"]  # not registered: as trained only
    info = {"model": {"vividness": 1.0, "default_vividness": 1.75}, "cls": {"vividness": 2.0, "default_vividness": 2.0}}
    note = tables.vividness_note(info)
    assert "`model` 1," in note and "`cls` 2 (its default)" in note


def test_record_vividness_fills_registered_models_only(tmp_path):
    registry_copy = tmp_path / "registry.json"
    shutil.copy(REGISTRY_FILE, registry_copy)
    name = next(iter(registry()))
    choice = {"vividness": 1.5, "rule": vs.RULE, "images": 7, "auc": 0.9, "best_auc": 0.91, "delta_cf": -1.0}
    chosen = tmp_path / "chosen.json"
    chosen.write_text(json.dumps({"chosen": {name: choice}, "provenance": {"data": {"source": "s", "split": "val"}}}))
    record_vividness(chosen, registry_copy, source="results/x/vividness/chosen.json")
    entry = json.loads(registry_copy.read_text())[name]["vividness"]
    assert entry["default"] == 1.5 and "s val split (7 images)" in entry["chosen_on"]
    chosen.write_text(json.dumps({"chosen": {"nobody": choice}}))
    with pytest.raises(ValueError, match="nobody"):
        record_vividness(chosen, registry_copy)


def test_the_shipped_defaults_are_the_published_sweeps_choice():
    """The registry's defaults are the ones the published Caltech-101 sweep chose, by the stated rule."""
    published = json.loads(PUBLISHED_CHOICE.read_text())["chosen"]
    table = pd.read_csv(PUBLISHED_CHOICE.parent / "sweep.csv")
    assert {"paper", "classification"} <= set(published)
    for name, entry in registry().items():
        if name not in published:  # not swept (the hint network): its head's default, nothing registered
            assert "vividness" not in entry, f"{name}: a registered vividness the published sweep did not choose"
            continue
        assert "vividness" in entry, f"{name}: no default vividness in the registry"
        assert entry["vividness"]["default"] == published[name]["vividness"]
        assert entry["vividness"]["source"] == PUBLISHED_CHOICE.relative_to(ROOT).as_posix()
        assert vs.choose(table)[name]["vividness"] == published[name]["vividness"]
