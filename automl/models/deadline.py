"""A time limit that reaches inside one fit.

Cross-validation stops a trial between folds, but one fold of a slow configuration (thousands of boosting
rounds, hundreds of epochs) can by itself overrun the budget. The search therefore sets a deadline around each
fit with :func:`fit_deadline`; the iterative libraries check it after every boosting round or epoch through the
callbacks defined here and abort with :class:`FitTimeout`. The check is a module-level value, not a parameter,
so estimators stay clonable and picklable and a refit on all rows (outside any deadline) is never cut short.
scikit-learn's AdaBoost and HistGradientBoosting have no such hook; for them the search's between-fold stop and
its cost estimates are the limit (its forests and bagged trees are grown in steps instead, see below).

A fit can also have a *soft* deadline: a model that can stop at any point and still be useful ends its training
there instead of failing: the Keras networks keep their best epoch's weights (:class:`EpochClock`), and the
forests and bagged trees keep the trees grown so far (:class:`automl.models.forests.GrowsUntilDeadline`).
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


def soft_passed() -> bool:
    """Whether the current soft deadline (if any) has passed: an anytime model ends its training there."""
    return _soft is not None and time.monotonic() > _soft


def soft_left() -> float:
    """Seconds until the current soft deadline (``inf`` without one; negative once passed)."""
    return float("inf") if _soft is None else _soft - time.monotonic()


def has_soft() -> bool:
    """Whether a soft deadline is set (the search's trials; never a refit on all rows)."""
    return _soft is not None


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


class EpochClock:
    """The time limit as seen by a training loop that runs epoch by epoch (the Keras networks).

    Call :meth:`epoch_end` after every epoch: past the hard deadline it raises :class:`FitTimeout`; past the
    soft one it returns ``True`` (end the training; ``timed_out`` tells) and the loop keeps its best epoch.

    The first epoch also builds and traces the network (about a second, however small the data), so the soft
    deadline is moved back by what the first epoch took beyond the second, and training runs at least two
    epochs (``min_epochs`` if they take at most three times the fit's share): on small data a fold's share of
    the time then goes to training, not to that one-off cost. Together these never move the soft deadline by
    more than half the time between it and the hard one.
    :meth:`epochs_allowed` says how many epochs in all the time allows at the pace so far (a learning-rate
    schedule then ends there); ``None`` without a soft deadline.
    """

    def __init__(self) -> None:
        self.timed_out = False
        self._began = time.monotonic()
        self._first = 0.0
        self._overhead = 0.0
        self._soft = _soft

    def epoch_end(self, epoch: int, min_epochs: int = 2) -> bool:
        """``epoch`` counts from 0. Whether the training should end now: past the soft deadline, once
        ``min_epochs`` epochs are done (a network that has barely started learning is no result) or, if they take
        long, once the fit has had three times the time it was given; never before 2 epochs."""
        check()
        now = time.monotonic()
        if epoch == 0:
            self._first = now
            return False
        if epoch == 1:
            self._overhead = min(max(0.0, (self._first - self._began) - (now - self._first)), self._slack())
        if self._soft is None or now <= self._soft + self._overhead:
            return False
        grace = min(2 * max(self._soft - self._began, 0.0), self._slack())  # for ``min_epochs``
        self.timed_out = epoch + 1 >= min_epochs or now > self._soft + self._overhead + grace
        return self.timed_out

    def _slack(self) -> float:
        """The most the soft deadline may be moved back: half the time between it and the hard deadline."""
        if self._soft is None or _deadline is None:
            return float("inf")
        return max(0.0, (_deadline - self._soft) / 2)

    def epochs_allowed(self, epoch: int, min_epochs: int = 2) -> float | None:
        """After epoch ``epoch`` (from 0, at least 1), the number of epochs the soft deadline allows in all
        (at least ``min_epochs``)."""
        if self._soft is None or epoch < 1:
            return None
        now = time.monotonic()
        per_epoch = max((now - self._first) / epoch, 1e-6)
        return max(float(min_epochs), epoch + 1 + max(0.0, self._soft + self._overhead - now) / per_epoch)
