"""The deadlines of one fit, for the coordinator and for a worker alike.

A fit's time limit counts from its start: the search may use ``SEARCH_SHARE`` of it, the ensembles, the refit
and the report the rest; in a distributed run the coordinator then waits up to ``GATHER_SHARE`` of it for the
workers' running trials, and a worker may finish a trial until then. With a trial count instead of a time limit
there are no deadlines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

SEARCH_SHARE = 0.8  # of the time budget; the rest is for the ensembles and the refit on all rows
GATHER_SHARE = 0.05  # of the budget: how long a coordinator waits for the trials other workers are running


@dataclass(frozen=True)
class Budget:
    """Deadlines in ``time.monotonic()`` seconds; all ``None`` with a trial count.

    Attributes
    ----------
    time_limit
        The fit's budget in seconds.
    trials
        Trials per family instead of a time limit (``None``: the time limit applies).
    search_deadline
        When the search stops starting trials.
    deadline
        The coordinator's: when the whole fit must be done. A worker's: when its last trial must end (the
        coordinator's gathering ends).
    """

    time_limit: float
    trials: int | None
    search_deadline: float | None
    deadline: float | None

    @classmethod
    def for_fit(cls, time_limit: float, trials: int | None, started: float, spent: float = 0.0) -> Budget:
        """A coordinator's budget: ``started`` (monotonic) is when the fit began, ``spent`` the search seconds an
        earlier, interrupted attempt already used."""
        if trials:
            return cls(time_limit, trials, None, None)
        return cls(time_limit, trials, started + time_limit * SEARCH_SHARE - spent, started + time_limit - spent)

    @classmethod
    def for_worker(cls, time_limit: float, trials: int | None, search_deadline_epoch: float | None) -> Budget:
        """A worker's budget, from the coordinator's search deadline as a Unix time (machines share clocks,
        not monotonic counters)."""
        if trials or search_deadline_epoch is None:
            return cls(time_limit, trials, None, None)
        search = time.monotonic() + (search_deadline_epoch - time.time())
        return cls(time_limit, trials, search, search + time_limit * GATHER_SHARE)

    @property
    def gather_until(self) -> float | None:
        """When the coordinator stops waiting for the workers' running trials."""
        return None if self.search_deadline is None else self.search_deadline + self.time_limit * GATHER_SHARE

    def search_deadline_epoch(self) -> float | None:
        """:attr:`search_deadline` as a Unix time, for the workers (recorded in ``run.json``)."""
        return None if self.search_deadline is None else time.time() + self.search_deadline - time.monotonic()

    def run(self, search: Any) -> None:
        """Run ``search`` (:class:`automl.search.tuner.Search`) until its trials or its deadlines."""
        if self.trials:
            search.run(n_trials=self.trials)
        else:
            search.run(deadline=self.search_deadline, hard_deadline=self.deadline)
