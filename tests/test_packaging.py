"""pyproject.toml's install sets: a lean core, honest extras, environment.yml = the user's set, a sound wheel."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
# conda-forge spells a few PyPI names differently; TensorFlow's CPU build is one project.
SAME = {
    "tensorflow-cpu": "tensorflow",
    "python-isal": "isal",
    "matplotlib-base": "matplotlib",
    "nbconvert-core": "nbconvert",
}
DEV_TOOLS = {"pytest", "ruff", "playwright"}
# (sys_platform, platform_machine) of the platforms people run it on
PLATFORMS = [("linux", "x86_64"), ("linux", "aarch64"), ("darwin", "arm64"), ("darwin", "x86_64"), ("win32", "AMD64")]


def _name(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return SAME.get(name, name)


def _environment_requirements() -> tuple[list[str], list[str]]:
    """environment.yml's conda entries and its pip entries (local ones such as ``-e .`` left out)."""
    conda = [entry for entry in ENVIRONMENT["dependencies"] if isinstance(entry, str)]
    pip = next(entry for entry in ENVIRONMENT["dependencies"] if isinstance(entry, dict))["pip"]
    return conda, [line for line in pip if not line.startswith("-")]


def _user_set() -> list[str]:
    return PROJECT["dependencies"] + EXTRAS["notebooks"] + EXTRAS["app"]


def test_environment_is_the_core_with_the_notebooks_and_app_extras():
    conda, pip = _environment_requirements()
    listed = {_name(r) for r in conda + pip} - {"python", "pip"}
    wanted = {_name(r) for r in _user_set()}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject.toml: {wanted - listed}"


def test_dev_tools_are_only_in_the_dev_extra():
    conda, pip = _environment_requirements()
    assert not DEV_TOOLS & {_name(r) for r in conda + pip}, "environment.yml is the user's environment"
    assert {_name(r) for r in EXTRAS["dev"]} >= DEV_TOOLS
    for extra, requirements in [("dependencies", PROJECT["dependencies"]), *EXTRAS.items()]:
        if extra != "dev":
            assert not DEV_TOOLS & {_name(r) for r in requirements}, extra


def _bound(requirement: str) -> tuple[str, str]:
    """The name (pyproject.toml's spelling) and lower bound of a pip or conda requirement."""
    name = _name(requirement)
    if name == "tensorflow":  # the CPU build and the full one have a bound each
        name = Requirement(requirement).name
    return name, re.search(r">=\s*([\w.]+)", requirement).group(1)


def test_environment_installs_the_package_and_lower_bounds_agree():
    pip = next(entry for entry in ENVIRONMENT["dependencies"] if isinstance(entry, dict))["pip"]
    assert "-e ." in pip  # editable: the notebooks and the app find the project's folders
    conda, pip = _environment_requirements()
    listed = dict(_bound(r) for r in conda + pip if r != "pip" and not r.startswith("python="))
    assert listed == dict(_bound(r) for r in _user_set())


def test_tensorflow_markers_match_pyproject():
    def tensorflow(requirements):
        return sorted(str(Requirement(r)) for r in requirements if _name(r) == "tensorflow")

    assert tensorflow(_environment_requirements()[1]) == tensorflow(PROJECT["dependencies"])
    assert len(tensorflow(PROJECT["dependencies"])) == 2


@pytest.mark.parametrize(("platform", "machine"), PLATFORMS)
def test_exactly_one_tensorflow_per_platform_and_the_cpu_build_on_linux_x86_64(platform, machine):
    where = {"sys_platform": platform, "platform_machine": machine}
    chosen = [
        Requirement(r).name
        for r in PROJECT["dependencies"]
        if _name(r) == "tensorflow" and Requirement(r).marker.evaluate(where)
    ]
    assert chosen == ["tensorflow-cpu" if (platform, machine) == ("linux", "x86_64") else "tensorflow"]


def test_core_has_no_notebook_app_or_jax_packages():
    core = {_name(r) for r in PROJECT["dependencies"]}
    for extra in ("notebooks", "app", "jax", "gpu", "dev"):
        assert not core & {_name(r) for r in EXTRAS[extra]}, extra


def test_the_jax_extras_say_what_they_install():
    (cpu,) = (Requirement(r) for r in EXTRAS["jax"])
    (gpu,) = (Requirement(r) for r in EXTRAS["gpu"])
    assert (cpu.name, cpu.extras) == ("jax", set())  # jaxlib from PyPI is CPU-only
    assert (gpu.name, gpu.extras) == ("jax", {"cuda12"})  # jaxlib + the CUDA 12 plugin and libraries
    assert cpu.specifier == gpu.specifier


def test_distribution_name_does_not_collide():
    assert PROJECT["name"] != "colorization"  # an unrelated PyPI project owns that name
    assert PROJECT["scripts"]["colorization"] == "colorization.cli:main"
    assert PROJECT["requires-python"] == ">=3.11"


@pytest.mark.subprocess
def test_the_wheel_carries_the_weights_and_the_metadata(tmp_path):
    """Build the wheel (setuptools >= 77 for the SPDX license field) from a copy of the sources."""
    source = tmp_path / "source"
    shutil.copytree(ROOT / "colorization", source / "colorization", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path, source]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("lab_cnn_colorization-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
    shipped = {p.name for p in (ROOT / "colorization" / "weights").glob("*.keras")}
    assert shipped and {f"colorization/weights/{name}" for name in shipped} <= set(names)
    assert metadata["License-Expression"] == "MIT"
    assert set(metadata.get_all("Provides-Extra")) == set(EXTRAS)
    required = {str(Requirement(r)) for r in metadata.get_all("Requires-Dist") if "extra ==" not in r}
    assert required == {str(Requirement(r)) for r in PROJECT["dependencies"]}
