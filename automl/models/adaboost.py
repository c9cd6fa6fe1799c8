"""AdaBoost over shallow decision trees: each round re-weights the rows the previous rounds got wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from automl.models.base import ModelSpec, Rounds, pick_stages


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    tree_cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    tree = tree_cls(max_depth=params["max_depth"])
    cls = AdaBoostRegressor if task == "regression" else AdaBoostClassifier
    return cls(tree, n_estimators=params["n_estimators"], learning_rate=params["learning_rate"], random_state=seed)


def staged(model: Any, X: Any, counts: Sequence[int], task: str) -> list[Any]:
    """Predictions of the first ``k`` rounds for each ``k`` in ``counts``, from one pass over the stages."""
    stages = model.staged_predict(X) if task == "regression" else model.staged_predict_proba(X)
    return pick_stages(stages, counts)


def search_space(trial: Any, task: str) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 1.0, log=True),
        "max_depth": trial.suggest_int("max_depth", 1, 6),
    }


SPEC = ModelSpec(
    key="adaboost", name="AdaBoost", kind="boosting", preprocessing="ordinal", cost=4.0, build=build,
    defaults={"n_estimators": 100, "learning_rate": 0.5, "max_depth": 2},
    search_space=search_space,
    rounds=Rounds("n_estimators", staged),
)
