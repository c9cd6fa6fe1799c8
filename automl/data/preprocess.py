"""The preprocessing stage: scikit-learn transformers fitted inside each CV fold on the training part only.

Three pipelines, chosen by each model family (``ModelSpec.preprocessing``):

``dense``   neural nets and linear models: log1p of skewed features → IQR clipping → median imputation
            + missing indicators → scaling; categories one-hot encoded with rare levels grouped.
``ordinal`` scikit-learn tree ensembles: median imputation + missing indicators (no clipping or scaling,
            which trees do not need); categories ordinal-encoded with rare levels grouped.
``native``  LightGBM / XGBoost / CatBoost / HistGradientBoosting: numbers passed through with their
            missing values; categories as a pandas ``category`` dtype the libraries handle natively.
``neural``  the tabular networks: median imputation + missing indicators → robust scaling (median / IQR) →
            smooth clipping; categories one-hot up to 9 levels, integer codes for learnt embeddings above
            (:mod:`automl.data.network_inputs`). Output: a DataFrame whose column names give each column's role.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from automl.config import PreprocessConfig
from automl.data.network_inputs import MISSING_LEVEL, RobustSmoothScaler, SplitCategoricalEncoder, as_text
from automl.data.schema import Schema
from automl.data.text import TEXT_COMPONENTS, TextFeatures
from automl.errors import ConfigError, choices

PIPELINES = ("dense", "ordinal", "native", "neural")
MISSING = "__missing__"
RARE = "__rare__"
SCALER_CLASSES = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


class _NanAware:
    """Tag for scikit-learn's checks: missing values pass through these transformers."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.allow_nan = True
        return tags


class ByName:
    """A ColumnTransformer column selector: the positions of ``names`` in the fitted frame, looked up once by
    hash (scikit-learn resolves a list of names with ``list.index``, quadratic in the number of columns: 0.6 s
    per fold on a 5 000-column table)."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)

    def __call__(self, X: pd.DataFrame) -> np.ndarray:
        positions = pd.Index(X.columns).get_indexer(self.names)
        if (positions < 0).any():
            missing = [n for n, p in zip(self.names, positions, strict=True) if p < 0]
            raise ValueError(f"Columns not in the data: {missing[:5]}")
        return positions


def _columns(prep: ColumnTransformer, cols: Any) -> list[str]:
    """Column names of one fitted transformer's input (its selector may have resolved to positions)."""
    if len(cols) and not isinstance(cols[0], str):
        return [str(c) for c in np.asarray(prep.feature_names_in_)[np.asarray(cols, dtype=int)]]
    return list(cols)


class OutlierClipper(_NanAware, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Winsorise numeric columns at the IQR fences ``[Q1 - factor*IQR, Q3 + factor*IQR]``.

    Quartiles come from the rows given to ``fit`` (missing values ignored and kept). Columns whose IQR is
    0 (mostly one value, e.g. 0/1 flags) are left alone. ``n_clipped_`` counts the training values clipped.
    """

    def __init__(self, factor: float = 3.0) -> None:
        self.factor = factor

    def fit(self, X: Any, y: Any = None) -> OutlierClipper:
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        q1, q3 = _quartiles(X)
        iqr = np.nan_to_num(q3 - q1)
        active = iqr > 0
        self.lower_ = np.where(active, q1 - self.factor * iqr, -np.inf)
        self.upper_ = np.where(active, q3 + self.factor * iqr, np.inf)
        with np.errstate(invalid="ignore"):
            self.n_clipped_ = ((X < self.lower_) | (X > self.upper_)).sum(axis=0).astype(int)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return np.clip(X, self.lower_, self.upper_)


def _quartiles(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns' first and third quartiles, missing values ignored (``nanpercentile`` loops over columns in
    Python: only the columns with missing values take that path)."""
    if not len(X):
        return np.zeros(X.shape[1]), np.zeros(X.shape[1])
    q = np.full((2, X.shape[1]), np.nan)
    gaps = np.isnan(X).any(axis=0)
    if (~gaps).any():
        q[:, ~gaps] = np.percentile(X[:, ~gaps], [25, 75], axis=0)
    if gaps.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns: NaN quartiles, left alone
            q[:, gaps] = np.nanpercentile(X[:, gaps], [25, 75], axis=0)
    return q[0], q[1]


class SkewedLog1p(_NanAware, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Apply ``log1p`` to columns that are non-negative and skewed beyond ``threshold`` in the fit data.

    New negative values (never seen in training) are floored at 0 before the log.
    """

    def __init__(self, threshold: float = 1.0) -> None:
        self.threshold = threshold

    def fit(self, X: Any, y: Any = None) -> SkewedLog1p:
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        frame = pd.DataFrame(X)
        skew = frame.skew().fillna(0).to_numpy()
        non_negative = (frame.min().fillna(-1) >= 0).to_numpy()
        self.log_columns_ = non_negative & (np.abs(skew) > self.threshold)
        self.skewness_ = skew
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False).copy()
        cols = self.log_columns_
        X[:, cols] = np.log1p(np.maximum(X[:, cols], 0))
        return X


class NativeCategorical(_NanAware, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Text categories → pandas ``category`` columns with a fixed level set learnt from the fit data.

    Levels rarer than ``min_frequency`` (a share of rows), or beyond the ``max_categories`` most frequent,
    are grouped into one ``__rare__`` level; unseen levels map to it too (or to missing if there is none).
    """

    def __init__(self, min_frequency: float = 0.01, max_categories: int = 30) -> None:
        self.min_frequency = min_frequency
        self.max_categories = max_categories

    def fit(self, X: Any, y: Any = None) -> NativeCategorical:
        frame = self._frame(X, reset=True)
        self.categories_ = []
        for name in frame.columns:
            counts = frame[name].value_counts()
            keep = counts[counts >= max(1.0, self.min_frequency * len(frame))].index[: self.max_categories - 1]
            levels = sorted(str(v) for v in keep)
            if len(keep) < len(counts):
                levels.append(RARE)
            self.categories_.append(levels)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        out = {}
        for name, levels in zip(frame.columns, self.categories_, strict=True):
            values = frame[name].to_numpy(dtype=object)
            codes = pd.Index(levels, dtype=object).get_indexer(values)  # -1: missing or not a level
            if RARE in levels:  # an unseen (not missing) level is rare
                codes = np.where((codes < 0) & pd.notna(values), levels.index(RARE), codes)
            out[name] = pd.Categorical.from_codes(codes, categories=levels)
        return pd.DataFrame(out, index=frame.index)

    def _frame(self, X: Any, reset: bool) -> pd.DataFrame:
        index = X.index if isinstance(X, pd.DataFrame) else None
        values = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
        names = getattr(self, "feature_names_in_", None)
        columns = list(names) if names is not None else list(range(values.shape[1]))
        return pd.DataFrame(as_text(values, missing=None), columns=columns, index=index)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


def build_preprocessor(kind: str, schema: Schema, options: PreprocessConfig,
                       sparse_text: bool = True) -> ColumnTransformer:
    """Build the (unfitted) preprocessing transformer of one pipeline kind for this schema.

    ``sparse_text``: in the ``dense`` pipeline, free-text columns become their sparse TF-IDF (for a model that
    takes sparse input: :attr:`automl.models.base.ModelSpec.sparse_text`); otherwise, as in the other pipelines,
    its SVD projection, scaled.
    """
    if kind not in PIPELINES:
        raise ConfigError(f"Unknown preprocessing pipeline {kind!r}; choose one of {choices(PIPELINES)}.")
    numeric = schema.prepared_columns("numeric")
    categorical = schema.prepared_columns("categorical")
    text = schema.prepared_columns("text")
    steps: list[tuple[str, Any, Any]] = []
    if kind == "native":
        steps.append(("num", "passthrough", ByName(numeric)))
        steps.append(("cat", NativeCategorical(options.rare_min_frequency, options.max_categories),
                      ByName(categorical)))
        steps += _text_steps(text, kind)
        ct = ColumnTransformer(steps, verbose_feature_names_out=False)
        return ct.set_output(transform="pandas")
    if kind == "neural":
        # The same columns on every fold (see automl.data.network_inputs): a missing indicator for each number
        # with missing values in the training table, and the schema's category levels.
        number = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                           ("scale", RobustSmoothScaler())])
        steps.append(("num", number, ByName(numeric)))
        with_missing = [n for c in schema.features if c.kind not in ("categorical", "text") and c.n_missing > 0
                        for n in c.outputs()]
        steps.append(("missing", MissingIndicator(features="all", error_on_new=False), ByName(with_missing)))
        levels = [[*c.levels, *([MISSING_LEVEL] if c.n_missing > 0 else [])] for c in schema.features
                  if c.kind == "categorical"]
        steps.append(("cat", SplitCategoricalEncoder(categories=levels if all(levels) else None),
                      ByName(categorical)))
        steps += _text_steps(text, kind)
        # the prefixes ("num__", "missing__", "cat__", "text…__") tell the network each column's role
        ct = ColumnTransformer(steps, verbose_feature_names_out=True, sparse_threshold=0.0)
        return ct.set_output(transform="pandas")
    sparse = bool(text) and kind == "dense" and sparse_text
    steps.append(("num", _numeric_pipeline(kind, options), ByName(numeric)))
    if sparse:  # a sparse output takes no empty part: the columns with missing values in the table
        with_missing = [n for c in schema.features if c.kind not in ("categorical", "text") and c.n_missing > 0
                        for n in c.outputs()]
        if with_missing:
            steps.append(("missing", MissingIndicator(features="all", error_on_new=False), ByName(with_missing)))
    else:
        steps.append(("missing", MissingIndicator(features="missing-only", error_on_new=False), ByName(numeric)))
    steps.append(("cat", _categorical_pipeline(kind, options), ByName(categorical)))
    steps += _text_steps(text, "dense" if sparse else ("neural" if kind == "dense" else kind))
    # with text, the linear model's TF-IDF stays sparse (the whole output is then a sparse matrix)
    return ColumnTransformer(steps, verbose_feature_names_out=False, sparse_threshold=1.0 if sparse else 0.0)


def _text_steps(columns: list[str], kind: str) -> list[tuple[str, Any, str]]:
    """One step per free-text column (:mod:`automl.data.text`): its TF-IDF for the linear model (``dense``),
    its truncated-SVD projection for the others (scaled as numbers are for the network)."""
    steps: list[tuple[str, Any, str]] = []
    for i, name in enumerate(columns):
        if kind == "dense":
            step: Any = TextFeatures(prefix=name)
        elif kind == "neural":
            step = Pipeline([("tfidf", TextFeatures(TEXT_COMPONENTS, prefix=name)), ("scale", RobustSmoothScaler())])
        else:
            step = TextFeatures(TEXT_COMPONENTS, prefix=name)
        steps.append((f"text{i}", step, name))  # a column name, not a list: the step gets one 1-D column
    return steps


def _numeric_pipeline(kind: str, options: PreprocessConfig) -> Pipeline:
    steps: list[tuple[str, Any]] = []
    if kind == "dense":
        if options.log_skewed:
            steps.append(("log1p", SkewedLog1p(options.skew_threshold)))
        if options.outlier_factor > 0:
            steps.append(("clip", OutlierClipper(options.outlier_factor)))
    steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
    if kind == "dense":
        steps.append(("scale", SCALER_CLASSES[options.scaler]()))
    return Pipeline(steps)


def _categorical_pipeline(kind: str, options: PreprocessConfig) -> Pipeline:
    impute = SimpleImputer(strategy="constant", fill_value=MISSING)
    encoder: Any
    if kind == "dense":
        encoder = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=options.rare_min_frequency,
                                max_categories=options.max_categories, sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                 min_frequency=options.rare_min_frequency, max_categories=options.max_categories)
    return Pipeline([("impute", impute), ("encode", encoder)])


def summarize(prep: ColumnTransformer, schema: Schema) -> dict[str, Any]:
    """What a fitted preprocessor did, in numbers, keyed by the users' column names (JSON-ready)."""
    out: dict[str, Any] = {"output_columns": len(prep.get_feature_names_out())}
    names = schema.original_names()

    def user(internal: str) -> str:
        return names.get(internal, internal)

    named = dict((name, (trans, _columns(prep, cols))) for name, trans, cols in prep.transformers_)
    num_trans, num_cols = named.get("num", (None, []))
    if isinstance(num_trans, Pipeline) and len(num_cols):
        steps = num_trans.named_steps
        users = [user(c) for c in num_cols]
        if "clip" in steps:
            out["clipped_values"] = {u: int(n) for u, n in zip(users, steps["clip"].n_clipped_, strict=True) if n}
        if "log1p" in steps:
            out["log1p_columns"] = [u for u, on in zip(users, steps["log1p"].log_columns_, strict=True) if on]
        out["imputed_medians"] = {u: float(m) for u, m in zip(users, steps["impute"].statistics_, strict=True)}
        if "scale" in steps:
            out["scaler"] = type(steps["scale"]).__name__
    miss, miss_cols = named.get("missing", (None, []))
    if isinstance(miss, MissingIndicator) and len(miss_cols):
        out["missing_indicators"] = [user(miss_cols[i]) for i in miss.features_]
    cat, cat_cols = named.get("cat", (None, []))
    if not len(cat_cols):  # ColumnTransformer leaves transformers without columns unfitted
        return out
    if isinstance(cat, Pipeline):
        encoder = cat.named_steps["encode"]
        out["encoding"] = "one-hot" if isinstance(encoder, OneHotEncoder) else "ordinal"
        infrequent = getattr(encoder, "infrequent_categories_", None) or [None] * len(cat_cols)
        grouped = zip(cat_cols, infrequent, strict=True)
        out["rare_levels_grouped"] = {user(c): len(v) for c, v in grouped if v is not None and len(v)}
    elif isinstance(cat, SplitCategoricalEncoder):
        out["encoding"] = "one-hot up to 9 levels, embeddings above"
        grouped = zip(cat_cols, cat.coded_, strict=True)
        out["embedded_columns"] = [user(c) for c, coded in grouped if coded]
    elif isinstance(cat, NativeCategorical):
        out["encoding"] = "native categorical"
        grouped = zip(cat_cols, cat.categories_, strict=True)
        out["rare_levels_grouped"] = {user(c): True for c, lv in grouped if RARE in lv}
    return out


def describe(kind: str, options: PreprocessConfig, text: bool = False) -> list[str]:
    """The steps of one pipeline kind in words, for the report (``text``: the table has free-text columns)."""
    steps = _describe(kind, options)
    return [*steps, TEXT_STEPS["dense" if kind == "dense" else "other"]] if text else steps


def _describe(kind: str, options: PreprocessConfig) -> list[str]:
    rare = (f"levels rarer than {options.rare_min_frequency:.0%} of rows, or beyond the {options.max_categories} "
            "most frequent, are grouped into one 'rare' level; unseen levels go there too")
    if kind == "neural":
        return ["Missing numbers imputed with the training median, plus a 0/1 missing-indicator column for each "
                "column that had missing values.",
                "Numbers centred on the training median, divided by the interquartile range, then clipped "
                "smoothly: x / sqrt(1 + (x/3)^2) (RealMLP, Holzmüller et al. 2024).",
                "Categorical columns with at most 9 levels one-hot encoded; those with more become integer codes "
                "for embeddings the network learns (levels seen once, and unseen ones, share a code)."]
    if kind == "native":
        return ["Numeric columns pass through unchanged; missing values are left to the model, which learns "
                "where to send them.", f"Categorical columns become pandas categories for native handling; {rare}."]
    steps = []
    if kind == "dense":
        if options.log_skewed:
            steps.append(f"log1p of non-negative numeric columns whose skewness exceeds {options.skew_threshold:g}.")
        if options.outlier_factor > 0:
            steps.append(f"Outliers clipped to the quartiles ± {options.outlier_factor:g} × IQR (fences learnt "
                         "on the training rows).")
    steps.append("Missing numbers imputed with the training median, plus a 0/1 missing-indicator column for each "
                 "column that had missing values.")
    if kind == "dense":
        steps.append(f"Numbers scaled ({options.scaler} scaler).")
        steps.append(f"Categorical columns one-hot encoded; {rare}.")
    else:
        steps.append(f"Categorical columns ordinal-encoded (no scaling: trees do not need it); {rare}.")
    return steps


TEXT_STEPS = {
    "dense": "Free-text columns: TF-IDF of word 1-2-grams and character 3-5-grams (vocabularies learnt on the "
             "training rows, at most 20 000 each), kept sparse for the linear model; a network given this pipeline "
             f"gets its projection to {TEXT_COMPONENTS} columns by truncated SVD, scaled.",
    "other": f"Free-text columns: the same TF-IDF, projected to {TEXT_COMPONENTS} columns by truncated SVD "
             "(latent semantic analysis), learnt on the training rows.",
}
