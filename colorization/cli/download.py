"""``colorization download {sample,caltech101,caltech256}``: fetch a data set, say where it is.

Downloads are hash-checked and extracted safely; a second call finds the completion
marker and needs no network. ``sample`` never uses the network, and ``caltech101``
reads the offline copy beside the checkout when there is one (unless ``--url`` asks
for a download). Prints the image folder and the number of files.

Also the pieces ``prepare`` and ``evaluate`` share: the data options
(:func:`add_source_options`) and opening a source with one-line errors (:func:`open_source`).
"""

from __future__ import annotations

import argparse

from colorization.cli.common import print_result
from colorization.data import caltech
from colorization.data.paths import ENV_CALTECH101, ENV_DATA


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``download``, ``prepare`` and ``evaluate``."""
    parser.add_argument(
        "--data-dir", metavar="DIR", help=f"where data lives (default: ${ENV_DATA}, else <project root>/data)"
    )
    parser.add_argument("--url", metavar="URL", help="download from this http(s) mirror instead of CaltechDATA")
    hashes = parser.add_mutually_exclusive_group()
    hashes.add_argument("--md5", metavar="HEX", help="expected md5 of the downloaded file (for mirrors)")
    hashes.add_argument("--sha256", metavar="HEX", help="expected sha256 of the downloaded file")
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="extra attempts after a transfer broke off or a temporary server error (default 2)",
    )


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


def known_hash(md5: str | None = None, sha256: str | None = None, default: str | None = None) -> str | None:
    """Pooch's ``"alg:hex"`` string from ``--md5`` / ``--sha256`` (at most one), else ``default``."""
    if md5 and sha256:
        raise ValueError("give either an md5 or a sha256 checksum, not both")
    for algorithm, value, length in (("md5", md5, 32), ("sha256", sha256, 64)):
        if value:
            value = value.strip().lower()
            if len(value) != length or any(c not in "0123456789abcdef" for c in value):
                raise ValueError(f"--{algorithm} must be {length} hexadecimal digits, got {value!r}")
            return f"{algorithm}:{value}"
    return default


def one_line(error: BaseException) -> str:
    """An error as one line: ``<file>: <problem>`` for operating-system errors, else its text."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).split()) or type(error).__name__


def open_source(args, name: str | None = None):
    """The :class:`~colorization.data.sources.Source` the options describe (fetched)."""
    from colorization.cli.common import CommandError
    from colorization.data.download import DownloadError, UnsafeArchiveError
    from colorization.data.paths import data_dir, require_folder_path
    from colorization.data.sources import CaltechSource, get_source

    name = name or args.source
    try:
        require_folder_path(data_dir(args.data_dir))
        checksum = known_hash(args.md5, args.sha256)
        source = get_source(
            name,
            args.data_dir,
            url=args.url,
            checksum=checksum,
            progress=not args.quiet,  # "downloading URL to FILE", and pooch's bar: the library ties the two
            retries=max(0, args.retries),
        )
        if (args.url or checksum) and not isinstance(source, CaltechSource):
            raise CommandError(f"--url/--md5/--sha256 apply to caltech101 and caltech256, not {name}")
        if isinstance(source, CaltechSource):
            source.fetch()
    except (DownloadError, UnsafeArchiveError, ValueError, OSError) as error:
        raise CommandError(one_line(error)) from None
    return source


def source_records(source) -> list:
    """The source's files, with a one-line error when its folder cannot be listed."""
    from colorization.cli.common import CommandError

    try:
        return source.records()
    except (ValueError, OSError) as error:
        raise CommandError(one_line(error)) from None


def run(args) -> int:
    source = open_source(args)
    records = source_records(source)
    where = getattr(source, "root", None)
    print_result(f"{source.name}: {len(records)} files in {len({r.category for r in records})} categories")
    print_result(f"  where: {where if where is not None else source.origin}")
    if where is not None:
        print_result(f"  from:  {source.origin}")
    return 0
