"""Input kinds that other tools fail on: quoted multi-line text in a CSV, datetimes with several UTC offsets, class
labels named like an output column."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.api import AutoML
from automl.config import FitConfig, separator
from automl.data import datetimes
from automl.data.io import read_table
from automl.data.schema import infer_schema
from automl.errors import ConfigError, DataError
from tests.test_cli import EXIT_BAD_INPUT, assert_error, fit, run

# ---------------------------------------------------------------- CSV files whose quoted cells hold newlines


def _tickets(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A support-ticket export: its notes hold newlines, semicolons, commas, tabs, pipes and quotes."""
    rng = np.random.default_rng(seed)
    notes = [f'customer says: line one; item {i}\nsecond line; with "quotes", a\ttab | and more' for i in range(n)]
    notes[0] = "\n".join(";".join(f"f{j}={rng.integers(100)}" for j in range(6)) for _ in range(60))  # a pasted log
    notes[7] = ("paste; " * 1000 + "\n") * 17  # 119 017 characters
    return pd.DataFrame({"ticket": np.arange(n), "priority": rng.choice(["low", "mid", "high"], n),
                         "hours": rng.gamma(2, 3, n).round(2), "notes": notes,
                         "channel": rng.choice(["mail", "phone"], n), "escalated": rng.choice(["yes", "no"], n)})


@pytest.mark.parametrize(("sep", "decimal", "lineterminator"), [
    (",", ".", "\n"), (";", ",", "\n"), ("\t", ".", "\n"), ("|", ".", "\n"), (",", ".", "\r\n"),
])
def test_delimiter_is_the_one_under_which_whole_records_parse(sep, decimal, lineterminator, write_csv):
    frame = _tickets()
    path = write_csv(frame, sep=sep, decimal=decimal, lineterminator=lineterminator)
    out, info = read_table(path)
    assert out.shape == (300, 6) and info.delimiter == sep and info.decimal == decimal
    assert out["notes"].str.replace("\r\n", "\n").tolist() == frame["notes"].tolist()
    np.testing.assert_allclose(out["hours"], frame["hours"])


def test_a_gzipped_file_and_a_header_with_quoted_delimiters(write_csv, tmp_path):
    frame = _tickets(n=40).rename(columns={"hours": "hours; spent, total"})
    path = tmp_path / "tickets.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        frame.to_csv(fh, index=False)
    out, info = read_table(path)
    assert out.shape == (40, 6) and info.delimiter == "," and out.columns[2] == "hours; spent, total"


def test_long_cells_past_the_first_sample_do_not_decide_the_delimiter(write_csv):
    frame = _tickets(n=30)
    frame["notes"] = [("a;b;c;d\n" * 20000) if i < 3 else "x;y" for i in range(30)]  # 480 kB in the first rows
    out, info = read_table(write_csv(frame))
    assert out.shape == (30, 6) and info.delimiter == ","


def test_row_numbers_count_data_rows_not_lines(write_csv):
    frame = _tickets(n=40)
    text = frame.to_csv(index=False).splitlines(keepends=True)
    broken = "".join(text) + '40,low,1.5,"a\nb",mail,yes,EXTRA\n'
    with pytest.raises(DataError, match=r"row 41 \(from line \d+ of the file\) has 7 fields, the header 6"):
        read_table(write_csv(broken))
    unclosed = "".join(text) + '40,low,1.5,"never closed\n'
    with pytest.raises(DataError, match=r"a quote opened in row 41 \(line \d+ of the file\) is never closed"):
        read_table(write_csv(unclosed))
    frame["hours"] = frame["hours"].astype(object)
    frame.loc[29, "hours"] = "oops"  # data row 30, which starts far below line 31 of the file
    frame["y"] = np.tile([1.0, 2.0], 20)
    data, info = read_table(write_csv(frame))
    with pytest.raises(DataError, match=r"'oops'.* at row 30\b"):
        infer_schema(data, FitConfig(target="y"), info)


def test_long_cells_are_cut_short_in_messages(caplog, write_csv):
    frame = _tickets(n=40)
    frame.loc[3, "notes"] = "  " + frame.loc[3, "notes"]  # stripped, and logged as an example
    data, info = read_table(write_csv(frame))
    with caplog.at_level(logging.INFO):
        infer_schema(data, FitConfig(target="escalated"), info)
    assert "removed surrounding whitespace" in caplog.text and "(119017 characters)" in caplog.text
    assert max(len(r.getMessage()) for r in caplog.records) < 600
    long = "Q" * 100_000
    numbers = pd.DataFrame({"x": [*map(str, range(59)), long], "y": np.tile([1.0, 2.0], 30)})
    with pytest.raises(DataError) as err:
        infer_schema(numbers, FitConfig(target="y"), read_table(numbers)[1])
    assert "--na-values VALUE" in str(err.value) and len(str(err.value)) < 600
    with pytest.raises(DataError, match="repeats column names") as err:
        read_table(write_csv(f"{long},{long},y\n1,2,3\n", "dupes.csv"))
    assert len(str(err.value)) < 600


def test_batch_outputs_never_share_a_name():
    from automl.batch import output_names

    names = output_names([Path("in/same.csv"), Path("in/same.csv.gz"), Path("in/same.parquet"),
                          Path("in/other.CSV"), Path("in/b.2024.csv")])
    assert list(names.values()) == ["same.csv.csv", "same.csv.gz.csv", "same.parquet.csv", "other.csv",
                                    "b.2024.csv"]
    names = output_names([Path("d1/x.csv"), Path("d2/x.csv"), Path("a/a.csv"), Path("a/a.parquet"),
                          Path("a/a.parquet.csv"), Path("p/d/x.csv"), Path("q/d/x.csv")])
    assert len(set(names.values())) == 7


@pytest.mark.parametrize(("text", "expected"), [
    ("x1,x2,y\n0.5,-1,a,\n1.5,2,b,\n", {"x1": [0.5, 1.5], "x2": [-1, 2], "y": ["a", "b"]}),  # every row
    ("x1,x2,y\n0.5,-1,a\n1.5,2,b,\n", {"x1": [0.5, 1.5], "x2": [-1, 2], "y": ["a", "b"]}),  # a later row
    ('x1, x2, y\n0.5, "a, b", u\n1.5, "c", v\n', {"x1": [0.5, 1.5], "x2": ["a, b", "c"], "y": ["u", "v"]}),
])
def test_rows_ending_in_a_delimiter_and_spaces_after_delimiters(text, expected, write_csv):
    out, _ = read_table(write_csv(text))
    assert out.to_dict("list") == expected


@pytest.mark.parametrize(("text", "message"), [
    ("a,b,y\n1,2,x,EXTRA\n3,4,z\n", r"row 1 \(from line 2 of the file\) has 4 fields"),  # not an index column
    ('a,b,y\n1,"2\nq",x,EXTRA\n3,4,z\n', r"row 1 \(from line 2 of the file\) has 4 fields"),
    ("a,b,y\n1,2,x\n,,\n,,\n3,4,z,EXTRA\n", r"row 4 \(from line 5"),  # rows of empty cells are rows
    ('a,b,y\n1,2,x\n3,"4"5,z\n6,7,x,EXTRA\n', r"row 3 \(from line 4"),  # a stray quote is not the problem
])
def test_rows_with_more_fields_are_named(text, message, write_csv):
    with pytest.raises(DataError, match=message):
        read_table(write_csv(text))


def test_decimal_commas_after_a_long_first_cell_and_a_multibyte_separator(write_csv):
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 9, 100).round(3)
    notes = ["ok"] * 100
    notes[0] = "log line\n" * 80  # the first record spans 81 lines
    frame = pd.DataFrame({"note": notes, "x": x, "y": (3 * x).round(3)})
    out, info = read_table(write_csv(frame, sep=";", decimal=",", float_format="%.3f"))
    assert info.decimal == "," and out["y"].tolist() == frame["y"].tolist()
    out, _ = read_table(write_csv("a§b\n1§x\n2§y\n", "section.csv"), sep="§")
    assert out.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    out, _ = read_table(write_csv("a§b\n1§é\n".encode("latin-1"), "latin.csv"), sep="§")  # C parser: UTF-8
    assert out.to_dict("list") == {"a": [1], "b": ["é"]}


def test_an_explicit_separator_reads_what_no_rule_can(write_csv, tmp_path):
    path = write_csv("a:b:y\n1:2:x\n3:4:z\n5:6:x\n")
    assert read_table(path)[0].shape == (3, 1)
    out, info = read_table(path, sep=":")
    assert out.shape == (3, 3) and info.delimiter == ":"
    assert separator("tab") == "\t" and separator("\\t") == "\t" and separator("Semicolon") == ";"
    for bad in ("ab", '"', ""):
        with pytest.raises(ConfigError, match="Unknown separator"):
            separator(bad)
    result = fit(path, tmp_path / "run", "--sep", "::")
    assert_error(result, EXIT_BAD_INPUT, "Unknown separator '::'", "'semicolon'")


# ---------------------------------------------------------------- datetimes with several UTC offsets


def _readings(zone: str, n: int = 240, seed: int = 0) -> tuple[pd.Series, pd.DatetimeIndex]:
    rng = np.random.default_rng(seed)
    instants = pd.Timestamp("2022-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 2 * 365 * 24, n), unit="h")
    local = instants.tz_convert(zone)
    return pd.Series(local.strftime("%Y-%m-%d %H:%M:%S%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)), \
        instants


@pytest.mark.parametrize(("zone", "expected"), [
    ("Europe/Berlin", "Europe/Berlin"),  # +01:00 in winter, +02:00 in summer
    ("America/New_York", "America/New_York"),  # -05:00 / -04:00
    ("Australia/Sydney", "Australia/Sydney"),  # +11:00 in January: the southern summer
    ("Asia/Kolkata", "+05:30"),  # one offset: a fixed zone
    ("UTC", "UTC"),
])
def test_offsets_give_a_time_zone_and_the_same_instants_the_same_features(zone, expected):
    written, instants = _readings(zone)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"at": written, "x": rng.normal(size=len(written)), "y": rng.normal(size=len(written))})
    schema, _ = infer_schema(frame, FitConfig(target="y"), read_table(frame)[1])
    col = next(c for c in schema.columns if c.name == "at")
    assert col.kind == "datetime" and col.time_zone == expected
    X = schema.transform(frame, strict=False)
    local = instants.tz_convert(zone)
    assert X[f"{col.internal}__hour"].tolist() == list(local.hour)  # the local hour the offsets say
    assert X[f"{col.internal}__day_of_week"].tolist() == list(local.day_of_week)
    in_utc = frame.assign(at=instants.strftime("%Y-%m-%dT%H:%M:%SZ"))  # the same instants written in UTC
    pd.testing.assert_frame_equal(schema.transform(in_utc), X)
    aware = frame.assign(at=pd.Series(instants.tz_convert("Asia/Tokyo")))  # as tz-aware pandas values
    pd.testing.assert_frame_equal(schema.transform(aware), X)


def test_offsets_of_several_places_fall_back_to_utc_and_odd_values_never_fail(caplog):
    berlin, _ = _readings("Europe/Berlin", n=60)
    chicago, _ = _readings("America/Chicago", n=60, seed=1)
    mixed = pd.Series([*berlin[:30], *chicago[:30]])
    assert datetimes.infer_zone(mixed) == "UTC"
    odd = pd.Series(["2023-01-15 08:00", "2023-07-15T08:00:00Z", "2023-07-15 08:00:00 GMT+2",
                     "2023-07-15 8:00 PM +02:00", "2262-04-11 23:00:00-05:00", "not a date +01:00", None,
                     "2023-03-26 03:30:00.5+0200"])
    wall, offset = datetimes.split(odd)
    assert offset.tolist()[1:4] == [0, 120, 120] and np.isnan(offset.iloc[0]) and wall.iloc[3].hour == 20
    local = datetimes.local_times(odd, "Europe/Berlin")
    assert local.iloc[0] == pd.Timestamp("2023-01-15 08:00") and local.iloc[1] == pd.Timestamp("2023-07-15 10:00")
    with caplog.at_level(logging.WARNING):
        assert datetimes.local_times(odd, None, "new.csv").iloc[1] == pd.Timestamp("2023-07-15 08:00")
    assert "offsets ignored" in caplog.text


def test_dates_far_out_offsets_out_of_range_and_times_without_dates():
    values = pd.Series(["9999-12-31", "2300-01-15 08:00:00", "1500-03-01", "9999-12-31 00:00:00+01:00",
                        "2023-01-10 08:00:00+25:00", "2023-01-10 08:00:00-99:99", "08:00-17:00", "09:00-12:00",
                        "08:30", "20230115T080000+0200"])
    wall, offset = datetimes.split(values)
    assert wall.iloc[0] == pd.Timestamp("9999-12-31") and wall.iloc[2] == pd.Timestamp("1500-03-01")
    assert offset.iloc[3] == 60 and offset.iloc[4:8].isna().all() and offset.iloc[9] == 120
    assert wall.iloc[4:8].isna().all()  # not a date with an offset; not today's date either
    assert wall.iloc[8] == pd.Timestamp("2000-01-01 08:30")  # the same whichever day the fit runs
    assert datetimes.local_times(values, "Europe/Berlin").iloc[3] == pd.Timestamp("9999-12-31")
    opening = pd.DataFrame({"hours": [f"{8 + i % 3:02d}:00-{17 + i % 2}:00" for i in range(60)],
                            "y": np.tile([0.0, 1.0], 30)})
    schema, _ = infer_schema(opening, FitConfig(target="y"), read_table(opening)[1])
    assert schema.columns[0].kind == "categorical"


def test_a_column_keeps_its_date_format_from_fit_to_predict():
    frame = pd.DataFrame({"day": ["13/01/2023", "20/02/2023", "03/04/2023"] * 10, "y": np.tile([1.0, 2.0], 15)})
    schema, _ = infer_schema(frame, FitConfig(target="y"), read_table(frame)[1])
    col = schema.columns[0]
    assert col.kind == "datetime" and col.datetime_format == "%d/%m/%Y"
    X = schema.transform(pd.DataFrame({"day": ["03/04/2023", "05/06/2023"]}))  # only ambiguous dates
    assert X[f"{col.internal}__month"].tolist() == [4, 6]  # read day first, as at fit
    wall, _ = datetimes.split(pd.Series(["03/04/2023", "05/06/2023"]))
    assert wall.dt.month.tolist() == [3, 5]  # without a format from fit: month first, as pandas reads them


def test_day_first_times_with_am_pm_and_offsets():
    instants = pd.Timestamp("2022-01-01", tz="UTC") + pd.to_timedelta(np.arange(0, 2000) * 523, unit="min")
    local = instants.tz_convert("Europe/Berlin")
    written = pd.Series(local.strftime("%d/%m/%Y %I:%M %p %z"))
    wall, _ = datetimes.split(written)
    assert (wall == local.tz_localize(None).floor("min")).all() and datetimes.infer_zone(written) == "Europe/Berlin"


def test_mixed_offsets_fit_and_predict_from_the_command_line(write_csv, tmp_path):
    written, instants = _readings("Europe/Berlin", n=200)
    hour = instants.tz_convert("Europe/Berlin").hour
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"reading_at": written, "meter": rng.choice(["a", "b"], 200),
                          "y": 2 + 3 * ((hour >= 8) & (hour <= 18)) + rng.normal(0, 0.3, 200)})
    result = fit(write_csv(frame), tmp_path / "run")
    assert result.exit_code == 0, result.output
    new = frame.drop(columns="y").head(20)
    utc = new.assign(reading_at=instants[:20].strftime("%Y-%m-%dT%H:%M:%SZ"))
    outputs = []
    for name, table in (("local.csv", new), ("utc.csv", utc)):
        result = run("predict", tmp_path / "run", write_csv(table, name), "--output", tmp_path / f"p_{name}")
        assert result.exit_code == 0, result.output
        outputs.append(pd.read_csv(tmp_path / f"p_{name}"))
    pd.testing.assert_frame_equal(*outputs)
    assert "Europe/Berlin" in (tmp_path / "run" / "report.html").read_text()
    result = run("predict", tmp_path / "run", write_csv(new, "hashes.csv", sep="#"))  # no rule reads "#"
    assert_error(result, EXIT_BAD_INPUT, "was read as one column", "--sep")


# ---------------------------------------------------------------- class labels named like an output column


@pytest.fixture(scope="module")
def colliding_runs(tmp_path_factory):
    """Two fitted runs whose class labels collide with output column names."""
    tmp = tmp_path_factory.mktemp("labels")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    runs = {}
    for name, labels in (("binary", ["actual", "prediction"]),
                         ("multiclass", ["prediction", "proba_prediction", "x"])):
        codes = np.digitize(x[:, 0], [0.0] if len(labels) == 2 else [-0.4, 0.4])
        frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": np.asarray(labels)[codes]})
        frame.to_csv(tmp / f"{name}.csv", index=False)
        result = fit(tmp / f"{name}.csv", tmp / name)
        assert result.exit_code == 0, result.output
        frame.drop(columns="y").head(30).to_csv(tmp / f"{name}_new.csv", index=False)
        runs[name] = (tmp / name, tmp / f"{name}_new.csv", labels)
    return runs


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_output_columns_never_collide_with_class_labels(task, colliding_runs, tmp_path):
    run_dir, new, labels = colliding_runs[task]
    proba = [f"proba_{c}" for c in labels]
    result = run("predict", run_dir, new, "--output", tmp_path / "preds.csv")
    assert result.exit_code == 0, result.output
    batch = run("predict", run_dir, str(new), "--output-dir", tmp_path / "scored")
    assert batch.exit_code == 0, batch.output
    for preds in (pd.read_csv(tmp_path / "preds.csv"), pd.read_csv(tmp_path / "scored" / new.name)):
        assert list(preds.columns) == [*proba, "prediction"] and len(preds) == 30
        np.testing.assert_allclose(preds[proba].sum(axis=1), 1.0, atol=1e-6)
        assert (preds["prediction"] == preds[proba].idxmax(axis=1).str.removeprefix("proba_")).all()
    model = AutoML.load(run_dir)
    probabilities = model.predict_proba(new)
    assert list(probabilities.columns) == labels
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert set(model.predict(new)) <= set(labels)
    assert list(model.predict_frame(new).columns) == [*proba, "prediction"]


# ---------------------------------------------------------------- labels come back as the target's type


@pytest.mark.parametrize("kind", ["int", "bool", "text"])
def test_api_predicts_labels_of_the_targets_own_type(kind):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    positive = x + rng.normal(scale=0.3, size=200) > 0
    y = {"int": positive.astype(int) * 2 + 1, "bool": positive, "text": np.where(positive, "yes", "no")}[kind]
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=200), "y": y})
    model = AutoML(target="y", trials=1, folds=3, repeats=1, models=("linear",), seed=0).fit(frame)
    predicted = model.predict(frame.drop(columns="y"))
    assert predicted.dtype == frame["y"].dtype
    assert set(predicted) == set(frame["y"]) and (predicted == frame["y"]).mean() > 0.8
    assert model.predict_frame(frame.drop(columns="y"))["prediction"].map(type).eq(str).all()  # text, as in a CSV


def test_api_predictions_keep_the_frames_index_and_probability_columns_the_labels_type():
    """``test["pred"] = model.predict(test)`` lines up (a sampled frame's index came back as 0..n-1, so the
    assignment gave NaN for most rows and wrong values for the rest), and ``proba[model.predict(x)]`` works
    for an integer target (the columns were '1', '3')."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=200),
                          "y": np.where(x + rng.normal(scale=0.3, size=200) > 0, 3, 1)})
    model = AutoML(target="y", trials=1, folds=3, repeats=1, models=("linear",), seed=0).fit(frame)
    test = frame.sample(frac=0.3, random_state=0).drop(columns="y")
    predicted = model.predict(test)
    assert list(predicted.index) == list(test.index)
    test["pred"] = predicted
    assert test["pred"].notna().all() and (test["pred"] == frame.loc[test.index, "y"]).mean() > 0.8
    proba = model.predict_proba(test.drop(columns="pred"))
    assert list(proba.columns) == [1, 3] and list(proba.index) == list(test.index)
    first = test.index[0]
    assert proba.loc[first, predicted[first]] == proba.loc[first].max()
    assert list(model.predict_frame(test.drop(columns="pred")).index) == list(test.index)


def test_a_class_written_two_ways_is_one_class(write_csv, caplog):
    """"1" and "1.0" in a CSV are the same number: the task said 2 classes, the labels were 3, and the fit
    crashed (ValueError: multi_class must be in ('ovo', 'ovr'))."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    frame["y"] = np.where(frame["a"] > 0, "1", "2")
    frame.loc[0:2, "y"] = "1.0"
    with caplog.at_level(logging.WARNING, logger="automl"):
        model = AutoML(target="y", trials=1, folds=3, repeats=1, models=("linear",), seed=0).fit(write_csv(frame))
    assert model.predictor_.classes == ["1", "2"] and "writes a class several ways" in caplog.text


def test_an_array_is_read_as_the_fits_columns_in_order(tmp_path, caplog):
    """A model fitted on a DataFrame scores a NumPy array by position, as scikit-learn's estimators do, saying so;
    an array of another width is refused naming the columns it needs."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=150), "city": rng.choice(["x", "y"], 150), "b": rng.normal(size=150)})
    frame["y"] = np.where(frame["a"] + (frame["city"] == "x") > 0.5, "yes", "no")
    model = AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1, output=tmp_path / "run").fit(frame)
    X = frame.drop(columns="y")
    with caplog.at_level(logging.WARNING):
        from_array = model.predict_proba(X.to_numpy())
    assert "Reading the array's 3 columns as the fit's input columns in their order ('a', 'city', 'b')" in caplog.text
    np.testing.assert_allclose(from_array.to_numpy(), model.predict_proba(X).to_numpy())
    assert list(model.predict(X.to_numpy())) == list(model.predict(X))
    with pytest.raises(DataError, match=r"shape \(150, 2\).*3 input columns of its fit, in order \('a', 'city', "
                                        r"'b'\), so it needs shape \(rows, 3\)"):
        model.predict(X[["a", "b"]].to_numpy())
    with pytest.raises(DataError, match="true value in the target column 'y', which an array cannot name"):
        model.evaluate(frame.to_numpy())


def test_two_quick_fits_without_an_output_get_folders_of_their_own(tmp_path, monkeypatch):
    """The default run folder is named by the second: a second fit within it gets ``-2`` instead of being refused
    as writing into the first's folder."""
    from datetime import datetime

    import automl.fit.running as running

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 12, 2, 7, 0, 0)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(running, "datetime", Frozen)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=80)})
    frame["y"] = np.where(frame["x"] + rng.normal(size=80) > 0, "a", "b")
    dirs = [AutoML(target="y", models=["linear"], trials=1, folds=3, repeats=1).fit(frame).run_dir_ for _ in "ab"]
    assert [Path(d).name for d in dirs] == ["dataframe-20261202-070000", "dataframe-20261202-070000-2"]
