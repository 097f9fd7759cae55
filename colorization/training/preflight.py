"""What a run checks before it writes anything, so that a run refused leaves no trace.

:func:`open_run_folder` checks the output folder (a folder, or creatable, and writable;
no file of the run's names that is a folder; no files of ours that another program
wrote) and, for ``--resume``, everything the run will read back: ``config.yaml`` (the
same configuration), ``state.json``, the checkpoint and ``best.keras`` (intact
archives) and ``run.json``. :func:`check_data` checks the images against the
configuration (shape, one full batch, batches that split over the devices). The
checkpoint's network itself is checked when it is loaded
(:func:`~colorization.training.checkpoint.load_checkpoint`), before the first write too.
"""

from __future__ import annotations

import os
from pathlib import Path

from colorization.training.checkpoint import RUN_FILES, WHAT_TO_DO, RunFolder, RunState
from colorization.training.config import ConfigError, TrainConfig, resume_differences
from colorization.training.data import TrainData
from colorization.training.record import is_run_record, read_sessions

ANOTHER_FOLDER = "choose another output_dir"


def open_run_folder(config: TrainConfig, resume: bool) -> tuple[RunFolder, RunState]:
    """The run folder and where its run stands (a fresh :class:`RunState` for a new run).

    A folder that holds a run needs ``resume`` and the same configuration (up to the
    fields :data:`~colorization.training.config.RESUMABLE_CHANGES` lists). Nothing is written.

    Raises
    ------
    ConfigError
        One line naming the file at fault.
    """
    folder = RunFolder(config.output_dir)
    check_output_dir(folder.path)
    if not folder.has_state():
        check_no_foreign_files(folder)
        if resume:
            print(f"{folder.path}: no checkpoint to resume; starting from scratch", flush=True)
        return folder, RunState()
    if not resume:
        raise ConfigError(f"{folder.path} already holds a run; use --resume to continue it or {ANOTHER_FOLDER}")
    differences = resume_differences(folder.read_config(), config)
    if differences:
        raise ConfigError(f"{folder.config_path}: --resume with a different configuration: " + "; ".join(differences))
    state = folder.read_state()
    check_archives(folder, state, config)
    read_sessions(folder.record_path)
    print(f"resuming {folder.path} after epoch {state.epoch} ({state.checkpoint})", flush=True)
    return folder, state


def check_output_dir(path: Path) -> None:
    """Raise :class:`ConfigError` unless ``path`` is a writable folder, or can be made one, whose
    run files (``state.json`` ...) are files where they exist and ``checkpoints`` a folder."""
    if os.path.lexists(path) and not path.is_dir():
        raise ConfigError(f"{path}: output_dir is {_kind(path)}, not a folder; {ANOTHER_FOLDER}")
    absolute = Path(os.path.abspath(path))
    existing = next(p for p in (absolute, *absolute.parents) if os.path.lexists(p))
    if not existing.is_dir():
        raise ConfigError(f"{path}: output_dir is inside {existing}, which is {_kind(existing)}; {ANOTHER_FOLDER}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{path}: output_dir cannot be written ({existing} is not writable); {ANOTHER_FOLDER}")
    for name in RUN_FILES + ("checkpoints",):
        target = path / name
        wanted = target.is_dir() if name == "checkpoints" else target.is_file()
        if os.path.lexists(target) and not wanted:
            raise ConfigError(
                f"{target}: {_kind(target)} where the run keeps its {name}; move it away or {ANOTHER_FOLDER}"
            )
    if (path / "checkpoints").is_dir() and not os.access(path / "checkpoints", os.W_OK | os.X_OK):
        raise ConfigError(f"{path / 'checkpoints'}: not writable; {ANOTHER_FOLDER}")


def _kind(path: Path) -> str:
    """``a file``, ``a folder``, ``a broken symbolic link`` or ``not a regular file``."""
    if path.is_dir():
        return "a folder"
    if path.is_file():
        return "a file"
    return "a broken symbolic link" if path.is_symlink() else "not a regular file"


def check_no_foreign_files(folder: RunFolder) -> None:
    """A new run in ``folder``: refuse it if run files are there that no run of this trainer wrote
    (a user's ``config.yaml`` or ``model.keras`` is never overwritten)."""
    present = [name for name in RUN_FILES + ("checkpoints",) if os.path.lexists(folder.path / name)]
    if present and not is_run_record(folder.record_path):
        raise ConfigError(
            f"{folder.path}: holds {', '.join(present)} but no run record (run.json) of this trainer; they are "
            f"not overwritten: move them away or {ANOTHER_FOLDER}"
        )


def check_archives(folder: RunFolder, state: RunState, config: TrainConfig) -> None:
    """The checkpoint to resume from (and ``best.keras``, which ``restore_best`` exports) are
    intact ``.keras`` archives; whether they hold the right network is checked on loading."""
    from colorization.weights import WeightsError, check_archive

    paths = [folder.path / state.checkpoint]
    if config.restore_best and os.path.lexists(folder.best_path):
        paths.append(folder.best_path)
    for path in paths:
        try:
            check_archive(path)
        except WeightsError as error:
            raise ConfigError(f"{error}; {WHAT_TO_DO}") from None


def check_data(config: TrainConfig, data: TrainData, replicas: int) -> None:
    """The images fit the configuration: uint8 of ``input_size``, at least one full batch,
    and a ``batch_size`` that splits evenly over the ``replicas`` devices."""
    data.check(config.input_size, config.batch_size)
    if config.batch_size % replicas:
        raise ConfigError(f"batch_size {config.batch_size} must be divisible by the {replicas} devices")
