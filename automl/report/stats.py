"""Paired comparison of two models on the same cross-validation folds (Nadeau & Bengio's corrected t-test)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """``a`` against ``b`` fold by fold: mean difference (a − b, in metric units), t statistic and p-value."""

    a: str
    b: str
    mean_difference: float
    t: float
    p_value: float
    n_folds: int


def corrected_t_test(a: np.ndarray, b: np.ndarray, test_train_ratio: float) -> tuple[float, float]:
    """Corrected resampled t-test (Nadeau & Bengio, 2003) for paired fold scores.

    Folds share training rows, so the plain paired t-test underestimates the variance; the correction scales it
    by ``1/J + n_test/n_train`` instead of ``1/J``. Returns ``(t, two-sided p)``; identical scores give ``(0, 1)``.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    j = len(d)
    if j < 2:
        return 0.0, 1.0
    var = float(np.var(d, ddof=1))
    if var == 0.0:
        return (0.0, 1.0) if np.mean(d) == 0 else (float(np.sign(np.mean(d)) * np.inf), 0.0)
    t = float(np.mean(d) / np.sqrt((1.0 / j + test_train_ratio) * var))
    return t, float(2 * stats.t.sf(abs(t), df=j - 1))


def compare(name_a: str, scores_a: list[float], name_b: str, scores_b: list[float], n_folds: int) -> Comparison:
    """Compare two models scored on the same ``n_folds``-fold CV (possibly repeated); ``n_test/n_train = 1/(k-1)``."""
    t, p = corrected_t_test(np.asarray(scores_a), np.asarray(scores_b), 1.0 / max(n_folds - 1, 1))
    diff = float(np.mean(scores_a) - np.mean(scores_b))
    return Comparison(name_a, name_b, diff, t, p, len(scores_a))


def verdict(c: Comparison, metric: str, greater_is_better: bool, alpha: float = 0.05) -> str:
    """One plain sentence: who wins, by how much in metric units, and whether the folds support it."""
    a_better = (c.mean_difference > 0) == greater_is_better
    winner, loser = (c.a, c.b) if a_better else (c.b, c.a)
    gap = abs(c.mean_difference)
    if c.mean_difference == 0:
        return f"{c.a} and {c.b} score the same {metric} on every fold."
    p_text = "p < 0.001" if c.p_value < 0.001 else f"p = {c.p_value:.2g}"
    if c.p_value < alpha:
        return f"{winner} beats {loser} by {gap:.3g} {metric} ({p_text}, corrected t-test over {c.n_folds} folds)."
    return (f"{winner} is ahead of {loser} by {gap:.3g} {metric}, but the difference is within the noise of the "
            f"folds ({p_text}): on this data they are statistically tied.")
