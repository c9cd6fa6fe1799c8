"""One conformance test over the model registry: every family builds, clones, fits and predicts each task."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from sklearn.base import clone

from automl.config import FitConfig, PreprocessConfig
from automl.data.io import read_table
from automl.data.schema import infer_schema
from automl.errors import ConfigError
from automl.models import registry
from automl.models.base import KINDS
from automl.search.evaluate import Context, make_pipeline, predict_scores
from automl.search.metrics import get_metric
from tests.conftest import make_frame


@pytest.mark.parametrize("key", sorted(registry.REGISTRY))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_family_fits_and_predicts_through_its_pipeline(key, task, seed):
    spec = registry.get(key)
    assert spec.kind in KINDS and spec.cost > 0 and task in spec.tasks
    frame, info = read_table(make_frame(task))
    schema, y_labels = infer_schema(frame, FitConfig(target="y"), info)
    X, y = schema.transform(frame), schema.encode_target(y_labels)
    ctx = Context(schema, get_metric(schema.metric), PreprocessConfig(), seed, 1)
    pipeline = make_pipeline(spec, ctx)
    clone(pipeline).fit(X, y)  # clone works and the clone fits
    pipeline.fit(X, y)
    scores = predict_scores(pipeline, X, task, len(schema.classes or []))
    if task == "regression":
        assert scores.shape == (len(X),) and np.corrcoef(scores, y)[0, 1] > 0.5
    else:
        assert scores.shape == (len(X), len(schema.classes))
        np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-6)
        assert (scores.argmax(axis=1) == y).mean() > 0.7
    again = make_pipeline(spec, ctx).fit(X, y)
    np.testing.assert_allclose(predict_scores(again, X, task, len(schema.classes or [])), scores)


@pytest.mark.parametrize("key", sorted(registry.REGISTRY))
def test_search_space_suggests_buildable_params(key):
    spec = registry.get(key)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    params = spec.search_space(trial, "binary")
    assert params and spec.make("binary", params) is not None


@pytest.mark.parametrize("key", sorted(registry.REGISTRY))
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_defaults_and_portfolio_lie_in_the_search_space(key, task):
    """Every known-good configuration (defaults, portfolio; on wide and large data too) is one the sampler could
    suggest, and the trial that runs it keeps every one of its values: the suggested ones as they are, the others
    (the classic MLP's epochs and patience, the wide-data changes) from the enqueued configuration, where Optuna
    does not hand them back. It builds."""
    spec = registry.get(key)
    configs = [(False, spec.defaults_for(task))] + [(False, params) for _, params in spec.portfolio_for(task)]
    if spec.wide:
        configs += [(False, {**spec.defaults_for(task), **spec.wide})]
        configs += [(False, params) for _, params in spec.portfolio_for(task, wide=True)]
    if spec.large:  # the large-data defaults and the portfolio built from them, in the large-data search space
        configs += [(True, spec.defaults_for(task, large=True))]
        configs += [(True, params) for _, params in spec.portfolio_for(task, large=True)]
    for large, params in configs:
        if spec.search_space is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FixedTrial warns about a value outside a categorical's choices
            trial = optuna.trial.FixedTrial(params)
            suggested = spec.suggest(trial, task, large, base=params)
        assert {k: suggested[k] for k in trial.params} == trial.params  # the space's suggestions, as they are
        assert {k: suggested[k] for k in params} == params  # and every value of the configuration
        assert set(params) <= set(spec.defaults_for(task)) | set(trial.params)  # no key the estimator ignores
        assert spec.make(task, suggested) is not None
    assert all(cost > 0 for cost, _ in spec.portfolio)


def test_on_large_data_the_network_samples_one_member_and_a_faster_rate():
    """The network's large-data search space keeps its large-data defaults (one member, automatic batches) and
    samples the rate from 1e-3, so every sampled trial converges in few passes; a portfolio entry keeps its own."""
    spec = registry.get("keras_mlp")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        params = spec.suggest(study.ask(), "multiclass", large=True)
        assert params["members"] == 1 and params["batch_size"] == 0 and 1e-3 <= params["learning_rate"] <= 1e-2
    small = [spec.suggest(study.ask(), "multiclass") for _ in range(30)]
    assert {p["members"] for p in small} > {1} and min(p["learning_rate"] for p in small) < 1e-3
    wider = spec.portfolio_for("multiclass", large=True)[-1][1]
    assert spec.suggest(optuna.trial.FixedTrial(wider), "multiclass", True, base=wider)["members"] == 8


ROUNDED = sorted(key for key, spec in registry.REGISTRY.items() if spec.rounds is not None)


@pytest.mark.parametrize("key", ROUNDED)
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_boosting_family_predicts_with_its_first_rounds(key, task, seed):
    """``rounds.staged`` gives, for each round count, the prediction of a model trained for that many rounds
    (the same trees: boosting adds one round at a time), and with every round the model's own prediction."""
    spec = registry.get(key)
    assert spec.rounds.param in spec.defaults
    frame, info = read_table(make_frame(task))
    schema, y_labels = infer_schema(frame, FitConfig(target="y"), info)
    X, y = schema.transform(frame), schema.encode_target(y_labels)
    ctx = Context(schema, get_metric(schema.metric), PreprocessConfig(), seed, 1)
    counts = [1, 7, 8, 23, 40]

    def predictions(pipeline):
        return pipeline.predict(X) if task == "regression" else pipeline.predict_proba(X)

    pipeline = make_pipeline(spec, ctx, {spec.rounds.param: counts[-1]}).fit(X, y)
    staged = spec.rounds.staged(pipeline.steps[-1][1], pipeline[:-1].transform(X), counts, task)
    assert len(staged) == len(counts)
    for k, pred in zip(counts, staged, strict=True):
        short = make_pipeline(spec, ctx, {spec.rounds.param: k}).fit(X, y)
        np.testing.assert_allclose(pred, predictions(short), rtol=1e-5, atol=1e-7, err_msg=f"{k} rounds")
    np.testing.assert_allclose(staged[-1], predictions(pipeline), rtol=1e-5, atol=1e-7)
    assert not np.allclose(staged[1], staged[-1])


def test_unknown_keys_list_the_valid_ones():
    with pytest.raises(ConfigError, match="'lightgbm'"):
        registry.get("lgbm")
    with pytest.raises(ConfigError, match="No model left"):
        registry.select("binary", include=["linear"], exclude=["linear"])
    assert next(s.key for s in registry.select("binary")) == "linear"


def test_a_misspelt_model_metric_or_task_gets_the_nearest_name():
    from automl import AutoML

    with pytest.raises(ConfigError, match=r"Unknown model 'lightgbmm'; choose from .*\. Did you mean 'lightgbm'\?$"):
        registry.get("lightgbmm")
    with pytest.raises(ConfigError, match=r"Did you mean 'log_loss'\?$"):
        AutoML(target="y", metric="logloss")
    with pytest.raises(ConfigError, match=r"Did you mean 'roc_auc'\?$"):
        AutoML(target="y", metric="AUC")
    with pytest.raises(ConfigError, match=r"'regression'\.$"):  # nothing near: no guess
        AutoML(target="y", task="classification")
