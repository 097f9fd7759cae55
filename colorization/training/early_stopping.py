"""Early stopping on the validation loss: the improved / wait / stop rule.

An epoch *improves* when its ``val_loss`` is finite and lower than the best one so far
by more than ``min_delta``; otherwise the wait grows by one. Training stops once the
wait reaches ``early_stopping_patience`` (None: never). The counters live in the run's
:class:`~colorization.training.checkpoint.RunState`, so a resumed run keeps counting.
"""

from __future__ import annotations

import math


def is_improvement(val_loss: float, best_val_loss: float | None, min_delta: float) -> bool:
    """Whether ``val_loss`` beats ``best_val_loss`` (None: nothing yet) by more than ``min_delta``."""
    return math.isfinite(val_loss) and (best_val_loss is None or val_loss < best_val_loss - min_delta)


def observe_epoch(state, epoch: int, val_loss: float, config) -> tuple[bool, bool]:
    """Apply the rule to the epoch just completed and update ``state``.

    Parameters
    ----------
    state : RunState
        Its ``best_val_loss``, ``best_epoch``, ``wait`` and ``stopped_early`` are updated.
    epoch : int
        1-based number of the epoch just completed.
    val_loss : float
        Its validation loss (NaN when unknown: never an improvement).
    config : TrainConfig
        ``min_delta``, ``early_stopping_patience`` and ``epochs``.

    Returns
    -------
    (improved, stop) : (bool, bool)
        ``improved``: the epoch is the new best; ``stop``: the patience has run out.
        ``state.stopped_early`` is set only when that happens before the last epoch.
    """
    improved = is_improvement(val_loss, state.best_val_loss, config.min_delta)
    if improved:
        state.best_val_loss, state.best_epoch, state.wait = val_loss, epoch, 0
    else:
        state.wait += 1
    patience = config.early_stopping_patience
    stop = patience is not None and state.wait >= patience
    state.stopped_early = stop and epoch < config.epochs
    return improved, stop
