"""The preprocessing stage: statistics from training rows only, clipping, log1p, encodings, per-family pipelines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl.config import FitConfig, PreprocessConfig
from automl.data.io import read_table
from automl.data.preprocess import NativeCategorical, OutlierClipper, SkewedLog1p, build_preprocessor, summarize
from automl.data.schema import infer_schema
from tests.conftest import make_frame


@parametrize_with_checks([OutlierClipper(), SkewedLog1p()])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_native_categorical_contract():
    """Its output is text categories, so sklearn's numeric output checks cannot apply; check the contract here."""
    import pickle

    from sklearn.base import clone

    enc = NativeCategorical(min_frequency=0.2, max_categories=3)
    assert clone(enc).get_params() == {"min_frequency": 0.2, "max_categories": 3}
    X = pd.DataFrame({"a": ["x", "x", "y", "y", "z", None] * 5, "b": ["p", "q", "p", "q", "p", "q"] * 5})
    out = enc.fit(X).transform(X)
    assert enc.n_features_in_ == 2 and list(enc.feature_names_in_) == ["a", "b"]
    assert out["a"].cat.categories.tolist() == ["x", "y", "__rare__"] and out["a"].isna().sum() == 5
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(enc)).transform(X), out)
    pd.testing.assert_frame_equal(clone(enc).fit(X).transform(X), out)
    assert enc.transform(pd.DataFrame({"a": ["new"], "b": ["p"]}))["a"].tolist() == ["__rare__"]
    with pytest.raises(ValueError, match="missing:\n- b"):
        enc.transform(X[["a"]])


def prepared(task: str = "binary"):
    frame, info = read_table(make_frame(task))
    schema, _y = infer_schema(frame, FitConfig(target="y"), info)
    return schema, schema.transform(frame)


def test_clipper_uses_training_rows_only():
    train = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [np.nan]])
    clipper = OutlierClipper(factor=1.0).fit(train)
    assert clipper.lower_[0] == pytest.approx(0.0) and clipper.upper_[0] == pytest.approx(6.0)
    np.testing.assert_array_equal(clipper.transform([[100.0], [-50.0], [np.nan]]).ravel()[:2], [6.0, 0.0])
    assert np.isnan(clipper.transform([[np.nan]])[0, 0])
    assert clipper.n_clipped_.tolist() == [0]
    flags = np.array([[0.0]] * 9 + [[1.0]])
    assert OutlierClipper().fit(flags).transform([[1.0]])[0, 0] == 1.0  # IQR 0: left alone


def test_log1p_only_for_skewed_non_negative_columns():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(5, 500), rng.normal(size=500), -rng.exponential(5, 500)])
    log = SkewedLog1p().fit(X)
    assert log.log_columns_.tolist() == [True, False, False]
    np.testing.assert_allclose(log.transform(X)[:, 0], np.log1p(X[:, 0]))


def test_imputation_and_scaling_statistics_come_from_training_rows():
    schema, X = prepared()
    train, valid = X.iloc[:80], X.iloc[80:].copy()
    valid["x1"] = valid["x1"] + 1000.0  # wildly different validation data must not move the statistics
    prep = build_preprocessor("dense", schema, PreprocessConfig(outlier_factor=0, log_skewed=False)).fit(train)
    scaler = prep.named_transformers_["num"].named_steps["scale"]
    imputer = prep.named_transformers_["num"].named_steps["impute"]
    assert scaler.mean_[0] == pytest.approx(train["x1"].mean())
    assert imputer.statistics_[2] == pytest.approx(train["x_nan"].median())
    refit = build_preprocessor("dense", schema, PreprocessConfig(outlier_factor=0, log_skewed=False))
    refit.fit(pd.concat([train, valid]))
    assert refit.named_transformers_["num"].named_steps["scale"].mean_[0] != pytest.approx(scaler.mean_[0])


def test_dense_pipeline_outputs_indicators_and_one_hot():
    schema, X = prepared()
    prep = build_preprocessor("dense", schema, PreprocessConfig())
    out = prep.fit_transform(X)
    names = list(prep.get_feature_names_out())
    assert "missingindicator_x_nan" in names and {"colour_blue", "colour_green", "colour_red"} <= set(names)
    assert not np.isnan(out).any()
    unseen = X.head(3).assign(colour="purple")
    assert prep.transform(unseen).shape == (3, out.shape[1])


def test_rare_levels_are_grouped():
    schema, X = prepared()
    X = X.copy()
    X.loc[X.index[:2], "colour"] = ["violet", "amber"]
    options = PreprocessConfig(rare_min_frequency=0.05)
    dense = build_preprocessor("dense", schema, options).fit(X)
    assert "colour_infrequent_sklearn" in dense.get_feature_names_out()
    native = build_preprocessor("native", schema, options).fit(X)
    cats = native.transform(X)["colour"].cat.categories.tolist()
    assert cats == ["blue", "green", "red", "__rare__"]
    assert summarize(native, schema)["rare_levels_grouped"] == {"colour": True}


def test_native_pipeline_keeps_missing_values_and_category_dtype():
    schema, X = prepared()
    out = build_preprocessor("native", schema, PreprocessConfig()).fit_transform(X)
    assert out["x_nan"].isna().sum() == X["x_nan"].isna().sum()
    assert isinstance(out["colour"].dtype, pd.CategoricalDtype)


def test_ordinal_pipeline_has_no_scaling_or_clipping():
    schema, X = prepared()
    prep = build_preprocessor("ordinal", schema, PreprocessConfig()).fit(X)
    steps = prep.named_transformers_["num"].named_steps
    assert list(steps) == ["impute"]
    out = prep.transform(X)
    np.testing.assert_allclose(out[:, 0], X["x1"])


def test_summary_reports_clipped_values_per_column():
    schema, X = prepared("regression")
    X = X.copy()
    X.loc[X.index[:3], "x1"] = 1e6
    prep = build_preprocessor("dense", schema, PreprocessConfig(outlier_factor=1.5, log_skewed=False)).fit(X)
    summary = summarize(prep, schema)
    assert summary["clipped_values"]["x1"] >= 3
    assert summary["missing_indicators"] == ["x_nan"] and summary["encoding"] == "one-hot"


@pytest.mark.parametrize("kind", ["dense", "ordinal", "native"])
def test_summary_of_a_table_without_categorical_columns(kind):
    frame, info = read_table(make_frame("regression").drop(columns="colour"))
    schema, _ = infer_schema(frame, FitConfig(target="y"), info)
    prep = build_preprocessor(kind, schema, PreprocessConfig()).fit(schema.transform(frame))
    summary = summarize(prep, schema)
    assert "encoding" not in summary and summary["output_columns"] >= 3
