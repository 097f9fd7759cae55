"""One lock for Keras across threads: :data:`KERAS_LOCK`.

Keras builds, loads and first runs a model through process-wide state (layer names, variable creation
on the backend, the predict function it makes on the first call) that is not safe from two threads at
once: two of the app's worker threads loading models together crashed the interpreter under TensorFlow
(a segmentation fault in variable creation). Every model this package loads
(:func:`colorization.model.load_model`, :func:`colorization.weights.load_weights`), builds outside the
main thread (:func:`colorization.decoding.bins_before_upsampling`) or runs
(:func:`colorization.decoding.raw_predictions`) holds it. It imports nothing, so that the exported
runtimes stay free of Keras and TensorFlow.
"""

from __future__ import annotations

import threading

KERAS_LOCK = threading.RLock()
