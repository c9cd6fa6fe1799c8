"""Preparing one fit: read the data, infer the schema, drop leaks, plan the folds; what run.json records of them.

Shared by the coordinator (:mod:`automl.fit.running`) and the workers (:mod:`automl.fit.worker`): the same
config and data give the same folds.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.config import FitConfig
from automl.data import memory
from automl.data.datetimes import instants
from automl.data.io import read_table
from automl.data.leakage import drop_leaks
from automl.data.schema import describe_dropped, infer_schema
from automl.data.weights import take_weights
from automl.errors import ConfigError, DataError, format_rows
from automl.fit import runinfo
from automl.models import registry
from automl.results import DataRecord, RunFolder, RunRecord
from automl.search.cv import (
    duplicates_across_folds,
    group_codes,
    make_folds,
    plan_folds,
    plan_repeats,
    search_sample,
    time_folds,
)
from automl.search.evaluate import Context, wants_class_balance, wants_log_target
from automl.search.metrics import get_metric
from automl.search.storage import mask

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """The data of a run, ready for the search: all rows, the search rows (a sample of large data), the folds."""

    frame: pd.DataFrame
    X: pd.DataFrame
    y: Any
    X_s: pd.DataFrame
    y_s: Any
    folds: list[Any]
    n_folds: int
    repeats: int
    ctx: Context
    specs: list[Any]
    data_record: DataRecord
    n_groups: int | None = None  # groups of --group-column in the search rows
    group_hint: dict[str, Any] | None = None  # a column that looks like a group id, when none was given
    weights: Any = None  # --weight-column: every row's weight (mean 1), shape (n_rows,); ctx.weights: search rows
    time_periods: list[dict[str, Any]] | None = None  # --time-column: each fold's periods


def prepare(config: FitConfig, data: Any, expect_sha: str | None = None) -> Prepared:
    """Read and check the data, infer the schema, plan the folds (same seed and data: same folds)."""
    frame, info = read_table(data, config.na_values, config.sep)
    row_weight = None
    if config.weight_column is not None:
        frame, row_weight = take_weights(frame, config.weight_column, info.name)
    if expect_sha and info.sha256 and info.sha256 != expect_sha:
        raise DataError(f"{info.name} has changed since the run started (SHA-256 {info.sha256[:12]}..., "
                        f"was {expect_sha[:12]}...); a resumed run must see the same data. Start a new run with "
                        "`automl fit`.")
    schema, y_labels = infer_schema(frame, config, info)
    frame = frame.loc[y_labels.index]
    X = schema.transform(frame, where=info.name, strict=False)
    y = schema.encode_target(y_labels)
    X = drop_leaks(schema, X, y, config.keep_columns)
    if not schema.features:
        raise DataError(f"No usable feature columns are left in {info.name}: "
                        + describe_dropped(schema.dropped)
                        + ". Keep a column with --keep-column if it will be known at prediction time.")

    weights = None if row_weight is None else row_weight.loc[frame.index].to_numpy()
    weights = None if weights is None else weights / weights.mean()
    cv = plan_cv(config, frame, schema, y, info.name)
    sample = cv.sample
    X_s, y_s = (X, y) if sample is None else (X.iloc[sample], y[sample])
    weights_s = weights if sample is None or weights is None else weights[sample]
    n_folds, repeats, folds = cv.n_folds, cv.repeats, cv.folds
    hint = None if cv.n_groups is not None or cv.periods is not None else group_hint(schema, X_s, folds)
    metric = get_metric(schema.metric)
    log_target = wants_log_target(y_s, schema.task)
    if log_target:
        log.info("Target %r is non-negative and skewed (skewness %.1f): the search also tries models that learn "
                 "log1p(%s), with predictions transformed back.", schema.target, pd.Series(y_s).skew(), schema.target)
    n_jobs = config.n_jobs or os.cpu_count() or 1
    class_balance = wants_class_balance(y_s, schema.task)
    if class_balance:
        log.info("The minority class of %r holds %.1f %% of the rows: every family's search also tries balanced "
                 "class weights.", schema.target, 100 * np.bincount(y_s).min() / len(y_s))
    ctx = Context(schema, metric, config.preprocess, config.seed, n_jobs, log_target, class_balance, weights_s)
    specs = registry.select(schema.task, config.models, config.exclude_models)
    width = X.shape[1] + sum(min(c.n_unique, config.preprocess.max_categories) for c in schema.features
                             if c.kind == "categorical") + sum(c.n_missing > 0 for c in schema.features)
    memory.check_fit(len(y), len(y_s), width, [s.key for s in specs], int(frame.memory_usage().sum()))
    budget = f"{config.trials} trials per family" if config.trials else f"budget {config.time_limit:.0f} s"
    cv_text = cv.text + (f", rows weighted by {config.weight_column!r}" if weights is not None else "")
    log.info("Search: %s on %d rows, %s, metric %s, %s.",
             ", ".join(s.name for s in specs), len(y_s), cv_text, metric.name, budget)
    return Prepared(frame, X, y, X_s, y_s, list(folds), n_folds, repeats, ctx, list(specs),
                    runinfo.data_record(info, frame, schema), cv.n_groups, hint, weights, cv.periods)


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


def row_times(values: pd.Series, column: str, where: str) -> np.ndarray:
    """The rows' times for ordering (see :func:`automl.data.datetimes.instants`); :class:`DataError` naming
    the rows where a time is missing or not a date or number."""
    times = instants(values)
    bad = np.isnan(times)
    if bad.any():
        positions = values.index if pd.api.types.is_integer_dtype(values.index) else pd.RangeIndex(len(values))
        raise DataError(f"Time column {column!r} in {where} has no date or number in {int(bad.sum())} row(s): "
                        f"{format_rows(positions[bad])}. Fill them, or remove those rows.")
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


def recorded_config(config: FitConfig) -> dict[str, Any]:
    """The config as run.json keeps it: a storage URL without its password (workers give theirs)."""
    data = config.to_dict()
    if config.storage:
        data["storage"] = mask(config.storage)
    return data


def recorded_data(record: RunRecord, run_dir: Path) -> Path:
    """The data file a run recorded, which must still be there (:class:`ConfigError` otherwise)."""
    path = record.data.path if record.data else None
    if not path:
        raise ConfigError(f"The run in {run_dir} was fitted from a DataFrame, so automl cannot read its data "
                          "again. Resume it from Python: automl.AutoML.resume(run_dir, data=frame).")
    if not Path(path).is_file():
        raise ConfigError(f"The data of the run in {run_dir}, {path}, is no longer there. Put it back to resume, "
                          "or start a new run with `automl fit`.")
    return Path(path)


def study_prefix(config: FitConfig, folder: RunFolder) -> str:
    """Study names: plain in the run folder's own journal; unique per run in a shared database."""
    if config.storage is None:
        return "automl"
    return f"automl-{folder.path.resolve().name}-{uuid.uuid4().hex[:8]}"
