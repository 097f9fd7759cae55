"""Automatic colorization of grayscale photographs with the paper's CNN in CIE Lab.

The front door, five names::

    import colorization as cz
    model = cz.load_weights()                   # the shipped reference network (sha256-checked)
    result = cz.colorize(model, "photo.jpg")    # the photo's own size and lightness, predicted colour
    cz.save_png("photo-colour.png", result.rgb, result.alpha)

``cz.load_image`` reads any photo the package accepts; ``cz.colorize_batch`` colorizes
several with one network call. The package, by role:

``lab``, ``model``, ``colorize``  the paper's path: CIE Lab, the network, inference
``vividness``    one knob for how colourful the result is (both heads; beyond the paper)
``fast/``        speed twins of ``lab`` (keras.ops in training, lookup tables at full
                 resolution, PNG), each tested against it
``ablation/``    the classification head of Zhang et al. (quantized ab, rebalancing)
``io/``          images in, files out (atomic), the paper's crop, the project's paths
``data/``        sources, downloads, split manifest, report, cache, batches, packs
``training/``    configuration -> data -> step -> loop -> checkpoints and run record
``evaluation/``  methods, scoring, tables, the paper's claims as verdicts
``metrics/``     PSNR, SSIM, ab error, colourfulness, the paper's failure modes
``weights/``     the shipped models and their registry
``reporting/``   figures, the README's results, provenance
``repro/``       the papermill pipeline and the hand-over between notebooks
``app``, ``cli/``  front ends: the Voilà app and the command line

Keras' backend is whatever ``KERAS_BACKEND`` says (TensorFlow by default; JAX on a GPU).
"""

import os as _os

# TensorFlow's C++ notes (INFO and WARNING lines) stay out of notebooks and the app; its errors
# still show. The command line hides all of TensorFlow's lines unless --verbose (colorization.cli.common).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# The front door; none of these imports Keras until a model is loaded.
from colorization.colorize import Colorized, colorize, colorize_batch  # noqa: E402
from colorization.io.images import load_image, save_png  # noqa: E402
from colorization.weights import load_weights  # noqa: E402

__all__ = ["Colorized", "colorize", "colorize_batch", "load_image", "load_weights", "save_png", "__version__"]
