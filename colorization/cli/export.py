"""``colorization export MODEL -o FILE``: a trained network as an ONNX, OpenVINO, LiteRT or SavedModel file
(:data:`DESCRIPTION`)."""

from __future__ import annotations

from pathlib import Path

from colorization.cli.common import CommandError, positive_int, print_result, say
from colorization.export import FORMATS, PRECISIONS

DESCRIPTION = """Export a trained network (either head) for another runtime: MODEL is a registered model (paper,
classification) or a .keras file (as colorization train writes). --format onnx writes FILE.onnx (ONNX Runtime),
openvino FILE.xml + FILE.bin (OpenVINO IR), litert FILE.tflite (LiteRT / TensorFlow Lite), saved_model the folder
FILE (TensorFlow, fp32 only). The file carries its provenance (source weights' sha256, package version, precision,
converter versions) inside it and in FILE.json beside it (with each file's sha256), and colorize, evaluate and
colorization.load_weights(FILE) run it through the same pre- and post-processing as the Keras model. fp16 stores
float16 weights; int8 is post-training static quantization (ONNX Runtime's, NNCF's, TensorFlow Lite's) calibrated
on training-split images of --calibration (recorded beside the file). The path written is printed on stdout. Exit
status: 0 when written, 2 when not (an unusable model, an existing FILE without --overwrite, a missing converter)."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export", help="export a trained network to ONNX, OpenVINO, LiteRT or a SavedModel", description=DESCRIPTION
    )
    parser.add_argument("model", metavar="MODEL", help="a registered model (paper, classification) or a .keras file")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the file to write (.onnx, .xml, .tflite; a new folder for saved_model)",
    )
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="what to export to (default onnx)")
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="fp32", help="fp32 (default), fp16, or int8 (calibrated)"
    )
    parser.add_argument(
        "--calibration",
        default="sample",
        metavar="SOURCE",
        help="int8: the data source whose training split calibrates it (sample, caltech101, a folder; default sample)",
    )
    parser.add_argument(
        "--calibration-images",
        type=positive_int,
        default=None,
        metavar="N",
        help="int8: at most N calibration images, spread over the split (default 64)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="int8: the split seed of the calibration source (default 0)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace FILE and its sidecar if they exist")
    parser.set_defaults(run=run)


def run(args) -> int:
    from colorization.export.formats import check_request, export_model
    from colorization.io.files import OutputExistsError
    from colorization.weights import WeightsError

    try:
        calibration = None
        if args.precision == "int8":
            check_request(Path(args.output), args.format, args.precision, True, args.overwrite)  # before reading images
            calibration = calibration_for(args)
        exported = export_model(
            args.model,
            Path(args.output),
            fmt=args.format,
            precision=args.precision,
            calibration=calibration,
            overwrite=args.overwrite,
        )
    except OutputExistsError as error:
        raise CommandError(f"{error.filename}: {error.strerror}") from None
    except (WeightsError, ValueError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"{error.filename or args.output}: cannot write ({error.strerror or error})") from None
    record = exported.provenance
    network = f"{record['head']} network ({record['precision']}) from {record['source_weights']}"
    say(args, f"{network}; provenance in {exported.sidecar}")
    print_result(exported.path)
    return 0


def calibration_for(args):
    """The int8 calibration images the options name (:func:`colorization.export.calibration.calibration_set`)."""
    from colorization.export.calibration import DEFAULT_LIMIT, calibration_set

    limit = args.calibration_images or DEFAULT_LIMIT
    try:
        calibration = calibration_set(args.calibration, seed=args.seed, limit=limit)
    except (ValueError, OSError) as error:
        raise CommandError(f"--calibration {args.calibration}: {' '.join(str(error).split())}") from None
    say(args, f"calibrating int8 on {len(calibration.relpaths)} training image(s) of {calibration.source}")
    return calibration
