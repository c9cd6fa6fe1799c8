"""Numbers written as text: thousands separators, currency symbols, percent signs, accounting negatives.

Spreadsheets and reporting tools export numbers as they display them: ``"1,234,500"``, ``"1.234.500,75"``
(decimal comma), ``"1 234 500"``, ``"$1,200.50"``, ``"€ 30"``, ``"12.5%"``, ``"(200)"`` for -200. A CSV reader
sees text. :func:`detect` finds the one :class:`NumberFormat` under which every value of a column parses, and
:func:`parse` reads values with it, at fit and at predict time alike.

What is read as a number (each value, after stripping surrounding spaces):

- an optional sign (``-``, ``+``, ``−``) or accounting parentheses around the whole value (a negative);
- an optional currency symbol (any Unicode "currency symbol" character: ``$ € £ ¥ ₹ ₩`` …) before or after
  the number, with or without a space; one symbol per column (``$`` beside ``€`` is not one unit);
- digits grouped in threes by the column's thousands separator (``,`` ``.`` space, no-break space or ``'``)
  or not grouped at all, then an optional decimal part after the column's decimal mark; ungrouped numbers may
  have an exponent (``1.5e3``);
- an optional trailing ``%``, on all of the column's values or none (the value is kept as written: ``12.5%``
  is 12.5);
- an optional unit after the number (``12.5 kg``, ``30 km/h``, ``21 °C``, ``3 bedrooms``): one per column, the
  one its values were written in at fit (:attr:`NumberFormat.unit`); values without a unit are read too. A
  value in another unit (``300 g`` in a column of ``kg``) does not parse: converting units is not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

SEPARATORS = (",", ".", " ", "'")
# a unit after a number: a word of up to 12 letters, optionally per another (km/h) and squared or cubed (m²),
# with an optional abbreviation point; or degrees (°, °C, °F, °K)
UNIT = r"(?:°[CFK]?|[℃℉]|[^\W\d_]{1,12}(?:/[^\W\d_]{1,12})?[²³]?\.?)"
# after a number, these are not units: magnitudes (5k is 5 000, not 5 of a unit "k") and ordinals (1st, 2nd)
NOT_UNITS = frozenset({"k", "K", "M", "B", "T", "bn", "Bn", "mn", "mln", "mio", "Mio", "st", "nd", "rd", "th"})


def is_unit(word: str) -> bool:
    """Whether ``word``, written after a number, is a unit (not a magnitude such as ``k`` or an ordinal)."""
    return word.rstrip(".") not in NOT_UNITS


def same_unit(word: str, unit: str) -> bool:
    """Whether ``word`` is ``unit`` as written, or its singular or plural (``year`` and ``years``; a unit of at
    least three letters: ``m`` and ``ms`` differ)."""
    if word == unit:
        return True
    short, long_ = sorted((word, unit), key=len)
    return len(short) >= 3 and long_ == short + "s"
SPACES = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-"}


@dataclass(frozen=True)
class NumberFormat:
    """How a column writes its numbers: the thousands separator (``""`` for none) and the decimal mark."""

    thousands: str = ","
    decimal: str = "."
    unit: str = ""  # the unit written after the numbers ("kg"); "" for none

    @property
    def plain(self) -> bool:
        """Whether a plain reading (``float("1234.5")``) of a number written in this format means the same
        number: not with a thousands point (``2.500``) or a decimal comma (``2,5``)."""
        return self.thousands != "." and self.decimal == "."


# Every Unicode "currency symbol" (category Sc, Unicode 14.0.0): $ ¢ £ ¤ ¥ ₹ ₩ € ₽ ₿ …
CURRENCY_SYMBOLS = (
    "$\u00a2\u00a3\u00a4\u00a5\u058f\u060b\u07fe\u07ff\u09f2\u09f3\u09fb\u0af1\u0bf9\u0e3f\u17db"
    "\u20a0\u20a1\u20a2\u20a3\u20a4\u20a5\u20a6\u20a7\u20a8\u20a9\u20aa\u20ab\u20ac\u20ad\u20ae\u20af"
    "\u20b0\u20b1\u20b2\u20b3\u20b4\u20b5\u20b6\u20b7\u20b8\u20b9\u20ba\u20bb\u20bc\u20bd\u20be\u20bf"
    "\u20c0\ua838\ufdfc\ufe69\uff04\uffe0\uffe1\uffe5\uffe6\U00011fdd\U00011fde\U00011fdf\U00011fe0"
    "\U0001e2ff\U0001ecb0"
)


CURRENCY = "[" + re.escape(CURRENCY_SYMBOLS) + "]"  # a regular-expression class of them


@cache
def _pattern(fmt: NumberFormat) -> re.Pattern[str]:
    t, d, cur = re.escape(fmt.thousands), re.escape(fmt.decimal), CURRENCY
    core = (rf"(?:\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d+)?"  # grouped
            rf"|\d+(?:{d}\d*)?(?:[eE][+-]?\d+)?|{d}\d+(?:[eE][+-]?\d+)?)")  # plain
    sign = r"(?P<sign>[-+])?"
    return re.compile(rf"^(?P<open>\()?\s*{sign}\s*(?P<cur1>{cur})?\s*(?P<sign2>[-+])?\s*(?P<num>{core})"
                      rf"(?:\s*(?P<unit>{UNIT}))?\s*(?P<cur2>{cur})?\s*(?P<pct>%)?\s*(?P<close>\))?$")


@dataclass(frozen=True)
class Parsed:
    """The result of reading a column with one format: the values (NaN where a value did not parse) and what
    was stripped (for the log)."""

    values: pd.Series
    ok: np.ndarray
    stripped: tuple[str, ...]
    unit: str = ""  # the unit the values were read in ("" for none)


def parse(text: pd.Series, fmt: NumberFormat, any_unit: bool = False) -> Parsed:
    """Read the non-missing values of ``text`` as numbers written in format ``fmt``.

    Returns the float values (NaN where the input is missing or does not parse), a mask of the present values
    that parsed, and the kinds of decoration that were stripped. Mixed currency symbols, or a percent sign on
    some values only, make the values with the minority decoration fail. A value with a unit parses only in
    ``fmt.unit``; with ``any_unit`` (finding a column's format), in the unit most of its values have.
    """
    present = text.notna().to_numpy()
    strings = text[present].astype(str).str.strip()
    for odd, plain in SPACES.items():
        strings = strings.str.replace(odd, plain, regex=False)
    parts = strings.str.extract(_pattern(fmt))
    parens = parts["open"].notna() & parts["close"].notna()
    ok = parts["num"].notna() & (parts["open"].notna() == parts["close"].notna())
    signed = parts["sign"].notna() | parts["sign2"].notna()
    ok &= ~(parts["sign"].notna() & parts["sign2"].notna()) & ~(parens & signed)
    currency = parts["cur1"].fillna(parts["cur2"])
    both = parts["cur1"].notna() & parts["cur2"].notna()
    ok &= ~both
    symbols = currency[ok].dropna().value_counts()
    if len(symbols) > 1:  # one unit per column: values in another currency do not parse
        ok &= currency.isna() | (currency == symbols.index[0])
    units = parts["unit"]
    unit = fmt.unit
    if any_unit:  # a unit on at least half the values; on fewer, it is stray text
        counts = units[ok].dropna().value_counts()
        counts = counts[[is_unit(str(u)) for u in counts.index]]
        if len(counts):
            unit = str(counts.index[0])
            if counts[[same_unit(str(u), unit) for u in counts.index]].sum() < 0.5 * ok.sum():
                unit = ""
    ok &= units.isna() | units.map(lambda u: isinstance(u, str) and bool(unit) and same_unit(u, unit))
    pct = parts["pct"].notna()
    if pct[ok].any() and not pct[ok].all():  # "12%" beside "0.3": which is meant is unknown
        ok &= pct == (pct[ok].mean() >= 0.5)
    number = parts["num"].fillna("")
    if fmt.thousands:
        number = number.str.replace(fmt.thousands, "", regex=False)
    if fmt.decimal != ".":
        number = number.str.replace(fmt.decimal, ".", regex=False)
    values = pd.to_numeric(number.where(ok), errors="coerce")
    negative = parens | (parts["sign"].fillna(parts["sign2"]) == "-")
    values = values.where(~negative, -values)
    ok &= values.notna()
    out = pd.Series(np.nan, index=text.index, dtype=float)
    out[present] = values.to_numpy(dtype=float)
    mask = np.zeros(len(text), dtype=bool)
    mask[present] = ok.to_numpy()
    kept = strings[ok]
    stripped = []
    if fmt.thousands and kept.str.contains(re.escape(fmt.thousands) + r"\d{3}", regex=True).any():
        stripped.append(f"thousands separator {fmt.thousands!r}")
    if fmt.decimal != "." and kept.str.contains(re.escape(fmt.decimal), regex=False).any():
        stripped.append(f"decimal comma {fmt.decimal!r}")
    if len(symbols) and ok[currency.notna()].any():
        stripped.append(f"currency symbol {symbols.index[0]!r}")
    if (pct & ok).any():
        stripped.append("percent sign (the value is kept as written: 12.5% is 12.5)")
    if (parens & ok).any():
        stripped.append("parentheses around negative numbers")
    if unit and (units.notna() & ok).any():
        stripped.append(f"unit {unit!r}")
    return Parsed(out, mask, tuple(stripped), unit)


def candidates(decimal: str = ".") -> list[NumberFormat]:
    """Formats to try, those with the file's decimal mark first; the first under which a column parses wins."""
    marks = [decimal, *[m for m in (".", ",") if m != decimal]]
    return [NumberFormat(t, d) for d in marks for t in SEPARATORS if t != d]


def detect(text: pd.Series, decimal: str = ".") -> tuple[NumberFormat, Parsed] | None:
    """The format under which every non-missing value of ``text`` parses, with the parsed values; ``None`` if
    no format reads them all. ``decimal`` is the file's decimal mark (a semicolon-separated file with decimal
    commas prefers ``1.234,5``)."""
    if not text.notna().any():
        return None
    for fmt in candidates(decimal):
        parsed = parse(text, fmt, any_unit=True)
        if parsed.ok[text.notna().to_numpy()].all():
            return NumberFormat(fmt.thousands, fmt.decimal, parsed.unit), parsed
    return None


def best_share(text: pd.Series, decimal: str = ".") -> tuple[float, Parsed]:
    """The largest share of non-missing values that one format reads, and that format's result."""
    present = text.notna().to_numpy()
    results = [parse(text, fmt) for fmt in candidates(decimal)]  # without units: a unit's values do not count
    best = max(results, key=lambda r: int(r.ok.sum()))
    return float(best.ok.sum() / max(present.sum(), 1)), best
