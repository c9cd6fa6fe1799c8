"""Free-text columns as features: TF-IDF of word and character n-grams, fitted inside each fold.

The linear model (the ``dense`` pipeline) gets the TF-IDF matrix itself, sparse: the classic, strong text
baseline (a linear model on word and character n-gram TF-IDF). The other families get a compact projection of
it: truncated SVD (latent semantic analysis; Deerwester et al. 1990) to ``TEXT_COMPONENTS`` columns, always that
many (zeros where a small fold supports fewer), so every fold's model sees the same columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

TEXT_COMPONENTS = 32  # SVD columns per text column for the families other than the linear model
WORD_FEATURES = 20_000  # vocabulary caps (the most frequent n-grams)
CHAR_FEATURES = 20_000
TOP_TERMS = 10


def _strings(X: Any) -> list[str]:
    values = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else (X if isinstance(X, pd.Series) else
                                                                np.asarray(X, dtype=object).reshape(-1))
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


class TextFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF of word 1–2-grams and character 3–5-grams (within word boundaries), sublinear term frequency,
    each vocabulary capped; with ``components``, projected by truncated SVD to exactly that many columns.

    Input: one text column (a Series, a one-column frame or array; missing values are empty text), n rows.
    Output: a sparse (n, vocabulary) matrix, or a dense (n, ``components``) array. A column without any word
    gives zeros.
    """

    def __init__(self, components: int | None = None, word_features: int = WORD_FEATURES,
                 char_features: int = CHAR_FEATURES, prefix: str = "text", random_state: int = 0) -> None:
        self.components = components
        self.word_features = word_features
        self.char_features = char_features
        self.prefix = prefix
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TextFeatures:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        text = _strings(X)
        self.vectorizer_ = FeatureUnion([
            ("word", TfidfVectorizer(ngram_range=(1, 2), max_features=self.word_features, sublinear_tf=True)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), max_features=self.char_features,
                                     sublinear_tf=True)),
        ])
        try:
            matrix = self.vectorizer_.fit_transform(text)
        except ValueError:  # no word in any row ("empty vocabulary")
            self.vectorizer_, matrix = None, None
        self.svd_ = None
        if self.components and matrix is not None:
            k = min(int(self.components), matrix.shape[1] - 1, len(text) - 1)
            if k >= 1:
                self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(matrix)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Any) -> Any:
        text = _strings(X)
        if self.components:
            out = np.zeros((len(text), int(self.components)))
            if self.vectorizer_ is not None and self.svd_ is not None:
                projected = self.svd_.transform(self.vectorizer_.transform(text))
                out[:, :projected.shape[1]] = projected
            return out
        if self.vectorizer_ is None:
            return sparse.csr_matrix((len(text), 1))
        return self.vectorizer_.transform(text).tocsr()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        if self.components:
            return np.asarray([f"{self.prefix}_svd{i}" for i in range(int(self.components))], dtype=object)
        if self.vectorizer_ is None:
            return np.asarray([f"{self.prefix}_empty"], dtype=object)
        return np.asarray([f"{self.prefix}:{n}" for n in self.vectorizer_.get_feature_names_out()], dtype=object)


def top_terms(values: pd.Series, y: np.ndarray, task: str, k: int = TOP_TERMS) -> list[str]:
    """The ``k`` words (unigrams, in at least 2 rows) most associated with the target: chi-squared of their
    presence against the class (classification) or the absolute correlation of their TF-IDF with the target
    (regression). For the report; empty when the column has no such word."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.feature_selection import chi2

    try:
        vectorizer = TfidfVectorizer(min_df=2, max_features=5000, sublinear_tf=True)
        matrix = vectorizer.fit_transform(_strings(values))
    except ValueError:
        return []
    names = vectorizer.get_feature_names_out()
    if task == "regression":
        dense = matrix.toarray()
        centred = dense - dense.mean(axis=0)
        target = np.asarray(y, dtype=float) - float(np.mean(y))
        with np.errstate(all="ignore"):
            score = np.abs(centred.T @ target) / (np.linalg.norm(centred, axis=0) * np.linalg.norm(target))
    else:
        score = chi2((matrix > 0).astype(float), y)[0]
    score = np.nan_to_num(score, nan=0.0)
    return [str(names[i]) for i in np.argsort(-score, kind="stable")[:k] if score[i] > 0]
