"""The processes of one run as the trainer sees them (:class:`Team`): one, or a multi-host cluster's.

In a multi-host run (:mod:`colorization.training.distributed`) process 0 *leads*: it alone
checks and writes the run folder (checkpoints, ``state.json``, ``run.json``, the model) and
prints; the others *follow*, writing nothing anywhere and printing nothing, so the run folder
has one writer and may sit on process 0's node alone. What only the leader can know (where the
run stands, a resumed checkpoint's weights) it sends to the others:

- :meth:`Team.decided_by_leader` runs a step on process 0 and gives every process its
  outcome: its result, or its :class:`ConfigError` (so that every process stops with the
  same line instead of waiting for a partner that left);
- :meth:`Team.everyone` runs a step on every process and stops all of them when it failed
  on any (naming the process), e.g. a data folder missing on one node;
- :meth:`Team.same_everywhere` compares a fingerprint across processes (the data);
- :meth:`Team.same_weights` copies process 0's network and optimizer state to the others.

Each is a collective: every process calls it at the same point. With one process each is
the plain call, so a single-host run takes the same code path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os

import numpy as np

from colorization.training.config import ConfigError
from colorization.training.distributed import Cluster
from colorization.training.epoch_end import Bookkeeper

FINGERPRINT_IMAGES = 16  # images per set hashed into the data fingerprint (evenly spaced)


class Team:
    """The run's processes; ``Team()`` is a single process (the leader)."""

    def __init__(self, cluster: Cluster | None = None):
        self.cluster = cluster

    @property
    def leads(self) -> bool:
        """True on process 0 (or the only process): the one that writes and prints."""
        return self.cluster is None or self.cluster.process_id == 0

    def quiet(self):
        """A context in which a follower's prints go nowhere (the leader's are the run's log)."""
        if self.leads:
            return contextlib.nullcontext()
        return _silenced()

    def decided_by_leader(self, work, share=lambda result: None, adopt=lambda shared: None):
        """``work()`` on the leader; a follower gets ``adopt(share(result))`` instead.

        ``share`` turns the leader's result into JSON values, ``adopt`` turns them into the
        follower's result. When the leader's step fails, every process stops: the leader with
        its own error, the others with its line (:func:`stopped_line`) as a :class:`ConfigError`.
        """
        if self.cluster is None:
            return work()
        outcome, result, failure = {"error": None, "shared": None}, None, None
        if self.leads:
            try:
                result = work()
                outcome["shared"] = share(result)
            except Exception as error:
                failure, outcome["error"] = error, stopped_line(error)
        decided = json.loads(gather_texts(json.dumps(outcome))[0])
        if failure is not None:
            raise failure
        if decided["error"] is not None:
            raise ConfigError(decided["error"])
        return result if self.leads else adopt(decided["shared"])

    def everyone(self, work):
        """``work()`` on every process; when it fails on any, every process stops (the one that
        failed with its own error, the others with a :class:`ConfigError` naming it)."""
        if self.cluster is None:
            return work()
        result, failure, message = None, None, ""
        try:
            result = work()
        except Exception as error:
            failure, message = error, stopped_line(error)
        if failure is not None and not isinstance(failure, ConfigError):
            gather_texts(message)
            raise failure
        for process, text in enumerate(gather_texts(message)):
            if text:
                where = (
                    "" if process == self.cluster.process_id else f"process {process} of {self.cluster.num_processes}: "
                )
                raise ConfigError(where + text)
        return result

    def same_everywhere(self, what: str, value) -> None:
        """Raise :class:`ConfigError` on every process unless ``value()`` (a string: a fingerprint
        of ``what``) is the same on all (not computed with one process)."""
        if self.cluster is None:
            return
        values = gather_texts(value())
        for process, other in enumerate(values):
            if other != values[0]:
                raise ConfigError(
                    f"multi-host training: process {process} of {len(values)} has other {what} than process 0 "
                    f"({other} against {values[0]}); every process must read the same data (docs/multihost.md)"
                )

    def same_weights(self, network) -> None:
        """Give every process process 0's network variables and optimizer state (a resumed
        checkpoint or ``init_weights`` is read by the leader alone)."""
        if self.cluster is None:
            return
        from jax.experimental import multihost_utils

        from colorization.training.jax_loop import model_variables

        variables = [v for group in model_variables(network) for v in group]
        self.same_everywhere("a network", lambda: json.dumps([[list(v.shape), str(v.dtype)] for v in variables]))
        arrays = multihost_utils.broadcast_one_to_all([np.asarray(v.value) for v in variables])
        for variable, array in zip(variables, arrays, strict=True):
            variable.assign(np.asarray(array).astype(variable.dtype))

    def bookkeeper(self, folder, config, state, writer=None) -> Bookkeeper:
        """The leader's :class:`Bookkeeper`; a follower's keeps the same state and writes nothing."""
        return Bookkeeper(folder, config, state, writer) if self.leads else FollowerBook(folder, config, state)


def stopped_line(error: Exception) -> str:
    """What the others say when this process failed: a :class:`ConfigError`'s line, else its type and first line."""
    if isinstance(error, ConfigError):
        return str(error) or "ConfigError"
    text = str(error).strip().splitlines()
    return f"multi-host training: a process stopped ({type(error).__name__}: {text[0][:300] if text else ''})"


@contextlib.contextmanager
def _silenced():
    with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
        yield


def gather_texts(text: str) -> list[str]:
    """Every process's ``text``, in process order (a collective)."""
    from jax.experimental import multihost_utils

    data = np.frombuffer(text.encode("utf-8"), np.uint8)
    lengths = np.asarray(multihost_utils.process_allgather(np.array([len(data)], np.int32))).reshape(-1)
    padded = np.zeros(max(int(lengths.max()), 1), np.uint8)
    padded[: len(data)] = data
    rows = np.asarray(multihost_utils.process_allgather(padded)).reshape(len(lengths), -1)
    return [bytes(row[:n]).decode("utf-8") for row, n in zip(rows, lengths, strict=True)]


def data_fingerprint(data) -> str:
    """A short hash of both sets' shapes and of :data:`FINGERPRINT_IMAGES` evenly spaced images of
    each (every process must train on the same images; hashing all of them would read them all)."""
    digest = hashlib.sha256()
    for array in (data.train, data.val):
        digest.update(f"{array.shape} {array.dtype}".encode())
        for i in np.linspace(0, len(array) - 1, min(len(array), FINGERPRINT_IMAGES)).astype(int):
            digest.update(np.ascontiguousarray(array[i]).tobytes())
    return digest.hexdigest()[:16]


class FollowerBook(Bookkeeper):
    """A follower's bookkeeper: the same epoch state and early-stopping rule as the leader's
    (so that every process stops at the same epoch), no files."""

    def __init__(self, folder, config, state):
        super().__init__(folder, config, state, writer=None)

    def _write(self, network, checkpoint, improved, snapshot) -> None:
        """The leader writes the epoch's files."""

    def finish(self, network):
        """The leader writes ``model.keras``; its path."""
        return self.folder.model_path


class SilentRecord:
    """A follower's run record: takes what the loops report, writes nothing (the leader keeps ``run.json``)."""

    @property
    def content(self) -> dict:
        return {}

    def add(self, key: str, value) -> None:
        pass

    def epoch(self, epoch: int, images: int, seconds: float, wall: float | None = None) -> None:
        pass

    def write(self) -> None:
        pass

    def finish(self, status: str, state, model_path, reason: str | None = None) -> None:
        pass
