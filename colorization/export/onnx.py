"""Exporting a trained network (either head) to ONNX, with its provenance.

The conversion is Keras 3's own ``Model.export(path, format="onnx")`` (tf2onnx under it, with
the TensorFlow backend); nothing of the network is re-implemented here. The exported file:

* computes in float32 (``fp32``) or is quantized to int8 (``int8``, :mod:`colorization.export.quantize`);
* has one input ``L`` (scaled L, ``(batch, 256, 256, 1)``) and one output, ``ab_scaled`` (ab / 128) or
  ``ab_bins`` (the classification head's bin probabilities), with a ``batch`` dimension of any size;
* carries its provenance (:func:`provenance`) in ``metadata_props`` (keys ``colorization.*``) and in
  a JSON sidecar beside it (:func:`colorization.export.sidecar_path`), which also gives the file's sha256;
* is checked by :func:`colorization.export.runtime.load_onnx` before it is moved into place, and is
  written atomically, never over an existing file (or sidecar) unless ``overwrite``.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from colorization import __version__
from colorization.export import FORMATS, METADATA_PREFIX, PRECISIONS, sidecar_path
from colorization.io.files import OutputExistsError, atomic_path, sha256_file, write_text_atomic
from colorization.weights import WeightsError, load_weights, reference_weights, registered_name, registry

OUTPUT_NAMES = {"regression": "ab_scaled", "classification": "ab_bins"}
BATCH_DIMENSION = "batch"


@dataclass
class Exported:
    """What :func:`export_model` wrote: the file, its sidecar and the provenance both carry."""

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
    """Export the network ``model`` names (:func:`source_weights`) to ``output``.

    Parameters
    ----------
    fmt : {"onnx"}
    precision : {"fp32", "int8"}
    calibration : Calibration, optional
        The images int8 is calibrated on (:func:`colorization.export.calibration.calibration_set`);
        required for int8 and recorded in the provenance.
    overwrite : bool
        Replace an existing ``output`` and its sidecar.

    Raises
    ------
    WeightsError
        Unusable source weights (:func:`colorization.weights.load_weights`), or an export that does
        not fit the network path.
    OutputExistsError
        ``output`` or its sidecar exists and ``overwrite`` is False (checked before converting).
    ValueError
        An unknown format or precision, an output not ending in ``.onnx``, int8 without calibration.
    """
    output = Path(output)
    check_request(output, fmt, precision, calibration, overwrite)
    weights = source_weights(model)
    network = load_weights(weights)
    record = provenance(network, weights, precision, calibration)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.stem}.export.") as work:
        converted = convert_fp32(network, Path(work) / "fp32.onnx")
        if precision == "int8":
            from colorization.export.quantize import quantize_int8

            record["quantization"] = quantize_int8(converted, Path(work) / "int8.onnx", calibration.views)
            converted = Path(work) / "int8.onnx"
        write_onnx(converted, output, record, overwrite)
    side = sidecar_path(output)
    entry = {"file": output.name, "sha256": sha256_file(output), "bytes": output.stat().st_size, **record}
    write_text_atomic(side, json.dumps(entry, indent=2, ensure_ascii=False) + "\n", overwrite=overwrite)
    return Exported(output, side, record)


def check_request(output: Path, fmt: str, precision: str, calibration, overwrite: bool) -> None:
    """Refuse, before any work, what :func:`export_model` would refuse at the end."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if output.suffix.lower() != ".onnx":
        raise ValueError(f"{output}: an ONNX export must end in .onnx")
    if precision == "int8" and calibration is None:
        raise ValueError("int8 needs calibration images (a data source's training split)")
    if output.is_dir():
        raise ValueError(f"{output}: is a folder; name the .onnx file to write")
    if output.parent.exists() and not output.parent.is_dir():
        raise ValueError(f"{output.parent}: is a file, not a folder to write {output.name} in")
    for path in (output, sidecar_path(output)):
        if not overwrite and (path.exists() or path.is_symlink()):
            raise OutputExistsError(17, "exists (use --overwrite to replace it)", str(path))


def provenance(network, weights: Path, precision: str, calibration=None) -> dict:
    """Where an export comes from: source weights (file, sha256, registered name), package, converters, precision."""
    from colorization.model import head_of

    head = head_of(network)
    record = {
        "package": "lab-cnn-colorization",
        "package_version": __version__,
        "format": "onnx",
        "precision": precision,
        "head": head,
        "output": OUTPUT_NAMES[head],
        "source_weights": weights.name,
        "source_sha256": sha256_file(weights),
        "source_registered_name": registered_name(weights) or "",
        "converter": "keras.Model.export(format='onnx') (tf2onnx)",
        **{f"{name}_version": _version(name) for name in ("keras", "tensorflow", "tf2onnx", "onnx", "onnxruntime")},
    }
    if calibration is not None and precision == "int8":
        record["calibration"] = calibration.record()
    return record


def _version(distribution: str) -> str:
    for name in (distribution, f"{distribution}-cpu"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def convert_fp32(network, path: Path) -> Path:
    """``network`` as a float32 ONNX file at ``path``, by Keras 3's exporter (one input named ``L``)."""
    import keras

    spec = keras.InputSpec(shape=(None, *network.input_shape[1:]), dtype="float32", name="L")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf2onnx's and NumPy's deprecation notes, not about this model
            network.export(str(path), format="onnx", verbose=False, input_signature=[spec])
    except ImportError as error:
        raise WeightsError(
            f"exporting to ONNX needs tf2onnx and onnx ({error}); install the export extra: "
            "pip install 'lab-cnn-colorization[export]'"
        ) from None
    return path


def write_onnx(converted: Path, output: Path, record: dict, overwrite: bool) -> None:
    """Name the output and batch dimension, add the provenance to ``converted``'s metadata and write it to
    ``output`` atomically, once :func:`~colorization.export.runtime.load_onnx` accepts it."""
    import onnx

    from colorization.export.runtime import load_onnx

    model = onnx.load(str(converted))
    rename_output(model.graph, record["output"])
    for value in (*model.graph.input, *model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = BATCH_DIMENSION
    del model.metadata_props[:]
    for key, value in metadata_entries(record).items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = f"colorization {record['head']} network ({record['precision']}), from {record['source_weights']}"
    onnx.checker.check_model(model)
    with atomic_path(output, overwrite=overwrite) as tmp:
        onnx.save(model, str(tmp))
        load_onnx(tmp)  # the file runs and fits the network path, or nothing is written


def rename_output(graph, name: str) -> None:
    """Rename the graph's one output (tf2onnx calls it after a TensorFlow node) to ``name``."""
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [name if value == old else value for value in node.output]
        node.input[:] = [name if value == old else value for value in node.input]
    graph.output[0].name = name


def metadata_entries(record: dict) -> dict[str, str]:
    """The provenance as ONNX ``metadata_props``: ``colorization.<key>`` -> text (JSON for non-text values)."""
    return {
        METADATA_PREFIX + key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in record.items()
    }
