"""Cross-validation folds shared by every model, and the stratified sample used for the search.

The same folds are used for every model so that comparisons are paired: stratified k-fold for
classification, plain k-fold for regression, both shuffled with the run's seed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold

from automl.config import LARGE_DATA_ROWS, TINY_DATA_ROWS
from automl.errors import DataError

log = logging.getLogger(__name__)

Fold = tuple[np.ndarray, np.ndarray]
REPEAT_MIN_SECONDS = 120.0  # the default budget: shorter budgets do not repeat CV


def plan_folds(y: np.ndarray, task: str, folds: int | None, class_names: list[str] | None = None) -> int:
    """Return the number of folds to use, checking that the data can be split ``folds`` ways.

    ``folds=None`` means 5, or 3 for data above ``LARGE_DATA_ROWS`` rows (each fold is then large enough).

    Raises :class:`DataError` if there are fewer rows than folds. For classification, a class with fewer
    rows than folds lowers the fold count to that class's size (with a warning), so that every class is
    present in every fold.
    """
    if folds is None:
        folds = 3 if len(y) > LARGE_DATA_ROWS else 5
    if len(y) < folds:
        raise DataError(
            f"The data has {len(y)} rows with a target, fewer than the {folds} cross-validation folds. "
            f"Use --folds {max(2, len(y))} or fewer, or add rows."
        )
    if task == "regression":
        return folds
    counts = np.bincount(y)
    smallest = int(counts.min())
    if smallest < folds:
        name = class_names[int(counts.argmin())] if class_names else str(int(counts.argmin()))
        log.warning(
            "Class %r has only %d rows, fewer than the %d folds; using %d folds so that every fold holds "
            "every class. Add rows of that class to use more folds.", name, smallest, folds, smallest,
        )
        return smallest
    return folds


def plan_repeats(n_rows: int, repeats: int | None, time_limit: float | None = None) -> int:
    """How many times to repeat k-fold CV: ``repeats``, or by default 2 for tiny data (below ``TINY_DATA_ROWS``
    rows, whose fold scores are noisy) when the budget allows it: a trial count, or a time limit of at least
    ``REPEAT_MIN_SECONDS``. Repeating doubles every trial's cost; under a short budget the slow families (the
    neural nets above all) would not finish at all, which is worse than noisier scores."""
    if repeats is not None:
        return repeats
    if n_rows >= TINY_DATA_ROWS or (time_limit is not None and time_limit < REPEAT_MIN_SECONDS):
        return 1
    return 2


def make_folds(y: np.ndarray, task: str, folds: int, seed: int, repeats: int = 1) -> list[Fold]:
    """Shuffled (stratified for classification) k-fold splits of ``range(len(y))``, ``repeats`` times over
    (each repetition a new shuffle): ``folds * repeats`` splits, each row validated once per repetition."""
    stratified = task != "regression"
    if repeats > 1:
        cls = RepeatedStratifiedKFold if stratified else RepeatedKFold
        splitter = cls(n_splits=folds, n_repeats=repeats, random_state=seed)
    else:
        splitter = (StratifiedKFold if stratified else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    return [(train, valid) for train, valid in splitter.split(np.zeros(len(y)), y)]


def repetitions(folds: Sequence[Fold], n_rows: int) -> list[int]:
    """The repetition each fold belongs to (repeated CV validates every row once per repetition, in order)."""
    n_repeats = max(1, sum(len(valid) for _, valid in folds) // max(n_rows, 1))
    per_repeat = max(1, len(folds) // n_repeats)
    return [i // per_repeat for i in range(len(folds))]


def validation_fold(folds: Sequence[Fold], n_rows: int) -> np.ndarray:
    """Each row's validation fold in the first CV repetition, 1-based (0: validated in none), shape (n_rows,)."""
    fold_of = np.zeros(n_rows, dtype=int)
    for i, ((_, valid), rep) in enumerate(zip(folds, repetitions(folds, n_rows), strict=True)):
        if rep == 0:
            fold_of[valid] = i + 1
    return fold_of


def search_sample(y: np.ndarray, task: str, max_rows: int, seed: int, min_per_class: int = 5) -> np.ndarray | None:
    """Row positions of a stratified sample of ``max_rows`` rows, or ``None`` when the data is small enough.

    Each class keeps its share of rows, but at least ``min(count, min_per_class)`` rows, so rare classes
    survive the sampling. Regression targets are stratified by deciles.
    """
    n = len(y)
    if n <= max_rows:
        return None
    rng = np.random.default_rng(seed)
    strata = y if task != "regression" else np.digitize(y, np.quantile(y, np.linspace(0.1, 0.9, 9)))
    chosen = []
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        take = max(round(len(members) * max_rows / n), min(len(members), min_per_class))
        chosen.append(rng.choice(members, size=min(take, len(members)), replace=False))
    sample = np.sort(np.concatenate(chosen))
    log.info("The search runs on a stratified sample of %d of %d rows; the final refit uses all rows.",
             len(sample), n)
    return sample
