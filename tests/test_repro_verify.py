"""The reviewer's path: published results are portable evidence, and a rerun is verified against them."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colorization.repro import evidence, verify

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = [p for p in (ROOT / "results" / "tiny", ROOT / "results" / "caltech101") if p.is_dir()]


def test_committed_results_carry_no_machine_paths():
    assert PUBLISHED, "no published results"
    for folder in PUBLISHED:
        assert evidence.absolute_paths(folder) == [], folder


def test_committed_notebooks_do_not_churn():
    for folder in PUBLISHED:
        for path in folder.glob("*.ipynb"):
            book = json.loads(path.read_text(encoding="utf-8"))
            assert not set(evidence.CHURN_KEYS) & set(book["metadata"].get("papermill", {})), path
            for cell in book["cells"]:
                assert "execution" not in cell.get("metadata", {}), path
                assert not set(evidence.CHURN_KEYS) & set(cell.get("metadata", {}).get("papermill", {})), path


def test_portable_text_and_steady_notebook(tmp_path):
    text = f'"{ROOT}/results/tiny" and {tmp_path}/x.json'
    assert evidence.portable_text(text, ROOT).startswith('"./results/tiny" and <tmp>/')
    if ROOT.parent != Path(tempfile.gettempdir()).resolve():  # a checkout in /tmp has /tmp as its parent
        assert evidence.portable_text(f"{ROOT.parent}/shared/data", ROOT) == "../shared/data"
    book = {
        "metadata": {"papermill": {"start_time": "t", "duration": 1.0, "parameters": {}}},
        "cells": [
            {
                "metadata": {"execution": {}, "papermill": {"duration": 2.0}},
                "outputs": [
                    {"output_type": "stream", "name": "stderr", "text": ["caching:  50%|#####     | 4/8\r"]},
                    {"output_type": "stream", "name": "stderr", "text": ["UserWarning: something real\n"]},
                    {"output_type": "stream", "name": "stdout", "text": ["9 images\n"]},
                ],
            }
        ],
    }
    steady = evidence.steady_notebook(book)
    assert steady["metadata"]["papermill"] == {"parameters": {}}
    assert steady["cells"][0]["metadata"] == {"papermill": {}}
    assert [o["text"][0] for o in steady["cells"][0]["outputs"]] == ["UserWarning: something real\n", "9 images\n"]


@pytest.fixture()
def rerun(tmp_path):
    copy = tmp_path / "tiny"
    shutil.copytree(ROOT / "results" / "tiny", copy)
    return copy


def edit_csv(path: Path, row: int, column: str, change):
    table = pd.read_csv(path)
    table.loc[row, column] = change(table.loc[row, column])
    table.to_csv(path, index=False)


def test_an_identical_rerun_reproduces(rerun, capsys):
    assert verify.main(["--profile", "tiny", "--run", str(rerun)]) == 0
    assert "**REPRODUCED**" in capsys.readouterr().out


def test_a_move_within_tolerance_is_reported_not_failed(rerun, capsys):
    edit_csv(rerun / "evaluate" / "per_image.csv", 0, "auc", lambda v: v + 1e-6)
    assert verify.main(["--profile", "tiny", "--run", str(rerun)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| evaluate/per_image.csv"))
    assert row.split("|")[3].strip() == "1"  # one value within tolerance


def test_a_move_beyond_tolerance_fails_and_is_named(rerun, capsys):
    edit_csv(rerun / "evaluate" / "per_image.csv", 0, "auc", lambda v: v + 0.01)
    assert verify.main(["--profile", "tiny", "--run", str(rerun)]) == 1
    out = capsys.readouterr().out
    assert "auc" in out and "moved 0.01" in out and "**NOT REPRODUCED**" in out


def test_a_changed_verdict_or_a_missing_table_fails(rerun, capsys):
    edit_csv(
        rerun / "analysis" / "verdicts.csv", 0, "verdict", lambda v: "supported" if v != "supported" else "inconclusive"
    )
    (rerun / "data" / "per_split.csv").unlink()
    assert verify.main(["--profile", "tiny", "--run", str(rerun)]) == 1
    out = capsys.readouterr().out
    assert "verdict" in out and "data/per_split.csv missing" in out


def test_gpu_kind_allows_more(rerun):
    edit_csv(rerun / "evaluate" / "per_image.csv", 0, "psnr", lambda v: v + 0.05)
    results = verify.compare_folders(ROOT / "results" / "tiny", rerun, "cpu")
    assert not all(r.ok for r in results)
    assert all(r.ok for r in verify.compare_folders(ROOT / "results" / "tiny", rerun, "gpu"))


def _model_psnr(path: Path, change) -> None:
    """Apply ``change(values) -> values`` to the model rows' PSNR of a per-image table."""
    table = pd.read_csv(path)
    rows = table["method"] == "model"
    table.loc[rows, "psnr"] = change(table.loc[rows, "psnr"].to_numpy())
    table.to_csv(path, index=False)


def test_a_retrain_is_judged_by_means_inside_the_reference_interval(rerun):
    reference = ROOT / "results" / "tiny"
    per_image = rerun / "evaluate" / "per_image.csv"
    moves = lambda v: np.where(np.arange(len(v)) % 2, 1.5, -1.5)  # noqa: E731
    _model_psnr(per_image, lambda v: v + moves(v) - moves(v).mean())  # each moves over 1 dB, the mean not
    assert not all(r.ok for r in verify.compare_folders(reference, rerun, "gpu"))
    samples = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "evaluate/per_image.csv")
    assert samples.ok and samples.within == 1 and "beyond the gpu tolerance" in samples.notes[0]
    psnr = pd.read_csv(reference / "evaluate" / "per_image.csv").query("method == 'model'")["psnr"]
    half = 1.96 * psnr.std(ddof=1) / np.sqrt(len(psnr))
    _model_psnr(per_image, lambda v: v + 1.5 * half)  # the mean leaves the reference's 95% interval
    samples = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "evaluate/per_image.csv")
    assert [b[0] for b in samples.beyond] == ["model mean psnr"]
    assert samples.beyond[0][4] == pytest.approx(half)


def test_a_retrain_missing_a_metric_column_fails(rerun):
    path = rerun / "evaluate" / "per_image.csv"
    pd.read_csv(path).drop(columns=["psnr"]).to_csv(path, index=False)
    samples = next(
        r
        for r in verify.compare_folders(ROOT / "results" / "tiny", rerun, "retrain")
        if r.name == path.parent.name + "/" + path.name
    )
    assert not samples.ok and samples.missing == ["column psnr missing from the rerun"]


def test_a_retrain_keeps_verdicts_exact_and_statistics_inside_their_intervals(rerun):
    reference = ROOT / "results" / "tiny"
    path = rerun / "analysis" / "verdicts.csv"
    claims = pd.read_csv(path)
    wide = next(i for i, r in claims.iterrows() if r.ci_high - r.ci_low > 1e-3)
    edit_csv(path, wide, "value", lambda v: (claims.ci_low[wide] + claims.ci_high[wide]) / 2 + 1e-9)
    edit_csv(path, wide, "ci_high", lambda v: v + 1.0)  # the rerun's own interval is not judged
    judged = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "analysis/verdicts.csv")
    assert judged.ok and judged.within == 1
    edit_csv(path, wide, "value", lambda v: claims.ci_high[wide] + 1e-6)
    edit_csv(path, 0, "verdict", lambda v: "supported" if v != "supported" else "inconclusive")
    judged = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "analysis/verdicts.csv")
    assert len(judged.beyond) == 2 and any("verdict" in b[0] for b in judged.beyond)


def test_a_retrain_that_stopped_earlier_is_compared_on_the_epochs_both_trained(rerun):
    reference = ROOT / "results" / "tiny"
    history = pd.read_csv(reference / "train" / "history.csv")
    history.iloc[:-1].to_csv(rerun / "train" / "history.csv", index=False)
    assert not all(r.ok for r in verify.compare_folders(reference, rerun, "gpu"))  # a row missing
    judged = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "train/history.csv")
    assert judged.ok and "only in the reference" in judged.notes[0]


def test_a_retrain_keeps_a_stated_mean_inside_its_standard_error_interval(rerun):
    reference = ROOT / "results" / "tiny"
    path = rerun / "hints" / "summary.csv"
    curve = pd.read_csv(path)
    row = int(curve["psnr_sem"].idxmax())
    half = 1.96 * curve.loc[row, "psnr_sem"]
    edit_csv(path, row, "psnr_mean", lambda v: v + 0.9 * half)
    edit_csv(path, row, "psnr_sem", lambda v: v * 3)  # the rerun's own standard error is not judged
    judged = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "hints/summary.csv")
    assert judged.ok and judged.within == 1
    edit_csv(path, row, "psnr_mean", lambda v: v + 0.2 * half)
    judged = next(r for r in verify.compare_folders(reference, rerun, "retrain") if r.name == "hints/summary.csv")
    assert [b[0].endswith("psnr_mean") for b in judged.beyond] == [True]


def test_a_gpu_profile_rerun_starts_from_the_published_training_record(tmp_path):
    from colorization.repro import reproduce

    reference = tmp_path / "results" / "caltech101"
    (reference / "train").mkdir(parents=True)
    (reference / "train" / "state.json").write_text("{}")
    run = tmp_path / "runs" / "caltech101"
    assert reproduce.seed_training("caltech101", reference, run) == ["train"]
    assert (run / "train" / "state.json").is_file()
    assert reproduce.seed_training("caltech101", reference, run) == []  # never over a rerun's own
    assert reproduce.seed_training("tiny", reference, tmp_path / "runs" / "tiny") == []  # tiny retrains on a CPU
    assert reproduce.seed_training("caltech101_gpu", reference, tmp_path / "runs" / "gpu") == []  # trains on a GPU
    assert reproduce.comparison_kind("caltech101_gpu", "gpu") == "retrain"  # its network is always another one
    assert reproduce.comparison_kind("caltech101", "gpu") == "gpu"


def test_portable_text_leaves_relative_paths_alone():
    # Caltech-101 has a category folder BACKGROUND_Google/tmp: "/tmp" inside it is no absolute path
    line = "BACKGROUND_Google/tmp,BACKGROUND_Google,val,184,140,RGB,False,,\n"
    assert evidence.portable_text(line, ROOT) == line
    temporary = Path(tempfile.gettempdir()).resolve()
    assert evidence.portable_text(f"see {temporary}/run and x/tmp/y", ROOT) == "see <tmp>/run and x/tmp/y"
