"""Wide tables (many more columns than rows): the wide-data defaults, a choice never worse than the constant
predictor, bounded permutation importance and report, counted in trials rather than seconds."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest

from automl.config import FitConfig
from automl.data.profile import numeric_summaries, numeric_summary
from automl.fit.finishing import choose
from automl.fit.importance import MAX_COLUMNS
from automl.models import registry
from automl.models.base import is_wide
from automl.results.records import LeaderboardRow
from automl.search.cv import make_folds
from automl.search.metrics import constant_cv_score, get_metric
from tests.test_cli import run


def _wide(task: str, n: int = 60, p: int = 300, seed: int = 0) -> pd.DataFrame:
    """``n`` rows, ``p`` numeric columns; the target depends on the first three only."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    signal = 2 * X[:, 0] + 2 * X[:, 1] - 2 * X[:, 2]
    frame = pd.DataFrame(X, columns=[f"g{i}" for i in range(p)])
    noisy = signal + rng.normal(scale=0.5, size=n)
    if task == "regression":
        frame["y"] = noisy
    elif task == "binary":
        frame["y"] = np.where(noisy > 0, "pos", "neg")
    else:
        frame["y"] = np.select([noisy < -1, noisy < 1], ["a", "b"], "c")
    return frame


@pytest.mark.parametrize(("task", "p"), [("binary", 300), ("regression", 150)])
def test_a_wide_fit_uses_wide_defaults_and_keeps_to_its_trials(task, p, write_csv, tmp_path):
    frame = _wide(task, p=p)
    out = tmp_path / "run"
    result = run("fit", write_csv(frame), "--target", "y", "--output", out, "--trials", "2", "--folds", "3",
                 "--repeats", "1", "--models", "linear,lightgbm")
    assert result.exit_code == 0, result.output
    assert f"Wide table ({p} columns, 60 rows)" in result.output
    trials = pd.read_csv(out / "trials.csv")
    assert trials.groupby("model").size().to_dict() == {"lightgbm": 2, "linear": 2}
    board = pd.read_csv(out / "leaderboard.csv")
    defaults = json.loads(trials.loc[(trials["model"] == "linear") & (trials["trial"] == 0), "params"].iloc[0])
    assert defaults["l1_ratio"] == 1.0  # the L1 penalty: three of hundreds of columns carry the signal
    lgb = json.loads(trials.loc[(trials["model"] == "lightgbm") & (trials["trial"] == 0), "params"].iloc[0])
    assert lgb["colsample_bytree"] == 0.3
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete" and meta["constant_predictor"]["beaten"]
    chosen = board.loc[board["model"] == meta["best_model"], f"cv_{meta['metric']}_mean"].iloc[0]
    assert get_metric(meta["metric"]).better(chosen, meta["constant_predictor"]["cv_mean"])
    importance = pd.read_csv(out / "feature_importance.csv")
    # every column listed; the ones shuffled (the most associated with the target) first, the others unranked
    assert len(importance) == p and importance["importance_mean"].notna().sum() == min(p, MAX_COLUMNS)
    assert importance["importance_mean"].iloc[MAX_COLUMNS:].isna().all()
    assert {"g0", "g1", "g2"} <= set(importance["feature"].head(10))
    html = (out / "report.html").read_text()
    assert f"{p - MAX_COLUMNS} of {p} columns were not ranked" in html
    assert f"The first 100 of {p}" in html and 'id="constant-predictor"' in html


def test_wide_means_more_columns_than_rows():
    assert is_wide(120, 5000) and is_wide(60, 300)
    assert not is_wide(1000, 300) and not is_wide(20, 50)


WIDE_CASES = [*[("multiclass", key) for key in sorted(registry.REGISTRY) if registry.get(key).wide],
              ("regression", "linear"), ("regression", "random_forest")]  # where regression builds another model


@pytest.mark.parametrize(("task", "key"), WIDE_CASES)
def test_every_family_fits_with_its_wide_defaults(key, task):
    spec = registry.get(key)
    frame = _wide(task, n=45, p=150)
    X, y = frame.drop(columns="y"), frame["y"].to_numpy()
    if task != "regression":
        y = pd.Series(y).map({"a": 0, "b": 1, "c": 2}).to_numpy()
    model = spec.make(task, {**spec.defaults_for(task), **spec.wide, "epochs": 3}
                      if key == "keras_mlp" else dict(spec.wide), seed=0, n_jobs=1)
    model.fit(X, y)
    pred = model.predict(X)
    assert len(pred) == len(X) and np.isfinite(np.asarray(pred, dtype=float)).all()


@pytest.mark.parametrize(("task", "metric", "expected"), [("binary", "roc_auc", 0.5), ("binary", "accuracy", 0.75),
                                                          ("regression", "r2", None)])
def test_the_constant_predictor_scores_what_the_priors_give(task, metric, expected):
    rng = np.random.default_rng(0)
    y = (np.arange(200) % 4 == 0).astype(int) if task == "binary" else rng.normal(size=200)
    folds = make_folds(y, task, 5, 0, 1)
    score = constant_cv_score(y, folds, get_metric(metric), task, 2)
    if expected is None:
        assert -0.1 < score <= 0.0  # R² of each fold's training mean: at most 0
    else:
        assert score == pytest.approx(expected)


def _row(key: str, mean: float) -> LeaderboardRow:
    return LeaderboardRow(key, key, "linear", {}, fold_scores=[mean, mean])


def test_a_model_worse_than_the_constant_predictor_is_not_chosen(caplog):
    metric = get_metric("roc_auc")
    rows = [_row("linear", 0.333), _row("lightgbm", 0.6)]
    config = FitConfig(target="y", trials=1)
    with caplog.at_level(logging.WARNING):
        chosen, _ = choose(rows, {r.key: r for r in rows}, metric, None, 5, config, 1.0, 0.5)
    assert chosen.key == "lightgbm"
    rows = [_row("linear", 0.62), _row("lightgbm", 0.45)]
    chosen, _ = choose(rows, {r.key: r for r in rows}, metric, None, 5, config, 1.0, 0.5)
    assert chosen.key == "linear"
    assert any("cannot be chosen: lightgbm (0.4500)" in r.getMessage() for r in caplog.records)


def test_when_nothing_beats_the_constant_predictor_the_log_says_so(caplog):
    metric = get_metric("rmse")
    rows = [_row("linear", 1.3), _row("lightgbm", 1.2)]
    with caplog.at_level(logging.WARNING):
        chosen, _ = choose(rows, {r.key: r for r in rows}, metric, None, 5, FitConfig(target="y", trials=1), 1.0,
                            1.0)
    assert chosen.key == "lightgbm"
    assert any("No model beats the constant predictor" in r.getMessage() for r in caplog.records)


def test_vectorised_profile_matches_the_column_by_column_one():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(40, 12))
    values[:, 3] = 1.0
    values[5, 7] = np.nan
    values[:, 9] = rng.exponential(size=40)
    fast = numeric_summaries(values)
    for j in range(values.shape[1]):
        slow = numeric_summary(values[:, j])
        assert fast[j].keys() == slow.keys()
        for key, value in slow.items():
            np.testing.assert_allclose(fast[j][key], value)


def test_importance_is_skipped_without_scoring_when_the_latency_says_it_cannot_fit(caplog):
    from automl.data.io import read_table
    from automl.data.schema import infer_schema
    from automl.fit.importance import permutation_importance

    frame, info = read_table(_wide("binary", p=20))
    schema, y = infer_schema(frame, FitConfig(target="y"), info)

    class Unscorable:
        def predict_proba(self, X):
            raise AssertionError("scored although the latency showed there is no time")

    X = schema.transform(frame, strict=False)
    assert permutation_importance(Unscorable(), X, schema.encode_target(y), schema, get_metric("roc_auc"), 0,
                                  seconds=1.0, latency=1000.0) is None
    # without a time limit (--trials) too: a model this slow would score for hours
    assert permutation_importance(Unscorable(), X, schema.encode_target(y), schema, get_metric("roc_auc"), 0,
                                  seconds=None, latency=100_000.0) is None
    # the seconds are written so that they read (it said "needs about 0.0 s, 0 s of the budget are left")
    with caplog.at_level(logging.INFO, logger="automl.fit.importance"):
        permutation_importance(Unscorable(), X, schema.encode_target(y), schema, get_metric("roc_auc"), 0,
                               seconds=-0.3, latency=0.2)
    assert re.search(r"one column needs about 0\.0[1-9] s, and the budget has no time left\.", caplog.text)


def test_the_report_says_plainly_when_no_model_beat_the_constant_predictor():
    from automl.report.sections import _constant_sentence
    from automl.results import ConstantPredictor

    text = _constant_sentence(ConstantPredictor(0.5, False, ["linear", "lightgbm"]), "roc_auc", "binary")
    assert text["warning"] and "No model beat it" in text["text"] and "0.5" in text["text"]
    assert "(in each fold, the training rows' class shares)" in text["text"]
    text = _constant_sentence(ConstantPredictor(0.5, True, ["linear"]), "roc_auc", "binary")
    assert not text["warning"] and "linear could not be chosen" in text["text"]
    regression = _constant_sentence(ConstantPredictor(3.2, True, []), "rmse", "regression")["text"]
    assert "(in each fold, the training rows' mean of the target)" in regression and "class" not in regression
    assert _constant_sentence(None, "rmse", "regression") is None  # run folders from before the check


def test_every_trial_on_wide_data_keeps_the_wide_changes_the_space_does_not_search(seed):
    """HistGradientBoosting's search space does not search ``max_features``: its defaults, its portfolio entry and
    its sampled trials all keep the wide-data 0.3 (Optuna hands back only the values the space suggests)."""
    import optuna

    from automl.config import PreprocessConfig
    from automl.data.io import read_table
    from automl.data.schema import infer_schema
    from automl.search.evaluate import Context
    from automl.search.tuner import Search

    frame, info = read_table(_wide("binary", n=40, p=120, seed=seed))
    schema, labels = infer_schema(frame, FitConfig(target="y"), info)
    X, y = schema.transform(frame), schema.encode_target(labels)
    ctx = Context(schema, get_metric(schema.metric), PreprocessConfig(), seed, 1)
    search = Search([registry.get("hist_gb")], ctx, X, y, make_folds(y, "binary", 3, seed),
                    storage=optuna.storages.InMemoryStorage())
    assert search.wide
    trials = search.run(n_trials=4)
    assert len(trials) == 4 and [t.params["max_features"] for t in trials] == [0.3] * 4
    assert trials[1].params["max_iter"] == 1000  # the portfolio entry's own values
    assert len({t.params["max_iter"] for t in trials[2:]} - {150, 1000}) == 2  # the sampler's
