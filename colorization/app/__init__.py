"""The paper's application, in Jupyter: load an image, colorize it, look, save.

The paper's desktop app (Kivy) lets a user load any image, colorizes it with the
network and shows and saves the result. :class:`ColorizerApp` is the same in
ipywidgets, shown by ``notebooks/app.ipynb`` in JupyterLab or standalone by Voilà::

    from colorization.app import ColorizerApp
    ColorizerApp().widget

All the work is the library's: :func:`colorization.io.images.load_image` reads the file
(a bad one gives the CLI's one-line :class:`~colorization.io.images.ImageError`),
:func:`colorization.colorize.colorize` colorizes it, :func:`colorization.colorize.neutral_gray`
makes the gray input, :func:`colorization.metrics.image_metrics` scores a colour
original and :func:`colorization.fast.png.encode_png` encodes the PNG to save. The work
runs in a thread so the page stays responsive; a progress bar and a status line
follow it. Without a browser the widgets can be driven directly (set
``app.upload.value``, call ``app.colorize_button.click()``, then :meth:`ColorizerApp.wait`).
"""

from colorization.app.page import ColorizerApp
from colorization.app.parts import (
    PREVIEW_SIDE,
    download_link,
    has_colour,
    load_upload,
    metrics_table,
    preview,
    result_png,
    sample_options,
)

__all__ = [
    "PREVIEW_SIDE",
    "ColorizerApp",
    "download_link",
    "has_colour",
    "load_upload",
    "metrics_table",
    "preview",
    "result_png",
    "sample_options",
]
