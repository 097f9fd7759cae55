"""A profile's results folder is replaced whole or not at all (colorization.repro.staging)."""

import os

import pytest

from colorization.repro import staging


def tree(folder):
    """Every file under ``folder``: relative path -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fill(folder, files):
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)


@pytest.fixture
def final(tmp_path):
    """A last good results folder with a finished training run."""
    folder = tmp_path / "results" / "tiny"
    fill(folder, {"01_data.ipynb": "old 01", "data/manifest.csv": "old", "train/state.json": "finished"})
    return folder


def test_the_first_run_is_promoted_into_place(tmp_path):
    final = tmp_path / "results" / "new"
    with staging.locked(final):
        folder = staging.start(final)
        assert folder.parent == final.parent and folder.name == f".staging-new-{os.getpid()}"
        fill(folder, {"01_data.ipynb": "new"})
        staging.promote(folder, final)
    assert tree(final) == {"01_data.ipynb": b"new"}
    assert sorted(p.name for p in final.parent.iterdir()) == [".lock-new", "new"]


def test_a_run_starts_from_the_last_good_results_and_replaces_them_whole(final):
    with staging.locked(final):
        folder = staging.start(final)
        assert tree(folder) == tree(final)  # what the run does not regenerate (train/) is carried over
        fill(folder, {"01_data.ipynb": "new 01", "data/manifest.csv": "new"})
        staging.promote(folder, final)
    assert tree(final) == {"01_data.ipynb": b"new 01", "data/manifest.csv": b"new", "train/state.json": b"finished"}
    assert not folder.exists() and not list(final.parent.glob(".old-*"))


def test_an_unpromoted_run_leaves_the_last_good_results_as_they_were(final):
    before = tree(final)
    with staging.locked(final):
        folder = staging.start(final)
        fill(folder, {"01_data.ipynb": "half-done", "evaluate/summary.json": "{}"})
        (folder / "data" / "manifest.csv").unlink()
    assert tree(final) == before


@pytest.mark.parametrize("crash_after", ["aside", "into place"])
def test_a_crash_during_promotion_leaves_a_complete_folder(final, crash_after):
    before = tree(final)
    with staging.locked(final):
        folder = staging.start(final)
        fill(folder, {"01_data.ipynb": "new 01"})
        expected = tree(folder)
        old = final.parent / ".old-tiny-99999"
        final.rename(old)  # step (1)
        if crash_after == "into place":
            folder.rename(final)  # step (2), then the process dies before (3)
    with staging.locked(final):
        staging.start(final)  # the next run
    assert tree(final) == (before if crash_after == "aside" else expected)
    assert not old.exists()


def test_the_next_run_removes_stale_staging_folders_and_resumes_their_training(final):
    stale = final.parent / ".staging-tiny-12345"
    fill(stale, {"01_data.ipynb": "half", "train/state.json": "epoch 7 of 50", "train/checkpoints/e7.keras": "w"})
    others = [final.parent / name for name in (".staging-tiny-1-777", ".staging-tiny-abc", "tiny-2")]
    for folder in others:
        fill(folder, {"x": "not this profile's"})
    with staging.locked(final):
        folder = staging.start(final)
    assert not stale.exists()
    assert tree(folder) == {
        "01_data.ipynb": b"old 01",
        "data/manifest.csv": b"old",
        "train/state.json": b"epoch 7 of 50",
        "train/checkpoints/e7.keras": b"w",
    }
    assert all(tree(other) == {"x": b"not this profile's"} for other in others)


def test_one_run_per_profile_at_a_time(final):
    with staging.locked(final):
        with pytest.raises(staging.StagingError, match="another run of this profile is in progress"):
            with staging.locked(final):
                pass
        with staging.locked(final.parent / "other"):  # other profiles run meanwhile
            pass
    with staging.locked(final):  # released
        pass
