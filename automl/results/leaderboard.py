"""The result tables of a run and the names of their columns, owned here and nowhere else.

``leaderboard.csv`` (and ``leaderboard.json``, and ``run.json["leaderboard"]``) has one row per family and per
ensemble; ``trials.csv`` one row per trial; ``oof_predictions.parquet`` one row per row of the search data. The
writers below and every reader (the report, the comparison of batch runs, the API, the CLI) use the names defined
here, and :func:`read_leaderboard` / :func:`read_trials` refuse a file that lacks one, so a renamed column fails
in one place instead of emptying a report section.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from automl.errors import ModelFormatError
from automl.results.records import LeaderboardRow, TrialResult

ENSEMBLE_KEYS = ("greedy_ensemble", "stacking")  # the ensembles' rows (automl.ensembles.build.NAMES)
RANK = "rank"  # 1 = best complete row; empty for rows that did not finish
MODEL = "model"  # the family or ensemble key, e.g. "lightgbm"
NAME = "name"
KIND = "kind"
STATUS = "status"
FOLD_SCORES = "fold_scores"  # space-separated, one per validation fold
FIT_SECONDS = "fit_seconds"
PREDICT_SECONDS = "predict_seconds_per_1000_rows"
TRIALS = "trials"  # trials the family ran
FAILED_TRIALS = "failed_trials"
PARAMS = "params"  # JSON of the scored configuration
REASON = "reason"
WORKER = "worker"
WORKERS = "workers"
TRIAL = "trial"  # trials.csv: the Optuna trial number

ROW, FOLD, TARGET = "row", "fold", "target"  # oof_predictions.parquet's leading columns


class ScoreMetric(Protocol):
    name: str
    greater_is_better: bool


def score_column(metric: str) -> str:
    """The column of the mean CV score under ``metric`` (e.g. ``cv_roc_auc_mean``)."""
    return f"cv_{metric}_mean"


def std_column(metric: str) -> str:
    """The column of the standard deviation of the fold scores under ``metric``."""
    return f"cv_{metric}_std"


def secondary_column(metric: str) -> str:
    """The column of another metric's mean over the folds (e.g. ``cv_accuracy``)."""
    return f"cv_{metric}"


def oof_column(model: str, label: Any = None) -> str:
    """A model's out-of-fold column: ``<model>`` (regression) or ``<model>:<class>`` (a class's probability)."""
    return model if label is None else f"{model}:{label}"


def leaderboard_columns(metric: str) -> list[str]:
    """The columns every leaderboard has, in order (other metrics' ``cv_*`` columns follow ``fold_scores``)."""
    return [RANK, MODEL, NAME, KIND, STATUS, score_column(metric), std_column(metric), FOLD_SCORES, FIT_SECONDS,
            PREDICT_SECONDS, TRIALS, FAILED_TRIALS, PARAMS, REASON, WORKER, WORKERS]


def trial_columns(metric: str) -> list[str]:
    """The columns of ``trials.csv``, in order."""
    return [MODEL, TRIAL, STATUS, score_column(metric), FOLD_SCORES, FIT_SECONDS, PARAMS, REASON, WORKER]


def _params(r: TrialResult) -> str:
    return json.dumps(r.model_params(), sort_keys=True, default=str)


def _fold_scores(r: TrialResult) -> str:
    return " ".join(f"{s:.6g}" for s in r.fold_scores)


def _row(r: LeaderboardRow, metric: ScoreMetric) -> dict[str, Any]:
    return {
        MODEL: r.key, NAME: r.name, KIND: r.kind, STATUS: r.status,
        score_column(metric.name): r.mean, std_column(metric.name): r.std,
        FOLD_SCORES: _fold_scores(r),
        **{secondary_column(k): v for k, v in r.secondary.items() if k != metric.name},
        FIT_SECONDS: round(r.fit_time, 3),
        PREDICT_SECONDS: round(r.predict_seconds_per_1000, 4) if np.isfinite(r.predict_seconds_per_1000) else None,
        TRIALS: r.trials_run, FAILED_TRIALS: r.trials_failed, PARAMS: _params(r), REASON: r.reason,
        WORKER: r.worker, WORKERS: ", ".join(f"{w} ({n})" for w, n in sorted(r.workers.items())),
    }


def leaderboard_frame(rows: Sequence[LeaderboardRow], metric: ScoreMetric) -> pd.DataFrame:
    """One row per family (its best trial) and per ensemble: complete ones ranked by mean CV score, then the
    others with the reason they did not finish."""
    board = pd.DataFrame([_row(r, metric) for r in rows], columns=None if rows else leaderboard_columns(metric.name))
    ok = board[STATUS] == "ok"
    ranked = board[ok].sort_values(score_column(metric.name), ascending=not metric.greater_is_better, kind="stable")
    board = pd.concat([ranked, board[~ok]], ignore_index=True)
    if RANK not in board:
        board.insert(0, RANK, pd.array([i + 1 if s == "ok" else None for i, s in enumerate(board[STATUS])],
                                       dtype="Int64"))  # whole numbers, empty where a row did not finish
    return board


def trials_frame(trials: Sequence[TrialResult], metric: ScoreMetric) -> pd.DataFrame:
    """Every trial of every family, in the order they ran."""
    frame = pd.DataFrame([[t.key, t.trial, t.status, t.mean, _fold_scores(t), round(t.fit_time, 3), _params(t),
                           t.reason, t.worker] for t in trials], columns=trial_columns(metric.name))
    frame[TRIAL] = frame[TRIAL].astype("Int64")  # skipped families have no trial number
    return frame


def oof_frame(rows: Sequence[LeaderboardRow], y: np.ndarray, positions: pd.Index, fold_of: np.ndarray,
              classes: Sequence[Any] | None) -> pd.DataFrame:
    """Out-of-fold predictions of every complete leaderboard row, one row per row of the search data.

    Columns: ``row`` (data row number, 0-based, header excluded), ``fold`` (its validation fold in the first
    CV repetition, 1-based: ``fold_of``), ``target`` (the label or value), then per model ``<model>``
    (regression) or ``<model>:<class>`` (the probability of each class). With repeated CV, predictions are
    averaged over the repetitions. Rows no fold validates (the first period of forward-chaining folds in time)
    have ``fold`` 0 and no predictions (NaN).
    """
    unvalidated = np.asarray(fold_of) == 0
    columns: dict[str, Any] = {ROW: np.asarray(positions), FOLD: fold_of,
                               TARGET: y if classes is None else np.asarray(classes, dtype=object)[y]}
    for r in rows:
        if r.status != "ok" or r.oof is None:
            continue
        oof = np.where(unvalidated[:, None] if r.oof.ndim == 2 else unvalidated, np.nan, r.oof)
        if classes is None:
            columns[oof_column(r.key)] = oof
        else:
            columns.update({oof_column(r.key, c): oof[:, j] for j, c in enumerate(classes)})
    return pd.DataFrame(columns)


def _read(path: Path, required: list[str]) -> pd.DataFrame:
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for column in (RANK, TRIAL, TRIALS, FAILED_TRIALS):  # whole numbers, some rows empty: not floats
        if column in frame.columns and column in required:
            frame[column] = frame[column].astype("Int64")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ModelFormatError(f"{path} lacks the column(s) {', '.join(missing)}: it was written by another automl "
                               "version. Run `automl fit` again.")
    return frame


def read_leaderboard(path: str | Path, metric: str) -> pd.DataFrame:
    """``leaderboard.csv`` as written by :func:`leaderboard_frame`; :class:`ModelFormatError` if a column is
    missing."""
    return _read(Path(path), leaderboard_columns(metric))


def read_trials(path: str | Path, metric: str) -> pd.DataFrame:
    """``trials.csv`` as written by :func:`trials_frame`; :class:`ModelFormatError` if a column is missing."""
    return _read(Path(path), trial_columns(metric))
