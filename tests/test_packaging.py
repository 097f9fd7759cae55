"""pyproject.toml and environment.yml name the same dependencies; the console script exists."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge spells a few PyPI names differently; TensorFlow's CPU build is one project.
SAME = {"tensorflow-cpu": "tensorflow", "python-isal": "isal"}


def _name(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return SAME.get(name, name)


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]} | {_name(r) for r in project["optional-dependencies"]["dev"]}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            listed |= {_name(r) for r in entry["pip"] if not r.startswith("-")}
        else:
            listed.add(_name(entry))
    listed -= {"python", "pip"}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject.toml: {wanted - listed}"


def test_environment_installs_the_package_and_lower_bounds_agree():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(e for e in environment["dependencies"] if isinstance(e, dict))["pip"]
    assert "-e ." in pip or "." in pip
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {
        _name(r): re.search(r">=\s*([\w.]+)", r).group(1)
        for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    }
    for entry in environment["dependencies"]:
        for requirement in entry["pip"] if isinstance(entry, dict) else [entry]:
            found = re.search(r">=\s*([\w.]+)", requirement)
            if found and _name(requirement) in bounds:
                assert found.group(1) == bounds[_name(requirement)], requirement


def test_distribution_name_does_not_collide():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] != "colorization"  # an unrelated PyPI project owns that name
    assert project["scripts"]["colorization"] == "colorization.cli:main"
    assert project["requires-python"] == ">=3.11"
