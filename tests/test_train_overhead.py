"""The lean JAX loop ends each epoch off the critical path (colorization.training.pipelined), and
still trains, records and stops exactly as a loop that ends every epoch before starting the next.

CPU, in a subprocess (KERAS_BACKEND=jax):

- the next epoch's first chunk is dispatched while the previous epoch is still being ended
  (its ``end_epoch`` waits here until that has happened: a sequential loop never gets there);
- losses, validation losses and weights are bit for bit those of a sequential reference loop
  written here from the trainer's step functions and batch plan, with one chunk and with two
  chunks per epoch;
- early stopping with the next epoch already started: that epoch is dropped (state, history,
  checkpoints, ``model.keras`` and the Keras variables are those of the sequential loop);
- a diverged epoch with the next one already started: nothing after the last good epoch is
  committed;
- ``benchmarks/train_overhead.py`` runs on a tiny set and reports its figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import json, sys, threading
    from pathlib import Path
    import numpy as np
    sys.path.insert(0, sys.argv[2])
    from tests.conftest import TINY_TRAINING
    from tests.test_train_diverged import _committed, _files, poison_checkpoint
    import colorization.training.jax_loop as jax_loop
    import colorization.training.pipelined as pipelined
    from colorization.training.checkpoint import read_keras
    from colorization.training.config import TrainConfig
    from colorization.training.data import load_train_data
    from colorization.training.epoch_end import TrainingDiverged
    from colorization.training.trainer import train

    out, report = Path(sys.argv[1]), {}
    base = TrainConfig(**TINY_TRAINING, loop="jax_scan", learning_rate=1e-3).replace(epochs=3)

    def sequential(config):
        # the loop before pipelining: each epoch's losses read and its validation run before the next starts
        import jax, keras
        from colorization.training.jax_loop import ValidationPlan, epoch_chunks
        from colorization.training.step import build_network, jax_step_functions, make_loss, make_optimizer

        data, chunk = load_train_data(config), config.steps_per_execution
        keras.utils.set_random_seed(config.seed)
        network, optimizer = build_network(config), make_optimizer(config)
        network.compile(optimizer=optimizer, loss=make_loss(config))
        optimizer.build(network.trainable_variables)
        train_chunk, eval_chunk = jax_step_functions(network, optimizer, make_loss(config), "device", None, chunk)
        groups = (network.trainable_variables, network.non_trainable_variables, optimizer.variables)
        state = jax.device_put(tuple([np.asarray(v.value) for v in group] for group in groups))
        images, val = jax.device_put(data.train), jax.device_put(data.val)
        plan = ValidationPlan.make(len(data.val), config.batch_size, chunk)
        history, weights, losses = [], [], []
        for item in epoch_chunks(config, len(data.train), 0, chunk):
            state, chunk_losses = train_chunk(state, images, item.index, item.flips, None)
            losses.append(np.asarray(chunk_losses))
            if item.last:
                total = 0.0
                for c0 in range(0, len(plan.index), plan.per_call):
                    part = slice(c0, c0 + plan.per_call)
                    total += float(eval_chunk(state[0], state[1], val, plan.index[part], plan.weight[part], None))
                history.append([float(np.mean(np.concatenate(losses))), total / plan.images])
                weights.append([np.asarray(a) for a in state[0]])
                losses = []
        return history, weights

    def checkpoint(name, epoch):
        return out / name / "checkpoints" / f"epoch-{epoch:04d}.keras"

    def same_weights(path, expected):
        found = [np.asarray(w) for w in read_keras(path, compile=False).trainable_weights]
        return len(found) == len(expected) and all(np.array_equal(a, b) for a, b in zip(found, expected))

    # instruments: the session's train chunks dispatched so far; end_epoch(k) waits for epoch k + 1's first
    seen, overlapped = {"dispatched": 0, "chunks": 1, "first": 1}, {}

    def session(chunks=1, first=1):
        seen.update(dispatched=0, chunks=chunks, first=first)
    made = jax_loop.jax_step_functions

    def counting_step_functions(*args, **kwargs):
        train_chunk, eval_chunk = made(*args, **kwargs)
        def counted(*a, **k):
            seen["dispatched"] += 1
            return train_chunk(*a, **k)
        return counted, eval_chunk

    jax_loop.jax_step_functions = counting_step_functions
    ending = pipelined.end_epoch

    def waiting_end_epoch(book, record, network, epoch, *rest):
        if epoch < book.config.epochs:
            wanted = (epoch - seen["first"] + 1) * seen["chunks"] + 1
            for _ in range(600):
                if seen["dispatched"] >= wanted:
                    break
                threading.Event().wait(0.1)
            overlapped.setdefault(book.folder.path.name, []).append(seen["dispatched"] >= wanted)
        return ending(book, record, network, epoch, *rest)

    pipelined.end_epoch = waiting_end_epoch

    for name, steps in (("one_chunk", 2), ("two_chunks", 1)):  # 2 batches per epoch
        config = base.replace(steps_per_execution=steps, output_dir=str(out / name))
        session(chunks=2 // steps)
        result = train(config)
        history, weights = sequential(config)
        report[name] = {
            "history": [[r["loss"], r["val_loss"]] for r in result.state.history] == history,
            "weights": all(same_weights(checkpoint(name, e), weights[e - 1]) for e in (2, 3)),
            "overlapped": overlapped[name],
        }

    # early stopping at epoch 2 (no later epoch can beat epoch 1 by 1e9) while epoch 3 trains
    early = base.replace(steps_per_execution=2, epochs=4, early_stopping_patience=1, min_delta=1e9)
    session()
    result = train(early.replace(output_dir=str(out / "early")))
    history, weights = sequential(early)
    report["early"] = {
        "epochs": [r["epoch"] for r in result.state.history],
        "stopped_early": result.state.stopped_early,
        "history": [[r["loss"], r["val_loss"]] for r in result.state.history] == history[:2],
        "checkpoints": sorted(p.name for p in (out / "early" / "checkpoints").iterdir()),
        "last_checkpoint": same_weights(out / "early" / "checkpoints/epoch-0002.keras", weights[1]),
        "model_is_best": same_weights(out / "early" / "model.keras", weights[0]),
        "started_epoch_3": seen["dispatched"] >= 3,
        "overlapped": overlapped["early"],
    }

    # epoch 2 diverges (poisoned resume point) while epoch 3 trains: nothing after epoch 1 is committed
    run = out / "diverged"
    train(base.replace(steps_per_execution=2, epochs=1, output_dir=str(run)))
    poison_checkpoint(run)
    before = _files(run)
    session(first=2)
    try:
        train(base.replace(steps_per_execution=2, output_dir=str(run)), resume=True)
    except TrainingDiverged as error:
        report["diverged"] = str(error)
    after = _files(run)
    report["diverged_unchanged"] = _committed(after) == _committed(before)
    report["diverged_started_epoch_3"] = seen["dispatched"] >= 2
    report["diverged_overlapped"] = overlapped["diverged"]
    report["diverged_record"] = json.loads(after["run.json"])["epochs_completed"]
    print("REPORT", json.dumps(report))
""")


def _run(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    environment = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        KERAS_BACKEND="jax",
        JAX_COMPILATION_CACHE_DIR=str(tmp_path / "xla-cache"),  # the runs compile the same programs
    )
    done = subprocess.run(
        [sys.executable, *args], env=environment, capture_output=True, text=True, timeout=1200, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.subprocess
def test_epoch_ends_overlap_the_next_epoch_and_change_nothing(tmp_path):
    done = _run(["-c", SCRIPT, str(tmp_path), str(ROOT)], tmp_path)
    report = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))[7:])
    for name in ("one_chunk", "two_chunks"):
        assert report[name] == {"history": True, "weights": True, "overlapped": [True, True]}, (name, report[name])
    assert report["early"] == {
        "epochs": [1, 2],
        "stopped_early": True,
        "history": True,
        "checkpoints": ["epoch-0001.keras", "epoch-0002.keras"],
        "last_checkpoint": True,
        "model_is_best": True,
        "started_epoch_3": True,
        "overlapped": [True, True],
    }
    assert "epoch 2 diverged" in report["diverged"] and "epoch 1, the last good one" in report["diverged"]
    assert report["diverged_unchanged"] is True and report["diverged_started_epoch_3"] is True
    assert report["diverged_record"] == 1 and report["diverged_overlapped"] == [True]


@pytest.mark.subprocess
def test_overhead_benchmark_runs_on_a_tiny_set(tmp_path):
    out = tmp_path / "overhead.json"
    tiny = "--synthetic 16 --val-images 8 --size 16 --batch-size 8 --epochs 2 --steps-per-execution 2"
    done = _run(["benchmarks/train_overhead.py", *tiny.split(), "--out", str(out)], tmp_path)
    result = json.loads(out.read_text())
    assert result["same_losses"] is True  # the baseline trains the same numbers as the trainer
    assert result["epochs"] == 2 and [r["epoch"] for r in result["per_epoch"]] == [1, 2]
    assert result["baseline_images_per_s"] > 0 and result["shipped_images_per_s"] > 0
    expected = 100 * (1 - result["shipped_images_per_s"] / result["baseline_images_per_s"])
    assert result["overhead_pct"] == pytest.approx(expected)
    assert "overhead 1 - (a)/(b):" in done.stdout and "machine:" in done.stdout


def test_best_model_export_reuses_its_float32_network_with_the_new_weights(tmp_path):
    import numpy as np

    from colorization.training.checkpoint import export_float32, read_keras
    from colorization.training.config import TrainConfig
    from colorization.training.step import build_network
    from tests.conftest import TINY_TRAINING

    network = build_network(TrainConfig(**TINY_TRAINING, precision="mixed_bfloat16"))
    first = export_float32(network, tmp_path / "first.keras")
    network.set_weights([w + np.asarray(0.5, w.dtype) for w in network.get_weights()])  # the next improving epoch
    again = export_float32(network, tmp_path / "again.keras", first)
    assert again is first  # no second build
    for name in ("first", "again"):
        saved = read_keras(tmp_path / f"{name}.keras", compile=False)
        assert {str(w.dtype) for w in saved.weights} == {"float32"}
    expected = [np.asarray(w).astype("float32") for w in network.get_weights()]
    found = read_keras(tmp_path / "again.keras", compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))
    before = read_keras(tmp_path / "first.keras", compile=False).get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(before, expected, strict=True))


@pytest.mark.parametrize(
    ("n", "batch_size", "align"), [(391, 64, 1), (391, 64, 2), (5, 4, 1), (1000, 8, 4), (64, 64, 1)]
)
def test_validation_batches_cover_every_image_once_with_little_padding(n, batch_size, align):
    from colorization.training.jax_loop import VALIDATION_BATCH_FACTOR, ValidationPlan

    plan = ValidationPlan.make(n, batch_size, chunk=50, align=align)
    batches, size = plan.index.shape
    assert size % align == 0 and size <= VALIDATION_BATCH_FACTOR * batch_size
    assert batches == -(-n // (VALIDATION_BATCH_FACTOR * batch_size))  # the fewest batches that size allows
    assert plan.weight.sum() == n and plan.index.size - n < batches * align  # padding: under `align` a batch
    np.testing.assert_array_equal(np.sort(plan.index[plan.weight == 1]), np.arange(n))
    assert plan.per_call == batches and plan.images == n


def test_validation_plan_for_caltech101_pads_one_image_not_fifty_seven():
    from colorization.training.jax_loop import ValidationPlan

    assert ValidationPlan.make(391, 64, chunk=50).index.shape == (2, 196)
