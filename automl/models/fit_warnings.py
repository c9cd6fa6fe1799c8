"""Warnings a model library emits while automl fits or scores a model go to the log, not to the user's screen.

A search fits hundreds of models; scikit-learn's ``ConvergenceWarning`` of a lasso trial with a tiny penalty, or
a library's deprecation notice, printed in the middle of the progress lines says nothing the trial's CV score
does not already say. Each distinct warning is kept in ``automl.log`` (DEBUG) with the model it came from.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def logged(log: logging.Logger, what: str) -> Iterator[None]:
    """Record the warnings raised inside the block and log each distinct one at DEBUG as ``what: Category:
    message``; the block's exceptions pass through. The warning filters in force are kept (what they ignore
    stays ignored).

    In the main thread only: :class:`warnings.catch_warnings` swaps process-wide state, and two threads
    entering and leaving it out of turn would leave every later warning recorded into a list nobody reads (a
    user fitting in several threads sees the libraries' warnings as before)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        try:
            yield
        finally:
            seen = set()
            for w in caught:
                key = (w.category.__name__, str(w.message))
                if key not in seen:
                    seen.add(key)
                    log.debug("%s: %s: %s", what, *key)
