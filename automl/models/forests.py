"""Bagging ensembles of trees: RandomForest and ExtraTrees.

Regression forests use ``max_features=0.5``: scikit-learn's default of 1.0 makes them about 4x slower
(../shared/STACK.md §3). ``min_samples_leaf`` is a fraction of the rows (scikit-learn rounds it up), so a tree has
at most about 10 000 nodes whatever the data size: with 1 row per leaf, 300 ExtraTrees on 43 000 diamonds made a
1.7 GB model that took 25 s to save; with the fraction it is about 100 MB (and 1 row per leaf below 5 000 rows).

In the search's trials (under a soft deadline, :mod:`automl.models.deadline`) a forest grows its trees in steps
(:class:`GrowsUntilDeadline`) and stops when its time is up, keeping the trees it has: a forest of fewer trees is
still a forest, where stopping between folds loses the whole trial. The trees are those a single fit would grow
(scikit-learn draws each tree's seed in order, warm start or not), so a fit with time to spare is unchanged.
"""

from __future__ import annotations

import time
from typing import Any

from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from automl.models import deadline
from automl.models.base import ModelSpec

# Under a soft deadline, a forest first grows n_estimators / GROW_STEPS trees (at least GROW_MIN), then in one step
# as many more as the time left allows at its pace so far (at least that many again), checking the time after each
# step. Every step is a pass of scikit-learn's parallel tree building, which waits for its slowest tree: fixed
# steps of a tenth cost 12 % more than one fit, of a twentieth 28 %; with time to spare these two steps cost
# nothing measurable, and with 0.5 s for a 1-s forest it stopped at 0.59 s with 98-121 trees (200 ExtraTrees on
# 1 875 Ames rows, 2 cores).
GROW_STEPS = 10
GROW_MIN = 10


class GrowsUntilDeadline:
    """Mixin for a scikit-learn ensemble with ``n_estimators`` and ``warm_start`` (forests, bagging): under a
    soft deadline (the search's trials) its estimators are grown with warm start, first a tenth of them, then as
    many as the time left allows (see ``GROW_STEPS``), until there are ``n_estimators`` or the deadline has
    passed (past the hard one it raises :class:`~automl.models.deadline.FitTimeout`); ``n_grown_`` (an int) says
    how many. Without one (a refit, a plain fit) it is its scikit-learn class. Its parameters are as given after
    ``fit``; its estimators are those one fit would grow."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> Any:
        target = int(self.n_estimators)
        if not deadline.has_soft() or self.warm_start or target <= GROW_MIN:
            super().fit(X, y, sample_weight=sample_weight, **fit_params)
            self.n_grown_ = len(self.estimators_)
            return self
        step = max(GROW_MIN, -(-target // GROW_STEPS))
        grown, started = min(step, target), time.monotonic()
        try:
            self.set_params(warm_start=True)
            while True:
                self.set_params(n_estimators=grown)
                super().fit(X, y, sample_weight=sample_weight, **fit_params)
                deadline.check()  # past the hard deadline (the search's end): FitTimeout, as a boosting round
                if grown >= target or deadline.soft_passed():
                    break
                per_tree = (time.monotonic() - started) / grown
                grown = min(target, grown + max(step, int(deadline.soft_left() / per_tree)))
        finally:
            self.set_params(warm_start=False, n_estimators=target)
        self.n_grown_ = len(self.estimators_)
        return self


class GrowingRandomForestClassifier(GrowsUntilDeadline, RandomForestClassifier):
    """scikit-learn's RandomForestClassifier, grown in steps under the search's soft deadline."""


class GrowingRandomForestRegressor(GrowsUntilDeadline, RandomForestRegressor):
    """scikit-learn's RandomForestRegressor, grown in steps under the search's soft deadline."""


class GrowingExtraTreesClassifier(GrowsUntilDeadline, ExtraTreesClassifier):
    """scikit-learn's ExtraTreesClassifier, grown in steps under the search's soft deadline."""


class GrowingExtraTreesRegressor(GrowsUntilDeadline, ExtraTreesRegressor):
    """scikit-learn's ExtraTreesRegressor, grown in steps under the search's soft deadline."""


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
    cls = GrowingRandomForestRegressor if task == "regression" else GrowingRandomForestClassifier
    return cls(**_params(task, params, seed, n_jobs))


def build_extra_trees(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    cls = GrowingExtraTreesRegressor if task == "regression" else GrowingExtraTreesClassifier
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
    anytime=True, grown="n_estimators",
)
EXTRA_TREES = ModelSpec(
    key="extra_trees", name="ExtraTrees", kind="bagging", preprocessing="ordinal", cost=4.0,
    build=build_extra_trees, defaults=DEFAULTS, search_space=search_space, fold_models="drop", wide=WIDE,
    anytime=True, grown="n_estimators",
)
