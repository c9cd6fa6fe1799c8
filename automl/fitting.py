"""One fit, end to end: read → schema → folds → search → refit → saved run folder."""

from __future__ import annotations

import json
import logging
import os
import platform
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from automl import __version__, runinfo, threads
from automl.config import FitConfig
from automl.data import memory
from automl.data.io import read_table
from automl.data.leakage import drop_leaks
from automl.data.profile import profile
from automl.data.schema import describe_dropped, infer_schema
from automl.ensembles.build import build_ensembles
from automl.ensembles.model import EnsembleModel
from automl.errors import BudgetError, ConfigError, DataError
from automl.models import registry
from automl.predictor import Predictor
from automl.refit import bagged_by_default, refit, refit_seconds, singles
from automl.results import (
    JOURNAL_FILE,
    LEADERBOARD_FILE,
    LEADERBOARD_JSON,
    OOF_FILE,
    PROFILE_FILE,
    TRIALS_FILE,
    RunFolder,
    now,
)
from automl.search.checkpoint import Checkpoints
from automl.search.cv import make_folds, plan_folds, plan_repeats, search_sample
from automl.search.evaluate import Context, ModelResult, wants_log_target
from automl.search.leaderboard import leaderboard_frame, oof_frame, trials_frame
from automl.search.metrics import constant_cv_score, get_metric
from automl.search.tuner import FamilyState, Search, TrialCallback

log = logging.getLogger(__name__)

SEARCH_SHARE = 0.8  # of the time budget; the rest is for the ensembles and the refit on all rows
GATHER_SHARE = 0.05  # of the budget: how long a coordinator waits for the trials other workers are running


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


def run_fit(config: FitConfig, data: Any, command: str | None = None,
            on_trial: TrialCallback | None = None) -> FitResult:
    """Fit on ``data`` (path or DataFrame) as ``config`` says and save the run folder.

    The budget ``config.time_limit`` counts from this call. The folder is locked while the run writes it
    (:class:`automl.errors.RunLockedError` if another process holds it). Whatever fails is logged with its
    traceback in the run folder's ``automl.log`` and ``run.json`` is marked ``failed``; the error is re-raised.
    ``on_trial(family_state, result)`` is called after every trial (progress display).
    """
    started = time.monotonic()
    folder = RunFolder(config.output or default_output(data))
    with folder.locked(command):
        folder.prepare(config.overwrite)
        folder.update(config=_recorded_config(config), command=command, automl_version=__version__,
                      python=platform.python_version(), study_prefix=_study_prefix(config, folder))
        return _guarded_fit(config, data, folder, started, on_trial)


def resume_fit(run_dir: str | Path, data: Any = None, command: str | None = None,
               on_trial: TrialCallback | None = None, storage: str | None = None) -> FitResult:
    """Continue the unfinished run in ``run_dir``: its finished trials are kept, the search goes on where it
    stopped (same studies, same folds), then the ensembles, the refit and the report follow.

    ``data``: the table, when the run was fitted from a DataFrame (a file is read again from its recorded
    path and must be unchanged). The budget left is the run's time limit less the search time already spent.
    """
    started = time.monotonic()
    folder = RunFolder(run_dir)
    with folder.locked(command):
        meta = folder.reopen()
        config = FitConfig.from_dict(meta["config"]).replace(output=folder.path)
        if storage or config.storage:
            config = config.replace(storage=storage or config.storage)
        if data is None:
            data = _recorded_data(meta, folder.path)
        note = f"Resuming the run in {folder.path} (started {meta.get('started')})."
        return _guarded_fit(config, data, folder, started, on_trial, (meta.get("data") or {}).get("sha256"), note)


def _guarded_fit(config: FitConfig, data: Any, folder: RunFolder, started: float, on_trial: TrialCallback | None,
                 expect_sha: str | None = None, note: str | None = None) -> FitResult:
    with folder.logging_to_file():
        if note:
            log.info(note)
        try:
            with threads.limited():
                return _fit(config, data, folder, started, on_trial, expect_sha)
        except BaseException as e:
            status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
            folder.update(status=status, finished=now(), error=f"{type(e).__name__}: {e}")
            raise


def _recorded_config(config: FitConfig) -> dict[str, Any]:
    """The config as run.json keeps it: a storage URL without its password (workers give theirs)."""
    data = config.to_dict()
    if config.storage:
        from automl.distributed import mask

        data["storage"] = mask(config.storage)
    return data


def _recorded_data(meta: dict[str, Any], run_dir: Path) -> Path:
    data = meta.get("data") or {}
    path = data.get("path")
    if not path:
        raise ConfigError(f"The run in {run_dir} was fitted from a DataFrame, so automl cannot read its data "
                          "again. Resume it from Python: automl.AutoML.resume(run_dir, data=frame).")
    if not Path(path).is_file():
        raise ConfigError(f"The data of the run in {run_dir}, {path}, is no longer there. Put it back to resume, "
                          "or start a new run with `automl fit`.")
    return Path(path)


def _study_prefix(config: FitConfig, folder: RunFolder) -> str:
    """Study names: plain in the run folder's own journal; unique per run in a shared database."""
    if config.storage is None:
        return "automl"
    return f"automl-{folder.path.resolve().name}-{uuid.uuid4().hex[:8]}"


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
    data_meta: dict[str, Any]


def _fit(config: FitConfig, data: Any, folder: RunFolder, started: float, on_trial: TrialCallback | None,
         expect_sha: str | None) -> FitResult:
    p = _prepare(config, data, expect_sha)
    # what the report says about the data and the pipelines depends on the data only: written before the search
    # (its cost, which grows with the columns, comes out of the search's time, not the finishing phase's)
    folder.write_text(PROFILE_FILE, json.dumps(profile(p.frame, p.X, p.ctx.schema, p.y), default=float))
    folder.update(data=p.data_meta, preprocessing_pipelines=runinfo.pipelines(p.specs, p.ctx, p.X_s, p.y_s))
    import automl.report.sections  # noqa: F401  (matplotlib, Jinja, SciPy's stats: 1-3 s, paid before the search)
    shared = config.storage is not None
    search = Search(p.specs, p.ctx, p.X_s, p.y_s, p.folds, storage=_storage(folder, config.storage),
                    study_prefix=folder.meta.get("study_prefix", "automl"), checkpoints=Checkpoints(folder.checkpoints),
                    schedule=config.schedule, on_trial=on_trial, shared=shared)
    spent = 0.0 if shared else sum(s.seconds for s in search.families)  # an earlier, interrupted attempt's
    deadline = started + config.time_limit - spent
    search_deadline = started + config.time_limit * SEARCH_SHARE - spent
    folder.update(search_started=now(), search_deadline_epoch=None if config.trials else
                  time.time() + search_deadline - time.monotonic())
    if config.trials:
        search.run(n_trials=config.trials)
    else:
        search.run(deadline=search_deadline, hard_deadline=deadline)
    if shared:  # the workers' trials join the leaderboard
        from automl.distributed import gather

        gather(search, None if config.trials else search_deadline + config.time_limit * GATHER_SHARE)
    trials = [t for s in search.families for t in s.trials]
    return _finish(config, folder, started, deadline, search, trials, p)


def _prepare(config: FitConfig, data: Any, expect_sha: str | None = None) -> Prepared:
    """Read and check the data, infer the schema, plan the folds (same seed and data: same folds)."""
    frame, info = read_table(data, config.na_values, config.sep)
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
    width = X.shape[1] + sum(min(c.n_unique, config.preprocess.max_categories) for c in schema.features
                             if c.kind == "categorical") + sum(c.n_missing > 0 for c in schema.features)
    memory.check_fit(len(y), len(y_s), width, [s.key for s in specs], int(frame.memory_usage().sum()))
    budget = f"{config.trials} trials per family" if config.trials else f"budget {config.time_limit:.0f} s"
    cv_text = f"{n_folds} folds" + (f" repeated {repeats} times" if repeats > 1 else "")
    log.info("Search: %s on %d rows, %s, metric %s, %s.",
             ", ".join(s.name for s in specs), len(y_s), cv_text, metric.name, budget)
    return Prepared(frame, X, y, X_s, y_s, list(folds), n_folds, repeats, ctx, list(specs),
                    runinfo.data_meta(info, frame, schema))


def _finish(config: FitConfig, folder: RunFolder, started: float, deadline: float, search: Search,
            trials: list[ModelResult], p: Prepared) -> FitResult:
    """Ensembles, the choice, the refit on all rows, and every result file of the run folder."""
    schema, metric = p.ctx.schema, p.ctx.metric
    families = [_family_row(state) for state in search.families]
    ensembles = build_ensembles([f for f in families if f.status == "ok"], p.y_s, p.folds, p.ctx)
    results = families + ensembles
    growth = len(p.y) / max(len(p.y_s), 1)  # large data: the search ran on a sample, the refit uses every row
    by_key = {f.key: f for f in families}
    constant = constant_cv_score(p.y_s, p.folds, metric, schema.task, len(schema.classes or ()))
    chosen, bagged = _choose(results, by_key, metric, deadline if not config.trials else None, len(p.folds), config,
                             growth, constant)
    model = refit(chosen, by_key, p.ctx, p.X, p.y, bagged)
    members = dict(zip(chosen.members, model.members, strict=True)) if isinstance(model, EnsembleModel) else {}
    predictor = Predictor(schema, model, chosen.key, __version__, config.na_values, members, config.sep)

    board = leaderboard_frame(results, metric)
    folder.write_text(LEADERBOARD_FILE, board.to_csv(index=False))
    folder.write_text(LEADERBOARD_JSON, board.to_json(orient="records", indent=1))
    folder.write_text(TRIALS_FILE, trials_frame(trials, metric).to_csv(index=False))
    folder.write_parquet(OOF_FILE, oof_frame(results, p.y_s, p.X_s.index, p.folds, schema))
    folder.save_model(predictor)
    folder.update(
        best_model=chosen.key, models_refitted=predictor.models, models_bagged=sorted(bagged),
        constant_predictor={"cv_mean": constant, "beaten": metric.better(chosen.mean, constant),
                            "worse": [r.key for r in results
                                      if r.status == "ok" and not metric.better(r.mean, constant)]},
        task=schema.task, task_reason=schema.task_reason, metric=metric.name,
        greater_is_better=metric.greater_is_better, folds=p.n_folds, cv_repeats=p.repeats,
        search_rows=len(p.y_s), log_target_offered=p.ctx.log_target, versions=runinfo.versions(),
        trials_total=len(trials), search_seconds=round(sum(s.seconds for s in search.families), 2),
        leaderboard=board.to_dict(orient="records"), preprocessing=runinfo.preprocessing(model, chosen, schema),
        learning_curves={f.key: f.histories for f in families if f.histories},
        predict_seconds_per_1000_rows=runinfo.latency(model, p.X, schema),
    )
    runinfo.importance(folder, model, p.X, p.y, schema, metric, config, None if config.trials else deadline,
                       folder.meta.get("predict_seconds_per_1000_rows"))
    folder.drop_checkpoints()
    folder.update(status="complete", finished=now(), fit_seconds=round(time.monotonic() - started, 2))
    runinfo.report(folder)
    log.info("Chosen model: %s, CV %s %.4f. Saved to %s (%.1f s).", chosen.name, metric.name, chosen.mean,
             folder.path, time.monotonic() - started)
    return FitResult(predictor, board, folder.path)


def _beating(ranked: list[ModelResult], metric: Any, constant: float) -> list[ModelResult]:
    """The results that beat the constant predictor's CV score, or all of them (with a warning) if none does."""
    better = [r for r in ranked if metric.better(r.mean, constant)]
    worse = [r for r in ranked if r not in better]
    what = f"the constant predictor (CV {metric.name} {constant:.4f}: class shares or the mean, on the same folds)"
    if not better:
        log.warning("No model beats %s: the delivered %s (CV %.4f) predicts no better than the target's distribution "
                    "alone. More rows, more informative columns or a longer budget may help.", what, ranked[0].name,
                    ranked[0].mean)
        return ranked
    if worse:
        log.warning("%d model(s) scored no better than %s and cannot be chosen: %s.", len(worse), what,
                    ", ".join(f"{r.name} ({r.mean:.4f})" for r in worse[:5]) + (" …" if len(worse) > 5 else ""))
    return better


def _storage(folder: RunFolder, url: str | None) -> Any:
    """Optuna's journal file in the run folder (no server needed, safe for several processes), or the database
    at ``url`` shared with workers on other machines (see :mod:`automl.distributed`)."""
    import optuna

    if url is not None:
        from automl.distributed import open_storage

        return open_storage(url)
    folder.files.add(JOURNAL_FILE)
    backend = optuna.storages.journal.JournalFileBackend(str(folder.path / JOURNAL_FILE))
    return optuna.storages.JournalStorage(backend)


def _family_row(state: FamilyState) -> ModelResult:
    """A family's leaderboard row: its best trial, or its last trial with the reason it did not finish."""
    best = state.best or (state.trials[-1] if state.trials else
                          ModelResult(state.spec.key, state.spec.name, state.spec.kind, {}, "not run", "no budget"))
    best.trials_run = len(state.trials)
    best.trials_failed = sum(t.status == "failed" for t in state.trials)
    best.workers = dict(Counter(t.worker for t in state.trials if t.worker))
    return best


def _choose(results: list[ModelResult], families: dict[str, ModelResult], metric: Any, deadline: float | None,
            n_folds: int, config: FitConfig, growth: float = 1.0,
            constant: float | None = None) -> tuple[ModelResult, set[str]]:
    """The best complete result whose delivery still fits in the budget (any, in trial-count mode), and the
    keys of the families in it delivered as their fold models (k-fold bagging) instead of a refit.

    A family whose spec delivers its fold models needs no refit; the others' refits are estimated by
    :func:`automl.refit.refit_seconds` (``growth``: all rows / search rows). When the refits of the best
    result do not fit but every family in it kept its fold models, those are delivered instead. A result whose
    CV score is not better than ``constant`` (the constant predictor's) is chosen only if no result beats it.
    """
    ranked = sorted((r for r in results if r.status == "ok"), key=lambda r: r.mean,
                    reverse=metric.greater_is_better)
    if not ranked:
        reasons = "; ".join(f"{r.name}: {r.status} ({r.reason})" for r in results)
        raise BudgetError(
            f"No model finished within the {config.time_limit:.0f} s budget ({reasons}). "
            "Raise --time-limit, or lower --sample-rows."
        )
    if constant is not None:
        ranked = _beating(ranked, metric, constant)

    def bagged(r: ModelResult) -> set[str]:
        return {s.key for s in singles(r, families) if bagged_by_default(s, growth > 1)}

    if deadline is None:
        return ranked[0], bagged(ranked[0])
    slack = deadline + config.time_limit * 0.1 - runinfo.REPORT_SECONDS - 1 - time.monotonic()  # the 10 % tolerance
    for r in ranked:
        bag = bagged(r)
        refitted = [s for s in singles(r, families) if s.key not in bag]
        need = sum(refit_seconds(s, n_folds, growth) for s in refitted)
        if need <= slack:
            return r, bag
        if all(s.fold_models is not None for s in refitted):
            log.info("%s would need about %.0f s to refit on all rows; %.0f s are left: its fold models are "
                     "delivered instead (k-fold bagging).", r.name, need, slack)
            return r, bag | {s.key for s in refitted}
        log.info("%s would need about %.0f s to refit on all rows; %.0f s are left.", r.name, need, slack)
    fastest = min(ranked, key=lambda r: r.fit_time)
    return fastest, bagged(fastest)
