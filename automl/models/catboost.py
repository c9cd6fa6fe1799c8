"""CatBoost with native categorical features.

CatBoost wants categorical columns named in ``cat_features`` and holding text without missing values, so
:class:`CatBoostNative` converts the pandas ``category`` columns of the native pipeline before fitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from automl.models.base import ModelSpec, Rounds, pick_stages
from automl.models.deadline import CatBoostDeadline, FitTimeout

MISSING = "__missing__"


class CatBoostNative(BaseEstimator):
    """CatBoost behind the scikit-learn contract, with pandas ``category`` columns as categorical features."""

    def __init__(self, task: str = "binary", iterations: int = 500, learning_rate: float = 0.08, depth: int = 6,
                 l2_leaf_reg: float = 3.0, random_strength: float = 1.0, random_state: int = 0,
                 n_jobs: int = 1) -> None:
        self.task = task
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.l2_leaf_reg = l2_leaf_reg
        self.random_strength = random_strength
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _frame(self, X: Any) -> tuple[pd.DataFrame, list[int]]:
        """Categorical (pandas ``category`` or text) columns as text with missing values spelt out."""
        frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        cat_features = []
        for i, name in enumerate(frame.columns):
            col = frame[name]
            if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col):
                frame[name] = col.astype(object).where(col.notna(), MISSING).astype(str)
                cat_features.append(i)
        return frame, cat_features

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CatBoostNative:
        import catboost

        frame, cat_features = self._frame(X)
        params = {"iterations": self.iterations, "learning_rate": self.learning_rate, "depth": self.depth,
                  "l2_leaf_reg": self.l2_leaf_reg, "random_strength": self.random_strength,
                  "random_seed": self.random_state, "thread_count": self.n_jobs, "verbose": False,
                  "allow_writing_files": False}
        if self.task == "regression":
            self.model_ = catboost.CatBoostRegressor(**params)
        else:
            self.model_ = catboost.CatBoostClassifier(**params)
        stop = CatBoostDeadline()
        self.model_.fit(frame, np.asarray(y), cat_features=cat_features, callbacks=[stop],
                        sample_weight=None if sample_weight is None else np.asarray(sample_weight, dtype=float))
        if stop.timed_out:
            raise FitTimeout("the fit ran past its time limit")
        if self.task != "regression":
            self.classes_ = np.asarray(self.model_.classes_)
        self.n_features_in_ = frame.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        out = self.model_.predict(self._frame(X)[0])
        return np.asarray(out).ravel() if self.task == "regression" else self.classes_[self.predict_proba(X).argmax(1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict_proba(self._frame(X)[0]))

    def staged(self, X: Any, counts: Sequence[int]) -> list[np.ndarray]:
        """Class probabilities (classification) or values (regression) of the first ``k`` trees for each ``k``
        in ``counts``, from one pass over the trees."""
        check_is_fitted(self, "model_")
        frame = self._frame(X)[0]
        end = int(max(counts))
        if self.task == "regression":
            stages = (np.asarray(p).ravel() for p in self.model_.staged_predict(frame, ntree_end=end))
        else:
            stages = self.model_.staged_predict_proba(frame, ntree_end=end)
        return pick_stages(stages, counts)


class CatBoostNativeClassifier(ClassifierMixin, CatBoostNative):
    """Classifier flavour (so scikit-learn's tools see a classifier)."""


class CatBoostNativeRegressor(RegressorMixin, CatBoostNative):
    """Regressor flavour."""


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    cls = CatBoostNativeRegressor if task == "regression" else CatBoostNativeClassifier
    return cls(task=task, **params, random_state=seed, n_jobs=n_jobs)


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "iterations": trial.suggest_int("iterations", 100, 1500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "depth": trial.suggest_int("depth", 3, 10),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 0.5, 30, log=True),
        "random_strength": trial.suggest_float("random_strength", 0.1, 10, log=True),
    }


SPEC = ModelSpec(
    key="catboost", name="CatBoost", kind="boosting", preprocessing="native", cost=6.0, build=build,
    defaults={"iterations": 300, "learning_rate": 0.1, "depth": 6, "l2_leaf_reg": 3.0, "random_strength": 1.0},
    portfolio=((2.5, {"iterations": 800, "learning_rate": 0.05, "l2_leaf_reg": 5.0}),),
    search_space=search_space,
    rounds=Rounds("iterations", lambda model, X, counts, task: model.staged(X, counts)),
)
