"""The decoded-image cache, the batch iterator, lab_batch and packs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorization import lab
from colorization.data import cache as cache_module
from colorization.data.batches import BatchIterator, cache_batches
from colorization.fast.lab_ops import lab_batch
from colorization.data.cache import build_cache, open_cache
from colorization.data.manifest import build_manifest, usable
from colorization.data.pack import cache_from_pack, load_pack, write_pack
from colorization.data.sources import FolderSource
from colorization.io.preprocess import paper_crop


def photo(seed: int, size=(48, 36)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, seed * 37 % 256)], axis=-1)
    return np.clip(base + rng.integers(-10, 10, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    for c in range(3):
        (root / f"cat{c}").mkdir(parents=True)
        for i in range(10):
            Image.fromarray(photo(10 * c + i)).save(root / f"cat{c}" / f"{i:02d}.png")
    Image.fromarray(photo(99)[..., 0]).save(root / "cat0" / "gray.png")  # excluded: not cached
    return root


@pytest.fixture
def manifest(folder):
    return build_manifest(FolderSource(folder), workers=0, progress=False)


def test_cache_holds_paper_cropped_usable_images(manifest, tmp_path):
    cache = build_cache(manifest, tmp_path / "cache", workers=0, progress=False)
    rows = usable(manifest)
    assert cache.images.shape == (len(rows), 256, 256, 3) and cache.images.dtype == np.uint8
    assert list(cache.index["relpath"]) == list(rows["relpath"])
    first = np.asarray(Image.open(rows["path"].iloc[0]).convert("RGB"))
    np.testing.assert_array_equal(cache.images[0], paper_crop(first, 256))
    assert len(cache.rows("train")) == 24 and len(cache.rows("val")) == 3 and len(cache.rows("test")) == 3


def test_cache_reused_then_rebuilt_when_manifest_changes(manifest, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    first = build_cache(manifest, folder, workers=0, progress=False)
    built_at = first.meta["built_at"], first.meta["key"]

    def must_not_decode(*args, **kwargs):
        raise AssertionError("a matching cache must not decode anything")

    monkeypatch.setitem(cache_module._DECODERS, "file", must_not_decode)
    again = build_cache(manifest, folder, workers=0, progress=False)
    assert (again.meta["built_at"], again.meta["key"]) == built_at
    monkeypatch.undo()

    changed = manifest.copy()
    flip = changed.index[changed["split"] == "train"][0]
    changed.loc[flip, "split"] = "test"
    rebuilt = build_cache(changed, folder, workers=2, progress=False)  # worker processes
    assert rebuilt.meta["key"] != built_at[1]
    assert len(rebuilt.rows("test")) == 4
    np.testing.assert_array_equal(rebuilt.images[:], first.images[:])
    assert open_cache(folder, built_at[1]) is None  # the old key is no longer served


def test_interrupted_build_is_not_taken_as_valid(manifest, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    build_cache(manifest, folder, workers=0, progress=False)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(cache_module._DECODERS, "file", boom)
    with pytest.raises(KeyboardInterrupt):
        build_cache(manifest, folder, workers=0, progress=False, rebuild=True)
    assert open_cache(folder) is None  # meta.json removed before the rebuild started
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temp left


def test_batches_cover_each_train_image_once_per_epoch_with_flips(manifest, tmp_path):
    cache = build_cache(manifest, tmp_path / "cache", workers=0, progress=False)
    train = cache.rows("train")
    batches = cache_batches(cache, "train", batch_size=5, seed=3, return_rows=True)
    assert len(batches) == 5  # 24 images: 4 full batches and one of 4
    flipped = plain = 0
    orders = []
    for _ in range(2):  # two epochs
        seen = []
        for batch, rows in batches:
            assert batch.dtype == np.uint8 and batch.shape[1:] == (256, 256, 3)
            for image, row in zip(batch, rows):
                if np.array_equal(image, cache.images[row]):
                    plain += 1
                else:
                    np.testing.assert_array_equal(image, cache.images[row][:, ::-1])
                    flipped += 1
            seen.extend(rows.tolist())
        assert sorted(seen) == sorted(train.tolist())
        orders.append(seen)
    assert flipped > 0 and plain > 0
    assert orders[0] != orders[1]  # a new shuffle each epoch


def test_batches_same_with_threads_and_drop_last(manifest, tmp_path):
    cache = build_cache(manifest, tmp_path / "cache", workers=0, progress=False)
    serial = BatchIterator(cache.images, cache.rows("train"), batch_size=7, seed=1)
    threaded = BatchIterator(cache.images, cache.rows("train"), batch_size=7, seed=1, workers=2, prefetch=2)
    for a, b in zip(serial.iter_epoch(4), threaded.iter_epoch(4), strict=True):
        np.testing.assert_array_equal(a, b)
    dropped = BatchIterator(cache.images, cache.rows("train"), batch_size=7, drop_last=True)
    assert [len(b) for b in dropped] == [7, 7, 7]
    fixed = BatchIterator(cache.images, shuffle=False, flip=False, batch_size=30, return_rows=True)
    batch, rows = next(iter(fixed))
    np.testing.assert_array_equal(rows, np.arange(30))
    np.testing.assert_array_equal(batch, cache.images[:])


def test_lab_batch_matches_numpy_reference():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    batch[0, 0, :8] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0],
                       [0, 0, 255], [255, 255, 0], [10, 10, 10], [128, 128, 128]]
    lightness, ab = (np.asarray(t) for t in lab_batch(batch))
    assert lightness.shape == (2, 16, 16, 1) and ab.shape == (2, 16, 16, 2)
    assert lightness.dtype == np.float32 and ab.dtype == np.float32
    reference = lab.rgb_to_lab(batch)
    np.testing.assert_allclose(lightness, lab.scale_l(reference[..., :1]), atol=0.01 / lab.L_HALF_RANGE)
    np.testing.assert_allclose(ab, lab.scale_ab(reference[..., 1:]), atol=0.01 / lab.AB_SCALE)


def test_pack_round_trip(manifest, tmp_path):
    files_cache = build_cache(manifest, tmp_path / "cache", workers=0, progress=False)
    pack_path = write_pack(manifest, tmp_path / "pack", quality=90, workers=0, progress=False)
    meta = json.loads((tmp_path / "pack" / "pack.json").read_text())
    assert meta["count"] == len(files_cache) == 30 and meta["quality"] == 90
    assert (tmp_path / "pack" / "manifest.csv").is_file()
    pack = load_pack(pack_path.parent)
    assert len(pack) == 30 and list(pack.manifest["relpath"]) == list(manifest["relpath"])
    decoded = cache_from_pack(pack, workers=2, progress=False)
    assert decoded.folder == tmp_path / "pack" / "cache"
    assert list(decoded.index["split"]) == list(files_cache.index["split"])
    error = np.abs(decoded.images[:].astype(int) - files_cache.images[:].astype(int)).mean()
    assert error < 3.0  # JPEG q90 of smooth images
    assert cache_from_pack(pack_path, workers=0, progress=False).meta["key"] == decoded.meta["key"]  # reused
    assert decoded.meta["key"] != files_cache.meta["key"]


def test_lab_batch_on_jax_backend():
    """The same numpy batch feeds JAX (the GPU backend); checked here on JAX's CPU."""
    pytest.importorskip("jax")
    code = (
        "import numpy as np, keras\n"
        "from colorization import lab\n"
        "from colorization.fast.lab_ops import lab_batch\n"
        "assert keras.backend.backend() == 'jax'\n"
        "b = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)\n"
        "L, ab = lab_batch(b)\n"
        "ref = lab.rgb_to_lab(b)\n"
        "assert type(L).__module__.startswith('jax'), type(L)\n"
        "assert np.abs(np.asarray(L) - lab.scale_l(ref[..., :1])).max() < 0.01 / 50\n"
        "assert np.abs(np.asarray(ab) - lab.scale_ab(ref[..., 1:])).max() < 0.01 / 128\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
