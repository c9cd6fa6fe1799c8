"""The folds of a run: shuffled (stratified) k-fold, group k-fold (``--group-column``) or forward-chaining
folds in time (``--time-column``), over the search rows (a stratified sample of large data), and the hint that a
column looks like a group id when no group column was given."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from automl.config import FitConfig
from automl.data.datetimes import instants
from automl.data.io import file_rows
from automl.errors import DataError, format_rows
from automl.search.cv import (
    duplicates_across_folds,
    group_codes,
    make_folds,
    plan_folds,
    plan_repeats,
    search_sample,
    time_folds,
)

log = logging.getLogger(__name__)


@dataclass
class CVPlan:
    """The folds of a run and what decided them."""

    n_folds: int
    repeats: int
    sample: Any  # row positions of the search sample (large data), or None: every row
    folds: list[Any]
    n_groups: int | None  # --group-column: groups in the search rows
    periods: list[dict[str, Any]] | None  # --time-column: each fold's training and validation periods
    text: str  # for the log's plan line


def plan_cv(config: FitConfig, frame: pd.DataFrame, schema: Any, y: np.ndarray, where: str) -> CVPlan:
    """Shuffled (stratified) k-fold, group k-fold (``--group-column``) or forward-chaining folds in time
    (``--time-column``) over the search rows, as the config asks (same seed and data: same folds)."""
    groups = None if config.group_column is None else group_codes(frame[config.group_column])
    times = None if config.time_column is None else row_times(frame[config.time_column], config.time_column, where)
    n_folds = plan_folds(y, schema.task, config.folds, schema.classes, groups, config.group_column or "")
    sample = search_sample(y, schema.task, config.sample_rows, config.seed, min_per_class=n_folds)
    y_s = y if sample is None else y[sample]
    text = f"{n_folds} folds"
    if times is not None:
        times_s = times if sample is None else times[sample]  # the sample's rows stay in time order
        if (config.repeats or 1) > 1:
            log.warning("--repeats %d is ignored: forward-chaining folds in time have one order.", config.repeats)
        folds = time_folds(times_s, n_folds, config.time_gap)
        periods = time_periods(folds, times_s, frame[config.time_column], sample)
        if schema.task != "regression":
            check_time_classes(folds, periods, y_s, schema, config.time_column)
        text += f" chained forward in time by {config.time_column!r} (the earliest period only trained on)"
        return CVPlan(n_folds, 1, sample, folds, None, periods, text)
    groups_s = groups if sample is None or groups is None else groups[sample]
    repeats = plan_repeats(len(y_s), config.repeats, None if config.trials else config.time_limit)
    folds = make_folds(y_s, schema.task, n_folds, config.seed, repeats, groups_s)
    text += f" repeated {repeats} times" if repeats > 1 else ""
    n_groups = None if groups_s is None else len(set(groups_s.tolist()))
    if n_groups is not None:
        text += f" grouped by {config.group_column!r} ({n_groups:,} groups, none in two folds)"
    return CVPlan(n_folds, repeats, sample, folds, n_groups, None, text)


def check_time_classes(folds: list[Any], periods: list[dict[str, Any]], y: np.ndarray, schema: Any,
                       column: str) -> None:
    """:class:`DataError` naming the forward-chaining folds that cannot be scored: one whose training rows hold
    one class (no model learns from it), or whose validation period leaves the metric undefined (ROC AUC on a
    period of one class). Shuffled folds are stratified; folds in time cannot be, so a class that occurs in one
    stretch of time (or a rare one) can be missing from a whole period."""
    from automl.search.metrics import get_metric

    metric, n_classes = get_metric(schema.metric), len(schema.classes or ())
    problems, undefined = [], 0
    for i, ((train, valid), period) in enumerate(zip(folds, periods, strict=True), start=1):
        if len(np.unique(y[train])) < 2:
            problems.append(f"fold {i} trains on one class only ({period['train_from']} to {period['train_until']})")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score = metric(y[valid], np.full((len(valid), n_classes), 1 / n_classes), schema.task)
        except ValueError:
            score = float("nan")
        if not np.isfinite(score):
            undefined += 1
            present = np.unique(y[valid])
            problems.append(f"fold {i} validates on {period['valid_from']} to {period['valid_until']}, where only "
                            + ", ".join(repr(str(schema.classes[c])) for c in present)
                            + f" occur{'s' if len(present) == 1 else ''}")
    if problems:
        fixes = [f"fewer folds (--folds {len(folds) - 1}: longer periods)"] if len(folds) > 2 else []
        if undefined:  # a period of one class: a metric defined there scores it
            fixes.append("a metric defined on a period of one class (--metric log_loss or accuracy)")
        fixes.append(f"shuffled, stratified folds (without --time-column {column})")
        raise DataError(
            f"Forward-chaining folds in time by {column!r} cannot score every fold with {metric.name}: "
            + "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            + ". Use " + ", or ".join(fixes) + "."
        )


def row_times(values: pd.Series, column: str, where: str) -> np.ndarray:
    """The rows' times for ordering (see :func:`automl.data.datetimes.instants`); :class:`DataError` naming
    the rows where a time is missing or not a date or number."""
    times = instants(values)
    bad = np.isnan(times)
    if bad.any():
        raise DataError(f"Time column {column!r} in {where} has no date or number in {int(bad.sum())} row(s): "
                        f"{format_rows(file_rows(values, bad))}. Fill them, or remove those rows.")
    return times


def time_periods(folds: list[Any], times: np.ndarray, values: pd.Series, sample: Any) -> list[dict[str, Any]]:
    """Each forward-chaining fold's training and validation periods, as written in the data, for the report."""
    shown = values if sample is None else values.iloc[sample]

    def at(rows: np.ndarray, pick: Any) -> str:
        return str(shown.iloc[int(rows[pick(times[rows])])])

    return [{"train_rows": len(train), "train_from": at(train, np.argmin), "train_until": at(train, np.argmax),
             "valid_rows": len(valid), "valid_from": at(valid, np.argmin), "valid_until": at(valid, np.argmax)}
            for train, valid in folds]


GROUP_LIKE_ROWS = (2.0, 50.0)  # rows per value of a column that looks like a group id
MIN_DUPLICATE_SHARE = 0.005  # of the search rows, duplicated across folds, before suggesting --group-column


def group_hint(schema: Any, X: pd.DataFrame, folds: list[Any]) -> dict[str, Any] | None:
    """A categorical column that looks like a group id (many repeated values, 2 to 50 rows each) while exact
    duplicate rows (on the other columns) are validated in other folds than their copies: the CV score may be
    optimistic, and ``--group-column`` is suggested (logged, and kept for the report). ``None`` otherwise."""
    n = len(X)
    best = None
    for col in schema.features:
        if col.kind != "categorical" or not col.n_unique or not (
                GROUP_LIKE_ROWS[0] <= n / col.n_unique <= GROUP_LIKE_ROWS[1]) or col.n_unique < 2 * len(folds):
            continue
        crossing = duplicates_across_folds(X.drop(columns=col.outputs()), folds)
        if crossing >= max(2, MIN_DUPLICATE_SHARE * n) and (best is None or crossing > best["duplicate_rows"]):
            best = {"column": col.name, "values": col.n_unique, "rows_per_value": round(n / col.n_unique, 1),
                    "duplicate_rows": crossing}
    if best:
        log.warning("Column %r looks like a group id (%d values, %.1f rows each) and %d rows have an exact "
                    "duplicate in another fold: the CV score may be optimistic. If rows sharing a %r are related "
                    "(one patient, one customer), pass --group-column %s.", best["column"], best["values"],
                    best["rows_per_value"], best["duplicate_rows"], best["column"], best["column"])
    return best
