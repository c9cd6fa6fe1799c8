"""The number of boosting rounds, chosen on the cross-validation folds at no extra training cost.

A boosting model trained for ``n`` rounds also holds the models of every smaller round count: LightGBM, XGBoost,
CatBoost and AdaBoost predict with only the first ``k`` rounds when asked (``ModelSpec.rounds``). So each fold's
validation rows are scored at 12 round counts up to ``n`` (:func:`round_grid`), and the count with the best
*mean* score over the folds is the one the trial is scored at, whose out-of-fold predictions the ensembles see
and which the refit on all rows uses.
This is ``lgb.cv`` / ``xgb.cv`` early stopping: one number is chosen on all folds together, like any other
hyperparameter the search tunes, so no fold's validation rows choose their own model (no leakage into the
out-of-fold predictions). Too many rounds make boosted probabilities over-confident on small data (soybean, 546
rows: 100 LightGBM rounds score log loss 0.140 on held-out rows, 150 rounds 0.177), and the search no longer has
to find the round count by sampling it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from automl.models.base import ModelSpec

if TYPE_CHECKING:
    from automl.search.metrics import Metric

GRID_POINTS = 12  # round counts scored per fold, geometrically spaced
GRID_LOW = 1 / 16  # the smallest count scored, as a fraction of the rounds trained


def round_grid(n: int) -> np.ndarray:
    """The round counts at which a model trained for ``n`` rounds is scored: from ``n / 16`` up to ``n``."""
    n = max(1, int(n))
    grid = np.geomspace(max(1.0, n * GRID_LOW), n, GRID_POINTS)
    return np.unique(np.append(np.round(grid).astype(int), n))


class RoundSelector:
    """Validation scores of one trial at each round count of :func:`round_grid`, fold by fold.

    Parameters
    ----------
    spec
        The family; its ``rounds`` says which hyperparameter counts the rounds and how to predict with fewer.
    rounds
        The number of rounds each fold's model is trained for.
    metric, task, n_classes
        How predictions are scored.
    oof_shape
        Shape of the trial's out-of-fold predictions (repetitions, rows[, classes]).
    choose_by
        The metric whose mean over the folds chooses the round count (default: ``metric``): the log loss where
        ``metric`` scores labels at a threshold tuned later (:mod:`automl.search.decision`), since at 0.5 the
        early rounds of a rare class label nothing positive.
    """

    def __init__(self, spec: ModelSpec, rounds: int, metric: Metric, task: str, n_classes: int,
                 oof_shape: tuple[int, ...], choose_by: Metric | None = None) -> None:
        assert spec.rounds is not None
        self.spec, self.metric, self.task, self.n_classes = spec, metric, task, n_classes
        self.choose_by = choose_by or metric
        self.grid = round_grid(rounds)
        self.scores: list[np.ndarray] = []  # per fold: the score at each round count
        self.choice_scores: list[np.ndarray] = []  # per fold: choose_by at each round count
        self.oof = np.zeros((len(self.grid), *oof_shape))

    @classmethod
    def for_trial(cls, spec: ModelSpec, params: dict[str, Any], metric: Metric, task: str, n_classes: int,
                  oof_shape: tuple[int, ...], choose_by: Metric | None = None) -> RoundSelector | None:
        """A selector for a family that counts rounds (``None`` for any other)."""
        if spec.rounds is None or spec.rounds.param not in params:
            return None
        return cls(spec, int(params[spec.rounds.param]), metric, task, n_classes, oof_shape, choose_by)

    def add_fold(self, pipeline: Pipeline, X_valid: pd.DataFrame, y_valid: np.ndarray, full: np.ndarray,
                 repetition: int, valid: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Score the fold's validation rows at every round count (``full``: the predictions at all rounds;
        ``sample_weight``: the rows' weights)."""
        preds = [*staged_scores(self.spec, pipeline, X_valid, self.grid[:-1], self.task, self.n_classes), full]
        self.scores.append(np.array([self.metric(y_valid, p, self.task, sample_weight) for p in preds]))
        self.choice_scores.append(self.scores[-1] if self.choose_by is self.metric else
                                  np.array([self.choose_by(y_valid, p, self.task, sample_weight) for p in preds]))
        for g, pred in enumerate(preds):
            self.oof[g, repetition, valid] = pred

    @property
    def best_index(self) -> int:
        """Index into the grid of the round count with the best mean ``choose_by`` over the folds so far."""
        mean = np.mean(self.choice_scores, axis=0)
        return int(np.argmax(mean) if self.choose_by.greater_is_better else np.argmin(mean))

    @property
    def best_rounds(self) -> int:
        return int(self.grid[self.best_index])

    def fold_scores(self) -> list[float]:
        """Each fold's score at the best round count."""
        best = self.best_index
        return [float(s[best]) for s in self.scores]


def staged_scores(spec: ModelSpec, pipeline: Pipeline, X: pd.DataFrame, counts: Sequence[int], task: str,
                  n_classes: int) -> list[np.ndarray]:
    """Predictions of the fitted ``pipeline`` using only its first ``k`` rounds, for each ``k`` in ``counts``:
    class probabilities with one column per class code (classification) or predicted values."""
    assert spec.rounds is not None
    Xt = pipeline[:-1].transform(X)
    model, inverse = pipeline.steps[-1][1], None
    if isinstance(model, TransformedTargetRegressor):  # trained on a transformed target
        model, inverse = model.regressor_, model.inverse_func
    out = []
    for pred in spec.rounds.staged(model, Xt, [int(k) for k in counts], task):
        pred = np.asarray(pred, dtype=float)
        if inverse is not None:
            pred = inverse(pred)
        if task != "regression":  # one column per class code, as predict_scores gives them
            full = np.zeros((len(pred), n_classes))
            full[:, np.asarray(model.classes_, dtype=int)] = pred
            pred = full
        out.append(pred)
    return out
