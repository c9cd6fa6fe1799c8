"""The search's machinery: deadlines inside one fit, repeated CV, ensembles on repeated CV, the scheduling order."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace

import numpy as np
import optuna
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from automl.config import LARGE_DATA_ROWS, FitConfig, PreprocessConfig
from automl.data.io import read_table
from automl.data.schema import infer_schema
from automl.ensembles.build import build_ensembles
from automl.errors import ConfigError
from automl.models import registry
from automl.models.deadline import FitTimeout, fit_deadline
from automl.predictor import Predictor
from automl.search.cv import make_folds, plan_repeats, repetitions
from automl.search.evaluate import LOG_TARGET, Context, cross_validate, fit_kwargs, make_pipeline, predict_scores
from automl.search.metrics import get_metric
from automl.search.rounds import round_grid
from automl.search.tuner import Search, _rounds_text
from tests.conftest import make_frame

# Families whose fit checks the deadline after every boosting round or epoch.
STOPPABLE = ["catboost", "keras_mlp", "lightgbm", "xgboost"]


def _setup(task: str, seed: int, n: int = 120):
    frame, info = read_table(make_frame(task, n=n))
    schema, y_labels = infer_schema(frame, FitConfig(target="y"), info)
    X, y = schema.transform(frame), schema.encode_target(y_labels)
    return Context(schema, get_metric(schema.metric), PreprocessConfig(), seed, 1), X, y


@pytest.mark.parametrize("key", STOPPABLE)
def test_a_fit_past_its_deadline_stops(key, seed):
    ctx, X, y = _setup("binary", seed)
    spec = registry.get(key)
    pipeline = make_pipeline(spec, ctx)
    with pytest.raises(FitTimeout), fit_deadline(time.monotonic() - 1):
        pipeline.fit(X, y, **fit_kwargs(spec))
    pipeline.fit(X, y, **fit_kwargs(spec))  # outside a deadline block nothing stops it (the final refit)
    assert pipeline.predict(X).shape == (len(X),)


def test_cross_validation_marks_a_stopped_fit_out_of_budget(seed):
    ctx, X, y = _setup("binary", seed)
    folds = make_folds(y, "binary", 3, seed)
    result = cross_validate(registry.get("lightgbm"), ctx, X, y, folds, deadline=time.monotonic() - 1)
    assert result.status == "out of budget"
    assert "fold 1 of 3 ran past the trial's time limit" in result.reason
    assert result.fold_scores == [] and result.oof is None


def test_an_anytime_family_ends_each_fold_in_time_and_still_finishes(seed):
    """A network's trial with a time limit gives every fold and the refit an equal share: training ends there
    (soft deadline) with the best weights, so the trial completes instead of running out of budget (the hard
    deadline, far away here, would fail it)."""
    ctx, X, y = _setup("binary", seed)
    folds = make_folds(y, "binary", 3, seed)
    spec = registry.get("keras_mlp")
    params = {"epochs": 100_000, "patience": 100_000, "units": 8}  # would train for hours without a limit
    started = time.monotonic()
    result = cross_validate(spec, ctx, X, y, folds, started + 120, params, soft_deadline=started + 9)
    assert result.status == "ok" and len(result.fold_scores) == 3, result.reason
    assert all(1 <= e < 100_000 for e in result.best_epochs)
    assert all(len(h["loss"]) < 100_000 for h in result.histories)


@pytest.mark.parametrize("key", ["extra_trees", "random_forest", "bagging"])
def test_a_forest_stops_growing_at_its_time_and_the_refit_grows_as_many_trees(key, seed):
    """A forest's trial whose time is already up still completes every fold, each with one step of trees
    (a tenth), and its refit on all rows grows that many, not the configured count; with time to spare its trees
    are those of one plain fit, and its parameters are as given."""
    ctx, X, y = _setup("binary", seed)
    folds = make_folds(y, "binary", 3, seed)
    spec = registry.get(key)
    started = time.monotonic()
    short = cross_validate(spec, ctx, X, y, folds, started + 120, soft_deadline=started - 1)
    configured = short.params["n_estimators"]
    assert short.status == "ok" and len(short.fold_scores) == 3, short.reason
    assert short.chosen == {"n_estimators": configured // 10}
    assert short.refit_params()["n_estimators"] == configured // 10
    assert _rounds_text(spec, short) == f" with {configured // 10} of {configured} trees (its time was up)"
    ample = cross_validate(spec, ctx, X, y, folds, started + 120, soft_deadline=started + 120)
    plain = cross_validate(spec, ctx, X, y, folds, float("inf"))
    assert ample.chosen == {} and ample.fold_scores == plain.fold_scores
    model = make_pipeline(spec, ctx)
    with fit_deadline(time.monotonic() + 120, time.monotonic() + 120):
        model.fit(X, y)
    assert model.steps[-1][1].get_params()["n_estimators"] == configured
    assert model.steps[-1][1].get_params()["warm_start"] is False


def test_the_first_of_each_kind_runs_those_that_cannot_stop_then_the_network_then_the_forests(seed):
    """At 30 s the network came after ExtraTrees' defaults and met the end of the search; the forests, which stop
    after any step of trees, now take what is left after it."""
    ctx, X, y = _setup("binary", seed)
    search = Search(registry.select("binary"), ctx, X, y, make_folds(y, "binary", 3, seed),
                    storage=optuna.storages.InMemoryStorage())
    order = [s.spec.key for s in sorted(search.families, key=search._defaults_order)]
    assert order[:4] == ["linear", "lightgbm", "keras_mlp", "extra_trees"]


def overfitting_boosting_trial(task: str, seed: int):
    """A LightGBM trial of 400 fast rounds on 3 folds, which over-fits with more rounds (regression: on a
    log-transformed target); returns ``ctx, X, y, folds, spec, params, result``."""
    ctx, X, y = _setup(task, seed)
    if task == "regression":
        ctx = replace(ctx, log_target=True)
        y = np.exp(y / 3)
    folds = make_folds(y, task, 3, seed)
    spec = registry.get("lightgbm")
    params = {"n_estimators": 400, "learning_rate": 0.3, "min_child_samples": 5,
              **({LOG_TARGET: True} if task == "regression" else {})}
    result = cross_validate(spec, ctx, X, y, folds, deadline=float("inf"), params=params)
    return ctx, X, y, folds, spec, params, result


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_the_folds_choose_a_boosting_models_round_count(task, seed):
    """A model that over-fits with more rounds is scored at the round count best on the mean over the folds:
    its fold scores and out-of-fold predictions are those of a model trained for that many rounds, and the
    refit uses it. With a log-transformed target the fewer-rounds predictions are transformed back too."""
    ctx, X, y, folds, spec, params, result = overfitting_boosting_trial(task, seed)
    assert result.status == "ok", result.reason
    chosen = result.chosen["n_estimators"]
    assert chosen in round_grid(400) and chosen < 400
    assert result.params["n_estimators"] == 400 and result.refit_params()["n_estimators"] == chosen
    n_classes, all_rounds = len(ctx.schema.classes or []), []
    for (train, valid), score in zip(folds, result.fold_scores, strict=True):
        assert score == pytest.approx(ctx.metric(y[valid], result.oof[valid], task))
        short = make_pipeline(spec, ctx, {**params, "n_estimators": chosen}).fit(X.iloc[train], y[train])
        np.testing.assert_allclose(predict_scores(short, X.iloc[valid], task, n_classes), result.oof[valid],
                                   rtol=1e-5, atol=1e-7)
        full = make_pipeline(spec, ctx, params).fit(X.iloc[train], y[train])
        all_rounds.append(ctx.metric(y[valid], predict_scores(full, X.iloc[valid], task, n_classes), task))
    assert ctx.metric.better(result.mean, float(np.mean(all_rounds)))


def test_repeated_folds_validate_every_row_once_per_repetition(seed):
    y = np.array([0] * 60 + [1] * 40)
    folds = make_folds(y, "binary", 5, seed, repeats=3)
    assert len(folds) == 15
    assert repetitions(folds, len(y)) == [0] * 5 + [1] * 5 + [2] * 5
    for r in range(3):
        rows = np.concatenate([v for _, v in folds[5 * r: 5 * r + 5]])
        assert sorted(rows.tolist()) == list(range(100))
    assert any((a[1] != b[1]).any() for a, b in zip(folds[:5], folds[5:10], strict=True))  # a new shuffle
    assert repetitions(make_folds(y, "binary", 5, seed), len(y)) == [0] * 5
    assert plan_repeats(500, None) == 2 and plan_repeats(5000, None) == 1 and plan_repeats(500, 1) == 1
    assert plan_repeats(500, None, time_limit=120) == 2 and plan_repeats(500, None, time_limit=60) == 1
    assert plan_repeats(500, 3, time_limit=60) == 3


def test_repeated_cv_scores_models_and_ensembles_on_the_same_folds(seed):
    ctx, X, y = _setup("multiclass", seed)
    folds = make_folds(y, "multiclass", 3, seed, repeats=2)
    bases = [cross_validate(registry.get(k), ctx, X, y, folds, deadline=float("inf")) for k in ("linear", "lightgbm")]
    for b in bases:
        assert b.status == "ok" and len(b.fold_scores) == 6
        assert b.oof_by_repeat.shape == (2, len(y), 3)
        np.testing.assert_allclose(b.oof, b.oof_by_repeat.mean(axis=0))
    ensembles = build_ensembles(bases, y, folds, ctx)
    assert [e.key for e in ensembles] == ["greedy_ensemble", "stacking"]
    for e in ensembles:
        assert e.status == "ok" and len(e.fold_scores) == 6 and e.oof.shape == (len(y), 3)


def test_defaults_run_the_cheapest_family_of_each_kind_first(seed):
    ctx, X, y = _setup("binary", seed)
    specs = registry.select("binary")
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    order = [s.spec for s in sorted(search.families, key=search._defaults_order)]
    first_kinds = [s.kind for s in order[: len({s.kind for s in specs})]]
    assert sorted(first_kinds) == sorted({s.kind for s in specs})  # one of each kind before any second one
    assert order[0].key == "linear" and "keras_mlp" in [s.key for s in order[:4]]


def test_after_the_defaults_the_leading_family_gets_more_of_the_time(seed):
    """The next trial goes to the family with the least time spent weighted by its rank (time x rank)."""
    from automl.results.records import TrialResult

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("linear", "lightgbm", "xgboost")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    for state, score, seconds in zip(search.families, (0.70, 0.90, 0.80), (1.0, 2.5, 1.5), strict=True):
        state.trials.append(TrialResult(state.spec.key, state.spec.name, state.spec.kind, {},
                                        fold_scores=[score] * 3, fit_time=seconds))
        state.seconds, state.fold_seconds = seconds, 0.01
        state.portfolio_done = len(state.portfolio)  # their known-good configurations are spent
    deadline = time.monotonic() + 100
    assert search._ranks() == {"lightgbm": 1, "xgboost": 2, "linear": 3}
    # lightgbm: 2.5 x 1 < xgboost 1.5 x 2 < linear 1.0 x 3, although lightgbm has spent the most time
    assert search._next_family(deadline, None).spec.key == "lightgbm"
    search.families[1].seconds = 3.5  # 3.5 > 1.5 x 2 = 3.0: now the runner-up
    assert search._next_family(deadline, None).spec.key == "xgboost"


def test_portfolio_configurations_follow_the_defaults_of_the_leading_families(seed):
    """After the cheapest family of each kind, the other defaults alternate with the portfolio configurations
    of the best-ranked families; one that would take more than half of the time left is skipped."""
    from automl.results.records import TrialResult

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("linear", "lightgbm", "xgboost", "hist_gb")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    lightgbm = search.families[1]
    assert lightgbm.portfolio[0][1]["n_estimators"] == 1000 and len(lightgbm.portfolio) == 2
    assert search.families[0].portfolio == []  # the linear model has none: the sampler tunes it
    for state, score in zip(search.families[:2], (0.70, 0.90), strict=True):  # linear and lightgbm ran
        state.trials.append(TrialResult(state.spec.key, state.spec.name, state.spec.kind, {},
                                        fold_scores=[score] * 3, fit_time=0.3))
        state.seconds, state.fold_seconds = 0.3, 0.1
    deadline = time.monotonic() + 100
    picked = []
    for _ in range(4):
        state = search._next_family(deadline, None)
        known = search._take_portfolio(state, deadline)
        picked.append((state.spec.key, known["n_estimators"] if known else "defaults"))
        if known is None:  # its defaults "ran"
            state.trials.append(TrialResult(state.spec.key, state.spec.name, state.spec.kind, {},
                                            fold_scores=[0.8] * 3, fit_time=0.3))
    # xgboost's defaults (the cheaper of the two left), then lightgbm's first configuration (it leads),
    # then hist_gb's defaults, then lightgbm's second
    assert picked == [("xgboost", "defaults"), ("lightgbm", 1000), ("hist_gb", "defaults"), ("lightgbm", 300)]
    xgboost = search.families[2]
    xgboost.trials[0].fit_time = 30.0  # 10 s per fold: its first configuration needs 10 x 3.0 x 4.5 = 135 s
    assert search._affordable_portfolio(xgboost, 200.0)  # 135 s > half of 200 s: skipped; 67.5 s for the second
    assert xgboost.portfolio_done == 1 and xgboost.portfolio_left
    assert not search._affordable_portfolio(xgboost, 100.0)  # 67.5 s > 50 s: skipped too, none left
    assert not xgboost.portfolio_left


def test_the_sides_schedule_gives_neural_nets_and_tree_ensembles_equal_time(seed):
    from automl.results.records import TrialResult

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("keras_mlp", "lightgbm", "xgboost")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage(),
                    schedule="sides")
    for state, score, seconds in zip(search.families, (0.70, 0.90, 0.80), (2.0, 1.0, 1.5), strict=True):
        state.trials.append(TrialResult(state.spec.key, state.spec.name, state.spec.kind, {},
                                        fold_scores=[score] * 3, fit_time=seconds))
        state.seconds, state.fold_seconds = seconds, 0.01
    deadline = time.monotonic() + 100
    # trees have spent 2.5 s, the neural net 2.0 s: the neural net goes next although it ranks last
    assert search._next_family(deadline, None).spec.key == "keras_mlp"
    search.families[0].seconds = 3.0  # now the tree side is behind: its leading family goes next
    assert search._next_family(deadline, None).spec.key == "lightgbm"
    with pytest.raises(ValueError, match="Unknown schedule"):
        Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage(),
               schedule="fair")


def test_the_sides_schedule_also_evens_out_the_trial_counts(seed):
    from automl.results.records import TrialResult

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("keras_mlp", "lightgbm", "xgboost")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage(),
                    schedule="sides")
    for state, trials, seconds in zip(search.families, (1, 10, 10), (6.0, 2.0, 2.0), strict=True):
        state.trials = [TrialResult(state.spec.key, state.spec.name, state.spec.kind, {}, fold_scores=[0.8] * 3,
                                    fit_time=seconds / trials, trial=i) for i in range(trials)]
        state.seconds, state.fold_seconds = seconds, 0.01
    search.families[2].trials.append(TrialResult("xgboost", "XGBoost", "boosting", {}, status="out of budget"))
    deadline = time.monotonic() + 100
    # 1 trial (6 s) against 20 trials (4 s): the neural net goes next although it has had more time
    assert search._next_family(deadline, None).spec.key == "keras_mlp"
    search.families[0].seconds = 8.5  # over twice the trees' time: the side with less time goes again
    assert search._next_family(deadline, None).spec.key != "keras_mlp"
    search.families[0].seconds = 8.0  # exactly twice: still the side with fewer trials
    assert search._next_family(deadline, None).spec.key == "keras_mlp"


def test_the_default_schedule_gives_the_neural_nets_their_share_in_several_trials(seed, monkeypatch):
    """Issue 13: in the default (rank) schedule the networks get NEURAL_SHARE of the search time, split into at
    least 4 trials at a 60 s budget (2 on large data; 10 at 300 s), whatever their rank."""
    from automl.results.records import TrialResult
    from automl.search import tuner
    from automl.search.tuner import NEURAL_DEFAULTS_SHARE, NEURAL_SHARE

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("keras_mlp", "lightgbm", "xgboost")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    for state, score in zip(search.families, (0.70, 0.90, 0.80), strict=True):  # the network ranks last
        state.trials.append(TrialResult(state.spec.key, state.spec.name, state.spec.kind, {},
                                        fold_scores=[score] * 3, fit_time=1.0, trial=0))
        state.seconds, state.fold_seconds = 1.0, 0.01
    now = time.monotonic()
    search._started, search._search_seconds = now - 30.0, 48.0
    assert search._neural_trials_target() == 4
    # 1 s of the 30 s elapsed is under a third: the network goes next although it ranks last
    assert search._next_family(now + 18.0, None).spec.key == "keras_mlp"
    # what is left of its 16 s, over the 3 trials still planned; its defaults had two fifths of the share
    assert search._neural_cap(18.0) == pytest.approx((NEURAL_SHARE * 48.0 - 1.0) / 3)
    keras_trials, search.families[0].trials = search.families[0].trials, []
    assert search._neural_cap(18.0) == pytest.approx((NEURAL_SHARE * 48.0 - 1.0) * 2 / 5)
    search.families[0].trials = keras_trials
    search.families[0].seconds = 11.0  # over a third of the time so far: the trees' turn
    assert search._next_family(now + 18.0, None).spec.key == "lightgbm"
    search.families[0].seconds = 17.0  # its share spent: an equal share of what is left
    assert search._neural_cap(18.0) == pytest.approx(6.0)
    search._search_seconds = 225.0  # a 300 s budget's search (its last fifth is for the ensembles and the refit)
    assert search._neural_trials_target() == 10
    seconds, search.families[0].trials = search.families[0].seconds, []
    search.families[0].seconds = 0.0  # the defaults: a fifth of the 75 s share (two of 11 trials would be less)
    assert search._neural_cap(200.0) == pytest.approx(NEURAL_SHARE * 225.0 * NEURAL_DEFAULTS_SHARE)
    search.families[0].trials, search.families[0].seconds = keras_trials, seconds
    even = (NEURAL_SHARE * 225.0 - 17.0) / 9
    assert search._neural_cap(200.0) == pytest.approx(even)
    search._neural_overruns = [0.5, 1.5]  # the later trials ran 1 s past their time on average: 1 s less
    assert search._neural_cap(200.0) == pytest.approx(even - 1.0)
    search._neural_overruns = [60.0]  # never under half
    assert search._neural_cap(200.0) == pytest.approx(even / 2)
    alone = Search(specs[:1], ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    assert alone._neural_share() == 1.0 and search._neural_share() == NEURAL_SHARE
    # large data: at 60 s two trials, the defaults two thirds of the share; at 300 s still 10
    monkeypatch.setattr(tuner, "LARGE_DATA_ROWS", len(X) - 1)
    search._search_seconds = 48.0
    assert search.large and search._neural_trials_target() == 2
    assert search._neural_defaults_fraction() == pytest.approx(2 / 3)
    search._search_seconds = 225.0
    assert search._neural_trials_target() == 10


def test_the_networks_defaults_overrun_shortens_its_next_trial(seed, monkeypatch):
    """The defaults' overrun of their time counts like a later trial's: the first later trial's time is shortened
    by it (caravan at 60 s: the defaults took 9.1 s of 6 s, the next trial 7.0 s of 4.5 s, and the network got 3
    trials instead of 4)."""
    import automl.search.tuner as tuner
    from automl.results.records import TrialResult

    windows = []

    def fake_cv(spec, ctx, X, y, folds, deadline, params, soft_deadline=None, **kwargs):
        window = soft_deadline - time.monotonic()
        windows.append(window)
        return TrialResult(spec.key, spec.name, spec.kind, {**spec.defaults_for(ctx.schema.task), **params},
                           fold_scores=[0.8] * len(folds), fit_time=window + 3.0)  # 3 s past its time

    monkeypatch.setattr(tuner, "cross_validate", fake_cv)
    ctx, X, y = _setup("binary", seed)
    search = Search([registry.get("keras_mlp")], ctx, X, y, make_folds(y, "binary", 3, seed),
                    storage=optuna.storages.InMemoryStorage())
    now = time.monotonic()
    search._started, search._search_seconds, deadline = now, 48.0, now + 48.0
    state = search.families[0]
    search._run_trial(state, deadline)  # the defaults
    assert search._neural_overruns == [pytest.approx(3.0, abs=0.05)]
    even = (48.0 - state.seconds) / (search._neural_trials_target() - 1)
    assert search._neural_cap(deadline - time.monotonic()) == pytest.approx(even - 3.0, abs=0.05)
    search._run_trial(state, deadline)  # the first later trial: its time is 3 s shorter than the even split
    assert windows[1] == pytest.approx(even - 3.0, abs=0.1)
    assert search._neural_overruns == [pytest.approx(3.0, abs=0.05)] * 2


def test_the_neural_share_grows_when_the_networks_defaults_are_slow(seed, caplog):
    """The share rises to what the defaults plus 3 trials at half their time need, at most NEURAL_SHARE_MAX
    (a 60 s run: defaults of 8-13 s left room for one more trial in a third of 47 s)."""
    from automl.results.records import TrialResult
    from automl.search.tuner import LATER_TRIAL_COST, NEURAL_SHARE, NEURAL_SHARE_MAX, NEURAL_TRIALS

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("keras_mlp", "lightgbm")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    search._started, search._search_seconds = time.monotonic(), 48.0
    assert search._neural_share() == NEURAL_SHARE  # before the defaults ran
    network = search.families[0]
    network.trials.append(TrialResult("keras_mlp", "Keras MLP", "neural net", {}, fold_scores=[0.7] * 3,
                                      fit_time=8.0, trial=0))
    needed = 8.0 * (1 + LATER_TRIAL_COST * (NEURAL_TRIALS[0] - 1))
    assert NEURAL_SHARE * 48.0 < needed < NEURAL_SHARE_MAX * 48.0
    assert search._neural_share() == pytest.approx(needed / 48.0)
    network.trials[0].fit_time = 2.0  # cheap defaults: the usual share
    assert search._neural_share() == NEURAL_SHARE
    alone = Search(specs[:1], ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    alone._search_seconds = 48.0
    alone.families[0].trials = list(network.trials)
    network.trials[0].fit_time = 8.0
    with caplog.at_level(logging.INFO, logger="automl.search.tuner"):
        search._log(network, network.trials[0])
        alone._log(alone.families[0], network.trials[0])  # alone it has all the time: no "rise" is logged
    assert caplog.text.count("their share rises to") == 1
    network.trials[0].fit_time = 20.0  # never more than half
    assert search._neural_share() == NEURAL_SHARE_MAX
    search.schedule = "sides"
    assert search._neural_share() == 0.5


def test_a_networks_defaults_are_skipped_when_not_even_their_set_up_fits(seed):
    """A network's first trial ends its training at its time, but building the network and the first epochs
    take seconds: with under MIN_ANYTIME_SECONDS of search left it is skipped (letter at 60 s: LightGBM's
    defaults took 41 of the 48 s, and a network started with 2 s left overran the budget by 8 s)."""
    from automl.search.tuner import MIN_ANYTIME_SECONDS

    ctx, X, y = _setup("binary", seed)
    search = Search([registry.get("keras_mlp")], ctx, X, y, make_folds(y, "binary", 3, seed),
                    storage=optuna.storages.InMemoryStorage())
    search._started, search._search_seconds = time.monotonic(), 48.0
    assert search._next_family(time.monotonic() + MIN_ANYTIME_SECONDS - 1, None) is None
    skipped = search.families[0].trials[-1]
    assert search.trials_done == 0 and search.summary().startswith("Search: 0 trials")  # a placeholder is no trial
    # seconds to a tenth below 10 s ("needs about 2 s, 2 s left" read as a contradiction)
    assert skipped.status == "out of budget" and re.fullmatch(r"needs at least 3\.0 s, [12]\.\d s left", skipped.reason)
    from automl.errors import format_seconds, left_seconds

    assert [format_seconds(x) for x in (12.4, 1.64, 0.042, -2)] == ["12 s", "1.6 s", "0.04 s", "0 s"]
    assert left_seconds(-2.0) == "no time left" and left_seconds(2.46) == "2.5 s left"
    fresh = Search([registry.get("keras_mlp")], ctx, X, y, make_folds(y, "binary", 3, seed),
                   storage=optuna.storages.InMemoryStorage())
    assert fresh._next_family(time.monotonic() + MIN_ANYTIME_SECONDS + 5, None).spec.key == "keras_mlp"


def test_predictor_offers_the_members_of_its_ensemble():
    predictor = Predictor(schema=None, pipeline="ensemble", model_key="stacking", automl_version="0",
                          members={"lightgbm": "lgbm", "linear": "lin"})
    assert predictor.models == ["stacking", "lightgbm", "linear"]
    assert predictor.pipeline_for(None) == "ensemble" and predictor.pipeline_for("linear") == "lin"
    with pytest.raises(ConfigError, match=r"'keras_mlp' was not refitted.*available: stacking, lightgbm, linear"):
        predictor.pipeline_for("keras_mlp")
    # an ensemble on the leaderboard that was not chosen (it said "no model family's key either")
    with pytest.raises(ConfigError, match=r"'greedy_ensemble' is an ensemble: only the chosen model and its members"):
        predictor.pipeline_for("greedy_ensemble")


@pytest.mark.parametrize("n", [LARGE_DATA_ROWS, LARGE_DATA_ROWS + 1])
def test_on_large_data_the_network_starts_from_its_large_data_defaults(n, seed, caplog):
    """Above LARGE_DATA_ROWS rows the network's defaults (and the portfolio's starting point) take its ``large``
    changes; an entry's own changes still win (the classic MLP keeps its rate); the plan says so."""
    ctx, X, y = _setup("binary", seed, n=n)
    spec = registry.get("keras_mlp")
    with caplog.at_level(logging.INFO, logger="automl"):
        search = Search([spec, registry.get("linear")], ctx, X, y, make_folds(y, "binary", 3, seed),
                        storage=optuna.storages.InMemoryStorage())
        search._log_plan(time.monotonic() + 60, None)
    network = search.families[0]
    queued = network.study.get_trials(deepcopy=False)[0].system_attrs["fixed_params"]
    large = n > LARGE_DATA_ROWS
    assert search.large is large
    expected = {**spec.defaults_for("binary"), **(spec.large if large else {})}
    assert (queued["members"], queued["learning_rate"]) == (expected["members"], expected["learning_rate"])
    assert (queued["members"], queued["learning_rate"]) == ((1, 6e-3) if large else (4, 2e-3))
    entries = [params for _, params in network.portfolio]
    assert entries[0]["learning_rate"] == 1e-3 and entries[0]["preprocessing"] == "dense"  # the classic MLP
    assert entries[2]["members"] == (1 if large else 4) and entries[-1]["members"] == 8
    assert ("Large table" in caplog.text) is large
    assert search.families[1].portfolio == []  # the linear model has no large-data changes


def test_on_large_data_the_neural_share_does_not_rise(seed, caplog):
    """Above LARGE_DATA_ROWS the share stays NEURAL_SHARE however slow the network's defaults were (the rise is
    for the minimum of trials on smaller tables; on diamonds it took a trial from the leading trees)."""
    from automl.results.records import TrialResult
    from automl.search.tuner import NEURAL_SHARE

    ctx, X, y = _setup("binary", seed, n=LARGE_DATA_ROWS + 1)
    specs = [registry.get(k) for k in ("keras_mlp", "lightgbm")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    search._started, search._search_seconds = time.monotonic(), 48.0
    network = search.families[0]
    network.trials.append(TrialResult("keras_mlp", "Keras MLP", "neural net", {}, fold_scores=[0.7] * 3,
                                      fit_time=20.0, trial=0))
    assert search._neural_share() == NEURAL_SHARE
    with caplog.at_level(logging.INFO, logger="automl.search.tuner"):
        search._log(network, network.trials[0])
        search._log_plan(time.monotonic() + 48.0, None)
    assert "their share rises to" not in caplog.text and "if their defaults take so long" not in caplog.text
    search.schedule = "sides"
    assert search._neural_share() == 0.5


def test_the_plan_line_says_when_the_budget_is_too_short_for_the_planned_network_trials(seed, caplog):
    """The plan's network trials are a split of its share, not a promise: at a budget where a later trial's
    slice is under the seconds a network trial needs to start, the line says they will get fewer (a 12 s run
    on the example planned "at least 4 trials" and the network finished none)."""
    ctx, X, y = _setup("binary", seed)
    search = Search([registry.get("keras_mlp"), registry.get("linear")], ctx, X, y,
                    make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    lines = {}
    for seconds in (9.0, 48.0):
        search._search_seconds = seconds
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="automl.search.tuner"):
            search._log_plan(time.monotonic() + seconds, None)
        lines[seconds] = caplog.text
    assert "planned as 4 trials" in lines[9.0] and "a budget this short gives them fewer" in lines[9.0]
    assert "planned as 4 trials" in lines[48.0] and "gives them fewer" not in lines[48.0]
    trees = Search([registry.get("linear"), registry.get("lightgbm")], ctx, X, y, make_folds(y, "binary", 3, seed),
                   storage=optuna.storages.InMemoryStorage())
    trees._search_seconds = 48.0
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="automl.search.tuner"):
        trees._log_plan(time.monotonic() + 48.0, None)
    # a sentence of its own without a network (". the others: ..."), and no "others" with nothing before them
    assert "in this order: linear, lightgbm. After them, the family with the least time" in caplog.text
    for seconds, said in ((-2.0, "no search time is left: the budget was all spent"),  # "Plan: -2 s of search"
                          (0.6, "only 0.6 s of search is left, for the first defaults in this order: linear, "
                                "keras_mlp: the budget was nearly all spent")):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="automl.search.tuner"):
            search._log_plan(time.monotonic() + seconds, None)
        assert f"Plan: {said} before the search started" in caplog.text
        assert "-2 s" not in caplog.text and "Neural nets:" not in caplog.text


def test_the_classic_mlp_trains_with_its_own_patience_and_epochs(seed, monkeypatch):
    """The portfolio's classic MLP sets patience 10 and 200 epochs, which the search space does not search: its
    trial gets them from the enqueued configuration (Optuna hands back only suggested values; before, it ran with
    the defaults' 30 and 100, and the report's classic-MLP sentence never matched it)."""
    import automl.search.tuner as tuner
    from automl.models.keras_mlp import CLASSIC
    from automl.results.records import TrialResult

    seen = []

    def fake_cv(spec, ctx, X, y, folds, deadline, params, **kwargs):
        seen.append(dict(params))
        return TrialResult(spec.key, spec.name, spec.kind, {**spec.defaults_for(ctx.schema.task), **params},
                           fold_scores=[0.8 - 0.01 * len(seen)] * len(folds), fit_time=0.1)

    monkeypatch.setattr(tuner, "cross_validate", fake_cv)
    ctx, X, y = _setup("binary", seed)
    search = Search([registry.get("keras_mlp")], ctx, X, y, make_folds(y, "binary", 3, seed),
                    storage=optuna.storages.InMemoryStorage())
    search.run(n_trials=3)
    assert seen[0]["patience"] == 30 and seen[0]["members"] == 4  # the defaults
    assert {k: seen[1][k] for k in CLASSIC} == CLASSIC  # every value of the classic MLP, patience 10 included
    assert seen[2]["learning_rate"] == 1e-3 and seen[2]["weight_decay"] == 1e-2  # the next portfolio entry


def test_the_progress_summary_counts_trials_in_words(seed):
    """The summary line: "1 trial", "2 trials", the pruned ones, and each family's best, leader first."""
    from automl.results.records import TrialResult

    ctx, X, y = _setup("binary", seed)
    specs = [registry.get(k) for k in ("lightgbm", "xgboost")]
    search = Search(specs, ctx, X, y, make_folds(y, "binary", 3, seed), storage=optuna.storages.InMemoryStorage())
    lgb, xgb = search.families
    lgb.trials.append(TrialResult("lightgbm", "LightGBM", "boosting", {}, fold_scores=[0.8] * 3, trial=0))
    assert search.summary().startswith("Search: 1 trial in ")
    xgb.trials.append(TrialResult("xgboost", "XGBoost", "boosting", {}, fold_scores=[0.9] * 3, trial=0))
    xgb.trials.append(TrialResult("xgboost", "XGBoost", "boosting", {}, status="pruned", fold_scores=[0.5], trial=1))
    line = search.summary()
    assert line.startswith("Search: 3 trials in ") and "(1 pruned)" in line
    assert line.endswith("best roc_auc: XGBoost 0.9000, LightGBM 0.8000.")


class _WarningRegressor(RegressorMixin, BaseEstimator):
    """A regressor that warns on every fit, as scikit-learn's lasso does when it does not converge."""

    def fit(self, X, y, **kwargs):
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        warnings.warn("Objective did not converge.", ConvergenceWarning, stacklevel=2)
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_a_models_warnings_go_to_the_log_not_the_screen(seed, caplog, recwarn):
    """A library's warning inside a fold's fit (a lasso trial that did not converge printed scikit-learn's
    ConvergenceWarning between the progress lines) is logged once at DEBUG with the model and fold."""
    ctx, X, y = _setup("regression", seed)
    spec = replace(registry.get("linear"), build=lambda task, params, seed, n_jobs: _WarningRegressor())
    with caplog.at_level(logging.DEBUG, logger="automl.search.evaluate"):
        result = cross_validate(spec, ctx, X, y, make_folds(y, "regression", 3, seed), deadline=float("inf"))
    assert result.status == "ok" and len(result.fold_scores) == 3
    assert not [w for w in recwarn if "converge" in str(w.message)]
    logged = [r.getMessage() for r in caplog.records if "ConvergenceWarning" in r.getMessage()]
    assert logged and logged[0].startswith("Linear (logistic / ridge) fold 1: ConvergenceWarning: Objective")


def test_logged_warnings_keep_the_filters_and_let_exceptions_through(caplog):
    import warnings

    from automl.models.fit_warnings import logged

    log = logging.getLogger("automl.test")
    with caplog.at_level(logging.DEBUG, logger="automl.test"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ignored here")
        with pytest.raises(KeyError), logged(log, "m"):
            for _ in range(3):
                warnings.warn("twice the same", UserWarning, stacklevel=1)
            warnings.warn("ignored here", UserWarning, stacklevel=1)
            raise KeyError("x")
    assert [r.getMessage() for r in caplog.records] == ["m: UserWarning: twice the same"]


def test_logged_warnings_leave_other_threads_warnings_alone(caplog, recwarn):
    """catch_warnings swaps process-wide state: outside the main thread the block does not touch it."""
    import threading
    import warnings

    from automl.models.fit_warnings import logged

    def fit_in_a_thread():
        with logged(logging.getLogger("automl.test"), "m"):
            warnings.warn("from a thread", UserWarning, stacklevel=1)

    with caplog.at_level(logging.DEBUG, logger="automl.test"):
        worker = threading.Thread(target=fit_in_a_thread)
        worker.start()
        worker.join()
    assert not caplog.records and [str(w.message) for w in recwarn] == ["from a thread"]
