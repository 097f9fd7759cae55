"""Trained weights shipped with the package, and loading any weights safely.

``registry.json`` in this folder lists the reference models: file name, sha256 and
a one-line description. A listed file is verified against its sha256 on every load.
Reference weights are stored in float16 (half the size in git; predictions differ
from the float32 originals by at most 0.02 in a or b) and computed in float32.
"""

from __future__ import annotations

import json
from pathlib import Path

from colorization.io.files import sha256_file

WEIGHTS_DIR = Path(__file__).resolve().parent
REGISTRY_FILE = WEIGHTS_DIR / "registry.json"
DEFAULT_MODEL = "paper"

HOW_TO_GET_WEIGHTS = (
    "train a model with the training notebook or `colorization train --config FILE`, "
    "then pass its .keras file with --weights FILE"
)


class WeightsError(RuntimeError):
    """Weights are missing, corrupt or not a model this package can use (one-line message)."""


def registry() -> dict[str, dict]:
    """The reference models shipped with the package: name -> {file, sha256, description}."""
    if not REGISTRY_FILE.is_file():
        return {}
    return json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))


def reference_weights(name: str = DEFAULT_MODEL) -> Path:
    """Path of a shipped reference model, verified against its registered sha256.

    Raises
    ------
    WeightsError
        If the package ships no such model yet, or the file does not match its checksum.
    """
    entries = registry()
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none yet"
        raise WeightsError(
            f"no reference weights named {name!r} ship with this package (shipped: {known}); {HOW_TO_GET_WEIGHTS}"
        )
    entry = entries[name]
    path = WEIGHTS_DIR / entry["file"]
    if not path.is_file():
        raise WeightsError(
            f"{path}: reference weights are listed but missing; reinstall the package or {HOW_TO_GET_WEIGHTS}"
        )
    actual = sha256_file(path)
    if actual != entry["sha256"]:
        raise WeightsError(
            f"{path}: sha256 {actual[:12]}... does not match the registered {entry['sha256'][:12]}... "
            "(corrupt or altered file)"
        )
    return path


def load_weights(weights: str | Path | None = None, name: str = DEFAULT_MODEL):
    """Load a model: a ``.keras`` file, or the shipped reference model ``name`` if ``weights`` is None.

    Loading uses Keras' safe mode: no arbitrary code from the file runs.
    """
    from colorization.model import load_model

    path = reference_weights(name) if weights is None else Path(weights)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    if path.suffix != ".keras":
        raise WeightsError(f"{path}: expected a .keras model file")
    try:
        model = load_model(path)
    except Exception as error:  # corrupt zip, wrong content, unsafe lambda ...
        message = " ".join(str(error).split())[:300]
        raise WeightsError(f"{path}: not a usable Keras model ({type(error).__name__}: {message})") from None
    return as_float32(model)


def as_float32(model):
    """The paper's network (either head, see :func:`colorization.model.head_of`) computing
    in float32, whatever precision its weights were stored in."""
    from colorization.model import rebuild

    stored = {str(w.dtype) for w in model.weights}
    if stored == {"float32"} or model.name != "paper_colorization":
        return model
    return rebuild(model)


def export_float16(model, path: str | Path) -> Path:
    """Save the paper's network (either head) with float16 weights (for shipping); see :func:`as_float32`."""
    from colorization.model import rebuild, save_model

    return save_model(rebuild(model, "float16"), path)
