"""The video pipeline's threads: a prefetching producer, an in-order worker, and the clock of their stages.

:func:`prefetched` runs a generator (decoding, and making the network's views) in a thread a
bounded number of items ahead of the caller; :class:`Worker` runs jobs (rendering and encoding)
in a thread, in order, a bounded number waiting. Both carry a thread's exception to the caller's
thread, and stop their thread when the caller stops.

:class:`StageClock` adds up the seconds each stage works and each thread waits, so that a run can
say where its time went (:attr:`colorization.video.pipeline.VideoReport.stages`,
``benchmarks/video_speed.py``). Its names are :data:`STAGES` and :data:`WAITS`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

POLL_SECONDS = 0.1  # how often a thread waiting on a full queue looks whether the run was stopped
STAGES = ("decode", "view", "network", "stabilizer", "render", "encode")  # the work, in the order a frame meets it
WAITS = (
    "decoder waits for room",  # the views are made ahead of the network: it is the slower
    "network waits for frames",  # decoding is the slower
    "network waits for the encoder",  # rendering or encoding is the slower
    "encoder waits for frames",  # nothing to render yet: the network (or decoding) is the slower
    "encoder waits for a render",  # the render of the next frame is not done yet
)


class StageClock:
    """Seconds spent in each stage and each wait, added up over a run, from any thread.

    ``seconds`` maps a name of :data:`STAGES` or :data:`WAITS` to its total (a stage that ran in
    several threads at once counts each thread's time). :meth:`elapsed` gives the run's time so far.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.lock = threading.Lock()
        self.started = (time.perf_counter(), time.process_time())

    def elapsed(self) -> tuple[float, float]:
        """(wall-clock seconds, processor seconds of the whole process) since the clock was made."""
        return time.perf_counter() - self.started[0], time.process_time() - self.started[1]

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to ``name``."""
        with self.lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextlib.contextmanager
    def timing(self, name: str) -> Iterator[None]:
        """Time the block as ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def call(self, name: str, function: Callable, *args):
        """``function(*args)``, timed as ``name``."""
        with self.timing(name):
            return function(*args)

    def timed(self, name: str, items: Iterable) -> Iterator:
        """``items``, the time taken to make each one counted as ``name``; closed when this is."""
        iterator, done = iter(items), object()
        try:
            while True:
                with self.timing(name):
                    item = next(iterator, done)
                if item is done:
                    return
                yield item
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()


@dataclass
class Failed:
    """An exception raised in a thread, carried to the caller's."""

    error: BaseException


def put_unless_stopped(waiting: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item`` into the bounded queue, waiting for room; False if ``stop`` was set first."""
    while not stop.is_set():
        try:
            waiting.put(item, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def prefetched(items: Iterator, depth: int = 1, clock: StageClock | None = None) -> Iterator:
    """``items``, made in a thread at most ``depth`` ahead of the caller; its exceptions are raised here.

    When the caller stops early (an error, or leaving the loop), the thread stops too and
    the ``items`` generator is closed in it. ``clock`` counts the thread's waits for room and
    the caller's waits for an item (:data:`WAITS`).
    """
    clock = StageClock() if clock is None else clock
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop, end = threading.Event(), object()

    def produce() -> None:
        try:
            for item in items:
                with clock.timing(WAITS[0]):
                    if not put_unless_stopped(waiting, item, stop):
                        return
            put_unless_stopped(waiting, end, stop)
        except BaseException as error:  # carried to the caller's thread, raised there
            put_unless_stopped(waiting, Failed(error), stop)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="video-decoder", daemon=True)
    thread.start()
    try:
        while True:
            with clock.timing(WAITS[1]):
                item = waiting.get()
            if item is end:
                return
            if isinstance(item, Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


class Worker:
    """Runs ``function(job())`` in a thread for each ``job`` put, in order, at most ``depth`` waiting.

    A context manager: leaving it normally waits for every job and raises the first
    exception a job raised; leaving it with an exception drops the jobs still waiting.
    :meth:`put` raises a job's exception as soon as it is known. ``clock`` counts the time in
    ``function`` as ``stage``, the wait for ``job()`` and the callers' waits for room (:data:`WAITS`).
    """

    def __init__(self, function: Callable, depth: int = 1, clock: StageClock | None = None, stage: str = "encode"):
        self.function, self.jobs = function, queue.Queue(maxsize=depth)
        self.clock, self.stage = StageClock() if clock is None else clock, stage
        self.stop, self.failure = threading.Event(), None
        self.thread = threading.Thread(target=self.work, name="video-encoder", daemon=True)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self

    def work(self) -> None:
        while (job := self.clock.call(WAITS[3], self.jobs.get)) is not None and not self.stop.is_set():
            try:
                with self.clock.timing(WAITS[4]):
                    item = job()
                with self.clock.timing(self.stage):
                    self.function(item)
            except BaseException as error:  # carried to the caller's thread, raised there
                self.failure = error
                self.stop.set()

    def put(self, job: Callable) -> None:
        self.raise_failure()
        with self.clock.timing(WAITS[2]):
            put_unless_stopped(self.jobs, job, self.stop)
        self.raise_failure()

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:
            self.stop.set()
        while self.thread.is_alive():
            try:
                self.jobs.put(None, timeout=POLL_SECONDS)  # the end; waits for room while the jobs run
                break
            except queue.Full:
                if self.stop.is_set():  # stopped: drop what waits
                    self.drain()
        self.thread.join()
        if kind is None:
            self.raise_failure()

    def drain(self) -> None:
        try:
            while True:
                self.jobs.get_nowait()
        except queue.Empty:
            pass
