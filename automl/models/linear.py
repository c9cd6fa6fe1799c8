"""Linear reference models: logistic regression (classification) and ridge regression."""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression, Ridge

from automl.models.base import ModelSpec


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    if task == "regression":
        return Ridge(alpha=params["alpha"], random_state=seed)
    return LogisticRegression(C=params["C"], max_iter=2000, random_state=seed)


def search_space(trial: Any, task: str) -> dict[str, Any]:
    if task == "regression":
        return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}
    return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}


SPEC = ModelSpec(
    key="linear", name="Linear (logistic / ridge)", kind="linear", preprocessing="dense", cost=1.0,
    build=build, defaults={"C": 1.0, "alpha": 1.0}, search_space=search_space,
)
