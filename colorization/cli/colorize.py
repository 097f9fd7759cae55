"""``colorization colorize INPUT... -o OUTDIR``: colorize files and folders (:data:`DESCRIPTION`); with
``--hints``, colour points (:mod:`colorization.cli.guided`). Every output is planned before anything is
written (:func:`plan_jobs`). Progress and the final count are shown on a terminal only.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from colorization.cli.common import (
    VIVIDNESS_HELP,
    CommandError,
    compiled_model,
    positive_int,
    print_result,
    show_progress,
    shown,
    vividness_value,
)
from colorization.cli.guided import add_guided_options, colorize_guided_jobs, guided
from colorization.io.files import SameFileIndex, same_file
from colorization.io.images import IMAGE_SUFFIXES, MAX_PIXELS, ImageError, load_image

DESCRIPTION = """Colorize images with the paper's network. Output: OUTDIR/<input stem>.png (images found in a
folder keep their sub-folders under OUTDIR). The path of each file written is printed on stdout, one per line;
problems go to stderr, one line per input, and the rest is done. An output that would replace an input of the run
is refused, even with --overwrite. Exit status: 0 if every input was colorized or already done (its output exists,
or it was given twice), 1 if any input failed, 2 if the command could not run at all (no weights, unusable output
folder)."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "colorize", help="colorize images (files or folders, searched recursively)", description=DESCRIPTION
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the PNG results")
    parser.add_argument("--weights", metavar="FILE", help=".keras or .onnx model (default: the shipped one)")
    parser.add_argument(
        "--mode",
        choices=("full", "paper"),
        default="full",
        help="full: the image's own size (default); paper: the paper's 256x256 centre crop",
    )
    parser.add_argument("--vividness", type=vividness_value, metavar="V", help=VIVIDNESS_HELP)
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="images per network call (default 8)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing output files (never an input of the run)"
    )
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        default=MAX_PIXELS,
        metavar="N",
        help=f"refuse images with more pixels (decompression-bomb guard, default {MAX_PIXELS:,})",
    )
    add_guided_options(parser)
    parser.set_defaults(run=run)


@dataclass
class Job:
    source: Path
    target: Path


@dataclass
class Outcome:
    """What became of a run's inputs: (kind, line) for each one ``failed`` or ``skipped``, and notes."""

    entries: list[tuple[str, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def lines(self) -> list[str]:
        return [line for _, line in self.entries]

    def add(self, kind: str, line: str) -> None:
        """Count one ``kind``: "done", "failed", "skipped" (already done, not a failure) or "note"."""
        if line:
            self.entries.append((kind, line))
        self.counts[kind] += 1


def plan_jobs(inputs: list[str], outdir: Path, overwrite: bool) -> tuple[list[Job], Outcome]:
    """Map inputs to output paths, all before anything is written.

    Each input, in order: a file given before (the same file, however spelled) is
    skipped; an output that names any input of the run (:class:`SameFileIndex`: the same
    file, a link to it, or its name in other letter case) is refused, as is one that
    another input already claimed or that leads out of ``outdir`` through a symlinked
    folder; an existing output is skipped unless ``overwrite``.
    """
    outcome = Outcome()
    pairs = find_inputs(inputs, outdir, outcome)
    protected = SameFileIndex(source for source, _ in pairs)
    seen, claimed = SameFileIndex(), SameFileIndex()
    jobs: list[Job] = []
    root = os.path.realpath(outdir)
    for source, target in pairs:
        first = seen.find(source)
        if first is not None:
            again = "given more than once" if str(first) == str(source) else f"the same file as {first}"
            outcome.add("skipped", f"{source}: {again}; taken once")
            continue
        seen.add(source)
        refusal = _refusal(source, target, protected, claimed, root)
        if refusal:
            outcome.add("failed", f"{source}: not colorized, {refusal}")
            continue
        claimed.add(target, source)  # also when kept: a re-run reports a collision as the first run did
        if os.path.lexists(target) and not overwrite:
            outcome.add("skipped", f"{source}: skipped, {target} exists (use --overwrite to replace it)")
        else:
            jobs.append(Job(source, target))
    return jobs, outcome


def _refusal(source: Path, target: Path, protected: SameFileIndex, claimed: SameFileIndex, outdir: str) -> str:
    """Why ``target`` must not be written for ``source`` ("" if it may)."""
    held = protected.find(target)
    if held is not None:
        exact = same_file(target, held) or os.path.realpath(target) == os.path.realpath(held)
        case = "" if exact else " on a case-insensitive file system"
        if same_file(source, held):
            return f"its output {target} would replace the input itself{case}; choose another -o folder"
        return f"its output {target} would be written over the input {held}{case}; choose another -o folder"
    claimant = claimed.find(target)
    if claimant is not None:
        return f"its output {target} is already taken by {claimant} (rename one of the two)"
    if os.path.commonpath([outdir, os.path.realpath(target.parent)]) != outdir:
        return f"its output {target} leads out of the output folder through a symlinked folder"
    return ""


def find_inputs(inputs: list[str], outdir: Path, outcome: Outcome) -> list[tuple[Path, Path]]:
    """(source, output) pairs for the files and folders given; missing or empty ones are failures.

    A folder is searched recursively, outputs keeping its sub-folders; files that are
    not images this command reads are counted in one note.
    """
    pairs: list[tuple[Path, Path]] = []
    others: Counter[str] = Counter()
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = scan_folder(path, outdir, others, outcome)
            if not found:
                outcome.add("failed", f"{path}: folder holds no image files")
            pairs += [(p, outdir / p.relative_to(path).parent / f"{p.stem}.png") for p in found]
        elif path.exists():
            pairs.append((path, outdir / f"{path.stem}.png"))
        else:
            outcome.add("failed", f"{path}: no such file or folder")
    if others:
        kinds = ", ".join(
            f"{count} {kind}" for kind, count in sorted(others.items(), key=lambda item: (-item[1], item[0]))
        )
        outcome.add(
            "note", f"skipped {others.total()} file(s) in the folder(s) that are not images this command reads: {kinds}"
        )
    return pairs


def scan_folder(folder: Path, outdir: Path, others: Counter, outcome: Outcome) -> list[Path]:
    """The image files under ``folder``, sorted, leaving out ``outdir`` if it is a sub-folder.

    Symlinked sub-folders are not followed. Other files are counted in ``others`` by
    suffix; an unreadable sub-folder is a failure.
    """

    def unreadable(error: OSError) -> None:
        outcome.add(
            "failed", f"{error.filename}: cannot read this folder ({error.strerror or error}); its images are skipped"
        )

    images = []
    for here, folders, files in os.walk(folder, onerror=unreadable):
        kept = [name for name in folders if not same_file(os.path.join(here, name), outdir)]
        if len(kept) < len(folders):
            outcome.add("note", f"{folder}: its sub-folder {outdir} is the output folder; not searched for inputs")
        folders[:] = kept
        for name in files:
            path = Path(here, name)
            if not path.is_file():
                others["not a regular file"] += 1
            elif path.suffix.lower() in IMAGE_SUFFIXES:
                images.append(path)
            else:
                others[path.suffix.lower() or "without a suffix"] += 1
    return sorted(images)


def run(args) -> int:
    outdir = _output_folder(Path(args.output), CommandError)
    jobs, outcome = plan_jobs(args.inputs, outdir, args.overwrite)
    for kind, line in outcome.entries:
        if shown(kind, args.quiet):
            print(line, file=sys.stderr)
    if jobs and guided(args):
        colorize_guided_jobs(jobs, args, outcome)
    elif jobs:
        _colorize_jobs(compiled_model(args.weights), jobs, args, outcome)
    if show_progress(args):  # the count ends the progress display
        print(summary(outcome, outdir), file=sys.stderr)
    return 1 if outcome.counts["failed"] else 0


def summary(outcome: Outcome, outdir: Path) -> str:
    """The count: colorized D of N image(s) into OUTDIR, with the skipped and failed ones."""
    done, failed, skipped = outcome.counts["done"], outcome.counts["failed"], outcome.counts["skipped"]
    line = f"colorized {done} of {done + failed} image(s) into {outdir}"
    line += f"; {skipped} skipped (already done)" if skipped else ""
    return line + (f"; {failed} failed" if failed else "")


def _output_folder(outdir: Path, error_type) -> Path:
    if outdir.exists() and not outdir.is_dir():
        raise error_type(f"{outdir}: output path exists and is not a folder")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise error_type(f"{outdir}: cannot create the output folder ({error.strerror or error})") from None
    return outdir


def _colorize_jobs(model, jobs: list[Job], args, outcome: Outcome) -> None:
    """Colorize and save ``jobs``, decoding and saving in threads; each is counted in ``outcome``.

    Each file written is printed on stdout as soon as it is in place.
    """
    from tqdm import tqdm

    from colorization.colorize import predict_batch

    batches = [jobs[i : i + args.batch_size] for i in range(0, len(jobs), args.batch_size)]
    saves = []
    with (
        ThreadPoolExecutor(max_workers=2) as pool,
        tqdm(total=len(jobs), unit="img", desc="colorize", file=sys.stderr, disable=not show_progress(args)) as bar,
    ):

        def report(kind: str, line: str = "", job: Job | None = None) -> None:
            if line and shown(kind, args.quiet):
                bar.write(line, file=sys.stderr)
            if kind == "done":
                print_result(job.target)
            outcome.add(kind, line)
            bar.update(1)

        pending = pool.submit(_load_batch, batches[0], args.max_pixels)
        for index in range(len(batches)):
            loaded, errors = pending.result()
            if index + 1 < len(batches):  # decode the next batch while the network runs
                pending = pool.submit(_load_batch, batches[index + 1], args.max_pixels)
            for error in errors:
                report("failed", error)
            if loaded:
                results = predict_batch(model, [image for _, image in loaded], args.mode, args.vividness)
                saves += [
                    (job, pool.submit(_save, job, result, args.overwrite))
                    for (job, _), result in zip(loaded, results, strict=True)
                ]
            while saves and (saves[0][1].done() or index + 1 == len(batches)):
                job, saved = saves.pop(0)
                report(*saved.result(), job)


def _load_batch(jobs: list[Job], max_pixels: int):
    loaded, errors = [], []
    for job in jobs:
        try:
            loaded.append((job, load_image(job.source, max_pixels=max_pixels)))
        except ImageError as error:
            errors.append(f"{error}; skipped")
    return loaded, errors


def _save(job: Job, prediction, overwrite: bool) -> tuple[str, str]:
    """Render and write one result band by band: ("done", "") or ("skipped" or "failed", the line saying why)."""
    from colorization.io.files import OutputExistsError

    try:
        prediction.save_png(job.target, overwrite=overwrite)
    except OutputExistsError:
        return "skipped", f"{job.source}: skipped, {job.target} exists (use --overwrite to replace it)"
    except OSError as error:
        return "failed", f"{job.target}: cannot write ({error.strerror or error}); {job.source} skipped"
    return "done", ""
