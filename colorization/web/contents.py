"""What the page's folder holds (:mod:`colorization.web.build` makes it): network, page, samples, manifest.

``manifest.json`` is what the page reads at start (the model's head, input and output, the vividness slider's range
and default, the bin centres of a classification head, the samples, the limits) and the record of the build: every
other file's size and sha256, the model's provenance (:func:`colorization.export.onnx.provenance`), the runtime's
release and integrity (:mod:`colorization.web.runtime`).
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from colorization import __version__

FORMAT = "colorization-web"  # manifest.json's "format": what marks a folder as a build of this command
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_FILE = "model.onnx"
RUNTIME_FOLDER = "ort"
PAGE_FILES = ("index.html", "colorize.js", "style.css")
SAMPLES = ("chelsea.png", "coffee.png", "rocket.jpg", "grace_hopper.jpg")  # of colorization.data.sources
SAMPLE_JPEG_QUALITY = 90  # the PNG samples, as small JPEGs
MAX_PIXELS = 40_000_000  # the page's limit: ~24 bytes per pixel of canvases and arrays stay within a tab's memory


def check_request(weights: str, precision: str) -> None:
    """Refuse, before any download or export, weights that name no file and an unknown precision (one line)."""
    from colorization.export import PRECISIONS
    from colorization.export.onnx import source_weights
    from colorization.weights import WeightsError

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    path = source_weights(weights)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file (give paper, classification or a .keras file)")


def export_network(weights: str, precision: str, folder: Path) -> dict:
    """Export ``weights`` to ``folder/model.onnx``; return the manifest's ``model`` entry."""
    from colorization.export.onnx import export_model

    calibration = None
    if precision == "int8":
        from colorization.export.calibration import calibration_set

        calibration = calibration_set("sample")
    exported = export_model(weights, folder / MODEL_FILE, precision=precision, calibration=calibration)
    exported.sidecar.unlink()  # its record goes into the manifest
    return model_entry(exported.path, exported.provenance)


def model_entry(path: Path, provenance: dict) -> dict:
    """What the page needs to know of the network: file, head, output, vividness (range, default), bin centres."""
    from colorization import vividness
    from colorization.app.parts import VIVIDNESS_HINT, VIVIDNESS_SLIDER
    from colorization.export.runtime import load_onnx

    network = load_onnx(path)
    entry = {
        "file": path.name,
        "bytes": path.stat().st_size,
        "head": provenance["head"],
        "input": network.input_name,
        "output": network.output_name,
        "vividness": {**VIVIDNESS_SLIDER, "default": vividness.default_of(network), "hint": VIVIDNESS_HINT},
        "provenance": provenance,
    }
    if provenance["head"] == "classification":
        from colorization.ablation.quantize import bin_centers

        entry["bin_centers"] = bin_centers().tolist()
    return entry


def runtime_entry(package) -> dict:
    """The manifest's record of the runtime: which release, where from, and the files the page loads."""
    return {
        "name": package.name,
        "version": package.version,
        "tarball": package.tarball,
        "integrity": package.integrity,
        "license": package.license,
        "entry": f"{RUNTIME_FOLDER}/{Path(package.entry).name}",
        "files": [f"{RUNTIME_FOLDER}/{Path(name).name}" for name in package.files],
    }


def copy_page(folder: Path) -> None:
    """The page's own files, from this package's ``static/`` (package data)."""
    static = resources.files("colorization.web").joinpath("static")
    for name in PAGE_FILES:
        (folder / name).write_bytes(static.joinpath(name).read_bytes())


def write_samples(folder: Path) -> list[dict]:
    """The sample photos as JPEGs in ``folder`` (JPEGs copied as they are, PNGs encoded); their manifest entries.

    A sample missing from a trimmed scikit-image or matplotlib install is left out (uploads still work).
    """
    from PIL import Image

    from colorization.data.sources import SAMPLE_IMAGES, sample_path

    origin = {name: (package, category) for package, name, category in SAMPLE_IMAGES}
    folder.mkdir()
    entries = []
    for name in SAMPLES:
        try:
            source, target = sample_path(name), folder / f"{Path(name).stem}.jpg"
        except FileNotFoundError:
            continue
        if source.suffix.lower() in (".jpg", ".jpeg"):
            shutil.copyfile(source, target)
        else:
            with Image.open(source) as image:
                image.convert("RGB").save(target, quality=SAMPLE_JPEG_QUALITY)
        with Image.open(target) as image:
            width, height = image.size
        package, category = origin[name]
        entries.append(
            {
                "file": f"{folder.name}/{target.name}",
                "label": f"{Path(name).stem} ({category})",
                "source": f"{package}/{name}",
                "width": width,
                "height": height,
            }
        )
    return entries


def write_manifest(folder: Path, model: dict, runtime: dict, samples: list[dict]) -> dict:
    """Write ``manifest.json``: the page's settings and every other file's size and sha256."""
    from colorization.app.parts import MAX_UPLOAD_BYTES

    files = file_table(folder)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package": "lab-cnn-colorization",
        "package_version": __version__,
        "model": {**model, "sha256": files[model["file"]]["sha256"]},
        "onnxruntime_web": runtime,
        "samples": samples,
        "page": {"max_pixels": MAX_PIXELS, "max_upload_bytes": MAX_UPLOAD_BYTES},
        "files": files,
        "total_bytes": sum(entry["bytes"] for entry in files.values()),  # all files but manifest.json
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def file_table(folder: Path) -> dict:
    """``relative path -> {bytes, sha256}`` of every file under ``folder``, sorted."""
    from colorization.io.files import sha256_file

    paths = sorted(path for path in folder.rglob("*") if path.is_file())
    return {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in paths
    }
