"""Build the stacking and greedy ensembles from each family's best out-of-fold predictions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from automl.ensembles.greedy import blend, greedy_weights
from automl.ensembles.model import combine
from automl.ensembles.stacking import make_meta_model, meta_features
from automl.errors import format_score
from automl.results.leaderboard import ENSEMBLE_KEYS
from automl.results.records import LeaderboardRow
from automl.search.cv import Fold, repetitions, validated_rows
from automl.search.decision import best_threshold, ranks_at_tuned_threshold, threshold_scores, tuned_fold_scores
from automl.search.evaluate import Context
from automl.search.metrics import Metric, all_scores

log = logging.getLogger(__name__)

NAMES = {"greedy": (ENSEMBLE_KEYS[0], "Greedy weighted ensemble", "ensemble"),
         "stacking": (ENSEMBLE_KEYS[1], "Stacking (linear meta-model)", "stacking")}


def build_ensembles(bases: Sequence[LeaderboardRow], y: np.ndarray, folds: Sequence[Fold],
                    ctx: Context) -> list[LeaderboardRow]:
    """Greedy ensemble and stacking over ``bases`` (complete results with OOF predictions), scored on ``folds``."""
    bases = [b for b in bases if b.status == "ok" and b.oof is not None]
    if len(bases) < 2:
        return []
    task, n_classes = ctx.schema.task, len(ctx.schema.classes or [])
    by_repeat = [b.oof_by_repeat if b.oof_by_repeat is not None else b.oof[None] for b in bases]
    v = validated_rows(folds, len(y))  # forward-chaining folds in time never validate the first period
    oofs = [b.oof[v] for b in bases]
    out = []
    for method, (key, name, kind) in NAMES.items():
        try:
            scores, oof_reps = cross_validated_ensemble(method, by_repeat, y, folds, ctx.metric, task, n_classes,
                                                        ctx.seed, ctx.weights, ctx.threshold)
            weights, meta = fit_combiner(method, oofs, y[v], ctx.metric, task, ctx.seed,
                                         None if ctx.weights is None else ctx.weights[v], ctx.threshold)
        except Exception as e:  # an ensemble that cannot be built is reported, the run goes on
            log.debug("%s failed", name, exc_info=True)
            out.append(LeaderboardRow(key, name, kind, {}, status="failed", reason=f"{type(e).__name__}: {e}"))
            continue
        members = [b.key for b in bases]
        if weights is not None:  # greedy: members with weight 0 are left out
            keep = weights > 0
            members, weights = [m for m, k in zip(members, keep, strict=True) if k], weights[keep]
        oof = oof_reps.mean(axis=0)
        result = LeaderboardRow(key, name, kind, {}, fold_scores=scores, oof=oof, members=members,
                                oof_by_repeat=oof_reps if len(oof_reps) > 1 else None,
                             weights=[] if weights is None else [float(w) for w in weights], combiner=meta,
                             secondary=all_scores(y[v], oof[v], task, None if ctx.weights is None else ctx.weights[v]),
                             fit_time=sum(b.fit_time for b in bases if b.key in members))
        result.params = {"members": members, **({"weights": result.weights} if result.weights else {})}
        log.info("%s of %s: %s %s.", name, ", ".join(members), ctx.metric.name, format_score(result.mean))
        out.append(result)
    return out


def fit_combiner(method: str, oofs: Sequence[np.ndarray], y: np.ndarray, metric: Metric, task: str,
                 seed: int, sample_weight: np.ndarray | None = None,
                 threshold: float | None = None) -> tuple[np.ndarray | None, Any]:
    """Fit greedy weights or a meta-model on out-of-fold predictions (rows weighted by ``sample_weight``;
    ``threshold``: ``--threshold``); returns ``(weights, meta)``."""
    if method == "greedy":  # F1, balanced accuracy: the blend is chosen at its threshold, as it is delivered
        return greedy_weights(oofs, y, for_selection(metric, task, threshold), task,
                              sample_weight=sample_weight), None
    meta = make_meta_model(task, seed)
    meta.fit(meta_features(oofs, task), y, sample_weight=sample_weight)
    return None, meta


def cross_validated_ensemble(method: str, oofs: Sequence[np.ndarray], y: np.ndarray, folds: Sequence[Fold],
                             metric: Metric, task: str, n_classes: int, seed: int,
                             sample_weight: np.ndarray | None = None,
                             threshold: float | None = None) -> tuple[list[float], np.ndarray]:
    """Score an ensemble on the shared folds: for each fold, fit the combiner on the other folds' OOF rows.

    ``oofs[m]`` holds member ``m``'s out-of-fold predictions per CV repetition (first axis); a fold of
    repetition ``r`` combines the predictions of that repetition only, as the members were scored on it.
    Returns the fold scores and the ensemble's out-of-fold predictions per repetition.
    """
    w = sample_weight
    v = validated_rows(folds, len(y))
    scores, out = [], np.zeros_like(oofs[0], dtype=float)
    for (train, valid), r in zip(folds, repetitions(folds, len(y)), strict=True):
        train = train[v[train]]  # rows with out-of-fold predictions only (time folds: not the first period)
        if not len(train):  # the first forward-chaining fold: nothing earlier to fit on, the members' mean
            out[r][valid] = blend([p[r][valid] for p in oofs], np.full(len(oofs), 1 / len(oofs)))
            scores.append(metric(y[valid], out[r][valid], task, None if w is None else w[valid]))
            continue
        weights, meta = fit_combiner(method, [p[r][train] for p in oofs], y[train], metric, task, seed,
                                     None if w is None else w[train], threshold)
        out[r][valid] = combine(method, weights, meta, [p[r][valid] for p in oofs], task, n_classes)
        scores.append(metric(y[valid], out[r][valid], task, None if w is None else w[valid]))
    if ranks_at_tuned_threshold(metric.name, task, threshold):  # each fold at its delivered threshold
        scores = tuned_fold_scores(metric.name, out[..., 1], y, folds, repetitions(folds, len(y)), w, threshold)
    return scores, out


def for_selection(metric: Metric, task: str, threshold: float | None = None) -> Metric:
    """``metric`` as ensemble selection should optimise it: for a metric ranked at a decision threshold, the
    score at ``threshold`` (``--threshold``), else at the best threshold of the rows scored (in-sample: for
    choosing members, not for reporting); any other metric as it is."""
    if not ranks_at_tuned_threshold(metric.name, task, threshold):
        return metric

    def at_best(y: np.ndarray, p: np.ndarray, task: str, w: np.ndarray | None = None) -> float:
        t = threshold if threshold is not None else best_threshold(p[:, 1], y, metric.name, w)
        return float(threshold_scores(metric.name, p[:, 1], y, np.asarray([t]), w)[0])

    return Metric(metric.name, metric.greater_is_better, at_best)
