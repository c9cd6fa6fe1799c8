"""Calibration of the chosen classifier's probabilities, fitted on out-of-fold predictions without leakage.

Two published methods are tried on the chosen model's out-of-fold probabilities:

- temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one parameter T > 0, the
  probabilities become ``softmax(log(p) / T)``; it fixes over- and under-confidence and never changes the ranking
  of rows or the most probable class;
- isotonic regression (Zadrozny & Elkan 2002) of the positive class's probability, for binary targets with at
  least ``ISOTONIC_MIN_ROWS`` rows (with fewer it over-fits).

Each is judged as the ensembles are: for each fold of the first CV repetition it is fitted on the other folds'
rows and scored (log loss) on this fold's. The best is kept only when it lowers the CV log loss by at least
``MIN_GAIN`` (0.5 %; smaller gains are within the noise of the folds); when the run's
metric is log loss the delivered model then applies it (fitted on all out-of-fold rows) to every probability it
returns. For other metrics the effect on log loss is reported, and nothing is changed: the run was judged on
another score.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from automl.models.calibrators import Isotonic, Temperature
from automl.search.cv import Fold, first_repetition_on_validated
from automl.search.metrics import get_metric

log = logging.getLogger(__name__)

ISOTONIC_MIN_ROWS = 1000
MIN_GAIN = 0.005  # relative drop of the CV log loss a method must bring: smaller ones are within fold noise
BINS = 10  # reliability diagram


METHODS = {"temperature": Temperature, "isotonic": Isotonic}


@dataclass
class CalibrationChoice:
    """What calibration did to the chosen model's out-of-fold log loss (kept in run.json, without the model)."""

    cv_before: float  # mean CV log loss of the raw out-of-fold probabilities
    cv_after: dict[str, float] = field(default_factory=dict)  # per method, fitted on the other folds
    method: str | None = None  # the best method when it lowers the CV log loss
    applied: bool = False  # whether the delivered model applies it (the run's metric is log loss)
    calibrator: Any = field(default=None, repr=False)  # fitted on all out-of-fold rows
    # "before" / "after": [mean confidence, share correct, rows] per bin (see reliability)
    reliability: dict[str, list[list[float]]] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "calibrator"}
        if self.method == "temperature":
            out["temperature"] = self.calibrator.temperature
        return out


def choose_calibration(oof: np.ndarray, y: np.ndarray, folds: Sequence[Fold], task: str,
                       metric: str, sample_weight: np.ndarray | None = None) -> CalibrationChoice:
    """Try each method on ``oof`` (out-of-fold probabilities, shape (n_rows, n_classes)) for labels ``y`` on
    ``folds``; see the module's docstring. ``sample_weight``: the rows' weights in the log loss (the calibrators
    themselves are fitted unweighted)."""
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    v, first = first_repetition_on_validated(folds, len(y))  # time folds: the first period has no prediction
    oof, y, w = oof[v], y[v], w[v]
    log_loss = get_metric("log_loss")
    before = float(np.mean([log_loss(y[v], oof[v], task, w[v]) for _, v in first]))
    methods = ["temperature"] + (["isotonic"] if task == "binary" and len(y) >= ISOTONIC_MIN_ROWS else [])
    after, crossed = {}, {}
    for name in methods:
        out = np.array(oof, dtype=float)
        for train, valid in first:
            if len(train):  # else the first forward-chaining fold: nothing earlier to fit on, left as it is
                out[valid] = METHODS[name]().fit(oof[train], y[train]).transform(oof[valid])
        after[name] = float(np.mean([log_loss(y[v], out[v], task, w[v]) for _, v in first]))
        crossed[name] = out
    best = min(after, key=after.get)
    # with repeated CV the leaderboard's score is the mean over every repetition, these over the first only
    where = " on the first CV repetition's folds" if len(first) < len(folds) else ""
    choice = CalibrationChoice(before, after, reliability={"before": reliability(oof, y)})
    if after[best] < before * (1 - MIN_GAIN):
        choice.method, choice.applied = best, metric == "log_loss"
        choice.calibrator = METHODS[best]().fit(oof, y)
        choice.reliability["after"] = reliability(crossed[best], y)
        log.info("Calibration: %s lowers the chosen model's CV log loss%s from %.4f to %.4f%s.", best, where,
                 before, after[best], "; the delivered model applies it" if choice.applied
                 else f" (not applied: the run's metric is {metric})")
    else:
        log.info("Calibration: left out; no method lowers the CV log loss%s by 0.5 %% or more (%.4f; %s).", where,
                 before, ", ".join(f"{k} {v:.4f}" for k, v in after.items()))
    return choice


def reliability(proba: np.ndarray, y: np.ndarray, bins: int = BINS) -> list[list[float]]:
    """Confidence against accuracy: the most probable class's probability in ``bins`` equal-width bins, each
    ``[mean confidence, share correct, rows]`` (empty bins left out)."""
    confidence, correct = proba.max(axis=1), (proba.argmax(axis=1) == y)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return [[float(confidence[which == b].mean()), float(correct[which == b].mean()), int((which == b).sum())]
            for b in range(bins) if (which == b).any()]
