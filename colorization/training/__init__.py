"""Training the paper's network: a configuration in, a trained ``.keras`` model out.

    from colorization.training import load_config, train
    result = train(load_config("configs/tiny.yaml", ["epochs=3"]))
    result.model_path   # runs/tiny/model.keras

The command line is ``colorization train --config FILE [--set key=value ...] [--resume]``.
Read the modules in this order, the order one run goes through them:

``config``      the :class:`TrainConfig` dataclass, YAML, ``key=value`` overrides
``data``        the uint8 train / validation arrays a configuration names
``step``        the network, loss and optimizer; the compiled step's pieces
``trainer``     :func:`train`: config -> data -> network -> loop -> model and record
``fit_loop``    the Keras ``fit`` loop (any backend)
``jax_loop``    the lean JAX loop (``lax.scan`` over jitted steps)
``checkpoint``  the run folder: atomic checkpoints, resume state, history
``record``      ``run.json``, the run's provenance
"""

from colorization.training.checkpoint import RunFolder, RunState, load_checkpoint
from colorization.training.config import ConfigError, TrainConfig, load_config, parse_overrides
from colorization.training.data import TrainData, load_data, synthetic_images
from colorization.training.trainer import TrainResult, train

__all__ = [
    "ConfigError", "RunFolder", "RunState", "TrainConfig", "TrainData", "TrainResult",
    "load_checkpoint", "load_config", "load_data", "parse_overrides", "synthetic_images", "train",
]
