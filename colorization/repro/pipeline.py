"""Run the notebook pipeline for a profile: ``python -m colorization.repro.pipeline --profile tiny``.

A profile (``profiles/<name>.yaml``) gives parameters shared by every notebook
(``common``) and per notebook (``notebooks``). Each notebook in ``notebooks/`` is run
in order by papermill with the ``python3`` kernel; the executed copy goes to
``results/<profile>/<notebook>.ipynb`` next to the tables and figures it writes.
A failing notebook stops the run with its name, the failing cell and the error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from colorization.io.paths import project_root

ROOT = project_root(__file__)
NOTEBOOKS_DIR = ROOT / "notebooks"
PROFILES_DIR = ROOT / "profiles"
PIPELINE = ("01_data", "02_train", "03_evaluate", "04_failure_analysis", "05_figures")


class PipelineError(RuntimeError):
    """A notebook failed; the message names it and the cell."""


def load_profile(name_or_path: str | Path) -> dict:
    """Read a profile by name (``profiles/<name>.yaml``) or path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.yaml")))
        raise PipelineError(f"{path}: no such profile (known: {known})")
    profile = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    profile.setdefault("name", path.stem)
    profile.setdefault("common", {})
    profile.setdefault("notebooks", {})
    return profile


def notebook_parameters(profile: dict, notebook: str, results_dir: Path) -> dict:
    """The parameters papermill injects into ``notebook`` for ``profile``.

    ``common`` values go to every notebook that declares them; a notebook's own
    section must name only parameters it declares (a typo is an error, not ignored).
    """
    import papermill

    declared = set(papermill.inspect_notebook(str(NOTEBOOKS_DIR / f"{notebook}.ipynb")))
    own = profile["notebooks"].get(notebook) or {}
    unknown = sorted(set(own) - declared)
    if unknown:
        raise PipelineError(
            f"{notebook}: the profile sets parameters the notebook does not declare: {', '.join(unknown)}"
        )
    shared = {"profile": profile["name"], "results_dir": str(results_dir), **profile["common"]}
    return {**{k: v for k, v in shared.items() if k in declared}, **own}


def run_notebook(notebook: str, parameters: dict, results_dir: Path, timeout_s: int) -> Path:
    """Execute one notebook with papermill; return the executed copy's path."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = NOTEBOOKS_DIR / f"{notebook}.ipynb"
    target = results_dir / f"{notebook}.ipynb"
    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(ROOT),
            execution_timeout=timeout_s,
            progress_bar=False,
            log_output=False,
        )
    except PapermillExecutionError as error:
        message = " ".join(str(error.evalue).split())[:400]
        raise PipelineError(
            f"{notebook}: cell {error.exec_count} failed: {error.ename}: {message} (executed copy: {target})"
        ) from None
    return target


def run_pipeline(
    profile_name: str, only: list[str] | None = None, results_root: Path | None = None, timeout_s: int | None = None
) -> list[Path]:
    """Run the profile's notebooks in order; return the executed copies."""
    profile = load_profile(profile_name)
    results_dir = (results_root or ROOT / "results") / profile["name"]
    results_dir.mkdir(parents=True, exist_ok=True)
    timeout = timeout_s or int(profile.get("timeout_s", 1800))
    executed = []
    for notebook in PIPELINE:
        if only and notebook not in only:
            continue
        start = time.perf_counter()
        print(f"[{profile['name']}] {notebook} ...", flush=True)
        executed.append(
            run_notebook(notebook, notebook_parameters(profile, notebook, results_dir), results_dir, timeout)
        )
        shown = executed[-1].relative_to(ROOT) if executed[-1].is_relative_to(ROOT) else executed[-1]
        print(f"[{profile['name']}] {notebook} done in {time.perf_counter() - start:.0f} s -> {shown}", flush=True)
    return executed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny", help="profile name or YAML path (default: tiny)")
    parser.add_argument("--only", nargs="+", choices=PIPELINE, help="run only these notebooks")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: the profile's timeout_s)")
    args = parser.parse_args(argv)
    try:
        run_pipeline(args.profile, args.only, timeout_s=args.timeout)
    except PipelineError as error:
        print(f"pipeline: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
