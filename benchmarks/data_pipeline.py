"""Benchmark of the data pipeline on Caltech-101 (the offline copy beside the checkout).

Measures, on a subset of ``--limit`` files evenly spread over all categories:

1. inspection (open every file, decide grayscale / unreadable): images/s;
2. cache build (decode + paper_crop to 256x256 into the uint8 memory map): images/s
   with 1 worker and with ``--workers``;
3. batch production from the cache (shuffle, flips, copy out of the memory map):
   batches/s and images/s of 256x256, in the calling thread and with threads;
4. pack: KiB per image at JPEG q80 and q85 and how many images fit in 50 MiB, and
   the rate of decoding a pack back into a cache.

Usage::

    python benchmarks/data_pipeline.py --limit 1000 --workers 2

With ``--pack DIR`` it measures a pack instead (e.g. on the GPU machine): decoding the
pack into a cache, batch production, and batches fed through ``lab_batch``
compiled for the Keras backend's device (host -> device copy included)::

    KERAS_BACKEND=jax python benchmarks/data_pipeline.py --pack .pack/c101 --workers 16

Everything is written under a temporary folder (``--tmp``) and removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from colorization.data.batches import BatchIterator
from colorization.data.cache import build_cache
from colorization.data.manifest import build_manifest, usable
from colorization.data.pack import cache_from_pack, load_pack, write_pack
from colorization.data.sources import get_source


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def batch_rate(images, rows, batch_size: int, batches: int, workers: int) -> tuple[float, float]:
    iterator = BatchIterator(images, rows, batch_size=batch_size, seed=0, workers=workers, drop_last=True)
    done = 0
    start = time.perf_counter()
    while done < batches:
        for _ in iterator:
            done += 1
            if done >= batches:
                break
    seconds = time.perf_counter() - start
    return done / seconds, done * batch_size / seconds


def lab_rate(iterator, batches: int) -> float:
    """Images/s of batches going through the compiled lab_batch on the backend's device."""
    import keras

    from colorization.fast.lab_ops import lab_batch

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        step = jax.jit(lambda b: sum(x.sum() for x in lab_batch(b)))
        put = jax.device_put
    elif backend == "tensorflow":
        import tensorflow as tf

        step = tf.function(lambda b: sum(tf.reduce_sum(x) for x in lab_batch(b)), jit_compile=True)
        put = tf.constant
    else:
        raise SystemExit(f"backend {backend} not measured")
    first = next(iter(iterator.iter_epoch(0)))
    float(step(put(first)))  # compile
    done, images, start = 0, 0, time.perf_counter()
    total = 0.0
    while done < batches:
        for batch in iterator:
            total = step(put(batch))
            done, images = done + 1, images + len(batch)
            if done >= batches:
                break
    float(total)  # wait for the device
    return images / (time.perf_counter() - start)


def pack_mode(args) -> int:
    scratch = Path(args.tmp or tempfile.mkdtemp(prefix="colorization-bench-"))
    try:
        pack = load_pack(args.pack)
        print(f"pack: {pack.path}, {len(pack)} images, {pack.path.stat().st_size / 2**20:.1f} MiB, "
              f"q{pack.meta.get('quality')}")
        for workers in sorted({1, args.workers}):
            cache, seconds = timed(cache_from_pack, pack, scratch / "cache", workers=workers, progress=False,
                                   rebuild=True)
            print(f"pack -> cache, {workers} worker(s): {len(pack) / seconds:8.1f} images/s ({seconds:.1f} s)")
        train = cache.rows("train")
        for workers in (0, 1, 4):
            per_s, img_s = batch_rate(cache.images, train, args.batch_size, args.batches, workers)
            print(f"batches of {args.batch_size}x256x256x3 uint8, {workers} thread(s): "
                  f"{per_s:8.1f} batches/s = {img_s:8.0f} images/s")
        try:
            import keras
        except ImportError:
            print("keras not importable: lab_batch not measured")
            return 0
        for workers in (0, 4):
            iterator = BatchIterator(cache.images, train, batch_size=args.batch_size, workers=workers,
                                     drop_last=True)
            rate = lab_rate(iterator, args.batches)
            print(f"batches -> {keras.backend.backend()} device -> lab_batch, {workers} thread(s): "
                  f"{rate:8.0f} images/s")
    finally:
        if not args.tmp:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=1000, help="files to use (default 1000; 0 = all)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers to compare with 1")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=200, help="batches per batch-rate measurement")
    parser.add_argument("--qualities", default="80,85", help="JPEG qualities for the pack size figures")
    parser.add_argument("--tmp", help="scratch folder (default: a new temporary folder)")
    parser.add_argument("--pack", help="measure this pack (folder or pack.npz) instead of Caltech-101 files")
    args = parser.parse_args(argv)
    if args.pack:
        return pack_mode(args)

    scratch = Path(args.tmp or tempfile.mkdtemp(prefix="colorization-bench-"))
    try:
        source = get_source("caltech101", progress=False)
        source.fetch()
        print(f"source: caltech101, {source.origin}")
        manifest, seconds = timed(build_manifest, source, limit=args.limit or None,
                                  workers=args.workers, progress=False)
        n_files, n_used = len(manifest), len(usable(manifest))
        print(f"files: {n_files} (usable {n_used}, excluded {n_files - n_used})")
        print(f"inspection, {args.workers} workers: {n_files / seconds:8.1f} files/s ({seconds:.1f} s)")

        rates = {}
        for workers in sorted({1, args.workers}):
            cache, seconds = timed(build_cache, manifest, scratch / "cache", workers=workers,
                                   progress=False, rebuild=True)
            rates[workers] = n_used / seconds
            print(f"cache build, {workers} worker(s): {rates[workers]:8.1f} images/s ({seconds:.1f} s, "
                  f"{cache.images.nbytes / 2**20:.0f} MiB)")
        cache, seconds = timed(build_cache, manifest, scratch / "cache", progress=False)
        print(f"cache reuse (manifest unchanged): {seconds * 1000:.1f} ms")

        train = cache.rows("train")
        for workers in (0, 1, args.workers):
            per_s, img_s = batch_rate(cache.images, train, args.batch_size, args.batches, workers)
            print(f"batches of {args.batch_size}x256x256x3 uint8, {workers} thread(s): "
                  f"{per_s:8.1f} batches/s = {img_s:8.0f} images/s")

        for quality in (int(q) for q in args.qualities.split(",")):
            folder = scratch / f"pack-q{quality}"
            path, seconds = timed(write_pack, manifest, folder, quality=quality, workers=args.workers,
                                  progress=False)
            per_image = path.stat().st_size / n_used
            print(f"pack q{quality}: {per_image / 1024:.1f} KiB/image -> {int(50 * 2**20 / per_image)} images "
                  f"per 50 MiB (encode {n_used / seconds:.0f} images/s)")
            _, seconds = timed(cache_from_pack, path, workers=args.workers, progress=False)
            print(f"pack q{quality} -> cache, {args.workers} workers: {n_used / seconds:8.1f} images/s")
    finally:
        if not args.tmp:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
