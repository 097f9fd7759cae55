"""The training step's pieces, shared by both loops: uint8 batch -> (L, ab), the network,
the loss, the optimizer; the Keras ``fit`` wrapper and the lean JAX step built on them.

Everything that touches pixels runs inside the compiled step, on the accelerator:
uint8 RGB is cast, flipped (per-image flags), converted to CIE Lab
(:func:`colorization.fast.lab_ops.lab_batch`) and scaled (L to [-1, 1], ab / 128), so the
host only gathers uint8 batches (:mod:`colorization.data.batches`), or nothing at all
when the set lives on the device. The paper fixes the network, its input and the loss
(``docs/paper.md``); the optimizer is our choice.
"""

from __future__ import annotations

import keras
from keras import ops

from colorization.ablation.loss import RebalancedCrossEntropy
from colorization.fast.lab_ops import lab_batch
from colorization.model import build_paper_model
from colorization.training.config import TrainConfig
from colorization.training.hints import with_hints


def build_network(config: TrainConfig) -> keras.Model:
    """The paper's network with the configuration's size, upsampling, precision and head."""
    policy = None if config.precision == "float32" else config.precision
    return build_paper_model(
        config.input_size, upsampling=config.upsampling, dtype_policy=policy, head=config.head, hints=config.hints
    )


def network_input(lightness, ab, plan=None):
    """What the network is fed: scaled L, or (``plan`` of simulated points, the hint network)
    scaled L with the hint channels painted from the true ``ab`` (:mod:`colorization.training.hints`)."""
    return lightness if plan is None else with_hints(lightness, ab, plan)


def make_loss(config: TrainConfig, class_weights=None) -> keras.losses.Loss:
    """*paper*: mean squared error between predicted and true ab / 128 (computed in float32).

    With ``head: classification``: :class:`RebalancedCrossEntropy` with ``class_weights``
    (the trainer computes them from the training images; None: all 1, no rebalancing).
    """
    if config.head == "classification":
        return RebalancedCrossEntropy(class_weights)
    return keras.losses.MeanSquaredError(name="mse")


def per_image_loss(ab, pred, loss: keras.losses.Loss | None = None):
    """Loss of each image of a batch (B,), the same function as :func:`make_loss`'s
    (``loss``: the classification loss; None or MSE: mean squared error)."""
    if loss is not None and not isinstance(loss, keras.losses.MeanSquaredError):
        return ops.mean(loss.call(ab, ops.cast(pred, "float32")), axis=(1, 2))
    return ops.mean(keras.losses.mean_squared_error(ab, ops.cast(pred, "float32")), axis=(1, 2))


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """*ours* (the paper names none): Adam by default; AdamW and SGD with momentum 0.9."""
    if config.optimizer == "adam":
        return keras.optimizers.Adam(config.learning_rate)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(config.learning_rate)
    return keras.optimizers.SGD(config.learning_rate, momentum=0.9)


class FitModel(keras.Model):
    """Wraps the network for ``fit``: takes ``{"rgb": uint8, "flip": bool}`` batches (and
    ``"hints"``, the points' plan, for the hint network), does the Lab conversion, flips and
    hint channels inside the step, and returns prediction and target side by
    side (B, H, W, 4) (or (B, H, W, Q + 2) with the classification head) so that the
    compiled loss compares them. Never saved: the network inside it (with its
    optimizer) is what checkpoints hold.
    """

    def __init__(self, network: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.network = network

    def call(self, inputs, training=False):
        lightness, ab = lab_batch(inputs["rgb"], inputs["flip"])
        features = network_input(lightness, ab, inputs.get("hints"))
        pred = ops.cast(self.network(features, training=training), "float32")
        return ops.concatenate([pred, ab], axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # the last two channels are the target ab; the others the prediction (ab or bins)
        return super().compute_loss(
            x=x, y=y_pred[..., -2:], y_pred=y_pred[..., :-2], sample_weight=sample_weight, training=training
        )


def jax_step_functions(
    network: keras.Model, optimizer, loss: keras.losses.Loss, placement: str, mesh=None, unroll: int = 1
):
    """Jitted JAX functions for the lean loop (backend must be JAX).

    Returns ``(train_chunk, eval_chunk)``:

    ``train_chunk(state, images, xs, flips, plans=None) -> (state, losses)`` runs ``len(xs)`` steps in
    one ``lax.scan``; ``state = (trainable, non_trainable, optimizer_variables)`` (lists of
    arrays, donated). With ``placement == "device"`` ``images`` is the whole uint8 set on
    the device and ``xs`` (K, B) indices; with ``"host"`` ``images`` is None and ``xs``
    the uint8 batches (K, B, H, W, 3). ``flips``: bool (K, B). ``plans``: the hint network's
    simulated points (K, B, P, 3) (:mod:`colorization.training.hints`), None for the others.

    ``eval_chunk(trainable, non_trainable, images, xs, weights, plans=None) -> sum of weighted
    per-image losses`` over (M, B) batches (weight 0 for padding).

    ``mesh``: a ``jax.sharding.Mesh`` with a ``"batch"`` axis for data parallelism:
    batches are split over it, the state is replicated, XLA adds the gradient all-reduce.

    ``unroll``: ``lax.scan``'s unroll factor (XLA:CPU runs convolutions inside loops
    slowly, so the CPU unrolls; GPUs keep the loop).
    """
    import jax

    fetch = _batch_fetcher(placement, mesh)
    train_chunk = _train_chunk(network, optimizer, loss, fetch, unroll)
    eval_chunk = _eval_chunk(network, loss, fetch, unroll)
    return jax.jit(train_chunk, donate_argnums=0), jax.jit(eval_chunk)


def _batch_fetcher(placement: str, mesh):
    """``fetch(images, x) -> uint8 batch``: ``images[x]`` on the device (``device``) or ``x``
    itself (``host``), split over the mesh's ``"batch"`` axis when there is one."""
    import jax
    import jax.numpy as jnp

    batch_axis = None
    if mesh is not None:
        from jax.sharding import NamedSharding, PartitionSpec

        batch_axis = NamedSharding(mesh, PartitionSpec("batch"))

    def fetch(images, x):
        rgb = jnp.take(images, x, axis=0) if placement == "device" else x
        return rgb if batch_axis is None else jax.lax.with_sharding_constraint(rgb, batch_axis)

    return fetch


def _train_chunk(network: keras.Model, optimizer, loss: keras.losses.Loss, fetch, unroll: int):
    """The (unjitted) ``train_chunk`` of :func:`jax_step_functions`."""
    import jax

    def forward_loss(trainable, non_trainable, rgb, flip, plan):
        lightness, ab = lab_batch(rgb, flip)
        features = network_input(lightness, ab, plan)
        pred, non_trainable = network.stateless_call(trainable, non_trainable, features, training=True)
        return loss(ab, ops.cast(pred, "float32")), non_trainable

    grad_fn = jax.value_and_grad(forward_loss, has_aux=True)

    def train_chunk(state, images, xs, flips, plans=None):
        def body(state, item):
            trainable, non_trainable, opt_vars = state
            x, flip, plan = item
            (value, non_trainable), grads = grad_fn(trainable, non_trainable, fetch(images, x), flip, plan)
            trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
            return (trainable, non_trainable, opt_vars), value

        return jax.lax.scan(body, state, (xs, flips, plans), unroll=unroll)

    return train_chunk


def _eval_chunk(network: keras.Model, loss: keras.losses.Loss, fetch, unroll: int):
    """The (unjitted) ``eval_chunk`` of :func:`jax_step_functions`."""
    import jax
    import jax.numpy as jnp

    def eval_chunk(trainable, non_trainable, images, xs, weights, plans=None):
        def body(total, item):
            x, w, plan = item
            lightness, ab = lab_batch(fetch(images, x))
            features = network_input(lightness, ab, plan)
            pred, _ = network.stateless_call(trainable, non_trainable, features, training=False)
            return total + jnp.sum(per_image_loss(ab, pred, loss) * w), None

        total, _ = jax.lax.scan(body, jnp.zeros((), "float32"), (xs, weights, plans), unroll=unroll)
        return total

    return eval_chunk
