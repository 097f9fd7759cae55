"""What the trainer eats: two uint8 arrays of shape (N, S, S, 3), train and validation.

The arrays may be in memory or memory-mapped (a ``.npy`` file); the trainer only
indexes them, through the batch planner of :mod:`colorization.data.batches`. RGB -> Lab,
the scalings and the flips happen later, inside the compiled training step.
:func:`load_train_data` is the one place that maps a configuration to arrays; a new
source is one more branch there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization.io.files import sha256_file
from colorization.training.config import ConfigError, TrainConfig


@dataclass
class TrainData:
    """Training and validation images, uint8 (N, S, S, 3), and where they came from.

    Attributes
    ----------
    train, val : ndarray (N, S, S, 3) uint8
        In memory or memory-mapped.
    manifest_hash : str, optional
        Hash of the split manifest (CSV) the images follow, for ``run.json``.
    description : str
        One line for ``run.json``.
    """

    train: np.ndarray
    val: np.ndarray
    manifest_hash: str | None = None
    description: str = ""

    def check(self, size: int, batch_size: int = 1) -> None:
        """Raise :class:`ConfigError` unless both sets are non-empty uint8 (N, size, size, 3) and the
        training set holds at least one full batch of ``batch_size`` images."""
        for name, array in (("train", self.train), ("val", self.val)):
            if array.dtype != np.uint8 or array.ndim != 4 or array.shape[1:] != (size, size, 3):
                raise ConfigError(
                    f"{name} images must be uint8 of shape (N, {size}, {size}, 3); got {array.dtype} {array.shape}"
                    f" ({self.description})"
                )
            if len(array) == 0:
                raise ConfigError(f"the {name} set is empty ({self.description})")
        if len(self.train) < batch_size:  # not one full batch (plan_epoch)
            raise ConfigError(
                f"batch_size {batch_size} is larger than the training set ({len(self.train)} images of "
                f"{self.description}); lower batch_size"
            )


# A fixed colour ramp whose lightness rises monotonically: on synthetic images ab is a
# function of L, so the network can learn it and the loss must fall.
_RAMP = np.array([(15, 25, 90), (40, 120, 70), (210, 120, 40), (250, 240, 160)], dtype=np.float64)


MAX_SYNTHETIC_BYTES = 4 << 30  # the synthetic sets are made in memory: at most 4 GiB of uint8 images
_SYNTHETIC_CHUNK = 64  # images converted at a time (float64 intermediates: ~25 x their uint8 size)


def synthetic_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``n`` smooth colour images (uint8, (n, size, size, 3)): random low-frequency fields
    mapped through a colour ramp. Deterministic for a given seed."""
    coarse = np.random.default_rng(seed).random((n, 5, 5))
    out = np.empty((n, size, size, 3), np.uint8)
    for start in range(0, n, _SYNTHETIC_CHUNK):
        out[start : start + _SYNTHETIC_CHUNK] = _ramp_images(coarse[start : start + _SYNTHETIC_CHUNK], size)
    return out


def _ramp_images(coarse: np.ndarray, size: int) -> np.ndarray:
    """The 5x5 fields ``coarse`` upsampled bilinearly to size x size and mapped through the ramp."""
    grid = np.linspace(0, 4, size)
    i0 = np.minimum(grid.astype(int), 3)
    t = grid - i0
    rows = coarse[:, i0, :] * (1 - t)[None, :, None] + coarse[:, i0 + 1, :] * t[None, :, None]
    field = rows[:, :, i0] * (1 - t)[None, None, :] + rows[:, :, i0 + 1] * t[None, None, :]
    position = field * (len(_RAMP) - 1)
    k = np.minimum(position.astype(int), len(_RAMP) - 2)
    frac = (position - k)[..., None]
    rgb = _RAMP[k] * (1 - frac) + _RAMP[k + 1] * frac
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _synthetic_data(config: TrainConfig) -> TrainData:
    """The ``synthetic`` source, within :data:`MAX_SYNTHETIC_BYTES`."""
    size = config.input_size
    needed = (config.synthetic_train + config.synthetic_val) * size * size * 3
    if needed > MAX_SYNTHETIC_BYTES:
        raise ConfigError(
            f"synthetic_train + synthetic_val images of input_size {size} need {needed / 2**30:,.1f} GiB, above the "
            f"{MAX_SYNTHETIC_BYTES >> 30} GiB limit of the synthetic source; use fewer or smaller images"
        )
    return TrainData(
        synthetic_images(config.synthetic_train, size, seed=config.seed),
        synthetic_images(config.synthetic_val, size, seed=config.seed + 1_000_003),
        manifest_hash=f"synthetic:{config.synthetic_train}+{config.synthetic_val}@{size}/seed{config.seed}",
        description="synthetic colour-ramp fields",
    )


def _load_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: cannot read a .npy array ({error})") from None


def cache_data(cache, categories: list[str] | None = None, content_group: str | None = None) -> TrainData:
    """The train and val splits of a :class:`colorization.data.ImageCache` (or its folder).

    ``data: cache`` with ``cache_dir`` in a configuration reads a cache built by
    ``colorization prepare`` or notebook 01; a notebook may pass the cache itself.
    ``categories`` or ``content_group`` keep only those categories' images, each in its
    manifest split (:func:`colorization.data.categories.chosen_categories`).
    """
    from colorization.data import open_cache
    from colorization.data.categories import category_rows, describe_choice

    if cache is None:
        raise ConfigError(
            "data: cache needs cache_dir (a folder built by `colorization prepare ... --cache` or "
            "notebook 01), or images passed by the caller"
        )
    if not hasattr(cache, "images"):
        folder = cache
        cache = open_cache(folder)
        if cache is None:
            raise ConfigError(f"{folder}: no complete image cache there")
    chosen = _chosen(cache.index["category"], f"cache {cache.folder}", categories, content_group)
    choice = "" if chosen is None else f", {describe_choice(chosen, content_group)}"
    return TrainData(
        cache.images[category_rows(cache.index, "train", chosen)],
        cache.images[category_rows(cache.index, "val", chosen)],
        manifest_hash=cache.meta.get("manifest_hash"),
        description=f"cache {cache.folder}{choice}",
    )


def _chosen(available, where: str, categories: list[str] | None, content_group: str | None):
    """:func:`colorization.data.categories.chosen_categories`, its problems as :class:`ConfigError`."""
    from colorization.data.categories import chosen_categories

    try:
        return chosen_categories(available, categories=categories, content_group=content_group, where=where)
    except ValueError as error:
        raise ConfigError(str(error), field="categories" if categories is not None else "content_group") from None


def pack_data(
    pack_path: str | Path,
    cache_dir: str | Path | None = None,
    categories: list[str] | None = None,
    content_group: str | None = None,
) -> TrainData:
    """A JPEG pack (``colorization.data.write_pack``), decoded once into an image cache
    (reused while the pack is unchanged) and split like any cache (:func:`cache_data`)."""
    from colorization.data import cache_from_pack, load_pack, usable
    from colorization.data.pack import pack_cache_folder

    try:
        pack = load_pack(pack_path)
    except (OSError, ValueError, KeyError) as error:
        raise ConfigError(f"{pack_path}: cannot read the pack ({error})") from None
    _chosen(usable(pack.manifest)["category"], f"pack {pack.path}", categories, content_group)  # before decoding
    cache = cache_from_pack(pack, pack_cache_folder(pack, cache_dir), progress=False)
    return cache_data(cache, categories, content_group)


def load_train_data(config: TrainConfig) -> TrainData:
    """Map a configuration's data fields (``data``, paths, sizes, manifest) to :class:`TrainData`."""
    if config.data in ("synthetic", "npy") and (config.categories is not None or config.content_group is not None):
        raise ConfigError(
            f"categories and content_group choose rows of a manifest: use data: cache or pack (data: {config.data} "
            "has no categories)",
            field="categories" if config.categories is not None else "content_group",
        )
    if config.data == "synthetic":
        data = _synthetic_data(config)
    elif config.data == "npy":
        data = TrainData(
            _load_npy(config.train_path),
            _load_npy(config.val_path),
            description=f"{config.train_path} + {config.val_path}",
        )
    elif config.data == "cache":
        data = cache_data(config.cache_dir, config.categories, config.content_group)
    elif config.data == "pack":
        data = pack_data(config.pack_path, config.cache_dir, config.categories, config.content_group)
    else:  # pragma: no cover - validated by TrainConfig
        raise ConfigError(f"unknown data source {config.data!r}")
    if config.max_train_images:
        data.train = data.train[: config.max_train_images]
    if config.max_val_images:
        data.val = data.val[: config.max_val_images]
    if config.manifest_hash:
        data.manifest_hash = config.manifest_hash
    elif config.manifest_path:
        path = Path(config.manifest_path)
        if not path.is_file():
            raise ConfigError(f"{path}: manifest not found")
        data.manifest_hash = "sha256:" + sha256_file(path)
    data.check(config.input_size, config.batch_size)
    return data
