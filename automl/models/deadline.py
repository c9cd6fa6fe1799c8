"""A time limit that reaches inside one fit.

Cross-validation stops a trial between folds, but one fold of a slow configuration (thousands of boosting
rounds, hundreds of epochs) can by itself overrun the budget. The search therefore sets a deadline around each
fit with :func:`fit_deadline`; the iterative libraries check it after every boosting round or epoch through the
callbacks defined here and abort with :class:`FitTimeout`. The check is a module-level value, not a parameter,
so estimators stay clonable and picklable and a refit on all rows (outside any deadline) is never cut short.
scikit-learn's own ensembles (forests, bagging, AdaBoost, HistGradientBoosting) have no such hook; for them the
search's between-fold stop and its cost estimates are the limit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_deadline: float | None = None


class FitTimeout(Exception):
    """A fit ran past the deadline set by :func:`fit_deadline`."""


@contextmanager
def fit_deadline(when: float | None) -> Iterator[None]:
    """Within this block, fits of deadline-aware models stop with :class:`FitTimeout` past ``when``
    (``time.monotonic()`` seconds; ``None`` or ``inf``: no limit)."""
    global _deadline
    previous, _deadline = _deadline, (when if when is not None and when != float("inf") else None)
    try:
        yield
    finally:
        _deadline = previous


def passed() -> bool:
    """Whether the current deadline (if any) has passed."""
    return _deadline is not None and time.monotonic() > _deadline


def check() -> None:
    """Raise :class:`FitTimeout` when the current deadline has passed."""
    if passed():
        raise FitTimeout("the fit ran past its time limit")


def lightgbm_callback(env: Any) -> None:
    """LightGBM ``callbacks=[...]`` entry, called after every boosting round."""
    check()


class CatBoostDeadline:
    """CatBoost ``callbacks=[...]`` entry: stops training past the deadline (``timed_out`` tells)."""

    def __init__(self) -> None:
        self.timed_out = False

    def after_iteration(self, info: Any) -> bool:
        self.timed_out = passed()
        return not self.timed_out


def keras_callback() -> Any:
    """A Keras callback that checks the deadline after every epoch."""
    import keras

    class _Deadline(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            check()

    return _Deadline()
