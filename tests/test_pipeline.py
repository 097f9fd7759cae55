"""The notebook pipeline on the tiny profile, through papermill with the python3 kernel."""

import json
import math

import pytest

from colorization.repro import pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    executed = pipeline.run_pipeline("tiny", results_root=root)
    return root / "tiny", executed


def test_every_notebook_ran(tiny_results):
    folder, executed = tiny_results
    assert [p.stem for p in executed] == list(pipeline.PIPELINE)
    for path in executed:
        book = json.loads(path.read_text())
        errors = [o for c in book["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{path.name}: {errors[:1]}"
        assert book["metadata"]["papermill"]["parameters"]["profile"] == "tiny"


def test_expected_files(tiny_results):
    folder, _ = tiny_results
    for relative in [
        "data/manifest.csv",
        "data/per_category.csv",
        "data/excluded.csv",
        "data/provenance.json",
        "train/history.csv",
        "train/run.json",
        "evaluate/per_image.csv",
        "evaluate/per_category.csv",
        "evaluate/summary.json",
        "evaluate/summary.md",
        "analysis/verdicts.csv",
        "analysis/verdicts.md",
        "analysis/provenance.json",
        "figures/data_contact_sheet.png",
        "figures/train_loss.png",
        "figures/paper_figure.png",
        "figures/full_resolution.png",
        "figures/metric_distributions.png",
        "figures/best_worst_auc.png",
        "figures/claim_2__colder_hues.png",
        "figures/claim_fragments.png",
        "figures/ablation_brown_cases.png",
    ]:
        assert (folder / relative).is_file(), relative


def test_reported_metrics_are_finite(tiny_results):
    folder, _ = tiny_results
    summary = json.loads((folder / "evaluate" / "summary.json").read_text())
    assert set(summary["methods"]) == {"model", "gray", "mean_ab", "classification"}  # profiles/tiny.yaml: ablation
    for method, stats in summary["methods"].items():
        assert stats["images"] == 9
        assert len(stats["metrics"]) == 13
        for metric, values in stats["metrics"].items():
            # every metric is defined on some image (the tiny set has sand scenes too): a metric
            # that is NaN everywhere is a bug, not a skip
            assert values["valid"] >= 1, (method, metric, values)
            assert isinstance(values["mean"], float) and math.isfinite(values["mean"]), (method, metric)
    provenance = json.loads((folder / "analysis" / "provenance.json").read_text())
    assert provenance["profile"] == "tiny" and len(provenance["weights"]["sha256"]) == 64


def test_a_failing_notebook_is_named_with_its_cell(tmp_path):
    profile = tmp_path / "broken.yaml"
    profile.write_text("name: broken\ncommon:\n  source: /no/such/folder\n")
    with pytest.raises(pipeline.PipelineError, match=r"01_data: cell \d+ failed: ValueError: unknown source"):
        pipeline.run_pipeline(str(profile), only=["01_data"], results_root=tmp_path)


def test_unknown_profile_parameter_is_an_error(tmp_path):
    profile = tmp_path / "typo.yaml"
    profile.write_text("name: typo\nnotebooks:\n  01_data:\n    sead: 1\n")
    with pytest.raises(pipeline.PipelineError, match="sead"):
        pipeline.run_pipeline(str(profile), only=["01_data"], results_root=tmp_path)
