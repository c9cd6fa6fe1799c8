"""Paired comparison of two models on the same cross-validation folds (Nadeau & Bengio's corrected t-test), and
whether the two sides of the neural-nets-vs-tree-ensembles comparison had comparable search budgets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

# When one side of the neural-nets-vs-tree-ensembles comparison had more than this many times the other's trials
# or seconds, the verdict is called provisional: the best of many tuned trials is favoured over the best of a few
# (best-of-N selection), which can outweigh a real difference between the sides. 3x leaves room for the uneven
# trial costs of an even search (the nn-vs-ensembles recipe) and still flags a default run, where the tree side
# often has 10-40x the neural side's trials.
BUDGET_RATIO_LIMIT = 3.0


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
    p_text = "p < 0.001" if c.p_value < 0.001 else f"p = {_p_digits(c.p_value, alpha)}"
    if c.p_value < alpha:
        return f"{winner} beats {loser} by {gap:.3g} {metric} ({p_text}, corrected t-test over {c.n_folds} folds)."
    return (f"{winner} is ahead of {loser} by {gap:.3g} {metric}, but the difference is within the noise of the "
            f"folds ({p_text}): on this data they are statistically tied.")


def _p_digits(p: float, alpha: float) -> str:
    """``p`` to 2 significant digits, more where those would read as ``alpha`` or on its other side (0.0498 is
    "0.0498", not "0.05", beside a sentence that calls it significant)."""
    for digits in (2, 3, 4):
        shown = f"{p:.{digits}g}"
        if float(shown) != alpha and (float(shown) < alpha) == (p < alpha):
            return shown
    return f"{p:.5g}"


@dataclass(frozen=True)
class SideBudget:
    """What one side of the comparison got from the search: its trials, their seconds and its best model."""

    side: str  # "neural nets" or "tree ensembles"
    trials: int
    seconds: float
    best_model: str | None = None
    best_score: float | None = None


def budget_ratio(a: float, b: float) -> float:
    """The larger of ``a`` and ``b`` over the smaller: 1.0 when both are 0, infinite when only one is."""
    low, high = sorted((float(a), float(b)))
    if high <= 0:
        return 1.0
    return high / low if low > 0 else float("inf")


def is_provisional(a: SideBudget, b: SideBudget, limit: float = BUDGET_RATIO_LIMIT) -> bool:
    """Whether one side had over ``limit`` times the other's trials or seconds."""
    return budget_ratio(a.trials, b.trials) > limit or budget_ratio(a.seconds, b.seconds) > limit


def budget_verdict(a: SideBudget, b: SideBudget, limit: float = BUDGET_RATIO_LIMIT) -> str:
    """One or two plain sentences on whether the two sides had comparable search budgets.

    Parameters
    ----------
    a, b
        The two sides (each with at least one trial).
    limit
        Ratio of trials or of seconds above which the comparison is called provisional.

    Returns
    -------
    str
        ``"Provisional: the tree ensembles had 38 trials (41 s) and the neural nets 1 trial (6.0 s); ..."`` when
        one side had over ``limit`` times the other's trials or seconds, else a sentence saying the budgets were
        comparable, with the same figures.
    """
    if not is_provisional(a, b, limit):
        return (f"The {a.side} and the {b.side} had comparable budgets (within {limit:g}x in trials and in "
                f"seconds): {_budget_text(a)} and {_budget_text(b)}, so the best-of-N selection favours neither "
                "side much.")
    by_trials = budget_ratio(a.trials, b.trials) > limit
    more, fewer = sorted((a, b), key=lambda s: (s.trials, s.seconds) if by_trials else (s.seconds, s.trials),
                         reverse=True)
    if by_trials:
        few = "a single untuned one" if fewer.trials == 1 else f"the best of {fewer.trials}"
        why = f"the best of {more.trials} trials is favoured over {few} (best-of-N selection)."
    else:
        why = "the side given far more time is favoured: its models could train longer or search further."
    return f"Provisional: the {more.side} had {_budget_text(more)} and the {fewer.side} {_budget_text(fewer)}; {why}"


def _budget_text(side: SideBudget) -> str:
    seconds = f"{side.seconds:.1f}" if side.seconds < 10 else f"{side.seconds:.0f}"
    return f"{side.trials} trial{'s' if side.trials != 1 else ''} ({seconds} s)"
