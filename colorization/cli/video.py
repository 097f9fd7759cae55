"""``colorization video INPUT -o OUTPUT``: colorize a video file (:data:`DESCRIPTION`).

Everything that can be checked is checked before the network is loaded: the output path,
then the input (:func:`colorization.video.container.probe`). Progress (frames/s) and the
final line are shown on a terminal only.
"""

from __future__ import annotations

import importlib
import sys

from colorization.cli.colorize import VIVIDNESS_HELP
from colorization.cli.common import (
    CommandError,
    compiled_model,
    positive_int,
    print_result,
    say,
    show_progress,
    vividness_value,
)
from colorization.video.runtime import RUNTIMES

DESCRIPTION = """Colorize a video with the paper's network, frame by frame, its colours kept steady from frame to
frame (--temporal). The output (.mp4, .mkv or .mov; H.264) keeps the input's frame rate and timestamps, size (an odd
width or height gets one repeated edge line, as H.264 needs), duration, rotation and audio (copied, not re-encoded),
and each frame's own lightness. It appears only when complete: a failed or killed run leaves no file. The input is
never changed. The path written is printed on stdout. Exit status: 0 if the video was colorized or its output exists
already (--overwrite replaces it), 1 if the input could not be colorized (one line says why), 2 if the command could
not run at all (no weights, an output path it cannot write, no PyAV)."""


def temporal_module():
    """:mod:`colorization.video.temporal`, imported when first needed (it pulls in SciPy and OpenCV's users)."""
    return importlib.import_module("colorization.video.temporal")


class TemporalMethods:
    """The ``--temporal`` choices, :data:`colorization.video.temporal.METHODS`, read only when needed.

    Building the parser stays as quick for every other command; argparse looks inside
    only for a given ``--temporal``, an error, or ``--help``.
    """

    def __iter__(self):
        return iter(temporal_module().METHODS)

    def __contains__(self, name) -> bool:
        return name in temporal_module().METHODS


class DefaultMethod:
    """The default ``--temporal``: :data:`colorization.video.temporal.DEFAULT`, read when shown or used."""

    def __str__(self) -> str:
        return temporal_module().DEFAULT


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "video", help="colorize a video file (.mp4, .mkv, .mov ...)", description=DESCRIPTION
    )
    parser.add_argument("input", metavar="INPUT", help="the video file (anything FFmpeg reads)")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="the result: a .mp4, .mkv or .mov file")
    parser.add_argument(
        "--weights", metavar="FILE", help=".keras or .onnx model (default: the shipped one, see --runtime)"
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="the shipped network to run without --weights: keras (float32) or onnx-int8 (its int8 export, about "
        "twice as fast on a CPU); auto (default): keras on a GPU, else onnx-int8 where ONNX Runtime is installed "
        "(colorization.video.runtime)",
    )
    parser.add_argument("--vividness", type=vividness_value, metavar="V", help=VIVIDNESS_HELP)
    parser.add_argument(
        "--temporal",
        choices=TemporalMethods(),
        default=DefaultMethod(),
        metavar="METHOD",
        help="how colours are kept steady from frame to frame: %(choices)s (default: %(default)s; "
        "the methods: colorization.video.temporal)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="frames per network call (default 8)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT (never the input)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from colorization.decoding import NonFinitePrediction
    from colorization.io.files import OutputExistsError
    from colorization.video.container import VideoError, load_av, probe
    from colorization.video.pipeline import check_frame_size
    from colorization.video.writer import check_target

    try:
        load_av()
        check_target(args.output, args.input, args.overwrite)
    except VideoError as error:
        raise CommandError(str(error)) from None
    except OutputExistsError:
        say(args, f"{args.input}: skipped, {args.output} exists (use --overwrite to replace it)")
        return 0
    try:
        info = probe(args.input)
        check_frame_size(info)
        report = _colorize(compiled_model(_weights(args)), info, args)
    except VideoError as error:  # its line names the file
        print(error, file=sys.stderr)
        return 1
    except NonFinitePrediction as error:
        print(f"{args.input}: not colorized, {error}", file=sys.stderr)
        return 1
    except OutputExistsError:  # it appeared while this run worked
        say(args, f"{args.input}: skipped, {args.output} appeared meanwhile (use --overwrite to replace it)")
        return 0
    print_result(report.target)
    if show_progress(args):
        print(
            f"colorized {report.frames} frames in {report.seconds:.1f} s ({report.fps:.1f} frames/s, "
            f"temporal: {report.method}, network: {_network(args)}) into {report.target}",
            file=sys.stderr,
        )
    return 0


def _weights(args) -> str | None:
    """The weights file to run: ``--weights``, else the shipped network ``--runtime`` chooses."""
    from colorization.video.runtime import choose_runtime, video_weights
    from colorization.weights import WeightsError

    if args.weights is not None:
        if args.runtime != "auto":
            raise CommandError("--runtime chooses a shipped network; with --weights FILE, the file decides")
        return args.weights
    args.runtime = choose_runtime(args.runtime)
    try:
        path = video_weights(args.runtime)
    except WeightsError as error:
        raise CommandError(str(error)) from None
    return None if path is None else str(path)


def _network(args) -> str:
    """The network that ran, as the summary names it."""
    if args.weights is not None:
        return args.weights
    return "the shipped int8 export (ONNX Runtime)" if args.runtime == "onnx-int8" else "the shipped float32 network"


def _colorize(model, info, args):
    """Run the pipeline with a progress bar in frames/s (on a terminal, unless -q)."""
    from tqdm import tqdm

    from colorization.video.pipeline import colorize_video

    with tqdm(total=info.frames, unit="frame", desc="video", file=sys.stderr, disable=not show_progress(args)) as bar:
        return colorize_video(
            model,
            info.path,
            args.output,
            vividness=args.vividness,
            temporal=str(args.temporal),
            overwrite=args.overwrite,
            progress=bar.update,
            batch=args.batch_size,
        )
