"""Binary decision thresholds on out-of-fold predictions: the best threshold for a label metric, and fold scores
with each fold's threshold chosen on the other folds.

A metric of labels (F1, balanced accuracy) judges a binary model at one decision threshold; at 0.5 a model whose
probabilities of a rare class stay below 0.5 labels nothing positive and scores F1 0, however well it ranks the
rows. So, for the metrics in ``RANKED_AT_TUNED_THRESHOLD``, every model and ensemble is scored as it would be
delivered: each validation fold at the threshold that maximises the metric on the rows the other folds validate
in the same CV repetition (those of its own training rows that have an out-of-fold prediction), never on its own
rows (:func:`tuned_fold_scores`). Accuracy is ranked at 0.5, the right threshold for calibrated probabilities;
its delivered threshold is still tuned (:mod:`automl.fit.threshold`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from automl.config import RANKED_AT_TUNED_THRESHOLD, THRESHOLD_METRICS

TUNABLE = ("accuracy", "f1", "balanced_accuracy")  # metrics of labels whose threshold can be chosen
CANDIDATES = 200  # quantiles of the out-of-fold probabilities whose midpoints are the thresholds tried


def threshold_scores(metric: str, p_positive: np.ndarray, y: np.ndarray, thresholds: np.ndarray,
                     sample_weight: np.ndarray | None = None) -> np.ndarray:
    """``metric`` (one of ``THRESHOLD_METRICS``) of the labels ``p_positive >= t`` for every ``t`` in ``thresholds``,
    shape (len(thresholds),), from cumulative weighted counts (the same values as scikit-learn's scores of
    those labels, to rounding; F1 is 0 where it is undefined, as with ``zero_division=0``)."""
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    order = np.argsort(p_positive, kind="stable")
    p, positive, w = p_positive[order], (y[order] == 1), w[order]
    # rows at or above t are labelled positive: their weights are the totals from the first row >= t on
    from_row = np.searchsorted(p, thresholds, side="left")
    tp_above = np.concatenate([np.cumsum((w * positive)[::-1])[::-1], [0.0]])[from_row]
    fp_above = np.concatenate([np.cumsum((w * ~positive)[::-1])[::-1], [0.0]])[from_row]
    pos, neg = float((w * positive).sum()), float((w * ~positive).sum())
    fn, tn = pos - tp_above, neg - fp_above
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "f1":
            return np.nan_to_num(2 * tp_above / (2 * tp_above + fp_above + fn), nan=0.0)
        if metric == "accuracy":
            return (tp_above + tn) / max(pos + neg, 1e-300)
        if metric == "precision":
            return np.nan_to_num(tp_above / (tp_above + fp_above), nan=0.0)
        if metric == "recall":
            return np.nan_to_num(tp_above / pos, nan=0.0) if pos > 0 else np.zeros(len(thresholds))
        if metric == "balanced_accuracy":
            recalls = [r for r, n in ((tp_above / pos, pos), (tn / neg, neg)) if n > 0]
            return np.mean(recalls, axis=0) if recalls else np.zeros(len(thresholds))
    raise ValueError(f"Unknown metric of labels {metric!r}; choose one of {', '.join(THRESHOLD_METRICS)}.")


def best_threshold(p_positive: np.ndarray, y: np.ndarray, metric: str,
                   sample_weight: np.ndarray | None = None) -> float:
    """The threshold that maximises ``metric`` of the labels ``p_positive >= t`` for ``y`` (0/1), among 0.5,
    0 (every row positive), 1.5 (none) and the midpoints between consecutive distinct values of ``CANDIDATES``
    quantiles of ``p_positive`` (shape (n_rows,)); ties go to the threshold nearest 0.5.

    Midpoints, not the values themselves: a threshold at the lowest positive's probability labels a row of
    another fold with a hair less (the constant predictor: each fold's prior differs slightly) negative."""
    values = np.unique(np.quantile(p_positive, np.linspace(0, 1, CANDIDATES)))
    grid = np.unique(np.concatenate([(values[1:] + values[:-1]) / 2, [0.0, 0.5, 1.5]]))
    scores = threshold_scores(metric, p_positive, y, grid, sample_weight)
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])


def tuned_fold_scores(metric: str, oof_by_repeat: np.ndarray, y: np.ndarray, folds: Sequence[tuple[np.ndarray,
                      np.ndarray]], repeat_of: Sequence[int], sample_weight: np.ndarray | None = None,
                      given: float | None = None) -> list[float]:
    """Each fold's ``metric`` at a threshold chosen on the other folds of its repetition (``given``: at that
    threshold, ``--threshold``'s).

    ``oof_by_repeat``: the positive class's out-of-fold probability per CV repetition, shape (n_repeats, n_rows);
    ``repeat_of``: each fold's repetition. Fold ``i`` is scored at :func:`best_threshold` of the rows that are
    both in its training part and validated by another fold of its repetition (forward-chaining time folds: the
    earlier periods; the first fold, with none, at 0.5).
    """
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    validated = np.zeros((int(max(repeat_of)) + 1, len(y)), dtype=bool)
    for (_, valid), r in zip(folds, repeat_of, strict=True):
        validated[r, valid] = True
    out = []
    for (train, valid), r in zip(folds, repeat_of, strict=True):
        p = oof_by_repeat[r]
        known = train[validated[r, train]]
        t = given if given is not None else best_threshold(p[known], y[known], metric, w[known]) if len(known) \
            else 0.5
        out.append(float(threshold_scores(metric, p[valid], y[valid], np.asarray([t]), w[valid])[0]))
    return out


def ranks_at_tuned_threshold(metric: str, task: str, given: float | None = None) -> bool:
    """Whether models are scored at their decision threshold for this metric and task: one tuned on the other
    folds (see the module's docstring), or with ``given`` (``--threshold``) that one, for any metric of labels."""
    if task != "binary":
        return False
    return metric in THRESHOLD_METRICS if given is not None else metric in RANKED_AT_TUNED_THRESHOLD

