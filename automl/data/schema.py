"""Column kinds, the task, and the columns dropped with their reasons.

:func:`infer_schema` looks at the training table once and returns a :class:`Schema`. The schema's
:meth:`Schema.transform` turns any table with the same columns (training or new data) into the frame the
preprocessing stage expects: internal column names safe for LightGBM/XGBoost, numbers as float,
categories as text, datetimes expanded, booleans as 0/1. Users only ever see the original names.
"""

from __future__ import annotations

import difflib
import logging
import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automl.config import DEFAULT_METRIC, FitConfig, check_metric
from automl.data import datetimes
from automl.data.io import TableSource, file_rows, read_text_column
from automl.data.numbers import UNIT, NumberFormat, best_share, detect, is_unit, parse, same_unit
from automl.errors import ConfigError, DataError, choices, format_rows, format_values, show_value

log = logging.getLogger(__name__)

FEATURE_KINDS = ("numeric", "categorical", "boolean", "datetime", "text")
MAX_CLASSES_FOR_INTEGER_TARGET = 10
MIXED_TYPE_SHARE = 0.9
EXTREME_TARGET_IQRS = 1000.0  # a regression target value this many interquartile ranges from the median is extreme
EXTREME_TARGET_SHARE = 0.01  # ... when at most this share of the rows is (more is a heavy tail, not a slip)
DATETIME_SHARE = 0.9
TEXT_MIN_WORDS = 5.0
HIGH_CARDINALITY_SHARE = 0.5
HIGH_CARDINALITY_MIN_LEVELS = 100
BOOLEAN_PAIRS = ({"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"})
# what a boolean column's values mean wherever they come from, whatever the spelling the training table used
# (compared without case or surrounding whitespace): a model fitted on yes/no still reads TRUE, 1 or "Yes"
TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0"})
DATE_PATTERN = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{4}-\d{2}|\d{1,2}:\d{2}")
# an ID's name, or the row index pandas writes with to_csv() ("Unnamed: 0"), which keeps its gaps after filtering
ID_NAME = re.compile(r"(^|[^a-z])(id|uuid|key|index|row)$|^(id|uuid|index)([^a-z]|$)|^unnamed: ?\d+$", re.I)


@dataclass
class ColumnInfo:
    """What automl decided about one input column."""

    name: str
    kind: str
    internal: str = ""
    reason: str = ""
    dtype: str = ""
    n_missing: int = 0
    n_unique: int = 0
    true_values: tuple[str, ...] = ()
    datetime_parts: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    # (thousands separator, decimal mark, unit) of numbers written as text (two items in runs before units)
    number_format: tuple[str, ...] | None = None
    time_zone: str | None = None  # of a datetime column written with UTC offsets (see automl.data.datetimes)
    datetime_format: str | None = None  # of datetimes written in another format than ISO 8601 ("%d/%m/%Y")

    @property
    def dropped(self) -> bool:
        return self.kind == "dropped"

    def outputs(self) -> list[str]:
        """Internal names of the prepared columns this input column becomes."""
        if self.kind == "datetime":
            return [f"{self.internal}__{p}" for p in self.datetime_parts]
        return [] if self.dropped else [self.internal]


@dataclass
class Schema:
    """The typed description of a training table (see module docstring)."""

    target: str
    task: str
    task_reason: str
    metric: str
    columns: list[ColumnInfo]
    classes: list[str] | None = None
    positive_class: str | None = None
    class_counts: dict[str, int] = field(default_factory=dict)
    n_rows: int = 0
    n_missing_target: int = 0
    # Text values lose surrounding whitespace at fit and predict alike (False in schemas saved before it existed)
    strip_whitespace: bool = False
    # A class target fitted from numbers or booleans ("int", "float", "bool"; None: text): its labels are kept as
    # text, and :meth:`typed_labels` gives them back as that type
    label_type: str | None = None

    @property
    def features(self) -> list[ColumnInfo]:
        return [c for c in self.columns if not c.dropped]

    @property
    def dropped(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.dropped]

    def prepared_columns(self, kind: str) -> list[str]:
        """Internal names of prepared columns of one kind (datetime parts and booleans count as numeric)."""
        if kind in ("categorical", "text"):
            return [c.internal for c in self.features if c.kind == kind]
        return [n for c in self.features if c.kind not in ("categorical", "text") for n in c.outputs()]

    def original_name(self, internal: str) -> str:
        """Map an internal (prepared) column name back to what the user calls it."""
        return self.original_names().get(internal, internal)

    def original_names(self) -> dict[str, str]:
        """Every prepared column's internal name → what the user calls it (a datetime part: ``"when (month)"``)."""
        return {out: c.name if out == c.internal else f"{c.name} ({out.rsplit('__', 1)[1]})"
                for c in self.features for out in c.outputs()}

    def transform(self, frame: pd.DataFrame, where: str = "the data", strict: bool = True) -> pd.DataFrame:
        """Prepare ``frame`` for the preprocessing stage.

        Raises :class:`DataError` if a feature column is missing or holds values of the wrong type.
        ``strict=False`` (used on the training table) skips the checks already done by inference.
        """
        missing = [c.name for c in self.features if c.name not in frame.columns]
        if missing:
            raise DataError(
                f"{where} lacks {len(missing)} column(s) the model was trained with: "
                f"{format_values(missing)}. Add them (empty cells are allowed)."
            )
        if strict:
            known = {c.name for c in self.columns} | {self.target}
            extra = [c for c in frame.columns if c not in known]
            if extra:
                log.warning("%s has %d column(s) the model does not use; ignoring %s.", where, len(extra),
                            format_values(extra))
        features = self.features
        # numeric columns that already hold numbers are converted together (a table may have thousands)
        dtypes = frame.dtypes
        block = [c for c in features if c.kind == "numeric" and _is_numeric_dtype(dtypes[c.name])]
        numbers = _numbers_block(block, frame, where, strict)
        in_block = {c.name for c in block}
        parts: dict[str, Any] = {}
        for col in features:
            if col.name not in in_block:
                parts.update(_prepare_column(col, frame[col.name], where, strict, self.strip_whitespace))
        order = [n for c in features for n in c.outputs()]
        if not parts:
            return numbers[order] if list(numbers.columns) != order else numbers
        return pd.concat([numbers, pd.DataFrame(parts, index=frame.index)], axis=1)[order]

    def typed_labels(self, labels: pd.Series) -> pd.Series:
        """Predicted class labels (text) as the type of the target they were fitted from: integers, floats or
        booleans for a target of numbers or booleans (a DataFrame's ``int`` or ``bool`` column); text otherwise."""
        if self.label_type == "bool":
            return labels.map(lambda v: str(v).strip().lower() in TRUE_WORDS).astype(bool)
        if self.label_type in ("int", "float"):
            numbers = pd.to_numeric(labels, errors="coerce")
            if numbers.notna().all():
                return numbers.astype("int64" if self.label_type == "int" else float)
        return labels

    def holdout_target(self, frame: pd.DataFrame, where: str) -> tuple[np.ndarray, np.ndarray]:
        """The true target of labelled rows to evaluate on, read as the fit read it: (class codes in the order of
        ``classes``, or numbers for regression, for the rows with a target; the mask of those rows).

        Raises :class:`DataError` when ``frame`` has no target column, when no row has a target, or when a value
        is not one the model knows (a class it never saw, text in a regression target), naming it and its rows.
        """
        if self.target not in frame.columns:
            raise DataError(f"{where} has no column {self.target!r} (the target): scoring the model on these rows "
                            "needs their true values. To predict rows without them, use predict.")
        y = frame[self.target]
        strip = self.strip_whitespace or self.task == "regression"  # as the fit read them (--keep-whitespace)
        text = y.astype(object).where(y.notna()).map(
            lambda v: ((v.strip() if strip else v) or None) if isinstance(v, str) else v)
        kept = text.notna().to_numpy()
        if not kept.any():
            raise DataError(f"Target column {self.target!r} in {where} has no values: scoring the model on these "
                            "rows needs their true values.")
        if self.task == "regression":
            values = pd.to_numeric(text, errors="coerce")
            found = _detect_numbers(text[kept & values.isna().to_numpy()], TableSource(where))
            if found is not None:
                values[kept & values.isna().to_numpy()] = found[1].values.to_numpy()
            bad = kept & values.isna().to_numpy()
            if bad.any():
                raise DataError(f"Regression target {self.target!r} in {where} holds non-numeric values "
                                f"({format_values(pd.unique(text[bad]), 3)}) at {format_rows(np.flatnonzero(bad))}.")
            return values.to_numpy(dtype=float)[kept], kept
        classes = list(self.classes or [])
        words = text[kept].astype(str)
        codes = words.map({c: i for i, c in enumerate(classes)})
        if self.label_type in ("int", "float", "bool") and codes.isna().any():  # 1 and "1.0", True and "yes"
            def key(v: Any) -> Any:
                if self.label_type == "bool":
                    low = str(v).strip().lower()
                    return True if low in TRUE_WORDS else False if low in FALSE_WORDS else None
                number = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
                return None if pd.isna(number) else float(number)
            known = {key(c): i for i, c in enumerate(classes) if key(c) is not None}
            codes = codes.fillna(words.map(lambda v: known.get(key(v))))
        unknown = codes.isna().to_numpy()
        if unknown.any():
            rows = np.flatnonzero(kept)[unknown]
            raise DataError(f"Target {self.target!r} in {where} holds label(s) the model was not trained on "
                            f"({format_values(pd.unique(words[unknown]), 3)}) at {format_rows(rows)}; it knows "
                            f"{format_values(classes, 10)}.")
        return codes.to_numpy(dtype=int), kept

    def encode_target(self, y: pd.Series) -> np.ndarray:
        """Class labels → integer codes in the order of ``classes``; regression targets → float."""
        if self.classes is None:
            return y.to_numpy(dtype=float)
        lookup = {label: i for i, label in enumerate(self.classes)}
        return y.map(lookup).to_numpy(dtype=int)


def infer_schema(frame: pd.DataFrame, config: FitConfig, info: TableSource) -> tuple[Schema, pd.Series]:
    """Type every column, infer the task and clean the target.

    Returns the schema and the target as a Series aligned with the rows kept (rows with a missing target
    are dropped and counted). The caller selects those rows from ``frame``.
    """
    target = _find_target(frame, config.target, info)
    strip = not config.keep_whitespace
    y = _strip_text(frame[target], f"target {target!r}", info) if strip else frame[target]
    if config.parse_numbers and config.task in (None, "regression"):
        y = _target_numbers(y, target, info)
    missing_y = y.isna().to_numpy()
    if missing_y.all():
        raise DataError(f"Target column {target!r} in {info.name} has no values. Choose another --target.")
    if missing_y.any():
        log.warning("Dropped %d row(s) whose target %r is missing (%s).", missing_y.sum(), target,
                    format_rows(file_rows(y, missing_y)))
    y = y[~missing_y]
    task, reason = _infer_task(y, config.task, target, info)
    log.info("Task: %s (%s).", task, reason)
    if config.positive_class is not None and task != "binary":
        log.warning("--positive-class %r is ignored: a positive class applies to binary targets, %r is %s.",
                    config.positive_class, target, task)
    metric = config.metric or DEFAULT_METRIC[task]
    check_metric(metric, task)
    schema = Schema(target=target, task=task, task_reason=reason, metric=metric, columns=[],
                    n_rows=len(y), n_missing_target=int(missing_y.sum()), strip_whitespace=strip)
    if task == "regression":
        y = _numeric_target(y, target, info)
    else:
        schema.label_type = _label_type(frame[target])
        y = _label_target(y, info, target, ~missing_y, strip)
        _set_classes(schema, y, config)
    schema.columns = _type_columns(frame.loc[~missing_y].drop(columns=[target]), config, info)
    if not schema.features:
        reasons = describe_dropped(schema.dropped) or "the table has only the target"
        raise DataError(f"No usable feature columns in {info.name} ({reasons}). Add feature columns.")
    return schema, y


def describe_dropped(columns: list[ColumnInfo], limit: int = 5) -> str:
    """The dropped columns grouped by reason, a few names each: ``"'a', 'b' and 4998 more: constant (…)"``."""
    groups: dict[str, list[str]] = {}
    for c in columns:
        groups.setdefault(c.reason.split(" (")[0] if c.reason.startswith("constant") else c.reason, []).append(c.name)
    parts = [f"{format_values(names, limit)}: {reason}" for reason, names in list(groups.items())[:limit]]
    if len(groups) > limit:
        parts.append(f"{len(groups) - limit} more reasons")
    return "; ".join(parts)


def _find_target(frame: pd.DataFrame, target: str, info: TableSource) -> str:
    if target in frame.columns:
        return target
    lowered = {c.lower().strip(): c for c in frame.columns}
    near = difflib.get_close_matches(target, list(frame.columns), n=3, cutoff=0.6)
    if target.lower().strip() in lowered:
        near = [lowered[target.lower().strip()], *near]
    hint = f" Did you mean {' or '.join(repr(n) for n in dict.fromkeys(near))}?" if near else ""
    # a header that holds the target's name between other characters (no better match): another delimiter
    glued = [c for c in frame.columns if target in str(c) and str(c) != target
             and any(not ch.isalnum() and ch not in "_ ." for ch in str(c).replace(target, ""))]
    if glued and set(near) <= set(glued) and info.format in ("csv", "csv.gz"):
        between = sorted({ch for ch in str(glued[0]) if not ch.isalnum() and ch not in "_ ."})
        sep = f"--sep {between[0]!r}" if len(between) == 1 else "--sep"
        hint = (f" Column {glued[0]!r} holds its name: the file may use another delimiter than "
                f"{info.delimiter!r}; give it with {sep}.")
    cols = ", ".join(repr(c) for c in list(frame.columns)[:20])
    raise DataError(f"Target column {target!r} is not in {info.name}.{hint} Its columns are: {cols}.")


def _show(value: Any) -> str:
    """repr() of a cell value without numpy's type wrapper, cut short when long."""
    return show_value(value)


def _na_hint(value: Any) -> str:
    """The value to give ``--na-values`` in a hint: quoted, or ``VALUE`` when it is too long to repeat."""
    text = repr(value)
    return text if len(text) <= 40 else "VALUE"


def _is_numeric(s: pd.Series) -> bool:
    return _is_numeric_dtype(s.dtype)


def _is_numeric_dtype(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _infer_task(y: pd.Series, forced: str | None, target: str, info: TableSource) -> tuple[str, str]:
    n_unique = int(y.nunique())
    if n_unique < 2:
        raise DataError(
            f"Target {target!r} in {info.name} has a single value ({_show(y.iloc[0])}) in every row with a target; "
            "there is nothing to learn. Check the --target column or add rows of the other classes."
        )
    if forced == "regression":
        return forced, "set by --task"
    if forced is not None:
        if forced == "binary" and n_unique != 2:
            raise DataError(
                f"--task binary needs exactly 2 classes, but target {target!r} has {n_unique}. "
                "Use --task multiclass, or leave --task out to infer it."
            )
        if forced == "multiclass" and n_unique == 2:
            log.warning("--task multiclass with only 2 classes in %r: treating it as binary.", target)
            return "binary", "set by --task, 2 classes"
        return forced, "set by --task"
    if not _is_numeric(y):
        kind = "binary" if n_unique == 2 else "multiclass"
        return kind, f"target {target!r} holds {n_unique} distinct non-numeric values"
    if n_unique == 2:
        return "binary", f"target {target!r} has exactly 2 distinct values"
    values = y.to_numpy(dtype=float)
    integer = bool(np.all(np.mod(values[np.isfinite(values)], 1) == 0))
    if integer and n_unique <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return "multiclass", (f"target {target!r} holds {n_unique} distinct integers; "
                              "pass --task regression if they are quantities")
    what = "integers" if integer else "numbers"
    return "regression", f"target {target!r} holds {n_unique} distinct {what}"


def _numeric_target(y: pd.Series, target: str, info: TableSource) -> pd.Series:
    values = pd.to_numeric(y, errors="coerce") if not _is_numeric(y) else y.astype(float)
    bad = values.isna().to_numpy()
    if bad.any():
        examples = ", ".join(_show(v) for v in pd.unique(y[bad])[:3])
        raise DataError(
            f"Regression target {target!r} in {info.name} holds non-numeric values ({examples}) at "
            f"{format_rows(file_rows(y, bad))}. Fix those values, or use --task binary/multiclass."
        )
    infinite = unmodellable(values.to_numpy())
    if infinite.any():
        raise DataError(
            f"Regression target {target!r} in {info.name} is infinite or beyond ±3.4e38 at "
            f"{format_rows(file_rows(y, infinite))}. Replace those values or remove the rows."
        )
    _warn_extreme_target(values.to_numpy(dtype=float), y, target, info)
    return values.astype(float)


def _warn_extreme_target(values: np.ndarray, y: pd.Series, target: str, info: TableSource) -> None:
    """Warn about the few target values (at most ``EXTREME_TARGET_SHARE`` of the rows) more than
    ``EXTREME_TARGET_IQRS`` interquartile ranges from the median: a typo or a unit slip (1e30 among values near 1)
    that squared-error scores and fits are then all about."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    if not q3 > q1:
        return
    extreme = np.abs(values - median) > EXTREME_TARGET_IQRS * (q3 - q1)
    if not extreme.any() or extreme.sum() > max(1, EXTREME_TARGET_SHARE * len(values)):
        return
    log.warning("Regression target %r in %s has %d value(s) far outside the others (%s at %s; half the values lie "
                "between %s and %s): squared-error scores and fits (RMSE, the default) are then mostly about those "
                "rows. If they are errors, fix or remove them; if they are real, --metric mae weighs them less.",
                target, info.name, int(extreme.sum()), ", ".join(f"{v:.4g}" for v in values[extreme][:3]),
                format_rows(file_rows(y, extreme)), f"{q1:.4g}", f"{q3:.4g}")


def _label_target(y: pd.Series, info: TableSource, target: str, kept: np.ndarray, strip: bool) -> pd.Series:
    """Class labels as text, spelled as in the file when it is a CSV (without surrounding whitespace if
    ``strip``)."""
    text = read_text_column(info, target)
    if text is not None and len(text) == len(kept):
        labels = text[kept]
        labels.index = y.index
        if strip:
            labels = labels.str.strip()
        if labels.notna().all() and (labels != "").all():
            if labels.nunique() == y.nunique():
                return labels.astype(object)
            # one value spelt several ways ("1" and "1.0"): the task was inferred from the values, so the classes
            # are the values too (three labels for two classes crashed the fit)
            spellings = pd.DataFrame({"value": y.astype(object), "text": labels}).drop_duplicates()
            variants = spellings.groupby("value", sort=False)["text"].agg(list)
            shown = "; ".join(format_values(v, 4) for v in variants[variants.map(len) > 1].head(3))
            log.warning("Target %r in %s writes a class several ways (%s): read as one class, as the same number.",
                        target, info.name, shown)
    return pd.Series(_category_text(y, strip), index=y.index, dtype=object)


def _strip_text(s: pd.Series, what: str, info: TableSource) -> pd.Series:
    """Text values without surrounding whitespace (whitespace-only values become missing); a warning names the
    variants merged. Columns that do not hold text are returned as they are."""
    if _is_numeric(s) or pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s
    text = s.astype(object)
    is_str = text.map(lambda v: isinstance(v, str))
    if not is_str.any():
        return s
    stripped = text.where(~is_str, text[is_str].str.strip())
    stripped = stripped.where(stripped != "")
    changed = is_str & (stripped != text) & stripped.notna()
    if changed.any():
        raw = pd.unique(text[changed])
        merged = pd.DataFrame({"raw": text[is_str], "clean": stripped[is_str]}).dropna().drop_duplicates()
        variants = merged.groupby("clean", sort=True)["raw"].agg(list)
        variants = variants[variants.map(len) > 1]
        if len(variants):
            shown = "; ".join(f"{show_value(k)} from {format_values(v, 4)}" for k, v in variants.head(3).items())
            more = f" and {len(variants) - 3} more" if len(variants) > 3 else ""
            log.warning("The %s in %s has values that differ only by surrounding whitespace; merged them: %s%s. "
                        "Pass --keep-whitespace if the spaces matter.", what, info.name, shown, more)
        else:
            log.info("The %s in %s: removed surrounding whitespace from %d value(s) (e.g. %s).", what, info.name,
                     len(raw), format_values(raw, 3))
    return stripped


def _target_numbers(y: pd.Series, target: str, info: TableSource) -> pd.Series:
    """A target of numbers written as text (``"234,500"``, ``"$1,200.50"``) as numbers; other targets as they
    are."""
    if _is_numeric(y) or pd.api.types.is_bool_dtype(y) or not y.notna().any():
        return y
    found = _detect_numbers(y, info)
    if found is None:
        return y
    log.info("Target %r in %s holds numbers written as text; read them as numbers (stripped %s). Pass "
             "--task binary/multiclass or --no-parse-numbers to keep the labels.", target, info.name,
             ", ".join(found[1].stripped) or "nothing")
    return found[1].values


def _label_type(s: pd.Series) -> str | None:
    """"bool", "int" or "float" for a target column of that type (class labels are kept as text); else None."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    return "float" if pd.api.types.is_float_dtype(s) else None


def _set_classes(schema: Schema, y: pd.Series, config: FitConfig) -> None:
    counts = y.value_counts()
    classes = sorted(counts.index, key=label_sort_key)
    schema.classes = [str(c) for c in classes]
    schema.class_counts = {str(c): int(counts[c]) for c in classes}
    lonely = [c for c in classes if counts[c] < 2]
    if lonely:
        rows = file_rows(y, y.isin(lonely).to_numpy())
        raise DataError(
            f"{len(lonely)} class(es) ({format_values(lonely)}) of target {schema.target!r} occur only once "
            f"({format_rows(rows)}); cross-validation needs at least 2 rows per class. "
            "Add rows, merge the class into another, or remove those rows."
        )
    if schema.task == "binary":
        if config.positive_class is not None:
            if config.positive_class not in schema.classes:
                raise ConfigError(
                    f"--positive-class {config.positive_class!r} is not a class of {schema.target!r}; "
                    f"choose one of {choices(schema.classes)}."
                )
            schema.positive_class = config.positive_class
        else:
            schema.positive_class = min(reversed(schema.classes), key=lambda c: schema.class_counts[c])
        log.info("Positive class: %r (%s).", schema.positive_class,
                 "set by --positive-class" if config.positive_class else "the minority class")
        # the positive class goes last, so that column 1 of predict_proba is its probability
        schema.classes = [c for c in schema.classes if c != schema.positive_class] + [schema.positive_class]


def label_sort_key(label: Any) -> tuple[int, float, str]:
    """Sort numeric-looking labels by value, then the others as text."""
    try:
        return (0, float(label), str(label))
    except (TypeError, ValueError):
        return (1, 0.0, str(label))


def _category_text(s: pd.Series, strip: bool = False) -> np.ndarray:
    """Category values as text; integral floats lose their '.0' so 1 and 1.0 are the same level; with
    ``strip``, surrounding whitespace is removed and whitespace-only values are missing.

    A column of text, numbers or booleans is converted once per distinct value (10 000 rows of 15 levels:
    20 ms -> 1 ms); any other column value by value: an object column's values may be of several types
    (``True``, ``1`` and ``1.0`` are equal but read differently), and a missing date (``NaT``) has always been
    read as the text ``'NaT'``, which saved models learnt as a level.
    """
    dtype = s.dtype
    fast = isinstance(dtype, pd.StringDtype) or (pd.api.types.is_numeric_dtype(dtype)
                                                 and not pd.api.types.is_complex_dtype(dtype))
    if not fast:
        return _texts(s.to_numpy(dtype=object), strip)
    codes, levels = pd.factorize(s, use_na_sentinel=True)
    texts = _texts(np.asarray(levels, dtype=object), strip)
    out = np.empty(len(codes), dtype=object)
    out[codes < 0] = np.nan
    out[codes >= 0] = texts[codes[codes >= 0]]
    return out


def _texts(values: np.ndarray, strip: bool) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out[i] = np.nan
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v).strip() if strip else str(v)
            if strip and not out[i]:
                out[i] = np.nan
    return out


GROUP_REASON = "the group column (--group-column): it decides the folds and is not a feature"
WEIGHT_REASON = "the weight column (--weight-column): it weighs the rows and is not a feature"


def _type_columns(frame: pd.DataFrame, config: FitConfig, info: TableSource) -> list[ColumnInfo]:
    roles = {name: reason for name, reason in ((config.group_column, GROUP_REASON),
                                               (config.weight_column, WEIGHT_REASON)) if name}
    for option, names in (("--categorical", config.categorical), ("--keep-column", config.keep_columns),
                          ("--group-column", (config.group_column,) if config.group_column else ()),
                          ("--weight-column", (config.weight_column,) if config.weight_column else ()),
                          ("--time-column", (config.time_column,) if config.time_column else ())):
        if config.target in names and option in ("--categorical", "--keep-column"):
            raise ConfigError(f"{option} names the target {config.target!r}; it applies to feature columns (the "
                              "target's task is set with --task).")
        unknown = [c for c in names if c not in frame.columns]
        if unknown:
            raise ConfigError(f"{option} names unknown column(s) {format_values(unknown)}; "
                              f"valid columns: {choices(frame.columns)}.")
    dtypes = frame.dtypes
    numeric = [n for n in frame.columns
               if n not in config.categorical and n not in roles and _is_numeric_dtype(dtypes[n])]
    typed = dict(zip(numeric, _type_numbers(frame[numeric], info, _never_ids(config)), strict=True)) if numeric else {}
    columns = [ColumnInfo(name, "dropped", reason=roles[name], dtype=str(dtypes[name]),
                          n_missing=int(frame[name].isna().sum()), n_unique=int(frame[name].nunique()))
               if name in roles else
               typed[name] if name in typed else _type_column(name, frame[name], name in config.categorical, info,
                                                               config) for name in frame.columns]
    _assign_internal_names(columns)
    dropped = [c for c in columns if c.dropped and c.name not in roles]
    if len(dropped) <= 10:
        for c in dropped:
            keep = f" (--keep-column {shlex.quote(c.name)} keeps it)" if "distinct integer" in c.reason else ""
            log.warning("Dropped column %r: %s%s.", c.name, c.reason, keep)
    else:
        log.warning("Dropped %d columns: %s.", len(dropped), describe_dropped(dropped))
    kinds = {k: sum(c.kind == k for c in columns) for k in (*FEATURE_KINDS, "dropped")}
    log.info("Columns: %s.", ", ".join(f"{n} {k}" for k, n in kinds.items() if n) or "none besides the target")
    return columns


def _type_column(name: str, s: pd.Series, force_categorical: bool, info: TableSource,
                 config: FitConfig) -> ColumnInfo:
    if _is_numeric(s) and not force_categorical:
        return _type_numbers(s.to_frame(name), info, _never_ids(config))[0]
    if not config.keep_whitespace:
        s = _strip_text(s, f"column {name!r}", info)
    n = len(s)
    n_missing = int(s.isna().sum())
    col = ColumnInfo(name=name, kind="dropped", dtype=str(s.dtype), n_missing=n_missing,
                     n_unique=int(s.nunique()))
    if n_missing == n:
        col.reason = "all values are missing"
    elif col.n_unique == 1 and n_missing == 0:
        col.reason = f"constant (every row is {_show(s.dropna().iloc[0])})"
    elif force_categorical:
        col.kind, col.levels = "categorical", _levels(s)
    elif pd.api.types.is_bool_dtype(s):
        col.kind, col.true_values = "boolean", ("True",)
    else:
        _type_text(col, s, info, config.parse_numbers)
    return col


def _type_numbers(frame: pd.DataFrame, info: TableSource, keep: Collection[str] = ()) -> list[ColumnInfo]:
    """Type columns that hold numbers, all at once (wide tables have thousands): numeric, or dropped as
    all-missing, constant, without a value a model can hold, or ID-like (not the columns in ``keep``: the time
    column, ``--keep-column``)."""
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    n = len(frame)
    missing = np.isnan(values)
    bad = unmodellable(values)
    if bad.any():
        _warn_unmodellable(list(frame.columns), bad, info.name, frame)
    ordered = np.sort(values, axis=0)  # missing values last
    n_unique = ((ordered[1:] != ordered[:-1]) & ~np.isnan(ordered[1:])).sum(axis=0) + (~missing).any(axis=0)
    columns = []
    n_missing = missing.sum(axis=0)
    for j, (name, dtype) in enumerate(frame.dtypes.items()):
        col = ColumnInfo(name=name, kind="dropped", dtype=str(dtype), n_missing=int(n_missing[j]),
                         n_unique=int(n_unique[j]))
        finite = values[~missing[:, j] & ~bad[:, j], j]
        if col.n_missing == n:
            col.reason = "all values are missing"
        elif col.n_unique == 1 and col.n_missing == 0:
            col.reason = f"constant (every row is {_show(frame.iloc[0, j])})"
        elif finite.size == 0:
            col.reason = "no finite values"
        elif (could_be_id := name not in keep and col.n_unique == n and n >= 20
              and bool(np.all(np.mod(finite, 1) == 0))) and (why := _id_evidence(name, finite)):
            col.reason = f"ID-like (a distinct integer in every row, {why})"
        else:
            col.kind = "numeric"
            if could_be_id and _monotone(finite):
                log.warning("Column %r in %s holds a distinct integer in every row, only going %s in file order: "
                            "kept as a feature (its steps vary, as a quantity's the file is sorted by). If it numbers "
                            "the rows (a row index or key with gaps), leave it out of the file: it would let the "
                            "models learn the file's order.", name, info.name,
                            "up" if finite[-1] > finite[0] else "down")
        columns.append(col)
    return columns


ID_STEP_SHARE = 0.5  # of the steps between neighbouring rows: one step size this often, counting up, is an ID


def _never_ids(config: FitConfig) -> set[str]:
    """Columns never dropped as IDs: ``--keep-column`` ones and the time column."""
    return {*config.keep_columns, *((config.time_column,) if config.time_column else ())}


def _monotone(values: np.ndarray) -> bool:
    diffs = np.diff(values)
    return bool(np.all(diffs > 0) or np.all(diffs < 0))


def _id_evidence(name: str, values: np.ndarray) -> str | None:
    """Why distinct integers (in file order) look like an ID, or ``None``: an ID's name, consecutive integers
    in any order, or counting up (or down) in file order by one step size at least ``ID_STEP_SHARE`` of the
    time (an auto-increment with a few gaps). A quantity the file is sorted by also only goes up, but by
    varying steps: it is kept (a file sorted by square feet lost its best feature to the old rule, "always
    going up"), with a warning (:func:`_type_numbers`)."""
    if ID_NAME.search(name):
        return "named like an ID"
    if values.max() - values.min() + 1 == len(values):
        return "consecutive integers"
    if not _monotone(values):
        return None
    if np.unique(np.abs(np.diff(values)), return_counts=True)[1].max() >= ID_STEP_SHARE * (len(values) - 1):
        return f"counting {'up' if values[-1] > values[0] else 'down'} row by row"
    return None


def _type_text(col: ColumnInfo, s: pd.Series, info: TableSource, parse_numbers: bool = True) -> None:
    present = s.dropna().astype(str)
    lowered = set(present.str.strip().str.lower().unique())
    if len(lowered) == 2 and any(lowered == pair for pair in BOOLEAN_PAIRS):
        col.kind = "boolean"
        col.true_values = tuple(v for v in present.unique() if v.strip().lower() in ("true", "yes", "y", "t"))
        return
    numbers = pd.to_numeric(present, errors="coerce")
    share = float(numbers.notna().mean())
    if share == 1.0:
        col.kind = "numeric"
        return
    bad = s.notna() & pd.to_numeric(s.astype(object).where(s.notna()), errors="coerce").isna()
    if parse_numbers:
        found = _detect_numbers(s, info)
        if found is not None:
            col.kind, col.number_format = "numeric", (found[0].thousands, found[0].decimal, found[0].unit)
            log.info("Column %r in %s holds numbers written as text; read them as numbers (stripped %s). Pass "
                     "--categorical %s or --no-parse-numbers to keep them as text.", col.name, info.name,
                     ", ".join(found[1].stripped) or "nothing", col.name)
            return
        # mostly numbers written as text, with stray words? (tried on the first values first: dates and codes
        # look numeric too, and eight formats over a long column take seconds)
        if (share < MIXED_TYPE_SHARE and _numeric_looking(present)
                and best_share(present.head(1000), info.decimal)[0] >= MIXED_TYPE_SHARE):
            written_share, written = best_share(s, info.decimal)
            if written_share > share:
                share, bad = written_share, s.notna() & ~pd.Series(written.ok, index=s.index)
    if share >= MIXED_TYPE_SHARE:
        examples = format_values(pd.unique(s[bad]), 3)
        raise DataError(
            f"Column {col.name!r} in {info.name} holds numbers but also text ({examples}) at "
            f"{format_rows(file_rows(s, bad.to_numpy()))}. If those mark missing values, pass "
            f"--na-values {_na_hint(s[bad].iloc[0])}; if the column is categorical, pass --categorical {col.name!r}; "
            "otherwise fix the values."
        )
    if _looks_like_datetime(present):
        col.datetime_format = datetimes.text_format(s.dropna())
        parsed = datetimes.split(s.dropna(), col.datetime_format)
        _warn_mixed_dates(col, s, info)
        col.kind, col.time_zone = "datetime", datetimes.infer_zone(s.dropna(), parsed)
        col.datetime_parts = _datetime_parts(datetimes.local_times(present, col.time_zone, parsed=parsed))
        if col.time_zone is not None:
            col.reason = datetimes.describe_zone(parsed[1], col.time_zone)
            log.info("Column %r in %s holds %s.", col.name, info.name, col.reason)
        return
    units = _units(present) if parse_numbers else []
    non_null = len(present)
    words = float(present.str.split().str.len().mean())
    if words >= TEXT_MIN_WORDS and col.n_unique > HIGH_CARDINALITY_SHARE * non_null:
        col.kind = "text"
        col.reason = (f"free text (on average {words:.0f} words, {col.n_unique} distinct values): TF-IDF of word "
                      "and character n-grams")
        return
    in_units = f"; numbers in different units ({format_values(units, 5)}), not converted" if len(units) > 1 else ""
    if col.n_unique == non_null and non_null >= 20:
        col.reason = "ID-like (a distinct value in every row)" + in_units
        return
    if col.n_unique > HIGH_CARDINALITY_MIN_LEVELS and col.n_unique > HIGH_CARDINALITY_SHARE * non_null:
        col.reason = (f"very high cardinality ({col.n_unique} distinct values in {non_null} rows): "
                      "most levels occur once, so they carry no learnable pattern" + in_units)
        return
    col.kind, col.levels = "categorical", _levels(s)
    if len(units) > 1:  # a dropped column's warning names its units; a few levels are codes ("1Story", "2.5Fin")
        (log.warning if col.n_unique > UNIT_WARNING_LEVELS else log.info)(
            "Column %r in %s holds numbers in different units (%s): they are not read as numbers (a unit is not "
            "converted by guesswork) but as %d categories. Write them in one unit, or put the unit in a column of "
            "its own, to use them as numbers.", col.name, info.name, format_values(units, 5), col.n_unique)


UNIT_WARNING_LEVELS = 10  # a column in several units becoming a categorical of more levels is warned of


def _units(present: pd.Series) -> list[str]:
    """The units of a column whose values are mostly (``MIXED_TYPE_SHARE``) a number followed by a unit, most
    frequent first (looked at on its first 5 000 values); [] for any other column."""
    head = present.head(5000).str.strip()
    found = head.str.extract(rf"^[-+(]?[\d.,' ]*\d\s*(?P<unit>{UNIT})\)?$")["unit"]
    found = found.where(found.map(lambda u: isinstance(u, str) and is_unit(u)))
    if found.notna().mean() < MIXED_TYPE_SHARE:
        return []
    units: list[str] = []
    for u in found.value_counts().index:
        if not any(same_unit(str(u), seen) for seen in units):
            units.append(str(u))
    return units


def _numeric_looking(present: pd.Series) -> bool:
    """Whether most of the first values start like a number (a cheap test before trying number formats)."""
    head = present.head(1000)
    return bool(head.str.contains(r"^[\s(+\-\u2212]*\D{0,3}\s*[\d.,]", regex=True).mean() >= MIXED_TYPE_SHARE)


def _detect_numbers(s: pd.Series, info: TableSource) -> Any:
    """:func:`automl.data.numbers.detect` on a text column, tried on its first values first (cheap on text)."""
    present = s.dropna().astype(str)
    if present.empty or not _numeric_looking(present):
        return None
    if len(present) > 1000 and detect(present.head(1000), info.decimal) is None:
        return None
    return detect(s.astype(object).where(s.notna()), info.decimal)


def _levels(s: pd.Series) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in _category_text(s.dropna())}))


def _looks_like_datetime(present: pd.Series) -> bool:
    sample = present.head(500)
    if sample.str.match(DATE_PATTERN).mean() < DATETIME_SHARE:
        return False
    return bool(datetimes.split(sample)[0].notna().mean() >= DATETIME_SHARE)


def _warn_mixed_dates(col: ColumnInfo, s: pd.Series, info: TableSource) -> None:
    """Warn when a datetime column mixes formats so that it holds days and months in both orders (see
    :func:`automl.data.datetimes.both_orders`)."""
    odd = datetimes.both_orders(s, col.datetime_format)
    if odd.any():
        usual = "ISO 8601 (2021-01-27)" + (f" or {col.datetime_format}" if col.datetime_format else "")
        log.warning("Column %r in %s mixes date formats: %d value(s) are not %s (e.g. %s) at %s. They are read "
                    "one by one, a day and month that could be either (01.02.2021) month first, so the column "
                    "holds days and months in both orders. Write the column in one format.", col.name, info.name,
                    int(odd.sum()), usual, format_values(pd.unique(s[odd]), 3), format_rows(file_rows(s, odd)))


def _datetime_parts(parsed: pd.Series) -> tuple[str, ...]:
    parts = ["year", "month", "day", "day_of_week", "day_of_year"]
    if (parsed.dt.hour.fillna(0) != 0).any() or (parsed.dt.minute.fillna(0) != 0).any():
        parts += ["hour", "minute"]
    return tuple(parts)


def _assign_internal_names(columns: list[ColumnInfo]) -> None:
    """Names safe for LightGBM/XGBoost: ASCII letters, digits and '_', unique, not starting with a digit."""
    used: set[str] = set()
    for c in columns:
        base = re.sub(r"[^0-9A-Za-z_]+", "_", c.name).strip("_") or "col"
        if base[0].isdigit():
            base = f"c_{base}"
        name, i = base, 2
        while name.lower() in used:
            name, i = f"{base}_{i}", i + 1
        used.add(name.lower())
        c.internal = name


def _prepare_column(col: ColumnInfo, s: pd.Series, where: str, strict: bool,
                    strip: bool = False) -> dict[str, pd.Series]:
    if col.kind == "numeric":
        return {col.internal: _as_numbers(col, s, where, strict)}
    if col.kind == "boolean":
        return {col.internal: _as_boolean(col, s, where, strict, strip)}
    if col.kind == "text":
        return {col.internal: s.astype(object).where(s.notna(), "").astype(str)}
    if col.kind == "categorical":
        text = pd.Series(_category_text(s, strip), index=s.index, dtype=object)
        if strict and col.levels:
            unseen = text.notna() & ~text.isin(col.levels)
            if unseen.any():
                log.warning("Column %r in %s has %d row(s) with categories not seen in training (e.g. %s); "
                            "they are treated as unknown.", col.name, where, int(unseen.sum()),
                            format_values(pd.unique(text[unseen]), 3))
        return {col.internal: text}
    parsed = datetimes.local_times(s.rename(col.name), col.time_zone, where if strict else None,
                                   fmt=col.datetime_format)
    unread = s.notna().to_numpy() & parsed.isna().to_numpy()
    if strict and unread.any():
        log.warning("Column %r in %s has %d value(s) that are not dates (e.g. %s) at %s; they are treated as "
                    "missing.", col.name, where, int(unread.sum()), format_values(pd.unique(s[unread]), 3),
                    format_rows(np.flatnonzero(unread)))
    return {f"{col.internal}__{p}": getattr(parsed.dt, p).astype(float) for p in col.datetime_parts}


def _as_boolean(col: ColumnInfo, s: pd.Series, where: str, strict: bool, strip: bool) -> pd.Series:
    """A boolean column as 1.0 / 0.0: any spelling of true/false, yes/no, y/n, t/f or 1/0 without regard to case
    or surrounding whitespace (the training values' pair among them: ``col.true_values`` are in TRUE_WORDS);
    other values are missing (a warning names them)."""
    text = pd.Series(_category_text(s, strip), index=s.index, dtype=object)
    words = text.where(text.isna(), text.astype(str).str.strip().str.lower())
    true = words.isin(TRUE_WORDS)
    false = words.isin(FALSE_WORDS)
    unread = (text.notna() & ~true & ~false).to_numpy()
    if strict and unread.any():
        log.warning("Column %r in %s is true/false, but has %d value(s) that are neither (e.g. %s) at %s; they "
                    "are treated as missing.", col.name, where, int(unread.sum()),
                    format_values(pd.unique(text[unread]), 3), format_rows(np.flatnonzero(unread)))
    return pd.Series(np.where(true, 1.0, np.where(false, 0.0, np.nan)), index=s.index, dtype=float)


def _as_numbers(col: ColumnInfo, s: pd.Series, where: str, strict: bool) -> pd.Series:
    if _is_numeric(s) or pd.api.types.is_bool_dtype(s):
        return _numbers_block([col], s.to_frame(col.name), where, strict)[col.internal]
    fmt = NumberFormat(*col.number_format) if col.number_format else NumberFormat()
    values = pd.to_numeric(s.astype(object).where(s.notna()), errors="coerce").astype(float)
    # text that a plain reading takes otherwise than the training column's format ("2.500" with a thousands
    # point is 2500, not 2.5; "2,5" with a decimal comma): read in that format, as are the values a plain reading
    # cannot read ("1,234.5", "12%", "$30"); numbers that are numbers (a DataFrame's floats) stay as they are
    text = np.fromiter((isinstance(v, str) for v in s.to_numpy(dtype=object)), dtype=bool, count=len(s))
    redo = (False if fmt.plain else text) | (s.notna().to_numpy() & values.isna().to_numpy())
    bad = np.zeros(len(s), dtype=bool)
    if redo.any():
        written = parse(s[redo], fmt)
        values[redo] = written.values.to_numpy()
        bad[redo] = ~written.ok
    if strict and bad.any():
        raise DataError(
            f"Column {col.name!r} in {where} must hold numbers{_written_as(col)} but has text "
            f"({format_values(pd.unique(s[bad]), 3)}) at {format_rows(np.flatnonzero(bad))}. If they mark missing "
            f"values, pass --na-values {_na_hint(s[bad].iloc[0])}; otherwise fix those values or leave the cells "
            "empty."
        )
    return _numbers_block([col], values.to_frame(col.name), where, strict)[col.internal]


def _written_as(col: ColumnInfo) -> str:
    """How a numeric column was written in training, for a message (its separators where they are not the usual
    ones; a percent sign or currency symbol is read whichever way, on all of a file's values or none)."""
    fmt = NumberFormat(*col.number_format) if col.number_format else NumberFormat()
    unit = f" {fmt.unit}" if fmt.unit else ""
    if fmt.plain:
        return f" written as in training (in {fmt.unit!r}, e.g. 12.5{unit})" if unit else " (as in training)"
    group = f"thousands separator {fmt.thousands!r}, " if fmt.thousands else ""
    example = f"1{fmt.thousands}234{fmt.decimal}5" if fmt.thousands else f"1234{fmt.decimal}5"
    in_unit = f", in {fmt.unit!r}" if unit else ""
    return f" written as in training ({group}decimal mark {fmt.decimal!r}{in_unit}, e.g. {example}{unit})"


# Values a model cannot hold: float32 (XGBoost, scikit-learn's checks, Keras) ends at ±3.4e38
FLOAT32_MAX = float(np.finfo(np.float32).max)


def unmodellable(values: np.ndarray) -> np.ndarray:
    """Mask of infinite values and finite ones beyond float32's range (``|x| > 3.4e38``)."""
    with np.errstate(invalid="ignore"):
        return np.isinf(values) | (np.abs(values) > FLOAT32_MAX)


def _numbers_block(cols: list[ColumnInfo], frame: pd.DataFrame, where: str, warn: bool) -> pd.DataFrame:
    """Numeric columns as floats; values no model can hold (:func:`unmodellable`) become missing, with a
    warning naming the columns and rows when ``warn``."""
    if not cols:
        return pd.DataFrame(index=frame.index)
    values = frame[[c.name for c in cols]].to_numpy(dtype=float, na_value=np.nan)
    bad = unmodellable(values)
    if bad.any():
        if warn:
            _warn_unmodellable([c.name for c in cols], bad, where)
        values = np.where(bad, np.nan, values)
    return pd.DataFrame(values, columns=[c.internal for c in cols], index=frame.index)


def _warn_unmodellable(names: list[str], bad: np.ndarray, where: str, table: pd.DataFrame | None = None) -> None:
    """Warn about the values no model can hold, by column; rows numbered as in the table as read when the
    training ``table`` is given (see :func:`~automl.data.io.file_rows`), else by position."""
    hit = np.flatnonzero(bad.any(axis=0))
    for j in hit[:5]:
        where_rows = np.flatnonzero(bad[:, j]) if table is None else file_rows(table, bad[:, j])
        log.warning("Column %r in %s has %d value(s) that are infinite or beyond ±3.4e38 (%s); they are treated "
                    "as missing.", names[j], where, int(bad[:, j].sum()), format_rows(where_rows))
    if len(hit) > 5:
        log.warning("%d more columns in %s have such values (%s); they are treated as missing.", len(hit) - 5, where,
                    format_values([names[j] for j in hit[5:]]))
