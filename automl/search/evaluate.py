"""Cross-validated evaluation of one model configuration (one trial) on the shared folds, within a deadline.

The preprocessing is part of the pipeline, so it is fitted on the training part of each fold only. The search
(:mod:`automl.search.tuner`) calls :func:`cross_validate` once per Optuna trial.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline

from automl.config import PreprocessConfig
from automl.data.preprocess import build_preprocessor
from automl.data.schema import Schema
from automl.models import fit_warnings
from automl.models.base import ModelSpec
from automl.models.deadline import FitTimeout, fit_deadline
from automl.models.outputs import predict_scores
from automl.results.records import TrialResult
from automl.search.bagged import FoldBag
from automl.search.cv import Fold, repetitions, validated_rows
from automl.search.decision import ranks_at_tuned_threshold, tuned_fold_scores
from automl.search.metrics import Metric, all_scores, get_metric
from automl.search.rounds import RoundSelector

log = logging.getLogger(__name__)

REFIT_FACTOR = 1.5  # a refit on all rows costs about this many fold fits
BAG_FACTOR = 0.5  # fold fits' worth of time a trial leaves after its folds when its fold models can be delivered
LOG_TARGET = "log_target"  # search choice for skewed non-negative regression targets
CLASS_WEIGHT = "class_weight"  # search choice for binary targets with a rare class: "none" or "balanced"
RARE_CLASS_SHARE = 0.10  # below this share of rows the minority class is rare: class weighting is searched


@dataclass(frozen=True)
class Context:
    """What every evaluation of one run shares."""

    schema: Schema
    metric: Metric
    preprocess: PreprocessConfig
    seed: int
    n_jobs: int
    log_target: bool = False  # whether the search offers training on log1p(target)
    class_balance: bool = False  # whether the search offers class weighting (a binary target with a rare class)
    # row weights of the search rows (--weight-column), shape (n_rows,); None: every row weighs 1
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    threshold: float | None = None  # --threshold: a binary model's labels at it (automl.search.decision)


def make_pipeline(spec: ModelSpec, ctx: Context, params: Mapping[str, Any] | None = None) -> Pipeline:
    """Preprocessing (chosen by the family) followed by the family's estimator, unfitted.

    ``params["log_target"]`` (a search choice, offered when ``ctx.log_target``): the regressor learns
    ``log1p(y)`` and its predictions are mapped back with ``expm1``.
    """
    params = dict(params or {})
    log_target = bool(params.pop(LOG_TARGET, False))
    params.pop(CLASS_WEIGHT, None)  # applied through the rows' weights at fit (fit_weights)
    prep = build_preprocessor(spec.pipeline_for(ctx.schema.task, params), ctx.schema, ctx.preprocess,
                              sparse_text=spec.sparse_text)
    model = spec.make(ctx.schema.task, params, seed=ctx.seed, n_jobs=ctx.n_jobs)
    if log_target:
        model = TransformedTargetRegressor(regressor=model, func=np.log1p, inverse_func=expm1_non_negative,
                                           check_inverse=False)
    return Pipeline([("prep", prep), ("model", model)])


def expm1_non_negative(z: np.ndarray) -> np.ndarray:
    """Inverse of log1p for a target known to be non-negative (log1p(y) >= 0, so negative outputs are floored)."""
    return np.expm1(np.maximum(z, 0.0))


def wants_log_target(y: np.ndarray, task: str, threshold: float = 1.0) -> bool:
    """True for a non-negative regression target whose skewness exceeds ``threshold`` (prices, counts, ...)."""
    if task != "regression" or len(y) < 3 or float(np.min(y)) < 0:
        return False
    return bool(pd.Series(y).skew() > threshold)


def cross_validate(spec: ModelSpec, ctx: Context, X: pd.DataFrame, y: np.ndarray, folds: Sequence[Fold],
                   deadline: float, params: Mapping[str, Any] | None = None, trial: Any = None,
                   soft_deadline: float | None = None) -> TrialResult:
    """Fit and score ``spec`` on every fold; stop early (status ``"out of budget"``) past ``deadline``.

    A fold is started only if the time measured so far says the remaining folds and a final refit still
    fit in the budget (the remaining folds only, for a family that keeps its fold models: they can be
    delivered instead of a refit, see :mod:`automl.search.bagged`); an anytime family (a network) instead
    gives each fold (and the refit, unless its fold models are delivered) an equal share of the time until
    ``soft_deadline`` (default: ``deadline``; moved later by the time building the pipeline took, which is where
    the model's library is imported), and ends each fold's training there (the network's one-off set-up and an
    epoch may overrun it; ``deadline`` still stops the fit). An exception inside a fit
    marks the result ``"failed"`` with its reason. With an Optuna ``trial``, the running mean score is reported
    after each fold and a pruned trial stops there (status ``"pruned"``). A boosting family is scored at the
    round count with the best mean over the folds (:mod:`automl.search.rounds`), recorded in ``chosen``. A
    finished trial of a family that keeps its fold models holds them in ``fold_models``. A binary metric of
    labels that the delivered model's threshold is tuned for (F1, balanced accuracy) scores each finished fold at
    the threshold chosen on the other folds (:mod:`automl.search.decision`); a pruned trial's running means are
    at 0.5.
    """
    task, n_classes = ctx.schema.task, len(ctx.schema.classes or [])
    result = TrialResult(spec.key, spec.name, spec.kind, {**spec.defaults_for(task), **(params or {})})
    reps = repetitions(folds, len(y))
    oof = np.zeros((reps[-1] + 1, len(y), n_classes) if task != "regression" else (reps[-1] + 1, len(y)))
    entered = time.monotonic()
    try:
        template = make_pipeline(spec, ctx, params)  # imports the model's library before the clock starts
    except Exception as e:
        log.debug("%s could not be built", spec.name, exc_info=True)
        result.status, result.reason = "failed", f"{type(e).__name__}: {e}"
        return result
    fit_params = fit_kwargs(spec)
    balanced = result.params.get(CLASS_WEIGHT) == "balanced"
    weighted = (ctx.weights is not None or balanced) and accepts_weights(template)
    if ctx.weights is not None and not weighted:
        log.warning("%s cannot take row weights: it is fitted unweighted (its CV scores are still weighted).",
                    spec.name)
    tuned = ranks_at_tuned_threshold(ctx.metric.name, task, ctx.threshold)
    rounds = RoundSelector.for_trial(spec, result.params, ctx.metric, task, n_classes, oof.shape,
                                     get_metric("log_loss") if tuned else None)
    predicted = 0  # rows predicted, for the predict time per 1000 rows
    started, predict_seconds = time.monotonic(), 0.0
    soft_end = deadline if soft_deadline is None else soft_deadline
    if soft_deadline is not None:  # importing the library (TensorFlow: 3-7 s, once) does not eat the training time
        soft_end = min(soft_end + (started - entered), deadline)
    anytime = spec.anytime and np.isfinite(soft_end)
    keep = spec.fold_models != "drop"
    refit_folds = 0.0 if spec.fold_models == "deliver" else REFIT_FACTOR  # an anytime family's time after its folds
    fold_share = (soft_end - started) / (len(folds) + refit_folds) if anytime else 0.0  # the same for each fold
    fitted: list[Pipeline] = []
    grown: list[int] = []  # an anytime forest's trees in each fold (spec.grown)
    for i, (train, valid) in enumerate(folds):
        soft = None
        if anytime:
            soft = time.monotonic() + fold_share
        elif i > 0:
            per_fold = (time.monotonic() - started) / i
            needed = per_fold * (len(folds) - i + after_folds(spec))
            if time.monotonic() + needed > deadline:
                result.status = "out of budget"
                result.reason = f"stopped after {i} of {len(folds)} folds ({per_fold:.1f} s per fold)"
                break
        try:
            pipeline = clone(template)
            with fit_warnings.logged(log, f"{spec.name} fold {i + 1}"):
                with fit_deadline(deadline, soft):
                    pipeline.fit(X.iloc[train], y[train], **fit_params,
                                 **({"model__sample_weight": fit_weights(ctx.weights, y, train, balanced)}
                                    if weighted else {}))
                tick = time.monotonic()
                pred = predict_scores(pipeline, X.iloc[valid], task, n_classes)
                predict_seconds += time.monotonic() - tick
        except FitTimeout:
            result.status = "out of budget"
            result.reason = f"fold {i + 1} of {len(folds)} ran past the trial's time limit and was stopped"
            break
        except Exception as e:  # a model that fails is recorded, the run goes on
            log.debug("%s failed on fold %d", spec.name, i + 1, exc_info=True)
            result.status, result.reason = "failed", f"{type(e).__name__}: {e}"
            break
        oof[reps[i], valid] = pred  # repeated CV: each row is predicted once per repetition
        predicted += len(valid)
        if keep:
            fitted.append(pipeline)
        _keep_training_curve(result, pipeline)
        if spec.grown is not None:
            grown.append(int(getattr(_final_model(pipeline), "n_grown_", result.params.get(spec.grown, 0))))
        if rounds is None:
            result.fold_scores.append(ctx.metric(y[valid], pred, task, _part(ctx.weights, valid)))
        else:  # every fold's score at the round count best on the folds so far
            try:
                rounds.add_fold(pipeline, X.iloc[valid], y[valid], pred, reps[i], valid, _part(ctx.weights, valid))
            except Exception as e:
                log.debug("%s could not predict with fewer rounds on fold %d", spec.name, i + 1, exc_info=True)
                result.status, result.reason = "failed", f"{type(e).__name__}: {e}"
                break
            result.fold_scores = rounds.fold_scores()
        if trial is not None and i + 1 < len(folds):
            trial.report(float(np.mean(result.fold_scores)), step=i)
            if trial.should_prune():
                result.status, result.reason = "pruned", f"pruned after {i + 1} of {len(folds)} folds"
                break
    result.fit_time = time.monotonic() - started
    if predicted:
        result.predict_seconds_per_1000 = predict_seconds / predicted * 1000
    if grown and min(grown) < result.params.get(spec.grown, 0):  # stopped short: the refit grows as few
        result.chosen = {spec.grown: min(grown)}
    if rounds is not None and rounds.scores:
        result.chosen = {spec.rounds.param: rounds.best_rounds}
        oof = rounds.oof[rounds.best_index]
    if result.status == "ok":
        if tuned:  # F1 and balanced accuracy: each fold at the threshold the other folds choose
            result.fold_scores = tuned_fold_scores(ctx.metric.name, oof[..., 1], y, folds, reps, ctx.weights,
                                                   ctx.threshold)
        result.oof, result.oof_by_repeat = oof.mean(axis=0), (oof if len(oof) > 1 else None)
        v = validated_rows(folds, len(y))  # forward-chaining folds in time never validate the first period
        result.secondary = all_scores(y[v], result.oof[v], task, _part(ctx.weights, v))
        if keep:
            result.fold_models = FoldBag(spec.key, fitted, task, n_classes, result.chosen.get(spec.rounds.param)
                                         if spec.rounds is not None and result.chosen else None)
    return result


def fit_weights(weights: np.ndarray | None, y: np.ndarray, rows: np.ndarray, balanced: bool) -> np.ndarray:
    """The ``sample_weight`` of a fit on ``rows``: the rows' weights (1 without ``--weight-column``), and with
    ``balanced`` each class's total weight made equal (scikit-learn's ``class_weight="balanced"``:
    ``n / (n_classes * count)``, counts weighted), shape (len(rows),)."""
    w = np.ones(len(rows)) if weights is None else np.asarray(weights, dtype=float)[rows]
    if balanced:
        counts = np.bincount(y[rows], weights=w)
        present = counts > 0
        factor = np.zeros_like(counts)
        factor[present] = w.sum() / (present.sum() * counts[present])
        w = w * factor[y[rows]]
    return w


def wants_class_balance(y: np.ndarray, task: str, share: float = RARE_CLASS_SHARE) -> bool:
    """Whether a binary target's minority class is rare (below ``share`` of the rows): class weighting is then
    a search choice of every family."""
    return task == "binary" and len(y) > 0 and float(np.bincount(y).min() / len(y)) < share


def _part(weights: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if weights is None else weights[rows]


def accepts_weights(pipeline: Pipeline) -> bool:
    """Whether the pipeline's model takes ``sample_weight`` in ``fit`` (inside a log-target wrapper too)."""
    from sklearn.utils.validation import has_fit_parameter

    model = pipeline.steps[-1][1]
    return has_fit_parameter(getattr(model, "regressor", model), "sample_weight")


def after_folds(spec: ModelSpec) -> float:
    """Fold fits' worth of time a family needs after its CV folds: a refit on all rows (``REFIT_FACTOR``),
    or, when its fold models can be delivered instead, ``BAG_FACTOR``."""
    return REFIT_FACTOR if spec.fold_models == "drop" else BAG_FACTOR


def fit_kwargs(spec: ModelSpec) -> dict[str, Any]:
    """The family's extra ``fit`` arguments, routed to the pipeline's model step."""
    return {f"model__{k}": v for k, v in (spec.fit_params() if spec.fit_params else {}).items()}


def _final_model(pipeline: Pipeline) -> Any:
    """The fitted model at the end of ``pipeline`` (the regressor inside a TransformedTargetRegressor)."""
    model = pipeline.steps[-1][1]
    return getattr(model, "regressor_", model)


def _keep_training_curve(result: TrialResult, pipeline: Pipeline) -> None:
    """Neural nets: keep the loss per epoch and the early-stopping epoch of each fold."""
    model = _final_model(pipeline)
    if hasattr(model, "history_"):
        result.histories.append(model.history_)
        result.best_epochs.append(int(model.best_epoch_))
