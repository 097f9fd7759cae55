"""Speed twins of :mod:`colorization.lab`, each held by tests to the scikit-image original.

============  ===================================================================
``lab_ops``   Lab with ``keras.ops``, inside the compiled training step; and the
              one batch preparation (flip + scale) both training loops use
``lab_lut``   Lab with lookup tables on row strips over all cores: the lightness of
              a full-resolution photo, and Lab -> 8-bit sRGB with L-preserving gamut
              mapping (what :func:`colorization.colorize.render` calls)
``png``       a parallel ISA-L PNG encoder for full-resolution results
============  ===================================================================
"""
