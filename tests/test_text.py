"""Free-text columns are used: TF-IDF (fitted inside each fold) for the linear model, its SVD projection for the
other families; a text column that carries the signal lifts the CV score above the same table without it."""

from __future__ import annotations

import json

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
