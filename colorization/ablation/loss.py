"""The classification head's loss: Zhang et al.'s class-rebalanced cross-entropy.

Registered with Keras (package ``colorization``) so that training checkpoints of the
classification ablation load in safe mode.
"""

from __future__ import annotations

import keras
from keras import ops

from colorization.ablation.quantize import EPSILON, NUM_BINS, bin_centers, soft_encode_ops
from colorization.lab import AB_SCALE


@keras.saving.register_keras_serializable(package="colorization")
class RebalancedCrossEntropy(keras.losses.Loss):
    """Zhang et al.'s loss for the classification head: multinomial cross-entropy
    against soft-encoded ab, each pixel weighted by the rebalancing weight of its
    nearest bin (:mod:`colorization.ablation.quantize`).

    ``y_true``: ab / 128 (B, H, W, 2) (the training step's target); ``y_pred``: bin
    probabilities (B, H, W, Q). The loss is computed at the head's own resolution,
    before the network's last x2 upsampling (as Zhang et al. compute theirs at their
    output's resolution): the prediction is taken every other pixel (exactly the head's
    output for nearest upsampling) and ab is averaged over 2x2 blocks. Returns the
    per-pixel loss (B, H/2, W/2); the reduction averages it.
    """

    def __init__(self, weights=None, neighbours: int = 5, sigma: float = 5.0, name: str = "rebalanced_ce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.class_weights = [1.0] * NUM_BINS if weights is None else [float(w) for w in weights]
        if len(self.class_weights) != NUM_BINS:
            raise ValueError(f"expected {NUM_BINS} rebalancing weights, got {len(self.class_weights)}")
        self.neighbours, self.sigma = int(neighbours), float(sigma)

    def call(self, y_true, y_pred):
        probs = ops.cast(y_pred, "float32")[:, ::2, ::2, :]
        ab = ops.average_pool(ops.cast(y_true, "float32") * AB_SCALE, 2, strides=2, padding="valid")
        index, weight = soft_encode_ops(ab, ops.convert_to_tensor(bin_centers()), self.neighbours, self.sigma)
        log_p = ops.take_along_axis(ops.log(ops.maximum(probs, EPSILON)), index, axis=-1)
        rebalance = ops.take(ops.convert_to_tensor(self.class_weights, "float32"), index[..., 0])
        return -rebalance * ops.sum(weight * log_p, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "weights": self.class_weights,
            "neighbours": self.neighbours,
            "sigma": self.sigma,
        }
