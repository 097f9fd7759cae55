"""``train(config)``: configuration -> data, network, optimizer, loss -> trained ``.keras``.

Two loops share the network, optimizer, loss, data order and run-folder format:

``fit``  Keras ``model.fit`` on a :class:`~colorization.training.step.FitModel` (any
         backend; the default, and what runs on the CPU with TensorFlow).
``jax_scan``  a lean JAX loop: the Keras network's ``stateless_call`` and the Keras
         optimizer's ``stateless_apply`` in one jitted ``lax.scan`` of
         ``steps_per_execution`` steps, buffers donated; the uint8 set uploaded once and
         batches gathered on the device (``data_placement: device``) or uploaded chunk by
         chunk (``host``). Needs ``KERAS_BACKEND=jax``.

``distribution: data_parallel`` spreads each batch over all local devices:
``keras.distribution.DataParallel`` on JAX (its device mesh also drives ``jax_scan``),
``tf.distribute.MirroredStrategy`` on TensorFlow.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorization.training.checkpoint import Bookkeeper, RunFolder, RunState, load_checkpoint
from colorization.training.config import ConfigError, TrainConfig, resume_differences
from colorization.training.data import TrainData, epoch_order, load_data
from colorization.training.record import Provenance


@dataclass
class TrainResult:
    model_path: Path
    folder: Path
    state: RunState
    manifest: dict


def _log(*parts) -> None:
    print(*parts, flush=True)


def train(config: TrainConfig, resume: bool = False, data: TrainData | None = None) -> TrainResult:
    """Train (or, with ``resume``, continue) the run in ``config.output_dir``.

    ``data`` overrides the configuration's data source (uint8 arrays, see
    :class:`~colorization.training.data.TrainData`). Raises :class:`ConfigError` for
    problems the user can fix.
    """
    import keras

    backend = keras.backend.backend()
    if config.loop == "jax_scan" and backend != "jax":
        raise ConfigError(f"loop: jax_scan needs KERAS_BACKEND=jax (the backend is {backend})")
    folder = RunFolder(config.output_dir)
    state = RunState()
    if folder.has_state():
        if not resume:
            raise ConfigError(f"{folder.path} already holds a run; use --resume to continue it or choose another output_dir")
        differences = resume_differences(folder.read_config(), config)
        if differences:
            raise ConfigError("--resume with a different configuration: " + "; ".join(differences))
        state = folder.read_state()
        _log(f"resuming {folder.path} after epoch {state.epoch} ({state.checkpoint})")
    elif resume:
        _log(f"{folder.path}: no checkpoint to resume; starting from scratch")
    data = data if data is not None else load_data(config)
    data.check(config.input_size)
    folder.write_config(config)
    provenance = Provenance(folder.manifest_path, config, data, state.epoch)
    if state.epoch >= config.epochs or state.stopped_early:
        _log(f"{folder.path}: already complete ({state.epoch} epochs)")
        book = Bookkeeper(folder, config, state)
        network = load_checkpoint(folder.path / state.checkpoint) if state.checkpoint else None
        model_path = book.finish(network) if network is not None else folder.model_path
        provenance.finish("completed", state, model_path)
        return TrainResult(model_path, folder.path, state, provenance.record)

    class_weights = _rebalancing(config, data, provenance)
    keras.utils.set_random_seed(config.seed)
    scope, mesh, replicas = _distribution(config, backend)
    if config.batch_size % replicas:
        raise ConfigError(f"batch_size {config.batch_size} must be divisible by the {replicas} devices")
    status = "failed"
    try:
        with scope:
            network = _network(config, folder, state, class_weights)
            if config.loop == "fit":
                book = Bookkeeper(folder, config, state)
                _run_fit(config, network, data, state, book, provenance, class_weights)
            else:
                with ThreadPoolExecutor(1, thread_name_prefix="checkpoint") as writer:
                    book = Bookkeeper(folder, config, state, writer=writer)
                    _run_jax_scan(config, network, data, state, book, provenance, mesh, class_weights)
                    book.wait()
            model_path = book.finish(network)
        status = "completed"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if status != "completed":
            provenance.finish(status, state, None)
    provenance.finish(status, state, model_path)
    stop = " (early stopping)" if state.stopped_early else ""
    _log(f"trained {state.epoch} epochs{stop}; best val_loss {state.best_val_loss} at epoch {state.best_epoch}; "
         f"model: {model_path}")
    return TrainResult(model_path, folder.path, state, provenance.record)


def _distribution(config: TrainConfig, backend: str):
    """(context manager, jax mesh or None, number of replicas)."""
    if config.distribution == "none":
        return contextlib.nullcontext(), None, 1
    if backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        return strategy.scope(), None, strategy.num_replicas_in_sync
    if backend == "jax":
        import jax
        import keras

        distribution = keras.distribution.DataParallel()
        keras.distribution.set_distribution(distribution)
        devices = np.asarray(distribution.device_mesh.devices).reshape(-1)
        devices = [d if not isinstance(d, str) else _jax_device(d) for d in devices]
        mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
        return contextlib.nullcontext(), mesh, len(devices)
    raise ConfigError(f"distribution: data_parallel is not supported on the {backend} backend")


def _jax_device(name: str):
    import jax

    platform, _, index = name.rpartition(":")
    return next(d for d in jax.devices() if d.platform == platform.lower() and d.id == int(index))


def _rebalancing(config: TrainConfig, data: TrainData, provenance: Provenance):
    """Classification head: the class-rebalancing weights from the training images
    (recorded in run.json); None for the paper's regression head."""
    if config.head != "classification":
        return None
    from colorization.ablation.quantize import rebalancing_from_images

    t0 = time.perf_counter()
    summary = rebalancing_from_images(data.train)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    provenance.record["rebalancing"] = summary
    provenance.write()
    _log(f"class rebalancing: {summary['bins']} bins ({summary['bins_seen']} seen in {summary['images']} training "
         f"images), weights {summary['weight_min']:.3f}..{summary['weight_max']:.3f} (gray: "
         f"{summary['weight_of_gray']:.3f}), {summary['seconds']}s")
    return summary["weights"]


def _network(config: TrainConfig, folder: RunFolder, state: RunState, class_weights=None):
    """A fresh compiled network (with its optimizer built), or the checkpoint's."""
    from colorization.training.step import build_network, make_loss, make_optimizer

    if state.checkpoint:
        network = load_checkpoint(folder.path / state.checkpoint)
        if not network.optimizer.built:
            network.optimizer.build(network.trainable_variables)
        return network
    network = build_network(config)
    optimizer = make_optimizer(config)
    network.compile(optimizer=optimizer, loss=make_loss(config, class_weights))
    optimizer.build(network.trainable_variables)
    return network


def _learning_rate(optimizer) -> float:
    from keras import ops

    return float(ops.convert_to_numpy(optimizer.learning_rate))


# --- Keras fit ----------------------------------------------------------------------
def _run_fit(config, network, data, state, book, provenance, class_weights=None) -> None:
    import keras

    from colorization.training.step import FitModel, make_loss

    class Batches(keras.utils.PyDataset):
        """uint8 batches + flip flags (uint8: MirroredStrategy cannot gather bool tensors);
        the epoch's order comes from ``epoch_order``."""

        def __init__(self, images, train: bool):
            super().__init__()
            self.images, self.train, self.epoch = images, train, 0
            self._order = None

        def __len__(self):
            n, b = len(self.images), config.batch_size
            return n // b if self.train else -(-n // b)

        def set_epoch(self, epoch):
            self.epoch, self._order = epoch, None

        def __getitem__(self, i):
            if not self.train:
                rgb = np.asarray(self.images[i * config.batch_size : (i + 1) * config.batch_size])
                return {"rgb": rgb, "flip": np.zeros(len(rgb), np.uint8)}
            if self._order is None:
                self._order = epoch_order(len(self.images), config.batch_size, config.seed, self.epoch, config.flip)
            order, flips = self._order
            index = np.argsort(order[i])  # memory-map friendly reads, flags kept aligned
            return {"rgb": self.images[order[i][index]], "flip": flips[i][index].astype(np.uint8)}

    train_batches, val_batches = Batches(data.train, True), Batches(data.val, False)
    model = FitModel(network)
    steps_per_execution = config.steps_per_execution or 1
    if steps_per_execution > 1 and keras.backend.backend() == "tensorflow" and config.distribution != "none":
        # Keras 3.15 + TF 2.21: multi-step execution under MirroredStrategy fails to run
        # ("You must feed a value for placeholder tensor ... while/cond/Placeholder_1").
        print("warning: steps_per_execution > 1 is not supported with MirroredStrategy; using 1", file=sys.stderr)
        steps_per_execution = 1
    model.compile(
        optimizer=network.optimizer,
        loss=make_loss(config, class_weights),
        steps_per_execution=steps_per_execution,
        jit_compile=config.jit_compile,
    )
    images_per_epoch = len(train_batches) * config.batch_size

    class Epochs(keras.callbacks.Callback):
        mark = None  # the cycle clock: training, validation, the previous epoch's checkpoint

        def on_train_begin(self, logs=None):
            self.mark = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            train_batches.set_epoch(epoch)
            self.start, self.validation = time.perf_counter(), 0.0

        def on_test_begin(self, logs=None):
            # wait for the epoch's last (asynchronously dispatched) step: it updates the counter
            keras.ops.convert_to_numpy(network.optimizer.iterations)
            self.test_start = time.perf_counter()

        def on_test_end(self, logs=None):
            self.validation += time.perf_counter() - self.test_start

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            seconds = now - self.start - self.validation
            wall, self.mark = now - self.mark, now
            logs = dict(logs or {}, seconds=round(seconds, 3), wall_seconds=round(wall, 3),
                        images_per_s=round(images_per_epoch / seconds, 1),
                        learning_rate=_learning_rate(network.optimizer))
            provenance.epoch(epoch + 1, images_per_epoch, seconds, wall)
            if book.end_epoch(epoch + 1, logs, network):
                self.model.stop_training = True
                _log(f"early stopping: no val_loss improvement for {config.early_stopping_patience} epochs")
            provenance.write()

    model.fit(train_batches, validation_data=val_batches, epochs=config.epochs, initial_epoch=state.epoch,
              shuffle=False, verbose=config.verbose, callbacks=[Epochs()])  # Batches shuffles


# --- lean JAX loop ------------------------------------------------------------------
def _run_jax_scan(config, network, data, state, book, provenance, mesh, class_weights=None) -> None:
    import jax

    from colorization.training.step import jax_step_functions, make_loss

    optimizer = network.optimizer
    placement = config.data_placement
    batch, chunk = config.batch_size, config.steps_per_execution or 50
    # XLA:CPU runs convolutions inside a while loop ~10x slower: unroll the chunk there.
    unroll = chunk if jax.default_backend() == "cpu" else 1
    train_chunk, eval_chunk = jax_step_functions(network, optimizer, make_loss(config, class_weights), placement, mesh,
                                                unroll)
    if mesh is not None:
        from jax.sharding import NamedSharding, PartitionSpec

        replicated = NamedSharding(mesh, PartitionSpec())
        by_batch = NamedSharding(mesh, PartitionSpec(None, "batch"))
    else:
        replicated = by_batch = jax.devices()[0]

    def put(value, sharding=replicated):
        return jax.device_put(value, sharding)

    n_train, n_val = len(data.train), len(data.val)
    steps = n_train // batch
    if steps == 0:
        raise ConfigError(f"batch_size {batch} is larger than the training set ({n_train} images)")
    if placement == "device":
        t0 = time.perf_counter()
        train_images, val_images = put(np.asarray(data.train)), put(np.asarray(data.val))
        jax.block_until_ready(val_images)
        _log(f"uploaded {n_train + n_val} images ({(data.train.nbytes + data.val.nbytes) / 2**30:.2f} GiB) "
             f"to the device in {time.perf_counter() - t0:.1f}s")
    else:
        train_images = val_images = None

    # validation: (M, B) indices padded with weight-0 entries to whole chunks of batches
    val_batches = -(-n_val // batch)
    val_chunk = min(chunk, val_batches)
    padded = -(-val_batches // val_chunk) * val_chunk * batch
    val_index = np.zeros(padded, np.int32)
    val_index[:n_val] = np.arange(n_val)
    val_weight = (np.arange(padded) < n_val).astype(np.float32)
    val_index, val_weight = val_index.reshape(-1, batch), val_weight.reshape(-1, batch)

    def gather(images, index):
        """images[index] (K, B, H, W, 3), copied by 8 threads (numpy releases the GIL)."""
        flat = index.reshape(-1)
        out = np.empty((flat.size,) + images.shape[1:], images.dtype)
        parts = [p for p in np.array_split(np.arange(flat.size), 8) if p.size]
        list(gatherers.map(lambda p: np.take(images, flat[p], axis=0, out=out[p[0] : p[-1] + 1]), parts))
        return out.reshape(index.shape + images.shape[1:])

    def inputs(images, index, flips):
        """Device arguments for one chunk: indices (device data) or the uint8 batches."""
        x = index if placement == "device" else gather(images, index)
        return put(x, by_batch), put(flips, by_batch)

    def chunks():
        """(epoch, last chunk of the epoch?, indices, flips) over all remaining epochs."""
        for epoch in range(state.epoch, config.epochs):
            order, flips = epoch_order(n_train, batch, config.seed, epoch, config.flip)
            for c0 in range(0, steps, chunk):
                yield epoch, c0 + chunk >= steps, order[c0 : c0 + chunk], flips[c0 : c0 + chunk]

    values = lambda variables: [np.asarray(v.value) for v in variables]  # copies: the loop donates its buffers
    train_state = put((values(network.trainable_variables), values(network.non_trainable_variables),
                       values(optimizer.variables)))

    mark = time.perf_counter()  # the cycle clock: compile, train, validation, waiting for files
    with ThreadPoolExecutor(1, thread_name_prefix="feeder") as feeder, \
            ThreadPoolExecutor(8, thread_name_prefix="gather") as gatherers:
        plan = chunks()
        upcoming = next(plan)
        pending = feeder.submit(inputs, data.train, *upcoming[2:])
        losses, start = [], time.perf_counter()
        while upcoming is not None:
            epoch, last = upcoming[:2]
            xs, fs = pending.result()
            upcoming = next(plan, None)
            if upcoming is not None:  # prepare the next chunk (maybe the next epoch's) while this one runs
                pending = feeder.submit(inputs, data.train, *upcoming[2:])
            train_state, chunk_losses = train_chunk(train_state, train_images, xs, fs)
            losses.append(chunk_losses)
            if not last:
                continue
            train_loss = float(np.mean(np.concatenate([np.asarray(x) for x in losses])))
            seconds = time.perf_counter() - start

            total = 0.0
            for c0 in range(0, len(val_index), val_chunk):
                xs, ws = inputs(data.val, val_index[c0 : c0 + val_chunk], val_weight[c0 : c0 + val_chunk])
                total += float(eval_chunk(train_state[0], train_state[1], val_images, xs, ws))
            val_loss = total / n_val

            book.wait()  # the previous epoch's files are written: the variables may change
            for variables, arrays in zip((network.trainable_variables, network.non_trainable_variables,
                                          optimizer.variables), train_state):
                for variable, array in zip(variables, arrays):
                    variable.assign(np.asarray(array))
            images = steps * batch
            now = time.perf_counter()
            wall, mark = now - mark, now
            provenance.epoch(epoch + 1, images, seconds, wall)
            if config.verbose:
                _log(f"Epoch {epoch + 1}/{config.epochs} - {seconds:.2f}s - loss: {train_loss:.4f} - "
                     f"val_loss: {val_loss:.4f} - {images / seconds:,.0f} img/s ({images / wall:,.0f} with "
                     f"validation and checkpoints)")
            logs = {"loss": train_loss, "val_loss": val_loss, "seconds": round(seconds, 3),
                    "wall_seconds": round(wall, 3), "images_per_s": round(images / seconds, 1),
                    "learning_rate": _learning_rate(optimizer)}
            if not math.isfinite(train_loss):
                print(f"warning: non-finite training loss at epoch {epoch + 1}", file=sys.stderr)
            stop = book.end_epoch(epoch + 1, logs, network)
            provenance.write()
            if stop:
                _log(f"early stopping: no val_loss improvement for {config.early_stopping_patience} epochs")
                break
            losses, start = [], time.perf_counter()
