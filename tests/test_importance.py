"""Permutation importance from the API and the CLI: ``AutoML.feature_importance`` (the fit's, or on labelled rows
as the model is delivered) and ``automl importance``."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from automl import AutoML
from automl.errors import ConfigError, DataError
from automl.models.calibrators import Temperature
from tests.conftest import make_frame
from tests.test_cli import assert_error, run
from tests.test_evaluate import _split
from tests.test_threshold import imbalanced


def _manual(model: AutoML, test: pd.DataFrame, score, repeats: int) -> dict[str, float]:
    """The algorithm by hand, through the public predict: each column shuffled ``repeats`` times with the run's
    seed, the score's mean drop (every row used: fewer than ``max_rows``)."""
    X, truth = test.drop(columns="y"), test["y"]
    baseline = score(truth, model.predict(X))
    rng = np.random.default_rng(model.config.seed)  # the shuffles' generator (the row sample has its own)
    out = {}
    for column in X.columns:
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[rng.permutation(len(X))]
            drops.append(baseline - score(truth, model.predict(shuffled)))
        out[column] = float(np.mean(drops))
    return out


def test_importance_on_held_out_rows_scores_f1_at_the_delivered_threshold(tmp_path):
    train, test = _split(imbalanced(900), 600)
    model = AutoML(target="y", metric="f1", models=["linear"], trials=1, folds=3, repeats=1,
                   output=tmp_path / "run").fit(train)
    assert model.predictor_.threshold not in (None, 0.5)
    found = model.feature_importance(test, repeats=3)
    assert list(found.columns) == ["feature", "importance_mean", "importance_std"]
    assert found["feature"].iloc[0] == "a" and set(found["feature"]) == {"a", "b", "c"}

    def f1(truth, labels):
        return skm.f1_score(truth == "churn", labels == "churn")

    expected = _manual(model, test, f1, 3)
    for row in found.itertuples():
        assert row.importance_mean == pytest.approx(expected[row.feature], abs=1e-12)


def test_the_fits_importance_and_its_refusals(tmp_path):
    out = tmp_path / "run"
    model = AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1, output=out).fit(make_frame("binary"))
    saved = model.feature_importance()
    pd.testing.assert_frame_equal(saved, pd.read_csv(out / "feature_importance.csv"))
    with pytest.raises(ConfigError, match="not refitted on all rows"):
        model.feature_importance(model="lightgbm")
    model.predictor_.members = {"lightgbm": model.predictor_.pipeline}  # as an ensemble's member would be
    with pytest.raises(ConfigError, match=r"ranked the columns of the chosen model \(linear\) only; for 'lightgbm'"):
        model.feature_importance(model="lightgbm")
    with pytest.raises(ConfigError, match="repeats, max_rows apply to importance computed on labelled rows"):
        model.feature_importance(repeats=3, max_rows=10)
    for bad in ({"repeats": 0}, {"repeats": 2.5}, {"repeats": True}, {"max_rows": None}, {"time_limit": "5"},
                {"time_limit": -1}):
        with pytest.raises(ConfigError, match="must be"):
            model.feature_importance(make_frame("binary"), **bad)
    one_class = make_frame("binary")
    with pytest.raises(DataError, match=r"roc_auc is not defined on these \d+ rows .*one class only"):
        model.feature_importance(one_class[one_class["y"] == one_class["y"].iloc[0]])
    (out / "feature_importance.csv").unlink()
    with pytest.raises(ConfigError, match="no permutation importance: the fit skips it when its budget runs out"):
        AutoML.load(out).feature_importance()


def test_the_delivered_model_for_importance_applies_the_calibrator(tmp_path):
    model = AutoML(target="y", models=["linear"], trials=1, folds=3, output=tmp_path / "run").fit(
        make_frame("multiclass"))
    predictor = model.predictor_
    predictor.calibrator = Temperature(2.0)
    frame = make_frame("multiclass").drop(columns="y")
    delivered = predictor.as_delivered().predict_proba(predictor.schema.transform(frame))
    np.testing.assert_allclose(delivered, predictor.delivered(frame)[0], rtol=1e-12)
    assert predictor.as_delivered(predictor.model_key) is not predictor.pipeline


def test_the_command_prints_the_fits_or_computes_on_data(write_csv, tmp_path):
    frame = make_frame("binary")
    out = tmp_path / "run"
    assert run("fit", write_csv(frame), "--target", "y", "--output", out, "--trials", "1", "--models", "linear",
               "--folds", "3", "--repeats", "1").exit_code == 0
    saved = run("importance", out, "--format", "csv")
    assert saved.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(saved.stdout)), pd.read_csv(out / "feature_importance.csv"))
    computed = run("importance", out, write_csv(frame, "labelled.csv"), "--repeats", "2", "--format", "json")
    assert computed.exit_code == 0, computed.output
    rows = pd.read_json(io.StringIO(computed.stdout))
    assert set(rows["feature"]) == set(frame.columns) - {"y"}
    saved = json.loads((out / "holdout_importance.json").read_text(encoding="utf-8"))  # kept, as evaluate's scores
    assert (saved["data"], saved["rows"], saved["model"], saved["metric"], saved["repeats"]) == (
        "labelled.csv", len(frame), "linear", "roc_auc", 2)
    assert [r["feature"] for r in saved["importance"]] == list(rows["feature"])
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="holdout-importance"' in report and f"linear on {len(frame)} labelled rows of labelled.csv" in report
    assert_error(run("importance", out, "--model", "lightgbm"), 2, "not refitted on all rows")
    assert_error(run("importance", out, "--repeats", "3"), 2, "repeats apply to importance computed on labelled rows")
    table = run("importance", out, write_csv(frame, "labelled.csv"), "--repeats", "2")
    assert table.exit_code == 0 and table.stdout.startswith(
        f"Drop in roc_auc when a column's values are shuffled on {len(frame)} rows of labelled.csv:")
    assert_error(run("importance", out, write_csv(frame.drop(columns="y"), "unlabelled.csv")), 2,
                 "has no column 'y' (the target)")


def test_without_a_time_limit_every_column_is_ranked(tmp_path):
    """The fit's untimed importance permutes at most 40 columns; asked for, every column is ranked."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 45))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(45)]).assign(
        y=np.where(X[:, 0] + rng.normal(scale=0.5, size=240) > 0, "a", "b"))
    model = AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1, output=tmp_path / "run").fit(
        frame.iloc[:160])
    found = model.feature_importance(frame.iloc[160:], repeats=1)
    assert len(found) == 45 and found["feature"].iloc[0] == "x0"
    assert found["importance_mean"].notna().all() and found["importance_std"].isna().all()  # one shuffle: no spread
    assert found.attrs == {"metric": "roc_auc", "rows": 80}
