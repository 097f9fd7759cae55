"""Training the paper's network: a configuration in, a trained ``.keras`` model out.

    from colorization.training import load_config, train
    result = train(load_config("configs/tiny.yaml", ["epochs=3"]))
    result.model_path   # runs/tiny/model.keras

The command line is ``colorization train --config FILE [--set key=value ...] [--resume]``.
Read the modules in this order, the order one run goes through them:

``config``          the :class:`TrainConfig` dataclass: its fields, types and rules
``config_file``     :func:`load_config`: a strict YAML file and ``key=value`` overrides
``data``            the uint8 train / validation arrays a configuration names
                    (:func:`load_train_data`); their batches come from one planner,
                    :mod:`colorization.data.batches` (``plan_epoch``, ``gather``)
``step``            the network, loss and optimizer; the compiled step's pieces
``trainer``         :func:`train`: config -> checks -> data -> network -> loop -> model and record
``preflight``       what is checked before the run folder is written (folder, resume files, data)
``fit_loop``        the Keras ``fit`` loop (any backend)
``jax_loop``        the lean JAX loop (``lax.scan`` over jitted steps)
``pipelined``       its epoch ends, in the background while the next epoch trains
``epoch_end``       what both loops do when an epoch ends: refuse a diverged one
                    (:class:`TrainingDiverged`), commit it (the ``Bookkeeper``)
``early_stopping``  the improved / wait / stop rule on ``val_loss``
``checkpoint``      the run folder: atomic checkpoints, strict resume state, history
``record``          ``run.json``, the run record (provenance, throughput, status and reason)

Every problem a user can fix is one :class:`ConfigError` line naming the file; all that
can be known before training starts is checked before the run folder is first written.
"""

from colorization.training.checkpoint import RunFolder, RunState, load_checkpoint
from colorization.training.config import ConfigError, TrainConfig
from colorization.training.config_file import load_config, parse_overrides
from colorization.training.data import TrainData, load_train_data, synthetic_images
from colorization.training.epoch_end import TrainingDiverged
from colorization.training.trainer import TrainResult, train

__all__ = [
    "ConfigError",
    "RunFolder",
    "RunState",
    "TrainConfig",
    "TrainData",
    "TrainResult",
    "TrainingDiverged",
    "load_checkpoint",
    "load_config",
    "load_train_data",
    "parse_overrides",
    "synthetic_images",
    "train",
]
