"""k-fold bagging: a trial's fold models, delivered instead of a refit (automl.search.bagged)."""

from __future__ import annotations

import json
import logging
import pickle
import time
from dataclasses import replace

import numpy as np
import pytest

from automl import AutoML
from automl.config import FitConfig
from automl.fit.finishing import choose
from automl.models import registry, side_by_side
from automl.models.base import FOLD_MODELS, ModelSpec
from automl.results.records import LeaderboardRow
from automl.search.bagged import FoldBag
from automl.search.cv import make_folds
from automl.search.evaluate import cross_validate, predict_scores
from automl.search.metrics import get_metric
from tests.conftest import make_frame
from tests.test_search import _setup, overfitting_boosting_trial


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_fold_models_predict_as_they_were_scored(task, seed):
    """Each kept fold model predicts its validation rows exactly as the trial scored them (a boosting model at
    the round count the folds chose, a log-target model transformed back), and the bag predicts their mean."""
    ctx, X, _, folds, _, _, result = overfitting_boosting_trial(task, seed)
    assert result.status == "ok", result.reason
    bag, n_classes = result.fold_models, len(ctx.schema.classes or [])
    assert isinstance(bag, FoldBag) and len(bag) == 3 and bag.rounds == result.chosen["n_estimators"] < 400
    singles = []
    for pipeline, (_, valid) in zip(bag.pipelines, folds, strict=True):
        one = FoldBag("lightgbm", [pipeline], task, n_classes, bag.rounds)
        np.testing.assert_allclose(one.predict_proba(X.iloc[valid]), result.oof[valid], rtol=1e-5, atol=1e-7)
        singles.append(one.predict_proba(X))
    np.testing.assert_allclose(bag.predict_proba(X), np.mean(singles, axis=0))
    again = pickle.loads(pickle.dumps(bag))
    np.testing.assert_allclose(predict_scores(again, X, task, n_classes), bag.predict_proba(X))
    if task == "multiclass":
        assert list(bag.classes_) == list(range(n_classes))
        np.testing.assert_array_equal(bag.predict(X), bag.predict_proba(X).argmax(axis=1))


def test_fold_models_predicting_side_by_side_give_the_same_mean(monkeypatch, seed):
    """One thread per core (each with one BLAS / OpenMP thread) changes nothing: the bag's mean is the one of
    its fold models predicting one after another."""
    _, X, _, _, _, _, result = overfitting_boosting_trial("multiclass", seed)
    bag = result.fold_models
    monkeypatch.setattr(side_by_side, "cores", lambda: 1)
    alone = bag.predict_proba(X)
    monkeypatch.setattr(side_by_side, "cores", lambda: 2)
    np.testing.assert_array_equal(bag.predict_proba(X), alone)
    singles = [FoldBag(bag.key, [p], bag.task, bag.n_classes, bag.rounds).predict_proba(X) for p in bag.pipelines]
    np.testing.assert_array_equal(alone, np.mean(singles, axis=0))


def test_fold_bags_predicting_from_several_threads_leave_the_thread_limits_as_they_were(monkeypatch, seed):
    """The one-thread limit of a side-by-side prediction is process-wide: of callers in several threads (a web
    service) one at a time sets and restores it (the others predict one fold after another meanwhile), so the
    limits it restores are the ones it found."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    _, X, _, _, _, _, result = overfitting_boosting_trial("multiclass", seed)
    bag = result.fold_models
    monkeypatch.setattr(side_by_side, "cores", lambda: 2)
    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info()]
    expected = bag.predict_proba(X)
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda _: bag.predict_proba(X), range(8)))
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info()] == before
    for out in outputs:
        np.testing.assert_array_equal(out, expected)


def test_only_finished_trials_of_families_that_keep_them_hold_fold_models(seed):
    ctx, X, y = _setup("binary", seed)
    folds = make_folds(y, "binary", 3, seed)
    kept = cross_validate(registry.get("linear"), ctx, X, y, folds, deadline=float("inf"))
    dropped = cross_validate(registry.get("random_forest"), ctx, X, y, folds, deadline=float("inf"),
                             params={"n_estimators": 10})
    stopped = cross_validate(registry.get("linear"), ctx, X, y, folds, deadline=time.monotonic() - 1)
    assert kept.status == dropped.status == "ok" and stopped.status == "out of budget"
    assert len(kept.fold_models) == 3 and dropped.fold_models is None and stopped.fold_models is None


def test_every_family_says_what_becomes_of_its_fold_models():
    specs = dict(registry.REGISTRY)
    assert all(s.fold_models in FOLD_MODELS for s in specs.values())
    assert specs["keras_mlp"].fold_models == "deliver"
    assert {k for k, s in specs.items() if s.fold_models == "drop"} == {"random_forest", "extra_trees", "bagging"}
    with pytest.raises(ValueError, match="fold_models must be one of deliver, fallback, drop; got 'sometimes'"):
        ModelSpec("x", "X", "linear", "dense", 1.0, build=lambda *a: None, fold_models="sometimes")


def _result(key: str, mean: float, fit_time: float, bag: bool = True, members: tuple[str, ...] = ()) -> LeaderboardRow:
    spec = registry.get(key) if not members else None
    result = LeaderboardRow(key, spec.name if spec else key, spec.kind if spec else "ensemble", {},
                         fold_scores=[mean] * 3, fit_time=fit_time, members=list(members))
    if bag and not members:
        result.fold_models = FoldBag(key, ["fitted"], "binary", 2)
    return result


@pytest.mark.parametrize("seconds_left, expected", [
    (1000.0, ("lightgbm", set())),  # the refit fits: refitted on all rows
    (10.0, ("lightgbm", {"lightgbm"})),  # it does not: its fold models are delivered, not a worse model
])
def test_the_choice_delivers_fold_models_when_a_refit_does_not_fit(seconds_left, expected):
    lightgbm, forest = _result("lightgbm", 0.90, fit_time=60.0), _result("random_forest", 0.80, 3.0, bag=False)
    config = FitConfig(target="y", time_limit=100.0)
    deadline = time.monotonic() + seconds_left - 10.0  # less the 10 % tolerance (the refit needs 60 / 3 x 1.5 s)
    chosen, bagged = choose([forest, lightgbm], {"lightgbm": lightgbm, "random_forest": forest},
                             get_metric("roc_auc"), deadline, 3, config)
    assert (chosen.key, bagged) == expected


def test_the_choice_bags_a_network_and_refits_the_rest_of_an_ensemble(caplog):
    network, forest = _result("keras_mlp", 0.85, fit_time=600.0), _result("random_forest", 0.80, 3.0, bag=False)
    stacking = _result("stacking", 0.90, 603.0, members=("keras_mlp", "random_forest"))
    families = {"keras_mlp": network, "random_forest": forest}
    config = FitConfig(target="y", time_limit=100.0)
    metric = get_metric("roc_auc")
    chosen, bagged = choose([forest, network, stacking], families, metric, time.monotonic() + 50, 3, config)
    assert (chosen.key, bagged) == ("stacking", {"keras_mlp"})  # the network needs no refit: 600 s are not needed
    chosen, bagged = choose([forest, network, stacking], families, metric, None, 3, config, growth=2.0)
    assert (chosen.key, bagged) == ("stacking", set())  # searched on a sample: refitted on all rows
    # the forest's refit does not fit and it kept no fold models: the next best, the network alone
    slow = replace(forest, fit_time=3000.0)
    with caplog.at_level(logging.INFO, logger="automl.fit.finishing"):
        chosen, bagged = choose([slow, network, stacking], {**families, "random_forest": slow}, metric,
                                 time.monotonic() + 50, 3, config)
    assert (chosen.key, bagged) == ("keras_mlp", {"keras_mlp"})
    # the log says what happens next (it stopped at "...; 1 s are left.")
    assert "(RandomForest kept no fold models to deliver instead): the next best is tried." in caplog.text
    # and the leaderboard's row says why its better score is not the model delivered
    assert stacking.reason.startswith("not delivered: refitting on all rows would need about")


def test_a_network_is_delivered_as_its_fold_models(tmp_path):
    """End to end: the network's k fold models are the saved model (the log, run.json and the report say so),
    and the predictions are the mean of theirs, before and after loading the run folder."""
    frame = make_frame("binary", n=150)
    model = AutoML(target="y", trials=1, folds=3, repeats=1, models=("keras_mlp",), seed=0,
                   output=str(tmp_path / "run")).fit(frame)
    bag = model.predictor_.pipeline_for(None)
    assert isinstance(bag, FoldBag) and len(bag) == 3
    rows = frame.drop(columns="y").head(20)
    X = model.predictor_.schema.transform(rows)
    expected = np.mean([p.predict_proba(X) for p in bag.pipelines], axis=0)
    proba = model.predict_proba(rows)
    classes = list(model.predictor_.classes)  # in class-code order, as the bag's columns
    np.testing.assert_allclose(proba[classes].to_numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(AutoML.load(tmp_path / "run").predict_proba(rows).to_numpy(), proba.to_numpy())
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["models_bagged"] == ["keras_mlp"]
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Delivered as fold models" in html and "Not refitted: keras_mlp" in html
