"""Exceptions raised by automl.

Every error a user can cause is an :class:`AutoMLError` whose message says what is wrong, where
(file, column, row) and how to fix it. The CLI maps them to exit codes (see ``automl.cli``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

# A log record with this attribute set is for the run folder's logs only: the CLI's terminal handler leaves it out
# (the terminal gets the same error as the CLI's "Error: ..." line)
FILE_ONLY = "automl_file_only"


class AutoMLError(Exception):
    """Base class of every error automl raises on purpose."""


class DataError(AutoMLError, ValueError):
    """The input data cannot be used as it is (file, column, row and fix are in the message)."""


class ConfigError(AutoMLError, ValueError):
    """An option, recipe or argument is invalid (the message lists the valid choices)."""


class OutputExistsError(ConfigError):
    """The output folder already holds files and ``overwrite`` was not given."""


class BudgetError(AutoMLError):
    """The time budget ran out before any model finished."""


class RunLockedError(AutoMLError):
    """Another process is writing the run folder (its lock is held)."""


class ScoreDropError(AutoMLError):
    """A batch run's score dropped past its recipe's threshold compared with the previous run."""


class ModelFormatError(AutoMLError):
    """A saved run folder cannot be loaded (missing, damaged or written by an incompatible version)."""


MAX_VALUE_CHARS = 60


def format_seconds(seconds: float) -> str:
    """Seconds as a message writes them, precise enough that two figures side by side do not read the same
    when they differ: ``"12 s"``, ``"1.6 s"``, ``"0.04 s"``; ``"0 s"`` for none or less."""
    if not seconds > 0:  # none, less, or not a number
        return "0 s"
    return f"{seconds:.0f} s" if seconds >= 9.95 else f"{seconds:.1f} s" if seconds >= 0.095 else f"{seconds:.2f} s"


def format_score(value: float) -> str:
    """A score as a message writes it: 4 decimals where scores usually lie (``"0.8286"``, ``"33.3213"``), 4
    significant digits beyond 1e6 or below 1e-4 (an RMSE of ``"3.881e+28"``, not 29 digits and ``".0000"``)."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    return f"{value:.4f}" if value == 0 or 1e-4 <= abs(value) < 1e6 else f"{value:.4g}"


def left_seconds(seconds: float) -> str:
    """``"3.5 s left"``, or ``"no time left"`` when ``seconds`` is not positive (it read "-2 s are left")."""
    return f"{format_seconds(seconds)} left" if seconds > 0 else "no time left"


def format_rows(positions: Sequence[int] | Iterable[int], limit: int = 5) -> str:
    """Describe 0-based data-row positions as 1-based row numbers, e.g. ``"rows 3, 8 and 12 more"``.

    Row numbers count data rows from 1 and exclude the header, so row ``r`` is line ``r + 1`` of a CSV.
    """
    rows = [int(p) + 1 for p in positions]
    if not rows:
        return "no rows"
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{'row' if len(rows) == 1 else 'rows'} {shown}{more}"


def show_value(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr(value)`` (without numpy's type wrapper), cut to about ``limit`` characters with the full length
    said: a pasted 120 000-character cell is shown as ``'paste; paste; …' (120001 characters)``."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters written"
    return f"{text[: limit - 1]}…{text[0]} ({size})" if isinstance(value, str) else f"{text[:limit]}… ({size})"


def format_values(values: Iterable[object], limit: int = 5) -> str:
    """Quote the first ``limit`` values and count the rest, e.g. ``"'a', 'b', 'c' and 296 more"``: a message
    never lists hundreds of values, nor the whole of a long one (see :func:`show_value`)."""
    items = list(values)
    shown = ", ".join(show_value(v) for v in items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown


def did_you_mean(value: object, valid: Iterable[str]) -> str:
    """The end of an error message that lists the choices: ``" Did you mean 'log_loss'?"`` for a ``value``
    close to one of ``valid`` (difflib's ratio of at least 0.6, ignoring case), else ``""``."""
    names = {str(v).lower(): str(v) for v in valid}
    near = difflib.get_close_matches(str(value).lower(), list(names), n=1, cutoff=0.6)
    return f" Did you mean {names[near[0]]!r}?" if near else ""


def choices(valid: Iterable[str], limit: int = 30) -> str:
    """Format a list of valid choices for an error message (the first ``limit``, then how many in all)."""
    items = sorted(valid)
    if len(items) <= limit:
        return ", ".join(show_value(v) for v in items)
    return f"{', '.join(show_value(v) for v in items[:limit])}, … ({len(items)} in all)"
