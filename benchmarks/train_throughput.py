"""Training throughput of the paper's network on one accelerator (Keras on JAX).

    KERAS_BACKEND=jax python benchmarks/train_throughput.py --out results/bench

Variants:

``model``   the network alone: the trainer's Keras network, optimizer (Adam) and loss in a
            jitted ``lax.scan`` of K steps on one resident float batch of L and ab (no
            gather, no Lab conversion): the ceiling for this network in Keras/XLA.
``device``  the trainer itself (``train()``, ``loop: jax_scan``, ``data_placement:
            device``): the uint8 set uploaded once; batches gathered, flipped and
            converted to Lab inside the step. images/s of the steady epochs (the first
            compiles), validation excluded, checkpoints (written in the background) included.
``host``    the same with ``data_placement: host``: each chunk's uint8 batches gathered
            in host memory and uploaded while the previous chunk runs.
``fit``     the trainer with ``loop: fit`` (Keras ``fit``, uint8 batches from host memory).

``--runs`` lists ``variant:precision:batch[:images[:epochs]]`` items (default: bf16 at
batch 256 and 64, fp32 at 128), e.g. ``--runs model:bf16:256,device:bf16:64:3119:8``.
Trainer variants report images/s of training alone and of the whole epoch cycle
(validation, variable sync and checkpoint writing included).

Images are random uint8 (never all zeros, whose arithmetic can run faster than real
data's and flatter the figure). Figures: images/s, share of the bf16 dense peak (45.6
GFLOP per training image; ``--peak-tflops``, 790 by default: ``docs/measurements.md``),
and the end-to-end cost relative to ``model``. Results go to ``OUT/results.jsonl`` and a table is
printed last. ``--budget-s`` skips what would start after that many seconds.

Measured 2026-11-27 (Keras 3.15.1, JAX 0.11.2, 256x256, Adam, steps_per_execution 32,
8,192 random training images unless noted). "cycle": the whole epoch, with validation on
256 images, the variable sync and a checkpoint every epoch.

| card | prec. | batch | variant | images/s | cycle images/s | % bf16 peak | vs model |
|---|---|---|---|---|---|---|---|
| H100 80GB HBM3 | bf16 | 256 | model  | 6,399 |       | 36.9 |       |
| H100 80GB HBM3 | bf16 | 256 | device | 6,233 | 5,835 | 36.0 | -2.6% |
| H100 80GB HBM3 | bf16 | 256 | host   | 6,238 | 5,684 | 36.0 | -2.5% |
| H100 80GB HBM3 | bf16 | 256 | fit    | 6,033 | 4,721 | 34.8 | -5.7% |
| H100 80GB HBM3 | bf16 | 64  | model  | 6,115 |       | 35.3 |       |
| H100 80GB HBM3 | bf16 | 64  | device | 5,988 | 5,689 | 34.6 | -2.1% |
| H100 80GB HBM3 | bf16 | 64  | device, 3,119 images (Caltech-101 train), 8 epochs | 6,004 | 5,172 | 34.7 | -1.8% |
| H100 80GB HBM3 | fp32 | 128 | model  | 3,047 |       | 17.6 |       |
| H100 80GB HBM3 | fp32 | 128 | device | 2,994 | 2,902 | 17.3 | -1.7% |
| H200           | bf16 | 256 | model  | 7,075 |       | 40.8 |       |
| H200           | bf16 | 256 | device | 6,916 |       | 39.9 | -2.2% |
| H200           | bf16 | 64  | model  | 6,875 |       | 39.7 |       |
| H200           | bf16 | 64  | device | 6,652 |       | 38.4 | -3.2% |
| H200           | bf16 | 256 | fit    | 6,725 |       | 38.8 | -4.9% |
| H200           | fp32 | 128 | model  | 3,384 |       | 19.5 |       |
| H200           | fp32 | 128 | device | 3,302 |       | 19.1 | -2.4% |

The H200 run (default ``--runs``, ``--budget-s 400``) came before the cross-epoch
prefetch and threaded gather of ``host`` (then 4,370 images/s) and the cycle column.
The H100 run: ``--budget-s 330 --runs model:bf16:256,device:bf16:256,model:bf16:64,``
``device:bf16:64,device:bf16:64:3119:8,host:bf16:256,fit:bf16:256,model:fp32:128,device:fp32:128``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

FLOP_PER_TRAIN_IMAGE = 45.6e9  # 3 x 15.2 GFLOP forward (docs/paper.md, "Network (exact)"; docs/measurements.md)
SHORT = {"bf16": "mixed_bfloat16", "fp32": "float32"}
DEFAULT_RUNS = (
    "model:bf16:256,device:bf16:256,model:bf16:64,device:bf16:64,host:bf16:256,fit:bf16:256,"
    "model:fp32:128,device:fp32:128"
)


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    runs_help = "comma list of variant:precision:batch (variant: model, device, host, fit; precision: bf16, fp32)"
    p.add_argument("--runs", default=DEFAULT_RUNS, help=runs_help + ", run in this order")
    p.add_argument("--size", type=int, default=256, help="image side (256: the paper's)")
    p.add_argument("--images", type=int, default=8192, help="training images for the trainer variants")
    p.add_argument("--val-images", type=int, default=256)
    p.add_argument("--epochs", type=int, default=3, help="trainer variants: epochs (the first compiles)")
    p.add_argument("--chunk", type=int, default=32, help="steps per compiled call (steps_per_execution)")
    p.add_argument("--calls", type=int, default=5, help="model variant: timed calls")
    p.add_argument("--peak-tflops", type=float, default=790.0)
    p.add_argument("--budget-s", type=float, default=1e9)
    p.add_argument("--out", default=None)
    return p.parse_args(argv)


def _runs(text: str) -> list[tuple]:
    runs = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) not in (3, 4, 5) or parts[0] not in ("model", "device", "host", "fit") or parts[1] not in SHORT:
            raise SystemExit(f"bad run {item!r}: expected variant:precision:batch[:images[:epochs]]")
        variant, precision, batch, *rest = parts
        runs.append((variant, SHORT[precision], int(batch), *(int(x) for x in rest)))
    return runs


def _random_uint8(n: int, size: int, seed: int) -> np.ndarray:
    """n random images; a block of distinct ones repeated (fast to make, never zeros)."""
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 256, (min(n, 512), size, size, 3), dtype=np.uint8)
    return np.concatenate([block] * (-(-n // len(block))))[:n]


def _resident_step(network, optimizer, loss, lightness, ab):
    """One training step on a fixed (L, ab) batch, as ``lax.scan`` body: the trainer's pieces, no data path."""
    import jax

    def step(state, _):
        trainable, non_trainable, opt_vars = state

        def forward(trainable):
            pred, nt = network.stateless_call(trainable, non_trainable, lightness, training=True)
            return loss(ab, pred.astype("float32")), nt

        (value, non_trainable), grads = jax.value_and_grad(forward, has_aux=True)(trainable)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return (trainable, non_trainable, opt_vars), value

    return step


def bench_model(precision: str, batch: int, args) -> dict:
    import jax
    import jax.numpy as jnp

    from colorization.fast.lab_ops import lab_batch
    from colorization.training.config import TrainConfig
    from colorization.training.step import build_network, make_loss, make_optimizer

    config = TrainConfig(input_size=args.size, precision=precision, batch_size=batch)
    network, optimizer, loss = build_network(config), make_optimizer(config), make_loss(config)
    optimizer.build(network.trainable_variables)
    lightness, ab = jax.jit(lab_batch)(jnp.asarray(_random_uint8(batch, args.size, 1)))
    step = _resident_step(network, optimizer, loss, lightness, ab)
    unroll = args.chunk if jax.default_backend() == "cpu" else 1  # as the trainer (XLA:CPU loops are slow)
    run = jax.jit(lambda state: jax.lax.scan(step, state, None, length=args.chunk, unroll=unroll), donate_argnums=0)
    variables = (network.trainable_variables, network.non_trainable_variables, optimizer.variables)
    state = jax.device_put(tuple([np.asarray(v.value) for v in vs] for vs in variables))
    times = []
    for _ in range(args.calls + 1):  # the first call compiles
        start = time.perf_counter()
        state, losses = run(state)
        losses.block_until_ready()
        times.append(time.perf_counter() - start)
    compile_s, times = times[0], times[1:]
    finite = bool(np.isfinite(np.asarray(losses)).all())
    del state, losses
    return {
        "images_per_s": batch * args.chunk / statistics.median(times),
        "compile_s": compile_s,
        "spread": (max(times) - min(times)) / statistics.median(times),
        "finite": finite,
    }


def bench_trainer(
    variant: str, precision: str, batch: int, args, images: int | None = None, epochs: int | None = None
) -> dict:
    from colorization.training.config import TrainConfig
    from colorization.training.data import TrainData
    from colorization.training.trainer import train

    n, epochs = images or args.images, epochs or args.epochs
    train_images, val_images = _random_uint8(n, args.size, 2), _random_uint8(args.val_images, args.size, 3)
    data = TrainData(train_images, val_images, manifest_hash="benchmark-random", description="random uint8")
    loop = "fit" if variant == "fit" else "jax_scan"
    placement = "host" if variant == "host" else "device"
    shape = dict(input_size=args.size, precision=precision, batch_size=batch, epochs=epochs)
    with tempfile.TemporaryDirectory() as folder:
        config = TrainConfig(
            **shape,
            early_stopping_patience=None,
            steps_per_execution=args.chunk,
            loop=loop,
            data_placement=placement,
            output_dir=str(Path(folder) / "run"),
            verbose=2,
        )
        result = train(config, data=data)
    rows = result.state.history
    steady = [r["images_per_s"] for r in rows[1:]] or [rows[0]["images_per_s"]]
    epoch_images = (n // batch) * batch
    wall = [epoch_images / r["wall_seconds"] for r in rows[1:]] or [epoch_images / rows[0]["wall_seconds"]]
    first = rows[0]["seconds"] - (rows[1]["seconds"] if len(rows) > 1 else 0.0)
    return {
        "images_per_s": statistics.median(steady),
        "wall_images_per_s": statistics.median(wall),
        "compile_s": first,
        "spread": (max(steady) - min(steady)) / statistics.median(steady),
        "finite": all(np.isfinite(r["loss"]) for r in rows),
        "epoch_images": epoch_images,
        "epochs": epochs,
        "losses": [round(r["loss"], 5) for r in rows],
    }


def measure(variant: str, precision: str, batch: int, extra: list, args, card: str) -> dict:
    """One ``--runs`` item: its figures (or the error that stopped it) as a results row."""
    print(f"--- {variant} {precision} batch {batch}", flush=True)
    start = time.perf_counter()
    try:
        if variant == "model":
            figures = bench_model(precision, batch, args)
        else:
            figures = bench_trainer(variant, precision, batch, args, *extra)
    except Exception as error:  # keep going: report what ran
        figures = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    gc.collect()
    row = {
        "card": card,
        "variant": variant,
        "precision": precision,
        "batch": batch,
        "images": extra[0] if extra else (None if variant == "model" else args.images),
        "chunk": args.chunk,
        "size": args.size,
        "seconds": round(time.perf_counter() - start, 1),
        **figures,
    }
    if "images_per_s" in row:
        row["pct_bf16_peak"] = 100 * row["images_per_s"] * FLOP_PER_TRAIN_IMAGE / (args.peak_tflops * 1e12)
    return row


def main(argv=None) -> int:
    args = _parse(argv)
    import jax
    import keras

    device = jax.devices()[0]
    card = getattr(device, "device_kind", device.platform)
    print(
        f"keras {keras.__version__} on {keras.backend.backend()}, jax {jax.__version__}, device: {card} "
        f"({len(jax.devices())} visible)",
        flush=True,
    )
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    for variant, precision, batch, *extra in _runs(args.runs):
        if time.perf_counter() - t0 > args.budget_s:
            print(f"skip {variant} {precision} b{batch}: over the time budget", flush=True)
            continue
        row = measure(variant, precision, batch, extra, args, card)
        results.append(row)
        print(json.dumps(row), flush=True)
        if out:
            with open(out / "results.jsonl", "a") as handle:
                handle.write(json.dumps(row) + "\n")
    _table(results)
    print(f"total {time.perf_counter() - t0:.0f}s", flush=True)
    return 0


def _table(results) -> None:
    model = {
        (r["precision"], r["batch"]): r["images_per_s"]
        for r in results
        if r["variant"] == "model" and "images_per_s" in r
    }
    print(
        "\n| card | precision | batch | variant | train images | images/s | % bf16 peak | vs model | "
        "images/s with val + checkpoints | compile s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        head = f"| {r['card']} | {r['precision']} | {r['batch']} | {r['variant']} | {r.get('images') or ''} |"
        if "images_per_s" not in r:
            print(f"{head} {r['error']} | | | | |")
            continue
        ref = model.get((r["precision"], r["batch"]))
        versus = f"{100 * (r['images_per_s'] / ref - 1):+.1f}%" if ref and r["variant"] != "model" else ""
        wall = f"{r['wall_images_per_s']:,.0f}" if "wall_images_per_s" in r else ""
        print(
            f"{head} {r['images_per_s']:,.0f} | {r['pct_bf16_peak']:.1f} | {versus} | {wall} | {r['compile_s']:.1f} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
