"""One fit, end to end: read → schema → folds → search → refit → saved run folder."""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl import __version__
from automl.config import FitConfig
from automl.data.io import TableSource, read_table
from automl.data.preprocess import summarize
from automl.data.schema import Schema, infer_schema
from automl.errors import BudgetError
from automl.models import registry
from automl.predictor import Predictor
from automl.results import LEADERBOARD_FILE, RunFolder, now
from automl.search.cv import make_folds, plan_folds, search_sample
from automl.search.evaluate import Context, ModelResult, best_result, evaluate_all, make_pipeline
from automl.search.metrics import get_metric

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What a fit returns: the predictor, the leaderboard and where everything was saved."""

    predictor: Predictor
    leaderboard: pd.DataFrame
    run_dir: Path


def default_output(data: Any) -> Path:
    """``reports/<data name>-<timestamp>`` under the current folder."""
    stem = "dataframe" if isinstance(data, pd.DataFrame) else Path(str(data)).name.split(".")[0] or "data"
    return Path("reports") / f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def run_fit(config: FitConfig, data: Any, command: str | None = None) -> FitResult:
    """Fit on ``data`` (path or DataFrame) as ``config`` says and save the run folder.

    The budget ``config.time_limit`` counts from this call. Whatever fails is logged with its traceback
    in the run folder's ``automl.log`` and ``run.json`` is marked ``failed``; the error is re-raised.
    """
    started = time.monotonic()
    folder = RunFolder(config.output or default_output(data))
    folder.prepare(config.overwrite)
    with folder.logging_to_file():
        folder.update(config=config.to_dict(), command=command, automl_version=__version__,
                      python=platform.python_version())
        try:
            result = _fit(config, data, folder, started)
        except BaseException as e:
            folder.update(status="failed", finished=now(), error=f"{type(e).__name__}: {e}")
            raise
    return result


def _fit(config: FitConfig, data: Any, folder: RunFolder, started: float) -> FitResult:
    deadline = started + config.time_limit
    frame, info = read_table(data, config.na_values)
    schema, y_labels = infer_schema(frame, config, info)
    frame = frame.loc[y_labels.index]
    X = schema.transform(frame, where=info.name, strict=False)
    y = schema.encode_target(y_labels)
    folder.update(data=_data_meta(info, frame, schema))

    n_folds = plan_folds(y, schema.task, config.folds, schema.classes)
    sample = search_sample(y, schema.task, config.sample_rows, config.seed, min_per_class=n_folds)
    X_s, y_s = (X, y) if sample is None else (X.iloc[sample], y[sample])
    folds = make_folds(y_s, schema.task, n_folds, config.seed)
    metric = get_metric(schema.metric)
    ctx = Context(schema, metric, config.preprocess, config.seed, config.n_jobs or os.cpu_count() or 1)
    specs = registry.select(schema.task, config.models, config.exclude_models)
    log.info("Search: %s on %d rows, %d folds, metric %s, budget %.0f s.",
             ", ".join(s.name for s in specs), len(y_s), n_folds, metric.name, config.time_limit)

    results = evaluate_all(specs, ctx, X_s, y_s, folds, deadline)
    best = best_result(results, metric)
    if best is None:
        reasons = "; ".join(f"{r.name}: {r.status} ({r.reason})" for r in results)
        raise BudgetError(
            f"No model finished within the {config.time_limit:.0f} s budget ({reasons}). "
            "Raise --time-limit, or lower --sample-rows."
        )
    predictor = _refit(best, ctx, X, y, config.na_values)
    board = leaderboard_frame(results, metric)
    folder.write_text(LEADERBOARD_FILE, board.to_csv(index=False))
    folder.save_model(predictor)
    elapsed = time.monotonic() - started
    folder.update(
        status="complete", finished=now(), fit_seconds=round(elapsed, 2), best_model=best.key,
        task=schema.task, task_reason=schema.task_reason, metric=metric.name,
        greater_is_better=metric.greater_is_better, folds=n_folds, search_rows=len(y_s),
        leaderboard=board.to_dict(orient="records"),
        preprocessing={best.key: summarize(predictor.pipeline.named_steps["prep"], schema)},
    )
    log.info("Best model: %s, CV %s %.4f. Saved to %s (%.1f s).", best.name, metric.name, best.mean,
             folder.path, elapsed)
    return FitResult(predictor, board, folder.path)


def _refit(best: ModelResult, ctx: Context, X: pd.DataFrame, y: np.ndarray, na_values: tuple[str, ...]) -> Predictor:
    log.info("Refitting %s on all %d rows.", best.name, len(y))
    pipeline = make_pipeline(registry.get(best.key), ctx, best.params)
    pipeline.fit(X, y)
    summary = summarize(pipeline.named_steps["prep"], ctx.schema)
    if summary.get("clipped_values"):
        log.info("Outlier clipping (IQR x %.1f) changed: %s.", ctx.preprocess.outlier_factor,
                 ", ".join(f"{k}: {v}" for k, v in summary["clipped_values"].items()))
    return Predictor(ctx.schema, pipeline, best.key, __version__, na_values)


def leaderboard_frame(results: list[ModelResult], metric: Any) -> pd.DataFrame:
    """The leaderboard as data: complete models ranked by mean CV score, then the others with reasons."""
    rows = []
    for r in results:
        rows.append({
            "model": r.key, "name": r.name, "kind": r.kind, "status": r.status,
            f"cv_{metric.name}_mean": r.mean, f"cv_{metric.name}_std": r.std,
            "fold_scores": " ".join(f"{s:.6g}" for s in r.fold_scores),
            **{f"cv_{k}": v for k, v in r.secondary.items() if k != metric.name},
            "fit_seconds": round(r.fit_time, 3), "reason": r.reason,
        })
    board = pd.DataFrame(rows)
    ok = board["status"] == "ok"
    key = f"cv_{metric.name}_mean"
    ranked = board[ok].sort_values(key, ascending=not metric.greater_is_better, kind="stable")
    board = pd.concat([ranked, board[~ok]], ignore_index=True)
    board.insert(0, "rank", [i + 1 if s == "ok" else None for i, s in enumerate(board["status"])])
    return board


def _data_meta(info: TableSource, frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    return {
        "source": info.describe(), "path": info.path, "sha256": info.sha256,
        "rows": len(frame), "rows_missing_target": schema.n_missing_target,
        "target": schema.target, "classes": schema.classes, "class_counts": schema.class_counts,
        "positive_class": schema.positive_class,
        "columns": [{"name": c.name, "kind": c.kind, "reason": c.reason, "missing": c.n_missing,
                     "unique": c.n_unique, "dtype": c.dtype} for c in schema.columns],
    }
