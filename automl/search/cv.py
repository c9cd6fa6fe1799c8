"""Cross-validation folds shared by every model, and the stratified sample used for the search.

The same folds are used for every model so that comparisons are paired: stratified k-fold for
classification, plain k-fold for regression, both shuffled with the run's seed. With groups (``--group-column``)
no group is on both sides of a fold: stratified group k-fold for classification, group k-fold for regression.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from automl.config import LARGE_DATA_ROWS, TINY_DATA_ROWS
from automl.errors import DataError

log = logging.getLogger(__name__)

Fold = tuple[np.ndarray, np.ndarray]
REPEAT_MIN_SECONDS = 120.0  # the default budget: shorter budgets do not repeat CV


def plan_folds(y: np.ndarray, task: str, folds: int | None, class_names: list[str] | None = None,
               groups: np.ndarray | None = None, group_column: str = "") -> int:
    """Return the number of folds to use, checking that the data can be split ``folds`` ways.

    ``folds=None`` means 5, or 3 for data above ``LARGE_DATA_ROWS`` rows (each fold is then large enough).

    Raises :class:`DataError` if there are fewer rows than folds. For classification, a class with fewer
    rows than folds lowers the fold count to that class's size (with a warning), so that every class is
    present in every fold. With ``groups`` (one code per row, from ``group_column``) the same rules count
    groups instead of rows: fewer groups than the folds asked for is a :class:`DataError`, fewer than the
    default lowers the count (at least 2 groups are needed).
    """
    if groups is not None:
        return _plan_group_folds(y, task, folds, class_names, groups, group_column)
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


def _plan_group_folds(y: np.ndarray, task: str, folds: int | None, class_names: list[str] | None,
                      groups: np.ndarray, column: str) -> int:
    n_groups = len(np.unique(groups))
    if n_groups < 2 or (folds is not None and n_groups < folds):
        need = f"--folds {n_groups} or fewer" if n_groups >= 2 else "a column with at least 2 groups"
        raise DataError(f"The group column {column!r} holds {n_groups} group(s), fewer than the {folds or 2} "
                        f"cross-validation folds: every fold needs groups of its own. Use {need}, or drop "
                        "--group-column.")
    chosen = folds or min(3 if len(y) > LARGE_DATA_ROWS else 5, n_groups)
    if folds is None and chosen < 5 and chosen == n_groups:
        log.warning("The group column %r holds only %d groups: using %d folds, one group each.", column,
                    n_groups, chosen)
    if task == "regression":
        return chosen
    per_class = [len(np.unique(groups[y == c])) for c in range(int(y.max()) + 1)]
    fewest = int(np.argmin(per_class))
    name = class_names[fewest] if class_names else str(fewest)
    if per_class[fewest] < 2:
        raise DataError(f"Class {name!r} occurs in only one group of {column!r}: no fold can both train on it and "
                        "validate it. Add rows of that class from other groups, or drop --group-column.")
    if per_class[fewest] < chosen:
        log.warning("Class %r occurs in only %d groups of %r; using %d folds so that every fold can hold it.",
                    name, per_class[fewest], column, per_class[fewest])
        return per_class[fewest]
    return chosen


def group_codes(values: pd.Series) -> np.ndarray:
    """One integer per row naming its group, shape (n_rows,); a missing value is a group of its own row."""
    codes = pd.factorize(values)[0].copy()
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
    return codes


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


def make_folds(y: np.ndarray, task: str, folds: int, seed: int, repeats: int = 1,
               groups: np.ndarray | None = None) -> list[Fold]:
    """Shuffled (stratified for classification) k-fold splits of ``range(len(y))``, ``repeats`` times over
    (each repetition a new shuffle): ``folds * repeats`` splits, each row validated once per repetition.

    ``groups``: one group code per row, shape (n_rows,). Every group's rows then fall in one validation fold
    (scikit-learn's ``StratifiedGroupKFold`` for classification, ``GroupKFold`` for regression, reshuffled per
    repetition with ``seed + repetition``).
    """
    stratified = task != "regression"
    if groups is not None:
        out: list[Fold] = []
        for r in range(repeats):
            splitter = (StratifiedGroupKFold if stratified else GroupKFold)(n_splits=folds, shuffle=True,
                                                                             random_state=seed + r)
            out += list(splitter.split(np.zeros(len(y)), y, groups))
        return out
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


def duplicates_across_folds(X: pd.DataFrame, folds: Sequence[Fold]) -> int:
    """Rows of ``X`` with an exact duplicate (on every column, missing values equal) validated in another fold
    of the first CV repetition: a model can score such a row after training on its copy."""
    fold_of = validation_fold(folds, len(X))
    dup = X.duplicated(keep=False).to_numpy()
    if not dup.any():
        return 0
    keys = pd.util.hash_pandas_object(X[dup], index=False).to_numpy()
    spread = pd.DataFrame({"key": keys, "fold": fold_of[dup]}).groupby("key")["fold"].transform("nunique")
    return int((spread > 1).sum())


def time_folds(times: np.ndarray, folds: int, gap: int = 0) -> list[Fold]:
    """Forward-chaining folds over rows ordered by ``times`` (numbers, shape (n_rows,); ties keep their order).

    The rows, in time order, are cut into ``folds + 1`` periods of about equal size, never between rows of
    the same time; fold ``i`` trains on every row before period ``i`` (less at least ``gap`` rows just before it,
    more where a time would be split) and validates
    on period ``i``. The first period is only trained on. :class:`DataError` when there are too few distinct
    times (or rows, with the gap) to make ``folds`` such folds.
    """
    order = np.argsort(times, kind="stable")
    ordered = times[order]
    n = len(order)
    cuts = []
    for i in range(1, folds + 2):
        cut = min(n, round(i * n / (folds + 1)))
        while 0 < cut < n and ordered[cut] == ordered[cut - 1]:  # never split one time between periods
            cut += 1
        cuts.append(cut)
    out: list[Fold] = []
    for start, end in itertools.pairwise(cuts):
        stop = max(start - gap, 0)
        while gap and 0 < stop < n and ordered[stop - 1] == ordered[stop]:  # the gap never splits one time
            stop -= 1
        train, valid = order[:stop], order[start:end]
        if len(train) < 2 or len(valid) < 1:
            raise DataError(f"Cannot make {folds} forward-chaining folds: {len(np.unique(times))} distinct times in "
                            f"{n} rows" + (f" with a gap of {gap} rows" if gap else "") + f". Use --folds "
                            f"{max(2, folds - 1)} or fewer" + (", a smaller --time-gap" if gap else "") + ".")
        out.append((np.sort(train), np.sort(valid)))
    return out


def validated_rows(folds: Sequence[Fold], n_rows: int) -> np.ndarray:
    """Which rows some fold validates, shape (n_rows,) of bool: all of them, except the first period of
    forward-chaining time folds, which has no out-of-fold prediction."""
    mask = np.zeros(n_rows, dtype=bool)
    for _, valid in folds:
        mask[valid] = True
    return mask


def first_repetition_on_validated(folds: Sequence[Fold], n_rows: int) -> tuple[np.ndarray, list[Fold]]:
    """The rows some fold validates (mask, shape (n_rows,)) and the first CV repetition's folds re-indexed into
    those rows, training rows limited to them (a forward-chaining fold's may then be empty): for fitting and
    judging something on out-of-fold predictions, as the decision threshold and calibration are."""
    mask = validated_rows(folds, n_rows)
    position = np.cumsum(mask) - 1
    first = [f for f, r in zip(folds, repetitions(folds, n_rows), strict=True) if r == 0]
    return mask, [(position[train[mask[train]]], position[valid]) for train, valid in first]
