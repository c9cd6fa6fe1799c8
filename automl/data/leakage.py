"""Suspected target leakage: a single column that predicts the target perfectly.

A column that determines the target on every row (an outcome recorded after the fact, a copy or recoding of the
target) makes every model look perfect in cross-validation and useless in production. Such columns are dropped
with the reason, unless the user keeps them (``--keep-column``) because they will be known at prediction time.

The checks are deliberately strict (perfect separation, not "strong"), so real predictors are never dropped:

- classification: every distinct value of the column (missing counted as a value) belongs to one class only,
  the column repeats values (at most half as many distinct values as rows, else any ID would pass), and the
  classes form contiguous blocks when a numeric column is sorted;
- regression: |Spearman correlation| >= 0.999 for a numeric column.

Tables under ``MIN_ROWS`` rows are not checked: perfect separation happens by chance there.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from automl.data.schema import Schema

log = logging.getLogger(__name__)

MIN_ROWS = 50
MAX_MISSING_SHARE = 0.05


def leak_reason(x: pd.Series, y: np.ndarray, task: str) -> str | None:
    """Why column ``x`` looks like target leakage, or ``None``."""
    n = len(x)
    present = x.notna().to_numpy()
    if n < MIN_ROWS or present.mean() < 1 - MAX_MISSING_SHARE:
        return None
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(x) or x.nunique() < 10:
            return None
        rho = pd.Series(x.to_numpy(dtype=float)[present]).corr(pd.Series(y[present]), method="spearman")
        if np.isfinite(rho) and abs(rho) >= 0.999:
            return f"suspected target leakage: its rank correlation with the target is {rho:.4f}"
        return None
    codes = x.astype(object).where(x.notna(), "__missing__")
    groups = pd.DataFrame({"v": codes.to_numpy(), "y": y}).groupby("v", sort=False)["y"].nunique()
    if len(groups) < 2 or (groups > 1).any():
        return None
    if pd.api.types.is_numeric_dtype(x) and len(groups) > n / 2:
        order = np.argsort(x.to_numpy(dtype=float)[present], kind="stable")
        changes = int((np.diff(y[present][order]) != 0).sum())
        if changes > len(np.unique(y)) - 1:
            return None
        return "suspected target leakage: sorting by this column separates the classes perfectly"
    if len(groups) > n / 2:
        return None
    return f"suspected target leakage: each of its {len(groups)} values occurs with one class only"


def drop_leaks(schema: Schema, X: pd.DataFrame, y: np.ndarray, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Mark leaking feature columns of ``schema`` as dropped (with the reason) and return ``X`` without them."""
    drop: list[str] = []
    for col in schema.features:
        if col.name in keep or col.kind == "datetime":
            continue
        reason = leak_reason(X[col.internal], y, schema.task)
        if reason is None:
            continue
        outputs = col.outputs()
        col.kind, col.reason = "dropped", reason
        drop += outputs
        log.warning("Dropped column %r: %s. If it will be known when you predict, keep it with --keep-column %s.",
                    col.name, reason, col.name)
    return X.drop(columns=drop) if drop else X
