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
