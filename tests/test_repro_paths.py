"""Notebook path parameters mean the same file wherever the kernel starts (colorization.repro.paths)."""

from pathlib import Path

import pytest

from colorization.io.paths import project_root
from colorization.repro.paths import resolve

ROOT = project_root(__file__)


@pytest.mark.parametrize("cwd", [ROOT, ROOT / "notebooks", ROOT / "colorization" / "repro"])
def test_relative_paths_are_taken_from_the_project_root(cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    assert resolve("results/tiny") == str(ROOT / "results" / "tiny")
    assert resolve(Path("configs/sample.yaml")) == str(ROOT / "configs" / "sample.yaml")
    assert Path(resolve("configs/sample.yaml")).is_file()


def test_absolute_paths_none_and_names_stay(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    assert resolve(str(tmp_path)) == str(tmp_path)
    assert resolve(None) is None
    assert resolve("") == ""
    assert resolve("sample", keep=("sample", "caltech101")) == "sample"
    assert resolve("photos", keep=("sample",)) == str(ROOT / "photos")
    assert resolve("~/x") == str(Path.home() / "x")
