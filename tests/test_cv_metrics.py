"""Shared folds, the search sample, and metrics."""

from __future__ import annotations

import numpy as np
import pytest

from automl.config import METRICS
from automl.errors import ConfigError, DataError
from automl.search.cv import make_folds, plan_folds, search_sample
from automl.search.metrics import all_scores, get_metric


def test_folds_are_stratified_seeded_and_cover_every_row(seed):
    y = np.array([0] * 90 + [1] * 10)
    folds = make_folds(y, "binary", 5, seed)
    assert [int(y[v].sum()) for _, v in folds] == [2] * 5
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(100))
    again = make_folds(y, "binary", 5, seed)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))
    other = make_folds(y, "binary", 5, seed + 1)
    assert any((a[1] != b[1]).any() for a, b in zip(folds, other, strict=True))


def test_plan_folds():
    assert plan_folds(np.array([0, 1] * 10), "binary", 5) == 5
    assert plan_folds(np.array([0] * 20 + [1] * 3), "binary", 5) == 3
    with pytest.raises(DataError, match="fewer than the 5"):
        plan_folds(np.arange(4.0), "regression", 5)


def test_search_sample_is_stratified_and_keeps_rare_classes(seed):
    y = np.array([0] * 9000 + [1] * 990 + [2] * 10)
    assert search_sample(y, "multiclass", 20000, seed) is None
    sample = search_sample(y, "multiclass", 1000, seed, min_per_class=5)
    counts = np.bincount(y[sample])
    assert counts[0] == 900 and counts[1] == 99 and counts[2] == 5
    np.testing.assert_array_equal(sample, search_sample(y, "multiclass", 1000, seed, min_per_class=5))
    reg = search_sample(np.random.default_rng(0).normal(size=5000), "regression", 500, seed)
    assert 490 <= len(reg) <= 510


def test_metrics():
    y = np.array([0, 1, 1, 0])
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    scores = all_scores(y, p, "binary")
    assert scores["accuracy"] == 0.75 and scores["roc_auc"] == 0.75 and scores["recall"] == 1.0  # 3 of 4 pairs
    assert scores["precision"] == pytest.approx(2 / 3)
    assert get_metric("rmse")(np.array([1.0, 2.0]), np.array([1.0, 4.0]), "regression") == pytest.approx(2**0.5)
    assert get_metric("log_loss").better(0.1, 0.2) and get_metric("roc_auc").better(0.9, 0.8)
    multi = all_scores(np.array([0, 1, 2]), np.eye(3), "multiclass")
    assert multi["accuracy"] == 1.0 and multi["log_loss"] < 1e-6
    assert set(METRICS) == {"roc_auc", "log_loss", "accuracy", "f1", "precision", "recall", "balanced_accuracy",
                            "rmse", "mse", "mae", "r2"}
    assert scores["balanced_accuracy"] == pytest.approx(0.75)  # recall 1/2 of class 0, 2/2 of class 1
    weighted = get_metric("rmse")(np.array([1.0, 2.0]), np.array([1.0, 4.0]), "regression", np.array([1.0, 0.0]))
    assert weighted == 0.0  # a row of weight 0 does not count
    with pytest.raises(ConfigError, match="choose one of"):
        get_metric("auc")


def test_log_target_only_for_skewed_non_negative_regression():
    from automl.search.evaluate import wants_log_target

    rng = np.random.default_rng(0)
    assert wants_log_target(rng.lognormal(size=500), "regression")
    assert not wants_log_target(rng.normal(size=500), "regression")
    assert not wants_log_target(rng.lognormal(size=500) - 1, "regression")  # negative values
    assert not wants_log_target(np.array([0, 1] * 50), "binary")
