"""Data understanding in numbers: what the report shows about the table, computed once at fit time.

The report is a pure function of the run folder, so everything it says about the data is saved here
(``profile.json``): per column its kind, missing values, distinct values, and for numbers summary statistics,
skewness, IQR outliers and a histogram; for datetimes the earliest and latest; for categories the most frequent
levels; for free text the mean word count and the words most associated with the target; the target's
distribution; duplicate rows; dropped columns with the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from automl.data.schema import Schema
from automl.data.text import top_terms

BINS = 20
TOP_LEVELS = 10
IQR_FACTOR = 1.5  # Tukey's fences, the usual definition of an outlier (clipping uses --outlier-factor)


def profile(frame: pd.DataFrame, X: pd.DataFrame, schema: Schema, y: np.ndarray) -> dict[str, Any]:
    """JSON-ready profile of the training table.

    Parameters
    ----------
    frame
        The table as read (rows with a target only).
    X
        ``schema.transform(frame)``: the prepared feature columns (internal names).
    schema
        The inferred schema.
    y
        The encoded target (class codes or values).
    """
    columns = []
    numeric = [c.internal for c in schema.columns if c.kind == "numeric" and c.internal in X]
    summaries = numeric_summaries(X[numeric].to_numpy(dtype=float)) if numeric else []
    by_column = dict(zip(numeric, summaries, strict=True))
    for col in schema.columns:
        entry: dict[str, Any] = {"name": col.name, "kind": col.kind, "dtype": col.dtype, "missing": col.n_missing,
                                 "missing_share": col.n_missing / max(len(frame), 1), "unique": col.n_unique,
                                 "reason": col.reason}
        if col.number_format and len(col.number_format) > 2 and col.number_format[2]:
            entry["unit"] = col.number_format[2]  # read as numbers in this unit ("12.5 kg")
        if col.kind == "numeric" and col.internal in by_column:
            entry.update(by_column[col.internal])
        elif col.kind in ("categorical", "boolean") and col.internal in X:
            counts = X[col.internal].astype(object).value_counts(dropna=True)
            entry["top_levels"] = [[str(k), int(v)] for k, v in counts.head(TOP_LEVELS).items()]
        elif col.kind == "datetime" and col.name in frame:
            entry.update(date_range(frame[col.name], col.datetime_format))
        elif col.kind == "text" and col.internal in X:
            words = X[col.internal].str.split().str.len()
            entry["mean_words"] = float(words.mean())
            entry["top_terms"] = top_terms(X[col.internal], y, schema.task)
        columns.append(entry)
    return {
        "rows": len(frame), "input_columns": len(frame.columns) - 1, "features": len(schema.features),
        "dropped": [{"name": c.name, "reason": c.reason} for c in schema.dropped],
        "duplicate_rows": int(frame.duplicated().sum()),
        "rows_missing_target": schema.n_missing_target,
        "columns": columns, "target": _target(schema, y),
    }


def numeric_summaries(values: np.ndarray) -> list[dict[str, Any]]:
    """:func:`numeric_summary` of each column of ``values`` (rows × columns); the statistics of complete columns
    are computed together (a table may have thousands of columns)."""
    out: list[dict[str, Any]] = [{} for _ in range(values.shape[1])]
    complete = np.isfinite(values).all(axis=0)
    if len(values) > 2 and complete.any():
        block = values[:, complete]
        q1, median, q3 = np.quantile(block, [0.25, 0.5, 0.75], axis=0)
        iqr = q3 - q1
        outliers = ((block < q1 - IQR_FACTOR * iqr) | (block > q3 + IQR_FACTOR * iqr)).sum(axis=0)
        with np.errstate(all="ignore"):
            skew = np.nan_to_num(pd.DataFrame(block).skew().to_numpy(), nan=0.0)
        mean, std, low, high = block.mean(axis=0), block.std(axis=0), block.min(axis=0), block.max(axis=0)
        for j, i in enumerate(np.flatnonzero(complete)):
            v = block[:, j]
            out[i] = {"mean": float(mean[j]), "std": float(std[j]), "min": float(low[j]), "q1": float(q1[j]),
                      "median": float(median[j]), "q3": float(q3[j]), "max": float(high[j]), "skew": float(skew[j]),
                      "iqr_outliers": int(outliers[j]) if iqr[j] > 0 else 0, **_histogram(v)}
    for i in np.flatnonzero(~complete if len(values) > 2 else np.ones(values.shape[1], dtype=bool)):
        out[i] = numeric_summary(values[:, i])
    return out


def _histogram(v: np.ndarray) -> dict[str, Any]:
    try:
        counts, edges = np.histogram(v, bins=min(BINS, max(1, len(np.unique(v)))))
    except (ValueError, OverflowError):  # a range no float can span: no histogram, the numbers still stand
        return {"hist_counts": [], "hist_edges": []}
    return {"hist_counts": counts.tolist(), "hist_edges": edges.tolist()}


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    """Mean, spread, quartiles, skewness, IQR outliers and a histogram of the finite values."""
    v = values[np.isfinite(values)]
    if not len(v):
        return {}
    q1, median, q3 = (float(x) for x in np.quantile(v, [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    outliers = int(((v < q1 - IQR_FACTOR * iqr) | (v > q3 + IQR_FACTOR * iqr)).sum()) if iqr > 0 else 0
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "q1": q1, "median": median,
            "q3": q3, "max": float(v.max()), "skew": float(np.nan_to_num(pd.Series(v).skew())) if len(v) > 2 else 0.0,
            "iqr_outliers": outliers, **_histogram(v)}


def date_range(values: pd.Series, fmt: str | None = None) -> dict[str, str]:
    """The earliest and latest of a datetime column's values as written (local times), as ISO 8601 text:
    ``{"min": "2024-01-01", "max": "2024-10-26"}``, with the time of day unless every value is at midnight;
    ``{}`` if none is a datetime. ``fmt``: the column's non-ISO format found at fit (``Column.datetime_format``)."""
    from automl.data import datetimes

    try:
        wall = datetimes.split(values.dropna(), fmt)[0].dropna()
    except (ValueError, TypeError, OverflowError):  # the report's range only: the fit read the column already
        return {}
    if not len(wall):
        return {}
    low, high = wall.min(), wall.max()
    if (wall == wall.dt.normalize()).all():
        return {"min": low.date().isoformat(), "max": high.date().isoformat()}
    return {"min": low.isoformat(sep=" "), "max": high.isoformat(sep=" ")}


def _target(schema: Schema, y: np.ndarray) -> dict[str, Any]:
    if schema.classes is None:
        return {"name": schema.target, "kind": "regression", **numeric_summary(np.asarray(y, dtype=float))}
    counts = np.bincount(y, minlength=len(schema.classes))
    return {"name": schema.target, "kind": schema.task, "classes": list(schema.classes),
            "class_counts": [int(c) for c in counts], "positive_class": schema.positive_class}
