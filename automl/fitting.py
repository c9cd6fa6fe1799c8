"""One fit, end to end: read → schema → folds → search → refit → saved run folder."""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from automl import __version__, threads
from automl.config import FitConfig
from automl.data.io import TableSource, read_table
from automl.data.leakage import drop_leaks
from automl.data.preprocess import build_preprocessor, describe, summarize
from automl.data.profile import profile
from automl.data.schema import Schema, infer_schema
from automl.ensembles.build import build_ensembles
from automl.ensembles.model import EnsembleModel
from automl.errors import BudgetError, DataError
from automl.importance import permutation_importance
from automl.models import registry
from automl.predictor import Predictor
from automl.refit import refit
from automl.results import (
    IMPORTANCE_FILE,
    JOURNAL_FILE,
    LEADERBOARD_FILE,
    LEADERBOARD_JSON,
    LOG_FILE,
    OOF_FILE,
    PROFILE_FILE,
    REPORT_FILE,
    TRIALS_FILE,
    RunFolder,
    now,
)
from automl.search.cv import make_folds, plan_folds, plan_repeats, search_sample
from automl.search.evaluate import REFIT_FACTOR, Context, ModelResult, predict_scores, wants_log_target
from automl.search.leaderboard import leaderboard_frame, oof_frame, trials_frame
from automl.search.metrics import get_metric
from automl.search.tuner import FamilyState, Search

log = logging.getLogger(__name__)

SEARCH_SHARE = 0.8  # of the time budget; the rest is for the ensembles and the refit on all rows
REPORT_SECONDS = 3.0  # kept for rendering the report at the end of the budget


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
            with threads.limited():
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
    X = drop_leaks(schema, X, y, config.keep_columns)
    if not schema.features:
        raise DataError(f"No usable feature columns are left in {info.name}: "
                        + "; ".join(f"{c.name!r}: {c.reason}" for c in schema.dropped)
                        + ". Keep a column with --keep-column if it will be known at prediction time.")
    folder.update(data=_data_meta(info, frame, schema))

    n_folds = plan_folds(y, schema.task, config.folds, schema.classes)
    sample = search_sample(y, schema.task, config.sample_rows, config.seed, min_per_class=n_folds)
    X_s, y_s = (X, y) if sample is None else (X.iloc[sample], y[sample])
    repeats = plan_repeats(len(y_s), config.repeats, None if config.trials else config.time_limit)
    folds = make_folds(y_s, schema.task, n_folds, config.seed, repeats)
    metric = get_metric(schema.metric)
    log_target = wants_log_target(y_s, schema.task)
    if log_target:
        log.info("Target %r is non-negative and skewed (skewness %.1f): the search also tries models that learn "
                 "log1p(%s), with predictions transformed back.", schema.target, pd.Series(y_s).skew(), schema.target)
    n_jobs = config.n_jobs or os.cpu_count() or 1
    ctx = Context(schema, metric, config.preprocess, config.seed, n_jobs, log_target)
    specs = registry.select(schema.task, config.models, config.exclude_models)
    budget = f"{config.trials} trials per family" if config.trials else f"budget {config.time_limit:.0f} s"
    cv_text = f"{n_folds} folds" + (f" repeated {repeats} times" if repeats > 1 else "")
    log.info("Search: %s on %d rows, %s, metric %s, %s.",
             ", ".join(s.name for s in specs), len(y_s), cv_text, metric.name, budget)

    search = Search(specs, ctx, X_s, y_s, folds, storage=_storage(folder))
    search_deadline = started + config.time_limit * SEARCH_SHARE
    if config.trials:
        trials = search.run(n_trials=config.trials)
    else:
        trials = search.run(deadline=search_deadline, hard_deadline=deadline)
    families = [_family_row(state) for state in search.families]
    ensembles = build_ensembles([f for f in families if f.status == "ok"], y_s, folds, ctx)
    results = families + ensembles
    chosen = _choose(results, metric, deadline if not config.trials else None, len(folds), config)
    model = refit(chosen, {f.key: f for f in families}, ctx, X, y)
    members = dict(zip(chosen.members, model.members, strict=True)) if isinstance(model, EnsembleModel) else {}
    predictor = Predictor(schema, model, chosen.key, __version__, config.na_values, members)

    board = leaderboard_frame(results, metric)
    folder.write_text(LEADERBOARD_FILE, board.to_csv(index=False))
    folder.write_text(LEADERBOARD_JSON, board.to_json(orient="records", indent=1))
    folder.write_text(TRIALS_FILE, trials_frame(trials, metric).to_csv(index=False))
    folder.write_parquet(OOF_FILE, oof_frame(results, y_s, X_s.index, folds, schema))
    folder.save_model(predictor)
    folder.write_text(PROFILE_FILE, json.dumps(profile(frame, X, schema, y), default=float))
    folder.update(
        best_model=chosen.key, models_refitted=predictor.models,
        task=schema.task, task_reason=schema.task_reason, metric=metric.name,
        greater_is_better=metric.greater_is_better, folds=n_folds, cv_repeats=repeats, search_rows=len(y_s),
        log_target_offered=log_target, versions=_versions(),
        leaderboard=board.to_dict(orient="records"), preprocessing=_preprocessing(model, chosen, schema),
        preprocessing_pipelines=_pipelines(specs, ctx, X_s, y_s),
        learning_curves={f.key: f.histories for f in families if f.histories},
        predict_seconds_per_1000_rows=_latency(model, X, schema),
    )
    _importance(folder, model, X, y, schema, metric, config, None if config.trials else deadline)
    folder.update(status="complete", finished=now(), fit_seconds=round(time.monotonic() - started, 2))
    _report(folder)
    log.info("Chosen model: %s, CV %s %.4f. Saved to %s (%.1f s).", chosen.name, metric.name, chosen.mean,
             folder.path, time.monotonic() - started)
    return FitResult(predictor, board, folder.path)


def _importance(folder: RunFolder, model: Any, X: pd.DataFrame, y: Any, schema: Schema, metric: Any,
                config: FitConfig, deadline: float | None) -> None:
    """Permutation importance of the final model in what is left of the budget (its report section)."""
    seconds = None if deadline is None else deadline - time.monotonic() - REPORT_SECONDS
    with threads.limited():
        frame = permutation_importance(model, X, y, schema, metric, config.seed, seconds)
    if frame is not None:
        folder.write_text(IMPORTANCE_FILE, frame.to_csv(index=False))


def _report(folder: RunFolder) -> None:
    """Render report.html. A report that fails is logged; the fitted model and results are kept."""
    from automl.report import render

    try:
        folder.files.add(REPORT_FILE)
        folder.update()
        render(folder.path)
    except Exception as e:
        log.error("The report could not be rendered (%s: %s); the model and results are saved. Details are in "
                  "%s; `automl report %s` retries.", type(e).__name__, e, folder.path / LOG_FILE, folder.path)
        log.debug("Report failure", exc_info=True)


def _pipelines(specs: Any, ctx: Context, X: pd.DataFrame, y: Any) -> dict[str, Any]:
    """Each preprocessing pipeline of the run: its families, its steps in words, and in numbers (fitted on the
    search rows)."""
    out: dict[str, Any] = {}
    for spec in specs:
        entry = out.setdefault(spec.preprocessing,
                               {"families": [], "steps": describe(spec.preprocessing, ctx.preprocess)})
        entry["families"].append(spec.key)
    for kind, entry in out.items():
        try:
            prep = build_preprocessor(kind, ctx.schema, ctx.preprocess).fit(X, y)
            entry["summary"] = summarize(prep, ctx.schema)
        except Exception as e:  # a summary is nice to have; the run does not depend on it
            log.debug("Could not summarise the %s pipeline: %s", kind, e)
    return out


def _latency(model: Any, X: pd.DataFrame, schema: Schema) -> float:
    """Seconds to predict 1000 rows with the final model (measured on up to 1000 training rows)."""
    rows = X.iloc[: min(len(X), 1000)]
    tick = time.monotonic()
    with threads.limited():
        predict_scores(model, rows, schema.task, len(schema.classes or []))
    return (time.monotonic() - tick) / max(len(rows), 1) * 1000


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"automl": __version__, "python": platform.python_version()}
    for dist in ("scikit-learn", "lightgbm", "xgboost-cpu", "catboost", "tensorflow-cpu", "keras", "optuna",
                 "pandas", "numpy"):
        try:
            out[dist.removesuffix("-cpu")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _storage(folder: RunFolder) -> Any:
    """Optuna's journal file in the run folder: no server needed, safe for several processes."""
    import optuna

    folder.files.add(JOURNAL_FILE)
    backend = optuna.storages.journal.JournalFileBackend(str(folder.path / JOURNAL_FILE))
    return optuna.storages.JournalStorage(backend)


def _family_row(state: FamilyState) -> ModelResult:
    """A family's leaderboard row: its best trial, or its last trial with the reason it did not finish."""
    best = state.best or (state.trials[-1] if state.trials else
                          ModelResult(state.spec.key, state.spec.name, state.spec.kind, {}, "not run", "no budget"))
    best.trials_run = len(state.trials)
    best.trials_failed = sum(t.status == "failed" for t in state.trials)
    return best


def _choose(results: list[ModelResult], metric: Any, deadline: float | None, n_folds: int,
            config: FitConfig) -> ModelResult:
    """The best complete result whose refit on all rows still fits in the budget (any, in trial-count mode)."""
    ranked = sorted((r for r in results if r.status == "ok"), key=lambda r: r.mean,
                    reverse=metric.greater_is_better)
    if not ranked:
        reasons = "; ".join(f"{r.name}: {r.status} ({r.reason})" for r in results)
        raise BudgetError(
            f"No model finished within the {config.time_limit:.0f} s budget ({reasons}). "
            "Raise --time-limit, or lower --sample-rows."
        )
    if deadline is None:
        return ranked[0]
    slack = deadline + config.time_limit * 0.1 - REPORT_SECONDS - 1 - time.monotonic()  # the 10 % tolerance
    for r in ranked:
        if r.fit_time / n_folds * REFIT_FACTOR <= slack:
            return r
        log.info("%s would need about %.0f s to refit; %.0f s are left.", r.name,
                 r.fit_time / n_folds * REFIT_FACTOR, slack)
    return min(ranked, key=lambda r: r.fit_time)


def _preprocessing(model: Any, chosen: ModelResult, schema: Schema) -> dict[str, Any]:
    pipelines = model.members if isinstance(model, EnsembleModel) else [model]
    keys = chosen.members or [chosen.key]
    out = {key: summarize(p.named_steps["prep"], schema) for key, p in zip(keys, pipelines, strict=True)}
    for key, summary in out.items():
        if summary.get("clipped_values"):
            log.info("%s: outlier clipping changed %s.", key,
                     ", ".join(f"{k}: {v}" for k, v in summary["clipped_values"].items()))
    return out


def _data_meta(info: TableSource, frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    return {
        "source": info.describe(), "path": info.path, "sha256": info.sha256,
        "rows": len(frame), "rows_missing_target": schema.n_missing_target,
        "target": schema.target, "classes": schema.classes, "class_counts": schema.class_counts,
        "positive_class": schema.positive_class,
        "columns": [{"name": c.name, "kind": c.kind, "reason": c.reason, "missing": c.n_missing,
                     "unique": c.n_unique, "dtype": c.dtype} for c in schema.columns],
    }
