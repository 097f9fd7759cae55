"""Deterministic, category-stratified train / validation / test splits.

Defaults (our choice; the paper states no split): ``seed = 0``, fractions
``train 0.8, val 0.1, test 0.1``, applied per category to the usable images only.

Per category with n usable images: ``n_val = round(0.1 n)`` and ``n_test = round(0.1 n)``,
each raised to 1 when n >= 3, train gets the rest; n = 2 gives one train and one
test image, n = 1 one train image. Which images go where: the category's images
sorted by relative path, permuted by a generator seeded with ``(seed, crc32(category))``.
The result depends only on the seed and on the category's own files: not on the
order files were listed, nor on other categories (adding a category changes no other).
Near-duplicates can be kept in one split (``groups``; the manifest uses it for
Caltech-101's ``Faces_easy``, which repeats ``Faces`` image by image, cropped closer).

:func:`cap_per_category` picks at most N usable images per category the same way
(the rest are marked excluded, so the manifest shows exactly what was used).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

SPLITS = ("train", "val", "test")
DEFAULT_SEED = 0
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


def split_counts(n: int, fractions: Sequence[float] = DEFAULT_FRACTIONS) -> tuple[int, int, int]:
    """(train, val, test) sizes for a category of ``n`` images."""
    train_f, val_f, test_f = (float(f) for f in fractions)
    total = train_f + val_f + test_f
    if min(train_f, val_f, test_f) < 0 or total <= 0:
        raise ValueError(f"split fractions must be non-negative and not all zero, got {fractions}")
    val_f, test_f = val_f / total, test_f / total
    if n <= 0:
        return 0, 0, 0
    if n == 1:
        return 1, 0, 0
    if n == 2:
        return (1, 0, 1) if test_f > 0 else (1, 1, 0) if val_f > 0 else (2, 0, 0)
    n_val = max(1 if val_f > 0 else 0, round(n * val_f))
    n_test = max(1 if test_f > 0 else 0, round(n * test_f))
    while n_val + n_test > n - (1 if train_f > 0 else 0):  # keep at least one for training
        if n_val >= n_test and n_val > 0:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


def _category_order(keys: Sequence[str], category: str, seed: int, salt: int = 0) -> list[int]:
    """Positions (into ``keys``) in the seeded order for one category."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rng = np.random.default_rng([int(seed), zlib.crc32(category.encode("utf-8")), salt])
    return [order[i] for i in rng.permutation(len(order))]


def _by_category(categories: Sequence[str], mask: Sequence[bool] | None) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, category in enumerate(categories):
        if mask is None or mask[i]:
            groups.setdefault(category, []).append(i)
    return groups


def assign_splits(
    categories: Sequence[str],
    keys: Sequence[str],
    *,
    seed: int = DEFAULT_SEED,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    usable: Sequence[bool] | None = None,
    groups: Sequence[str] | None = None,
) -> np.ndarray:
    """Split name per item (``""`` where not usable).

    Parameters
    ----------
    categories, keys : sequences of str, same length
        Category and a unique, stable key (the relative path) per item.
    usable : sequence of bool, optional
        Items that take part; the others get ``""``.
    groups : sequence of str, optional
        Items with the same group (within a category) always share a split, and the
        counts are taken over groups: for near-duplicates such as Caltech-101's
        ``Faces`` / ``Faces_easy`` pairs, so that no photograph is in two splits.
    """
    out = np.full(len(categories), "", dtype=object)
    groups = keys if groups is None else groups
    for category, members in _by_category(categories, usable).items():
        by_group: dict[str, list[int]] = {}
        for i in members:
            by_group.setdefault(groups[i], []).append(i)
        names = list(by_group)
        local = _category_order(names, category, seed)
        n_train, n_val, _ = split_counts(len(names), fractions)
        for rank, position in enumerate(local):
            name = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
            for i in by_group[names[position]]:
                out[i] = name
    return out


def cap_per_category(
    categories: Sequence[str],
    keys: Sequence[str],
    max_per_category: int | None,
    *,
    seed: int = DEFAULT_SEED,
    usable: Sequence[bool] | None = None,
) -> np.ndarray:
    """Boolean mask keeping at most ``max_per_category`` usable items per category."""
    keep = np.array([True] * len(categories) if usable is None else list(usable), dtype=bool)
    if max_per_category is None:
        return keep
    for category, members in _by_category(categories, usable).items():
        local = _category_order([keys[i] for i in members], category, seed, salt=1)
        for position in local[int(max_per_category) :]:
            keep[members[position]] = False
    return keep
