"""The notebook pipeline on the tiny profile, through papermill with the python3 kernel,
started in the notebooks' folder as JupyterLab starts them."""

import contextlib
import io
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from colorization.repro import pipeline

pytestmark = pytest.mark.slow

ROOT = pipeline.ROOT


def tree(folder):
    """Every file under ``folder``: relative path -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def checkout_snapshot():
    """Where a notebook taking paths from its own folder, or its defaults, would write: every
    entry under ``notebooks/`` and ``results/``, with its modification time."""
    watched = [p for folder in ("notebooks", "results") for p in (ROOT / folder).rglob("*")]
    return {str(p.relative_to(ROOT)): p.stat().st_mtime_ns for p in watched}


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    before = checkout_snapshot()
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        executed = pipeline.run_pipeline("tiny", results_root=root, quiet=True)
    return root / "tiny", executed, {"before": before, "after": checkout_snapshot(), "printed": printed.getvalue()}


def test_nothing_is_written_outside_the_results_folder(tiny_results):
    folder, _, run = tiny_results
    changed = {k for k in run["before"].keys() | run["after"].keys() if run["before"].get(k) != run["after"].get(k)}
    assert not changed
    assert sorted(p.name for p in folder.parent.iterdir()) == [".lock-tiny", "tiny"]  # staging promoted


def test_quiet_prints_one_line_per_notebook(tiny_results):
    *_, run = tiny_results
    lines = run["printed"].splitlines()
    assert len(lines) == 2 * len(pipeline.PIPELINE) + 1 and all(line.startswith("[tiny] ") for line in lines)


def test_every_notebook_ran(tiny_results):
    folder, executed, _ = tiny_results
    assert [p.stem for p in executed] == list(pipeline.PIPELINE)
    for path in executed:
        book = json.loads(path.read_text())
        errors = [o for c in book["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{path.name}: {errors[:1]}"
        assert book["metadata"]["papermill"]["parameters"]["profile"] == "tiny"


def test_expected_files(tiny_results):
    folder, *_ = tiny_results
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
        "vividness/sweep.csv",
        "vividness/chosen.json",
        "vividness/chosen.md",
        "figures/vividness.png",
    ]:
        assert (folder / relative).is_file(), relative


def test_reported_metrics_are_finite(tiny_results):
    folder, *_ = tiny_results
    summary = json.loads((folder / "evaluate" / "summary.json").read_text())
    # profiles/tiny.yaml: the ablation; the shipped paper model's default vividness is not 1: model_vivid
    assert set(summary["methods"]) == {"model", "model_vivid", "gray", "mean_ab", "classification"}
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
    sweep = pd.read_csv(folder / "vividness" / "sweep.csv")
    assert set(sweep["method"]) == {"paper", "classification"} and (sweep["images"] == 9).all()
    assert np.isfinite(sweep[["auc", "delta_cf", "auc_sem"]].to_numpy()).all()
    assert sweep.groupby("method")["chosen"].sum().to_dict() == {"paper": 1, "classification": 1}


def test_a_failing_notebook_is_named_with_its_cell(tmp_path):
    profile = tmp_path / "broken.yaml"
    profile.write_text("name: broken\ncommon:\n  source: /no/such/folder\n")
    with pytest.raises(pipeline.PipelineError, match=r"01_data: cell \d+ failed: ValueError: unknown source"):
        pipeline.run_pipeline(str(profile), only=["01_data"], results_root=tmp_path)


def test_a_failing_third_notebook_leaves_the_last_good_results_as_they_were(tiny_results, tmp_path, capsys):
    root = tmp_path / "results"
    shutil.copytree(tiny_results[0], root / "tiny")
    before = tree(root / "tiny")
    profile = tmp_path / "broken.yaml"
    profile.write_text("name: tiny\nnotebooks:\n  03_evaluate:\n    weights: /no/such/weights.keras\n")
    with pytest.raises(pipeline.PipelineError, match=r"03_evaluate: cell \d+ failed: FileNotFoundError.*unchanged$"):
        pipeline.run_pipeline(str(profile), results_root=root)
    assert tree(root / "tiny") == before
    staged = list(root.glob(".staging-tiny-*"))  # left for inspection; the next run removes it
    assert len(staged) == 1 and (staged[0] / "03_evaluate.ipynb").is_file()
    assert "holds a finished run" in capsys.readouterr().out  # 02's output, streamed; train/ was carried over


def test_a_notebook_run_from_its_folder_with_its_defaults_writes_under_the_project_root(tmp_path):
    """JupyterLab's Run All: the kernel starts in notebooks/ and the parameters keep their defaults."""
    import papermill

    checkout = tmp_path / "checkout"  # a stand-in checkout, so that the defaults write into it
    (checkout / "colorization").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")
    (checkout / "notebooks").mkdir()
    shutil.copy(pipeline.NOTEBOOKS_DIR / "01_data.ipynb", checkout / "notebooks")
    papermill.execute_notebook(
        str(checkout / "notebooks" / "01_data.ipynb"),
        str(tmp_path / "executed.ipynb"),
        kernel_name="python3",
        cwd=str(checkout / "notebooks"),
        progress_bar=False,
    )
    written = {str(p.relative_to(checkout)) for p in checkout.rglob("*") if p.is_file()}
    assert "results/tiny/data/manifest.csv" in written
    assert {path.split("/")[0] for path in written} == {"results", "data", "notebooks", "pyproject.toml"}
    assert [path for path in written if path.startswith("notebooks/")] == ["notebooks/01_data.ipynb"]
    assert all(path.startswith("data/cache/") for path in written if path.startswith("data/"))
