"""The Keras MLP wrapper honours scikit-learn's estimator contract and keeps what the report needs."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl.models.deadline import fit_deadline
from automl.models.keras_mlp import REGRESSION_LOSSES, KerasMLPClassifier, KerasMLPRegressor

SMALL = {"hidden_layers": 1, "units": 8, "epochs": 3, "patience": 2, "batch_size": 32}


@parametrize_with_checks(
    [KerasMLPClassifier(**SMALL), KerasMLPRegressor(**SMALL)],
    expected_failed_checks=lambda est: {
        # 3 epochs of a tiny net cannot reach the R² this check demands of a fitted model (the classifier reaches
        # its accuracy threshold since its unnamed inputs are padded, padded_width, which changed its initial weights)
        **({"check_regressors_train": "3 epochs are too few for the R² threshold",
            "check_regressors_train(readonly_memmap=True)": "3 epochs are too few",
            "check_regressors_train(readonly_memmap=True,X_dtype=float32)": "3 epochs are too few"}
           if isinstance(est, KerasMLPRegressor) else {}),
        # mini-batch training: a row of weight 2 is not two copies of it in the shuffled batches
        "check_sample_weight_equivalence_on_dense_data": "mini-batch SGD is not weight-duplication invariant",
        "check_sample_weight_equivalence_on_sparse_data": "mini-batch SGD is not weight-duplication invariant",
    },
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def make_data(task: str, n: int = 300):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 5))
    signal = X[:, 0] * 2 - X[:, 1]
    if task == "regression":
        return X, signal * 10 + 100
    if task == "binary":
        return X, np.where(signal > 0, "pos", "neg")
    return X, np.digitize(signal, [-1, 1])


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_learns_keeps_history_and_round_trips_through_pickle(task):
    X, y = make_data(task)
    cls = KerasMLPRegressor if task == "regression" else KerasMLPClassifier
    model = cls(epochs=60, patience=5, random_state=1).fit(X, y)
    assert set(model.history_) == {"loss", "val_loss"} and len(model.history_["loss"]) == model.n_epochs_
    assert 1 <= model.best_epoch_ <= model.n_epochs_ <= 60
    assert model.score(X, y) > 0.9  # accuracy or R²
    if task != "regression":
        proba = model.predict_proba(X)
        assert proba.shape == (len(X), len(np.unique(y))) and np.allclose(proba.sum(axis=1), 1)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict_proba(X) if task != "regression" else restored.predict(X),
                               model.predict_proba(X) if task != "regression" else model.predict(X))
    again = clone(model).fit(X, y)  # same seed, same data: the same network
    np.testing.assert_allclose(again.history_["loss"], model.history_["loss"], rtol=1e-5)


def test_no_validation_split_trains_the_given_epochs():
    X, y = make_data("binary")
    model = KerasMLPClassifier(epochs=7, validation_fraction=0.0).fit(X, y)
    assert model.n_epochs_ == 7 == model.best_epoch_ and "val_loss" not in model.history_


def test_a_soft_deadline_ends_training_with_the_best_weights_kept():
    """Under the search's time limit a network ends its training early instead of failing, and keeps its best
    epoch's weights (EarlyStopping restores them however the training ended)."""
    X, y = make_data("binary")
    with fit_deadline(None, soft=time.monotonic() - 1):  # already past: the two epochs it always trains
        model = KerasMLPClassifier(epochs=50, patience=50).fit(X, y)
    assert model.timed_out_ and model.n_epochs_ == 2 and model.best_epoch_ in (1, 2)
    full = KerasMLPClassifier(epochs=3, patience=50).fit(X, y)
    assert not full.timed_out_ and full.n_epochs_ == 3


def test_unknown_optimizer_is_named():
    X, y = make_data("binary", 50)
    with pytest.raises(ValueError, match="Unknown optimizer 'adagrad'"):
        KerasMLPClassifier(optimizer="adagrad", epochs=1).fit(X, y)


def test_a_regression_network_trains_on_the_loss_it_is_given():
    """``loss`` on the standardised target: the squared error ("auto", the notes' MLP), the absolute error or
    Huber's; each trains differently; a classifier's loss is its cross-entropy ("auto") only."""
    import keras

    X, y = make_data("regression", 120)
    expected = {"auto": keras.losses.MeanSquaredError, "squared_error": keras.losses.MeanSquaredError,
                "absolute_error": keras.losses.MeanAbsoluteError, "huber": keras.losses.Huber}
    histories = {}
    for loss in REGRESSION_LOSSES:
        model = KerasMLPRegressor(loss=loss, **SMALL).fit(X, y)
        assert isinstance(model._outputs()[2], expected[loss])
        histories[loss] = model.history_["loss"]
    np.testing.assert_allclose(histories["auto"], histories["squared_error"], rtol=1e-6)
    assert len({round(h[-1], 6) for h in histories.values()}) == 3  # squared, absolute, Huber
    with pytest.raises(ValueError, match="Unknown loss 'poisson'; choose one of auto, squared_error, absolute_error"):
        KerasMLPRegressor(loss="poisson", **SMALL).fit(X, y)
    X, y = make_data("binary", 50)
    with pytest.raises(ValueError, match="Unknown loss 'absolute_error'; choose one of auto"):
        KerasMLPClassifier(loss="absolute_error", **SMALL).fit(X, y)
