"""Free-text columns as features: TF-IDF of word and character n-grams, fitted inside each fold.

The linear model (the ``dense`` pipeline) gets the TF-IDF matrix itself, sparse: the classic, strong text
baseline (a linear model on word and character n-gram TF-IDF). The other families get a compact projection of
it: truncated SVD (latent semantic analysis; Deerwester et al. 1990) to ``TEXT_COMPONENTS`` columns, always that
many (zeros where a small fold supports fewer), so every fold's model sees the same columns.

The TF-IDF is scikit-learn's, in two parts per analyzer: a ``CountVectorizer`` with the fold's vocabulary (the
``*_FEATURES`` most frequent n-grams of its training rows) and a ``TfidfTransformer`` fitted on their counts.
Tokenising is most of the cost (about 2 s to fit and 1.5 s to transform 2 400 reviews of ~80 words), and every
fold of every trial of every family would pay it again. So the search (:mod:`automl.search.tuner`) opens
:func:`reusing_fits` and calls :func:`fit_in_folds` first: the n-grams of the search rows are counted once, each
fold's TF-IDF is taken from those counts, and a trial's fit on text already seen with the same settings reuses
the fitted parts and outputs. The results are the same to the last bit as fitting on the fold's text alone (the
counts are the same integers, in the same order). What is kept for reuse is bounded in memory (``REUSE_BYTES``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

TEXT_COMPONENTS = 32  # SVD columns per text column for the families other than the linear model
WORD_FEATURES = 20_000  # vocabulary caps (the most frequent n-grams)
CHAR_FEATURES = 20_000
TOP_TERMS = 10
REUSE_BYTES = 2**30  # the most memory kept for reuse in one search (less where less is available: REUSE_SHARE)
REUSE_SHARE = 0.125  # of the memory available when the search starts
# the two analyzers: word 1-2-grams, character 3-5-grams within word boundaries (scikit-learn's "char_wb")
ANALYZERS: dict[str, dict[str, Any]] = {"word": {"ngram_range": (1, 2)},
                                        "char": {"analyzer": "char_wb", "ngram_range": (3, 5)}}

Counted = list[tuple[np.ndarray, sparse.csr_matrix]]  # per analyzer: every n-gram (sorted), counts (rows, n-grams)
Parts = list[tuple[str, Any, Any, np.ndarray | None]]  # per analyzer: name, counter, TF-IDF, kept columns


def _strings(X: Any) -> list[str]:
    values = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else (X if isinstance(X, pd.Series) else
                                                                np.asarray(X, dtype=object).reshape(-1))
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


class TextFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF of word 1–2-grams and character 3–5-grams (within word boundaries), sublinear term frequency,
    each vocabulary capped to its most frequent n-grams; with ``components``, projected by truncated SVD to
    exactly that many columns.

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
        self._fit(_strings(X))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X).transform(X)``, tokenising ``X`` once."""
        text = _strings(X)
        return self._output(text, self._fit(text))

    def transform(self, X: Any) -> Any:
        text = _strings(X)
        memo = _ROWS.memo(self)
        if memo is not None:
            return memo.rows(text, lambda new: self._output(new, self._tfidf(new)))
        return self._output(text, self._tfidf(text))

    def _caps(self) -> tuple[int, int]:
        return int(self.word_features), int(self.char_features)

    def _fit(self, text: list[str]) -> Any:
        """Fit on ``text``; return its TF-IDF matrix (None when it holds no n-gram)."""
        key = _vocabulary_key(_digest(text), self._caps()) if _REUSE.users else None
        self.parts_, matrix = _REUSE.get(key, lambda: _fitted(_count(text), None, self._caps()))
        self.reuse_key_ = key  # what fixes the fitted state (the text's digest and the caps), or None
        self.svd_ = None
        if self.components and matrix is not None:
            k = min(int(self.components), matrix.shape[1] - 1, len(text) - 1)
            if k >= 1:
                svd_key = None if key is None else (*key, "svd", k, self.random_state)
                self.svd_ = _REUSE.get(svd_key, lambda: _sized_svd(_fit_svd(matrix, k, self.random_state)))
        self.n_features_in_ = 1
        return matrix

    def _tfidf(self, text: list[str]) -> Any:
        """The TF-IDF matrix of ``text`` (None without a vocabulary), reused while fits are."""
        if not getattr(self, "parts_", None):
            old = getattr(self, "vectorizer_", None)  # a model saved before the parts (a FeatureUnion)
            return None if old is None else old.transform(text).tocsr()
        key = None
        if self.reuse_key_ is not None and _REUSE.users:
            digest = _digest(text)
            fitted = _REUSE.peek(self.reuse_key_) if digest == self.reuse_key_[1] else None
            if fitted is not None:  # the text it was fitted on
                return fitted[1]
            key = (*self.reuse_key_, "tfidf", digest)
        return _REUSE.get(key, lambda: _sized(_apply(self.parts_, text)))

    def _output(self, text: list[str], matrix: Any) -> Any:
        """The features of ``text`` from its TF-IDF ``matrix`` (None: no vocabulary)."""
        if not self.components:
            # the matrix may be shared with later fits (see reusing_fits): whoever gets it may change it
            return sparse.csr_matrix((len(text), 1)) if matrix is None else matrix.copy()
        out = np.zeros((len(text), int(self.components)))
        if self.svd_ is not None:
            out[:, :self.svd_.n_components] = self.svd_.transform(matrix)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        if self.components:
            return np.asarray([f"{self.prefix}_svd{i}" for i in range(int(self.components))], dtype=object)
        if not getattr(self, "parts_", None):
            old = getattr(self, "vectorizer_", None)
            names = [] if old is None else list(old.get_feature_names_out())
        else:
            names = [f"{name}__{term}" for name, counter, _, _ in self.parts_
                     for term in counter.get_feature_names_out()]
        return np.asarray([f"{self.prefix}:{n}" for n in names] or [f"{self.prefix}_empty"], dtype=object)


def _count(text: list[str]) -> Counted:
    """Every n-gram of ``text`` per analyzer, sorted, and its counts, shape (len(text), n-grams), indices sorted
    within each row; an analyzer that finds none gets an empty vocabulary."""
    from sklearn.feature_extraction.text import CountVectorizer

    out: Counted = []
    for options in ANALYZERS.values():
        counter = CountVectorizer(**options)
        try:
            counts = counter.fit_transform(text).tocsr()
        except ValueError:  # "empty vocabulary": no n-gram of this analyzer in any row
            out.append((np.asarray([], dtype=object), sparse.csr_matrix((len(text), 0), dtype=np.int64)))
            continue
        counts.sort_indices()
        out.append((counter.get_feature_names_out(), counts))
    return out


def _fit_parts(counted: Counted, rows: np.ndarray | None, caps: Sequence[int]) -> tuple[Parts, Any]:
    """The parts fitted on ``rows`` of ``counted`` (None: all), and the TF-IDF matrix of those rows: per analyzer
    the ``cap`` n-grams with the most occurrences in the rows (ties: the first in sorted order), and a sublinear
    TF-IDF on their counts. ([], None) when the rows hold no n-gram."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    parts: Parts = []
    blocks = []
    for (name, options), (terms, counts), cap in zip(ANALYZERS.items(), counted, caps, strict=True):
        part = counts if rows is None else counts[rows]
        totals = np.asarray(part.sum(axis=0)).ravel()
        present = np.flatnonzero(totals)
        if not len(present):
            continue
        keep = np.sort(present[np.argsort(-totals[present], kind="stable")[:cap]])
        chosen = part[:, keep]
        chosen.sort_indices()
        tfidf = TfidfTransformer(sublinear_tf=True).fit(chosen)
        parts.append((name, CountVectorizer(vocabulary=list(terms[keep]), **options), tfidf, keep))
        blocks.append(tfidf.transform(chosen))
    return parts, (sparse.hstack(blocks, format="csr") if parts else None)


def _fitted(counted: Counted, rows: np.ndarray | None, caps: Sequence[int]) -> tuple[tuple[Parts, Any], int]:
    """:func:`_fit_parts` as a model keeps them (without the columns they took from ``counted``), and the
    matrix's bytes."""
    parts, matrix = _fit_parts(counted, rows, caps)
    return ([(name, counter, tfidf, None) for name, counter, tfidf, _ in parts], matrix), _parts_bytes(parts, matrix)


def _parts_bytes(parts: Parts, matrix: Any) -> int:
    """Memory of fitted parts and their matrix: the matrix, the IDF weights, and about 160 bytes per kept n-gram
    (the string, its place in the vocabulary list and in the vocabulary's dictionary)."""
    return _nbytes(matrix) + sum(int(tfidf.idf_.nbytes) + 160 * len(counter.vocabulary)
                                 for _, counter, tfidf, _ in parts)


def _sized_svd(svd: Any) -> tuple[Any, int]:
    return svd, int(svd.components_.nbytes + svd.singular_values_.nbytes + svd.explained_variance_.nbytes)


def _from_counts(parts: Parts, counted: Counted, rows: np.ndarray) -> Any:
    """The TF-IDF matrix of ``rows`` of ``counted``, as :func:`_apply` gives it for their text."""
    counts = dict(zip(ANALYZERS, (c for _, c in counted), strict=True))
    blocks = []
    for name, _, tfidf, keep in parts:
        chosen = counts[name][rows][:, keep]
        chosen.sort_indices()
        blocks.append(tfidf.transform(chosen))
    return sparse.hstack(blocks, format="csr")


def _apply(parts: Parts, text: list[str]) -> Any:
    """The TF-IDF matrix of ``text``: its counts of each part's n-grams, indices sorted within each row (as they
    were when fitting), through the part's TF-IDF."""
    blocks = []
    for _, counter, tfidf, _ in parts:
        counts = counter.transform(text).tocsr()
        counts.sort_indices()
        blocks.append(tfidf.transform(counts))
    return sparse.hstack(blocks, format="csr")


def _fit_svd(matrix: Any, k: int, random_state: int) -> Any:
    from sklearn.decomposition import TruncatedSVD

    return TruncatedSVD(n_components=k, random_state=random_state).fit(matrix)


def _sized(value: Any) -> tuple[Any, int]:
    return value, _nbytes(value)


def _nbytes(value: Any) -> int:
    if sparse.issparse(value):
        return int(value.data.nbytes + value.indices.nbytes + value.indptr.nbytes)
    return int(getattr(value, "nbytes", 0))


def _digest(text: list[str]) -> str:
    """A digest of the strings and their order (pandas' 64-bit hash per value, then BLAKE2b of those)."""
    hashes = pd.util.hash_pandas_object(pd.Series(text, dtype=object), index=False).to_numpy()
    return hashlib.blake2b(hashes.tobytes(), digest_size=16).hexdigest()


def _vocabulary_key(digest: str, caps: tuple[int, int]) -> tuple[Any, ...]:
    return ("vocabulary", digest, *caps)


class _Reuse:
    """Fitted text features and their outputs, by a digest of the text and the settings; active only while some
    :func:`reusing_fits` is open. Once ``limit`` bytes are held, nothing more is kept: the search visits the same
    folds in the same order trial after trial, where dropping the least recently used would drop each entry just
    before it is needed again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], tuple[Any, int]] = {}
        self._bytes = 0
        self.limit = REUSE_BYTES
        self.full = False  # something was not kept for want of memory
        self.users = 0

    def get(self, key: tuple[Any, ...] | None, compute: Callable[[], tuple[Any, int]]) -> Any:
        """The value kept under ``key``, or ``compute()``'s (value, size in bytes), kept while active (``key``
        None: computed, not kept)."""
        if key is None:
            return compute()[0]
        with self._lock:
            if key in self._entries:
                return self._entries[key][0]
        value, size = compute()
        self.put(key, value, size)
        return value

    def peek(self, key: tuple[Any, ...]) -> Any:
        """The value kept under ``key``, or None."""
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        with self._lock:
            if self.users > 0 and key not in self._entries:
                if self._bytes + size <= self.limit:
                    self._entries[key] = (value, size)
                    self._bytes += size
                else:
                    self.full = True

    def entries_clear(self) -> None:
        """Drop everything kept (with the lock held)."""
        self._entries.clear()
        self._bytes, self.full = 0, False


_REUSE = _Reuse()


@contextmanager
def reusing_fits() -> Iterator[None]:
    """While open (in any thread), text features fitted on the same text with the same settings are fitted once,
    and their outputs computed once; everything kept is released when the last one closes. What is kept is at
    most ``REUSE_BYTES``, and at most ``REUSE_SHARE`` of the memory available when the first one opens."""
    from automl.data.memory import available_bytes

    with _REUSE._lock:
        if _REUSE.users == 0:
            available = available_bytes()
            _REUSE.limit = REUSE_BYTES if available is None else min(REUSE_BYTES, int(available * REUSE_SHARE))
        _REUSE.users += 1
    try:
        yield
    finally:
        with _REUSE._lock:
            _REUSE.users -= 1
            if _REUSE.users == 0:
                _REUSE.entries_clear()


class _RowMemo:
    """One fitted transformer's output rows by text: each row of TF-IDF (and of its SVD) depends on its own text
    only (fixed vocabulary and IDF, per-row normalisation; a row of a sparse-times-dense product sums its own
    entries in their order), so a row computed once is the row of that text in any later call, bit for bit."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.whole: Any = None  # the rows of every text seen, in the order first seen

    def rows(self, text: list[str], compute: Callable[[list[str]], Any]) -> Any:
        """The output for ``text``; ``compute`` is called on the texts not seen before, once each."""
        new = [t for t in dict.fromkeys(text) if t not in self.index]
        if new:
            block = compute(new)
            start = len(self.index)
            self.index.update((t, start + i) for i, t in enumerate(new))
            if self.whole is None:
                self.whole = block
            elif sparse.issparse(block):
                self.whole = sparse.vstack([self.whole, block], format="csr")
            else:
                self.whole = np.vstack([self.whole, block])
        return self.whole[np.fromiter((self.index[t] for t in text), dtype=np.intp, count=len(text))]


class _Rows:
    """The row memos of the transformers used inside :func:`remembering_rows` (none outside it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.users = 0
        self._memos: dict[int, tuple[TextFeatures, _RowMemo]] = {}  # by id, the transformer kept alive with it

    def memo(self, transformer: TextFeatures) -> _RowMemo | None:
        with self._lock:
            if self.users == 0:
                return None
            if id(transformer) not in self._memos:
                self._memos[id(transformer)] = (transformer, _RowMemo())
            return self._memos[id(transformer)][1]


_ROWS = _Rows()


@contextmanager
def remembering_rows() -> Iterator[None]:
    """While open, each fitted :class:`TextFeatures` transforms each distinct text once and gives its remembered
    row when it meets that text again (the same to the last bit). For scoring one model on the same rows many
    times, as permutation importance does: a shuffled column is the same texts in another order, and every other
    column's shuffle leaves the text as it was (1 000 reviews, 11 columns, 3 repeats: tokenising them 34 times
    took 20 s). Holds the outputs of the texts seen until the last one closes."""
    with _ROWS._lock:
        _ROWS.users += 1
    try:
        yield
    finally:
        with _ROWS._lock:
            _ROWS.users -= 1
            if _ROWS.users == 0:
                _ROWS._memos.clear()


def text_reuse_full() -> bool:
    """Whether some fitted text features were not kept for reuse, for want of memory (see :func:`reusing_fits`)."""
    return _REUSE.full


def fit_in_folds(frame: pd.DataFrame, folds: Sequence[tuple[np.ndarray, np.ndarray]],
                 components: Sequence[int | None], deadline: float | None = None, whole: bool = False) -> int:
    """Inside :func:`reusing_fits`, fit every column's text features on each fold's training rows and transform
    its validation rows, for each of ``components`` (None: the TF-IDF itself; a number: its SVD to that many
    columns, as :class:`TextFeatures` takes them), so that every trial on these folds finds them done. Each
    column's n-grams are counted once, over all rows; each fold's TF-IDF is fitted on its rows' counts. With
    ``whole``, the features are then also fitted on all the rows (for the refits on them).

    ``frame``: the text columns, n rows; ``folds``: (training, validation) row positions into it. Stops before a
    fold that would start past ``deadline`` (``time.monotonic()`` seconds) or when no more can be kept in memory.
    Returns the number of folds done (the fit on all rows not counted).
    While it runs it also holds every column's n-gram counts over all rows (sparse, about 12 bytes per distinct
    n-gram of each row), outside the bound of :func:`reusing_fits`.
    """
    columns = []
    for name in frame.columns:
        if deadline is not None and time.monotonic() >= deadline:
            return 0
        text = _strings(frame[name])
        columns.append((text, _count(text)))
    caps = TextFeatures()._caps()
    every = np.arange(len(frame))
    for i, (train, valid) in enumerate([*folds, *([(every, every[:0])] if whole else [])]):
        if _REUSE.full or (deadline is not None and time.monotonic() >= deadline):
            return min(i, len(folds))
        for text, counted in columns:
            train_text = [text[r] for r in train]
            key = _vocabulary_key(_digest(train_text), caps)
            parts, matrix = _fit_parts(counted, train, caps)
            _REUSE.put(key, ([(name, counter, tfidf, None) for name, counter, tfidf, _ in parts], matrix),
                       _parts_bytes(parts, matrix))
            if _REUSE.full:  # not kept: the trials fit this fold themselves
                return min(i, len(folds))
            if parts and len(valid):
                valid_key = (*key, "tfidf", _digest([text[r] for r in valid]))
                _REUSE.put(valid_key, *_sized(_from_counts(parts, counted, valid)))
            for k in components:
                if k:  # the SVD, fitted once here
                    TextFeatures(k).fit(train_text)
    return len(folds)


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
