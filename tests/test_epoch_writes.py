"""The book's queue of epoch writes (colorization.training.epoch_end.Bookkeeper with a writer):
an epoch's end never waits for the previous epoch's files unless QUEUED epochs are already
queued; writes happen in epoch order, each after its own weights are loaded; a failed write
is re-raised; and the device-side count of non-finite weights names what the host-side one does."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from colorization.training.checkpoint import RunFolder, RunState
from colorization.training.config import TrainConfig
from colorization.training.epoch_end import Bookkeeper
from tests.conftest import TINY_TRAINING


class HeldBook(Bookkeeper):
    """Writes nothing; each write waits for ``release`` and logs what it saw."""

    def __init__(self, folder, config, writer):
        super().__init__(RunFolder(folder), config, RunState(), writer=writer)
        self.release, self.log = threading.Event(), []

    def _write(self, network, checkpoint, improved, snapshot) -> None:
        assert self.release.wait(30)
        self.log.append(("write", snapshot.epoch, network["weights"]))
        if snapshot.epoch == 99:
            raise OSError("disk full")


def _loader(network, book, epoch):
    def load():
        book.log.append(("load", epoch))
        network["weights"] = epoch

    return load


def _end(book, network, epoch):
    return book.end_epoch(epoch, {"loss": 0.1, "val_loss": 1.0 / epoch}, network, _loader(network, book, epoch))


def test_epoch_ends_queue_up_to_three_writes_then_wait(tmp_path):
    config, network = TrainConfig(**TINY_TRAINING, output_dir=str(tmp_path)), {"weights": None}
    with ThreadPoolExecutor(1) as writer:
        book = HeldBook(tmp_path, config, writer)
        for epoch in range(1, Bookkeeper.QUEUED + 1):
            _end(book, network, epoch)  # returns although no write has finished
        fourth = threading.Thread(target=_end, args=(book, network, Bookkeeper.QUEUED + 1))
        fourth.start()
        fourth.join(0.5)
        assert fourth.is_alive()  # a fourth epoch waits for room in the queue
        book.release.set()
        fourth.join(30)
        assert not fourth.is_alive()
        book.wait()
    epochs = range(1, Bookkeeper.QUEUED + 2)
    assert book.log == [entry for e in epochs for entry in (("load", e), ("write", e, e))]


def test_a_failed_write_is_raised_by_the_next_wait(tmp_path):
    config, network = TrainConfig(**TINY_TRAINING, output_dir=str(tmp_path)), {"weights": None}
    with ThreadPoolExecutor(1) as writer:
        book = HeldBook(tmp_path, config, writer)
        book.release.set()
        _end(book, network, 99)
        with pytest.raises(OSError, match="disk full"):
            book.wait()


def test_device_count_of_non_finite_weights_matches_the_host_count():
    pytest.importorskip("jax")
    from colorization.training.pipelined import non_finite_counter, non_finite_weights
    from colorization.training.step import build_network
    from colorization.weights import count_non_finite

    config = TrainConfig(**TINY_TRAINING)
    network = build_network(config)
    kernel, bias = network.get_layer("conv3").get_weights()
    kernel[0, 0, :2, 0] = [np.nan, -np.inf]
    network.get_layer("conv3").set_weights([kernel, bias])
    groups = (network.trainable_variables, network.non_trainable_variables)
    state = tuple([np.asarray(v.value) for v in group] for group in groups)  # the loop's state, less the optimizer's
    assert non_finite_weights(network, non_finite_counter()(state)) == count_non_finite(network) == (2, "conv3/kernel")


def test_prepare_builds_the_float32_network_before_the_first_write(tmp_path, monkeypatch):
    """The first epoch's write pays no build: prepare did it in the writer thread, and best.keras
    still holds the epoch's weights (set into that network), not the ones prepare saw."""
    import colorization.model as model
    from colorization.training.checkpoint import read_keras
    from colorization.training.step import build_network

    config = TrainConfig(**TINY_TRAINING, output_dir=str(tmp_path))
    network = build_network(config)
    builds, rebuild = [], model.rebuild

    def counted(*args, **kwargs):
        builds.append(threading.current_thread().name)
        return rebuild(*args, **kwargs)

    monkeypatch.setattr(model, "rebuild", counted)
    with ThreadPoolExecutor(1, thread_name_prefix="writer") as writer:
        book = Bookkeeper(RunFolder(tmp_path), config, RunState(), writer=writer)
        book.prepare(network)
        book.wait()
        assert len(builds) == 1 and builds[0].startswith("writer")
        kernel, bias = network.get_layer("conv3").get_weights()
        network.get_layer("conv3").set_weights([kernel + 1.0, bias])
        book.end_epoch(1, {"loss": 0.1, "val_loss": 0.5}, network)
        book.wait()
    assert len(builds) == 1  # the write reused the prepared network
    saved = read_keras(tmp_path / "best.keras", compile=False).get_layer("conv3").get_weights()[0]
    np.testing.assert_allclose(saved, (kernel + 1.0).astype(saved.dtype), rtol=1e-2, atol=1e-2)
