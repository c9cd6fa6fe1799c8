"""Column typing, task inference, dropped columns and the shared transform."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from automl.config import FitConfig
from automl.data.io import read_table
from automl.data.schema import infer_schema
from automl.errors import ConfigError, DataError
from tests.conftest import make_frame


def schema_of(frame: pd.DataFrame, **options):
    frame, info = read_table(frame)
    return infer_schema(frame, FitConfig(target=options.pop("target", "y"), **options), info)


def kinds(schema) -> dict[str, str]:
    return {c.name: c.kind for c in schema.columns}


@pytest.mark.parametrize(("y", "task"), [
    (["a", "b"] * 30, "binary"),
    ([0, 1] * 30, "binary"),
    ([True, False] * 30, "binary"),
    (["a", "b", "c"] * 20, "multiclass"),
    ([1, 2, 3, 4] * 15, "multiclass"),
    (list(np.linspace(0, 1, 60)), "regression"),
    (list(range(60)), "regression"),
])
def test_task_inference(y, task):
    frame = pd.DataFrame({"x": np.arange(60) % 7, "y": y})
    schema, _ = schema_of(frame)
    assert schema.task == task and schema.task_reason


def test_task_override_and_its_checks():
    frame = pd.DataFrame({"x": np.arange(60) % 7, "y": [1, 2, 3, 4] * 15})
    assert schema_of(frame, task="regression")[0].task == "regression"
    with pytest.raises(DataError, match="--task binary needs exactly 2 classes"):
        schema_of(frame, task="binary")


def test_missing_target_rows_are_dropped_and_counted(caplog):
    frame = make_frame("binary")
    frame.loc[[0, 5], "y"] = np.nan
    schema, y = schema_of(frame)
    assert schema.n_missing_target == 2 and len(y) == len(frame) - 2 and 0 not in y.index
    assert "Dropped 2 row(s) whose target 'y' is missing (rows 1, 6)" in caplog.text


def test_column_kinds_and_drop_reasons():
    n = 60
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "row_id": np.arange(n),
        "code": [f"C{i:04d}" for i in rng.permutation(n)],
        "const": 5,
        "empty": np.nan,
        "flag": ["yes", "no"] * (n // 2),
        "when": pd.date_range("2024-01-01", periods=n, freq="37h").strftime("%Y-%m-%d %H:%M"),
        "comment": [f"this is a long free text comment number {i}" for i in range(n)],
        "level": rng.choice(list("abc"), n),
        "amount": rng.normal(size=n),
        "y": rng.choice(["p", "q"], n),
    })
    schema, _ = schema_of(frame)
    assert kinds(schema) == {
        "row_id": "dropped", "code": "dropped", "const": "dropped", "empty": "dropped", "flag": "boolean",
        "when": "datetime", "comment": "text", "level": "categorical", "amount": "numeric",
    }
    reasons = {c.name: c.reason for c in schema.dropped}
    assert reasons["row_id"].startswith("ID-like") and reasons["code"].startswith("ID-like")
    assert reasons["const"] == "constant (every row is 5)" and reasons["empty"] == "all values are missing"
    assert next(c for c in schema.columns if c.name == "comment").reason.startswith("free text")
    prepared = schema.transform(frame)
    assert prepared["comment"].iloc[3] == "this is a long free text comment number 3"  # kept as text
    assert {"when__year", "when__month", "when__day_of_week", "when__hour"} <= set(prepared.columns)
    assert set(prepared["flag"].unique()) == {0.0, 1.0}


def test_a_feature_the_file_is_sorted_by_is_not_an_id(caplog):
    """Distinct integers that only go up are an ID when they count (consecutive, or one step size most of the
    time) or are named like one (pandas' "Unnamed: 0" row index, with the gaps of a filtered frame); a quantity
    the file is sorted by goes up by varying steps and stays a feature, with a warning (a file sorted by square
    feet lost it, and the CV error grew 7x). The time column and --keep-column are never dropped as IDs."""
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "Unnamed: 0": np.sort(rng.choice(np.arange(1000), n, replace=False)),  # a filtered frame's index
        "sqft": np.sort(rng.choice(np.arange(500, 5000), n, replace=False)),
        "serial": 1000 + 3 * np.arange(n) + np.where(rng.random(n) < 0.2, 1, 0).cumsum(),  # with a few gaps
        "shuffled": rng.permutation(n) + 17,
        "epoch": 1_600_000_000 + 86_400 * np.arange(n),
        "y": rng.normal(size=n),
    })
    with caplog.at_level(logging.WARNING, logger="automl.data.schema"):
        schema, _ = schema_of(frame)
    assert kinds(schema) == {"Unnamed: 0": "dropped", "sqft": "numeric", "serial": "dropped", "shuffled": "dropped",
                             "epoch": "dropped"}
    reasons = {c.name: c.reason for c in schema.dropped}
    assert reasons["Unnamed: 0"] == "ID-like (a distinct integer in every row, named like an ID)"
    assert reasons["serial"].endswith("counting up row by row)") and "consecutive" in reasons["shuffled"]
    assert "Dropped column 'serial': ID-like" in caplog.text and "(--keep-column serial keeps it)" in caplog.text
    assert "Column 'sqft' in <DataFrame> holds a distinct integer in every row, only going up" in caplog.text
    kept, _ = schema_of(frame, time_column="epoch", keep_columns=("serial",))
    assert kinds(kept)["epoch"] == "numeric" and kinds(kept)["serial"] == "numeric"


def test_a_boolean_column_reads_any_spelling_of_its_values_and_warns_about_others(caplog):
    frame = pd.DataFrame({"flag": ["yes", "no"] * 20, "x": np.arange(40.0), "y": [0, 0, 1, 1] * 10})
    schema, _ = schema_of(frame)
    new = pd.DataFrame({"flag": ["yes", "YES", " Yes", "true", "1", "no", "No", "FALSE", "0", None, "maybe"],
                        "x": 0.0})
    with caplog.at_level("WARNING", logger="automl"):
        prepared = schema.transform(new, where="new.csv")
    np.testing.assert_array_equal(prepared["flag"].to_numpy(),
                                  [1, 1, 1, 1, 1, 0, 0, 0, 0, np.nan, np.nan])
    assert "'flag' in new.csv" in caplog.text and "'maybe'" in caplog.text and "row 11" in caplog.text
    fitted_on_bools, _ = schema_of(frame.assign(flag=[True, False] * 20))
    assert fitted_on_bools.transform(new.iloc[:9])["flag"].tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert fitted_on_bools.transform(pd.DataFrame({"flag": [True, False], "x": 0.0}))["flag"].tolist() == [1, 0]


def test_awkward_names_get_safe_internal_names_but_users_see_theirs():
    frame = pd.DataFrame({'a[0]': [1.0, 2, 3, 4] * 5, 'a{0}': [2.0, 1, 3, 3] * 5, 'x:"y",z': [0.0, 1, 1, 2] * 5,
                          "é": ["u", "v", "w", "u"] * 5, "y": [0, 1] * 10})
    schema, _ = schema_of(frame)
    internal = [c.internal for c in schema.features]
    assert all(n.replace("_", "").isalnum() and n.isascii() for n in internal)
    assert len(set(internal)) == len(internal)
    assert [schema.original_name(c) for c in internal] == list(frame.columns[:-1])


def test_categorical_override_and_unknown_column():
    frame = pd.DataFrame({"code": [1, 2, 3, 1] * 10, "y": [0, 1] * 20})
    assert kinds(schema_of(frame, categorical=("code",))[0])["code"] == "categorical"
    with pytest.raises(ConfigError, match="unknown column"):
        schema_of(frame, categorical=("nope",))
    with pytest.raises(ConfigError, match="--categorical names the target 'y'; it applies to feature columns"):
        schema_of(frame, categorical=("y",))


def test_positive_class_defaults_to_the_minority():
    frame = pd.DataFrame({"x": np.arange(40) % 7, "y": ["common"] * 30 + ["rare"] * 10})
    schema, _ = schema_of(frame)
    assert schema.positive_class == "rare" and schema.classes[-1] == "rare"
    assert schema_of(frame, positive_class="common")[0].classes[-1] == "common"


def test_no_usable_features(caplog):
    frame = pd.DataFrame({"const": [1] * 10, "y": [0, 1] * 5})
    with pytest.raises(DataError, match=r"No usable feature columns.*'const': constant"):
        schema_of(frame)
    with caplog.at_level(logging.INFO, logger="automl.data.schema"), pytest.raises(DataError, match="only the target"):
        schema_of(frame[["y"]])
    assert "Columns: none besides the target." in caplog.text  # it read "Columns: ."


def test_transform_is_the_same_for_training_and_new_rows():
    frame = make_frame("binary")
    schema, _ = schema_of(frame)
    full = schema.transform(frame)
    part = schema.transform(frame.iloc[10:20].drop(columns="y"))
    pd.testing.assert_frame_equal(full.iloc[10:20], part)


def test_a_positive_class_for_a_target_that_is_not_binary_is_ignored_with_a_warning(caplog):
    frame = pd.DataFrame({"x": np.random.default_rng(0).normal(size=60), "y": ["a", "b", "c"] * 20})
    with caplog.at_level("WARNING", logger="automl"):
        schema, _ = schema_of(frame, positive_class="nope")
    assert schema.task == "multiclass" and schema.positive_class is None
    assert "--positive-class 'nope' is ignored" in caplog.text and "multiclass" in caplog.text


def test_rows_are_numbered_as_in_the_table_after_rows_are_left_out(tmp_path, caplog):
    from automl.fit.preparing import prepare

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"w": 1.0, "x": rng.normal(size=60), "z": rng.normal(size=60).round(2).astype(object),
                          "y": ["a", "b"] * 30}, index=np.arange(100, 160))  # a DataFrame's own index
    frame.loc[[100, 101], "w"] = 0.0  # rows 1-2 left out for their weight
    frame.loc[[102, 103], "y"] = None  # rows 3-4 dropped for their target
    frame.loc[[104], "x"] = np.inf  # row 5: infinite
    frame.loc[[150], "z"] = "oops"  # row 51
    with caplog.at_level("INFO", logger="automl"), pytest.raises(DataError, match=r"\('oops'\) at row 51\."):
        prepare(FitConfig(target="y", weight_column="w"), frame)
    assert "weight 0 in 'w' (rows 1, 2)" in caplog.text and "target 'y' is missing (rows 3, 4)" in caplog.text
    assert "beyond ±3.4e38 (row 5)" in caplog.text


def test_a_target_glued_into_one_column_suggests_the_delimiter(write_csv):
    path = write_csv("x1:x2:target\n1:2:a\n3:4:b\n", "colon.csv")
    frame, info = read_table(path, sep=",")
    with pytest.raises(DataError, match=r"another delimiter than ','; give it with --sep ':'\."):
        infer_schema(frame, FitConfig(target="target"), info)


def test_a_date_column_of_several_formats_names_the_values_read_one_by_one(caplog):
    """Beside ISO 8601 and the column's format (month first, the most values), dotted dates are read one by one:
    01.02.2021 month first, 23.01.2021 day first, one column holding both orders. A warning names them and their
    rows; a column of one format says nothing."""
    rng = np.random.default_rng(0)
    slashed = [f"{m:02d}/{d:02d}/2021" for m, d in zip(rng.integers(1, 13, 40), rng.integers(1, 29, 40), strict=True)]
    dates = ["2021-01-27", "01.02.2021", "23.01.2021", *slashed[3:]]
    frame = pd.DataFrame({"when": dates, "x": rng.normal(size=40), "y": np.tile(["a", "b"], 20)})
    with caplog.at_level(logging.WARNING, logger="automl"):
        schema, _ = infer_schema(frame, FitConfig(target="y"), read_table(frame)[1])
    assert {c.name: c.kind for c in schema.features}["when"] == "datetime"
    assert ("Column 'when' in <DataFrame> mixes date formats: 2 value(s) are not ISO 8601 (2021-01-27) or "
            "%m/%d/%Y (e.g. '01.02.2021', '23.01.2021') at rows 2, 3.") in caplog.text
    assert "holds days and months in both orders" in caplog.text
    one_order = [slashed[3:], [f"{v} 10:00" if i % 2 else v for i, v in enumerate(slashed[3:])],  # dates, datetimes
                 [*[f"March {d}, 2021" for d in range(1, 4)], *slashed[3:]]]  # names of months beside numbers
    for dates in one_order:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="automl"):
            infer_schema(frame.assign(when=[*dates, *slashed][:40]), FitConfig(target="y"), read_table(frame)[1])
        assert "mixes date formats" not in caplog.text, dates[:4]


@pytest.mark.parametrize("series", [
    pd.Series(["a", " b", "", None, "a"], dtype="string"),
    pd.Series(["a", " b", "", None, "a"], dtype="string[pyarrow]"),
    pd.Series([1.0, 2.5, np.nan, 1.0, -0.0, np.inf]),
    pd.Series([1, 2, None], dtype="Int64"),
    pd.Series([True, False, None], dtype="boolean"),
    pd.Series(["x", "y", None, "x"], dtype="category"),
    pd.Series(pd.to_datetime(["2020-01-01", None])),  # a missing date reads 'NaT', as saved models learnt it
    pd.Series([True, 1, 1.0, " 2 ", None], dtype=object),
])
@pytest.mark.parametrize("strip", [False, True])
def test_category_text_once_per_distinct_value_is_the_text_value_by_value(series, strip):
    from automl.data.schema import _category_text, _texts

    fast = list(_category_text(series, strip))
    slow = list(_texts(series.to_numpy(dtype=object), strip))
    assert [type(v) for v in fast] == [type(v) for v in slow]
    assert [v if isinstance(v, str) else "<missing>" for v in fast] == [
        v if isinstance(v, str) else "<missing>" for v in slow]
    if series.dtype.kind == "M":
        assert fast[1] == "NaT"
