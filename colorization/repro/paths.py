"""Path parameters of the notebooks, the same wherever a notebook runs.

A notebook's kernel starts in the notebook's folder when opened in JupyterLab and in
whatever folder papermill is given; the parameters (``results_dir = "results/tiny"``,
``config = "configs/sample.yaml"``) name paths in the project. The notebooks' first code
cell passes each path parameter through :func:`resolve`, so a relative path always means
the same file: one under the project root.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from colorization.io.paths import project_root


def resolve(path: str | Path | None, keep: Collection[str] = ()) -> str | None:
    """``path`` made absolute against the project root (``~`` expanded); None stays None.

    Parameters
    ----------
    path : str, Path or None
        A path parameter; a relative one is taken from the project checkout around
        the current directory (:func:`colorization.io.paths.project_root`).
    keep : collection of str
        Values that are names rather than paths (``"sample"`` for ``source``,
        ``"reference"`` for ``weights``), returned unchanged.

    Returns
    -------
    str or None
        The absolute path (a string, as parameters are), or ``path`` itself when it is
        None, empty or one of ``keep``.
    """
    if path is None:
        return None
    if str(path) in keep or not str(path):  # a name, or "" (the parameter's own default)
        return str(path)
    expanded = Path(path).expanduser()
    return str(expanded if expanded.is_absolute() else project_root() / expanded)
