"""Permutation feature importance of the final model, computed at fit time within what is left of the budget."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from automl.data.schema import Schema
from automl.search.evaluate import predict_scores
from automl.search.metrics import Metric

log = logging.getLogger(__name__)

MAX_ROWS = 2000
REPEATS = 5


def permutation_importance(model: Any, X: pd.DataFrame, y: np.ndarray, schema: Schema, metric: Metric,
                           seed: int, seconds: float | None) -> pd.DataFrame | None:
    """How much the metric worsens when one input column is shuffled (mean and std over ``REPEATS`` shuffles).

    Computed on up to ``MAX_ROWS`` training rows: it shows what the model relies on, not how it generalises.
    Columns are the users' input columns (a datetime column is shuffled with all its parts). Returns ``None``
    when the estimated time exceeds ``seconds`` (``None``: no limit), with fewer repeats tried first.
    """
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), MAX_ROWS), replace=False))
    Xs, ys = X.iloc[rows].reset_index(drop=True), y[rows]
    features = schema.features
    n_classes = len(schema.classes or [])
    sign = 1.0 if metric.greater_is_better else -1.0

    def score(_: Any, Xp: pd.DataFrame, yp: np.ndarray) -> float:
        return sign * metric(yp, predict_scores(model, Xp, schema.task, n_classes), schema.task)

    tick = time.monotonic()
    baseline = score(None, Xs, ys)
    one = time.monotonic() - tick
    repeats = REPEATS
    while seconds is not None and one * len(features) * repeats > seconds and repeats > 1:
        repeats -= 2
    if seconds is not None and one * len(features) * repeats > seconds:
        log.info("Permutation importance skipped: it needs about %.0f s, %.0f s of the budget are left.",
                 one * len(features) * repeats, seconds)
        return None
    groups = [col.outputs() for col in features]
    result = _grouped(score, baseline, Xs, ys, groups, repeats, seed)
    frame = pd.DataFrame({"feature": [c.name for c in features], "importance_mean": result.mean(axis=1),
                          "importance_std": result.std(axis=1)})
    log.info("Permutation importance: %d columns, %d repeats on %d rows (%.1f s).", len(features), repeats,
             len(rows), time.monotonic() - tick)
    return frame.sort_values("importance_mean", ascending=False, kind="stable").reset_index(drop=True)


def _grouped(score: Any, baseline: float, X: pd.DataFrame, y: np.ndarray, groups: list[list[str]],
             repeats: int, seed: int) -> np.ndarray:
    """Score drop per group of columns, each group shuffled with one row permutation per repeat.

    scikit-learn's ``permutation_importance`` shuffles single columns only; a datetime column becomes several
    prepared columns that must move together, hence this loop (the same algorithm, over column groups).
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((len(groups), repeats))
    for i, group in enumerate(groups):
        for r in range(repeats):
            shuffled, order = X.copy(), rng.permutation(len(X))
            for column in group:  # keeps each column's dtype (pandas categories for the native pipeline)
                shuffled[column] = X[column].iloc[order].reset_index(drop=True)
            out[i, r] = baseline - score(None, shuffled, y)
    return out
