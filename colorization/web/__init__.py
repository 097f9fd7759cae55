"""The zero-install demo: the package's colorization in a static web page, run by ONNX Runtime Web.

``python -m colorization.web.build OUTDIR`` (``make web``: ``build/web/``) writes a folder of static files
that colorizes photos in the browser, nothing installed and nothing sent anywhere: pick a sample or upload
a photo, see gray and colour side by side at the photo's full resolution, move the vividness slider, save a PNG.
Any static host serves it (``python -m http.server``, GitHub Pages); once loaded it needs no network (docs/web.md).

``build``     the command: checks, the temporary folder beside OUTDIR, the rename onto it
``contents``  what the folder holds: the exported network, the page, the samples and ``manifest.json``
``runtime``   ONNX Runtime Web: the pinned npm release, hash-checked and cached, and the two files the page loads
``static/``   the page itself (``index.html``, ``colorize.js``, ``style.css``): ``colorize.js`` is the package's
              full-resolution path (:func:`colorization.colorize.colorize_batch`, mode ``"full"``) in
              JavaScript, step by step, float32 where numpy computes in float32, so the page's colorization
              matches the Python one (``tests/test_web.py`` measures the difference in headless Chromium)
"""
