"""Choosing images by category: some of a data set's categories, or a content group of them.

Training (``categories`` / ``content_group`` in a configuration) and evaluation
(``colorization evaluate --categories / --content-group``) choose the same way: they keep the
manifest's rows (the cache's index) whose category is chosen, each with its own split, so a
content group is trained on its train rows, validated on its val rows and tested on its test
rows without copying any data.

:data:`CONTENT_GROUPS` maps the paper's content groups (claim 1) to the Caltech categories
standing for them; a category belongs to a group when its name matches one of the group's,
ignoring case (:func:`group_of`). Names absent from a data set are simply absent.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np

CONTENT_GROUPS = {
    "portraits": ("Faces", "Faces_easy", "portrait", "253.faces-easy-101", "159.people"),
    "animals": (
        "Leopards",
        "dalmatian",
        "elephant",
        "kangaroo",
        "llama",
        "panda",
        "rhino",
        "wild_cat",
        "beaver",
        "emu",
        "flamingo",
        "hedgehog",
        "platypus",
        "rooster",
        "animal",
    ),
    "landscapes": ("joshua_tree", "pyramid", "bonsai", "sunflower", "water_lilly", "lotus", "scene"),
}


def group_of(category: str, groups: dict = CONTENT_GROUPS) -> str | None:
    """The content group ``category`` belongs to (names compared ignoring case), or None."""
    for group, members in groups.items():
        if category in members or category.lower() in (m.lower() for m in members):
            return group
    return None


def check_content_group(name: str) -> str:
    """``name`` if it is a content group; else ``ValueError`` listing the groups."""
    if name not in CONTENT_GROUPS:
        raise ValueError(f"unknown content group {name!r}; the content groups are {', '.join(CONTENT_GROUPS)}")
    return name


def chosen_categories(
    available: Iterable[str],
    *,
    categories: Sequence[str] | None = None,
    content_group: str | None = None,
    where: str = "the data set",
) -> tuple[str, ...] | None:
    """The categories of ``available`` that ``categories`` or ``content_group`` choose (sorted).

    Parameters
    ----------
    available : iterable of str
        The data set's categories (e.g. its cache index's ``category`` column).
    categories : sequence of str, optional
        Category names, each of which must be one of ``available`` (exactly).
    content_group : str, optional
        A key of :data:`CONTENT_GROUPS`: its categories that ``available`` has.
    where : str
        What ``available`` belongs to, for the messages.

    Returns None (every category) when neither is given.

    Raises
    ------
    ValueError
        One line: both given, an unknown content group or category (listing the valid
        ones), an empty list, or a group none of whose categories the data set has.
    """
    if categories is None and content_group is None:
        return None
    if categories is not None and content_group is not None:
        raise ValueError("give categories or a content group, not both")
    present = sorted(set(available))
    listing = ", ".join(present)
    if content_group is not None:
        check_content_group(content_group)
        chosen = tuple(c for c in present if group_of(c, {content_group: CONTENT_GROUPS[content_group]}))
        if not chosen:
            members = ", ".join(CONTENT_GROUPS[content_group])
            raise ValueError(
                f"{where}: none of content group {content_group}'s categories ({members}) is there; its "
                f"categories: {listing}"
            )
        return chosen
    if not categories:
        raise ValueError("categories is empty: name at least one category, or none to use them all")
    for name in categories:
        if name not in present:
            close = difflib.get_close_matches(name, present, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{where}: no category {name!r}{hint}; its categories: {listing}")
    return tuple(sorted(set(categories)))


def category_rows(index, split: str | None, categories: Sequence[str] | None) -> np.ndarray:
    """Row numbers of the decodable images of a cache ``index`` in ``split`` (all splits if None),
    of ``categories`` only when given (the rows of :meth:`colorization.data.ImageCache.rows`)."""
    part = index[index["ok"]]
    if split is not None:
        part = part[part["split"] == split]
    if categories is not None:
        part = part[part["category"].isin(categories)]
    return part["row"].to_numpy(dtype=np.int64)


def describe_choice(categories: Sequence[str] | None, content_group: str | None = None) -> str:
    """A few words for records and messages: ``content group animals (14 categories)``."""
    if categories is None:
        return "all categories"
    if content_group is not None:
        return f"content group {content_group} ({len(categories)} categories)"
    shown = ", ".join(categories[:5]) + (f" and {len(categories) - 5} more" if len(categories) > 5 else "")
    return f"categories {shown}"
