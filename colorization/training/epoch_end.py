"""What both loops do when an epoch ends: its throughput into the run record, its files
into the run folder (the :class:`~colorization.training.checkpoint.Bookkeeper`, which
applies the early-stopping rule), a line when training stops early.
"""

from __future__ import annotations


def learning_rate(optimizer) -> float:
    """The optimizer's current learning rate as a Python float."""
    from keras import ops

    return float(ops.convert_to_numpy(optimizer.learning_rate))


def end_epoch(book, record, network, epoch: int, losses: dict, images: int, seconds: float, wall: float) -> bool:
    """Record and commit epoch ``epoch`` (1-based); True when training should stop.

    Parameters
    ----------
    book : Bookkeeper
    record : RunRecord
    network : keras.Model
        Its variables hold the epoch's weights (and its optimizer's state).
    epoch : int
    losses : dict
        ``loss`` and ``val_loss`` (Keras' logs for ``fit``).
    images : int
        Training images of the epoch.
    seconds, wall : float
        Training alone; the whole cycle since the previous epoch ended.
    """
    logs = dict(
        losses,
        seconds=round(seconds, 3),
        wall_seconds=round(wall, 3),
        images_per_s=round(images / seconds, 1),
        learning_rate=learning_rate(network.optimizer),
    )
    record.epoch(epoch, images, seconds, wall)
    stop = book.end_epoch(epoch, logs, network)
    record.write()
    if stop:
        print(f"early stopping: no val_loss improvement for {book.config.early_stopping_patience} epochs", flush=True)
    return stop
