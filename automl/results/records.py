"""The two kinds of cross-validated result: one trial of a family, and one row of the leaderboard.

A :class:`TrialResult` is what one model configuration scored on the shared folds (written by the search, kept in
``trials.csv`` and the Optuna storage). A :class:`LeaderboardRow` is what the run compares and chooses from: a
family's best trial with the family's trial counts, or an ensemble of rows (its members, weights and combiner).
A row is built from a trial (:meth:`LeaderboardRow.of_family`), never by changing the trial.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


@dataclass
class TrialResult:
    """The cross-validated result of one model configuration (one trial of one family)."""

    key: str  # the family (or ensemble) key, e.g. "lightgbm"
    name: str  # its display name
    kind: str  # "boosting", "neural net", "greedy ensemble", ...
    params: dict[str, Any]
    status: str = "ok"  # "ok", "failed", "pruned", "timeout", "not run"
    reason: str = ""
    fold_scores: list[float] = field(default_factory=list)  # the metric on each validation fold
    secondary: dict[str, float] = field(default_factory=dict)  # other metrics, mean over the folds
    fit_time: float = 0.0  # seconds, all folds
    oof: np.ndarray | None = None  # out-of-fold predictions (mean over the repetitions of repeated CV)
    oof_by_repeat: np.ndarray | None = None  # repeated CV: one set of out-of-fold predictions per repetition
    trial: int | None = None  # the Optuna trial number
    predict_seconds_per_1000: float = float("nan")
    best_epochs: list[int] = field(default_factory=list)
    chosen: dict[str, Any] = field(default_factory=dict)  # chosen on the folds: a boosting model's round count
    histories: list[dict[str, list[float]]] = field(default_factory=list)
    worker: str = ""  # the process that ran this trial (host:pid), for distributed searches
    # the trial's fitted fold pipelines (k-fold bagging, automl.search.bagged.FoldBag), kept in memory for a
    # family's best trial when its spec keeps them (ModelSpec.fold_models); not saved in checkpoints
    fold_models: Any = field(default=None, repr=False)

    @property
    def mean(self) -> float:
        """The mean of the fold scores (NaN without any)."""
        return float(np.mean(self.fold_scores)) if self.fold_scores else float("nan")

    @property
    def std(self) -> float:
        """The standard deviation of the fold scores (NaN without any)."""
        return float(np.std(self.fold_scores)) if self.fold_scores else float("nan")

    def model_params(self) -> dict[str, Any]:
        """The configuration that was scored: ``params``, with the round count the folds chose (boosting) or the
        fewest trees a fold grew in its time (a forest stopped short)."""
        return {**self.params, **self.chosen}

    def refit_params(self) -> dict[str, Any]:
        """Parameters for the refit on all rows: neural nets train for the mean early-stopping epoch of CV,
        boosting models for the round count chosen on the folds, a forest stopped short grows as many trees as
        its folds did."""
        if not self.best_epochs:
            return self.model_params()
        return {**self.params, "epochs": max(1, round(float(np.mean(self.best_epochs)))), "validation_fraction": 0.0}


@dataclass
class LeaderboardRow(TrialResult):
    """One row of the leaderboard: a family (its best trial and how many it ran) or an ensemble of rows."""

    trials_run: int = 1
    trials_failed: int = 0
    workers: dict[str, int] = field(default_factory=dict)  # trials run by each worker (distributed searches)
    members: list[str] = field(default_factory=list)  # an ensemble's member rows, by key
    weights: list[float] = field(default_factory=list)  # greedy ensemble selection's weights
    combiner: Any = None  # a stacking ensemble's fitted meta-model

    @classmethod
    def of_family(cls, key: str, name: str, kind: str, trials: Sequence[TrialResult],
                  best: TrialResult | None) -> LeaderboardRow:
        """A family's row: its ``best`` trial, else its last trial with the reason it did not finish, else a
        row saying it did not run. Trials are counted when they ran: a family skipped before its first trial
        (its placeholder has no trial number) ran none."""
        shown = best or (trials[-1] if trials else TrialResult(key, name, kind, {}, "not run", "no budget"))
        ran = [t for t in trials if t.trial is not None]
        return cls(**{f.name: getattr(shown, f.name) for f in fields(TrialResult)},
                   trials_run=len(ran), trials_failed=sum(t.status == "failed" for t in ran),
                   workers=dict(Counter(t.worker for t in ran if t.worker)))
