"""Preparing one fit: read the data, infer the schema, drop leaks, plan the folds; what run.json records of them.

Shared by the coordinator (:mod:`automl.fit.running`) and the workers (:mod:`automl.fit.worker`): the same
config and data give the same folds.
"""

from __future__ import annotations

import dataclasses
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
from automl.data.io import frame_sha256, read_table
from automl.data.leakage import drop_leaks
from automl.data.schema import describe_dropped, infer_schema
from automl.data.weights import take_weights
from automl.errors import ConfigError, DataError
from automl.fit import runinfo
from automl.fit.folds import group_hint, plan_cv
from automl.models import registry
from automl.results import DataRecord, RunFolder, RunRecord
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


def prepare(config: FitConfig, data: Any, expect: DataRecord | None = None) -> Prepared:
    """Read and check the data, infer the schema, plan the folds (same seed and data: same folds).

    ``expect``: what the run recorded of its data (a resumed run, a worker): the data must have the same hash,
    a file's bytes or a DataFrame's values (:class:`DataError` otherwise). A DataFrame's hash is computed here,
    for the run's record, not when a saved model reads one to predict."""
    frame, info = read_table(data, config.na_values, config.sep)
    if info.path is None:
        info = dataclasses.replace(info, sha256=frame_sha256(frame))
    # row i of the table as read is index i, through every row left out below: messages and the out-of-fold
    # predictions' `row` number rows as read (a DataFrame's own index is not the rows' numbering)
    frame = frame.reset_index(drop=True)
    row_weight = None
    if config.weight_column is not None:
        frame, row_weight = take_weights(frame, config.weight_column, info.name)
    # a run fitted from a file resumed from a DataFrame (or the other way) has nothing to compare
    expect_sha = expect.sha256 if expect is not None and (expect.path is None) == (info.path is None) else None
    if expect_sha and info.sha256 and info.sha256 != expect_sha:
        what, fix = (("The DataFrame differs from the one the run started with",
                      "pass that DataFrame (AutoML.resume(run_dir, data=...))") if info.path is None
                     else (f"{info.name} has changed since the run started", "put the file back as it was"))
        raise DataError(f"{what} (SHA-256 {info.sha256[:12]}..., was {expect_sha[:12]}...); a resumed run must see "
                        f"the same data: {fix}, or start a new run with `automl fit` (or AutoML(...).fit).")
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
    ctx = Context(schema, metric, config.preprocess, config.seed, n_jobs, log_target, class_balance, weights_s,
                  config.threshold if schema.task == "binary" else None)
    specs = registry.select(schema.task, config.models, config.exclude_models)
    width = X.shape[1] + sum(min(c.n_unique, config.preprocess.max_categories) for c in schema.features
                             if c.kind == "categorical") + sum(c.n_missing > 0 for c in schema.features)
    memory.check_fit(len(y), len(y_s), width, [s.key for s in specs], int(frame.memory_usage().sum()))
    budget = (f"{config.trials} trial{'s' if config.trials != 1 else ''} per family" if config.trials
              else f"budget {config.time_limit:.0f} s")
    cv_text = cv.text + (f", rows weighted by {config.weight_column!r}" if weights is not None else "")
    log.info("Search: %s on %d rows, %s, metric %s, %s.",
             ", ".join(s.name for s in specs), len(y_s), cv_text, metric.name, budget)
    return Prepared(frame, X, y, X_s, y_s, list(folds), n_folds, repeats, ctx, list(specs),
                    runinfo.data_record(info, frame, schema), cv.n_groups, hint, weights, cv.periods)


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
