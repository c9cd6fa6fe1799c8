"""Finishing one fit: the ensembles, the choice, the refit on all rows, and the run folder's result files."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from automl.config import FitConfig
from automl.ensembles.build import build_ensembles
from automl.ensembles.model import EnsembleModel
from automl.errors import BudgetError, format_score, format_seconds, left_seconds
from automl.fit import runinfo
from automl.fit.budget import Budget
from automl.fit.calibration import CalibrationChoice, choose_calibration
from automl.fit.preparing import Prepared
from automl.fit.refit import bagged_by_default, refit, refit_seconds, singles
from automl.fit.threshold import ThresholdChoice, at_threshold, choose_threshold
from automl.predictor import Predictor
from automl.results import (
    LEADERBOARD_FILE,
    LEADERBOARD_JSON,
    OOF_FILE,
    TRIALS_FILE,
    ConstantPredictor,
    RunFolder,
    now,
)
from automl.results.leaderboard import leaderboard_frame, oof_frame, trials_frame
from automl.results.records import LeaderboardRow, TrialResult
from automl.search.cv import validation_fold
from automl.search.metrics import constant_cv_score
from automl.search.tuner import FamilyState, Search
from automl.version import __version__

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hooks:
    """Callbacks of one fit: ``on_trial(family_state, result)`` after every trial, ``before_report(run_dir)``
    once every result is saved, before the report is rendered; what it returns is added to ``run.json``."""

    on_trial: Callable[[Any, Any], None] | None = None
    before_report: Callable[[Path], dict[str, Any] | None] | None = None


@dataclass
class FitResult:
    """What a fit returns: the predictor, the leaderboard and where everything was saved."""

    predictor: Predictor
    leaderboard: pd.DataFrame
    run_dir: Path


def finish(config: FitConfig, folder: RunFolder, started: float, budget: Budget, search: Search,
           trials: list[TrialResult], p: Prepared,
           before_report: Callable[[Path], dict[str, Any] | None] | None = None) -> FitResult:
    """Ensembles, the choice, the refit on all rows, and every result file of the run folder."""
    schema, metric = p.ctx.schema, p.ctx.metric
    families = [family_row(state) for state in search.families]
    ensembles = build_ensembles([f for f in families if f.status == "ok"], p.y_s, p.folds, p.ctx)
    results = families + ensembles
    growth = len(p.y) / max(len(p.y_s), 1)  # large data: the search ran on a sample, the refit uses every row
    by_key = {f.key: f for f in families}
    constant = constant_cv_score(p.y_s, p.folds, metric, schema.task, len(schema.classes or ()), p.ctx.weights,
                                 p.ctx.threshold)
    chosen, bagged = choose(results, by_key, metric, budget.deadline, len(p.folds), config,
                             growth, constant)
    model = refit(chosen, by_key, p.ctx, p.X, p.y, bagged, p.weights)
    members = dict(zip(chosen.members, model.members, strict=True)) if isinstance(model, EnsembleModel) else {}
    calibration, threshold = _decisions(chosen, p, config)
    predictor = Predictor(
        schema, model, chosen.key, __version__, config.na_values, members, config.sep,
        threshold=threshold.value if threshold is not None and threshold.source != "default" else None,
        calibrator=calibration.calibrator if calibration is not None and calibration.applied else None)

    board = leaderboard_frame(results, metric)
    folder.write_text(LEADERBOARD_FILE, board.to_csv(index=False))
    folder.write_text(LEADERBOARD_JSON, board.to_json(orient="records", indent=1))
    folder.write_text(TRIALS_FILE, trials_frame(trials, metric).to_csv(index=False))
    fold_of = validation_fold(p.folds, len(p.y_s))
    folder.write_parquet(OOF_FILE, oof_frame(results, p.y_s, p.X_s.index, fold_of, schema.classes))
    folder.save_model(predictor)
    folder.update(
        best_model=chosen.key, models_refitted=predictor.models, models_bagged=sorted(bagged),
        constant_predictor=ConstantPredictor(constant, metric.better(chosen.mean, constant),
                                             [r.key for r in results
                                              if r.status == "ok" and not metric.better(r.mean, constant)]),
        task=schema.task, task_reason=schema.task_reason, metric=metric.name,
        greater_is_better=metric.greater_is_better, folds=p.n_folds, cv_repeats=p.repeats,
        cv_groups=p.n_groups, group_hint=p.group_hint, time_folds=p.time_periods, decision_threshold=threshold,
        calibration=calibration.record() if calibration is not None else None,
        search_rows=len(p.y_s), log_target_offered=p.ctx.log_target,
        class_balance_offered=p.ctx.class_balance, versions=runinfo.versions(),
        trials_total=sum(t.trial is not None for t in trials),  # not the placeholders of skipped families
        search_seconds=round(sum(s.seconds for s in search.families), 2),
        leaderboard=board.astype(object).where(board.notna(), None).to_dict(orient="records"),
        preprocessing=runinfo.preprocessing(model, chosen, schema),
        learning_curves={f.key: f.histories for f in families if f.histories},
        predict_seconds_per_1000_rows=runinfo.latency(model, p.X, schema),
    )
    # as delivered: calibrated, and F1 and the other metrics of labels at the delivered threshold (at 0.5 a rare
    # class's model may label nothing positive, and every column would look unimportant)
    runinfo.importance(folder, predictor.as_delivered(), p.X, p.y, schema, at_threshold(metric, threshold), config,
                       budget.deadline, folder.record.predict_seconds_per_1000_rows, p.weights)
    folder.drop_checkpoints()
    folder.update(status="complete", finished=now(), fit_seconds=round(time.monotonic() - started, 2))
    if before_report is not None:
        folder.update(**(before_report(folder.path) or {}))  # e.g. a batch run's comparison, for the report
    runinfo.report(folder)
    log.info("Chosen model: %s, CV %s %s. Saved to %s (%.1f s).", chosen.name, metric.name, format_score(chosen.mean),
             folder.path, time.monotonic() - started)
    return FitResult(predictor, board, folder.path)


def _decisions(chosen: LeaderboardRow, p: Prepared,
               config: FitConfig) -> tuple[CalibrationChoice | None, ThresholdChoice | None]:
    """Calibration (classification) and the decision threshold (binary) of the chosen model, from its
    out-of-fold predictions."""
    task, metric = p.ctx.schema.task, p.ctx.metric.name
    if task != "binary" and config.threshold is not None:
        log.warning("--threshold %s is ignored: a decision threshold applies to binary targets, this one is %s.",
                    config.threshold, task)
    if task == "regression" or chosen.oof is None:
        return None, None
    calibration = choose_calibration(chosen.oof, p.y_s, p.folds, task, metric, p.ctx.weights)
    if task != "binary":
        return calibration, None
    by_repeat = chosen.oof_by_repeat[..., 1] if chosen.oof_by_repeat is not None else None
    return calibration, choose_threshold(chosen.oof[:, 1], p.y_s, p.folds, metric, config.threshold,
                                         p.ctx.weights, by_repeat)


def beating(ranked: list[LeaderboardRow], metric: Any, constant: float) -> list[LeaderboardRow]:
    """The results that beat the constant predictor's CV score, or all of them (with a warning) if none does."""
    better = [r for r in ranked if metric.better(r.mean, constant)]
    worse = [r for r in ranked if r not in better]
    what = (f"the constant predictor (CV {metric.name} {format_score(constant)}: class shares or the mean, on the "
            "same folds)")
    if not better:
        log.warning("No model beats %s: the delivered %s (CV %s) predicts no better than the target's distribution "
                    "alone. More rows, more informative columns or a longer budget may help.", what, ranked[0].name,
                    format_score(ranked[0].mean))
        return ranked
    if worse:
        log.warning("%d model(s) scored no better than %s and cannot be chosen: %s.", len(worse), what,
                    ", ".join(f"{r.name} ({format_score(r.mean)})" for r in worse[:5])
                    + (" …" if len(worse) > 5 else ""))
    return better


def family_row(state: FamilyState) -> LeaderboardRow:
    """A family's leaderboard row: its best trial, or its last trial with the reason it did not finish."""
    return LeaderboardRow.of_family(state.spec.key, state.spec.name, state.spec.kind, state.trials, state.best)


def choose(results: list[LeaderboardRow], families: dict[str, LeaderboardRow], metric: Any, deadline: float | None,
            n_folds: int, config: FitConfig, growth: float = 1.0,
            constant: float | None = None) -> tuple[LeaderboardRow, set[str]]:
    """The best complete result whose delivery still fits in the budget (any, in trial-count mode), and the
    keys of the families in it delivered as their fold models (k-fold bagging) instead of a refit.

    A family whose spec delivers its fold models needs no refit; the others' refits are estimated by
    :func:`automl.fit.refit.refit_seconds` (``growth``: all rows / search rows). When the refits of the best
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
        ranked = beating(ranked, metric, constant)

    def bagged(r: LeaderboardRow) -> set[str]:
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
            log.info("%s would need about %s to refit on all rows, with %s: its fold models are delivered "
                     "instead (k-fold bagging).", r.name, format_seconds(need), left_seconds(slack))
            return r, bag | {s.key for s in refitted}
        kept = [s.name for s in refitted if s.fold_models is None]
        log.info("%s would need about %s to refit on all rows, with %s (%s kept no fold models to deliver "
                 "instead): the next best is tried.", r.name, format_seconds(need), left_seconds(slack),
                 ", ".join(kept))
        # on the leaderboard too: its rank 1 is then not the delivered model
        why = (f"not delivered: refitting on all rows would need about {format_seconds(need)}, with "
               f"{left_seconds(slack)}")
        r.reason = f"{r.reason}; {why}" if r.reason else why
    fastest = min(ranked, key=lambda r: r.fit_time)
    return fastest, bagged(fastest)
