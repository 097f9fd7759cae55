"""Output that native libraries write to file descriptor 2, captured for a block.

TensorFlow's C++ logging and the LiteRT interpreter ("Created TensorFlow Lite XNNPACK delegate
for CPU.") write to the process's stderr below Python, so ``contextlib.redirect_stderr`` cannot
hold them: :func:`stderr_captured` points fd 2 at a temporary file for the block.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def stderr_captured():
    """File descriptor 2 and ``sys.stderr`` into a temporary file for the block, then put back.

    What was captured is dropped, unless the block raised: then it is written to stderr
    first, since it may say why. Where fd 2 cannot be duplicated (closed), nothing changes.
    """
    _flush(sys.stderr)
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with (
        tempfile.TemporaryFile() as capture,
        open(capture.fileno(), "w", encoding="utf-8", errors="replace", closefd=False) as text,
    ):
        os.dup2(capture.fileno(), 2)
        try:
            with contextlib.redirect_stderr(text):
                yield
        except BaseException:
            _restore(saved, text)
            capture.seek(0)
            os.write(2, capture.read())
            raise
        _restore(saved, text)


def _restore(saved: int, text) -> None:
    """What Python still holds for stderr into the capture, then fd 2 back to ``saved``."""
    _flush(text)
    _flush(sys.stderr)
    os.dup2(saved, 2)
    os.close(saved)


def _flush(stream) -> None:
    with contextlib.suppress(AttributeError, ValueError, OSError):
        stream.flush()
