"""``colorization colorize IMAGE -o OUTDIR --hints HINTS.json [--method network|levin]``: colour points.

The semi-automatic route of :mod:`colorization.guided`: the hint network (the default; the shipped
``hints`` model unless ``--weights`` names another hint network) or Levin et al.'s optimization
(``--method levin``: no network is loaded, so no TensorFlow either). Hints are positions in the
image's own pixels, so a hints file goes with one image.
"""

from __future__ import annotations

import sys

from colorization.cli.common import CommandError, compiled_model, print_result, shown

HINTS_HELP = """a JSON list of colour points for the one INPUT image, e.g. [{"x": 120, "y": 48, "rgb": [200, 30, 30],
"radius": 2}] (x column, y row in the image's pixels; "ab": [a, b] may stand instead of "rgb")"""
METHOD_HELP = """network: the hint network (the shipped 'hints' model unless --weights names one; the default); levin:
Levin et al.'s optimization (no network)"""


def add_guided_options(parser) -> None:
    """``--hints`` and ``--method`` of ``colorization colorize``."""
    from colorization.guided import METHODS

    parser.add_argument("--hints", metavar="FILE", help=HINTS_HELP)
    parser.add_argument("--method", choices=METHODS, help=METHOD_HELP)


def guided(args) -> bool:
    """Whether the command colours with hints (``--hints`` or ``--method`` given)."""
    return bool(args.hints or args.method)


def colorize_guided_jobs(jobs, args, outcome) -> None:
    """Colour the one job with its hints; a bad hints file or image is one line, counted as failed."""
    from colorization.guided import DEFAULT_METHOD, colorize_guided
    from colorization.hints.points import HintError
    from colorization.io.files import OutputExistsError
    from colorization.io.images import ImageError, load_image, save_png

    if len(jobs) != 1 or len(args.inputs) != 1:
        raise CommandError("--hints and --method take exactly one input image (hint positions are its pixels)")
    if args.mode != "full":
        raise CommandError("--hints needs --mode full (hint positions are the whole image's pixels)")
    job, method = jobs[0], args.method or DEFAULT_METHOD
    model = _hint_model(args.weights) if method == "network" else None
    try:
        image = load_image(job.source, max_pixels=args.max_pixels)
        result = colorize_guided(model, image, args.hints, method, args.vividness)
        save_png(job.target, result.rgb, result.alpha, overwrite=args.overwrite)
    except (HintError, ImageError) as error:
        _report(outcome, "failed", f"{error}; not colorized", args.quiet)
        return
    except OutputExistsError:
        _report(outcome, "skipped", f"{job.source}: skipped, {job.target} exists (use --overwrite)", args.quiet)
        return
    except OSError as error:
        _report(outcome, "failed", f"{job.target}: cannot write ({error.strerror or error})", args.quiet)
        return
    print_result(job.target)
    outcome.add("done", "")


def _hint_model(weights: str | None):
    """The hint network: ``weights``, or the shipped ``hints`` model; any other network is refused."""
    from colorization.model import takes_hints
    from colorization.weights import reference_weights

    model = compiled_model(weights or str(reference_weights("hints")))
    if not takes_hints(model):
        raise CommandError(
            f"{weights}: this network takes no colour hints; use the shipped one (no --weights) or --method levin"
        )
    return model


def _report(outcome, kind: str, line: str, quiet: bool) -> None:
    """Count the outcome; its line goes to stderr (a skip's only without ``--quiet``: :func:`shown`)."""
    if shown(kind, quiet):
        print(line, file=sys.stderr)
    outcome.add(kind, line)
