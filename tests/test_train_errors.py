"""Bad input to ``colorization train`` is one line and exit status 2, and leaves no trace:
configuration files and ``--set`` values, unusable output folders, data that does not fit,
and everything ``--resume`` reads back (state, checkpoint, run record)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from colorization.training.checkpoint import RunFolder, state_problem
from colorization.training.config import ConfigError, TrainConfig
from colorization.training.config_file import load_config
from tests.conftest import TINY_TRAINING

TINY = TINY_TRAINING


def _cli(capsys, *args: str) -> tuple[int, str]:
    """``colorization train ARGS``: (exit status, stderr)."""
    from colorization.cli import main

    status = main(["train", *args])
    return status, capsys.readouterr().err


def _settings(output_dir: Path, **changes) -> list[str]:
    args = []
    for key, value in {**TINY, "output_dir": str(output_dir), **changes}.items():
        args += ["--set", f"{key}={'null' if value is None else value}"]
    return args


def _snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (relative name -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- configuration files and --set values --------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        (b"epochs: 2\nepochs: 3\n", "'epochs' is given twice, on lines 1 and 2"),
        (b"epochs: 2\n\xff\xfe\n", "not UTF-8 text"),
        (b"- epochs\n- 2\n", "not a list"),
        (b"", "empty"),
        (b"---\n", "empty"),
        (b"just words\n", "not a str"),
        (b"1: 2\n", "unknown configuration field(s): 1"),
        (b"epochs: [1\n", "not valid YAML"),
        (b"epochs: !!python/object/apply:os.system [echo hi]\n", "not valid YAML"),
        (b"learning_rate: .inf\n", "learning_rate must be finite and > 0"),
        (b"epochs: 0\n", "epochs must be at least 1"),
    ],
)
def test_bad_config_files_are_one_line_naming_the_file(tmp_path, capsys, content, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=f"^{path}: ") as caught:
        load_config(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    status, err = _cli(capsys, "--config", str(path), "--set", f"output_dir={tmp_path / 'run'}")
    assert status == 2 and err.count("\n") == 1 and str(path) in err and message in err
    assert not (tmp_path / "run").exists()


def test_config_file_that_is_a_folder_missing_or_huge(tmp_path):
    with pytest.raises(ConfigError, match="a folder, not a configuration file"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    huge = tmp_path / "huge.yaml"
    huge.write_text("notes: " + "x" * (1 << 20) + "\n")
    with pytest.raises(ConfigError, match="too large for a configuration file"):
        load_config(huge)


def test_yaml_merge_keys_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("<<: {epochs: 2, batch_size: 4}\nepochs: 3\n")
    assert (load_config(path).epochs, load_config(path).batch_size) == (3, 4)


@pytest.mark.parametrize(
    "override, message",
    [
        ("learning_rate=.inf", "learning_rate must be finite and > 0; got inf"),
        ("learning_rate=1e999", "learning_rate must be finite and > 0; got inf"),
        ("learning_rate=.nan", "learning_rate must be finite and > 0; got nan"),
        ("learning_rate=0", "learning_rate must be finite and > 0"),
        ("learning_rate=-1e-3", "learning_rate must be finite and > 0"),
        ("min_delta=.nan", "min_delta must be finite and >= 0; got nan"),
        ("min_delta=-.inf", "min_delta must be finite and >= 0"),
        ("seed=-1", "seed must be between 0 and"),
        ("seed=4294967296", "seed must be between 0 and"),
        ("verbose=7", "verbose must be one of 0, 1, 2"),
        ("output_dir=", "output_dir cannot be null"),
        ("output_dir=' '", "output_dir must name a folder"),
        ("epochs=[1", "epochs must be int"),
        ("batch_size={a: 1}", "batch_size must be int"),
        ("notes=\udcff", "notes is not valid UTF-8 text"),
        ("synthetic_train=100000000", "above the 4 GiB limit of the synthetic source"),
    ],
)
def test_bad_set_values_are_one_line_naming_the_field(tmp_path, capsys, override, message):
    status, err = _cli(capsys, *_settings(tmp_path / "run"), "--set", override)
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run").exists()


def test_an_error_names_where_the_value_came_from(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 0\n")
    with pytest.raises(ConfigError, match=f"^{path}: epochs must be at least 1"):
        load_config(path)
    with pytest.raises(ConfigError, match="^--set batch_size: batch_size must be at least 1"):
        load_config(path, ["epochs=2", "batch_size=0"])


def test_direct_construction_is_checked_too():
    assert TrainConfig(learning_rate=1).learning_rate == 1.0
    with pytest.raises(ConfigError, match="learning_rate must be finite"):
        TrainConfig(learning_rate=float("inf"))
    with pytest.raises(ConfigError, match="epochs must be int"):
        TrainConfig(epochs="3")


# --- output folders and data -------------------------------------------------------------------


def test_unusable_output_dirs(tmp_path, capsys):
    (tmp_path / "file").write_text("mine\n")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    (tmp_path / "odd" / "state.json").mkdir(parents=True)
    (tmp_path / "odd2").mkdir()
    (tmp_path / "odd2" / "checkpoints").write_text("mine\n")
    cases = {
        "file": "output_dir is a file, not a folder",
        "file/run": f"output_dir is inside {tmp_path / 'file'}, which is a file",
        "dangling": "output_dir is a broken symbolic link",
        "odd": "a folder where the run keeps its state.json",
        "odd2": "a file where the run keeps its checkpoints",
    }
    before = _snapshot(tmp_path)
    for name, message in cases.items():
        status, err = _cli(capsys, *_settings(tmp_path / name))
        assert status == 2 and err.count("\n") == 1 and message in err, (name, err)
    assert _snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_output_dir_not_writable(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        status, err = _cli(capsys, *_settings(locked / "run"))
    finally:
        locked.chmod(0o700)
    assert status == 2 and "not writable" in err and not (locked / "run").exists()


def test_a_failed_first_write_removes_the_folders_it_made(tmp_path, monkeypatch):
    from colorization.training import checkpoint
    from colorization.training.trainer import train

    def refuse(self, config):
        raise PermissionError(13, "Permission denied", str(self.config_path))

    monkeypatch.setattr(checkpoint.RunFolder, "write_config", refuse)
    with pytest.raises(ConfigError, match="config.yaml: cannot write \\(Permission denied\\)"):
        train(TrainConfig(**TINY, output_dir=str(tmp_path / "new" / "run")))
    assert list(tmp_path.iterdir()) == []


def test_files_that_no_run_wrote_are_not_overwritten(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.yaml").write_text("my notes\n")
    (folder / "model.keras").write_bytes(b"my model")
    status, err = _cli(capsys, *_settings(folder))
    assert status == 2 and "holds config.yaml, model.keras but no run record" in err
    assert _snapshot(folder) == {"config.yaml": b"my notes\n", "model.keras": b"my model"}


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(batch_size=32), "batch_size 32 is larger than the training set (16 images"),
        (dict(max_train_images=4), "batch_size 8 is larger than the training set (4 images"),
        (dict(data="npy", train_path="missing.npy", val_path="missing.npy"), "missing.npy: cannot read a .npy array"),
    ],
)
def test_data_that_does_not_fit_leaves_no_run_folder(tmp_path, capsys, changes, message):
    status, err = _cli(capsys, *_settings(tmp_path / "run", **changes))
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run").exists()


# --- resume: state, checkpoint, record ---------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A finished 2-epoch run of TINY (copied by each test that damages it)."""
    from colorization.training.trainer import train

    folder = tmp_path_factory.mktemp("finished") / "run"
    train(TrainConfig(**TINY, output_dir=str(folder)))
    return folder


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def _checkpoint(run: Path) -> Path:
    return run / json.loads((run / "state.json").read_text())["checkpoint"]


def _foreign_checkpoint(path: Path, **changes) -> None:
    """Write the checkpoint of another configuration (compiled, optimizer built) at ``path``."""
    from colorization.model import save_model
    from colorization.training.step import build_network, make_loss, make_optimizer

    config = TrainConfig(**{**TINY, **changes})
    network = build_network(config)
    network.compile(optimizer=make_optimizer(config), loss=make_loss(config))
    network.optimizer.build(network.trainable_variables)
    save_model(network, path)


def _lambda_model(path: Path) -> None:
    """A compiled model with a Python lambda in it: Keras' safe mode refuses to load it."""
    import keras

    model = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Lambda(lambda x: x * 2)])
    model.compile(optimizer="adam", loss="mse")
    model.save(path)


DAMAGES = {
    "truncated state.json": (
        lambda run: (run / "state.json").write_text((run / "state.json").read_text()[:40]),
        "state.json: truncated or not JSON",
    ),
    "foreign state.json": (
        lambda run: (run / "state.json").write_text('{"hello": 1}\n'),
        "state.json: not a run's state (it holds hello",
    ),
    "state.json naming a file outside": (
        lambda run: (run / "state.json").write_text(
            (run / "state.json").read_text().replace("checkpoints/epoch-0002.keras", "../../x.keras")
        ),
        "state.json: not a run's state (checkpoint '../../x.keras' does not fit epoch 2)",
    ),
    "state.json not UTF-8": (lambda run: (run / "state.json").write_bytes(b"\xff\xfe{}"), "truncated or not JSON"),
    "missing checkpoint": (lambda run: _checkpoint(run).unlink(), "epoch-0002.keras: no such weights file"),
    "truncated checkpoint": (
        lambda run: _checkpoint(run).write_bytes(_checkpoint(run).read_bytes()[:3000]),
        "epoch-0002.keras: truncated or corrupt .keras archive",
    ),
    "truncated best.keras": (
        lambda run: (run / "best.keras").write_bytes((run / "best.keras").read_bytes()[:3000]),
        "best.keras: truncated or corrupt .keras archive",
    ),
    "checkpoint refused by safe mode": (lambda run: _lambda_model(_checkpoint(run)), "epoch-0002.keras: not a usable"),
    "checkpoint of another input_size": (
        lambda run: _foreign_checkpoint(_checkpoint(run), input_size=32),
        "a checkpoint of another network (input_size 32 where the configuration has 16)",
    ),
    "checkpoint of another head": (
        lambda run: _foreign_checkpoint(_checkpoint(run), head="classification"),
        "(head classification where the configuration has regression)",
    ),
    "checkpoint of another optimizer": (
        lambda run: _foreign_checkpoint(_checkpoint(run), optimizer="sgd"),
        "(optimizer sgd where the configuration has adam)",
    ),
    "inference model as checkpoint": (
        lambda run: shutil.copyfile(run / "model.keras", _checkpoint(run)),
        "a model without optimizer state, not a training checkpoint",
    ),
    "truncated run.json": (
        lambda run: (run / "run.json").write_text((run / "run.json").read_text()[:30]),
        "run.json: not a run record",
    ),
    "truncated config.yaml": (
        lambda run: (run / "config.yaml").write_text("data: [synthetic\n"),
        "config.yaml: not valid YAML",
    ),
}


@pytest.mark.parametrize("epochs", [3, 2], ids=["to train", "already complete"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_resume_refuses_what_it_cannot_read_back_and_changes_nothing(run_copy, capsys, damage, epochs):
    spoil, message = DAMAGES[damage]
    spoil(run_copy)
    before = _snapshot(run_copy)
    status, err = _cli(capsys, *_settings(run_copy, epochs=epochs), "--resume")
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert err.startswith(f"colorization train: {run_copy}")
    assert _snapshot(run_copy) == before


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda s: [1, 2], "it holds a JSON list"),
        (lambda s: {**s, "epoch": "2"}, "epoch '2' is not a whole number"),
        (lambda s: {**s, "epoch": 0}, "epoch 0 is not a whole number of at least 1"),
        (lambda s: {**s, "best_epoch": 9}, "best_epoch 9 does not fit epoch 2"),
        (lambda s: {**s, "best_val_loss": float("nan")}, "best_val_loss nan"),
        (lambda s: {**s, "wait": -1}, "wait -1"),
        (lambda s: {**s, "stopped_early": "no"}, "stopped_early 'no'"),
        (lambda s: {**s, "history": s["history"][:1]}, "history does not list epochs 1 to 2"),
        (lambda s: {**s, "history": "rows"}, "history does not fit"),
        (lambda s: {k: v for k, v in s.items() if k != "wait"}, "it holds best_epoch"),
    ],
)
def test_state_problems(finished_run, change, problem):
    state = json.loads((finished_run / "state.json").read_text())
    assert state_problem(state) is None
    assert problem in state_problem(change(state))


def test_stale_temporaries_of_our_naming_are_removed_on_resume(run_copy, capsys):
    ours = [
        run_copy / ".state.k2j4_x9a.tmp.json",
        run_copy / ".model.abcdefgh.tmp.keras",
        run_copy / "checkpoints" / ".epoch-0003.a1b2c3d4.tmp.keras",
    ]
    others = [
        run_copy / ".epoch-0003.a1b2c3d4.tmp.keras",  # checkpoints live in checkpoints/
        run_copy / ".notes.abcdefgh.tmp.json",
        run_copy / ".state.short.tmp.json",
        run_copy / "state.abcdefgh.tmp.json",
        run_copy / "checkpoints" / ".epoch-0003.a1b2c3d4.tmp.h5",
        run_copy / "checkpoints" / ".best.abcdefgh.tmp.keras",
    ]
    for path in ours + others:
        path.write_bytes(b"partial")
    assert RunFolder(run_copy).stale_temporaries() == sorted(ours[:2]) + ours[2:]
    status, _ = _cli(capsys, *_settings(run_copy, epochs=3), "--resume")
    assert status == 0
    assert not any(p.exists() for p in ours) and all(p.exists() for p in others)
    assert json.loads((run_copy / "state.json").read_text())["epoch"] == 3


def test_stale_temporaries_are_removed_on_a_new_run_too(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    stale = run / "checkpoints" / ".epoch-0001.zz_zz_zz.tmp.keras"
    stale.write_bytes(b"partial")
    (run / "run.json").write_text(json.dumps({"format": "colorization-train-run/1", "sessions": []}))
    status, _ = _cli(capsys, *_settings(run, epochs=1))
    assert status == 0 and not stale.exists() and (run / "model.keras").is_file()
