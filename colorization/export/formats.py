"""The one export path for every format: refuse a bad request first, then convert, check, record.

:func:`export_model` loads the source network (:func:`colorization.weights.load_weights`), writes
the format's file(s) through the format's module (``write``: :mod:`~colorization.export.onnx`,
:mod:`~colorization.export.openvino`, :mod:`~colorization.export.litert`,
:mod:`~colorization.export.saved_model`), each of which checks its output with its runtime before
moving it into place, and writes the sidecar ``FILE.json``: each file's sha256 and size, and the
provenance (:func:`provenance`) that the file carries inside it too. Nothing existing is replaced
unless ``overwrite``; a folder is replaced only when it is a SavedModel.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from colorization import __version__
from colorization.export import (
    FORMAT_PRECISIONS,
    FORMATS,
    PRECISIONS,
    SAVED_MODEL_FILE,
    SUFFIXES,
    output_files,
    sidecar_path,
)
from colorization.io.files import OutputExistsError, sha256_file, write_text_atomic
from colorization.weights import WeightsError, load_weights, reference_weights, registered_name, registry

OUTPUT_NAMES = {"regression": "ab_scaled", "classification": "ab_bins"}
CONVERTERS = {
    "onnx": ("keras.Model.export(format='onnx') (tf2onnx)", ("keras", "tensorflow", "tf2onnx", "onnx", "onnxruntime")),
    "openvino": ("openvino.convert_model from the ONNX export", ("keras", "tf2onnx", "onnx", "openvino", "nncf")),
    "litert": ("tf.lite.TFLiteConverter from a Keras tf_saved_model export", ("keras", "tensorflow", "ai-edge-litert")),
    "saved_model": ("keras.Model.export(format='tf_saved_model')", ("keras", "tensorflow")),
}
EXTRAS = {"onnx": "export", "openvino": "export-openvino", "litert": "export-litert", "saved_model": "export"}


@dataclass
class Exported:
    """What :func:`export_model` wrote: the file (or folder), its sidecar and the provenance both carry."""

    path: Path
    sidecar: Path
    provenance: dict


def source_weights(model: str | Path) -> Path:
    """The weights file ``model`` names: a registered model (``paper``, ``classification``) or a ``.keras`` file.

    Raises :class:`~colorization.weights.WeightsError` (one line) for a name the registry does not list.
    """
    text = str(model)
    if text in registry():
        return reference_weights(text)
    if Path(text).suffix == ".keras" or Path(text).exists():
        return Path(text)
    known = ", ".join(sorted(registry())) or "none"
    raise WeightsError(f"{text}: neither a registered model ({known}) nor a .keras file")


def export_model(
    model: str | Path,
    output: str | Path,
    *,
    fmt: str = "onnx",
    precision: str = "fp32",
    calibration=None,
    overwrite: bool = False,
) -> Exported:
    """Export the network ``model`` names (:func:`source_weights`) to ``output`` in format ``fmt``.

    Parameters
    ----------
    fmt : {"onnx", "openvino", "litert", "saved_model"}
    precision : {"fp32", "fp16", "int8"}
        saved_model: fp32 only (:data:`~colorization.export.FORMAT_PRECISIONS`).
    calibration : Calibration, optional
        The images int8 is calibrated on (:func:`colorization.export.calibration.calibration_set`);
        required for int8 and recorded in the provenance.
    overwrite : bool
        Replace an existing ``output`` and its sidecar.

    Raises
    ------
    WeightsError
        Unusable source weights, a converter that is not installed, or an export that does not fit the network path.
    OutputExistsError
        ``output`` or its sidecar exists and ``overwrite`` is False (checked before converting).
    ValueError
        An unknown format or precision, one the format cannot give, a wrong suffix, int8 without calibration.
    """
    output = Path(output)
    check_request(output, fmt, precision, calibration, overwrite)
    weights = source_weights(model)
    network = load_weights(weights)
    record = provenance(network, weights, precision, calibration, fmt=fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = importlib.import_module(f"colorization.export.{fmt}")
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.stem}.export.") as work:
        try:
            writer.write(network, Path(work), output, record, calibration, overwrite)
        except ImportError as error:
            raise WeightsError(
                f"exporting to {fmt} needs {error.name or error}; install it: "
                f"pip install 'lab-cnn-colorization[{EXTRAS[fmt]}]'"
            ) from None
    side = sidecar_path(output)
    entry = {"file": output.name, **checksums(fmt, output), **record}
    write_text_atomic(side, json.dumps(entry, indent=2, ensure_ascii=False) + "\n", overwrite=overwrite)
    return Exported(output, side, record)


def check_request(output: Path, fmt: str, precision: str, calibration, overwrite: bool) -> None:
    """Refuse, before any work, what :func:`export_model` would refuse at the end."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision not in FORMAT_PRECISIONS[fmt]:
        raise ValueError(
            f"{fmt} exports are fp32 only (TensorFlow has no post-training fp16 or int8 for a SavedModel); "
            "use --format litert or openvino for fp16 or int8"
        )
    suffix = SUFFIXES[fmt]
    if suffix and output.suffix.lower() != suffix:
        raise ValueError(f"{output}: {fmt} exports must end in {suffix}")
    if precision == "int8" and calibration is None:
        raise ValueError("int8 needs calibration images (a data source's training split)")
    if output.is_dir() and not (fmt == "saved_model" and (output / SAVED_MODEL_FILE).is_file()):
        what = "a folder that is not a SavedModel" if fmt == "saved_model" else "a folder"
        raise ValueError(f"{output}: is {what}; name the {suffix or 'new folder'} to write")
    if output.parent.exists() and not output.parent.is_dir():
        raise ValueError(f"{output.parent}: is a file, not a folder to write {output.name} in")
    if fmt == "saved_model" and output.is_file():
        raise ValueError(f"{output}: is a file; a SavedModel is a folder, name a new one")
    for path in (*output_files(fmt, output), sidecar_path(output)):
        if not overwrite and (path.exists() or path.is_symlink()):
            raise OutputExistsError(17, "exists (use --overwrite to replace it)", str(path))


def provenance(network, weights: Path, precision: str, calibration=None, *, fmt: str = "onnx") -> dict:
    """Where an export comes from: source weights (file, sha256, registered name), package, converters, precision."""
    from colorization.model import head_of

    head = head_of(network)
    converter, packages = CONVERTERS[fmt]
    record = {
        "package": "lab-cnn-colorization",
        "package_version": __version__,
        "format": fmt,
        "precision": precision,
        "head": head,
        "output": OUTPUT_NAMES[head],
        "source_weights": weights.name,
        "source_sha256": sha256_file(weights),
        "source_registered_name": registered_name(weights) or "",
        "converter": converter,
        **{f"{name.replace('-', '_')}_version": package_version(name) for name in packages},
    }
    if calibration is not None and precision == "int8":
        record["calibration"] = calibration.record()
    return record


def package_version(distribution: str) -> str:
    """The installed version of ``distribution`` (or of its ``-cpu`` build), or ``not installed``."""
    for name in (distribution, f"{distribution}-cpu"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def checksums(fmt: str, output: Path) -> dict:
    """The sidecar's ``sha256`` and ``bytes`` of what was written: the file itself; for an OpenVINO IR
    the ``.xml``, with each file in ``files``; for a SavedModel folder the sha256 of its file list
    (each file's relative path and sha256, sorted), with each file in ``files``."""
    if fmt == "onnx" or fmt == "litert":
        return {"sha256": sha256_file(output), "bytes": output.stat().st_size}
    paths = output_files(fmt, output) if fmt == "openvino" else sorted(p for p in output.rglob("*") if p.is_file())
    root = output.parent if fmt == "openvino" else output
    files = {p.relative_to(root).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in paths}
    if fmt == "openvino":
        digest = files[output.name]["sha256"]
    else:
        listing = "".join(f"{name} {entry['sha256']}\n" for name, entry in files.items())
        digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()
    return {"sha256": digest, "bytes": sum(entry["bytes"] for entry in files.values()), "files": files}
