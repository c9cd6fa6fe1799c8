"""Data understanding in numbers: what the report shows about the table, computed once at fit time.

The report is a pure function of the run folder, so everything it says about the data is saved here
(``profile.json``): per column its kind, missing values, distinct values, and for numbers summary statistics,
skewness, IQR outliers and a histogram; for categories the most frequent levels; the target's distribution;
duplicate rows; dropped columns with the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from automl.data.schema import Schema

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
    for col in schema.columns:
        entry: dict[str, Any] = {"name": col.name, "kind": col.kind, "dtype": col.dtype, "missing": col.n_missing,
                                 "missing_share": col.n_missing / max(len(frame), 1), "unique": col.n_unique,
                                 "reason": col.reason}
        if col.kind == "numeric" and col.internal in X:
            entry.update(numeric_summary(X[col.internal].to_numpy(dtype=float)))
        elif col.kind in ("categorical", "boolean") and col.internal in X:
            counts = X[col.internal].astype(object).value_counts(dropna=True)
            entry["top_levels"] = [[str(k), int(v)] for k, v in counts.head(TOP_LEVELS).items()]
        columns.append(entry)
    return {
        "rows": len(frame), "input_columns": len(frame.columns) - 1, "features": len(schema.features),
        "dropped": [{"name": c.name, "reason": c.reason} for c in schema.dropped],
        "duplicate_rows": int(frame.duplicated().sum()),
        "rows_missing_target": schema.n_missing_target,
        "columns": columns, "target": _target(schema, y),
    }


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    """Mean, spread, quartiles, skewness, IQR outliers and a histogram of the finite values."""
    v = values[np.isfinite(values)]
    if not len(v):
        return {}
    q1, median, q3 = (float(x) for x in np.quantile(v, [0.25, 0.5, 0.75]))
    iqr = q3 - q1
    outliers = int(((v < q1 - IQR_FACTOR * iqr) | (v > q3 + IQR_FACTOR * iqr)).sum()) if iqr > 0 else 0
    try:
        counts, edges = np.histogram(v, bins=min(BINS, max(1, len(np.unique(v)))))
    except (ValueError, OverflowError):  # a range no float can span: no histogram, the numbers still stand
        counts, edges = np.zeros(0), np.zeros(0)
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "q1": q1, "median": median,
            "q3": q3, "max": float(v.max()), "skew": float(pd.Series(v).skew()) if len(v) > 2 else 0.0,
            "iqr_outliers": outliers, "hist_counts": counts.tolist(), "hist_edges": edges.tolist()}


def _target(schema: Schema, y: np.ndarray) -> dict[str, Any]:
    if schema.classes is None:
        return {"name": schema.target, "kind": "regression", **numeric_summary(np.asarray(y, dtype=float))}
    counts = np.bincount(y, minlength=len(schema.classes))
    return {"name": schema.target, "kind": schema.task, "classes": list(schema.classes),
            "class_counts": [int(c) for c in counts], "positive_class": schema.positive_class}
