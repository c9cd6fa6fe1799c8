"""Composite models predicting their parts side by side (automl.models.side_by_side)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import BaggingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from automl.ensembles.model import EnsembleModel, combine
from automl.ensembles.stacking import make_meta_model, meta_features
from automl.models import side_by_side
from automl.models.outputs import predict_scores
from automl.search.bagged import FoldBag


def _members(seed: int) -> tuple[pd.DataFrame, np.ndarray, list]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    y = (X["a"] + X["b"] * X["c"] + rng.normal(scale=0.5, size=300) > 0).to_numpy(int) + (X["d"] > 1).to_numpy(int)
    folds = [np.arange(300) % 3 != k for k in range(3)]
    bag = FoldBag("random_forest", [DecisionTreeClassifier(max_depth=4, random_state=k).fit(X[f], y[f])
                                    for k, f in enumerate(folds)], "multiclass", 3)
    bagging = BaggingClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=6, n_jobs=2,
                                random_state=seed).fit(X, y)
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    return X, y, [linear, bag, bagging]


@pytest.mark.parametrize("method", ["greedy", "stacking"])
def test_an_ensemble_predicts_its_members_fold_models_side_by_side_exactly_as_one_by_one(monkeypatch, seed, method):
    """An ensemble holding a k-fold bag predicts every fold model and every other member side by side; the
    result is the one of its members predicting one after another, to the last bit, on one core or two."""
    X, y, members = _members(seed)
    one_by_one = [predict_scores(m, X, "multiclass", 3) for m in members]
    weights, meta = None, None
    if method == "greedy":
        weights = np.array([0.5, 0.25, 0.25])
    else:
        meta = make_meta_model("multiclass", seed).fit(meta_features(one_by_one, "multiclass"), y)
    ensemble = EnsembleModel(method, members, "multiclass", 3, weights=weights, meta=meta)
    expected = combine(method, weights, meta, one_by_one, "multiclass", 3)
    jobs, _ = ensemble.score_parts(X)
    assert len(jobs) == 5  # the linear model, the bag's 3 fold models, the bagged trees
    for n_cores in (1, 2):
        monkeypatch.setattr(side_by_side, "cores", lambda n=n_cores: n)
        np.testing.assert_array_equal(ensemble.predict_proba(X), expected)
        np.testing.assert_array_equal(ensemble.predict(X), expected.argmax(axis=1))


def test_jobs_run_in_order_on_threads_that_use_joblib_threads(monkeypatch):
    """Results come back in job order; a job that parallelises with joblib gets threads (joblib's settings are
    per thread: without the runner's own, a pool thread would start worker processes)."""
    from joblib.parallel import get_active_backend

    monkeypatch.setattr(side_by_side, "cores", lambda: 2)
    seen: list[str] = []

    from threadpoolctl import threadpool_info

    threads: list[set[int]] = []

    def job(k: int) -> np.ndarray:
        seen.append(type(get_active_backend()[0]).__name__)
        threads.append({i["num_threads"] for i in threadpool_info()})  # BLAS and OpenMP (per thread) alike
        return np.full(2, float(k))

    results = side_by_side.run([lambda k=k: job(k) for k in range(5)])
    assert [r[0] for r in results] == [0, 1, 2, 3, 4]
    assert seen == ["ThreadingBackend"] * 5 and all(t == {1} for t in threads)


def test_a_job_that_predicts_side_by_side_itself_runs_its_jobs_one_after_another(monkeypatch):
    """A composite predicted inside a job (nested) does not wait for the pool it runs in: its jobs run in its
    own thread, and the outer call still restores the thread limits it found."""
    from threadpoolctl import threadpool_info

    monkeypatch.setattr(side_by_side, "cores", lambda: 2)
    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info()]
    inner_threads: list[set[int]] = []

    def inner() -> np.ndarray:
        idents: set[int] = set()
        out = side_by_side.run([lambda: (idents.add(threading.get_ident()), np.ones(1))[1]] * 3)
        inner_threads.append(idents)
        return np.concatenate(out)

    results = side_by_side.run([inner, inner])
    assert [r.tolist() for r in results] == [[1.0, 1.0, 1.0]] * 2
    assert all(len(idents) == 1 for idents in inner_threads)
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info()] == before
