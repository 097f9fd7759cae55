"""Speed twins of :mod:`colorization.lab`, each held by tests to the scikit-image original.

=============  ===================================================================
``lab_ops``    Lab with ``keras.ops``, inside the compiled training step; and the
               one batch preparation (flip + scale) both training loops use
``lab_lut``    Lab with lookup tables on bands of rows over all cores: the lightness
               of a full-resolution photo, and Lab -> 8-bit sRGB with L-preserving
               gamut mapping
``recombine``  the colorization at full resolution (what
               :func:`colorization.colorize.render` calls): the photo's L joined with
               the upsampled ab, whole or band by band
``png``        a parallel ISA-L PNG encoder that takes an image band by band, so a
               result is rendered, deflated and written a few bands at a time
``bands``      the bands of rows and the bounded, ordered thread pool they run on
=============  ===================================================================
"""
