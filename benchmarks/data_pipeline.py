"""Benchmark of the data pipeline on Caltech-101 (the offline copy beside the checkout).

Measures, on a subset of ``--limit`` files evenly spread over all categories:

1. inspection (open every file, decide grayscale / unreadable): images/s;
2. cache build (decode + paper_crop to 256x256 into the uint8 memory map): images/s
   with 1 worker and with ``--workers``;
3. training batches, the path the trainer runs: the train split as training holds it
   (``colorization.training.data.cache_data``), the batch planner
   (``colorization.data.batches.plan_epoch``) and the host gather (``gather``, in the
   calling thread and with threads, ``--chunk`` batches at a time as the JAX loop's
   ``data_placement: host`` does): batches/s and images/s of 256x256;
4. pack: KiB per image at JPEG q80 and q85 and how many images fit in 50 MiB, and
   the rate of decoding a pack back into a cache.

Usage::

    python benchmarks/data_pipeline.py --limit 1000 --workers 2

With ``--pack DIR`` it measures a pack instead (e.g. on the GPU machine): decoding the
pack into a cache, the gathered batches, and those batches with their flip flags going
through ``colorization.fast.lab_ops.lab_batch`` compiled for the Keras backend's device
(host -> device copy included; the flips happen there, as in training)::

    KERAS_BACKEND=jax python benchmarks/data_pipeline.py --pack .pack/c101 --workers 16

Everything is written under a temporary folder (``--tmp``) and removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from colorization.data.batches import gather, plan_epoch
from colorization.data.cache import build_cache
from colorization.data.manifest import build_manifest, usable
from colorization.data.pack import cache_from_pack, load_pack, write_pack
from colorization.data.sources import get_source
from colorization.training.data import cache_data


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def planned_batches(images, batch_size: int, batches: int, chunk: int, threads: int):
    """``(rgb (K, B, H, W, 3), flips (K, B))`` chunks of the trainer's epochs until ``batches``
    batches are done: planned by ``plan_epoch``, gathered by ``threads`` threads (0: none)."""
    done, epoch = 0, 0
    with ThreadPoolExecutor(threads) if threads else nullcontext() as pool:
        while done < batches:
            order, flips = plan_epoch(len(images), batch_size, seed=0, epoch=epoch, flip=True)
            for c0 in range(0, len(order), chunk):
                index = order[c0 : c0 + chunk][: batches - done]
                yield gather(images, index, pool), flips[c0 : c0 + len(index)]
                done += len(index)
                if done >= batches:
                    return
            epoch += 1


def gather_rate(images, batch_size: int, batches: int, chunk: int, threads: int) -> tuple[float, float]:
    """(batches/s, images/s) of planning and gathering ``batches`` training batches."""
    start = time.perf_counter()
    done = sum(len(rgb) for rgb, _ in planned_batches(images, batch_size, batches, chunk, threads))
    seconds = time.perf_counter() - start
    return done / seconds, done * batch_size / seconds


def device_step():
    """``(step, put)``: ``lab_batch`` of a (B, H, W, 3) uint8 batch and its flags compiled
    for the Keras backend's device (reduced to one number), and the host -> device copy."""
    import keras

    from colorization.fast.lab_ops import lab_batch

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(lambda b, f: sum(x.sum() for x in lab_batch(b, f))), jax.device_put
    if backend == "tensorflow":
        import tensorflow as tf

        step = tf.function(lambda b, f: sum(tf.reduce_sum(x) for x in lab_batch(b, f)), jit_compile=True)
        return step, tf.constant
    raise SystemExit(f"backend {backend} not measured")


def lab_rate(images, batch_size: int, batches: int, threads: int) -> float:
    """Images/s of planned, gathered batches and their flips through lab_batch on the device."""
    step, put = device_step()
    rgb, flips = next(planned_batches(images, batch_size, 1, 1, 0))
    float(step(put(rgb[0]), put(flips[0])))  # compile
    images_done, total, start = 0, 0.0, time.perf_counter()
    for rgb, flips in planned_batches(images, batch_size, batches, 1, threads):
        total = step(put(rgb[0]), put(flips[0]))
        images_done += len(rgb[0])
    float(total)  # wait for the device
    return images_done / (time.perf_counter() - start)


def report_gather(images, args, thread_counts) -> None:
    for threads in thread_counts:
        per_s, img_s = gather_rate(images, args.batch_size, args.batches, args.chunk, threads)
        print(
            f"planned + gathered batches of {args.batch_size}x256x256x3 uint8, {args.chunk} at a time, "
            f"{threads} thread(s): {per_s:8.1f} batches/s = {img_s:8.0f} images/s"
        )


def pack_mode(args, scratch: Path) -> int:
    pack = load_pack(args.pack)
    print(
        f"pack: {pack.path}, {len(pack)} images, {pack.path.stat().st_size / 2**20:.1f} MiB, "
        f"q{pack.meta.get('quality')}"
    )
    for workers in sorted({1, args.workers}):
        cache, seconds = timed(cache_from_pack, pack, scratch / "cache", workers=workers, progress=False, rebuild=True)
        print(f"pack -> cache, {workers} worker(s): {len(pack) / seconds:8.1f} images/s ({seconds:.1f} s)")
    train = cache_data(cache).train
    report_gather(train, args, (0, 1, 8))
    try:
        import keras
    except ImportError:
        print("keras not importable: lab_batch not measured")
        return 0
    for threads in (0, 8):
        rate = lab_rate(train, args.batch_size, args.batches, threads)
        print(
            f"planned + gathered batches -> {keras.backend.backend()} device -> lab_batch (flips), "
            f"{threads} thread(s): {rate:8.0f} images/s"
        )
    return 0


def caltech_mode(args, scratch: Path) -> int:
    source = get_source("caltech101", progress=False)
    source.fetch()
    print(f"source: caltech101, {source.origin}")
    manifest, seconds = timed(build_manifest, source, limit=args.limit or None, workers=args.workers, progress=False)
    n_files, n_used = len(manifest), len(usable(manifest))
    print(f"files: {n_files} (usable {n_used}, excluded {n_files - n_used})")
    print(f"inspection, {args.workers} workers: {n_files / seconds:8.1f} files/s ({seconds:.1f} s)")
    for workers in sorted({1, args.workers}):
        cache, seconds = timed(build_cache, manifest, scratch / "cache", workers=workers, progress=False, rebuild=True)
        print(
            f"cache build, {workers} worker(s): {n_used / seconds:8.1f} images/s ({seconds:.1f} s, "
            f"{cache.images.nbytes / 2**20:.0f} MiB)"
        )
    cache, seconds = timed(build_cache, manifest, scratch / "cache", progress=False)
    print(f"cache reuse (manifest unchanged): {seconds * 1000:.1f} ms")
    report_gather(cache_data(cache).train, args, sorted({0, 1, args.workers}))
    for quality in (int(q) for q in args.qualities.split(",")):
        path, seconds = timed(
            write_pack, manifest, scratch / f"pack-q{quality}", quality=quality, workers=args.workers, progress=False
        )
        per_image = path.stat().st_size / n_used
        print(
            f"pack q{quality}: {per_image / 1024:.1f} KiB/image -> {int(50 * 2**20 / per_image)} images "
            f"per 50 MiB (encode {n_used / seconds:.0f} images/s)"
        )
        _, seconds = timed(cache_from_pack, path, workers=args.workers, progress=False)
        print(f"pack q{quality} -> cache, {args.workers} workers: {n_used / seconds:8.1f} images/s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=1000, help="files to use (default 1000; 0 = all)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers to compare with 1")
    parser.add_argument("--batch-size", type=int, default=64, help="training batch size (default 64, the trainer's)")
    parser.add_argument("--batches", type=int, default=200, help="batches per batch-rate measurement")
    parser.add_argument(
        "--chunk",
        type=int,
        default=1,
        help="batches gathered at a time (1: fit; the JAX loop's host placement: steps_per_execution)",
    )
    parser.add_argument("--qualities", default="80,85", help="JPEG qualities for the pack size figures")
    parser.add_argument("--tmp", help="scratch folder (default: a new temporary folder)")
    parser.add_argument("--pack", help="measure this pack (folder or pack.npz) instead of Caltech-101 files")
    args = parser.parse_args(argv)
    scratch = Path(args.tmp or tempfile.mkdtemp(prefix="colorization-bench-"))
    try:
        return pack_mode(args, scratch) if args.pack else caltech_mode(args, scratch)
    finally:
        if not args.tmp:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
