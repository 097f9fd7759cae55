"""The decoded-image cache, the batch planner and gather, lab_batch and packs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from colorization import lab
from colorization.data import cache as cache_module
from colorization.data.batches import gather, plan_epoch
from colorization.data.cache import build_cache, open_cache
from colorization.data.manifest import build_manifest, usable
from colorization.data.pack import cache_from_pack, load_pack, write_pack
from colorization.data.sources import FolderSource
from colorization.fast.lab_ops import lab_batch
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


def test_plan_epoch_is_deterministic_per_seed_and_epoch():
    order, flips = plan_epoch(24, 5, seed=3, epoch=2, flip=True)
    again, flips_again = plan_epoch(24, 5, seed=3, epoch=2, flip=True)
    np.testing.assert_array_equal(order, again)
    np.testing.assert_array_equal(flips, flips_again)
    assert not np.array_equal(order, plan_epoch(24, 5, seed=3, epoch=3, flip=True)[0])  # a new shuffle each epoch
    assert not np.array_equal(order, plan_epoch(24, 5, seed=4, epoch=2, flip=True)[0])
    # the flags come from the same draw as the order: switching flips off keeps the order
    np.testing.assert_array_equal(plan_epoch(24, 5, seed=3, epoch=2, flip=False)[0], order)


def test_plan_epoch_full_batches_each_index_at_most_once():
    for n, batch in ((24, 5), (24, 7), (30, 30), (10, 4)):
        for epoch in range(3):
            order, flips = plan_epoch(n, batch, seed=1, epoch=epoch)
            assert order.dtype == np.int32 and flips.dtype == bool
            assert order.shape == flips.shape == (n // batch, batch)  # full batches only
            seen = order.ravel().tolist()
            assert len(set(seen)) == len(seen) == n - n % batch  # all but n % batch, none twice
            assert set(seen) <= set(range(n))
    with pytest.raises(ValueError, match="larger than the training set"):
        plan_epoch(4, 8, seed=0, epoch=0)


def test_plan_epoch_flips_about_half_and_none_when_off():
    flips = np.concatenate([plan_epoch(1000, 10, seed=0, epoch=e)[1].ravel() for e in range(4)])
    assert 0.45 < flips.mean() < 0.55
    assert not any(plan_epoch(1000, 10, seed=0, epoch=e, flip=False)[1].any() for e in range(4))


def test_gather_equals_fancy_indexing_whatever_the_threads(manifest, tmp_path):
    cache = build_cache(manifest, tmp_path / "cache", workers=0, progress=False)
    images = cache.images[cache.rows("train")]  # the train split as training holds it
    order, _ = plan_epoch(len(images), 5, seed=3, epoch=0)
    for index in (order[0], order, order[:2], np.arange(len(images))):
        expected = images[index]
        results = [gather(images, index)]
        for threads in (1, 2, 8):
            with ThreadPoolExecutor(threads) as pool:
                results.append(gather(images, index, pool))
        for result in results:
            assert result.dtype == np.uint8 and result.shape == index.shape + (256, 256, 3)
            np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(gather(cache.images, np.arange(30)), cache.images[:])  # from the memory map


def test_planned_batches_flip_on_the_device_through_lab_batch(manifest, tmp_path):
    """Flips happen only in lab_batch: a flagged image comes out mirrored, the others as they are."""
    cache = build_cache(manifest, tmp_path / "cache", workers=0, progress=False)
    images = cache.images[cache.rows("train")]
    order, flips = plan_epoch(len(images), 8, seed=3, epoch=0)
    rgb = gather(images, order[0])
    assert 0 < flips[0].sum() < 8
    lightness, ab = (np.asarray(t) for t in lab_batch(rgb, flips[0]))
    mirrored = np.where(flips[0][:, None, None, None], rgb[:, :, ::-1], rgb)
    plain_l, plain_ab = (np.asarray(t) for t in lab_batch(mirrored))
    np.testing.assert_array_equal(lightness, plain_l)
    np.testing.assert_array_equal(ab, plain_ab)
    assert not np.array_equal(lightness, np.asarray(lab_batch(rgb)[0]))


def test_lab_batch_matches_numpy_reference():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    batch[0, 0, :8] = [
        [0, 0, 0],
        [255, 255, 255],
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 0],
        [10, 10, 10],
        [128, 128, 128],
    ]
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
