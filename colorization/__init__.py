"""Automatic colorization of grayscale photographs with the paper's CNN in CIE Lab.

The data path, one module each: ``data`` -> ``lab`` -> ``model`` -> ``train`` ->
``colorize`` -> ``metrics``; ``images`` and ``preprocess`` read and shape images,
``cli`` is the command line. Keras' backend is whatever ``KERAS_BACKEND`` says
(TensorFlow by default; JAX on the GPU machine).
"""

import os as _os

# TensorFlow's C++ start-up chatter would break the CLI's one-line error messages.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
