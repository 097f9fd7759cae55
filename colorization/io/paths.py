"""Where the project is: the one project-root finder every module uses."""

from __future__ import annotations

from pathlib import Path

# The checkout this package is imported from (an editable install), if it is one.
PACKAGE_CHECKOUT = Path(__file__).resolve().parents[2]


def is_project_root(folder: Path) -> bool:
    """True for a checkout of this project: ``pyproject.toml`` beside ``colorization/``."""
    return (folder / "pyproject.toml").is_file() and (folder / "colorization").is_dir()


def project_root(start: str | Path | None = None) -> Path:
    """The project checkout around ``start`` (default: the current directory).

    The nearest folder at or above ``start`` that is a checkout; else the checkout
    that holds the imported package (editable installs); else ``start`` itself.
    ``project_root(__file__)`` is the checkout of the running code.
    """
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if is_project_root(folder):
            return folder
    if is_project_root(PACKAGE_CHECKOUT):
        return PACKAGE_CHECKOUT
    return start
