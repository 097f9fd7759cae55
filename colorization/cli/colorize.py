"""``colorization colorize INPUT... -o OUTDIR``: colorize files and folders.

Bad inputs are reported one line each on stderr and skipped; the rest is done.
Exit status: 0 if everything was colorized, 1 if any input failed, 2 if the
command could not run at all (no weights, unusable output folder).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from colorization.cli.common import positive_int
from colorization.io.images import IMAGE_SUFFIXES, MAX_PIXELS, ImageError, load_image, save_png


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "colorize",
        help="colorize images (files or folders, searched recursively)",
        description="Colorize images with the paper's network. Output: OUTDIR/<input stem>.png "
        "(images found in a folder keep their sub-folders under OUTDIR).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the PNG results")
    parser.add_argument("--weights", metavar="FILE", help=".keras model (default: the shipped reference model)")
    parser.add_argument(
        "--mode",
        choices=("full", "paper"),
        default="full",
        help="full: the image's own size (default); paper: the paper's 256x256 centre crop",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="images per network call (default 8)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        default=MAX_PIXELS,
        metavar="N",
        help=f"refuse images with more pixels (decompression-bomb guard, default {MAX_PIXELS:,})",
    )
    parser.set_defaults(run=run)


@dataclass
class Job:
    source: Path
    target: Path


def plan_jobs(inputs: list[str], outdir: Path, overwrite: bool) -> tuple[list[Job], list[str]]:
    """Map inputs to output paths. Returns (jobs, problems); each problem is one line."""
    jobs: list[Job] = []
    problems: list[str] = []
    claimed: dict[Path, Path] = {}
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                problems.append(f"{path}: folder holds no image files")
            pairs = [(p, outdir / p.relative_to(path).parent / f"{p.stem}.png") for p in found]
        elif path.exists():
            pairs = [(path, outdir / f"{path.stem}.png")]
        else:
            problems.append(f"{path}: no such file or folder")
            continue
        for source, target in pairs:
            key = target.resolve()
            if key in claimed:
                problems.append(f"{source}: output {target} is already taken by {claimed[key]}; skipped")
            elif key == source.resolve():
                problems.append(f"{source}: output would replace the input itself; choose another -o folder")
            elif target.exists() and not overwrite:
                problems.append(f"{target}: exists (use --overwrite to replace it); {source} skipped")
            else:
                claimed[key] = source
                jobs.append(Job(source, target))
    input_files = {job.source.resolve() for job in jobs}
    for job in jobs:  # never write over any input of this run, even with --overwrite
        if job.target.resolve() in input_files:
            problems.append(f"{job.source}: output {job.target} is an input of this run; skipped")
    jobs = [job for job in jobs if job.target.resolve() not in input_files]
    return jobs, problems


def run(args) -> int:
    from tqdm import tqdm

    from colorization.cli.common import CommandError

    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise CommandError(f"{outdir}: output path exists and is not a folder")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"{outdir}: cannot create the output folder ({error.strerror or error})") from None
    jobs, problems = plan_jobs(args.inputs, outdir, args.overwrite)
    for line in problems:
        print(line, file=sys.stderr)
    if not jobs:
        print(f"colorized 0 images; {len(problems)} problem(s)", file=sys.stderr)
        return 1 if problems else 0

    model = _load_model(args.weights, CommandError)
    from colorization.colorize import colorize_batch

    batches = [jobs[i : i + args.batch_size] for i in range(0, len(jobs), args.batch_size)]
    failures: list[str] = []
    saves = []
    with (
        ThreadPoolExecutor(max_workers=2) as pool,
        tqdm(total=len(jobs), unit="img", desc="colorize", file=sys.stderr) as bar,
    ):

        def report(error: str | None) -> None:
            if error:
                bar.write(error, file=sys.stderr)
                failures.append(error)
            bar.update(1)

        pending = pool.submit(_load_batch, batches[0], args.max_pixels)
        for index in range(len(batches)):
            loaded, errors = pending.result()
            if index + 1 < len(batches):  # decode the next batch while the network runs
                pending = pool.submit(_load_batch, batches[index + 1], args.max_pixels)
            for error in errors:
                report(error)
            if loaded:
                results = colorize_batch(model, [image for _, image in loaded], args.mode)
                saves += [
                    pool.submit(_save, job, result, args.overwrite)
                    for (job, _), result in zip(loaded, results, strict=True)
                ]
            while saves and (saves[0].done() or index + 1 == len(batches)):
                report(saves.pop(0).result())
    failed = len(problems) + len(failures)
    done = len(jobs) - len(failures)
    summary = f"colorized {done} of {done + failed} image(s) into {outdir}"
    print(summary + (f"; {failed} failed" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def _load_model(weights, error_type):
    from colorization.weights import WeightsError, load_weights

    try:
        model = load_weights(weights)
    except WeightsError as error:
        raise error_type(str(error)) from None
    model.compile(jit_compile=True)  # XLA: ~1.5x faster inference on the CPU
    return model


def _load_batch(jobs: list[Job], max_pixels: int):
    loaded, errors = [], []
    for job in jobs:
        try:
            loaded.append((job, load_image(job.source, max_pixels=max_pixels)))
        except ImageError as error:
            errors.append(f"{error}; skipped")
    return loaded, errors


def _save(job: Job, result, overwrite: bool) -> str | None:
    from colorization.io.files import OutputExistsError

    try:
        save_png(job.target, result.rgb, result.alpha, overwrite=overwrite)
    except OutputExistsError:
        return f"{job.target}: exists (use --overwrite to replace it); {job.source} skipped"
    except OSError as error:
        return f"{job.target}: cannot write ({error.strerror or error}); {job.source} skipped"
    return None
