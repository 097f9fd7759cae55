"""Training: a configuration in, a trained ``.keras`` model out (the paper's training script).

    from colorization.train import TrainConfig, load_config, train
    result = train(load_config("configs/tiny.yaml", ["epochs=3"]))
    result.model_path   # runs/tiny/model.keras

The command line is ``colorization train --config FILE [--set key=value ...] [--resume]``.
The implementation lives in :mod:`colorization.training` (config, inputs, step,
checkpoint, provenance, loop); this module is its front door.
"""

from colorization.training.checkpoint import RunFolder, RunState, load_checkpoint
from colorization.training.config import ConfigError, TrainConfig, load_config, parse_overrides
from colorization.training.inputs import TrainData, load_data, synthetic_images
from colorization.training.loop import TrainResult, train

__all__ = [
    "ConfigError", "RunFolder", "RunState", "TrainConfig", "TrainData", "TrainResult",
    "load_checkpoint", "load_config", "load_data", "parse_overrides", "synthetic_images", "train",
]
