"""Bagging ensembles of trees: RandomForest and ExtraTrees.

Regression forests use ``max_features=0.5``: scikit-learn's default of 1.0 makes them about 4x slower
(../shared/STACK.md §3). ``min_samples_leaf`` is a fraction of the rows (scikit-learn rounds it up), so a tree has
at most about 10 000 nodes whatever the data size: with 1 row per leaf, 300 ExtraTrees on 43 000 diamonds made a
1.7 GB model that took 25 s to save; with the fraction it is about 100 MB (and 1 row per leaf below 5 000 rows).
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from automl.models.base import ModelSpec


def _params(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> dict[str, Any]:
    max_features = params.get("max_features", "auto")
    if max_features == "auto":  # sqrt for classification, half the features for regression
        max_features = "sqrt" if task != "regression" else 0.5
    return {
        "n_estimators": params["n_estimators"],
        "max_features": max_features,
        "min_samples_leaf": params["min_samples_leaf"],
        "max_depth": params.get("max_depth"),
        "random_state": seed,
        "n_jobs": n_jobs,
    }


def build_random_forest(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return cls(**_params(task, params, seed, n_jobs))


def build_extra_trees(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    cls = ExtraTreesRegressor if task == "regression" else ExtraTreesClassifier
    return cls(**_params(task, params, seed, n_jobs))


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 400, step=50),
        "max_features": trial.suggest_categorical("max_features", ["auto", "sqrt", 0.2, 0.35, 0.5, 0.75, 1.0]),
        "min_samples_leaf": trial.suggest_float("min_samples_leaf", MIN_LEAF_FRACTION, 0.02, log=True),
        "max_depth": trial.suggest_categorical("max_depth", [None, 8, 16, 32]),
    }


MIN_LEAF_FRACTION = 2e-4  # of the training rows: at most ~10 000 nodes per tree
WIDE = {"max_features": "sqrt"}  # regression too (its default, half the columns, costs 35x more on 5 000 columns)
DEFAULTS = {"n_estimators": 200, "min_samples_leaf": MIN_LEAF_FRACTION, "max_features": "auto", "max_depth": None}

RANDOM_FOREST = ModelSpec(
    key="random_forest", name="RandomForest", kind="bagging", preprocessing="ordinal", cost=8.0,
    build=build_random_forest, defaults=DEFAULTS, search_space=search_space, fold_models="drop", wide=WIDE,
)
EXTRA_TREES = ModelSpec(
    key="extra_trees", name="ExtraTrees", kind="bagging", preprocessing="ordinal", cost=4.0,
    build=build_extra_trees, defaults=DEFAULTS, search_space=search_space, fold_models="drop", wide=WIDE,
)
