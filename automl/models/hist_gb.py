"""scikit-learn's HistGradientBoosting with native categorical support (``categorical_features="from_dtype"``)."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from automl.models.base import ModelSpec


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    # OpenMP threads are capped by automl.threads.limited() around every fit and predict
    return cls(**params, categorical_features="from_dtype", early_stopping=True, validation_fraction=0.1,
               n_iter_no_change=10, random_state=seed)


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "max_iter": trial.suggest_int("max_iter", 50, 1000, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 7, 255, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 100, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-4, 10.0, log=True),
    }


SPEC = ModelSpec(
    key="hist_gb", name="HistGradientBoosting", kind="boosting", preprocessing="native", cost=4.0, build=build,
    defaults={"max_iter": 150, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
              "l2_regularization": 1e-3, "max_features": 1.0},
    portfolio=((3.0, {"max_iter": 1000, "learning_rate": 0.03, "min_samples_leaf": 10, "l2_regularization": 1.0}),),
    search_space=search_space,
    wide={"max_features": 0.3},  # each split considers 30 % of the columns (scikit-learn >= 1.4)
)
