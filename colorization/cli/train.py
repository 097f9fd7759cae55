"""``colorization train --config FILE [--set key=value ...] [--resume]``: train the network.

The run folder (``output_dir``) receives an atomic checkpoint every epoch,
``history.csv``, ``best.keras``, ``model.keras`` and the provenance ``run.json``;
``--resume`` continues a killed run from its last checkpoint. Progress is Keras'
(``verbose: 2``: one line per epoch). The Keras backend is ``KERAS_BACKEND``'s
(TensorFlow by default; ``jax`` for ``loop: jax_scan`` on a GPU). A bad configuration,
run folder or checkpoint, or a run whose loss stops being finite, ends with one line
on stderr and exit status 2.
"""

from __future__ import annotations

import dataclasses


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the network from a configuration file",
        description="Train the paper's network. Fields and defaults: colorization/training/config.py.",
    )
    parser.add_argument("--config", metavar="FILE", help="YAML configuration (default: built-in defaults)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one configuration field (repeatable), e.g. --set epochs=5",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in output_dir from its last checkpoint")
    parser.add_argument("--print-config", action="store_true", help="print the resolved configuration and exit")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Train; a problem the user can fix, a run that diverged or a file that cannot be written
    is one line (:class:`CommandError`: exit status 2)."""
    from colorization.cli.common import CommandError
    from colorization.training.config import ConfigError
    from colorization.training.config_file import load_config
    from colorization.training.epoch_end import TrainingDiverged

    try:
        config = load_config(args.config, args.overrides)
        if args.quiet:
            config = dataclasses.replace(config, verbose=0)
        if args.print_config:
            print(config.to_yaml(), end="")
            return 0
        from colorization.training.trainer import train

        train(config, resume=args.resume)
    except (ConfigError, TrainingDiverged) as error:
        raise CommandError(str(error)) from None
    except OSError as error:  # a write that failed during the run (a full disk ...)
        raise CommandError(f"{error.filename or 'training'}: {error.strerror or error}") from None
    return 0
