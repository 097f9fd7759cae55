"""The paper's application, in Jupyter: load an image, colorize it, look, save.

The paper's desktop app (Kivy) lets a user load any image, colorizes it with the
network and shows and saves the result. :class:`ColorizerApp` is the same in
ipywidgets, shown by ``notebooks/app.ipynb`` in JupyterLab or standalone by Voilà::

    from colorization.app import ColorizerApp
    ColorizerApp().widget

A page user chooses among the registered models (:func:`colorization.weights.registry`)
and, only where the person serving the app names one folder (``weights_dir`` or
``$COLORIZATION_APP_WEIGHTS_DIR``), that folder's ``.keras`` files; no path can be typed.
An upload's name is only a label (:func:`upload_label`); its bytes are read from a
temporary file the app names, after the app's own limits (``MAX_UPLOAD_BYTES`` and the
package's ``MAX_PIXELS``). Every error is one plain line (:func:`page_message`), never
a traceback or a server path. The last ``MODELS_KEPT`` models stay loaded.

Beyond the paper, "Colour points" (``hints.py``, ``markers.py``) lets a user guide the colours:
with the hint network or Levin et al. (:func:`colorization.guided.colorize_guided`), a click on
the gray input (reported by ipyevents) puts a point at the clicked pixel of the image in the
colour picker's colour, x and y sliders and "Add point" do the same from the keyboard, the
points are drawn on the gray input and listed (Undo, Clear), and the photo is coloured again
after each change. Without a browser: :meth:`ColorizerApp.add_point`.

All the work is the library's: :func:`colorization.io.images.load_image` reads the file,
:func:`colorization.colorize.colorize` colorizes it, :func:`colorization.colorize.neutral_gray`
makes the gray input, :func:`colorization.metrics.image_metrics` scores a colour
original and :func:`colorization.fast.png.encode_png` encodes the PNG to save. The work
runs in one background thread (``work.py``: the newest request wins, so a result made at
an older vividness never replaces a newer one) so the page stays responsive; a progress
bar and a status line follow it. Without a browser the widgets can be driven directly (set
``app.upload.value``, call ``app.colorize_button.click()``, then :meth:`ColorizerApp.wait`).
"""

from colorization.app.page import ColorizerApp
from colorization.app.parts import (
    MAX_UPLOAD_BYTES,
    MODELS_KEPT,
    PREVIEW_SIDE,
    WEIGHTS_DIR_ENV,
    WeightsChoice,
    cached_model,
    download_link,
    download_name,
    has_colour,
    load_choice,
    load_upload,
    metrics_table,
    model_summary,
    page_message,
    preview,
    result_png,
    sample_options,
    served_weights_dir,
    upload_label,
    weights_choices,
)

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MODELS_KEPT",
    "PREVIEW_SIDE",
    "WEIGHTS_DIR_ENV",
    "ColorizerApp",
    "WeightsChoice",
    "cached_model",
    "download_link",
    "download_name",
    "has_colour",
    "load_choice",
    "load_upload",
    "metrics_table",
    "model_summary",
    "page_message",
    "preview",
    "result_png",
    "sample_options",
    "served_weights_dir",
    "upload_label",
    "weights_choices",
]
