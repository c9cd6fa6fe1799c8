"""LightGBM gradient boosting with native categorical features.

LightGBM is imported when a model is built, not when the registry is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from automl.models import deadline
from automl.models.base import OPENMP_THREADS, ModelSpec, Rounds, from_margin


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    import lightgbm as lgb

    cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    return cls(
        **params,
        random_state=seed,
        n_jobs=OPENMP_THREADS,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )


def staged(model: Any, X: Any, counts: Sequence[int], task: str) -> list[Any]:
    """Predictions of the first ``k`` rounds for each ``k`` in ``counts``: the raw scores of each further
    stretch of rounds are added to the previous ones, so the trees are evaluated once."""
    out, raw, start = [], 0.0, 0
    for k in counts:
        raw = raw + model.predict(X, raw_score=True, start_iteration=start, num_iteration=k - start)
        start = k
        out.append(from_margin(raw, task))
    return out


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 1000, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 255, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "subsample_freq": 1,
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


SPEC = ModelSpec(
    key="lightgbm", name="LightGBM", kind="boosting", preprocessing="native", cost=2.0, build=build,
    defaults={"n_estimators": 150, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
              "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0},
    # More, slower rounds (diamonds, held-out fifth: RMSE 531.7 against 543.3 for the defaults), and a small,
    # regularised model for small or noisy data.
    portfolio=((3.0, {"n_estimators": 1000, "learning_rate": 0.03, "min_child_samples": 10,
                      "colsample_bytree": 0.7}),
               (1.5, {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 30,
                      "subsample": 0.7, "colsample_bytree": 0.5, "reg_lambda": 5.0})),
    search_space=search_space,
    # wide data: each tree sees 30 % of the columns (XGBoost's and LightGBM's usual remedy; measured in
    # benchmarks/wide.md)
    wide={"colsample_bytree": 0.3},
    fit_params=lambda: {"callbacks": [deadline.lightgbm_callback]},
    rounds=Rounds("n_estimators", staged),
)
