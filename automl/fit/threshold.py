"""The decision threshold of a binary model, tuned on out-of-fold predictions without leakage.

A binary model labels a row positive when the positive class's probability reaches a threshold; 0.5 is right
for accuracy on balanced classes only. When the run's metric scores labels (accuracy, F1, balanced accuracy), the
threshold that maximises it is chosen on the chosen model's out-of-fold predictions, and judged as the ensembles
are: for each fold of the first CV repetition, the threshold is chosen on the other folds' rows and scored on
this fold's, so the tuned CV score is an honest estimate. The threshold is kept only when that score beats 0.5's
on the same folds; the delivered threshold is then the one chosen on all rows.

Precision and recall alone are not tuned: each is maximised by a degenerate threshold (label almost nothing, or
everything, positive). ``--threshold`` sets the threshold for any binary metric.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from automl.config import THRESHOLD_METRICS
from automl.search.cv import Fold, first_repetition_on_validated, repetitions
from automl.search.decision import (
    TUNABLE,
    best_threshold,
    ranks_at_tuned_threshold,
    threshold_scores,
    tuned_fold_scores,
)
from automl.search.metrics import Metric, get_metric, label_score

log = logging.getLogger(__name__)

TUNED_METRICS = TUNABLE
__all__ = ["TUNED_METRICS", "ThresholdChoice", "at_threshold", "at_value", "best_threshold", "choose_threshold"]
CURVE = np.round(np.linspace(0.02, 0.98, 49), 2)  # the report's metric-against-threshold curve


@dataclass(frozen=True)
class ThresholdChoice:
    """The decision threshold delivered with a binary model, and the evidence for it (kept in run.json)."""

    value: float  # probability of the positive class at or above which a row is labelled positive
    source: str  # "tuned" (on out-of-fold predictions), "given" (--threshold) or "default" (0.5)
    metric: str
    cv_default: float | None = None  # mean CV score of the labels at 0.5
    cv_tuned: float | None = None  # mean CV score with each fold's threshold chosen on the other folds
    curve: list[list[float]] = field(default_factory=list)  # [threshold, score on all out-of-fold rows]


def choose_threshold(p_positive: np.ndarray, y: np.ndarray, folds: Sequence[Fold], metric: str,
                     given: float | None = None, sample_weight: np.ndarray | None = None,
                     by_repeat: np.ndarray | None = None) -> ThresholdChoice:
    """The threshold for a binary model whose out-of-fold probability of the positive class is ``p_positive``
    (shape (n_rows,)) for labels ``y`` (0/1) on ``folds``.

    ``given`` (``--threshold``) wins. Otherwise a metric of labels in ``TUNED_METRICS`` is tuned (see the
    module's docstring); any other metric keeps 0.5. ``sample_weight``: the rows' weights in every score.
    A metric the leaderboard ranks at tuned thresholds (F1, balanced accuracy: :mod:`automl.search.decision`)
    always gets its tuned threshold, so the model is delivered as it was ranked; its CV figures are then those
    of every fold of every repetition, from ``by_repeat`` (the probability per repetition, shape (n_repeats,
    n_rows); default: ``p_positive``), the same as its leaderboard score.
    """
    w_all = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    ranked = ranks_at_tuned_threshold(metric, "binary") and given is None
    if ranked:
        reps = repetitions(folds, len(y))
        by_repeat = np.repeat(p_positive[None], max(reps) + 1, axis=0) if by_repeat is None else by_repeat
        cv_tuned = float(np.mean(tuned_fold_scores(metric, by_repeat, y, folds, reps, w_all)))
        cv_default = float(np.mean(tuned_fold_scores(metric, by_repeat, y, folds, reps, w_all, given=0.5)))
    v, first = first_repetition_on_validated(folds, len(y))  # time folds: the first period has no prediction
    p_positive, y, w = p_positive[v], y[v], w_all[v]
    name = metric if metric in THRESHOLD_METRICS else "f1"
    curve = [[float(t), label_score(name, y, (p_positive >= t).astype(int), w)] for t in CURVE]
    if given is not None:
        return ThresholdChoice(float(given), "given", name, curve=curve)
    if metric not in TUNED_METRICS:
        return ThresholdChoice(0.5, "default", name, curve=curve)
    if not ranked:
        default, tuned = [], []
        for train, valid in first:
            t = best_threshold(p_positive[train], y[train], metric, w[train]) if len(train) else 0.5
            default.append(label_score(metric, y[valid], (p_positive[valid] > 0.5).astype(int), w[valid]))
            tuned.append(label_score(metric, y[valid], (p_positive[valid] >= t).astype(int), w[valid]))
        cv_default, cv_tuned = float(np.mean(default)), float(np.mean(tuned))
        if not get_metric(metric).better(cv_tuned, cv_default):
            log.info("Decision threshold: 0.5 kept (%s %.4f at 0.5, %.4f with a threshold tuned on the other folds).",
                     metric, cv_default, cv_tuned)
            return ThresholdChoice(0.5, "default", metric, cv_default, cv_tuned, curve)
    value = best_threshold(p_positive, y, metric, w)
    log.info("Decision threshold: %.3f, tuned for %s on the out-of-fold predictions (CV %.4f, at 0.5 %.4f)%s.",
             value, metric, cv_tuned, cv_default,
             "; models are ranked at their tuned thresholds, so it is delivered even where 0.5 scored higher"
             if ranked else "")
    return ThresholdChoice(value, "tuned", metric, cv_default, cv_tuned, curve)


def at_threshold(metric: Metric, threshold: ThresholdChoice | None) -> Metric:
    """``metric`` as the delivered binary model is scored: a metric of labels at the delivered decision
    threshold (tuned or given) instead of 0.5; any other metric, or a model delivered at 0.5, as it is. For
    scoring the final model beyond cross-validation (permutation importance)."""
    if threshold is None or threshold.source == "default":
        return metric
    return at_value(metric, threshold.value)


def at_value(metric: Metric, value: float | None) -> Metric:
    """``metric`` with a binary model's labels at the decision threshold ``value`` (the positive class at or above
    it) when it is a metric of labels; any other metric, or ``value`` None (the most probable class), as it is."""
    if value is None or metric.name not in THRESHOLD_METRICS:
        return metric

    def scored(y: np.ndarray, p: np.ndarray, task: str, w: np.ndarray | None = None) -> float:
        return float(threshold_scores(metric.name, p[:, 1], y, np.asarray([value]), w)[0])

    return Metric(metric.name, metric.greater_is_better, scored)
