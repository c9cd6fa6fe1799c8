"""k-fold bagging: the k models a cross-validation trial fitted, delivered together instead of a refit.

The mean of the fold models' predictions is AutoGluon's "bagged" model (Erickson et al. 2020,
"AutoGluon-Tabular: Robust and Accurate AutoML for Structured Data", section 3.3): every row was seen by k - 1
of the k models, each model was scored on the rows it did not see, and no refit is needed. A network is
delivered this way (each fold model stopped at its own best validation epoch); another family when its refit on
all rows would not fit in the budget (see :attr:`automl.models.base.ModelSpec.fold_models`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from automl.models import side_by_side
from automl.models.outputs import predict_scores
from automl.search.rounds import staged_scores


class FoldBag:
    """The fitted pipelines of one trial's folds, predicting with the mean of their predictions.

    Exposes ``predict`` / ``predict_proba`` / ``classes_`` like a scikit-learn classifier or regressor, so a
    predictor or an ensemble treats it as any other fitted pipeline.

    Parameters
    ----------
    key
        The family's model key (its registry entry says how to predict with fewer boosting rounds).
    pipelines
        One fitted preprocessing + model pipeline per fold (per fold and repetition with repeated CV).
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    n_classes
        Classes of the target (0 for regression); ``predict_proba`` has one column per class code.
    rounds
        A boosting family's round count chosen on the folds (:mod:`automl.search.rounds`): each fold model
        predicts with its first ``rounds`` rounds, as it was scored. ``None``: all of the model.
    """

    def __init__(self, key: str, pipelines: Sequence[Any], task: str, n_classes: int,
                 rounds: int | None = None) -> None:
        if not pipelines:
            raise ValueError("A fold bag needs at least one fitted pipeline.")
        self.key, self.pipelines, self.task, self.n_classes = key, list(pipelines), task, n_classes
        self.rounds = rounds
        self.classes_ = np.arange(n_classes)

    def __len__(self) -> int:
        return len(self.pipelines)

    def _scores(self, pipeline: Any, X: pd.DataFrame) -> np.ndarray:
        if self.rounds is None:
            return predict_scores(pipeline, X, self.task, self.n_classes)
        from automl.models import registry  # the registry imports every family's module

        return staged_scores(registry.get(self.key), pipeline, X, [self.rounds], self.task, self.n_classes)[0]

    def score_parts(self, X: pd.DataFrame) -> side_by_side.Parts:
        """One job per fold model, finished by their mean in fold order (see :mod:`automl.models.side_by_side`)."""
        return side_by_side.Parts([partial(self._scores, p, X) for p in self.pipelines], _mean)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Mean class probabilities of the fold models, shape ``(rows, n_classes)``; the predicted values for
        regression, shape ``(rows,)``.

        The fold models predict side by side, one thread per core (:func:`automl.models.side_by_side.run`: a
        network's 3 fold models on 10 000 rows, 2 cores: about 0.43 -> 0.35 s, measured); the mean is taken in
        fold order, so the result does not depend on the threads.
        """
        return side_by_side.predict(self, X, self.task, self.n_classes)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most probable class code per row (classification) or the mean predicted value (regression)."""
        out = self.predict_proba(X)
        return out if self.task == "regression" else out.argmax(axis=1)

    @property
    def named_steps(self) -> Any:
        """The first fold's pipeline steps (every fold's pipeline has the same steps, fitted on its own rows)."""
        return self.pipelines[0].named_steps


def _mean(results: list[np.ndarray]) -> np.ndarray:
    return np.mean(results, axis=0)
