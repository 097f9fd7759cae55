"""Run the notebook pipeline for a profile: ``python -m colorization.repro.pipeline --profile tiny``.

A profile (``profiles/<name>.yaml``, checked by ``colorization.repro.profiles``) gives
parameters shared by every notebook (``common``) and per notebook (``notebooks``). Each
notebook in ``notebooks/`` is run in order by papermill with the ``python3`` kernel, in
the notebooks' folder as JupyterLab would (relative paths are taken from the project
root: ``colorization.repro.paths.resolve``), its output streamed to the terminal
(``--quiet``: one line per notebook). The run writes into a staging folder that replaces
``results/<profile>/`` only when every notebook succeeded (``colorization.repro.staging``);
a failing notebook stops the run with its name, the failing cell and the error, and
leaves the last good results as they were.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from colorization.io.paths import project_root
from colorization.repro import staging
from colorization.repro.profiles import Profile, ProfileError, load_profile, parse_type

ROOT = project_root(__file__)
NOTEBOOKS_DIR = ROOT / "notebooks"
PIPELINE = ("01_data", "02_train", "03_evaluate", "04_failure_analysis", "05_figures", "06_video", "07_hints")


class PipelineError(RuntimeError):
    """A notebook failed, or cannot be run; the message names it and the cell."""


def declared_parameters() -> dict[str, dict[str, frozenset[str]]]:
    """Notebook -> parameter -> the kinds its parameters cell declares (papermill's inspection)."""
    import papermill

    declared = {}
    for notebook in PIPELINE:
        path = NOTEBOOKS_DIR / f"{notebook}.ipynb"
        declared[notebook] = {}
        for name, parameter in papermill.inspect_notebook(str(path)).items():
            try:
                declared[notebook][name] = parse_type(parameter["inferred_type_name"])
            except ValueError as error:
                raise PipelineError(f"{path}: parameter {name} {error}") from None
    return declared


def shown_path(path: Path) -> str:
    """``path`` as the terminal shows it: relative to the project root when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def notebook_parameters(profile: Profile, notebook: str, results_dir: Path, declared: dict) -> dict:
    """The parameters papermill injects into ``notebook``: the profile's (checked) values,
    the profile's name and the results folder."""
    given = {"profile": profile.name, "results_dir": str(results_dir.resolve())}
    return {
        **{k: v for k, v in given.items() if k in declared[notebook]},
        **profile.parameters(notebook, declared[notebook]),
    }


def run_notebook(notebook: str, parameters: dict, results_dir: Path, timeout_s: int, quiet: bool = False) -> Path:
    """Execute one notebook with papermill into ``results_dir``; return the executed copy's path."""
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    source = NOTEBOOKS_DIR / f"{notebook}.ipynb"
    target = results_dir / f"{notebook}.ipynb"
    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(NOTEBOOKS_DIR),
            execution_timeout=timeout_s,
            progress_bar=False,
            stdout_file=None if quiet else sys.stdout,
            stderr_file=None if quiet else sys.stderr,
        )
    except PapermillExecutionError as error:
        message = " ".join(str(error.evalue).split())[:400]
        raise PipelineError(
            f"{notebook}: cell {error.exec_count} failed: {error.ename}: {message} (executed copy: {target})"
        ) from None
    except (CellTimeoutError, DeadKernelError) as error:
        message = " ".join(str(error).split())[:400]
        raise PipelineError(f"{notebook}: {type(error).__name__}: {message} (executed copy: {target})") from None
    except NoSuchKernel:
        raise PipelineError(
            f"{notebook}: no python3 Jupyter kernel; run: python -m ipykernel install --sys-prefix --name python3"
        ) from None
    return target


def run_pipeline(
    profile_name: str,
    only: list[str] | None = None,
    results_root: Path | None = None,
    timeout_s: int | None = None,
    quiet: bool = False,
) -> list[Path]:
    """Run the profile's notebooks in order; return the executed copies in ``results/<profile>/``.

    Raises ProfileError for a bad profile (before anything runs) and PipelineError for a
    failing notebook (``results/<profile>/`` is then as it was).
    """
    declared = declared_parameters()
    profile = load_profile(profile_name, declared)
    if timeout_s is not None and timeout_s <= 0:
        raise PipelineError(f"--timeout {timeout_s}: must be a positive number of seconds")
    final = Path(results_root or ROOT / "results") / profile.name
    refuse_foreign_folder(final)
    with staging.locked(final):
        folder = staging.start(final)
        executed = [
            run_step(profile, notebook, folder, declared, timeout_s or profile.timeout_s, quiet)
            for notebook in PIPELINE
            if not only or notebook in only
        ]
        staging.promote(folder, final)
    print(f"[{profile.name}] results in {shown_path(final)}", flush=True)
    return [final / path.name for path in executed]


def run_step(profile: Profile, notebook: str, folder: Path, declared: dict, timeout_s: int, quiet: bool) -> Path:
    """One notebook of the pipeline, between a start and a done line."""
    start = time.perf_counter()
    print(f"[{profile.name}] {notebook} ...", flush=True)
    parameters = notebook_parameters(profile, notebook, folder, declared)
    try:
        executed = run_notebook(notebook, parameters, folder, timeout_s, quiet)
    except PipelineError as error:
        raise PipelineError(f"{error}; the last good results are unchanged") from None
    print(f"[{profile.name}] {notebook} done in {time.perf_counter() - start:.0f} s", flush=True)
    return executed


def refuse_foreign_folder(final: Path) -> None:
    """PipelineError if ``final`` exists but holds no executed notebook (not a profile's results,
    e.g. ``results/app``): a run would replace it whole."""
    seeded = {"train", "train_classification"}  # training records a rerun may start from (repro.reproduce)
    if final.exists() and not any((final / f"{notebook}.ipynb").is_file() for notebook in PIPELINE):
        if {entry.name for entry in final.iterdir()} <= seeded:
            return
        raise PipelineError(f"{final}: exists and holds no results of the pipeline; give the profile another name")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="tiny", help="profile name or YAML path (default: tiny)")
    parser.add_argument("--only", nargs="+", choices=PIPELINE, help="run only these notebooks")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: the profile's timeout_s)")
    parser.add_argument("--quiet", action="store_true", help="one line per notebook instead of their output")
    parser.add_argument(
        "--results-root", type=Path, help="the folder of the profiles' results folders (default: results/)"
    )
    args = parser.parse_args(argv)
    try:
        run_pipeline(args.profile, args.only, args.results_root, args.timeout, args.quiet)
    except (PipelineError, ProfileError, staging.StagingError) as error:
        print(f"pipeline: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. a full disk while staging
        print(f"pipeline: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pipeline: interrupted; the last good results are unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
