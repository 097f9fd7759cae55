"""Glue between the notebooks' steps, so that the notebooks stay thin.

Each notebook of the pipeline runs in its own kernel; these functions let a later
notebook pick up what an earlier one produced (the manifest and cache of 01, the
model of 02) from the profile's results folder, and record provenance beside every
table and figure.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

from colorization.files import write_text_atomic

TRAINED_MODEL_NAME = "model.keras"


def cache_folder(profile: str, source_name: str, data_dir=None) -> Path:
    """Where a profile's image cache lives (under the data folder, never committed)."""
    from colorization.data import data_dir as resolve_data_dir

    return resolve_data_dir(data_dir) / "cache" / f"{profile}-{Path(str(source_name)).name}"


def prepared_data(profile: str, source: str, results_dir, data_dir=None):
    """(source, manifest, cache) as notebook 01 left them: the manifest CSV in
    ``results_dir/data`` and the matching cache (reused, never rebuilt silently:
    a changed manifest means 01 must run again)."""
    from colorization import data

    src = data.get_source(source, data_dir=data_dir)
    manifest_path = Path(results_dir) / "data" / "manifest.csv"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no manifest; run notebooks/01_data.ipynb first")
    manifest = data.read_manifest(manifest_path, root=src)
    cache = data.build_cache(manifest, cache_folder(profile, src.name, data_dir), progress=False)
    return src, manifest, cache


def analysis_weights(choice: str, results_dir) -> tuple[Path, str]:
    """The weights the analysis notebooks use, and a one-line description.

    ``choice``: ``"reference"`` (the shipped reference model if the package has one,
    else this profile's trained model), ``"trained"`` (the model notebook 02 trained),
    or a path to a ``.keras`` file.
    """
    from colorization.weights import WeightsError, reference_weights, registry

    trained = Path(results_dir) / "train" / TRAINED_MODEL_NAME
    if choice == "reference":
        try:
            path = reference_weights()
            return path, f"shipped reference model ({registry()['paper'].get('description', path.name)})"
        except WeightsError:
            choice = "trained"
    if choice == "trained":
        if not trained.is_file():
            raise FileNotFoundError(f"{trained}: no trained model; run notebooks/02_train.ipynb first")
        return trained, f"model trained by this profile's 02_train ({trained})"
    path = Path(choice)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    return path, f"weights file {path}"


def write_provenance(folder, profile: str, weights: Path | None = None, manifest_hash: str | None = None, **extra) -> Path:
    """Write ``provenance.json`` in ``folder``: profile, weights and their sha256, data
    manifest hash, git commit, versions. Every results folder carries one."""
    import keras

    from colorization import __version__
    from colorization.training import provenance
    from colorization.weights import sha256_of

    record = {
        "profile": profile,
        "weights": str(weights) if weights else None,
        "weights_sha256": sha256_of(weights) if weights else None,
        "data_manifest_hash": manifest_hash,
        "git": provenance.git_commit(),
        "package_version": __version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "python": platform.python_version(),
        **extra,
    }
    path = Path(folder) / "provenance.json"
    write_text_atomic(path, json.dumps(record, indent=2, default=str) + "\n")
    return path


def finished_run(run_dir) -> dict | None:
    """The state of a training run in ``run_dir`` if it has finished (all epochs, or
    early stopping), else None. Notebook 02 then shows the run's record instead of
    training again (a reference run made on a GPU is kept this way)."""
    from colorization.training.checkpoint import RunFolder

    folder = RunFolder(run_dir)
    if not folder.has_state():
        return None
    state = folder.read_state()
    config = folder.read_config()
    return vars(state) if state.stopped_early or state.epoch >= config.epochs else None
