"""Thread limits for the numeric libraries while automl fits or predicts (see models/base.py OPENMP_THREADS)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from automl.models.base import OPENMP_THREADS


def controller() -> Any:
    """threadpoolctl's controller of the thread pools (BLAS, OpenMP) of the libraries this process has loaded,
    found again only after a module was imported (threadpoolctl's ``get_cached_controller``).

    Finding them inspects every shared library in the process (about 250 once scikit-learn and pandas are
    imported: 0.024 s each time, measured on 2 cores), and a prediction that runs an ensemble's members side by
    side sets limits once per member.
    """
    from threadpoolctl import get_cached_controller

    return get_cached_controller()


@contextlib.contextmanager
def limited() -> Iterator[None]:
    """Cap OpenMP thread pools (scikit-learn's HistGradientBoosting, ...) for the duration of the block.

    Scoped with threadpoolctl, so the caller's own code keeps its settings after automl returns. Only the OpenMP
    pools are touched, set and restored: restoring BLAS's too would undo a one-thread BLAS limit another thread
    holds at that moment (:func:`automl.models.side_by_side.run`), or put back that limit for good.
    """
    with controller().select(user_api="openmp").limit(limits=OPENMP_THREADS):
        yield
