"""Datetimes written with UTC offsets: one column may hold several (daylight saving time, ``Z`` for UTC).

A value with an offset (``2023-07-15 08:00:00+02:00``, ``...Z``, ``... UTC``, ``...+0530``) names an instant.
At fit, the offsets of a column give its time zone: one offset is a fixed zone (``"UTC"``, ``"+05:30"``);
several (``+01:00`` in winter, ``+02:00`` in summer) are matched against the IANA time zone database (the
``tzdata`` that pandas ships) and the first zone whose rules give every value its offset is kept, e.g.
``"Europe/Berlin"``. Every value is then turned into local time in that zone, so a datetime's calendar parts
(hour, day of week, ...) are the local ones that the offsets say, and the same instant written in UTC (``Z``)
or with any other offset gives the same parts at predict time. Values without an offset are taken as local
time as written; a column without offsets at fit is used as written (offsets met at predict time are then
dropped, with a warning).
"""

from __future__ import annotations

import logging
import re
import warnings
import zoneinfo
from datetime import timedelta, timezone
from functools import cache

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

log = logging.getLogger(__name__)

# A date, a time, then an offset of at most 14 hours (UTC-12:00 to UTC+14:00 are the offsets in use): so that
# "08:00-17:00" (opening hours) or "09:00-12:00" (no date) are not read as times with offsets.
OFFSET = re.compile(
    r"^(?P<body>.*(?:\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?|\dT\d{4}(?:\d\d(?:[.,]\d+)?)?))\s*"
    r"(?P<offset>Z|UTC|GMT|(?:UTC|GMT)?\s*[+-](?:0?\d|1[0-4])(?::?[0-5]\d)?)$",
    re.IGNORECASE,
)
HAS_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\b\d{4}\b|\d{8}T")
TIME_ONLY = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?\s*$")
TIME_ONLY_DATE = "2000-01-01 "  # a time without a date gets this date, not the day the fit runs
OFFSET_PARTS = re.compile(r"(?P<sign>[+-])\s*(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?$")
ZONE_SAMPLE = 500
UNIT = "datetime64[us]"  # microseconds: years 1 to 9999 (nanoseconds end in 2262, and 9999-12-31 is a placeholder)
SAFE_RANGE = (pd.Timestamp("0001-01-03"), pd.Timestamp("9999-12-29"))  # room for an offset either way
# a date written with numbers for day and month, in either order: "01.02.2021", "23/1/21", "1-2-2021 10:00"
NUMERIC_DATE = r"^\s*(?P<first>\d{1,2})[./-](?P<second>\d{1,2})[./-]\d{2,4}\b"
GUESS_VALUES = 20  # distinct values whose formats pandas guesses (an ambiguous first value gives no guess)
# Tried first, in this order, when several zones share a column's offsets (then every other zone, by name).
PREFERRED_ZONES = (
    "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam",
    "Europe/Helsinki", "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "Europe/Lisbon", "Europe/Dublin",
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "America/Halifax", "America/St_Johns", "America/Mexico_City", "America/Sao_Paulo",
    "America/Santiago", "America/Havana", "Pacific/Honolulu", "Australia/Sydney", "Australia/Adelaide",
    "Australia/Brisbane", "Australia/Perth", "Pacific/Auckland", "Asia/Jerusalem", "Asia/Tehran", "Africa/Cairo",
)


def split(values: pd.Series, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Each value's local time as written and its UTC offset.

    Parameters
    ----------
    values
        Datetimes as text, as ``datetime64`` (time-zone aware or not) or as Python datetimes, shape (n,).
    fmt
        The ``strptime`` format of text that is not ISO 8601, as :func:`text_format` found it at fit (so that
        ``03/04/2023`` is read the same way in every file); ``None`` guesses it from these values.

    Returns
    -------
    (wall, offset)
        Naive ``datetime64`` local times (``NaT`` where a value is missing or not a datetime) and offsets in
        minutes east of UTC (``NaN`` where a value has none), both aligned with ``values``.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        wall = values.dt.tz_localize(None)
        utc = values.dt.tz_convert("UTC").dt.tz_localize(None)
        return wall, ((wall - utc) / pd.Timedelta(minutes=1)).astype(float)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype(UNIT), pd.Series(np.nan, index=values.index)
    body, offset = _bodies(values)
    return _naive(body, fmt).rename(values.name), _minutes(offset)


def instants(values: pd.Series) -> np.ndarray:
    """Each value as a point in time, for ordering rows: numbers as they are, datetimes as seconds since
    1970-01-01 UTC (a value with an offset at its instant, one without as written), shape (n,) of float; NaN
    where a value is missing or not a time."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    wall, offset = split(values)
    seconds = (wall - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
    return (seconds - offset.fillna(0.0) * 60).to_numpy(dtype=float)


def text_format(values: pd.Series) -> str | None:
    """The format of a column's datetimes that are not ISO 8601 (``"%m/%d/%Y %H:%M"``), guessed by pandas from
    up to 20 distinct values, month or day first, whichever reads more of them (month first on a tie, as
    pandas reads ``03/04/2023``); ``None`` for ISO 8601 text, datetime values, or no guess."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return None
    text = _with_dates(_bodies(values)[0])
    left = text[text.notna() & _to_datetime(text, "ISO8601").isna()]
    return _best_format(left)[1] if len(left) else None


def both_orders(values: pd.Series, fmt: str | None) -> np.ndarray:
    """Mask of the values read day first or month first against the rest of the column, shape (n,); all False
    when the column reads in one order.

    Values in neither ISO 8601 nor ``fmt`` (the column's format, see :func:`text_format`) are read one by one,
    so in a column of several formats ``01.02.2021`` is read month first and ``23.01.2021`` day first. The mask
    holds those of them written with numbers for day and month when their readings, with ``fmt``'s order, hold
    both orders (``03/01/2021`` beside ``01/05/2021 10:00``, or ``March 1, 2021``, are one order).
    """
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.dtype, pd.DatetimeTZDtype):
        return np.zeros(len(values), dtype=bool)
    uniques = pd.Series(pd.unique(values.dropna().astype(str)), dtype=object)
    text = _with_dates(_bodies(uniques)[0])
    known = _to_datetime(text, "ISO8601").notna()
    if fmt:
        known |= _to_datetime(text, fmt).notna()
    parts = text[~known].str.extract(NUMERIC_DATE).astype(float)
    first, second = parts["first"], parts["second"]
    orders = {"day" if fmt.index("%d") < fmt.index("%m") else "month"} if fmt and "%d" in fmt and "%m" in fmt else set()
    orders |= {"day"} if (first > 12).any() else set()
    orders |= {"month"} if ((first <= 12) & (second <= 12)).any() or (second > 12).any() else set()
    if len(orders) < 2:
        return np.zeros(len(values), dtype=bool)
    odd = set(text[~known][parts["first"].notna()].index)
    return values.astype(str).isin({uniques[i] for i in odd}).to_numpy() & values.notna().to_numpy()


def _bodies(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text values without their UTC offsets, and the offsets as written (missing where none)."""
    text = values.astype(object).where(values.notna())
    text = text.map(str, na_action="ignore").astype(object)
    parts = text.str.extract(OFFSET)
    dated = parts["body"].notna() & parts["body"].str.contains(HAS_DATE, na=False)
    return parts["body"].where(dated, text), parts["offset"].where(dated)


def _best_format(text: pd.Series) -> tuple[pd.Series | None, str | None]:
    """``text`` parsed with the best of the formats pandas guesses from its first distinct values, and that
    format; ``(None, None)`` without a guess."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Parsing dates in %d.%m.%Y format when dayfirst=False ..."
        guesses = [guess_datetime_format(str(v), dayfirst=d) for v in pd.unique(text)[:GUESS_VALUES]
                   for d in (False, True)]
    candidates = list(dict.fromkeys(g for g in guesses if g is not None))[:6]  # month first comes first
    tried = [(_to_datetime(text, fmt), fmt) for fmt in candidates]
    if not tried:
        return None, None
    return max(tried, key=lambda pair: int(pair[0].notna().sum()))  # the first of equals: month first


def _minutes(offsets: pd.Series) -> pd.Series:
    """``"+01:00"`` → 60.0, ``"Z"`` / ``"UTC"`` → 0.0, missing → NaN."""
    parts = offsets.str.extract(OFFSET_PARTS)
    sign = np.where(parts["sign"] == "-", -1.0, 1.0)
    minutes = sign * (parts["hours"].astype(float) * 60 + parts["minutes"].astype(float).fillna(0))
    return pd.Series(np.where(offsets.notna() & parts["sign"].isna(), 0.0, minutes), index=offsets.index)


def _with_dates(text: pd.Series) -> pd.Series:
    """A time without a date (``08:30``) put on 2000-01-01, so its features never depend on the day of the
    run."""
    times = text.str.match(TIME_ONLY, na=False)
    return text.where(~times, TIME_ONLY_DATE + text.astype(str)) if times.any() else text


def _naive(text: pd.Series, fmt: str | None = None) -> pd.Series:
    """Naive datetimes from text without offsets: ISO 8601 first, then ``fmt`` (or the best format pandas
    guesses, see :func:`text_format`; all vectorised: under 1 s per 100 000 values), then any format pandas
    reads for the rest (value by value: about 12 s per 100 000)."""
    text = _with_dates(text)
    out = _to_datetime(text, "ISO8601")
    retry = text.notna() & out.isna()
    if retry.any():
        parsed = _to_datetime(text[retry], fmt) if fmt else _best_format(text[retry])[0]
        if parsed is not None:
            out[retry] = parsed
            retry = text.notna() & out.isna()
    retry &= text.astype(str).str.contains(HAS_DATE)  # without a date dateutil reads "08:00-17:00" as today
    if retry.any():
        out[retry] = _to_datetime(text[retry], "mixed")
    return out


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    try:
        out = pd.to_datetime(text, errors="coerce", format=fmt)
    except (ValueError, TypeError, OverflowError):  # offsets the pattern missed, in several zones
        try:
            out = pd.to_datetime(text, errors="coerce", format=fmt, utc=True)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=text.index, dtype=UNIT)
    if isinstance(out.dtype, pd.DatetimeTZDtype):
        out = out.dt.tz_localize(None)
    return out.astype(UNIT)


def infer_zone(values: pd.Series, parsed: tuple[pd.Series, pd.Series] | None = None) -> str | None:
    """The time zone of a column's offsets (see the module docstring), or ``None`` when no value has one.

    Returns ``"UTC"`` or ``"+HH:MM"`` for a single offset, an IANA name for several, and ``"UTC"`` when no
    zone of the database gives every value its offset. ``parsed``: :func:`split` of ``values``, if done.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype) and str(values.dt.tz) in _zones():
        return str(values.dt.tz)
    wall, offset = parsed if parsed is not None else split(values)
    has = wall.notna() & offset.notna() & wall.between(*SAFE_RANGE)
    if not has.any():
        return None
    distinct = np.unique(offset[has].to_numpy())
    if len(distinct) == 1:
        return fixed_zone(float(distinct[0]))
    instants = wall[has] - pd.to_timedelta(offset[has], unit="min")
    pairs = pd.DataFrame({"utc": instants.to_numpy(), "offset": offset[has].to_numpy()}).drop_duplicates()
    pairs = pairs.sort_values("utc", kind="stable")
    sample = pairs.iloc[np.unique(np.linspace(0, len(pairs) - 1, min(len(pairs), ZONE_SAMPLE)).astype(int))]
    for zone in (*PREFERRED_ZONES, *_zones()):
        if zone in _zones() and _matches(zone, sample) and _matches(zone, pairs):
            return zone
    return "UTC"


def _matches(zone: str, pairs: pd.DataFrame) -> bool:
    utc = pd.DatetimeIndex(pairs["utc"]).tz_localize("UTC")
    local = utc.tz_convert(zone).tz_localize(None)
    minutes = (local - utc.tz_localize(None)) / pd.Timedelta(minutes=1)
    return bool(np.array_equal(np.asarray(minutes, dtype=float), pairs["offset"].to_numpy(dtype=float)))


@cache
def _zones() -> tuple[str, ...]:
    """Region zones of the IANA database, by name: the canonical ones that ``tzdata`` lists (its ``Z`` lines;
    links such as ``Australia/LHI`` left out) where it can be read, and never ``Etc/GMT+1`` and the like."""
    names = set(zoneinfo.available_timezones())
    try:
        import importlib.resources

        listed = importlib.resources.files("tzdata").joinpath("zoneinfo/tzdata.zi").read_text(encoding="utf-8")
        canonical = {line.split()[1] for line in listed.splitlines() if line.startswith("Z ")}
        names = (names & canonical) or names
    except (ImportError, OSError, IndexError):
        pass
    return tuple(sorted(z for z in names
                        if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix", "right/", "US/"))))


def fixed_zone(minutes: float) -> str:
    """``0`` → ``"UTC"``, ``330`` → ``"+05:30"``, ``-300`` → ``"-05:00"``."""
    if minutes == 0:
        return "UTC"
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(int(abs(minutes)), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def _tz(zone: str) -> str | timezone:
    match = OFFSET_PARTS.match(zone)
    if match is None:
        return zone
    minutes = _minutes(pd.Series([zone], dtype=object)).iloc[0]
    return timezone(timedelta(minutes=float(minutes)))


def local_times(values: pd.Series, zone: str | None, where: str | None = None,
                parsed: tuple[pd.Series, pd.Series] | None = None, fmt: str | None = None) -> pd.Series:
    """The values as naive local times in ``zone`` (see :func:`infer_zone`), aligned with ``values``.

    A value with an offset is converted to ``zone`` (the same instant gives the same local time however it
    is written); a value without one is local time as written. ``zone=None`` (no offsets at fit) uses every
    value as written, and warns, naming ``where``, when some carry offsets. ``parsed``: :func:`split` of
    ``values``, if done; ``fmt``: as in :func:`split`.
    """
    wall, offset = parsed if parsed is not None else split(values, fmt)
    has = wall.notna() & offset.notna() & wall.between(*SAFE_RANGE)
    if zone is None or not has.any():
        if zone is None and has.any() and where is not None:
            log.warning("Column %r in %s has times with UTC offsets, but the training column had none; its "
                        "times are used as written (offsets ignored).", values.name, where)
        return wall
    utc = (wall[has] - pd.to_timedelta(offset[has], unit="min")).dt.tz_localize("UTC")
    out = wall.copy()
    out[has] = utc.dt.tz_convert(_tz(zone)).dt.tz_localize(None).astype(UNIT)
    return out


def describe_zone(offset: pd.Series, zone: str) -> str:
    """One phrase for the log and the report: the offsets found (minutes, as :func:`split` gives them) and the
    zone of the calendar parts."""
    distinct = np.unique(offset.dropna().to_numpy())
    found = ", ".join("+00:00" if m == 0 else fixed_zone(m) for m in distinct[:6])
    found += f" and {len(distinct) - 6} more" if len(distinct) > 6 else ""
    if len(distinct) == 1:
        return f"times with UTC offset {found}: calendar parts in that local time"
    if zone == "UTC":
        return (f"times with UTC offsets {found}, which no single time zone's rules give: converted to UTC, "
                "calendar parts in UTC")
    return (f"times with UTC offsets {found}: calendar parts in local time by the rules of {zone}, which give "
            "every value its offset (the same instant written in UTC gets the same parts)")
