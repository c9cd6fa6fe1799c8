"""Inputs for tabular neural networks: robust scaling with smooth clipping, and categories split between
one-hot columns (few levels) and integer codes for learnt embeddings (many levels).

The ``neural`` preprocessing pipeline (:func:`automl.data.preprocess.build_preprocessor`) feeds these to the
Keras networks. Its output is a DataFrame whose column names tell the network each column's role:

``num__<col>``               a scaled, smoothly clipped number (the network may embed it, see
                             :mod:`automl.models.keras_layers`)
``missing__...``             a 0/1 missing indicator
``cat__<col>=<level>``       a 0/1 one-hot column of a category with at most ``max_onehot`` levels
``cat__code:<col>``          an integer code (0 = unseen or rare level, 1..L the known levels) of a category
                             with more levels, for an embedding table inside the network

Source of the defaults: Holzmüller, Grinsztajn & Steinwart (2024), "Better by Default: Strong Pre-Tuned MLPs
and Boosted Trees on Tabular Data" (RealMLP): robust scaling by the median and the interquartile range, then
the smooth clipping ``x / sqrt(1 + (x/3)^2)``, and one-hot encoding only up to 8-9 levels, embeddings beyond.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

CODE_PREFIX = "code:"
MAX_ONEHOT = 9  # levels (missing counts as one); RealMLP one-hot encodes up to 8 levels and embeds the rest


def smooth_clip(x: np.ndarray, bound: float = 3.0) -> np.ndarray:
    """``x / sqrt(1 + (x / bound)^2)``: about ``x`` near 0, tends to ``±bound`` for large ``|x|`` (RealMLP)."""
    return x / np.sqrt(1.0 + (x / bound) ** 2)


class RobustSmoothScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Centre numeric columns on their median, divide by their interquartile range, then clip smoothly.

    A column whose IQR is 0 (mostly one value) is divided by half its range instead (RealMLP's fallback), and
    a constant column by 1. Statistics come from the rows given to ``fit`` (the training part of a fold).
    Input: an array ``(n_rows, n_columns)`` without missing values (impute first). Output: ``float32``, every
    value strictly inside ``(-bound, bound)``.
    """

    def __init__(self, bound: float = 3.0) -> None:
        self.bound = bound

    def fit(self, X: Any, y: Any = None) -> RobustSmoothScaler:
        X = validate_data(self, X, dtype=np.float64)
        if len(X):
            q1, median, q3 = np.percentile(X, [25, 50, 75], axis=0)
            half_range = (X.max(axis=0) - X.min(axis=0)) / 2
        else:
            q1 = median = q3 = half_range = np.zeros(X.shape[1])
        scale = np.where(q3 > q1, q3 - q1, half_range)
        self.center_, self.scale_ = median, np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return smooth_clip((X - self.center_) / self.scale_, self.bound).astype(np.float32)


class SplitCategoricalEncoder(TransformerMixin, BaseEstimator):
    """One-hot encode categories with at most ``max_onehot`` levels; give the others integer codes.

    Levels come from the fit rows (missing is a level of its own). For a coded column, code 0 holds the
    levels seen fewer than ``min_count`` times in the fit rows and those never seen there; the others get
    1..L in sorted order. An unseen level of a one-hot column is all zeros. Output: ``float32`` array;
    :meth:`get_feature_names_out` names the columns ``<col>=<level>`` and ``code:<col>``.
    """

    def __init__(self, max_onehot: int = MAX_ONEHOT, min_count: int = 2) -> None:
        self.max_onehot = max_onehot
        self.min_count = min_count

    def fit(self, X: Any, y: Any = None) -> SplitCategoricalEncoder:
        frame = self._frame(X, reset=True)
        self.levels_: list[list[str]] = []
        self.coded_: list[bool] = []
        for name in frame.columns:
            counts = frame[name].value_counts()
            coded = len(counts) > self.max_onehot
            kept = counts[counts >= self.min_count] if coded else counts
            self.levels_.append(sorted(str(v) for v in kept.index))
            self.coded_.append(coded)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        blocks = []
        for name, levels, coded in zip(frame.columns, self.levels_, self.coded_, strict=True):
            values = frame[name].where(frame[name].isin(levels))  # unseen levels → missing → code -1
            codes = pd.Categorical(values, categories=levels).codes.astype(np.int64)
            if coded:
                blocks.append((codes + 1).astype(np.float32)[:, None])
            else:
                blocks.append((codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float32))
        return np.hstack(blocks) if blocks else np.zeros((len(frame), 0), dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        columns = list(names) if names is not None else [f"x{i}" for i in range(len(self.levels_))]
        out: list[str] = []
        for name, levels, coded in zip(columns, self.levels_, self.coded_, strict=True):
            out += [f"{CODE_PREFIX}{name}"] if coded else [f"{name}={level}" for level in levels]
        return np.asarray(out, dtype=object)

    def _frame(self, X: Any, reset: bool) -> pd.DataFrame:
        values = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
        frame = pd.DataFrame(values).astype(object)
        return frame.apply(lambda col: col.map(str).where(col.notna(), "__missing__"))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags
