"""Row weights (``--weight-column``): read, checked, rows of weight 0 left out, scaled to a mean of 1."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from automl.data.io import file_rows
from automl.errors import ConfigError, DataError, choices, format_rows, show_value

log = logging.getLogger(__name__)


def row_weights(values: pd.Series, column: str, where: str) -> np.ndarray:
    """The weights in ``values`` (one per row, in row order), scaled to a mean of 1, shape (n_rows,).

    Raises :class:`DataError`, naming the rows, for a value that is not a number, a missing, negative or infinite
    weight, or weights that are all 0. Scaling leaves every weighted fit and score unchanged and keeps a
    network's loss on its usual scale.
    """
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    present = values.notna().to_numpy()
    problems = [
        (present & np.isnan(numbers), "holds text that is not a number",
         "Weights must be numbers of at least 0"),
        (~present, "is empty", "Give every row a weight (0 leaves a row out)"),
        (np.isinf(numbers), "holds an infinite weight", "Weights must be finite"),
        (numbers < 0, "holds a negative weight", "Weights must be at least 0"),
    ]
    found = []  # every kind of problem at once, so one fix is enough
    for bad, what, fix in problems:
        if bad.any():
            first = show_value(values.iloc[int(np.flatnonzero(bad)[0])])
            found.append(f"{what} ({first}) in {int(bad.sum())} row(s): {format_rows(file_rows(values, bad))}. "
                         f"{fix}.")
    if found:
        raise DataError(f"Weight column {column!r} in {where} " + " It also ".join(found))
    if not numbers.sum() > 0:
        raise DataError(f"Weight column {column!r} in {where} is 0 in every row: no row would count. "
                        "Give the rows that matter a positive weight.")
    return numbers / numbers.mean()


def take_weights(frame: pd.DataFrame, column: str, where: str) -> tuple[pd.DataFrame, pd.Series]:
    """``frame`` without its rows of weight 0, and the weights of the rows kept (indexed like ``frame``).

    A row of weight 0 is left out before anything is learnt, so it has no influence at all: not on the
    column types, the preprocessing statistics, the folds, the fits or the scores. :class:`ConfigError` when
    ``column`` is not in ``frame``; :class:`DataError` as :func:`row_weights` says.
    """
    if column not in frame.columns:
        raise ConfigError(f"--weight-column names unknown column {column!r}; valid columns: {choices(frame.columns)}.")
    weights = pd.Series(row_weights(frame[column], column, where), index=frame.index)
    zero = weights.to_numpy() == 0
    if zero.any():
        log.info("Left out %d row(s) of weight 0 in %r (%s).", int(zero.sum()), column,
                 format_rows(np.flatnonzero(zero)))
        frame, weights = frame.loc[~zero], weights.loc[~zero]
    return frame, weights
