"""Thread limits for the numeric libraries while automl fits or predicts (see models/base.py OPENMP_THREADS)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from automl.models.base import OPENMP_THREADS


@contextlib.contextmanager
def limited() -> Iterator[None]:
    """Cap OpenMP thread pools (scikit-learn's HistGradientBoosting, ...) for the duration of the block.

    Scoped with threadpoolctl, so the caller's own code keeps its settings after automl returns.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
        yield
