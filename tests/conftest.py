"""Shared fixtures: real photographs that ship with scikit-image, and a small model file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
REAL_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")

# A training run of seconds on a CPU: 16 synthetic 16x16 images, two epochs (tests of the trainer).
TINY_TRAINING = dict(
    data="synthetic",
    synthetic_train=16,
    synthetic_val=8,
    input_size=16,
    batch_size=8,
    epochs=2,
    early_stopping_patience=None,
    verbose=0,
)


@pytest.fixture(scope="session")
def real_photos() -> dict[str, np.ndarray]:
    """Colour photographs as uint8 RGB arrays, read straight from scikit-image's folder."""
    from PIL import Image

    return {name: np.asarray(Image.open(SKIMAGE_DATA / name).convert("RGB")) for name in REAL_PHOTOS}


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Path:
    """The paper's network with seeded random weights, saved as .keras.

    Random weights are enough to test the plumbing (sizes, lightness, errors); the
    final layer's bias is set so that predictions carry visible colour.
    """
    import keras

    from colorization.model import build_paper_model, save_model

    keras.utils.set_random_seed(0)
    model = build_paper_model()
    kernel, bias = model.get_layer("conv12_ab").get_weights()
    model.get_layer("conv12_ab").set_weights([kernel, np.array([0.08, 0.12], dtype=bias.dtype)])
    path = tmp_path_factory.mktemp("model") / "random.keras"
    save_model(model, path)
    return path


@pytest.fixture(scope="session")
def model(model_file):
    from colorization.model import load_model

    return load_model(model_file)
