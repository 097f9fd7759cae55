"""What per-epoch validation and checkpoints cost the lean JAX loop (issue 18: at most 5% on one GPU).

    KERAS_BACKEND=jax python benchmarks/train_overhead.py --epochs 10              # 7,000 random images
    KERAS_BACKEND=jax python benchmarks/train_overhead.py --pack .pack/c101 --epochs 10
    KERAS_BACKEND=jax python benchmarks/train_overhead.py --cache data/cache/caltech101-caltech101 --batch-size 64

Trains the same configuration (``configs/caltech101.yaml``: bf16, Adam 5e-4, flips,
``loop: jax_scan``, ``data_placement: device``; here batch 256 and no early stopping, so
that every epoch runs) twice in one process, on the same images:

(a) *shipped*: :func:`colorization.training.train` as users run it: validation, the
    run record, a checkpoint and (when it improves) ``best.keras`` every epoch;
(b) *baseline*: the same epochs with none of that: the trainer's own step functions,
    batch plan, feed and chunks (:mod:`colorization.training.jax_loop`), from the same
    initial weights, in a loop stripped of everything else (it never waits for the
    device until its last epoch).

Steady images/s (the first epoch compiles): (a) ``(E - 1) x images`` over the sum of the
epochs 2..E ``wall_seconds`` of the run's history (each epoch's whole cycle: training,
validation, bookkeeping, waiting for checkpoint writes); (b) the same images over the host
clock from the end of epoch 1 to the end of epoch E. Overhead = 1 - (a) / (b). Also
printed: each epoch's training-alone and whole-cycle images/s as ``run.json`` records them,
its steady figures, and (a) end to end (the session's wall time, the final model export
included). The two runs train the same numbers: the check line compares their losses.

Data: ``--synthetic N`` random uint8 images of ``--size`` (default 7,000 of 256x256, never
all zeros, with ``--val-images``), or ``--pack`` a Caltech-101 pack
(:func:`colorization.data.write_pack`) decoded once into an image cache (``--cache-dir``), or
``--cache`` an image cache notebook 01 built (its train and val splits).
``--out`` writes the figures as JSON. Machine, backend and device are printed first.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--synthetic", type=int, default=7000, help="random training images (without --pack)")
    p.add_argument("--val-images", type=int, default=391, help="random validation images (Caltech-101's split: 391)")
    p.add_argument("--pack", default=None, help="a Caltech-101 pack folder, decoded into a cache, instead")
    p.add_argument("--cache", default=None, help="an image cache folder (notebook 01's), instead")
    p.add_argument("--cache-dir", default=None, help="where --pack is decoded (default: the package's data folder)")
    p.add_argument("--size", type=int, default=256, help="image side")
    p.add_argument("--epochs", type=int, default=10, help="epochs of each run (the first compiles)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument(
        "--steps-per-execution", type=int, default=None, help="steps per compiled call (default: the config's)"
    )
    p.add_argument("--config", default=str(ROOT / "configs" / "caltech101.yaml"))
    p.add_argument("--out", default=None, help="write the figures to this JSON file")
    args = p.parse_args(argv)
    if args.epochs < 2:
        p.error("--epochs must be at least 2 (the first compiles)")
    return args


def machine() -> str:
    """The CPU model and core count (``lscpu``), for the figures' context."""
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()
        model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), "?")
    except (OSError, subprocess.SubprocessError):
        model = platform.processor() or "?"
    return f"{model}, {os.cpu_count()} cores"


def random_uint8(n: int, size: int, seed: int) -> np.ndarray:
    """``n`` random images; a block of distinct ones repeated (fast to make, never all zeros)."""
    rng = np.random.default_rng(seed)
    block = rng.integers(1, 256, (min(n, 512), size, size, 3), dtype=np.uint8)
    return np.concatenate([block] * (-(-n // len(block))))[:n]


def load_data(args):
    """The benchmark's :class:`~colorization.training.data.TrainData`."""
    from colorization.training.data import TrainData, cache_data, pack_data

    if args.cache:
        return cache_data(args.cache)
    if args.pack:
        return pack_data(args.pack, args.cache_dir)
    train, val = random_uint8(args.synthetic, args.size, 2), random_uint8(args.val_images, args.size, 3)
    return TrainData(train, val, manifest_hash="benchmark-random", description="random uint8")


def bench_config(args, output_dir: str):
    """``--config`` with the benchmark's batch size and epochs, every epoch run, in ``output_dir``."""
    from colorization.training.config_file import load_config

    config = load_config(args.config)
    return config.replace(
        input_size=args.size,
        batch_size=args.batch_size,
        epochs=args.epochs,
        early_stopping_patience=None,
        steps_per_execution=args.steps_per_execution or config.steps_per_execution,
        output_dir=output_dir,
        verbose=2,
    )


def shipped(config, data) -> dict:
    """(a): :func:`train`; its history and run record."""
    from colorization.training.trainer import train

    start = time.perf_counter()
    result = train(config, data=data)
    return {"history": result.state.history, "session": result.record["sessions"][-1], "total_s": elapsed(start)}


def baseline(config, data) -> dict:
    """(b): the trainer's train chunks over the same epochs, and nothing else."""
    import jax
    import keras

    from colorization.training.jax_loop import (
        DEFAULT_CHUNK,
        GATHER_THREADS,
        Feed,
        epoch_chunks,
        initial_state,
        prefetched,
    )
    from colorization.training.step import build_network, jax_step_functions, make_loss, make_optimizer

    start = time.perf_counter()
    keras.utils.set_random_seed(config.seed)  # the trainer's initial weights
    network, optimizer, loss = build_network(config), make_optimizer(config), make_loss(config)
    network.compile(optimizer=optimizer, loss=loss)
    optimizer.build(network.trainable_variables)
    chunk = config.steps_per_execution or DEFAULT_CHUNK
    unroll = chunk if jax.default_backend() == "cpu" else 1
    train_chunk, _ = jax_step_functions(network, optimizer, loss, config.data_placement, None, unroll)
    losses, first_done = [], None
    with ThreadPoolExecutor(1) as feeder, ThreadPoolExecutor(GATHER_THREADS) as gatherers:
        feed = Feed(config.data_placement, None, gatherers)
        train_images, _ = feed.upload(data)
        state = initial_state(network, feed)
        chunks = epoch_chunks(config, len(data.train), 0, chunk)
        for item, (xs, fs, ps) in prefetched(feeder, partial(feed.chunk_inputs, data.train), chunks):
            state, chunk_losses = train_chunk(state, train_images, xs, fs, ps)
            losses.append((item.epoch, chunk_losses))
            if item.last and first_done is None:
                jax.block_until_ready(chunk_losses)  # epoch 1 (compilation) done: the steady clock starts
                first_done = time.perf_counter()
        jax.block_until_ready(state)
    steady_s = time.perf_counter() - first_done
    per_epoch = [np.concatenate([np.asarray(x) for e, x in losses if e == epoch]) for epoch in range(config.epochs)]
    return {"steady_s": steady_s, "losses": [float(np.mean(x)) for x in per_epoch], "total_s": elapsed(start)}


def elapsed(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def figures(a: dict, b: dict, images: int, epochs: int) -> dict:
    """Steady images/s of (a) and (b), the overhead, and (a)'s per-epoch figures."""
    rows = a["history"]
    steady_images = images * (epochs - 1)
    shipped_rate = steady_images / sum(r["wall_seconds"] for r in rows[1:])
    baseline_rate = steady_images / b["steady_s"]
    session = a["session"]
    end_to_end = steady_images / (session["wall_seconds"] - rows[0]["wall_seconds"])
    return {
        "images_per_epoch": images,
        "epochs": epochs,
        "shipped_images_per_s": shipped_rate,
        "baseline_images_per_s": baseline_rate,
        "overhead_pct": 100 * (1 - shipped_rate / baseline_rate),
        "shipped_end_to_end_images_per_s": end_to_end,
        "run_json_steady_images_per_s": session["steady_images_per_s"],
        "run_json_steady_wall_images_per_s": session["steady_wall_images_per_s"],
        "per_epoch": [
            {
                "epoch": r["epoch"],
                "images_per_s": r["images_per_s"],
                "wall_images_per_s": round(images / r["wall_seconds"], 1),
                "seconds": r["seconds"],
                "wall_seconds": r["wall_seconds"],
            }
            for r in rows
        ],
        "same_losses": [r["loss"] for r in rows] == b["losses"],
        "shipped_total_s": a["total_s"],
        "baseline_total_s": b["total_s"],
    }


def report(result: dict) -> None:
    print("\n| epoch | images/s (training) | images/s (whole cycle) | seconds | wall seconds |")
    print("|---|---|---|---|---|")
    for r in result["per_epoch"]:
        print(
            f"| {r['epoch']} | {r['images_per_s']:,.0f} | {r['wall_images_per_s']:,.0f} | {r['seconds']:.3f} "
            f"| {r['wall_seconds']:.3f} |"
        )
    print(
        f"\nrun.json steady: {result['run_json_steady_images_per_s']:,.0f} images/s training, "
        f"{result['run_json_steady_wall_images_per_s']:,.0f} with validation and checkpoints"
    )
    print(f"(a) shipped, validation + checkpoints every epoch: {result['shipped_images_per_s']:,.0f} images/s steady")
    print(
        f"    end to end after epoch 1 (final model export included): {result['shipped_end_to_end_images_per_s']:,.0f}"
    )
    print(f"(b) baseline, no validation, no checkpoints:       {result['baseline_images_per_s']:,.0f} images/s steady")
    print(f"overhead 1 - (a)/(b): {result['overhead_pct']:.1f}%")
    print(f"check: the two runs' per-epoch training losses are identical: {result['same_losses']}")
    print(f"total seconds (compilation included): (a) {result['shipped_total_s']}, (b) {result['baseline_total_s']}")


def main(argv=None) -> int:
    args = _parse(argv)
    import jax
    import keras

    device = jax.devices()[0]
    card, host = getattr(device, "device_kind", device.platform), machine()
    print(f"machine: {host}; keras {keras.__version__} on {keras.backend.backend()}, jax {jax.__version__}, ", end="")
    print(f"device: {card} ({len(jax.devices())} visible)", flush=True)
    data = load_data(args)
    with tempfile.TemporaryDirectory() as folder:
        config = bench_config(args, str(Path(folder) / "run"))
        print(
            f"{len(data.train)} training, {len(data.val)} validation images ({data.description}); {config.precision}, "
            f"batch {config.batch_size}, {config.epochs} epochs, loop {config.loop}",
            flush=True,
        )
        print("--- (b) baseline", flush=True)
        b = baseline(config, data)
        gc.collect()
        print("--- (a) shipped", flush=True)
        a = shipped(config, data)
    images = (len(data.train) // config.batch_size) * config.batch_size
    result = {"card": card, "machine": host, **figures(a, b, images, config.epochs)}
    report(result)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
