"""Sub-commands of the ``colorization`` command line (see :mod:`colorization.cli`)."""
