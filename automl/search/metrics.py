"""Metrics by name. Predictions are class-probability matrices (classification) or values (regression).

Binary problems put the positive class last, so column 1 of the probabilities is the positive class.
Multiclass precision / recall / F1 are macro-averaged; ROC AUC is one-vs-rest, macro-averaged. Every metric takes
optional row weights (``--weight-column``), passed to scikit-learn's ``sample_weight``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from automl.config import CLASSIFICATION_METRICS, METRICS, REGRESSION_METRICS
from automl.errors import ConfigError, choices, did_you_mean
from automl.search.cv import repetitions
from automl.search.decision import ranks_at_tuned_threshold, tuned_fold_scores


@dataclass(frozen=True)
class Metric:
    """A named metric: how to compute it and which direction is better."""

    name: str
    greater_is_better: bool
    fn: Callable[..., float]  # (y_true, pred, task, sample_weight) -> score

    def __call__(self, y_true: np.ndarray, pred: np.ndarray, task: str,
                 sample_weight: np.ndarray | None = None) -> float:
        return float(self.fn(y_true, pred, task, sample_weight))

    def better(self, a: float, b: float) -> bool:
        """True if score ``a`` is strictly better than ``b``."""
        return a > b if self.greater_is_better else a < b


def _labels(pred: np.ndarray) -> np.ndarray:
    return np.asarray(pred).argmax(axis=1)


def _average(task: str) -> str:
    return "binary" if task == "binary" else "macro"


Weights = np.ndarray | None


def _roc_auc(y: np.ndarray, p: np.ndarray, task: str, w: Weights = None) -> float:
    if task == "binary":
        return skm.roc_auc_score(y, p[:, 1], sample_weight=w)
    return skm.roc_auc_score(y, p, multi_class="ovr", labels=np.arange(p.shape[1]), sample_weight=w)


def _log_loss(y: np.ndarray, p: np.ndarray, task: str, w: Weights = None) -> float:
    p = np.clip(p, 1e-15, 1)
    return skm.log_loss(y, p / p.sum(axis=1, keepdims=True), labels=np.arange(p.shape[1]), sample_weight=w)


def _label_metric(fn: Callable[..., float]) -> Callable[..., float]:
    def score(y: np.ndarray, p: np.ndarray, task: str, w: Weights = None) -> float:
        return fn(y, _labels(p), average=_average(task), zero_division=0, sample_weight=w)

    return score


_METRICS = {
    "roc_auc": Metric("roc_auc", True, _roc_auc),
    "log_loss": Metric("log_loss", False, _log_loss),
    "accuracy": Metric("accuracy", True, lambda y, p, t, w=None: skm.accuracy_score(y, _labels(p), sample_weight=w)),
    "f1": Metric("f1", True, _label_metric(skm.f1_score)),
    "precision": Metric("precision", True, _label_metric(skm.precision_score)),
    "recall": Metric("recall", True, _label_metric(skm.recall_score)),
    "balanced_accuracy": Metric("balanced_accuracy", True, lambda y, p, t, w=None: skm.balanced_accuracy_score(
        y, _labels(p), sample_weight=w)),
    "rmse": Metric("rmse", False, lambda y, p, t, w=None: skm.root_mean_squared_error(y, p, sample_weight=w)),
    "mse": Metric("mse", False, lambda y, p, t, w=None: skm.mean_squared_error(y, p, sample_weight=w)),
    "mae": Metric("mae", False, lambda y, p, t, w=None: skm.mean_absolute_error(y, p, sample_weight=w)),
    "r2": Metric("r2", True, lambda y, p, t, w=None: skm.r2_score(y, p, sample_weight=w)),
}
assert tuple(_METRICS) == METRICS


def get_metric(name: str) -> Metric:
    """Look a metric up by name; the error lists the valid names."""
    try:
        return _METRICS[name]
    except KeyError:
        raise ConfigError(f"Unknown metric {name!r}; choose one of {choices(_METRICS)}."
                          f"{did_you_mean(name, _METRICS)}") from None


def label_score(name: str, y_true: np.ndarray, labels: np.ndarray, sample_weight: Weights = None) -> float:
    """A label metric (``THRESHOLD_METRICS``) of binary predicted labels (0/1, positive = 1)."""
    if name == "accuracy":
        return float(skm.accuracy_score(y_true, labels, sample_weight=sample_weight))
    if name == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(y_true, labels, sample_weight=sample_weight))
    fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[name]
    return float(fn(y_true, labels, zero_division=0, sample_weight=sample_weight))


def all_scores(y_true: np.ndarray, pred: np.ndarray, task: str, sample_weight: Weights = None) -> dict[str, float]:
    """Every metric that applies to ``task`` (the secondary metrics of the leaderboard)."""
    names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    out = {}
    for name in names:
        try:
            out[name] = _METRICS[name](y_true, pred, task, sample_weight)
        except ValueError:  # e.g. ROC AUC on a fold missing a class
            out[name] = float("nan")
    return out


def constant_cv_score(y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], metric: Metric, task: str,
                      n_classes: int = 0, sample_weight: Weights = None, threshold: float | None = None) -> float:
    """Mean CV score of the constant predictor on the same folds: each validation part is predicted by its
    training part's class shares (classification) or mean (regression).

    A model that does not beat it has learnt nothing the target's distribution alone does not give (ROC AUC
    0.5; the log loss of the priors; an RMSE equal to the target's spread). F1 and balanced accuracy of a binary
    target are scored as the models are, at thresholds chosen on the other folds
    (:mod:`automl.search.decision`; ``threshold``: at ``--threshold``): the constant labels every row positive
    where that scores better.
    """
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    repeat_of = repetitions(folds, len(y))
    scores, positive = [], np.zeros((max(repeat_of) + 1, len(y)))
    for (train, valid), r in zip(folds, repeat_of, strict=True):
        if task == "regression":
            pred = np.full(len(valid), float(np.average(y[train], weights=w[train])))
        else:
            prior = np.bincount(y[train], weights=w[train], minlength=n_classes) / max(w[train].sum(), 1e-12)
            pred = np.tile(prior, (len(valid), 1))
            positive[r, valid] = pred[:, -1]
        scores.append(metric(y[valid], pred, task, None if sample_weight is None else w[valid]))
    if ranks_at_tuned_threshold(metric.name, task, threshold):
        scores = tuned_fold_scores(metric.name, positive, y, folds, repeat_of, sample_weight, threshold)
    return float(np.mean(scores))
