"""The README opens with the two commands, and its results sections match results/."""

from pathlib import Path

from colorization.reporting import readme

ROOT = Path(__file__).resolve().parents[1]


def test_first_lines_are_the_two_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in block] == ["make reproduce", "make test"]
    assert text.index("```bash") < 200


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_results_sections_match_the_results_files():
    current = (ROOT / "README.md").read_text()
    assert "<!-- results:" in current, "the README must show results generated from results/"
    assert readme.update(current) == current, "run `python -m colorization.reporting.readme` after the pipeline"


def test_profile_row_names_the_gpu_only_when_the_notebooks_ran_on_its_machine(tmp_path):
    import json

    from colorization.reporting.readme import profile_row

    gpu_host = {"cpu": "Xeon", "cores": 16, "memory_gib": 125.8, "system": "Linux"}
    laptop = {"cpu": "EPYC", "cores": 2, "memory_gib": 23.5, "system": "Linux"}
    session = {"wall_seconds": 54.2}
    for profile, machine in (("caltech101_gpu", gpu_host), ("caltech101", laptop)):
        (tmp_path / profile / "train").mkdir(parents=True)
        timings = {"notebook_seconds": {"01_data": 60.0}, "total_seconds": 60.0, "machine": machine}
        (tmp_path / profile / "timings.json").write_text(json.dumps(timings))
        run = {"devices": ["gpu:0 NVIDIA H200"], "machine": gpu_host, "sessions": [session]}
        (tmp_path / profile / "train" / "run.json").write_text(json.dumps(run))
    assert "| 1.0 min (notebooks); training 54 s on NVIDIA H200 | NVIDIA H200, 16-core CPU (Xeon) |" in profile_row(
        "caltech101_gpu", tmp_path
    )
    assert "| 1.0 min (notebooks); training 54 s on NVIDIA H200 | 2-core CPU (EPYC) |" in profile_row(
        "caltech101", tmp_path
    )
