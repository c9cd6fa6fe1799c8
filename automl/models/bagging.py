"""Bagged decision trees (scikit-learn Bagging: bootstrap samples, averaged votes; no random feature choice)."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import BaggingClassifier, BaggingRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from automl.models.base import ModelSpec
from automl.models.forests import MIN_LEAF_FRACTION, GrowsUntilDeadline  # the forests' cap on tree size


class GrowingBaggingClassifier(GrowsUntilDeadline, BaggingClassifier):
    """scikit-learn's BaggingClassifier, grown in steps under the search's soft deadline."""


class GrowingBaggingRegressor(GrowsUntilDeadline, BaggingRegressor):
    """scikit-learn's BaggingRegressor, grown in steps under the search's soft deadline."""


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    tree_cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    tree = tree_cls(min_samples_leaf=params["min_samples_leaf"], max_depth=params["max_depth"])
    cls = GrowingBaggingRegressor if task == "regression" else GrowingBaggingClassifier
    return cls(tree, n_estimators=params["n_estimators"], max_samples=params["max_samples"],
               max_features=params["max_features"], random_state=seed, n_jobs=n_jobs)


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 20, 300, log=True),
        "max_samples": trial.suggest_float("max_samples", 0.3, 1.0),
        "min_samples_leaf": trial.suggest_float("min_samples_leaf", MIN_LEAF_FRACTION, 0.02, log=True),
        "max_depth": trial.suggest_categorical("max_depth", [None, 8, 16]),
    }


SPEC = ModelSpec(
    key="bagging", name="Bagged trees", kind="bagging", preprocessing="ordinal", cost=6.0, build=build,
    defaults={"n_estimators": 100, "max_samples": 1.0, "min_samples_leaf": MIN_LEAF_FRACTION,
              "max_depth": None, "max_features": 1.0},
    search_space=search_space,
    wide={"max_features": 0.3},  # each tree on 30 % of the columns (random subspaces)
    fold_models="drop",  # deep trees: k fold models take too much memory
    anytime=True, grown="n_estimators",  # its trees grown until the trial's time is up (automl.models.forests)
)
