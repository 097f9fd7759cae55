"""``colorization prepare SOURCE --out DIR``: manifest, data report, pack and (optionally) cache.

What it writes, and the rules for DIR, are in :data:`DESCRIPTION` (the command's help).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from colorization.cli.common import positive_int, print_result, show_progress
from colorization.cli.download import add_source_options, one_line, open_source
from colorization.data import splits

DESCRIPTION = """\
Inspect a data set, split it and write into DIR:

  manifest.csv         every file, with its split or the reason it is excluded
  report/              per_category.csv, per_split.csv, excluded.csv, conversions.csv
  pack.npz, pack.json  the usable images cropped to 256x256 as the paper does, stored as
                       JPEG (quality: --pack-quality), to carry to a GPU machine;
                       left out with --no-pack
  cache/               with --cache: the decoded images training reads

SOURCE is sample, caltech101, caltech256 or a folder of images (one sub-folder per
category). DIR must be new, empty or prepared by colorization before: a non-empty
folder it did not make is refused before any work, and an existing manifest.csv there
that differs from the new one is not replaced; --overwrite allows both.
"""


def _fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 0 or sum(parts) <= 0:
        raise argparse.ArgumentTypeError(f"expected three non-negative numbers like 0.8,0.1,0.1, got {text!r}")
    return parts


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="inspect a data set, split it, write the data report and a JPEG pack",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="sample, caltech101, caltech256 or a folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for manifest, report, pack, cache")
    parser.add_argument("--seed", type=int, default=splits.DEFAULT_SEED, help="split seed (default 0)")
    parser.add_argument(
        "--fractions",
        type=_fractions,
        default=splits.DEFAULT_FRACTIONS,
        metavar="T,V,T",
        help="train,val,test fractions per category (default 0.8,0.1,0.1)",
    )
    parser.add_argument(
        "--max-per-category",
        type=positive_int,
        metavar="N",
        help="use at most N usable images per category (seeded choice)",
    )
    parser.add_argument(
        "--unselected-to-train",
        action="store_true",
        help="with --max-per-category: the images the cap leaves out join the train split (val and test "
        "stay the capped set's; an image whose near-duplicate is held out stays out)",
    )
    parser.add_argument(
        "--limit", type=positive_int, metavar="N", help="look at only N files, evenly spaced (quick trials)"
    )
    parser.add_argument("--workers", type=int, metavar="N", help="parallel decoders (default: one per core)")
    parser.add_argument("--pack-quality", type=positive_int, default=85, metavar="Q", help="JPEG quality (default 85)")
    parser.add_argument(
        "--subsampling",
        choices=("4:2:0", "4:2:2", "4:4:4"),
        default="4:2:0",
        help="JPEG chroma subsampling of the pack (default 4:2:0)",
    )
    parser.add_argument("--no-pack", action="store_true", help="do not write pack.npz")
    parser.add_argument("--cache", action="store_true", help="also build the decoded cache in DIR/cache")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a DIR colorization did not make, and replace a manifest.csv that differs",
    )
    add_source_options(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from colorization.cli.common import CommandError
    from colorization.data.manifest import build_manifest, unselected_to_train

    if args.pack_quality > 100:
        raise CommandError(f"--pack-quality must be 1..100, got {args.pack_quality}")
    if args.unselected_to_train and args.max_per_category is None:
        raise CommandError("--unselected-to-train needs --max-per-category (without a cap nothing is left out)")
    out = _check_out(args)
    source = open_source(args)
    try:
        manifest = build_manifest(
            source,
            seed=args.seed,
            fractions=args.fractions,
            max_per_category=args.max_per_category,
            limit=args.limit,
            workers=args.workers,
            progress=show_progress(args),
        )
    except (ValueError, OSError) as error:
        raise CommandError(one_line(error)) from None
    if args.unselected_to_train:
        manifest = unselected_to_train(manifest, source.split_together)
    if manifest.empty:
        raise CommandError(f"{source.origin}: no files found, nothing to prepare ({source.name})")
    _refuse_other_manifest(out, manifest, args.overwrite)
    try:
        _write_outputs(args, source, manifest, out)
    except (ValueError, OSError) as error:
        raise CommandError(one_line(error)) from None
    return 0


def _check_out(args) -> Path:
    """``--out`` (and its cache folder), refused before any work where colorization may not write."""
    from colorization.cli.common import CommandError
    from colorization.data.cache import check_cache_folder
    from colorization.data.pack import prepared_folder

    out = Path(args.out)
    try:
        prepared_folder(out, overwrite=args.overwrite, check_only=True)
        if args.cache:
            check_cache_folder(out / "cache", overwrite=args.overwrite)
    except ValueError as error:
        raise CommandError(one_line(error)) from None
    return out


def _refuse_other_manifest(out: Path, manifest, overwrite: bool) -> None:
    """Refuse to replace a ``manifest.csv`` that differs from ``manifest`` (unless ``overwrite``)."""
    from colorization.cli.common import CommandError
    from colorization.data.manifest import manifest_csv
    from colorization.data.pack import MANIFEST_NAME

    existing = out / MANIFEST_NAME
    if overwrite or not (existing.is_file() or existing.is_symlink()):
        return
    try:
        same = existing.read_bytes() == manifest_csv(manifest).encode("utf-8")
    except OSError:
        same = False
    if not same:
        raise CommandError(
            f"{existing}: exists and differs from the manifest this run made (other files, seed or options); "
            "choose another --out, or pass --overwrite to replace it"
        )


def _write_outputs(args, source, manifest, out: Path) -> None:
    """Manifest, report, pack and (with --cache) the cache, each printed as it is written."""
    from colorization.cli.common import CommandError
    from colorization.data.cache import build_cache
    from colorization.data.manifest import write_manifest
    from colorization.data.pack import MANIFEST_NAME, PREPARED_TEMPORARIES, prepared_folder
    from colorization.data.paths import folder_lock
    from colorization.data.report import summary, write_report

    out = prepared_folder(out, overwrite=args.overwrite)
    with folder_lock(out, stale=PREPARED_TEMPORARIES):
        write_manifest(manifest, out / MANIFEST_NAME)
        write_report(manifest, out / "report")
        print_result(f"{source.name} ({source.origin})")
        print_result(summary(manifest))
        print_result(f"manifest and report: {out / MANIFEST_NAME}, {out / 'report'}/")
        if not (manifest["excluded"] == "").any():
            raise CommandError(
                f"{source.origin}: no usable images among its {len(manifest)} files, so no pack or cache "
                f"(why: {out / 'report' / 'excluded.csv'})"
            )
        if not args.no_pack:
            _pack(args, source, manifest, out)
    if args.cache:
        cache = build_cache(
            manifest, out / "cache", workers=args.workers, progress=show_progress(args), overwrite=args.overwrite
        )
        print_result(f"cache: {cache.folder} - {len(cache)} images, {cache.images.nbytes / 2**20:.0f} MiB")


def _pack(args, source, manifest, out: Path) -> None:
    from colorization.data.pack import write_pack

    path = write_pack(
        manifest,
        out,
        quality=args.pack_quality,
        subsampling=args.subsampling,
        workers=args.workers,
        progress=show_progress(args),
        extra_meta={"source": source.name},
        overwrite=args.overwrite,
    )
    size = path.stat().st_size
    count = int((manifest["excluded"] == "").sum())
    per_image = size / max(1, count)
    print_result(
        f"pack: {path} - {count} images, {size / 2**20:.1f} MiB, {per_image / 1024:.1f} KiB/image "
        f"(~{int(50 * 2**20 / per_image) if count else 0} images per 50 MiB at q{args.pack_quality})"
    )
