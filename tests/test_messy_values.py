"""Values as real files write them: numbers written as text, extreme finite values, whitespace around labels
and categories; error messages that stay short however many values are wrong."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from automl.config import FitConfig
from automl.data.io import read_table
from automl.data.leakage import leak_reason, numeric_leak_reasons
from automl.data.numbers import NumberFormat, detect, parse
from automl.data.schema import infer_schema
from automl.errors import DataError
from automl.report import figures
from tests.test_cli import assert_error, fit, run

# ---------------------------------------------------------------- numbers written as text


@pytest.mark.parametrize(("written", "expected", "fmt"), [
    (["1,234,500", "950", "1,250", None], [1234500, 950, 1250, np.nan], NumberFormat(",", ".")),
    (["1.234.500,75", "3,5", "-12"], [1234500.75, 3.5, -12], NumberFormat(".", ",")),
    (["1 234 500", "12", "7 000,5"], [1234500, 12, 7000.5], NumberFormat(" ", ",")),
    (["1\u00a0234", "15"], [1234, 15], NumberFormat(" ", ".")),  # no-break space, as spreadsheets write it
    (["1'234.5", "99"], [1234.5, 99], NumberFormat("'", ".")),
    (["$1,200.50", "$30", "-$5", "$-6"], [1200.5, 30, -5, -6], NumberFormat(",", ".")),
    (["€ 30", "€1.200,50", "7 €"], [30, 1200.5, 7], NumberFormat(".", ",")),
    (["12.5%", "3%", "100 %"], [12.5, 3, 100], NumberFormat(",", ".")),
    (["(200)", "300", "(1,500.25)", "\u22124"], [-200, 300, -1500.25, -4], NumberFormat(",", ".")),
    (["1e5", "2,000", ".5"], [1e5, 2000, 0.5], NumberFormat(",", ".")),
    (["12.5 kg", "3 kg", "0.5kg", "7", None], [12.5, 3, 0.5, 7, np.nan], NumberFormat(",", ".", "kg")),
    (["30 km/h", "45.5 km/h"], [30, 45.5], NumberFormat(",", ".", "km/h")),
    (["21 °C", "-3 °C", "0°C"], [21, -3, 0], NumberFormat(",", ".", "°C")),
    (["21 ℃", "-3℃"], [21, -3], NumberFormat(",", ".", "℃")),
    (["1,200 USD", "30 USD"], [1200, 30], NumberFormat(",", ".", "USD")),
    (["3 bedrooms", "1 bedrooms", "4 bedrooms"], [3, 1, 4], NumberFormat(",", ".", "bedrooms")),
    (["2,5 m²", "10 m²"], [2.5, 10], NumberFormat(".", ",", "m²")),
    (["1 year", "3 years", "12 years"], [1, 3, 12], NumberFormat(",", ".", "years")),  # singular and plural
])
def test_numbers_written_as_text_are_read(written, expected, fmt):
    found = detect(pd.Series(written, dtype=object))
    assert found is not None and found[0] == fmt
    np.testing.assert_allclose(found[1].values.to_numpy(), expected)


@pytest.mark.parametrize("written", [
    ["1,2,3", "4"],  # lists, not numbers
    ["12.05.2020", "1"],  # dates
    ["$3", "€4", "€5"],  # two currencies: not one unit
    ["12%", "0.3", "0.4"],  # a percent sign on some values only
    ["abc", "1"],
    ["1,23,456", "7"],  # groups of two are not thousands
    ["(5", "6"],
    ["5 kg", "300 g", "2 kg", "1 g"],  # two units: converting them is not guessed
    ["1", "2", "3 abc", "4"],  # a word after one number only: stray text, not a unit
    ["12 Main St", "3 Oak Rd"],
    ["500", "5k", "12k", "800"],  # magnitudes, not units: 5k is 5 000, not 5
    ["$50k", "$95,000"],
    ["1st", "2nd", "3rd", "4th", "11th"],  # ordinals
    ["3 m", "4 ms"],  # metres and milliseconds are not one unit
])
def test_text_that_is_not_one_number_format_stays_text(written):
    assert detect(pd.Series(written, dtype=object)) is None


def test_decimal_comma_files_prefer_decimal_comma():
    values = pd.Series(["1,250", "3,125"])
    assert detect(values, ".")[1].values.tolist() == [1250, 3125]
    assert detect(values, ",")[1].values.tolist() == [1.25, 3.125]


def _schema(frame: pd.DataFrame, **options):
    frame, info = read_table(frame)
    return infer_schema(frame, FitConfig(target="y", **options), info)


def _price_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    area = rng.integers(500, 4000, n)
    price = area * 120 + rng.integers(0, 20000, n)
    return pd.DataFrame({"area": [f"{a:,}" for a in area], "tax": [f"${v:,.2f}" for v in rng.uniform(10, 5000, n)],
                         "share": [f"{v:.1f}%" for v in rng.uniform(1, 9, n)],
                         "code": rng.choice(["A-1", "B-2", "C-3"], n), "y": [f"{p:,}" for p in price]})


def test_a_formatted_target_is_a_regression_and_features_are_numbers(caplog):
    frame = _price_frame()
    with caplog.at_level(logging.INFO):
        schema, y = _schema(frame)
    assert schema.task == "regression"
    assert y.tolist() == [float(v.replace(",", "")) for v in frame["y"]]
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"area": "numeric", "tax": "numeric", "share": "numeric", "code": "categorical"}
    X = schema.transform(frame, strict=False)
    internal = {c.name: c.internal for c in schema.columns}
    assert X[internal["area"]].tolist() == [float(v.replace(",", "")) for v in frame["area"]]
    assert X[internal["share"]].iloc[0] == float(frame["share"].iloc[0].rstrip("%"))
    converted = [r.getMessage() for r in caplog.records if "numbers written as text" in r.getMessage()]
    assert len(converted) == 4 and any("currency symbol '$'" in m for m in converted)  # one line per column
    # predict time: the same format, also on values the training rows did not have
    new = pd.DataFrame({"area": ["12,345", "7"], "tax": ["$1,000.00", "$0.50"], "share": ["50%", "0.5%"],
                        "code": ["A-1", "B-2"]})
    out = schema.transform(new)
    assert out[internal["area"]].tolist() == [12345, 7] and out[internal["tax"]].tolist() == [1000, 0.5]
    with pytest.raises(DataError, match="must hold numbers"):
        schema.transform(new.assign(area=["12,345", "lots"]))


def test_number_parsing_can_be_turned_off():
    frame = _price_frame().drop(columns="y").assign(y=np.tile(["a", "b"], 30))
    schema, _ = _schema(frame, parse_numbers=False)
    assert {c.name: c.kind for c in schema.columns}["share"] == "categorical"
    schema, _ = _schema(frame, categorical=("area",))
    assert {c.name: c.kind for c in schema.columns}["area"] == "categorical"


def test_a_mostly_formatted_column_names_the_odd_values():
    frame = _price_frame(n=100)
    frame.loc[[3, 40], "area"] = ["unknown", "n/a?"]
    with pytest.raises(DataError) as err:
        _schema(frame)
    assert "'unknown'" in str(err.value) and "rows 4, 41" in str(err.value)


def test_formatted_numbers_end_to_end(write_csv, tmp_path):
    frame = _price_frame(n=80)
    result = fit(write_csv(frame), tmp_path / "run", target="y")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "run" / "run.json").read_text())["task"] == "regression"
    preds = tmp_path / "preds.csv"
    result = run("predict", tmp_path / "run", write_csv(frame.drop(columns="y").head(10), "new.csv"), "--output", preds)
    assert result.exit_code == 0, result.output
    values = pd.read_csv(preds)["prediction"]
    assert len(values) == 10 and np.isfinite(values).all() and values.between(50_000, 600_000).all()


def _thousands_points(write_csv) -> tuple[pd.DataFrame, object]:
    """A semicolon file whose amounts have a thousands point (``4.253.270``), a few of them one group only."""
    rng = np.random.default_rng(0)
    amounts = np.r_[rng.integers(1_000_000, 5_000_000, 57), [113_754, 2_500, 999_999]]
    frame = pd.DataFrame({"amount": [f"{v:,}".replace(",", ".") for v in amounts], "z": rng.normal(size=60),
                          "y": np.tile(["a", "b"], 30)})
    table, info = read_table(write_csv(frame, sep=";"))
    schema, _ = infer_schema(table, FitConfig(target="y"), info)
    return table, schema


def test_numbers_with_a_thousands_point_are_read_in_that_format_at_fit_and_at_predict(write_csv):
    """``113.754`` in a column written ``4.253.270`` is 113 754 (a plain reading takes it for 113.754), in
    training and in a file to score, even one whose values all have one group (which a CSV reader takes for
    decimals)."""
    from automl.predictor import Predictor

    table, schema = _thousands_points(write_csv)
    assert {c.name: c.number_format for c in schema.features}["amount"] == (".", ",", "")
    np.testing.assert_array_equal(schema.transform(table)["amount"].tail(3), [113_754, 2_500, 999_999])
    predictor = Predictor(schema, None, "linear", "0")
    new = write_csv(pd.DataFrame({"amount": ["2.500", "1.234", "12.345"], "z": [0.0] * 3}), "new.csv", sep=";")
    frame, _ = predictor.read(new)
    np.testing.assert_array_equal(schema.transform(frame)["amount"], [2_500, 1_234, 12_345])
    bad = write_csv(pd.DataFrame({"amount": ["1.234", "12.5"], "z": [0.0] * 2}), "bad.csv", sep=";")
    frame, _ = predictor.read(bad)
    with pytest.raises(DataError, match=r"thousands separator '\.', decimal mark ',', e\.g\. 1\.234,5\) but has "
                                        r"text \('12\.5'\) at row 2"):
        schema.transform(frame, where="bad.csv")
    # numbers that are numbers (a DataFrame's floats in a column of text) stay as they are
    mixed = pd.DataFrame({"amount": pd.Series(["4.253.270", 2500.5, 1234, None], dtype=object), "z": [0.0] * 4})
    np.testing.assert_array_equal(schema.transform(mixed)["amount"], [4_253_270, 2500.5, 1234, np.nan])


def test_a_percent_column_reads_a_file_to_score_as_before_whatever_its_mix():
    """Written "12%" in training: a file to score with "12%" beside "0.3" reads both (a format applied to the
    whole file made the minority fail, whichever it was)."""
    frame = pd.DataFrame({"rate": [f"{v}%" for v in range(40)], "y": np.tile(["a", "b"], 20)})
    schema, _ = _schema(frame)
    for written, expected in ((["12%", "13%", "0.3"], [12, 13, 0.3]), (["12%", "0.3", "0.5"], [12, 0.3, 0.5])):
        np.testing.assert_array_equal(schema.transform(pd.DataFrame({"rate": written}))["rate"], expected)


def test_messages_never_list_hundreds_of_values(write_csv, tmp_path):
    frame = _price_frame(n=300)
    result = fit(write_csv(frame), tmp_path / "run", "--no-parse-numbers", target="y")
    assert_error(result, 2, "occur only once", "more")
    assert len(result.output) < 800, result.output


# ---------------------------------------------------------------- extreme finite values


def test_values_no_model_can_hold_are_treated_as_missing(caplog):
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    x[:3], x[3:5], x[5:7], x[7:9] = 1.7e308, -1.7e308, 1e300, np.inf
    kept = rng.normal(size=60)
    kept[:2], kept[2:4] = 3e38, 1e-310  # within float32's range, and subnormal: kept as they are
    frame = pd.DataFrame({"x": x, "kept": kept, "y": np.tile(["a", "b"], 30)})
    with caplog.at_level(logging.WARNING):
        schema, _ = _schema(frame)
    X = schema.transform(frame, strict=False)
    assert X["x"].isna().sum() == 9 and X["kept"].isna().sum() == 0 and X["kept"].iloc[0] == 3e38
    warning = next(r.getMessage() for r in caplog.records if "'x'" in r.getMessage())
    assert "9 value(s) that are infinite or beyond" in warning and "rows 1, 2, 3, 4, 5 and 4 more" in warning
    assert schema.transform(frame.head(5))["x"].isna().all()  # at predict time too


def test_a_target_beyond_float32_is_an_error():
    frame = pd.DataFrame({"x": np.arange(30.0), "y": np.r_[np.arange(29.0), 1e300]})
    with pytest.raises(DataError, match=r"beyond ±3\.4e38 at row 30"):
        _schema(frame)


def test_a_plot_that_cannot_be_drawn_becomes_a_note():
    svg = figures.histograms([{"name": "x", "hist_edges": [0.0, np.inf], "hist_counts": [1, 2, 3]}])
    assert svg.startswith('<p class="note">This plot could not be drawn')


# ---------------------------------------------------------------- whitespace around labels and categories


def _income_frame(n: int = 90) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    label = np.where(rng.random(n) < 0.4, ">50K", "<=50K")
    pad = rng.integers(0, 3, n)
    work = rng.choice(["Private", "Gov"], n)
    return pd.DataFrame({"age": rng.integers(18, 80, n),
                         "work": [[w, f" {w}", f"{w}  "][p] for w, p in zip(work, pad, strict=True)],
                         "note": [" ", *rng.choice(["x", "y"], n - 1)],
                         "y": [[v, f" {v}", f"{v} "][p] for v, p in zip(label, pad[::-1], strict=True)]})


def test_whitespace_variants_are_one_label_and_one_level(caplog):
    frame = _income_frame()
    with caplog.at_level(logging.WARNING):
        schema, y = _schema(frame)
    assert schema.task == "binary" and schema.classes == ["<=50K", ">50K"]
    assert set(y) == {"<=50K", ">50K"}
    work = next(c for c in schema.columns if c.name == "work")
    assert work.levels == ("Gov", "Private") and work.n_unique == 2
    note = next(c for c in schema.columns if c.name == "note")
    assert note.n_missing == 1  # a cell of spaces is an empty cell
    merged = [r.getMessage() for r in caplog.records if "differ only by surrounding whitespace" in r.getMessage()]
    assert len(merged) == 2 and any("'>50K' from" in m for m in merged)
    out = schema.transform(pd.DataFrame({"age": [30], "work": ["  Gov "], "note": ["x"]}))
    assert out[work.internal].tolist() == ["Gov"]


def test_keep_whitespace_keeps_the_variants():
    schema, _ = _schema(_income_frame(), keep_whitespace=True)
    assert schema.task == "multiclass" and len(schema.classes) == 6


def test_predictions_use_the_stripped_labels(write_csv, tmp_path):
    frame = _income_frame(120)
    result = fit(write_csv(frame), tmp_path / "run")
    assert result.exit_code == 0, result.output
    preds = tmp_path / "preds.csv"
    result = run("predict", tmp_path / "run", write_csv(frame.drop(columns="y"), "new.csv"), "--output", preds)
    assert result.exit_code == 0, result.output
    out = pd.read_csv(preds, keep_default_na=False)
    assert set(out["prediction"]) <= {"<=50K", ">50K"} and {"<=50K", ">50K"} <= set(out.columns)


# ---------------------------------------------------------------- the leakage check on many columns at once


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_vectorised_leak_check_agrees_with_the_column_by_column_one(task):
    rng = np.random.default_rng(3)
    n = 80
    y = rng.integers(0, 3 if task == "multiclass" else 2, n) if task != "regression" else rng.normal(size=n)
    columns = [rng.normal(size=n), rng.integers(0, 4, n).astype(float), np.round(rng.normal(size=n), 1),
               np.zeros(n), y * 10.0 + rng.random(n), (y * 2.0 + 1) if task == "regression" else y * 1.0,
               np.argsort(np.argsort(y)).astype(float)]
    values = np.column_stack(columns)
    fast = numeric_leak_reasons(values, y, task)
    slow = [leak_reason(pd.Series(values[:, j]), y, task) for j in range(values.shape[1])]
    assert fast == slow
    assert any(r is not None for r in fast)


def test_parse_marks_what_did_not_parse():
    parsed = parse(pd.Series(["1,000", "x", None, "2"]), NumberFormat())
    assert parsed.ok.tolist() == [True, False, False, True]
    assert parsed.values.iloc[0] == 1000 and np.isnan(parsed.values.iloc[1])



def test_keep_whitespace_on_the_command_line(write_csv, tmp_path):
    result = fit(write_csv(_income_frame(120)), tmp_path / "run", "--keep-whitespace")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["task"] == "multiclass" and len(meta["data"]["classes"]) == 6
    assert meta["config"]["keep_whitespace"] is True


def test_extreme_values_fit_predict_and_report(write_csv, tmp_path):
    rng = np.random.default_rng(2)
    n = 90
    x = rng.normal(size=n)
    x[:3], x[3:6], x[6:9], x[9:12] = 1.7e308, -1.7e308, 3e38, 5e-324
    z = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "z": z, "huge": rng.normal(size=n) * 1e37,
                          "y": np.where(z + rng.normal(scale=0.3, size=n) > 0, "up", "down")})
    out = tmp_path / "run"
    result = run("fit", write_csv(frame), "--target", "y", "--output", out, "--trials", "1", "--folds", "3",
                 "--repeats", "1", "--models", "linear,lightgbm,xgboost,hist_gb,random_forest,adaboost")
    assert result.exit_code == 0, result.output
    board = pd.read_csv(out / "leaderboard.csv")
    assert (board.loc[board["kind"] != "ensemble", "status"] == "ok").all()  # every family trained
    assert (out / "report.html").stat().st_size > 10_000
    new = frame.drop(columns="y").iloc[:12]
    preds = tmp_path / "preds.csv"
    result = run("predict", out, write_csv(new, "new.csv"), "--output", preds)
    assert result.exit_code == 0, result.output
    probabilities = pd.read_csv(preds)[["down", "up"]].to_numpy()
    assert np.isfinite(probabilities).all() and np.allclose(probabilities.sum(axis=1), 1)


def test_numbers_with_a_unit_are_read_at_fit_and_a_file_in_another_unit_is_refused(caplog):
    """``12.5 kg`` was a category (or, all distinct, dropped as ID-like): the numbers are read, the unit is kept
    with the column, and a file to score in grams is an error, not numbers 1 000 times too large."""
    rng = np.random.default_rng(0)
    weight = np.round(rng.uniform(1, 90, 60), 1)
    frame = pd.DataFrame({"weight": [f"{w} kg" for w in weight], "y": np.where(weight > 45, "heavy", "light")})
    with caplog.at_level(logging.INFO, logger="automl"):
        schema, _ = _schema(frame)
    column = {c.name: c for c in schema.features}["weight"]
    assert column.kind == "numeric" and column.number_format == (",", ".", "kg")
    assert "stripped unit 'kg'" in caplog.text
    np.testing.assert_array_equal(schema.transform(frame)["weight"], weight)
    np.testing.assert_array_equal(schema.transform(pd.DataFrame({"weight": ["3 kg", "4"]}))["weight"], [3, 4])
    with pytest.raises(DataError, match=r"must hold numbers written as in training \(in 'kg', e\.g\. 12\.5 kg\) but "
                                        r"has text \('300 g'\) at row 2"):
        schema.transform(pd.DataFrame({"weight": ["3 kg", "300 g"]}), where="new.csv")


def test_the_report_names_the_unit_a_column_was_read_in(tmp_path):
    from automl import AutoML

    rng = np.random.default_rng(0)
    weight = np.round(rng.uniform(1, 90, 80), 1)
    noisy = weight + rng.normal(scale=15, size=len(weight))  # not a perfect split (that is a leakage warning)
    frame = pd.DataFrame({"weight": [f"{w} kg" for w in weight], "y": np.where(noisy > 45, "heavy", "light")})
    AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1, output=tmp_path / "run").fit(frame)
    profile = json.loads((tmp_path / "run" / "profile.json").read_text(encoding="utf-8"))
    assert {c["name"]: c.get("unit") for c in profile["columns"]}["weight"] == "kg"
    assert "<td>weight</td><td>numeric (in kg)</td>" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")


def test_numbers_in_different_units_are_named_not_read(caplog):
    """A column of "5 kg" and "300 g" was dropped as ID-like without a word about its units."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": [f"{v} {u}" for v, u in zip(range(40), ["kg", "g"] * 20, strict=True)],
                          "x": rng.normal(size=40), "y": np.tile(["a", "b"], 20)})
    with caplog.at_level(logging.WARNING, logger="automl"):
        schema, _ = _schema(frame)
    dropped = {c.name: c for c in schema.dropped}["size"]
    assert dropped.reason.endswith("numbers in different units ('kg', 'g'), not converted")
    assert caplog.text.count("different units") == 1  # in the drop's warning, not twice


def test_codes_that_look_like_numbers_in_units_are_categories_without_a_warning(caplog):
    """Ames' House.Style ("1Story", "1.5Fin", "2.5Unf", "SLvl") warned of numbers in different units: a few
    levels are codes; many levels in several units are still named."""
    rng = np.random.default_rng(0)
    styles = rng.choice(["1Story", "2Story", "1.5Fin", "1.5Unf", "2.5Unf", "SLvl"], 120, p=[.4, .3, .1, .1, .05, .05])
    weights = [f"{v} {u}" for v, u in zip(rng.integers(1, 25, 120), rng.choice(["kg", "g"], 120), strict=True)]
    frame = pd.DataFrame({"style": styles, "weight": weights, "x": rng.normal(size=120), "y": np.tile(["a", "b"], 60)})
    with caplog.at_level(logging.WARNING, logger="automl"):
        schema, _ = _schema(frame)
    kinds = {c.name: c.kind for c in schema.features}
    assert kinds["style"] == kinds["weight"] == "categorical"
    assert "'style'" not in caplog.text
    assert "'weight' in <DataFrame> holds numbers in different units ('g', 'kg')" in caplog.text


def test_an_extreme_regression_target_value_is_named_and_scores_stay_readable(caplog):
    """1e30 among values near 1 went unremarked, and every score printed as 29 digits and ".0000"."""
    from automl.errors import format_score
    from automl.report.sections import format_number

    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = 1 + x + rng.normal(scale=0.1, size=300)
    y[7] = 1e30
    with caplog.at_level(logging.WARNING, logger="automl"):
        _schema(pd.DataFrame({"x": x, "y": y}))
    assert "Regression target 'y' in <DataFrame> has 1 value(s) far outside the others (1e+30 at row 8" in caplog.text
    caplog.clear()
    heavy = np.exp(rng.normal(0, 2, size=1000))  # a heavy tail, not a slip
    with caplog.at_level(logging.WARNING, logger="automl"):
        _schema(pd.DataFrame({"x": rng.normal(size=1000), "y": heavy}))
    assert "far outside" not in caplog.text
    assert [format_score(v) for v in (0.82861, 33.32134, 0.0, 3.8807e28, 2e-7)] == [
        "0.8286", "33.3213", "0.0000", "3.881e+28", "2e-07"]
    assert [format_number(v) for v in (0.82861, 123456.4, 3.8807e28)] == ["0.8286", "123,456", "3.881e+28"]


def test_a_column_of_units_with_a_few_other_values_still_fits():
    """"1 year" beside "N years" and ordinals (1st, 2nd, 4th) stopped the fit with "holds numbers but also
    text"; a few values in another unit leave the column as it was before units were read, with a warning."""
    rng = np.random.default_rng(0)
    years = rng.integers(1, 30, 200)
    frame = pd.DataFrame({"experience": [f"{v} year{'s' if v > 1 else ''}" for v in years],
                          "rank": [f"{v}{'st' if v == 1 else 'nd' if v == 2 else 'rd' if v == 3 else 'th'}"
                                   for v in rng.integers(1, 60, 200)],
                          "age": [f"{v} yr" if i < 12 else f"{v} years" for i, v in enumerate(years)],
                          "y": np.where(years > 15, "senior", "junior")})
    schema, _ = _schema(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds["experience"] == "numeric" and kinds["rank"] != "numeric" and kinds["age"] != "numeric"
    np.testing.assert_array_equal(schema.transform(frame)["experience"], years)
