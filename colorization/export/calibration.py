"""The images an int8 export is calibrated on: a data source's training split, as the trainer sees them.

Post-training static quantization fixes each activation's int8 range from the network's
activations on a few representative inputs. Those are training-split images (never the
validation or test images an evaluation scores), paper-cropped to 256x256 as the training cache
crops them (:func:`colorization.data.cache.decode_file`). In CI the source is ``sample`` (its
fixed training split: 7 of the 9 photographs); for a release, ``caltech101``. The set is recorded
by relative path in the export's provenance (:meth:`Calibration.record`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorization.data.splits import DEFAULT_SEED

DEFAULT_LIMIT = 64  # images; activation ranges settle within a few dozen


@dataclass
class Calibration:
    """Calibration images: ``views`` (N, 256, 256, 3) uint8 and where they come from."""

    source: str
    split: str
    seed: int
    relpaths: list[str]
    views: np.ndarray

    def record(self) -> dict:
        """The set as the provenance records it: source, split, seed, size and each image's relative path."""
        return {
            "source": self.source,
            "split": self.split,
            "seed": self.seed,
            "images": len(self.relpaths),
            "relpaths": list(self.relpaths),
        }


def calibration_set(source, *, seed: int = DEFAULT_SEED, limit: int | None = DEFAULT_LIMIT) -> Calibration:
    """Up to ``limit`` training-split images of ``source``, spread evenly over the sorted paths.

    Parameters
    ----------
    source : str or Source
        ``sample``, ``caltech101``, a folder, or a :class:`~colorization.data.sources.Source`.
    seed : int
        The split seed (the training run's) for sources without a fixed split.

    Raises ``ValueError`` (one line) when the training split has no usable image.
    """
    from colorization.data.cache import decode_file
    from colorization.data.manifest import build_manifest, usable
    from colorization.data.sources import Source, get_source

    src = source if isinstance(source, Source) else get_source(str(source))
    train = usable(build_manifest(src, seed=seed, progress=False), "train").sort_values("relpath")
    if train.empty:
        raise ValueError(f"{getattr(src, 'root', src.name)}: no usable training images to calibrate int8 on")
    if limit is not None and limit < len(train):
        train = train.iloc[np.unique(np.linspace(0, len(train) - 1, int(limit)).round().astype(int))]
    views = np.stack([decode_file(path) for path in train["path"]])
    return Calibration(src.name, "train", seed, train["relpath"].tolist(), views)
