"""``python -m colorization.web.build OUTDIR``: the zero-install page, built for any static host.

    python -m colorization.web.build build/web [--weights paper|classification|FILE.keras]
                                               [--precision fp32|int8] [--overwrite]

The build happens in a temporary folder beside OUTDIR (``.OUTDIR.build-*``), renamed onto OUTDIR at the end:

1. OUTDIR and the weights are checked before any work: a non-empty OUTDIR is refused without ``--overwrite``, and
   even with it unless it is an earlier build (its ``manifest.json`` says so): nothing else is ever replaced.
2. ONNX Runtime Web (:mod:`colorization.web.runtime`): the pinned npm tarball, from the cache or the registry,
   hash-checked; its two files the page loads go to ``ort/``.
3. The network, exported by :func:`colorization.export.onnx.export_model` to ``model.onnx`` (int8: calibrated on
   the ``sample`` source's training split, as ``colorization export`` does).
4. The page (``index.html``, ``colorize.js``, ``style.css``: this package's ``static/``) and a few sample photos
   (``samples/``: photographs shipped with scikit-image and matplotlib, as small JPEGs).
5. ``manifest.json``: what the page reads at start (the model's head, output, vividness range and default,
   the samples, the limits) and the record of the build: every file's size and sha256, the model's provenance,
   the runtime's version and integrity.

A failed build leaves OUTDIR as it was and no temporary behind; a killed one leaves a temporary that the next build
beside it removes. Prints OUTDIR and the page's total size on stdout. Exit status 0 when built, 2 when not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from colorization.web.contents import (
    FORMAT,
    MANIFEST,
    RUNTIME_FOLDER,
    check_request,
    copy_page,
    export_network,
    runtime_entry,
    write_manifest,
    write_samples,
)

EXIT_REFUSED = 2


class BuildError(ValueError):
    """The page cannot be built as asked; ``str(error)`` is one line naming what and what to do."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m colorization.web.build",
        description="Build the zero-install page: a static folder that colorizes photos in the browser with "
        "ONNX Runtime Web (docs/web.md). Serve it from any static host, e.g. python -m http.server -d OUTDIR.",
    )
    parser.add_argument("outdir", metavar="OUTDIR", type=Path, help="the folder to write (a new one)")
    parser.add_argument("--weights", default="paper", help="paper (default), classification, or a .keras file")
    parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32", help="the exported network's")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTDIR if it is an earlier build")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    from colorization.cli.common import backend_logs, one_line_warnings

    args = parse_args(argv)
    print(f"building the page in {args.outdir} ({args.weights}, {args.precision}) ...", file=sys.stderr)
    try:
        with one_line_warnings("web.build"), backend_logs(verbose=False):
            manifest = build(args.outdir, args.weights, args.precision, overwrite=args.overwrite)
    except KeyboardInterrupt:
        print("colorization.web.build: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a refusal is one line (refusal()); anything else is a bug and keeps its traceback
        message = refusal(error)
        if message is None:
            raise
        print(f"colorization.web.build: {message}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{args.outdir}: {summary(manifest)}")
    return 0


def refusal(error: Exception) -> str | None:
    """The one line for an error the user can act on (None for a bug, which keeps its traceback)."""
    from colorization.data.download import DownloadError
    from colorization.weights import WeightsError

    if isinstance(
        error, (ValueError, DownloadError, WeightsError)
    ):  # ValueError: BuildError, PackageError, FolderError
        return " ".join(str(error).split())
    if isinstance(error, OSError):
        return f"{error.filename or 'writing the page'}: {error.strerror or error}"
    return None


def build(
    outdir: str | Path,
    weights: str = "paper",
    precision: str = "fp32",
    *,
    overwrite: bool = False,
    package=None,
    cache: Path | None = None,
) -> dict:
    """Build the page into ``outdir`` (module docstring); return its manifest.

    ``package``: the :class:`~colorization.web.runtime.NpmPackage` to use (default the pinned ONNX Runtime Web);
    ``cache``: where its tarball is kept (default ``<data dir>/downloads``).
    """
    from colorization.data.paths import ensure_folder, folder_lock, remove_entry
    from colorization.web import runtime

    outdir = Path(outdir)
    check_outdir(outdir, overwrite)
    check_request(weights, precision)
    package = package or runtime.ORT_WEB
    tarball = runtime.fetch_package(package, cache)
    parent = ensure_folder(outdir.absolute().parent)
    with folder_lock(parent, stale=(f".{outdir.name}.build-*", f".{outdir.name}.old-*")):
        work = Path(tempfile.mkdtemp(dir=parent, prefix=f".{outdir.name}.build-"))
        try:
            os.chmod(work, 0o777 & ~current_umask())  # mkdtemp's 0700 would keep a web server's user out
            runtime.copy_files(tarball, package, work / RUNTIME_FOLDER)  # first: a damaged tarball fails at once
            model = export_network(weights, precision, work)
            copy_page(work)
            samples = write_samples(work / "samples")
            manifest = write_manifest(work, model, runtime_entry(package), samples)
            check_outdir(outdir, overwrite)  # again: it may have appeared while the network was exported
            replace_folder(work, outdir)
        except BaseException:
            remove_entry(work)
            raise
    return manifest


def current_umask() -> int:
    """The process's umask (read by setting it, and back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_outdir(outdir: Path, overwrite: bool) -> None:
    """Refuse an OUTDIR that is a file, or not empty without ``overwrite``, or neither empty nor an earlier build."""
    from colorization.data.paths import require_folder_path

    require_folder_path(outdir)
    if not outdir.exists() or not any(outdir.iterdir()):
        return
    if not overwrite:
        raise BuildError(f"{outdir}: exists and is not empty (use --overwrite to replace an earlier build)")
    if not is_page_build(outdir):
        raise BuildError(
            f"{outdir}: not empty and not a page this command built (no {MANIFEST} of format {FORMAT!r}); "
            "--overwrite replaces only an earlier build: choose a new folder"
        )


def is_page_build(folder: Path) -> bool:
    """Whether ``folder`` holds a build of this command (its manifest says ``"format": "colorization-web"``)."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def replace_folder(work: Path, outdir: Path) -> None:
    """Move the finished build onto ``outdir``; an earlier build there is moved aside first, then removed."""
    from colorization.data.paths import remove_entry

    if not outdir.exists():
        os.rename(work, outdir)
        return
    aside = Path(tempfile.mkdtemp(dir=work.parent, prefix=f".{outdir.name}.old-"))
    os.rename(outdir, aside / outdir.name)
    os.rename(work, outdir)
    remove_entry(aside)


def summary(manifest: dict) -> str:
    """One line: the page's total size and its largest files."""
    files = manifest["files"]
    largest = sorted(files, key=lambda name: -files[name]["bytes"])[:3]
    parts = ", ".join(f"{name} {files[name]['bytes'] / 1e6:.1f} MB" for name in largest)
    return f"the page, {manifest['total_bytes'] / 1e6:.1f} MB in {len(files) + 1} files ({parts}, ...)"


if __name__ == "__main__":
    sys.exit(main())
