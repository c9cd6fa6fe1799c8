"""A time limit that reaches inside one fit.

Cross-validation stops a trial between folds, but one fold of a slow configuration (thousands of boosting
rounds, hundreds of epochs) can by itself overrun the budget. The search therefore sets a deadline around each
fit with :func:`fit_deadline`; the iterative libraries check it after every boosting round or epoch through the
callbacks defined here and abort with :class:`FitTimeout`. The check is a module-level value, not a parameter,
so estimators stay clonable and picklable and a refit on all rows (outside any deadline) is never cut short.
scikit-learn's own ensembles (forests, bagging, AdaBoost, HistGradientBoosting) have no such hook; for them the
search's between-fold stop and its cost estimates are the limit.

A fit can also have a *soft* deadline: a model that can stop at any epoch and still be useful (a network that
keeps its best epoch's weights) ends its training there instead of failing. Only the Keras callback honours it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_deadline: float | None = None
_soft: float | None = None


class FitTimeout(Exception):
    """A fit ran past the deadline set by :func:`fit_deadline`."""


def _finite(when: float | None) -> float | None:
    return when if when is not None and when != float("inf") else None


@contextmanager
def fit_deadline(when: float | None, soft: float | None = None) -> Iterator[None]:
    """Within this block, fits of deadline-aware models stop with :class:`FitTimeout` past ``when``
    (``time.monotonic()`` seconds; ``None`` or ``inf``: no limit), and anytime models end their training
    normally past ``soft``."""
    global _deadline, _soft
    previous = _deadline, _soft
    _deadline, _soft = _finite(when), _finite(soft)
    try:
        yield
    finally:
        _deadline, _soft = previous


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
    """A Keras callback that checks the deadline after every epoch: past the hard one it raises
    :class:`FitTimeout`; past the soft one it ends the training (``timed_out`` tells), and an ``EarlyStopping``
    placed after it still restores the best epoch's weights.

    The first epoch also builds and traces the network (about a second, however small the data), so the soft
    deadline is moved back by what the first epoch took beyond the second, and training runs at least two
    epochs: on small data a fold's share of the time then goes to training, not to that one-off cost.
    """
    import keras

    class _Deadline(keras.callbacks.Callback):
        timed_out = False
        _began = _first = 0.0
        _overhead = 0.0

        def on_train_begin(self, logs: Any = None) -> None:
            self._began = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            check()
            now = time.monotonic()
            if epoch == 0:
                self._first = now
                return
            if epoch == 1:
                self._overhead = max(0.0, (self._first - self._began) - (now - self._first))
            if _soft is not None and now > _soft + self._overhead:
                self.timed_out = True
                self.model.stop_training = True

    return _Deadline()
