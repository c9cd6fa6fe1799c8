"""XGBoost (hist) with native categorical features (pandas ``category`` columns, ``enable_categorical``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from automl.models.base import OPENMP_THREADS, ModelSpec, Rounds, from_margin


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    import xgboost as xgb

    from automl.models.xgboost_deadline import DeadlineCallback

    cls = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
    return cls(**params, tree_method="hist", enable_categorical=True, max_cat_to_onehot=4,
               random_state=seed, n_jobs=OPENMP_THREADS, verbosity=0, callbacks=[DeadlineCallback()])


def staged(model: Any, X: Any, counts: Sequence[int], task: str) -> list[Any]:
    """Predictions of the first ``k`` rounds for each ``k`` in ``counts``: the margins of each further stretch
    of rounds (without the base score: a zero ``base_margin``) are added to the previous ones, so the trees
    are evaluated once."""
    out, margin, start = [], None, 0
    for k in counts:
        if margin is None:
            margin = model.predict(X, output_margin=True, iteration_range=(0, k))
        else:
            margin = margin + model.predict(X, output_margin=True, iteration_range=(start, k),
                                            base_margin=np.zeros_like(margin))
        start = k
        out.append(from_margin(margin, task))
    return out


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


SPEC = ModelSpec(
    key="xgboost", name="XGBoost", kind="boosting", preprocessing="native", cost=3.0, build=build,
    defaults={"n_estimators": 150, "learning_rate": 0.1, "max_depth": 6, "min_child_weight": 1.0,
              "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0},
    portfolio=((3.0, {"n_estimators": 1000, "learning_rate": 0.03, "colsample_bytree": 0.7}),
               (1.5, {"n_estimators": 300, "learning_rate": 0.05, "max_depth": 4, "min_child_weight": 3.0,
                      "subsample": 0.7, "colsample_bytree": 0.5, "reg_lambda": 5.0})),
    search_space=search_space,
    wide={"colsample_bytree": 0.3},  # as LightGBM's
    rounds=Rounds("n_estimators", staged),
)
