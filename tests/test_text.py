"""Free-text columns are used: TF-IDF (fitted inside each fold) for the linear model, its SVD projection for the
other families; a text column that carries the signal lifts the CV score above the same table without it."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.config import FitConfig
from automl.data.text import TextFeatures, top_terms
from automl.fit.preparing import prepare

GOOD = ["excellent", "great", "friendly", "fast", "helpful", "perfect"]
BAD = ["terrible", "slow", "rude", "broken", "awful", "useless"]
FILLER = ["the", "service", "was", "order", "and", "staff", "my", "delivery", "today", "really", "very", "it"]


def reviews(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Reviews whose words say the label; the numbers are noise."""
    rng = np.random.default_rng(seed)
    label = rng.random(n) < 0.5
    texts = []
    for good in label:
        words = list(rng.choice(FILLER, 8)) + list(rng.choice(GOOD if good else BAD, 2))
        if rng.random() < 0.15:  # some reviews mislead
            words[-1] = str(rng.choice(BAD if good else GOOD))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return pd.DataFrame({"review": texts, "x": rng.normal(size=n), "k": rng.integers(0, 5, n).astype(float),
                         "y": np.where(label, "happy", "unhappy")})


def test_text_features_are_tfidf_or_a_fixed_size_projection():
    text = pd.Series(["good fast service", "slow rude staff", None, "good staff", "fast delivery"])
    sparse = TextFeatures().fit(text).transform(text)
    assert sparse.shape[0] == 5 and sparse.shape[1] > 10 and hasattr(sparse, "toarray")
    dense = TextFeatures(components=8, prefix="review").fit(text).transform(text)
    assert dense.shape == (5, 8)  # 5 rows support fewer components: zero-padded to the same width
    assert list(TextFeatures(components=3, prefix="r").fit(text).get_feature_names_out()) == ["r_svd0", "r_svd1",
                                                                                               "r_svd2"]
    empty = pd.Series(["", None, ""])
    assert TextFeatures(components=4).fit(empty).transform(empty).shape == (3, 4)
    assert TextFeatures().fit(empty).transform(empty).shape == (3, 1)


def test_a_free_text_column_is_a_feature_with_its_top_terms():
    frame = reviews()
    p = prepare(FitConfig(target="y", folds=3, repeats=1), frame)
    kinds = {c.name: c.kind for c in p.ctx.schema.columns}
    assert kinds["review"] == "text"
    terms = top_terms(frame["review"], p.y, "binary")
    assert len(terms) == 10 and set(terms[:6]) <= set(GOOD + BAD)  # the sentiment words first, not the filler
    other = prepare(FitConfig(target="y", folds=3, repeats=1), reviews().assign(review="same words every time"))
    assert {c.name: c.kind for c in other.ctx.schema.columns}["review"] != "text"  # constant: not free text


@pytest.mark.parametrize("models", [["linear"], ["lightgbm"], ["keras_mlp"]])
def test_the_text_lifts_the_score_above_the_table_without_it(models, tmp_path):
    frame = reviews()
    kwargs = {"target": "y", "models": models, "trials": 1, "folds": 3, "repeats": 1}
    with_text = AutoML(**kwargs, output=tmp_path / "with").fit(frame)
    score = with_text.leaderboard().set_index("model").loc[models[0], "cv_roc_auc_mean"]
    assert score > 0.85
    if models != ["keras_mlp"]:  # the network's run without the text (as slow, as blind) adds nothing
        without = AutoML(**kwargs, output=tmp_path / "without").fit(frame.drop(columns="review"))
        assert score > without.leaderboard().set_index("model").loc[models[0], "cv_roc_auc_mean"] + 0.2
    new = reviews(20, seed=5)
    predicted = with_text.predict(new.drop(columns="y"))
    assert (predicted == new["y"]).mean() >= 0.7
    if models == ["linear"]:
        profile = json.loads((tmp_path / "with" / "profile.json").read_text(encoding="utf-8"))
        column = next(c for c in profile["columns"] if c["name"] == "review")
        assert column["kind"] == "text" and set(column["top_terms"][:4]) <= set(GOOD + BAD)
        html = (tmp_path / "with" / "report.html").read_text(encoding="utf-8")
        assert 'id="text-columns"' in html and "Free-text columns: TF-IDF" in html


def test_describing_the_pipelines_does_not_fit_the_text_features(monkeypatch):
    """The report's numbers about each pipeline come from its numeric and categorical steps; fitting TF-IDF
    once more per pipeline just to describe it took 20-40 s of a 30 s budget on 3 000 reviews (the search then
    had "-2 s"). The text part is described in words: its width per pipeline."""
    from automl.data import text
    from automl.fit import runinfo

    frame = reviews()
    p = prepare(FitConfig(target="y", folds=3, repeats=1), frame)

    def no_fit(self, X, y=None):
        raise AssertionError("TF-IDF fitted to describe a pipeline")

    monkeypatch.setattr(text.TextFeatures, "fit", no_fit)
    described = runinfo.pipelines(p.specs, p.ctx, p.X_s, p.y_s)
    dense, trees = described["dense"]["summary"], described["native"]["summary"]
    assert dense["output_columns"] == "2 + the TF-IDF of 1 text column(s)" and "imputed_medians" in dense
    assert trees["output_columns"] == 2 + 32  # x, k and the review's 32 SVD columns
    assert dense["text_features"] == "review: its TF-IDF (up to 40000 word and character n-grams), learnt in each fold"
    assert trees["text_features"] == "review: 32 columns (SVD of its TF-IDF), learnt in each fold"


def _kinds_in_folds(frame: pd.DataFrame, folds) -> list:
    """Per fold and per kind (the TF-IDF, its SVD): the training rows' features by fit_transform, by
    fit().transform, and the validation rows'."""
    out = []
    for train, valid in folds:
        for k in (None, 8):
            column = frame["review"]
            a = TextFeatures(k).fit_transform(column.iloc[train])
            fitted = TextFeatures(k).fit(column.iloc[train])
            out.append((a, fitted.transform(column.iloc[train]), fitted.transform(column.iloc[valid])))
    return out


def _identical(x, y) -> bool:
    if hasattr(x, "toarray"):
        return x.shape == y.shape and np.array_equal(x.indptr, y.indptr) and np.array_equal(x.indices, y.indices) \
            and np.array_equal(x.data, y.data)
    return x.shape == y.shape and np.array_equal(x, y)


@pytest.mark.parametrize("limit", [None, 1])
def test_text_features_fitted_once_per_fold_are_the_same_to_the_last_bit(limit, monkeypatch):
    """Inside a search the n-grams are counted once and each fold's TF-IDF and SVD come from those counts, kept
    for every trial: the features equal, bit for bit, those fitted on the fold's text alone; with no memory to
    keep them (``limit``: bytes), the folds are fitted as before."""
    from automl.data import text
    from automl.search.cv import make_folds

    frame = reviews(120)
    folds = make_folds(np.asarray(frame["y"] == "happy", dtype=int), "binary", 3, 0)
    alone = _kinds_in_folds(frame, folds)
    for fit_transformed, transformed, _ in alone:
        assert _identical(fit_transformed, transformed)
    counted = []
    monkeypatch.setattr(text, "_count", lambda t, real=text._count: counted.append(len(t)) or real(t))
    if limit is not None:
        monkeypatch.setattr(text, "REUSE_BYTES", limit)
    with text.reusing_fits():
        done = text.fit_in_folds(frame[["review"]], folds, [None, 8], whole=True)
        assert done == (3 if limit is None else 0) and text.text_reuse_full() is (limit is not None)
        counted_before = len(counted)
        for _ in range(2):  # two trials
            reused = _kinds_in_folds(frame, folds)
            assert all(_identical(x, y) for a, b in zip(alone, reused, strict=True) for x, y in zip(a, b, strict=True))
        whole = TextFeatures(8).fit_transform(frame["review"])
    assert counted[:1] == [120]  # every row counted once, before the folds
    # kept: no trial, nor the fit on all rows, counts again; not kept: 2 trials x 3 folds x 2 kinds x 2 fits, + all rows
    assert len(counted) == counted_before + (0 if limit is None else 2 * 3 * 2 * 2 + 1)
    assert _identical(whole, TextFeatures(8).fit_transform(frame["review"]))
    assert not text._REUSE._entries  # released when the search ends


def test_a_search_tokenises_free_text_once(monkeypatch, caplog, tmp_path):
    """The trials of every family and the refits reuse the text features the search fitted before its first
    trial: each row's n-grams are counted once (3 times per fold per trial before). Only the permutation
    importance, which shuffles the column, transforms text anew."""
    from automl.data import text

    counted, applied = [], []
    monkeypatch.setattr(text, "_count", lambda t, real=text._count: counted.append(t) or real(t))
    monkeypatch.setattr(text, "_apply", lambda p, t, real=text._apply: applied.append(t) or real(p, t))
    frame = reviews(200)
    with caplog.at_level(logging.INFO, logger="automl"):
        model = AutoML(target="y", models=["linear", "lightgbm"], trials=2, folds=3, repeats=1,
                       output=tmp_path / "run").fit(frame)
    assert counted == [list(frame["review"])]
    assert all(sorted(t) == sorted(frame["review"]) and t != list(frame["review"]) for t in applied)
    assert "Free text: the features of 1 text column (TF-IDF and its SVD) fitted in each of the 3 folds" in caplog.text
    assert (model.predict(frame.drop(columns="y")) == frame["y"]).mean() > 0.8


def test_a_model_saved_with_the_earlier_text_features_still_predicts():
    """Models saved before the TF-IDF was kept in parts hold one scikit-learn FeatureUnion: they still
    transform."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    text = reviews(60)["review"]
    new = TextFeatures(prefix="review").fit(text)
    old = TextFeatures(prefix="review")
    old.vectorizer_ = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True))]).fit(list(text))
    old.svd_, old.n_features_in_ = None, 1
    assert list(old.get_feature_names_out()) == list(new.get_feature_names_out())
    assert np.allclose(old.transform(text).toarray(), new.transform(text).toarray())


def test_only_a_model_that_takes_sparse_input_gets_the_tfidf_itself():
    """The classic MLP's ``dense`` pipeline gave the network the whole TF-IDF, densified: on 8 000 reviews its
    trial took the process from 1.6 to 3.9 GB. It gets the SVD projection, scaled, as the other families do."""
    from automl.models import registry
    from automl.search.evaluate import make_pipeline

    p = prepare(FitConfig(target="y", folds=3, repeats=1), reviews())
    linear = make_pipeline(registry.get("linear"), p.ctx).steps[0][1].fit_transform(p.X_s, p.y_s)
    network = make_pipeline(registry.get("keras_mlp"), p.ctx, {"preprocessing": "dense"}).steps[0][1]
    dense = network.fit_transform(p.X_s, p.y_s)
    assert hasattr(linear, "toarray") and linear.shape[1] > 100
    assert not hasattr(dense, "toarray") and dense.shape[1] <= 2 + 2 + 32  # x, k, their indicators, the SVD
    assert np.abs(np.asarray(dense)[:, -32:]).max() <= 3.0 + 1e-9  # scaled as numbers are for the network


@pytest.mark.parametrize("components", [None, 8])
def test_remembered_rows_are_the_rows_computed_afresh_and_each_text_is_tokenised_once(monkeypatch, components):
    from scipy import sparse

    from automl.data import text as text_module

    frame = reviews(200)
    fitted = TextFeatures(components=components).fit(frame["review"].iloc[:150])
    new = frame["review"].iloc[100:].reset_index(drop=True)
    shuffled = new.iloc[np.random.default_rng(0).permutation(len(new))].reset_index(drop=True)
    more = pd.concat([new.iloc[:20], pd.Series(["a text never seen", None])], ignore_index=True)

    def dense(m):
        return m.toarray() if sparse.issparse(m) else m

    fresh = [dense(fitted.transform(x)) for x in (new, shuffled, more)]
    tokenised = []
    real = text_module._apply
    monkeypatch.setattr(text_module, "_apply", lambda parts, text: tokenised.append(len(text)) or real(parts, text))
    with text_module.remembering_rows():
        remembered = [dense(fitted.transform(x)) for x in (new, shuffled, more)]
    for a, b in zip(fresh, remembered, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit
    assert tokenised == [new.nunique(), 2]  # the shuffle: nothing new; then the two texts not seen before
    fitted.transform(new)
    assert tokenised[-1] == len(new)  # outside the block, nothing is remembered
