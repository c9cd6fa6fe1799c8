"""An ensemble as one fitted estimator: what a saved model holds and predicts with (its fitting and CV scoring are
in :mod:`automl.ensembles.build`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from automl.ensembles.greedy import blend
from automl.ensembles.stacking import meta_features, meta_predict
from automl.models import side_by_side

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

    def score_parts(self, X: pd.DataFrame) -> side_by_side.Parts:
        """Every member's jobs (a k-fold bag's fold models each one), finished by this ensemble's combiner, so
        that all of them predict side by side (see :mod:`automl.models.side_by_side`)."""
        groups = [side_by_side.parts(m, X, self.task, self.n_classes) for m in self.members]
        return side_by_side.joined(groups, partial(combine, self.method, self.weights, self.meta,
                                                   task=self.task, n_classes=self.n_classes))

    def _combine(self, X: pd.DataFrame) -> np.ndarray:
        return side_by_side.predict(self, X, self.task, self.n_classes)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._combine(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        out = self._combine(X)
        return out if self.task == "regression" else out.argmax(axis=1)


def combine(method: str, weights: np.ndarray | None, meta: Any, preds: Sequence[np.ndarray], task: str,
            n_classes: int) -> np.ndarray:
    """Apply a fitted combiner to member predictions."""
    if method == "greedy":
        assert weights is not None
        return blend(preds, weights)
    return meta_predict(meta, meta_features(preds, task), task, n_classes)
