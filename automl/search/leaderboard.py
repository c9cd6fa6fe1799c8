"""The leaderboard and the trial table as data (DataFrames saved as CSV and in run.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from automl.data.schema import Schema
from automl.search.cv import Fold, repetitions
from automl.search.evaluate import ModelResult
from automl.search.metrics import Metric


def _row(r: ModelResult, metric: Metric) -> dict[str, Any]:
    return {
        "model": r.key, "name": r.name, "kind": r.kind, "status": r.status,
        f"cv_{metric.name}_mean": r.mean, f"cv_{metric.name}_std": r.std,
        "fold_scores": " ".join(f"{s:.6g}" for s in r.fold_scores),
        **{f"cv_{k}": v for k, v in r.secondary.items() if k != metric.name},
        "fit_seconds": round(r.fit_time, 3),
        "predict_seconds_per_1000_rows": round(r.predict_seconds_per_1000, 4)
        if np.isfinite(r.predict_seconds_per_1000) else None,
        "trials": r.trials_run, "failed_trials": r.trials_failed,
        "params": json.dumps(r.model_params(), sort_keys=True, default=str), "reason": r.reason,
        "worker": r.worker, "workers": ", ".join(f"{w} ({n})" for w, n in sorted(r.workers.items())),
    }


def leaderboard_frame(results: Sequence[ModelResult], metric: Metric) -> pd.DataFrame:
    """One row per family (its best trial) and per ensemble: complete ones ranked by mean CV score, then the
    others with the reason they did not finish."""
    board = pd.DataFrame([_row(r, metric) for r in results])
    ok = board["status"] == "ok"
    ranked = board[ok].sort_values(f"cv_{metric.name}_mean", ascending=not metric.greater_is_better, kind="stable")
    board = pd.concat([ranked, board[~ok]], ignore_index=True)
    board.insert(0, "rank", [i + 1 if s == "ok" else None for i, s in enumerate(board["status"])])
    return board


def trials_frame(trials: Sequence[ModelResult], metric: Metric) -> pd.DataFrame:
    """Every trial of every family, in the order they ran."""
    rows = []
    for t in trials:
        row = _row(t, metric)
        rows.append({"model": row["model"], "trial": t.trial, "status": t.status,
                     f"cv_{metric.name}_mean": row[f"cv_{metric.name}_mean"], "fold_scores": row["fold_scores"],
                     "fit_seconds": row["fit_seconds"], "params": row["params"], "reason": t.reason,
                     "worker": t.worker})
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["trial"] = frame["trial"].astype("Int64")  # skipped families have no trial number
    return frame


def oof_frame(results: Sequence[ModelResult], y: np.ndarray, rows: pd.Index, folds: Sequence[Fold],
              schema: Schema) -> pd.DataFrame:
    """Out-of-fold predictions of every complete leaderboard model, one row per row of the search data.

    Columns: ``row`` (data row number, 0-based, header excluded), ``fold`` (its validation fold in the first
    CV repetition), ``target`` (the label or value), then per model ``<model>`` (regression) or
    ``<model>:<class>`` (the probability of each class). With repeated CV, predictions are averaged over the
    repetitions.
    """
    fold_of = np.zeros(len(y), dtype=int)
    for i, ((_, valid), rep) in enumerate(zip(folds, repetitions(folds, len(y)), strict=True)):
        if rep == 0:
            fold_of[valid] = i + 1
    classes = schema.classes
    columns: dict[str, Any] = {"row": np.asarray(rows), "fold": fold_of,
                               "target": y if classes is None else np.asarray(classes, dtype=object)[y]}
    for r in results:
        if r.status != "ok" or r.oof is None:
            continue
        if classes is None:
            columns[r.key] = r.oof
        else:
            columns.update({f"{r.key}:{c}": r.oof[:, j] for j, c in enumerate(classes)})
    return pd.DataFrame(columns)
