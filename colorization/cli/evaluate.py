"""``colorization evaluate --weights FILE --data SOURCE -o DIR``: model vs. baselines.

What it scores and writes is in :data:`DESCRIPTION` (the command's help); the library
behind it is :mod:`colorization.evaluation`, the metrics :mod:`colorization.metrics`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from colorization.cli.common import compiled_model, positive_int, print_result, say, show_progress, vividness_value
from colorization.cli.download import add_source_options, one_line, open_source

DESCRIPTION = """\
Score the model, the gray baseline (ab = 0) and the mean-ab baseline (the mean a, b of
the train split) on one split with every metric of the package, and write into DIR:

  per_image.csv     one row per image and method
  per_category.csv  means per category and method, with counts
  summary.json      mean and median per method and metric, with provenance
  summary.md        the summary as a Markdown table (also printed on stdout)

--categories or --content-group score only those categories' images of the split
(the mean-ab baseline stays the whole train split's).

DIR and the --cache folder must be new, empty or made by colorization (for results,
for a cache); any other non-empty folder is refused before any work, unless
--overwrite.
"""


def _ab_pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers like 1.5,12.0, got {text!r}") from None
    return a, b


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected category names like Leopards,dalmatian, got {text!r}")
    return names


# The same as colorization.evaluation's (a test checks); literal here so that
# building the parser imports nothing heavy.
RESOLUTIONS = ("paper", "full")
SPLIT_CHOICES = ("train", "val", "test", "all")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a model against the gray and mean-ab baselines on a data split",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--weights", metavar="FILE", help=".keras model (default: the shipped reference model)")
    parser.add_argument(
        "--data", required=True, metavar="SOURCE", help="sample, caltech101, caltech256 or a folder of images"
    )
    parser.add_argument("--split", choices=SPLIT_CHOICES, default="test", help="which images (default test)")
    parser.add_argument("--seed", type=int, default=0, help="split seed, as in training (default 0)")
    parser.add_argument(
        "--manifest", metavar="FILE", help="use this manifest.csv (from colorization prepare) instead of building one"
    )
    parser.add_argument(
        "--resolution",
        choices=RESOLUTIONS,
        default="paper",
        help="paper: the 256x256 paper crop (default); full: each image at its own size",
    )
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument(
        "--categories", type=_names, metavar="A,B", help="evaluate only these categories' images (comma-separated)"
    )
    chosen.add_argument(
        "--content-group",
        metavar="GROUP",
        help="evaluate only a content group's categories (colorization.data.categories, e.g. animals)",
    )
    parser.add_argument("--limit", type=positive_int, metavar="N", help="evaluate only N images, spread over the split")
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="images per network call (default 8)"
    )
    parser.add_argument(
        "--mean-ab",
        type=_ab_pair,
        metavar="A,B",
        help="mean-ab baseline constant (default: computed over the train split)",
    )
    parser.add_argument(
        "--vividness",
        type=vividness_value,
        metavar="V",
        help="score the model at this vividness only (1: the network as trained, more: more colourful); default: as "
        "trained and, if the model's own default differs, also at that default (as the method model_vivid)",
    )
    parser.add_argument("--cache", metavar="DIR", help="image cache folder (default: under the data folder)")
    parser.add_argument("--workers", type=int, metavar="N", help="parallel decoders (default: one per core)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the result files")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing result files, and write into folders colorization did not make",
    )
    add_source_options(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from colorization.cli.common import CommandError
    from colorization.evaluation import evaluate
    from colorization.io.images import ImageError

    out = _output_folder(args)
    model, weights = _model(args)
    data = _data(args)
    try:
        results = evaluate(
            data,
            weights,
            model=model,
            resolution=args.resolution,
            mean=args.mean_ab,
            vividness=args.vividness,
            batch_size=args.batch_size,
            progress=show_progress(args),
        )
    except (ImageError, ValueError) as error:
        raise CommandError(one_line(error)) from None
    paths = _write(results, out, args.overwrite)
    print_result(results.markdown.rstrip("\n"))
    say(args, f"results: {', '.join(str(p) for p in paths.values())} ({results.summary['seconds']:.1f} s)")
    return 0


def _output_folder(args) -> Path:
    """The output folder, after checking before any work what can be checked at once.

    Refused: an output or cache folder colorization may not write into (unless
    --overwrite), existing results (unless --overwrite), an unusable --manifest, an unknown
    --content-group.
    """
    from colorization.cli.common import CommandError
    from colorization.data.cache import check_cache_folder
    from colorization.data.categories import check_content_group
    from colorization.data.manifest import read_manifest
    from colorization.evaluation import existing_results
    from colorization.evaluation.tables import results_folder

    out = Path(args.output)
    if args.cache and Path(args.cache).resolve() == out.resolve():
        raise CommandError(f"{out}: give the cache (--cache) and the results (-o) different folders")
    found = existing_results(out) if out.is_dir() else []
    if found and not args.overwrite:
        raise CommandError(f"{found[0]}: exists (use --overwrite to replace it)")
    try:
        if args.content_group is not None:
            check_content_group(args.content_group)
        results_folder(out, overwrite=args.overwrite, check_only=True)
        if args.cache:
            check_cache_folder(args.cache, overwrite=args.overwrite)
        if args.manifest:
            read_manifest(args.manifest)
    except ValueError as error:
        raise CommandError(one_line(error)) from None
    return out


def _model(args):
    """(the XLA-compiled model, the weights file recorded in the summary)."""
    from colorization.weights import reference_weights

    return compiled_model(args.weights), args.weights or reference_weights()


def _data(args):
    """The images to evaluate, with a one-line account of what was left out."""
    from colorization.cli.common import CommandError
    from colorization.evaluation import load_data

    source = open_source(args, args.data)
    try:
        data = load_data(
            source,
            split=args.split,
            seed=args.seed,
            manifest=args.manifest,
            limit=args.limit,
            cache_dir=args.cache,
            data_dir=args.data_dir,
            workers=args.workers,
            progress=show_progress(args),
            overwrite=args.overwrite,
            categories=args.categories,
            content_group=args.content_group,
        )
    except (ValueError, OSError) as error:
        raise CommandError(one_line(error)) from None
    if args.mean_ab is None and not len(data.cache.rows("train")):
        raise CommandError(
            f"{data.source}: the train split has no decodable images, so the mean-ab baseline cannot be "
            "computed; give it with --mean-ab A,B"
        )
    described = data.describe()
    excluded = described["excluded_by_manifest"]
    say(
        args,
        f"{data.source} ({data.origin}): evaluating {len(data.items)} of {data.available} images of split "
        f"{data.split!r}{_of_chosen(data)} at {args.resolution} resolution; excluded by the manifest: "
        f"{excluded['total']} ({excluded['grayscale']} grayscale, {excluded['unreadable']} unreadable, "
        f"{excluded['other_excluded']} other); undecodable: {described['undecodable_in_split']}",
    )
    return data


def _of_chosen(data) -> str:
    """`` of content group animals (14 categories)`` when categories were chosen, else nothing."""
    from colorization.data.categories import describe_choice

    return f" of {describe_choice(data.categories, data.content_group)}" if data.categories else ""


def _write(results, out: Path, overwrite: bool) -> dict:
    from colorization.cli.common import CommandError
    from colorization.evaluation import write_results
    from colorization.io.files import OutputExistsError

    try:
        return write_results(results, out, overwrite=overwrite)
    except OutputExistsError as error:
        raise CommandError(f"{error.filename}: exists (use --overwrite to replace it)") from None
    except OSError as error:
        raise CommandError(f"{out}: cannot write results ({error.strerror or error})") from None
    except ValueError as error:  # the folder became unusable while the evaluation ran
        raise CommandError(one_line(error)) from None
