"""Provenance: the one record of what produced a result, shared by every producer.

Training (``run.json``), evaluation (``summary.json``) and the notebooks
(``provenance.json`` in every results folder) all start from :func:`provenance`::

    {"schema": "colorization-provenance/1", "kind": "evaluation",
     "created": "2026-12-01T09:30:00+00:00",
     "package": {"name": "lab-cnn-colorization", "version": "0.1.0"},
     "git": {"commit": "9614437...", "dirty": false},
     "packages": {"python": "3.11.7", "keras": "3.15.1", ...},
     "keras_backend": "tensorflow", "host": "...",
     "weights": {"path": "...", "sha256": "..."},      # when weights were used
     ...}                                               # what the producer adds

and add their own fields beside these.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from colorization.io.files import sha256_path
from colorization.io.paths import project_root

SCHEMA = "colorization-provenance/1"
DISTRIBUTION = "lab-cnn-colorization"
PACKAGES = (
    DISTRIBUTION,
    "keras",
    "tensorflow",
    "tensorflow-cpu",
    "jax",
    "jaxlib",
    "jax-cuda13-plugin",
    "jax-cuda12-plugin",
    "numpy",
    "ml-dtypes",
    "h5py",
    "scikit-image",
)


def package_versions() -> dict:
    """Python's version and those of the packages that shape results."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    if "keras" in sys.modules:  # the imported one wins (a carried wheel may shadow metadata)
        versions["keras"] = sys.modules["keras"].__version__
    return versions


def git_commit() -> dict:
    """Commit of the source tree this package is imported from (None outside git)."""
    root = project_root(__file__)

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode:
            return {"commit": None, "dirty": None}
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def machine() -> dict:
    """The hardware a result was made on: CPU model, cores, memory (GPUs are in training's run.json)."""
    import os

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    try:
        memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gib = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory_gib, "system": platform.system()}


def weights_entry(path: str | Path | None) -> dict | None:
    """``{"path", "sha256"}`` of a weights file or folder (a SavedModel; :func:`sha256_path`), None for None."""
    if path is None:
        return None
    path = Path(path)
    return {"path": str(path.resolve()), "sha256": sha256_path(path)}


def provenance(kind: str, *, weights: str | Path | dict | None = None, **fields) -> dict:
    """The common provenance record of a ``kind`` of result, plus ``fields``.

    ``weights``: a weights file (hashed here) or an already made ``{"path", "sha256"}``.
    """
    from colorization import __version__

    backend = sys.modules["keras"].backend.backend() if "keras" in sys.modules else None
    record = {
        "schema": SCHEMA,
        "kind": kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "package": {"name": DISTRIBUTION, "version": __version__},
        "git": git_commit(),
        "packages": package_versions(),
        "keras_backend": backend,
        "host": platform.node(),
        "machine": machine(),
    }
    if weights is not None:
        record["weights"] = weights if isinstance(weights, dict) else weights_entry(weights)
    return {**record, **fields}
