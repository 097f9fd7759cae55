"""Trained weights shipped with the package, and loading any weights safely.

``registry.json`` in this folder lists the reference models: file name, sha256 and
a one-line description. A listed file is verified against its sha256 on every load.
Reference weights are stored in float16 (half the size in git; predictions differ
from the float32 originals by at most 0.02 in a or b) and computed in float32
(:mod:`colorization.weights.storage`). An entry's ``exports`` lists exports of it shipped beside it
(:func:`shipped_export`; the int8 ONNX paper network that ``colorization video`` runs on a CPU).

:func:`load_weights` is the one place every front end (CLI, app, evaluation,
notebooks) loads a model, so it refuses, with one plain line naming the file, anything
the network path could not run: a file that is not a sound ``.keras`` archive, a
model whose input or output does not fit the path, or weights that are not finite.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from colorization.io.files import sha256_file
from colorization.io.preprocess import PAPER_SIZE

WEIGHTS_DIR = Path(__file__).resolve().parent
REGISTRY_FILE = WEIGHTS_DIR / "registry.json"
DEFAULT_MODEL = "paper"
MAX_UNPACKED_BYTES = 2 << 30  # a .keras archive unpacking to more is refused (the paper's model: 16 MB)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"

HOW_TO_GET_WEIGHTS = (
    "train a model with the training notebook or `colorization train --config FILE`, "
    "then pass its .keras file with --weights FILE"
)
_TERMINAL_CODES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class WeightsError(RuntimeError):
    """Weights are missing, corrupt or not a model this package can use.

    The message is always one line of plain text: terminal escape codes (which Keras'
    messages may carry) and line breaks are removed.
    """

    def __init__(self, message: str):
        super().__init__(plain_line(message))


def plain_line(text: str) -> str:
    """``text`` as one line of plain text: no terminal escape codes, no control characters."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", _TERMINAL_CODES.sub("", str(text))).split())


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
    return _verified(entries[name])


def shipped_export(name: str, kind: str) -> Path | None:
    """Path of the registered model ``name``'s shipped export ``kind`` (its entry's ``exports``, e.g.
    ``onnx-int8``: ``colorization export`` of it, with its sidecar beside it), verified against its
    registered sha256; None when none ships.

    Raises
    ------
    WeightsError
        If the listed file is missing or does not match its checksum.
    """
    entry = registry().get(name, {}).get("exports", {}).get(kind)
    return None if entry is None else _verified(entry)


def _verified(entry: dict) -> Path:
    """The shipped file of a registry ``entry`` (``file``, ``sha256``), checked against its sha256."""
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
    """Load a model: a ``.keras`` file (an export, ``.onnx``, ``.xml``, ``.tflite`` or a SavedModel folder, runs
    on its runtime: :func:`colorization.export.load_exported`), or the shipped model ``name`` if ``weights`` is None.

    Loading uses Keras' safe mode: no arbitrary code from the file runs.

    Raises
    ------
    WeightsError
        One plain line naming the file and the problem: missing, a folder, not a
        ``.keras`` zip archive (e.g. HDF5), a truncated or corrupt archive, a model
        Keras cannot rebuild, an input or output that does not fit the network path
        (:func:`check_contract`), or weights holding NaN or infinity.
    """
    path = reference_weights(name) if weights is None else Path(weights)
    from colorization.export import exported_format, load_exported

    if exported_format(path):  # an exported network (colorization export): its runtime, no Keras
        return load_exported(path)
    check_archive(path)
    model = _load_checked(path)
    shipped = registry()[name]["sha256"] if weights is None else None  # verified by reference_weights
    registered = registered_vividness(path, digest=shipped)
    if registered is not None:  # read by colorization.vividness.default_of
        model.default_vividness = registered
    return model


def _load_checked(path: Path):
    """The Keras model in ``path``, checked (:func:`check_contract`, finite weights) and in float32,
    built under :data:`colorization.keras_lock.KERAS_LOCK` (the app loads models in a thread)."""
    from colorization.keras_lock import KERAS_LOCK
    from colorization.weights.storage import as_float32

    with KERAS_LOCK:
        model = _load_keras(path)
        check_contract(model, path)
        non_finite, where = count_non_finite(model)
        if non_finite:
            raise WeightsError(
                f"{path}: {non_finite:,} weight value(s) are NaN or infinite (first in {where}), as a diverged "
                "training run leaves them; use an earlier checkpoint or train again"
            )
        return as_float32(model)


def registered_name(path: str | Path | None = None, *, digest: str | None = None) -> str | None:
    """The registry name of the weights in ``path`` (or with sha256 ``digest``), matched by
    sha256 (a copy of a shipped file counts too), or None."""
    digest = digest if digest is not None else sha256_file(path)
    return next((name for name, entry in registry().items() if entry.get("sha256") == digest), None)


def registered_vividness(path: str | Path | None = None, *, digest: str | None = None) -> float | None:
    """The registered default vividness of the weights in ``path`` (or with sha256 ``digest``:
    :func:`registered_name`), or None."""
    entries = registry()
    if not any("vividness" in entry for entry in entries.values()):
        return None
    entry = entries.get(registered_name(path, digest=digest) or "", {})
    return float(entry["vividness"]["default"]) if "vividness" in entry else None


def check_archive(path: Path) -> None:
    """Raise :class:`WeightsError` unless ``path`` is a readable, intact ``.keras`` zip archive."""
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder, not a .keras model file")
    if not path.exists():
        raise WeightsError(f"{path}: no such weights file")
    if not path.is_file():
        raise WeightsError(f"{path}: not a regular file (a device or a pipe?), not a .keras model file")
    if path.suffix != ".keras":
        raise WeightsError(f"{path}: expected a .keras model file (an .h5 model must be re-saved as .keras)")
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(HDF5_SIGNATURE))
    except OSError as error:
        raise WeightsError(f"{path}: cannot read ({error.strerror or error})") from None
    if not head.startswith(ZIP_SIGNATURE):
        raise WeightsError(f"{path}: {_not_a_zip(head)}")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise WeightsError(f"{path}: truncated or corrupt .keras archive (its zip directory is missing)") from None
    with archive:
        try:
            _check_members(path, archive)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as error:
            raise WeightsError(f"{path}: truncated or corrupt .keras archive ({error})") from None


def _not_a_zip(head: bytes) -> str:
    if not head:
        return "empty file (0 bytes), not a .keras model"
    if head.startswith(HDF5_SIGNATURE):
        return "not a .keras zip archive (an HDF5 file? re-save the model as .keras)"
    return "not a .keras zip archive (another kind of file, or its start is damaged)"


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    names = set(archive.namelist())
    if "config.json" not in names:
        raise WeightsError(f"{path}: a zip archive without config.json, not a Keras model")
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise WeightsError(
            f"{path}: unpacks to {unpacked / 2**30:.1f} GiB, above the {MAX_UNPACKED_BYTES / 2**30:.0f} GiB "
            "limit for a model file"
        )
    damaged = archive.testzip()  # reads every member and checks its CRC
    if damaged is not None:
        raise WeightsError(f"{path}: truncated or corrupt .keras archive (bad checksum in {damaged})")


def _load_keras(path: Path):
    from colorization.model import load_model

    try:
        return load_model(path)
    except Exception as error:  # wrong content, unknown layers, an unsafe lambda ...
        message = plain_line(error)[:300]
        raise WeightsError(f"{path}: not a usable Keras model ({type(error).__name__}: {message})") from None


def check_contract(model, path: str | Path = "model") -> None:
    """Raise :class:`WeightsError` unless ``model`` fits the network path.

    Every front end feeds the network ``PAPER_SIZE`` x ``PAPER_SIZE`` scaled L
    (one input of shape (batch, 256, 256, 1); a fully convolutional model, None x None,
    also fits; the hint network takes 4 channels, :func:`colorization.model.takes_hints`) and
    reads one output of the same height and width with 2 channels (ab / 128)
    or one channel per quantized ab bin (the classification head).
    """
    from colorization.ablation.quantize import NUM_BINS

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise WeightsError(
            f"{path}: the model has {len(model.inputs)} input(s) and {len(model.outputs)} output(s); "
            "the network path needs one of each"
        )
    size = PAPER_SIZE
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] not in (size, None) or shape[2] not in (size, None) or shape[3] not in (1, 4):
        raise WeightsError(
            f"{path}: input is {_dims(shape[1:])}, the network path needs {size}x{size}x1 "
            f"(or None x None x 1: any size; x4 for the hint network)"
        )
    out = tuple(model.compute_output_shape((1, size, size, shape[3])))
    if len(out) != 4 or out[1:3] != (size, size) or out[3] not in (2, NUM_BINS):
        raise WeightsError(
            f"{path}: output is {_dims(out[1:])} for a {size}x{size}x{shape[3]} input, the network path needs "
            f"{size}x{size}x2 (ab) or {size}x{size}x{NUM_BINS} (ab bins)"
        )


def _dims(shape) -> str:
    return "x".join(str(side) for side in shape)


def count_non_finite(model) -> tuple[int, str | None]:
    """How many of ``model``'s weight values are NaN or infinite, and the first variable holding one."""
    total, first = 0, None
    for variable in model.weights:
        values = np.asarray(variable)
        if not np.issubdtype(values.dtype, np.floating):
            continue
        bad = values.size - int(np.count_nonzero(np.isfinite(values)))
        if bad and first is None:
            first = getattr(variable, "path", variable.name)
        total += bad
    return total, first
