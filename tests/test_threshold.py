"""The decision threshold of binary models: tuned on out-of-fold predictions without leakage, kept only when it
beats 0.5 on CV, saved with the model and applied by predict; --threshold overrides it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.fit.threshold import best_threshold, choose_threshold
from automl.search.cv import make_folds
from automl.search.metrics import get_metric, label_score
from tests.test_cli import run


def imbalanced(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """About 8 % positives whose probability a linear model underestimates at 0.5."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logit = -3.4 + 1.5 * X[:, 0] + 0.8 * X[:, 1]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=np.where(y, "churn", "stay"))


def test_a_threshold_tuned_for_f1_beats_one_half_on_an_imbalanced_table():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    p = np.clip(0.08 + 0.3 * y + rng.normal(scale=0.12, size=2000), 0, 1)  # positives mostly below 0.5
    folds = make_folds(y, "binary", 5, seed=0)
    choice = choose_threshold(p, y, folds, "f1")
    assert choice.source == "tuned" and choice.value < 0.5
    assert choice.cv_tuned > choice.cv_default + 0.1
    assert label_score("f1", y, (p >= choice.value).astype(int)) > label_score("f1", y, (p > 0.5).astype(int))
    assert len(choice.curve) == 49 and all(0 < t < 1 for t, _ in choice.curve)


def test_one_half_is_kept_when_tuning_does_not_help_and_precision_is_not_tuned():
    y = np.array([0, 1] * 100)
    p = np.where(y == 1, 0.9, 0.1)  # separated at 0.5 already
    folds = make_folds(y, "binary", 5, seed=0)
    kept = choose_threshold(p, y, folds, "accuracy")
    assert (kept.source, kept.value, kept.cv_default, kept.cv_tuned) == ("default", 0.5, 1.0, 1.0)
    for metric in ("precision", "recall", "roc_auc", "log_loss"):
        choice = choose_threshold(p, y, folds, metric)
        assert choice.source == "default" and choice.cv_tuned is None
    given = choose_threshold(p, y, folds, "roc_auc", given=0.3)
    assert (given.source, given.value, given.metric) == ("given", 0.3, "f1")


def test_best_threshold_prefers_the_one_nearest_one_half_on_ties():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.8, 0.9])
    assert best_threshold(p, y, "accuracy") == 0.5


def test_balanced_accuracy_is_a_metric():
    metric = get_metric("balanced_accuracy")
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8]])
    assert metric(np.array([0, 0, 1, 1]), proba, "binary") == pytest.approx(0.75)
    assert metric.greater_is_better


def test_the_tuned_threshold_is_saved_reported_and_applied_by_predict(tmp_path):
    frame = imbalanced()
    out = tmp_path / "run"
    model = AutoML(target="y", metric="f1", models=["linear"], trials=1, folds=5, repeats=1, output=out).fit(frame)
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    choice = meta["decision_threshold"]
    assert choice["source"] == "tuned" and choice["value"] != 0.5 and choice["cv_tuned"] > choice["cv_default"]
    assert model.predictor_.threshold == choice["value"]
    scored = model.predict_frame(frame.drop(columns="y"))
    positive = scored["churn"] >= choice["value"]
    assert (scored["prediction"] == np.where(positive, "churn", "stay")).all()
    assert (positive != (scored["churn"] >= 0.5)).any()  # rows the threshold labels otherwise than 0.5 would
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="decision-threshold"' in html and "maximises f1 on the out-of-fold predictions" in html


def test_threshold_option_overrides_the_tuning(write_csv, tmp_path):
    data = write_csv(imbalanced(300))
    result = run("fit", data, "--target", "y", "--output", tmp_path / "run", "--models", "linear", "--trials", "1",
                 "--threshold", "0.2")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert meta["decision_threshold"]["source"] == "given" and meta["decision_threshold"]["value"] == 0.2
    result = run("predict", tmp_path / "run", data, "--output", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "p.csv")
    assert (scored["prediction"] == np.where(scored["churn"] >= 0.2, "churn", "stay")).all()
    bad = run("fit", data, "--target", "y", "--output", tmp_path / "bad", "--threshold", "1.5")
    assert bad.exit_code == 2 and "1.5" in bad.output


def test_balanced_class_weights_make_each_class_weigh_the_same():
    from automl.search.evaluate import fit_weights, wants_class_balance

    y = np.array([0] * 90 + [1] * 10)
    w = fit_weights(None, y, np.arange(100), balanced=True)
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum()) and w.sum() == pytest.approx(100)
    user = np.linspace(0.5, 1.5, 100)
    wb = fit_weights(user, y, np.arange(100), balanced=True)
    assert wb[y == 0].sum() == pytest.approx(wb[y == 1].sum())
    assert np.array_equal(fit_weights(user, y, np.arange(50), balanced=False), user[:50])
    rare = np.array([0] * 92 + [1] * 8)
    assert wants_class_balance(rare, "binary") and not wants_class_balance(y, "binary")  # under 10 %, not at it
    assert not wants_class_balance(rare, "multiclass")


def test_a_rare_class_makes_class_weighting_a_search_choice(tmp_path):
    frame = imbalanced(600, seed=3)
    out = tmp_path / "run"
    AutoML(target="y", models=["linear"], trials=4, folds=3, repeats=1, output=out).fit(frame)
    trials = pd.read_csv(out / "trials.csv")
    chosen = [json.loads(p).get("class_weight") for p in trials["params"]]
    assert chosen[:2] == ["none", "balanced"]  # the defaults unweighted, then with balanced class weights
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert meta["class_balance_offered"]
    assert "balanced class weights" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("metric", ["f1", "accuracy", "balanced_accuracy"])
def test_scores_at_every_threshold_match_scikit_learns_labels(metric):
    from automl.search.decision import threshold_scores

    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.2).astype(int)
    p = np.round(np.clip(0.2 * y + rng.random(300) * 0.6, 0, 1), 2)  # ties among the probabilities
    w = rng.uniform(0.5, 2.0, 300)
    grid = np.asarray([0.0, 0.1, 0.25, 0.3, 0.5, 0.77, 1.0, 1.5])
    for weights in (None, w):
        expected = [label_score(metric, y, (p >= t).astype(int), weights) for t in grid]
        assert threshold_scores(metric, p, y, grid, weights) == pytest.approx(expected, abs=1e-12)


def test_each_fold_is_scored_at_the_threshold_its_other_folds_choose():
    from automl.search.decision import best_threshold, tuned_fold_scores

    rng = np.random.default_rng(2)
    y = (rng.random(400) < 0.1).astype(int)
    p = np.clip(0.05 + 0.25 * y + rng.normal(scale=0.1, size=400), 0, 1)
    folds = make_folds(y, "binary", 4, seed=0)
    scores = tuned_fold_scores("f1", p[None], y, folds, [0] * 4)
    for (train, valid), score in zip(folds, scores, strict=True):
        t = best_threshold(p[train], y[train], "f1")  # never the fold's own rows
        assert score == pytest.approx(label_score("f1", y[valid], (p[valid] >= t).astype(int)))
    assert np.mean(scores) > label_score("f1", y, (p > 0.5).astype(int)) + 0.3  # 0.5 labels almost nothing positive


@pytest.mark.parametrize("repeats", [1, 2])
def test_a_run_on_f1_ranks_every_model_at_its_tuned_threshold(repeats, tmp_path, caplog):
    """Before, the leaderboard scored F1 at 0.5: on a rare class the models whose probabilities stay below 0.5
    scored near 0 and the choice among them was a coin toss; the threshold was tuned for the chosen one only."""
    import logging

    from automl.search.decision import tuned_fold_scores
    from automl.search.metrics import constant_cv_score

    frame = imbalanced(600)
    out = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="automl"):
        AutoML(target="y", metric="f1", models=["linear", "lightgbm"], trials=1, folds=4, repeats=repeats,
               output=out).fit(frame)
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    board = pd.read_csv(out / "leaderboard.csv").set_index("model")
    oof = pd.read_parquet(out / "oof_predictions.parquet").sort_values("row")
    y = (oof["target"] == "churn").to_numpy().astype(int)
    fold = oof["fold"].to_numpy()
    folds = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(1, 5)]
    for model in ("linear", "lightgbm", meta["best_model"]) if repeats == 1 else ():  # the file holds the mean
        expected = tuned_fold_scores("f1", oof[f"{model}:churn"].to_numpy()[None], y, folds, [0] * 4)
        assert board.loc[model, "cv_f1_mean"] == pytest.approx(np.mean(expected))
    chosen = meta["decision_threshold"]
    assert chosen["source"] == "tuned"  # delivered at the threshold it was ranked at
    assert board.loc[meta["best_model"], "cv_f1_mean"] == pytest.approx(chosen["cv_tuned"])
    if repeats == 1:
        assert meta["constant_predictor"]["cv_mean"] == pytest.approx(
            constant_cv_score(y, folds, get_metric("f1"), "binary", 2))
    assert meta["constant_predictor"]["cv_mean"] > 0.1  # labelling every row positive beats 0.5's F1 of 0
    assert "Metric f1: each model is scored as it is delivered" in caplog.text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "is scored as it is delivered: every validation fold at the decision threshold" in html


def test_the_constant_predictor_labels_every_row_positive_in_every_fold():
    """Each fold's prior differs a hair from the others': a threshold at the other folds' prior labelled nothing
    positive in the folds whose own prior was lower (F1 0 there, 0.110 in all against 0.169)."""
    from automl.search.metrics import constant_cv_score

    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.085).astype(int)
    folds = make_folds(y, "binary", 3, seed=0, repeats=2)
    all_positive = [label_score("f1", y[valid], np.ones(len(valid), dtype=int)) for _, valid in folds]
    assert constant_cv_score(y, folds, get_metric("f1"), "binary", 2) == pytest.approx(np.mean(all_positive))


def test_a_given_threshold_is_the_one_every_model_is_ranked_at(tmp_path, caplog):
    import logging

    frame = imbalanced(500)
    out = tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="automl"):
        AutoML(target="y", metric="f1", threshold=0.3, models=["linear"], trials=1, folds=4, repeats=1,
               output=out).fit(frame)
    oof = pd.read_parquet(out / "oof_predictions.parquet").sort_values("row")
    y = (oof["target"] == "churn").to_numpy().astype(int)
    p = oof["linear:churn"].to_numpy()
    fold = oof["fold"].to_numpy()
    expected = [label_score("f1", y[fold == k], (p[fold == k] >= 0.3).astype(int)) for k in range(1, 5)]
    board = pd.read_csv(out / "leaderboard.csv").set_index("model")
    assert board.loc["linear", "cv_f1_mean"] == pytest.approx(np.mean(expected))
    assert "every fold at the decision threshold --threshold gives (0.3)" in caplog.text
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["decision_threshold"]["source"] == "given"


def test_the_final_model_is_scored_at_its_delivered_threshold_beyond_cv():
    """Permutation importance scored F1 at 0.5: where the model labels almost nothing positive there, every
    column looked unimportant."""
    from automl.fit.threshold import ThresholdChoice, at_threshold

    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.1).astype(int)
    p = np.clip(0.05 + 0.3 * y + rng.normal(scale=0.05, size=300), 0, 1)
    proba = np.column_stack([1 - p, p])
    f1 = get_metric("f1")
    tuned = at_threshold(f1, ThresholdChoice(0.2, "tuned", "f1"))
    assert tuned(y, proba, "binary") == pytest.approx(label_score("f1", y, (p >= 0.2).astype(int)))
    assert tuned(y, proba, "binary") > 0.8 > f1(y, proba, "binary")  # at 0.5 nearly nothing is positive
    assert at_threshold(f1, ThresholdChoice(0.5, "default", "f1")) is f1
    assert at_threshold(get_metric("roc_auc"), ThresholdChoice(0.2, "given", "f1")).name == "roc_auc"
