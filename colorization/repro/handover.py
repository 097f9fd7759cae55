"""Glue between the notebooks' steps, so that the notebooks stay thin.

Each notebook of the pipeline runs in its own kernel; these functions let a later
notebook pick up what an earlier one produced (the manifest and cache of 01, the
model of 02) from the profile's results folder, and record provenance beside every
table and figure.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from colorization.io.files import write_text_atomic

TRAINED_MODEL_NAME = "model.keras"
WEIGHT_CHOICES = ("reference", "trained")  # the `weights` parameter's names; anything else is a path


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


@dataclass
class AnalysisInputs:
    """What notebooks 03-05 start from, made by one call (:func:`analysis_inputs`).

    Attributes
    ----------
    results, figures : Path
        The profile's results folder and its ``figures/``.
    weights : Path
        The weights analysed; ``weights_description`` says which they are.
    model : keras.Model
        Those weights, loaded (float32).
    method : ModelMethod
        The model as an evaluation method (name ``model``), as trained (vividness 1: the
        paper's network, which the claims and figures are about).
    extra_methods : list of ModelMethod
        Shipped models scored beside it (the ``ablation`` parameter), named by their
        registry names, each at its registered default vividness.
    data : EvalData
        The split's images, from notebook 01's manifest and cache.
    load_split : callable
        ``load_split(split=...)``: the same for another split (:meth:`split_data`).
    """

    results: Path
    figures: Path
    weights: Path
    weights_description: str
    model: object
    method: object
    data: object
    extra_methods: list = field(default_factory=list)
    load_split: object = None

    @property
    def model_name(self) -> str:
        """The analysed weights' registry name (``"paper"`` for the shipped reference), else ``"model"``."""
        from colorization.weights import registered_name

        return registered_name(self.weights) or "model"

    def split_data(self, split: str):
        """Another split of the same manifest and cache (e.g. ``"val"``, where vividness is chosen)."""
        return self.load_split(split=split)

    @property
    def views(self):
        """The evaluated images' 256x256 crops (uint8, (N, 256, 256, 3))."""
        return self.data.cache.images[self.data.items["row"].to_numpy()]

    def per_image(self):
        """Notebook 03's per-image table with the claims' derived columns
        (:func:`colorization.evaluation.claims.with_claim_columns`)."""
        from colorization.evaluation import read_per_image
        from colorization.evaluation.claims import with_claim_columns

        path = self.results / "evaluate" / "per_image.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no evaluation; run notebooks/03_evaluate.ipynb first")
        return with_claim_columns(read_per_image(path))


def analysis_inputs(
    profile: str,
    source: str,
    results_dir,
    data_dir=None,
    *,
    split: str = "test",
    weights: str = "reference",
    limit: int | None = None,
    ablation: str | None = None,
    progress: bool = False,
) -> AnalysisInputs:
    """Data and model for notebooks 03-05: notebook 01's manifest and cache for ``split``,
    the weights :func:`analysis_weights` picks, and the ``ablation`` model if named.
    Relative paths (``results_dir``, ``data_dir``, a folder ``source``, a weights file)
    are taken from the project root (:func:`colorization.repro.paths.resolve`)."""
    from colorization.data import SOURCE_NAMES, get_source
    from colorization.evaluation import ModelMethod, load_data
    from colorization.repro.paths import resolve
    from colorization.vividness import AS_TRAINED
    from colorization.weights import load_weights, reference_weights

    # path parameters mean the same file wherever the notebook runs (repro.paths)
    results, data_dir = Path(resolve(results_dir)), resolve(data_dir)
    source, weights = resolve(source, keep=SOURCE_NAMES), resolve(weights, keep=WEIGHT_CHOICES)
    manifest = results / "data" / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no manifest; run notebooks/01_data.ipynb first")
    weights_path, description = analysis_weights(weights, results)
    src = get_source(source, data_dir=data_dir)  # the cache folder is named by the source's name, as in 01
    load_split = functools.partial(
        load_data,
        src,
        manifest=manifest,
        limit=limit,
        data_dir=data_dir,
        progress=progress,
        cache_dir=cache_folder(profile, src.name, data_dir),
    )
    model = load_weights(weights_path)
    extra = [ModelMethod(load_weights(reference_weights(ablation)), name=ablation)] if ablation else []
    method = ModelMethod(model, vividness=AS_TRAINED)
    return AnalysisInputs(
        results,
        results / "figures",
        weights_path,
        description,
        model,
        method,
        load_split(split=split),
        extra,
        load_split,
    )


def write_provenance(
    folder, profile: str, weights: Path | None = None, manifest_hash: str | None = None, **extra
) -> Path:
    """Write ``provenance.json`` in ``folder`` (:func:`colorization.reporting.provenance.provenance`,
    kind ``notebook``): profile, weights and their sha256, data manifest hash, git
    commit, versions. Every results folder carries one."""
    import keras  # noqa: F401  (the record names the backend in use)

    from colorization.reporting.provenance import provenance

    record = provenance("notebook", weights=weights, profile=profile, data={"manifest_hash": manifest_hash}, **extra)
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


def hint_model(choice: str = "hints"):
    """The hint network for notebook 07: a registry name (``"hints"``) or a ``.keras`` file
    (relative to the project root); returns ``(model, path)``."""
    from colorization.repro.paths import resolve
    from colorization.weights import load_weights, reference_weights, registry

    path = reference_weights(choice) if choice in registry() else Path(resolve(choice))
    return load_weights(path), path
