"""The one configuration object shared by the CLI, the Python API and (later) recipes.

This module imports nothing heavy: the CLI builds a :class:`FitConfig` before any numeric library loads.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl.errors import ConfigError, choices, did_you_mean

TASKS = ("binary", "multiclass", "regression")
CLASSIFICATION_METRICS = ("roc_auc", "log_loss", "accuracy", "f1", "precision", "recall", "balanced_accuracy")
# metrics of predicted labels: a binary model's decision threshold changes them (automl.fit.threshold)
THRESHOLD_METRICS = ("accuracy", "f1", "precision", "recall", "balanced_accuracy")
# binary metrics of labels by which models are ranked at a threshold tuned on the other folds (automl.search.decision)
RANKED_AT_TUNED_THRESHOLD = ("f1", "balanced_accuracy")
REGRESSION_METRICS = ("rmse", "mse", "mae", "r2")
METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
SCALERS = ("standard", "minmax", "robust")
SCHEDULES = ("rank", "sides")  # keep in step with automl.search.tuner.SCHEDULES
LARGE_DATA_ROWS = 10_000
TINY_DATA_ROWS = 1_000  # below this, cross-validation is repeated (each repetition reshuffles the folds)


@dataclass(frozen=True)
class PreprocessConfig:
    """Options of the preprocessing stage.

    Parameters
    ----------
    outlier_factor
        IQR multiplier for clipping numeric features (Tukey fences); ``0`` turns clipping off.
    scaler
        Scaler for neural nets and linear models: one of ``SCALERS``.
    log_skewed
        Apply ``log1p`` to non-negative numeric features whose skewness exceeds ``skew_threshold``.
    skew_threshold
        Absolute skewness above which a non-negative feature is log-transformed.
    rare_min_frequency
        Category levels rarer than this share of training rows are grouped into one "rare" level.
    max_categories
        Most levels kept per categorical column (the most frequent ones); the rest are grouped.
    """

    outlier_factor: float = 3.0
    scaler: str = "standard"
    log_skewed: bool = True
    skew_threshold: float = 1.0
    rare_min_frequency: float = 0.01
    max_categories: int = 30

    def __post_init__(self) -> None:
        if self.scaler not in SCALERS:
            raise ConfigError(f"Unknown scaler {self.scaler!r}; choose one of {choices(SCALERS)}."
                              f"{did_you_mean(self.scaler, SCALERS)}")
        if self.outlier_factor < 0:
            raise ConfigError(f"outlier_factor must be >= 0 (0 turns clipping off), got {self.outlier_factor}.")
        if not 0 <= self.rare_min_frequency < 1:
            raise ConfigError(f"rare_min_frequency must be in [0, 1), got {self.rare_min_frequency}.")
        if self.max_categories < 2:
            raise ConfigError(f"max_categories must be at least 2, got {self.max_categories}.")


@dataclass(frozen=True)
class FitConfig:
    """Everything a fit needs; validated on construction.

    Parameters
    ----------
    target
        Name of the target column.
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``; ``None`` infers it from the target.
    metric
        Metric optimised by the search; ``None`` picks the task's default (roc_auc, log_loss, rmse).
    time_limit
        Wall-clock budget of the whole fit in seconds.
    trials
        Trials per model family instead of a time limit (reproducible: same seed, same leaderboard).
    folds
        Number of cross-validation folds; ``None``: 5, or 3 above ``LARGE_DATA_ROWS`` rows.
    repeats
        How many times k-fold CV is repeated with new shuffles; ``None``: 2 below ``TINY_DATA_ROWS`` rows
        (the scores of tiny data are noisy) when the budget is a trial count or at least 120 s, else 1.
    seed
        Seed for folds, sampling and every model.
    output
        Run folder; ``None`` means ``reports/<data name>-<timestamp>``.
    overwrite
        Allow writing into a non-empty run folder (only files automl wrote are replaced).
    sample_rows
        Above this many rows the search runs on a stratified sample; the final refit uses all rows.
    n_jobs
        Threads per model; ``None`` uses every core.
    models
        Model keys to try (see ``automl.models.registry``); empty means all.
    exclude_models
        Model keys not to try.
    positive_class
        Label of the positive class for binary metrics (default: the minority class).
    na_values
        Extra strings read as missing values (e.g. ``"?"``).
    categorical
        Columns to treat as categorical even if they hold numbers.
    keep_columns
        Columns to keep even if they look like target leakage (they will be known at prediction time).
    group_column
        Column naming the group of each row (a patient, a customer, a store): rows of one group never fall on
        both sides of a fold (stratified group k-fold for classification, group k-fold for regression), so the
        CV score estimates the error on new groups. The column is not a feature and is not needed to predict.
    weight_column
        Column of row weights (numbers, at least 0, not all 0): each family's fit gets them as
        ``sample_weight``, and the CV scores, the ensembles, the constant predictor, the decision threshold and
        calibration weigh rows by them. A weight of 0 removes a row's influence. Not a feature, not needed to
        predict.
    time_column
        Column of each row's time (datetimes or numbers): the folds chain forward (each trains on the rows before
        a cut and validates on the next period, never on earlier rows), so the CV score estimates the error on the
        future. The earliest period is only trained on. The column stays a feature; the refit uses every row.
    time_gap
        With ``time_column``: rows (in time order) left out between each fold's training rows and its validation
        rows, for targets known only after a delay.
    threshold
        Decision threshold of a binary model: a row is labelled positive when the positive class's probability
        is at least this (0 < threshold < 1). ``None``: tuned on the out-of-fold predictions when the metric
        scores labels (accuracy, F1, balanced accuracy), else 0.5.
    keep_whitespace
        Keep leading and trailing whitespace in text values and class labels; by default ``" >50K"`` and
        ``">50K"`` are one label (a warning names the merged variants).
    sep
        Delimiter of a CSV data file: one character, or ``"comma"``, ``"semicolon"``, ``"tab"``, ``"pipe"``,
        ``"space"``; ``None`` chooses it from the file (see :func:`automl.data.io.read_table`). Also used to read
        the files to score, unless ``automl predict --sep`` says otherwise.
    parse_numbers
        Read numbers written as text (thousands separators, currency symbols, percent signs, ``(200)`` for
        -200; see :mod:`automl.data.numbers`) as numbers.
    storage
        Optuna storage URL shared by several workers (e.g. ``postgresql://user:pass@host/db``); ``None`` keeps
        the studies in a journal file in the run folder.
    schedule
        How the search shares its time after each family's defaults: ``"rank"`` (the leading families get
        more) or ``"sides"`` (neural nets and tree ensembles get equal time, for a fair comparison).
    recipe
        Name of the recipe the options came from (recorded in ``run.json``; set by :func:`automl.recipes.apply`).
    preprocess
        Options of the preprocessing stage.
    """

    target: str
    task: str | None = None
    metric: str | None = None
    time_limit: float = 120.0
    trials: int | None = None
    folds: int | None = None
    repeats: int | None = None
    seed: int = 0
    output: Path | None = None
    overwrite: bool = False
    sample_rows: int = 100_000
    n_jobs: int | None = None
    models: tuple[str, ...] = ()
    exclude_models: tuple[str, ...] = ()
    positive_class: str | None = None
    na_values: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    keep_columns: tuple[str, ...] = ()
    group_column: str | None = None
    weight_column: str | None = None
    time_column: str | None = None
    time_gap: int = 0
    threshold: float | None = None
    keep_whitespace: bool = False
    parse_numbers: bool = True
    sep: str | None = None
    storage: str | None = None
    schedule: str = "rank"
    recipe: str | None = None
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target:
            raise ConfigError("A target column is required (--target NAME).")
        self._check_types()
        if self.task is not None and self.task not in TASKS:
            raise ConfigError(f"Unknown task {self.task!r}; choose one of {choices(TASKS)}."
                              f"{did_you_mean(self.task, TASKS)}")
        if self.metric is not None:
            if self.metric not in METRICS:
                raise ConfigError(f"Unknown metric {self.metric!r}; choose one of {choices(METRICS)}."
                                  f"{did_you_mean(self.metric, METRICS)}")
            if self.task is not None:
                check_metric(self.metric, self.task)
        if not self.time_limit > 0:
            raise ConfigError(f"time_limit must be a positive number of seconds, got {self.time_limit}.")
        if self.trials is not None and self.trials < 1:
            raise ConfigError(f"trials must be at least 1, got {self.trials}.")
        if self.folds is not None and self.folds < 2:
            raise ConfigError(f"folds must be at least 2, got {self.folds}.")
        if self.repeats is not None and self.repeats < 1:
            raise ConfigError(f"repeats must be at least 1, got {self.repeats}.")
        if self.sample_rows < 100:
            raise ConfigError(f"sample_rows must be at least 100, got {self.sample_rows}.")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise ConfigError(f"n_jobs must be at least 1, got {self.n_jobs}.")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ConfigError(f"threshold must be between 0 and 1 (exclusive), got {self.threshold}.")
        if self.weight_column is not None and self.weight_column in (self.target, self.group_column):
            raise ConfigError(f"The weight column {self.weight_column!r} is also the "
                              f"{'target' if self.weight_column == self.target else 'group column'}; "
                              "--weight-column names a column of row weights.")
        if self.time_column is not None and self.time_column == self.target:
            raise ConfigError(f"The time column {self.time_column!r} is the target; --time-column names the column "
                              "that orders the rows in time.")
        if self.time_column is not None and self.group_column is not None:
            raise ConfigError("--time-column and --group-column cannot be used together yet: choose forward-chaining "
                              "folds in time, or folds that keep each group whole.")
        if self.time_gap < 0:
            raise ConfigError(f"time_gap must be 0 or more rows, got {self.time_gap}.")
        if self.time_gap and self.time_column is None:
            raise ConfigError("--time-gap applies to forward-chaining folds in time: give --time-column too.")
        if self.group_column is not None and self.group_column == self.target:
            raise ConfigError(f"The group column {self.group_column!r} is the target; --group-column names another "
                              "column, whose values group the rows (a patient, a customer).")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"Unknown schedule {self.schedule!r}; choose one of {choices(SCHEDULES)}."
                              f"{did_you_mean(self.schedule, SCHEDULES)}")
        if self.sep is not None:
            object.__setattr__(self, "sep", separator(self.sep))
        if self.output is not None and not isinstance(self.output, Path):
            object.__setattr__(self, "output", Path(self.output))

    def _check_types(self) -> None:
        """Numbers must be numbers (whole ones where a count is meant); a lone name where names are expected is a
        list of one (model keys: comma-separated, as on the command line)."""
        for name in _WHOLE_NUMBERS + _NUMBERS:
            value = getattr(self, name)
            if value is None:
                continue
            whole = name in _WHOLE_NUMBERS
            number = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not number or (whole and not float(value).is_integer()):
                kind = "a whole number" if whole else "a number"
                raise ConfigError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).")
            object.__setattr__(self, name, int(value) if whole else float(value))
        for name in _NAMES:
            value = getattr(self, name)
            if isinstance(value, str):
                value = model_names(value) if name in _MODEL_NAMES else (value,)
            elif not isinstance(value, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{name} must be a list of names, got {value!r}.")
            object.__setattr__(self, name, tuple(value))

    def replace(self, **changes: Any) -> FitConfig:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the configuration."""
        data = dataclasses.asdict(self)
        data["output"] = str(self.output) if self.output is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitConfig:
        """The inverse of :meth:`to_dict` (as read back from ``run.json``); unknown keys are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        prep = known.pop("preprocess", None) or {}
        prep = {k: v for k, v in prep.items() if k in PreprocessConfig.__dataclass_fields__}
        return cls(**known, preprocess=PreprocessConfig(**prep))


_WHOLE_NUMBERS = ("trials", "folds", "repeats", "seed", "sample_rows", "n_jobs", "time_gap")
_NUMBERS = ("time_limit", "threshold")
_NAMES = ("models", "exclude_models", "na_values", "categorical", "keep_columns")
_MODEL_NAMES = ("models", "exclude_models")  # keys never hold commas; column names and missing markers may

def model_names(value: str) -> tuple[str, ...]:
    """Model keys written as one comma-separated text (``"lightgbm, keras_mlp"``), blanks dropped."""
    return tuple(v.strip() for v in value.split(",") if v.strip())


def family_options(families: str | Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``families`` (the CLI's ``--families``, the API's ``families=``) as ``models`` / ``exclude_models``:
    ``"lightgbm,keras_mlp"`` or ``["lightgbm", "keras_mlp"]`` includes those, a leading ``-`` excludes one
    (``"-catboost,-keras_mlp"``). :class:`ConfigError` for anything but text or a list of texts."""
    if isinstance(families, str):
        names = model_names(families)
    elif isinstance(families, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in families):
        names = tuple(n for v in families for n in model_names(v))
    else:
        raise ConfigError(f"families must be model keys, e.g. 'lightgbm,keras_mlp' or ['-catboost'], got "
                          f"{families!r}.")
    include = tuple(n for n in names if not n.startswith("-"))
    exclude = tuple(n[1:] for n in names if n.startswith("-"))
    return {k: v for k, v in (("models", include), ("exclude_models", exclude)) if v}


def add_families(options: dict[str, Any], families: str | Sequence[str] | None) -> dict[str, Any]:
    """``options`` with ``families`` (see :func:`family_options`) put before their ``models`` /
    ``exclude_models`` (text, a list or a set of keys); a value that is not names is left as it is, for
    :class:`FitConfig`'s error naming the option. The one merge of the CLI, the API and recipes."""
    out = dict(options)
    if families is None:
        return out
    for key, names in family_options(families).items():
        given = out.get(key) or ()
        if isinstance(given, str):
            given = model_names(given)
        elif isinstance(given, (set, frozenset)):
            given = tuple(sorted(given))
        out[key] = (*names, *given) if isinstance(given, (list, tuple)) else given
    return out


SEPARATOR_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|", "space": " "}


def separator(value: str) -> str:
    """The delimiter meant by ``value`` (``","`` or ``"comma"``, ``"tab"`` or ``"\\t"``, ...); :class:`ConfigError`
    for anything else than one character or a name."""
    sep = SEPARATOR_NAMES.get(str(value).lower(), str(value))
    if len(sep) != 1 or sep in "\"\r\n":
        raise ConfigError(f"Unknown separator {value!r}; give one character (not a quote or a newline) or one of "
                          f"{choices(SEPARATOR_NAMES)}.")
    return sep


def check_metric(metric: str, task: str) -> None:
    """Raise :class:`ConfigError` if ``metric`` does not apply to ``task``."""
    valid = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    if metric not in valid:
        raise ConfigError(
            f"Metric {metric!r} does not apply to a {task} task; choose one of {choices(valid)}."
        )


def make_config(target: str, **options: Any) -> FitConfig:
    """Build a :class:`FitConfig` from flat keyword options; unknown names are listed with the valid ones."""
    fit_fields = set(FitConfig.__dataclass_fields__) - {"preprocess", "target"}
    prep_fields = set(PreprocessConfig.__dataclass_fields__)
    unknown = sorted(set(options) - fit_fields - prep_fields)
    if unknown:
        raise ConfigError(f"Unknown option(s) {', '.join(map(repr, unknown))}; valid options: "
                          f"{', '.join(sorted(fit_fields | prep_fields))}.")
    prep = {k: options.pop(k) for k in list(options) if k in prep_fields}
    fit = {k: v for k, v in options.items() if v is not None or k in ("task", "metric", "positive_class")}
    return FitConfig(target=target, preprocess=PreprocessConfig(**{k: v for k, v in prep.items() if v is not None}),
                     **fit)
