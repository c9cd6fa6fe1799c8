"""``run.json`` as a typed record: every key a fit writes, its type, and its meaning.

The fit writes ``run.json`` step by step through :meth:`automl.results.RunFolder.update`, which refuses a key that
is not a field of :class:`RunRecord`; the report, the comparison of batch runs, the API, the CLI and the workers
read it back with :func:`read_record` and use attributes, never string keys. A renamed key therefore fails at its
writer or its reader in the tests, instead of silently emptying a report section. Reading tolerates keys it does
not know (a run folder written by a later version) and missing ones (a run that stopped early): they take the
defaults below.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ColumnRecord:
    """One input column as the fit typed it."""

    name: str
    kind: str  # "numeric", "categorical", "datetime", "text", "dropped", ...
    reason: str = ""
    missing: int = 0  # missing cells
    unique: int = 0  # distinct values
    dtype: str = ""  # the pandas dtype it was read as


@dataclass(frozen=True)
class DataRecord:
    """The table a run was fitted on."""

    source: str = ""  # how it was read, e.g. "train.csv (csv, comma-separated, utf-8)"
    path: str | None = None  # None for a DataFrame
    sha256: str | None = None  # of the file's bytes, or of a DataFrame's values (automl.data.io.frame_sha256)
    rows: int = 0
    rows_missing_target: int = 0
    target: str = ""
    classes: list[Any] | None = None
    class_counts: dict[str, int] | None = None
    positive_class: Any = None
    columns: list[ColumnRecord] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DataRecord | None:
        if data is None:
            return None
        known = _known(cls, data)
        known["columns"] = [ColumnRecord(**_known(ColumnRecord, c)) for c in known.get("columns") or []]
        return cls(**known)


@dataclass(frozen=True)
class ConstantPredictor:
    """The CV score of predicting the training folds' prior (class shares or mean) for every row."""

    cv_mean: float | None = None
    beaten: bool = True  # whether the chosen model beats it
    worse: list[str] = field(default_factory=list)  # leaderboard rows that do not beat it


@dataclass(frozen=True)
class RunRecord:
    """Everything ``run.json`` holds, in the order a fit writes it."""

    status: str = "unknown"  # "running", "complete", "failed", "interrupted", "budget exhausted"
    started: str | None = None  # ISO 8601, UTC
    format_version: int | None = None  # of the saved model (automl.results.FORMAT_VERSION)
    files: list[str] = field(default_factory=list)  # every file automl wrote in the folder
    resumed: list[str] = field(default_factory=list)  # when `automl resume` continued the run
    error: str | None = None  # why a run failed
    config: dict[str, Any] = field(default_factory=dict)  # the FitConfig, as FitConfig.to_dict gives it
    command: str | None = None  # the command line that started the run
    automl_version: str | None = None
    python: str | None = None
    study_prefix: str = "automl"  # Optuna study names: <prefix>-<family key>
    data: DataRecord | None = None
    preprocessing_pipelines: dict[str, Any] = field(default_factory=dict)  # each pipeline's steps, in words
    search_started: str | None = None
    # wall seconds of search (and after) that earlier attempts used before they stopped: a resume has only what is
    # left of the budget (0 for a run that never stopped; a killed process records nothing, see automl.fit.running)
    search_seconds_spent: float = 0.0
    search_deadline_epoch: float | None = None  # Unix time the search stops (workers read it); None: trials
    best_model: str | None = None  # the chosen leaderboard row's key
    models_refitted: list[str] = field(default_factory=list)
    models_bagged: list[str] = field(default_factory=list)  # delivered as their CV fold models, not refitted
    constant_predictor: ConstantPredictor | None = None
    task: str | None = None  # "binary", "multiclass", "regression"
    task_reason: str | None = None
    metric: str | None = None
    greater_is_better: bool = True
    folds: int | None = None
    cv_repeats: int = 1
    time_folds: list[dict[str, Any]] | None = None  # --time-column: each fold's training and validation periods
    cv_groups: int | None = None  # groups of --group-column in the search rows (no group in two folds)
    group_hint: dict[str, Any] | None = None  # a column that looks like a group id, when none was given
    decision_threshold: dict[str, Any] | None = None  # binary targets: automl.fit.threshold.ThresholdChoice
    calibration: dict[str, Any] | None = None  # classification: automl.fit.calibration.CalibrationChoice
    search_rows: int | None = None  # rows the search used (a stratified sample of large data)
    log_target_offered: bool = False
    class_balance_offered: bool = False  # a binary target with a rare class: balanced class weights searched
    versions: dict[str, str] = field(default_factory=dict)  # of automl, Python and the model libraries
    trials_total: int = 0
    search_seconds: float | None = None
    leaderboard: list[dict[str, Any]] = field(default_factory=list)  # leaderboard.csv's rows
    preprocessing: dict[str, Any] = field(default_factory=dict)  # what the chosen model's preprocessing learnt
    learning_curves: dict[str, Any] = field(default_factory=dict)  # the networks' per-epoch losses
    predict_seconds_per_1000_rows: float | None = None
    finished: str | None = None
    fit_seconds: float | None = None
    comparison: dict[str, Any] | None = None  # a batch run's comparison with the previous run

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """The record of a ``run.json`` object; unknown keys are ignored, missing ones take their defaults."""
        known = _known(cls, data)
        known["data"] = DataRecord.from_dict(known.get("data"))
        if known.get("constant_predictor") is not None:
            known["constant_predictor"] = ConstantPredictor(**_known(ConstantPredictor, known["constant_predictor"]))
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready object (nested records as objects)."""
        return asdict(self)

    def fit_config(self, target: str = "?") -> Any:
        """The :class:`~automl.config.FitConfig` the run recorded (``target`` when it has none, as in a run that
        failed before its config was written)."""
        from automl.config import FitConfig

        return FitConfig.from_dict(self.config or {"target": target})


FIELDS = frozenset(f.name for f in fields(RunRecord))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def unknown_keys(data: dict[str, Any]) -> list[str]:
    """The keys of a ``run.json`` object that :class:`RunRecord` does not know, nested records included."""
    out = sorted(set(data) - FIELDS)
    nested = {"data": DataRecord, "constant_predictor": ConstantPredictor}
    for key, cls in nested.items():
        if isinstance(data.get(key), dict):
            out += [f"{key}.{k}" for k in sorted(set(data[key]) - {f.name for f in fields(cls)})]
    for column in (data.get("data") or {}).get("columns") or []:
        out += [f"data.columns.{k}" for k in sorted(set(column) - {f.name for f in fields(ColumnRecord)})]
    return sorted(set(out))


def parse(text: str) -> RunRecord:
    """The record of a ``run.json`` text (:class:`ValueError` if it is not a JSON object)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("run.json does not hold a JSON object")
    return RunRecord.from_dict(data)


def record_of(path: Path) -> RunRecord:
    """The record of the ``run.json`` at ``path`` (:class:`OSError`, :class:`ValueError` when unreadable)."""
    return parse(path.read_text(encoding="utf-8"))
