"""Scores on held-out labelled rows: ``AutoML.evaluate`` and ``automl evaluate`` (saved in holdout.json and shown
in the report), with the labels read as the fit read them and the model as it is delivered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from automl import AutoML
from automl.errors import DataError
from tests.test_cli import assert_error, run
from tests.test_threshold import imbalanced


def _split(frame: pd.DataFrame, n_train: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    return shuffled.iloc[:n_train], shuffled.iloc[n_train:].reset_index(drop=True)


def test_evaluate_scores_the_delivered_model_on_held_out_rows(tmp_path):
    train, test = _split(imbalanced(700), 500)
    model = AutoML(target="y", metric="f1", models=["linear"], trials=1, folds=3, repeats=1,
                   output=tmp_path / "run").fit(train)
    scores = model.evaluate(test)
    assert list(scores.index[:2]) == ["f1", "roc_auc"] and scores["rows"] == len(test)
    truth = (test["y"] == "churn").to_numpy()
    delivered = (model.predict(test.drop(columns="y")) == "churn").to_numpy()  # at the tuned threshold
    assert model.predictor_.threshold not in (None, 0.5)
    assert scores["f1"] == pytest.approx(skm.f1_score(truth, delivered))
    proba = model.predict_proba(test.drop(columns="y"))["churn"].to_numpy()
    assert scores["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, proba))
    assert scores["log_loss"] == pytest.approx(skm.log_loss(truth, proba))


def test_integer_labels_missing_targets_and_unknown_labels(tmp_path, caplog):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=(X[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int) + 1)
    train, test = _split(frame, 200)
    model = AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1, output=tmp_path / "run").fit(train)
    as_text = test.assign(y=test["y"].map({1: "1.0", 2: " 2 "}).astype(object))  # as another tool wrote them
    as_text.loc[3, "y"] = None
    scores = model.evaluate(as_text)
    assert scores["rows"] == len(test) - 1 and scores["accuracy"] > 0.8
    assert "Evaluating on 99 of 100 rows" in caplog.text
    with pytest.raises(DataError, match=r"holds label\(s\) the model was not trained on \('3'\) at row 6; it knows "):
        model.evaluate(test.assign(y=test["y"].where(test.index != 5, 3)))
    with pytest.raises(DataError, match=r"has no column 'y' \(the target\)"):
        model.evaluate(test.drop(columns="y"))


def test_the_command_prints_saves_and_reports_the_held_out_scores(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(260, 2))
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(price=3 * X[:, 0] + rng.normal(scale=0.3, size=260))
    train, test = _split(frame, 200)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "run"
    assert run("fit", tmp_path / "train.csv", "--target", "price", "--output", out, "--trials", "1", "--folds", "3",
               "--models", "linear", "--quiet").exit_code == 0
    result = run("evaluate", out, tmp_path / "test.csv")
    assert result.exit_code == 0, result.output
    assert "linear on 60 rows of test.csv (CV rmse" in result.output and "  rmse  " in result.output
    saved = json.loads((out / "holdout.json").read_text(encoding="utf-8"))
    assert saved["rows"] == 60 and saved["model"] == "linear" and saved["scores"]["rmse"] < 0.5
    assert next(iter(saved["scores"])) == "rmse" and saved["cv"] is not None
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="holdout"' in html and "60 labelled rows of test.csv that the fit never saw" in html
    assert_error(run("evaluate", out, tmp_path / "train.csv", "--model", "nope"), 2, "nope")
    test.drop(columns="price").to_csv(tmp_path / "unlabelled.csv", index=False)
    assert_error(run("evaluate", out, tmp_path / "unlabelled.csv"), 2, "has no column 'price' (the target)")


def test_rows_of_one_class_get_one_warning_and_an_undefined_roc_auc(tmp_path, caplog):
    """scikit-learn's warnings were printed twice and F1 read as a plain 0.0, without a word."""
    import warnings

    train, test = _split(imbalanced(700), 500)
    model = AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1, output=tmp_path / "run").fit(train)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = model.evaluate(test[test["y"] == "stay"])
    assert np.isnan(scores["roc_auc"]) and not [w for w in caught if "sklearn" in str(w.filename)]
    assert "Evaluating on rows of one class only ('stay'): ROC AUC is undefined (NaN)" in caplog.text
