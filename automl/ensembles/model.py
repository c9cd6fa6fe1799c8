"""Ensembles as one fitted estimator, and their scoring on the shared folds without leakage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from automl.ensembles.greedy import blend, greedy_weights
from automl.ensembles.stacking import make_meta_model, meta_features, meta_predict
from automl.models.outputs import predict_scores
from automl.search.cv import Fold, repetitions
from automl.search.metrics import Metric

METHODS = ("greedy", "stacking")


class EnsembleModel:
    """Fitted member pipelines combined by greedy weights or a stacking meta-model.

    Exposes ``predict`` / ``predict_proba`` / ``classes_`` like a scikit-learn estimator, so the predictor
    treats it as any other model.
    """

    def __init__(self, method: str, members: Sequence[Any], task: str, n_classes: int,
                 weights: np.ndarray | None = None, meta: Any = None) -> None:
        self.method, self.members, self.task, self.n_classes = method, list(members), task, n_classes
        self.weights, self.meta = weights, meta
        self.classes_ = np.arange(n_classes)

    def _combine(self, X: pd.DataFrame) -> np.ndarray:
        scores = [predict_scores(m, X, self.task, self.n_classes) for m in self.members]
        return combine(self.method, self.weights, self.meta, scores, self.task, self.n_classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._combine(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        out = self._combine(X)
        return out if self.task == "regression" else out.argmax(axis=1)


def fit_combiner(method: str, oofs: Sequence[np.ndarray], y: np.ndarray, metric: Metric, task: str,
                 seed: int) -> tuple[np.ndarray | None, Any]:
    """Fit greedy weights or a meta-model on out-of-fold predictions; returns ``(weights, meta)``."""
    if method == "greedy":
        return greedy_weights(oofs, y, metric, task), None
    meta = make_meta_model(task, seed)
    meta.fit(meta_features(oofs, task), y)
    return None, meta


def combine(method: str, weights: np.ndarray | None, meta: Any, preds: Sequence[np.ndarray], task: str,
            n_classes: int) -> np.ndarray:
    """Apply a fitted combiner to member predictions."""
    if method == "greedy":
        assert weights is not None
        return blend(preds, weights)
    return meta_predict(meta, meta_features(preds, task), task, n_classes)


def cross_validated_ensemble(method: str, oofs: Sequence[np.ndarray], y: np.ndarray, folds: Sequence[Fold],
                             metric: Metric, task: str, n_classes: int, seed: int) -> tuple[list[float], np.ndarray]:
    """Score an ensemble on the shared folds: for each fold, fit the combiner on the other folds' OOF rows.

    ``oofs[m]`` holds member ``m``'s out-of-fold predictions per CV repetition (first axis); a fold of
    repetition ``r`` combines the predictions of that repetition only, as the members were scored on it.
    Returns the fold scores and the ensemble's out-of-fold predictions per repetition.
    """
    scores, out = [], np.zeros_like(oofs[0], dtype=float)
    for (train, valid), r in zip(folds, repetitions(folds, len(y)), strict=True):
        weights, meta = fit_combiner(method, [p[r][train] for p in oofs], y[train], metric, task, seed)
        out[r][valid] = combine(method, weights, meta, [p[r][valid] for p in oofs], task, n_classes)
        scores.append(metric(y[valid], out[r][valid], task))
    return scores, out
