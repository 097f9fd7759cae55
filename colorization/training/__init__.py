"""Training the paper's network; the public names are re-exported by :mod:`colorization.train`.

Modules, one idea each: ``config`` (the :class:`TrainConfig` dataclass, YAML, overrides),
``inputs`` (the uint8 arrays the trainer eats), ``step`` (uint8 -> Lab inside the step,
network, loss, optimizer, the ``fit`` wrapper and the lean JAX step), ``checkpoint``
(run folder, checkpoints, resume state, history), ``provenance`` (``run.json``),
``loop`` (:func:`train`, both loops, distribution).
"""
