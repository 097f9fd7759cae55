"""Colorizing videos: decoding and encoding with the FFmpeg inside PyAV's wheel, frame by frame
through the paper's network, with the colours kept steady from frame to frame.

:mod:`~colorization.video.container` reads and writes the files (streaming, atomic output),
:mod:`~colorization.video.pipeline` joins them with the network (:func:`colorize_video`),
:mod:`~colorization.video.temporal` keeps the colours steady,
:mod:`~colorization.video.runtime` chooses the network when none is named (the int8 export on a CPU), and
:mod:`~colorization.video.synthetic` makes test clips from the package's photographs.
Needs the ``video`` extra (``pip install 'lab-cnn-colorization[video]'``).
"""
