"""Permutation feature importance of the final model, computed at fit time within what is left of the budget."""

from __future__ import annotations

import logging
import math
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from automl.data.schema import Schema
from automl.data.text import remembering_rows
from automl.errors import format_seconds, left_seconds
from automl.models.outputs import predict_scores
from automl.search.metrics import Metric

log = logging.getLogger(__name__)

MAX_ROWS = 2000
REPEATS = 5
MAX_COLUMNS = 40  # without a time limit (--trials), the columns permuted at most: the most associated first
UNTIMED_SECONDS = 120.0  # without a time limit, the most scoring time spent (a slow model: fewer repeats, columns)
MIN_COLUMNS = 10  # fewer repeats are tried before fewer columns than this


def _skipped(needed: float, left: float) -> None:
    """Log why permutation importance was skipped: the seconds one column needs against those left."""
    log.info("Permutation importance skipped: one column needs about %s, and the budget has %s.",
             format_seconds(needed), left_seconds(left))


def permutation_importance(model: Any, X: pd.DataFrame, y: np.ndarray, schema: Schema, metric: Metric,
                           seed: int, seconds: float | None, latency: float | None = None,
                           sample_weight: np.ndarray | None = None, repeats: int = REPEATS,
                           max_rows: int = MAX_ROWS) -> pd.DataFrame | None:
    """How much the metric worsens when one input column is shuffled (mean and std over ``repeats`` shuffles;
    Breiman 2001, "Random Forests", section 10; scikit-learn's ``permutation_importance``), one row per column:
    ``feature``, ``importance_mean``, ``importance_std`` (in the metric's units, positive: the model relies on
    it), most important first.

    Every input column has a row: those not shuffled (screening, below) come last with NaN (not ranked).
    ``importance_std`` is NaN with one repeat. Computed on up to ``max_rows`` of the rows given (sampled with
    ``seed``): on training rows it shows what the model relies on, not how it generalises; on held-out rows
    (:meth:`automl.api.AutoML.feature_importance`), what it relies on for new data.
    Columns are the users' input columns (a datetime column is shuffled with all its parts). When not every
    column can be permuted in ``seconds`` (``None``, a run without a time limit: at most ``MAX_COLUMNS``
    columns and ``UNTIMED_SECONDS`` of scoring, so a slow model, such as 26 classes of 1 000 boosting rounds at
    8 s per 1 000 rows, is not permuted for half an hour), fewer
    repeats are tried first, then only the columns most associated with the target on their own (univariate
    screening, :func:`screen`) are permuted. Returns ``None`` when not even one column fits; with ``latency``
    (the model's seconds per 1000 rows) that is known before the first scoring, which is then skipped too.
    ``seconds`` ``math.inf``: every column, ``repeats`` times (importance asked for by the user).
    ``sample_weight``: the rows' weights in the metric.

    Raises
    ------
    UndefinedScore
        When the metric is not finite on the rows as they are (ROC AUC on rows of one class).
    """
    with remembering_rows():  # free text: each review tokenised once, not once per scoring
        return _permutation_importance(model, X, y, schema, metric, seed, seconds, latency, sample_weight, repeats,
                                       max_rows)


class UndefinedScore(ValueError):
    """The metric is not defined on the rows to permute (NaN: ROC AUC on rows of one class, ...)."""


def _permutation_importance(model: Any, X: pd.DataFrame, y: np.ndarray, schema: Schema, metric: Metric,
                            seed: int, seconds: float | None, latency: float | None,
                            sample_weight: np.ndarray | None, repeats: int, max_rows: int) -> pd.DataFrame | None:
    untimed = seconds is None
    seconds = UNTIMED_SECONDS if untimed else seconds
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), max_rows), replace=False))
    if latency is not None and 2 * latency * len(rows) / 1000 > seconds:
        _skipped(latency * len(rows) / 1000, seconds)
        return None
    Xs, ys = X.iloc[rows].reset_index(drop=True), y[rows]
    ws = None if sample_weight is None else sample_weight[rows]
    features = schema.features
    n_classes = len(schema.classes or [])
    sign = 1.0 if metric.greater_is_better else -1.0

    def score(_: Any, Xp: pd.DataFrame, yp: np.ndarray) -> float:
        return sign * metric(yp, predict_scores(model, Xp, schema.task, n_classes), schema.task, ws)

    tick = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's "only one label" warning: the NaN is reported below
        baseline = score(None, Xs, ys)
    if not np.isfinite(baseline):
        raise UndefinedScore(f"{metric.name} is not defined on these {len(rows)} rows (it is {baseline}): "
                             f"{_why_undefined(ys, schema.task)}")
    one = time.monotonic() - tick
    evaluations = len(features) * repeats if math.isinf(seconds) else int(seconds / max(one, 1e-6))
    if untimed:
        evaluations = min(evaluations, MAX_COLUMNS * repeats)
    # as many repeats as leave room for every column, or at least MIN_COLUMNS of them; then fewer columns
    repeats = int(np.clip(evaluations // max(min(len(features), MIN_COLUMNS), 1), 1, repeats))
    k = min(len(features), evaluations // repeats)
    if k < 1:
        _skipped(one, seconds)
        return None
    if k < len(features):
        features = screen(Xs, ys, features, schema.task, k)
        log.info("Permutation importance: the %d of %d columns most associated with the target on their own "
                 "(univariate screening) are permuted; the others are not ranked.", k, len(schema.features))
    groups = [col.outputs() for col in features]
    result = _grouped(score, baseline, Xs, ys, groups, repeats, seed)
    frame = pd.DataFrame({"feature": [c.name for c in features], "importance_mean": result.mean(axis=1),
                          "importance_std": result.std(axis=1) if repeats > 1 else np.nan})  # one shuffle: no spread
    log.info("Permutation importance: %d columns, %d repeats on %d rows (%.1f s).", len(features), repeats,
             len(rows), time.monotonic() - tick)
    ranked = frame.sort_values("importance_mean", ascending=False, kind="stable")
    shuffled = {c.name for c in features}
    unranked = pd.DataFrame({"feature": [c.name for c in schema.features if c.name not in shuffled],
                             "importance_mean": np.nan, "importance_std": np.nan})
    # every column is listed: those not shuffled last, without a value, rather than missing from the list
    return pd.concat([ranked, unranked], ignore_index=True) if len(unranked) else ranked.reset_index(drop=True)


def _why_undefined(y: np.ndarray, task: str) -> str:
    if task != "regression" and len(np.unique(y)) < 2:
        return "they hold one class only; give rows of every class."
    if task == "regression" and len(np.unique(y)) < 2:
        return "their target has one value only; give rows with different values."
    return "give more rows, or rows of every class."


def screen(X: pd.DataFrame, y: np.ndarray, features: list[Any], task: str, k: int) -> list[Any]:
    """The ``k`` feature columns most associated with the target on their own, by p-value: an F-test for
    numbers (scikit-learn's ``f_classif`` / ``f_regression``, missing values at the median; a datetime column
    by its best part), a chi-squared test (classification) or one-way ANOVA (regression) for categories."""
    from scipy import stats
    from sklearn.feature_selection import f_classif, f_regression

    p_values = np.ones(len(features))
    numeric = [(i, n) for i, c in enumerate(features) if c.kind not in ("categorical", "text") for n in c.outputs()]
    for i, c in enumerate(features):  # free text has no single test here: it is always permuted
        if c.kind == "text":
            p_values[i] = 0.0
    if numeric:
        values = X[[n for _, n in numeric]].to_numpy(dtype=float)
        values = np.where(np.isnan(values), np.nanmedian(values, axis=0), values)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Features [...] are constant": their p-value is NaN, ranked last
            p = (f_regression if task == "regression" else f_classif)(np.nan_to_num(values), y)[1]
        for (i, _), pv in zip(numeric, np.nan_to_num(p, nan=1.0), strict=True):
            p_values[i] = min(p_values[i], pv)
    for i, c in enumerate(features):
        if c.kind != "categorical":  # numbers done above, text always kept
            continue
        levels = X[c.internal].astype(object).fillna("__missing__").to_numpy()
        try:
            if task == "regression":
                p_values[i] = stats.f_oneway(*[y[levels == v] for v in np.unique(levels)]).pvalue
            else:
                p_values[i] = stats.chi2_contingency(pd.crosstab(levels, y).to_numpy()).pvalue
        except ValueError:  # one level, or one class: no association to measure
            continue
    order = np.argsort(np.nan_to_num(p_values, nan=1.0), kind="stable")[:k]
    return [features[i] for i in sorted(order)]


def _grouped(score: Any, baseline: float, X: pd.DataFrame, y: np.ndarray, groups: list[list[str]],
             repeats: int, seed: int) -> np.ndarray:
    """Score drop per group of columns, each group shuffled with one row permutation per repeat.

    scikit-learn's ``permutation_importance`` shuffles single columns only; a datetime column becomes several
    prepared columns that must move together, hence this loop (the same algorithm, over column groups).
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((len(groups), repeats))
    for i, group in enumerate(groups):
        for r in range(repeats):
            shuffled, order = X.copy(), rng.permutation(len(X))
            for column in group:  # keeps each column's dtype (pandas categories for the native pipeline)
                shuffled[column] = X[column].iloc[order].reset_index(drop=True)
            out[i, r] = baseline - score(None, shuffled, y)
    return out
