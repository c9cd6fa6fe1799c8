"""Grouped rows (--group-column): no group on both sides of a fold, the column is not a feature nor needed to
predict, too few groups is a clear error, and a column that looks like a group id is suggested."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.config import FitConfig
from automl.errors import ConfigError, DataError
from automl.fit.preparing import prepare
from automl.search.cv import duplicates_across_folds, group_codes, make_folds, plan_folds


def patients(n_patients: int = 40, visits: int = 5, seed: int = 0, task: str = "binary") -> pd.DataFrame:
    """Visits of patients: each patient's visits share a baseline (the group effect) and a near-copy row."""
    rng = np.random.default_rng(seed)
    pid = np.repeat([f"p{i:03d}" for i in range(n_patients)], visits)
    base = np.repeat(rng.normal(size=n_patients), visits)
    age = np.repeat(rng.integers(20, 80, n_patients), visits).astype(float)
    dose = rng.normal(size=len(pid))
    signal = base + 0.5 * dose
    frame = pd.DataFrame({"patient": pid, "age": age, "dose": dose})
    frame["y"] = np.where(signal > 0, "sick", "well") if task == "binary" else signal * 10
    return frame


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("repeats", [1, 2])
def test_no_group_is_ever_split_across_folds(task, repeats):
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 37, 400)
    y = rng.integers(0, 3 if task == "multiclass" else 2, 400) if task != "regression" else rng.normal(size=400)
    folds = make_folds(y, task, 5, seed=3, repeats=repeats, groups=groups)
    assert len(folds) == 5 * repeats
    for train, valid in folds:
        assert not set(groups[train]) & set(groups[valid])
    for r in range(repeats):  # every row validated once per repetition
        valid = np.concatenate([v for _, v in folds[5 * r:5 * r + 5]])
        assert np.array_equal(np.sort(valid), np.arange(400))
    if repeats == 2:  # a new shuffle per repetition
        assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds[:5], folds[5:], strict=True))


def test_missing_group_values_are_groups_of_one_row():
    codes = group_codes(pd.Series(["a", None, "b", "a", np.nan]))
    assert codes[0] == codes[3] and len(set(codes.tolist())) == 4


def test_too_few_groups_is_a_clear_error():
    y = np.array([0, 1] * 10)
    with pytest.raises(DataError, match=r"'shop' holds 3 group\(s\), fewer than the 5 .*--folds 3 or fewer"):
        plan_folds(y, "binary", 5, None, np.repeat([0, 1, 2], [7, 7, 6]), "shop")
    with pytest.raises(DataError, match="holds 1 group"):
        plan_folds(y, "regression", None, None, np.zeros(20, dtype=int), "shop")
    # the default of 5 folds drops to the number of groups
    assert plan_folds(y.astype(float), "regression", None, None, np.arange(20) % 4, "shop") == 4
    with pytest.raises(DataError, match="Class 'b' occurs in only one group"):
        plan_folds(np.array([0] * 9 + [1]), "binary", 3, ["a", "b"], np.arange(10) % 5, "shop")
    with pytest.raises(ConfigError, match="is the target"):
        FitConfig(target="y", group_column="y")


def test_the_group_column_decides_the_folds_and_is_not_a_feature(caplog):
    frame = patients()
    with caplog.at_level(logging.INFO, logger="automl"):
        p = prepare(FitConfig(target="y", group_column="patient", folds=4, repeats=1), frame)
    groups = frame["patient"].to_numpy()
    for train, valid in p.folds:
        assert not set(groups[train]) & set(groups[valid])
    assert "patient" not in [c.name for c in p.ctx.schema.features] and "patient" not in p.X.columns
    assert p.n_groups == 40 and p.group_hint is None
    assert "grouped by 'patient' (40 groups, none in two folds)" in caplog.text
    with pytest.raises(ConfigError, match="--group-column names unknown column"):
        prepare(FitConfig(target="y", group_column="patient_id"), frame)


def test_a_group_like_column_with_duplicates_across_folds_is_suggested(caplog):
    frame = patients(task="regression")
    frame = pd.concat([frame, frame.iloc[::2]], ignore_index=True)  # repeated measurements: exact copies
    with caplog.at_level(logging.WARNING, logger="automl"):
        p = prepare(FitConfig(target="y", folds=5, repeats=1), frame)
    assert p.group_hint is not None and p.group_hint["column"] == "patient"
    assert p.group_hint["duplicate_rows"] > 0
    assert "pass --group-column patient" in caplog.text
    # without duplicates crossing folds, no hint: a categorical column alone is not a reason
    assert prepare(FitConfig(target="y", folds=5, repeats=1), patients(task="regression")).group_hint is None


def test_duplicates_are_counted_only_across_folds():
    X = pd.DataFrame({"a": [1.0, 1.0, 2.0, 2.0, 3.0, np.nan, np.nan], "b": ["x", "x", "y", "y", "z", "w", "w"]})
    folds = [(np.array([2, 3, 4, 6]), np.array([0, 1, 5])), (np.array([0, 1, 5]), np.array([2, 3, 4, 6]))]
    # rows 0 and 1 share fold 1, rows 2 and 3 fold 2; rows 5 and 6 (missing equal) are split
    assert duplicates_across_folds(X, folds) == 2


def test_a_grouped_fit_records_reports_and_predicts_without_the_group_column(tmp_path):
    frame = patients(n_patients=30, visits=4)
    out = tmp_path / "run"
    model = AutoML(target="y", group_column="patient", models=["linear"], trials=1, folds=3, output=out)
    model.fit(frame)
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert meta["config"]["group_column"] == "patient" and meta["cv_groups"] == 30 and meta["group_hint"] is None
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "group cross-validation by &#39;patient&#39; (30 groups)" in html
    predictions = model.predict(frame.drop(columns=["patient", "y"]).head(10))
    assert len(predictions) == 10
