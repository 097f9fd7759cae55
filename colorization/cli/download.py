"""``colorization download {sample,caltech101,caltech256}``: fetch a data set, say where it is.

Downloads are hash-checked (pooch) and extracted safely; a second call finds the
completion marker and needs no network. ``sample`` never uses the network, and
``caltech101`` reads the offline copy beside the checkout when there is one (unless
``--url`` asks for a download). Prints the image folder and the number of files.
"""

from __future__ import annotations

import argparse

from colorization.data import caltech
from colorization.data.download import DownloadError, UnsafeArchiveError, known_hash
from colorization.data.paths import ENV_CALTECH101, ENV_DATA


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``download`` and ``prepare``."""
    parser.add_argument(
        "--data-dir", metavar="DIR", help=f"where data lives (default: ${ENV_DATA}, else <project root>/data)"
    )
    parser.add_argument("--url", metavar="URL", help="download from this mirror instead of CaltechDATA")
    hashes = parser.add_mutually_exclusive_group()
    hashes.add_argument("--md5", metavar="HEX", help="expected md5 of the downloaded file (for mirrors)")
    hashes.add_argument("--sha256", metavar="HEX", help="expected sha256 of the downloaded file")
    parser.add_argument(
        "--retries", type=int, default=2, metavar="N", help="extra download attempts after a network error (default 2)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "download",
        help="download and verify a data set (sample, caltech101, caltech256)",
        description="Fetch a data set: hash-checked download, safe extraction, a completion marker "
        "so that a second call needs no network. caltech101 uses the offline copy beside the "
        f"checkout (or ${ENV_CALTECH101}) when present and no --url is given.",
    )
    parser.add_argument("source", choices=("sample", *caltech.SPECS), help="which data set")
    add_source_options(parser)
    parser.set_defaults(run=run)


def open_source(args, name: str | None = None):
    """The :class:`~colorization.data.sources.Source` the options describe (fetched)."""
    from colorization.cli.common import CommandError
    from colorization.data.sources import CaltechSource, get_source

    name = name or args.source
    try:
        checksum = known_hash(args.md5, args.sha256)
        source = get_source(
            name, args.data_dir, url=args.url, checksum=checksum, progress=not args.quiet, retries=max(0, args.retries)
        )
        if (args.url or checksum) and not isinstance(source, CaltechSource):
            raise CommandError(f"--url/--md5/--sha256 apply to caltech101 and caltech256, not {name}")
        if isinstance(source, CaltechSource):
            source.fetch()
    except (DownloadError, UnsafeArchiveError, ValueError, FileNotFoundError) as error:
        raise CommandError(" ".join(str(error).split())) from None
    return source


def run(args) -> int:
    source = open_source(args)
    records = source.records()
    where = getattr(source, "root", None)
    print(f"{source.name}: {len(records)} files in {len({r.category for r in records})} categories")
    print(f"  where: {where if where is not None else source.origin}")
    if where is not None:
        print(f"  from:  {source.origin}")
    return 0
