"""Thread limits for the numeric libraries while automl fits or predicts (see models/base.py OPENMP_THREADS)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from automl.models.base import OPENMP_THREADS

_LOCK = threading.Lock()
_CACHED: tuple[int, Any] | None = None  # (len(sys.modules) when found, the ThreadpoolController)


def controller() -> Any:
    """threadpoolctl's controller of the thread pools (BLAS, OpenMP) of the libraries this process has loaded.

    Finding them inspects every shared library in the process (about 250 once scikit-learn and pandas are
    imported: 0.024 s each time, measured on 2 cores), and a prediction that runs an ensemble's members side by
    side set limits once per member. The controller is therefore kept, and found again when a module was imported
    since (``len(sys.modules)`` changed): libraries with thread pools (LightGBM's, XGBoost's, TensorFlow's
    OpenMP, SciPy's BLAS) are loaded by importing their Python modules.
    """
    global _CACHED
    from threadpoolctl import ThreadpoolController

    with _LOCK:
        n_modules = len(sys.modules)
        if _CACHED is None or _CACHED[0] != n_modules:
            found = ThreadpoolController()
            _CACHED = (len(sys.modules), found)  # again: creating it may import a module
        return _CACHED[1]


@contextlib.contextmanager
def limited() -> Iterator[None]:
    """Cap OpenMP thread pools (scikit-learn's HistGradientBoosting, ...) for the duration of the block.

    Scoped with threadpoolctl, so the caller's own code keeps its settings after automl returns.
    """
    with controller().limit(limits=OPENMP_THREADS, user_api="openmp"):
        yield
