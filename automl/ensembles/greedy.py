"""Greedy ensemble selection with replacement (Caruana et al., 2004) over out-of-fold predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from automl.search.metrics import Metric


def greedy_weights(oofs: Sequence[np.ndarray], y: np.ndarray, metric: Metric, task: str,
                   rounds: int = 50, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Weights (summing to 1) of the members picked greedily, with replacement, to optimise ``metric``.

    Each round adds the member whose inclusion gives the best score (rows weighted by ``sample_weight``) of the
    running average; ties go to the earlier member. Stops early when no member improves the score for 10 rounds.
    """
    counts = np.zeros(len(oofs))
    total = np.zeros_like(oofs[0], dtype=float)
    best_score, best_counts, stale = None, counts.copy(), 0
    for n in range(1, rounds + 1):
        scores = [metric(y, (total + p) / n, task, sample_weight) for p in oofs]
        pick = int(np.argmax(scores) if metric.greater_is_better else np.argmin(scores))
        counts[pick] += 1
        total += oofs[pick]
        if best_score is None or metric.better(scores[pick], best_score):
            best_score, best_counts, stale = scores[pick], counts.copy(), 0
        else:
            stale += 1
            if stale >= 10:
                break
    return best_counts / best_counts.sum()


def blend(oofs: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted average of member predictions."""
    return sum(w * p for w, p in zip(weights, oofs, strict=True) if w > 0)
