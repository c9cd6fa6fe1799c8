"""Suspected target leakage: columns that predict the target perfectly are dropped with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from automl.cli import main
from automl.config import FitConfig
from automl.data.io import read_table
from automl.data.leakage import drop_leaks, leak_reason
from automl.data.schema import infer_schema
from tests.conftest import make_frame


def _schema(frame, **config):
    frame, info = read_table(frame)
    schema, y_labels = infer_schema(frame, FitConfig(target="y", **config), info)
    return schema, schema.transform(frame), schema.encode_target(y_labels)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_columns_that_determine_the_class_are_dropped(task, seed):
    frame = make_frame(task, n=200, seed=seed)
    rng = np.random.default_rng(seed)
    frame["outcome_code"] = frame["y"].map(lambda v: f"code-{v}")  # a recoding of the target
    order = {c: i for i, c in enumerate(sorted(frame["y"].unique()))}
    frame["after_the_fact"] = frame["y"].map(order) * 10 + rng.random(len(frame))  # sorted: classes in blocks
    schema, X, y = _schema(frame)
    X = drop_leaks(schema, X, y)
    dropped = {c.name: c.reason for c in schema.dropped}
    assert "each of its" in dropped["outcome_code"] and "separates the classes" in dropped["after_the_fact"]
    assert {c.name for c in schema.features} == {"x1", "x2", "colour", "x_nan"}  # real predictors stay
    assert list(X.columns) == [c.internal for c in schema.features]


def test_regression_copy_of_the_target_is_dropped_unless_kept(seed):
    frame = make_frame("regression", n=200, seed=seed)
    frame["price_again"] = frame["y"] * 2 + 1
    schema, X, y = _schema(frame)
    drop_leaks(schema, X, y)
    assert "rank correlation" in next(c.reason for c in schema.dropped if c.name == "price_again")
    schema, X, y = _schema(frame, keep_columns=("price_again",))
    drop_leaks(schema, X, y, keep=("price_again",))
    assert "price_again" in {c.name for c in schema.features}


def test_no_leak_in_ordinary_or_tiny_data(seed):
    frame = make_frame("binary", n=200, seed=seed)
    schema, X, y = _schema(frame)
    assert all(leak_reason(X[c.internal], y, "binary") is None for c in schema.features)
    tiny = (np.arange(20) > 9).astype(int)
    assert leak_reason(make_frame("binary", n=20)["x1"].sort_values().reset_index(drop=True), tiny, "binary") is None


def test_cli_reports_the_leak_and_keep_column(write_csv, tmp_path, seed):
    frame = make_frame("binary", n=200, seed=seed)
    frame["outcome_code"] = frame["y"].map(lambda v: f"code-{v}")
    data = write_csv(frame)
    args = ["fit", str(data), "--target", "y", "--models", "linear", "--trials", "1", "--folds", "3"]
    result = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "Dropped column 'outcome_code': suspected target leakage" in result.output
    assert "--keep-column outcome_code" in result.output
    columns = json.loads((tmp_path / "a" / "run.json").read_text())["data"]["columns"]
    assert next(c for c in columns if c["name"] == "outcome_code")["kind"] == "dropped"
    kept = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "b"), "--keep-column", "outcome_code"])
    assert kept.exit_code == 0 and "suspected target leakage" not in kept.output
    bad = CliRunner().invoke(main, [*args, "--output", str(tmp_path / "c"), "--keep-column", "nope"])
    assert bad.exit_code == 2 and "--keep-column names unknown column(s) 'nope'" in bad.output


def test_the_keep_column_hint_is_quoted_for_the_shell(seed, caplog):
    frame = make_frame("binary", n=200, seed=seed)
    frame["outcome code"] = frame["y"].map(lambda v: f"code-{v}")
    schema, X, y = _schema(frame)
    with caplog.at_level("WARNING", logger="automl"):
        drop_leaks(schema, X, y)
    assert "keep it with --keep-column 'outcome code'." in caplog.text
