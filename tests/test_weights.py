"""Row weights (--weight-column): passed to every family's fit, used in the CV scores, ensembles and the constant
predictor; a weight of 0 removes a row's influence; bad weights are clear errors; not needed to predict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.config import FitConfig
from automl.data.weights import row_weights
from automl.errors import ConfigError, DataError
from automl.fit.preparing import prepare
from automl.models import registry
from automl.search.evaluate import accepts_weights, cross_validate, make_pipeline
from automl.search.metrics import constant_cv_score, get_metric
from tests.conftest import make_frame


def weighted_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    frame = make_frame("regression", n, seed)
    frame["w"] = np.random.default_rng(seed).uniform(0.5, 2.0, n)
    return frame


def test_weights_are_checked_and_scaled_to_a_mean_of_one():
    w = row_weights(pd.Series([1.0, 3.0, 0.0, 4.0]), "w", "t.csv")
    assert np.allclose(w, [0.5, 1.5, 0.0, 2.0])
    for values, phrase in [(["1", "x", "2"], "holds text that is not a number ('x') in 1 row(s): row 2"),
                           ([1.0, None, 2.0], "is empty"), ([1.0, -2.0], "holds a negative weight"),
                           ([1.0, np.inf], "infinite"), ([0, 0, 0], "is 0 in every row")]:
        with pytest.raises(DataError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
            row_weights(pd.Series(values), "w", "t.csv")
    with pytest.raises(ConfigError, match="weight column 'y' is also the target"):
        FitConfig(target="y", weight_column="y")


def test_every_family_takes_row_weights():
    from automl.search.evaluate import Context

    for task in ("binary", "multiclass", "regression"):
        frame = make_frame(task)
        p = prepare(FitConfig(target="y", folds=3, repeats=1), frame)
        ctx = Context(p.ctx.schema, p.ctx.metric, p.ctx.preprocess, 0, 1)
        for spec in registry.select(task, (), ()):
            assert accepts_weights(make_pipeline(spec, ctx, spec.defaults_for(task))), (task, spec.key)
    # the one configuration that cannot: multiclass L1 logistic regression (one-vs-rest), fitted unweighted
    ctx = Context(prepare(FitConfig(target="y", folds=3, repeats=1), make_frame("multiclass")).ctx.schema,
                  get_metric("log_loss"), p.ctx.preprocess, 0, 1)
    assert not accepts_weights(make_pipeline(registry.get("linear"), ctx, {"C": 1.0, "l1_ratio": 1.0}))


def test_a_weight_of_zero_removes_a_rows_influence(tmp_path):
    clean = weighted_frame()
    noise = clean.sample(60, random_state=1).assign(y=lambda f: f["y"] * -5 + 40, w=0.0)  # contradicting rows
    with_noise = pd.concat([clean, noise], ignore_index=True)
    new = make_frame("regression", 30, seed=9).drop(columns="y")
    kwargs = {"target": "y", "weight_column": "w", "models": ["linear"], "trials": 1, "folds": 3, "repeats": 1}
    a = AutoML(**kwargs, output=tmp_path / "a").fit(clean)
    b = AutoML(**kwargs, output=tmp_path / "b").fit(with_noise)
    np.testing.assert_allclose(b.predict(new), a.predict(new), rtol=1e-9)
    assert b.leaderboard()["cv_rmse_mean"].iloc[0] == pytest.approx(a.leaderboard()["cv_rmse_mean"].iloc[0])
    unweighted = AutoML(**{**kwargs, "weight_column": None}, output=tmp_path / "c").fit(with_noise.drop(columns="w"))
    assert not np.allclose(unweighted.predict(new), a.predict(new), rtol=1e-3)  # the noise matters unweighted
    meta = json.loads((tmp_path / "b" / "run.json").read_text(encoding="utf-8"))
    assert meta["config"]["weight_column"] == "w" and meta["data"]["rows"] == 200
    assert "w" not in [c["name"] for c in meta["data"]["columns"] if c["kind"] != "dropped"]
    assert "weighted by &#39;w&#39;" in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")


def test_cv_scores_and_the_constant_predictor_weigh_rows():
    frame = weighted_frame()
    frame.loc[:99, "w"] = 10.0  # the first half counts ten times more
    p = prepare(FitConfig(target="y", weight_column="w", folds=3, repeats=1), frame)
    result = cross_validate(registry.get("linear"), p.ctx, p.X_s, p.y_s, p.folds, float("inf"))
    w = p.ctx.weights
    rmse = get_metric("rmse")
    expected = [rmse(p.y_s[v], result.oof[v], "regression", w[v]) for _, v in p.folds]
    assert result.fold_scores == pytest.approx(expected)
    assert result.fold_scores != pytest.approx([rmse(p.y_s[v], result.oof[v], "regression") for _, v in p.folds])
    weighted = constant_cv_score(p.y_s, p.folds, rmse, "regression", 0, w)
    assert weighted != pytest.approx(constant_cv_score(p.y_s, p.folds, rmse, "regression", 0))


def test_the_network_learns_from_weighted_rows():
    from automl.models.keras_mlp import KerasMLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    flipped = 1 - y
    w = np.where(np.arange(300) < 150, 1.0, 0.0)  # the flipped labels of the second half weigh nothing
    labels = np.where(np.arange(300) < 150, y, flipped)
    net = KerasMLPClassifier(epochs=30, patience=30, random_state=0).fit(X, labels, sample_weight=w)
    assert (net.predict(X) == y).mean() > 0.9


def test_every_kind_of_bad_weight_is_named_at_once():
    """A negative weight and an empty one: the message named only the first kind, so fixing it led to another
    error."""
    with pytest.raises(DataError) as caught:
        row_weights(pd.Series([1.0, None, -2.0, 3.0]), "w", "data.csv")
    message = str(caught.value)
    assert "is empty (" in message and "row 2" in message and "It also holds a negative weight (-2" in message
