"""`automl fit` / `automl predict` through click's CliRunner: the happy path and every bad-input case."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from automl.cli import EXIT_BAD_INPUT, EXIT_BUDGET, EXIT_INTERNAL, main
from tests.conftest import make_frame

FAST = ["--models", "linear", "--trials", "1", "--folds", "3", "--repeats", "1"]


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def fit(data: Path, out: Path, *extra: str, target: str = "y"):
    return run("fit", data, "--target", target, "--output", out, *FAST, *extra)


def assert_error(result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output


# ---------------------------------------------------------------- happy paths


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_fit_then_predict_round_trip(task, write_csv, tmp_path):
    frame = make_frame(task)
    data = write_csv(frame)
    result = run("fit", data, "--target", "y", "--output", tmp_path / "run", "--trials", "2", "--seed", "3",
                 "--models", "linear,lightgbm,extra_trees")
    assert result.exit_code == 0, result.output
    run_json = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run_json["status"] == "complete"
    assert run_json["task"] == task
    board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    assert {"linear", "lightgbm", "extra_trees", "greedy_ensemble", "stacking"} <= set(board["model"])
    assert (board.loc[board["kind"] != "ensemble", "trials"].dropna() >= 1).all()
    new = frame.drop(columns="y").iloc[::-1]  # reversed order: predictions must follow input order
    preds_path = tmp_path / "preds.csv"
    result = run("predict", tmp_path / "run", write_csv(new, "new.csv"), "--output", preds_path)
    assert result.exit_code == 0, result.output
    preds = pd.read_csv(preds_path, keep_default_na=False)
    assert len(preds) == len(new)
    if task == "regression":
        assert list(preds.columns) == ["prediction"]
        assert np.corrcoef(preds["prediction"], frame["y"].iloc[::-1])[0, 1] > 0.8
    else:
        classes = sorted(frame["y"].unique())
        assert sorted(preds.columns[:-1]) == classes and preds.columns[-1] == "prediction"
        np.testing.assert_allclose(preds[classes].sum(axis=1), 1.0, atol=1e-6)
        assert (preds["prediction"] == frame["y"].iloc[::-1].to_numpy()).mean() > 0.7
    _check_saved_results(tmp_path / "run", frame, board, run_json, task)
    for key in run_json["models_refitted"]:  # the chosen model and, for an ensemble, each of its members
        assert run("predict", tmp_path / "run", write_csv(new, "new.csv"), "--model", key).exit_code == 0


def _check_saved_results(run_dir: Path, frame: pd.DataFrame, board: pd.DataFrame, run_json: dict, task: str):
    assert pd.read_json(run_dir / "leaderboard.json")["model"].tolist() == board["model"].tolist()
    oof = pd.read_parquet(run_dir / "oof_predictions.parquet")
    assert oof["row"].tolist() == list(range(len(frame)))
    assert oof["target"].astype(str).tolist() == frame["y"].astype(str).tolist()
    repeats = run_json["cv_repeats"]
    assert repeats == 2  # 120 rows: tiny data, CV repeated
    assert sorted(oof["fold"].unique()) == list(range(1, run_json["folds"] + 1))
    first = board.iloc[0]
    assert len(first["fold_scores"].split()) == run_json["folds"] * repeats
    secondary = "cv_mae" if task == "regression" else "cv_accuracy"
    assert board.loc[board["status"] == "ok", secondary].notna().all()  # every model, not only ensembles
    if task == "regression":
        assert np.corrcoef(oof[first["model"]], frame["y"])[0, 1] > 0.7
    else:
        probs = oof[[f"{first['model']}:{c}" for c in sorted(frame["y"].unique())]]
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_class_labels_keep_their_spelling_in_prediction_columns(write_csv, tmp_path):
    frame = make_frame("binary")
    text = frame.to_csv(index=False).replace(",yes\n", ",007\n").replace(",no\n", ",1.50\n")
    out = tmp_path / "run"
    assert fit(write_csv(text), out).exit_code == 0
    result = run("predict", out, write_csv(frame.drop(columns="y"), "new.csv"))
    header = result.stdout.splitlines()[0]
    assert header == "1.50,007,prediction"  # labels as written, in order of value


def test_predict_writes_to_stdout_by_default(write_csv, tmp_path):
    frame = make_frame("regression")
    out = tmp_path / "run"
    assert fit(write_csv(frame), out).exit_code == 0
    result = run("predict", out, write_csv(frame.head(5), "new.csv"))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "prediction" and len(result.stdout.splitlines()) == 6


# ---------------------------------------------------------------- bad input at fit time


def test_missing_file(tmp_path):
    assert_error(fit(tmp_path / "nope.csv", tmp_path / "run"), EXIT_BAD_INPUT, "File not found", "nope.csv")


def test_unreadable_file(write_csv, tmp_path, monkeypatch):
    data = write_csv(make_frame("binary"))

    real_open = Path.open

    def denied(self, *args, **kwargs):  # chmod 000 does not stop root, so refuse this one file here
        if self == data:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    assert_error(fit(data, tmp_path / "run"), EXIT_BAD_INPUT, "Cannot read", "Permission denied")


def test_damaged_gzip(write_csv, tmp_path):
    data = write_csv(b"this is not gzip", "data.csv.gz")
    assert_error(fit(data, tmp_path / "run"), EXIT_BAD_INPUT, "Cannot read", "data.csv.gz")


def test_empty_file(write_csv, tmp_path):
    assert_error(fit(write_csv(""), tmp_path / "run"), EXIT_BAD_INPUT, "is empty")


def test_header_only(write_csv, tmp_path):
    assert_error(fit(write_csv("a,b,y\n"), tmp_path / "run"), EXIT_BAD_INPUT, "no data rows")


def test_target_absent_suggests_close_names(write_csv, tmp_path):
    data = write_csv(make_frame("binary").rename(columns={"y": "Outcome"}))
    result = fit(data, tmp_path / "run", target="outcome")
    assert_error(result, EXIT_BAD_INPUT, "Target column 'outcome' is not in", "Did you mean 'Outcome'")


def test_target_all_missing(write_csv, tmp_path):
    frame = make_frame("binary")
    frame["y"] = np.nan
    assert_error(fit(write_csv(frame), tmp_path / "run"), EXIT_BAD_INPUT, "Target column 'y'", "has no values")


def test_single_class(write_csv, tmp_path):
    frame = make_frame("binary")
    frame["y"] = "yes"
    assert_error(fit(write_csv(frame), tmp_path / "run"), EXIT_BAD_INPUT, "single value", "'yes'")


def test_non_numeric_regression_target(write_csv, tmp_path):
    data = write_csv(make_frame("multiclass"))
    result = fit(data, tmp_path / "run", "--task", "regression")
    assert_error(result, EXIT_BAD_INPUT, "Regression target 'y'", "non-numeric", "rows 1")


def test_duplicate_column_names(write_csv, tmp_path):
    data = write_csv("a,b,a,y\n1,2,3,x\n4,5,6,z\n")
    assert_error(fit(data, tmp_path / "run"), EXIT_BAD_INPUT, "repeats column names", "'a' at columns 1, 3")


def test_all_missing_column_is_dropped_with_reason(write_csv, tmp_path):
    frame = make_frame("binary")
    frame["empty"] = np.nan
    result = fit(write_csv(frame), tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "Dropped column 'empty': all values are missing" in result.output
    columns = json.loads((tmp_path / "run" / "run.json").read_text())["data"]["columns"]
    assert {"name": "empty", "kind": "dropped"}.items() <= next(c for c in columns if c["name"] == "empty").items()


def test_inf_values_in_features_become_missing(write_csv, tmp_path):
    frame = make_frame("regression")
    frame.loc[[3, 9], "x1"] = np.inf
    result = fit(write_csv(frame), tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "Column 'x1'" in result.output
    assert "2 value(s) that are infinite or beyond ±3.4e38 (rows 4, 10)" in result.output


def test_inf_in_regression_target(write_csv, tmp_path):
    frame = make_frame("regression")
    frame.loc[5, "y"] = -np.inf
    assert_error(fit(write_csv(frame), tmp_path / "run"), EXIT_BAD_INPUT, "is infinite or beyond ±3.4e38 at row 6")


def test_mixed_types_in_one_column(write_csv, tmp_path):
    frame = make_frame("binary").astype({"x2": object})
    frame.loc[[4, 20], "x2"] = "?"
    data = write_csv(frame)
    result = fit(data, tmp_path / "run")
    assert_error(result, EXIT_BAD_INPUT, "Column 'x2'", "numbers but also text ('?')", "rows 5, 21",
                 "--na-values '?'")
    assert fit(data, tmp_path / "run", "--na-values", "?").exit_code == 0


def test_non_utf8_file_is_read_as_latin1(write_csv, tmp_path):
    frame = make_frame("binary")
    frame["colour"] = frame["colour"].map({"red": "rouge foncé", "green": "vert", "blue": "bleu"})
    frame["y"] = frame["y"].map({"yes": "oui", "no": "non, déçu"})
    data = write_csv(frame.to_csv(index=False).encode("latin-1"))
    out = tmp_path / "run"
    result = fit(data, out)
    assert result.exit_code == 0, result.output
    assert "not valid UTF-8; read it as latin-1" in result.output
    preds = run("predict", out, data)
    assert preds.stdout.splitlines()[0] == '"non, déçu",oui,prediction'


def test_semicolon_separated_file_with_decimal_commas(write_csv, tmp_path):
    frame = make_frame("regression")
    data = write_csv(frame, sep=";", decimal=",")
    out = tmp_path / "run"
    result = fit(data, out)
    assert result.exit_code == 0, result.output
    assert "semicolon-separated, decimal comma" in result.output
    kinds = {c["name"]: c["kind"] for c in json.loads((out / "run.json").read_text())["data"]["columns"]}
    assert kinds == {"x1": "numeric", "x2": "numeric", "colour": "categorical", "x_nan": "numeric"}


def test_tab_separated_gzip_and_parquet(tmp_path):
    frame = make_frame("binary")
    frame.to_csv(tmp_path / "data.tsv.gz", sep="\t", index=False)
    frame.to_parquet(tmp_path / "data.parquet")
    for name in ("data.tsv.gz", "data.parquet"):
        result = fit(tmp_path / name, tmp_path / name.replace(".", "_"))
        assert result.exit_code == 0, result.output


def test_fewer_rows_than_folds(write_csv, tmp_path):
    data = write_csv(make_frame("regression").head(4))
    result = run("fit", data, "--target", "y", "--output", tmp_path / "run", "--models", "linear")
    assert_error(result, EXIT_BAD_INPUT, "4 rows", "fewer than the 5 cross-validation folds", "--folds 4")


def test_class_with_fewer_members_than_folds(write_csv, tmp_path):
    frame = make_frame("multiclass")
    rare = frame.index[frame["y"] == "c"][:3]
    frame = frame[(frame["y"] != "c") | frame.index.isin(rare)]
    out = tmp_path / "run"
    result = run("fit", write_csv(frame), "--target", "y", "--output", out, "--models", "linear", "--trials", "1")
    assert result.exit_code == 0, result.output
    assert "Class 'c' has only 3 rows, fewer than the 5 folds; using 3 folds" in result.output
    assert json.loads((out / "run.json").read_text())["folds"] == 3


def test_class_with_a_single_member(write_csv, tmp_path):
    frame = make_frame("multiclass")
    frame.loc[0, "y"] = "lonely"
    assert_error(fit(write_csv(frame), tmp_path / "run"), EXIT_BAD_INPUT, "'lonely'", "occur only once", "row 1")


def test_bad_option_values(write_csv, tmp_path):
    data = write_csv(make_frame("binary"))
    assert_error(fit(data, tmp_path / "r1", "--metric", "rmse"), EXIT_BAD_INPUT,
                 "Metric 'rmse' does not apply to a binary task")
    assert_error(fit(data, tmp_path / "r2", "--exclude-models", "nope"), EXIT_BAD_INPUT,
                 "Unknown model 'nope'", "'lightgbm'")
    assert_error(fit(data, tmp_path / "r3", "--positive-class", "maybe"), EXIT_BAD_INPUT,
                 "'maybe' is not a class", "'no', 'yes'")


# ---------------------------------------------------------------- output folder


def test_existing_output_folder_is_refused_unless_overwrite(write_csv, tmp_path):
    data = write_csv(make_frame("binary"))
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert_error(fit(data, out), EXIT_BAD_INPUT, "is not empty", "notes.txt", "--overwrite")
    assert fit(data, out, "--overwrite").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert_error(fit(data, out), EXIT_BAD_INPUT, "is not empty")
    assert fit(data, out, "--overwrite").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == [".automl.lock",
        "automl.log", "feature_importance.csv", "leaderboard.csv", "leaderboard.json", "log.jsonl", "model.joblib",
        "notes.txt",
        "oof_predictions.parquet", "optuna.journal", "profile.json", "report.html", "run.json", "trials.csv"]


def test_failed_run_keeps_traceback_in_log_and_folder_can_be_reused(write_csv, tmp_path):
    out = tmp_path / "run"
    frame = make_frame("binary")
    result = fit(write_csv(frame), out, target="nope")
    assert_error(result, EXIT_BAD_INPUT, "'nope'")
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    assert "Traceback" in (out / "automl.log").read_text()
    assert fit(write_csv(frame), out).exit_code == 0  # only automl's files of a failed run: reused


def test_internal_error_exit_code_and_log(write_csv, tmp_path, monkeypatch):
    import automl.fit.finishing

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(automl.fit.finishing, "build_ensembles", boom)
    out = tmp_path / "run"
    result = fit(write_csv(make_frame("binary")), out)
    assert_error(result, EXIT_INTERNAL, "Internal error: RuntimeError: simulated bug", str(out / "automl.log"))
    assert "RuntimeError: simulated bug" in (out / "automl.log").read_text()
    debug = fit(write_csv(make_frame("binary")), tmp_path / "run2", "--debug")
    assert debug.exit_code == EXIT_INTERNAL and "Traceback" in debug.output


def test_budget_exhausted_exit_code(write_csv, tmp_path, monkeypatch):
    import automl.search.tuner
    from automl.results.records import TrialResult

    def too_slow(spec, *args, **kwargs):  # as if every model's first fold overran the budget
        return TrialResult(spec.key, spec.name, spec.kind, {}, "out of budget", "stopped after 0 of 3 folds")

    monkeypatch.setattr(automl.search.tuner, "cross_validate", too_slow)
    result = run("fit", write_csv(make_frame("binary")), "--target", "y", "--output", tmp_path / "run",
                 "--models", "linear,lightgbm", "--time-limit", "60")
    assert_error(result, EXIT_BUDGET, "No model finished within the 60 s budget", "Raise --time-limit")


# ---------------------------------------------------------------- bad input at predict time


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fitted")
    frame = make_frame("binary")
    frame.to_csv(tmp / "train.csv", index=False)
    result = fit(tmp / "train.csv", tmp / "run")
    assert result.exit_code == 0, result.output
    return tmp / "run", frame.drop(columns="y")


def test_predict_missing_column(fitted_run, write_csv):
    run_dir, frame = fitted_run
    result = run("predict", run_dir, write_csv(frame.drop(columns=["colour"]), "new.csv"))
    assert_error(result, EXIT_BAD_INPUT, "lacks 1 column(s)", "'colour'")


def test_a_file_with_a_header_only_scores_to_a_header_only_file(fitted_run, write_csv, tmp_path):
    """A day without new rows: a header-only file was an error (exit 2, and a skipped file in batch scoring);
    it now gives the predictions file's header and no rows. One that lacks columns is still an error."""
    from automl import AutoML

    run_dir, frame = fitted_run
    empty = write_csv(frame.head(0), "empty.csv")
    result = run("predict", run_dir, empty, "--output", tmp_path / "preds.csv")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "preds.csv")
    assert len(written) == 0 and list(written.columns)[-1] == "prediction" and written.shape[1] == 3
    assert AutoML.load(run_dir).predict_frame(frame.head(0)).shape == (0, 3)
    folder = tmp_path / "incoming"
    folder.mkdir()
    frame.head(0).to_csv(folder / "monday.csv", index=False)
    frame.head(5).to_csv(folder / "tuesday.csv", index=False)
    result = run("predict", run_dir, str(folder / "*.csv"), "--output-dir", tmp_path / "scored")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "scored").iterdir()) == ["monday.csv", "tuesday.csv"]
    assert_error(run("predict", run_dir, write_csv(frame.head(0).drop(columns=["colour"]), "e2.csv")),
                 EXIT_BAD_INPUT, "lacks 1 column(s)")


def test_predict_reads_extra_missing_markers(fitted_run, write_csv, tmp_path):
    """A file to score that marks missing numbers with "?" was an error without a way out but editing it."""
    from automl import AutoML

    run_dir, frame = fitted_run
    number = next(c for c in frame.columns if pd.api.types.is_float_dtype(frame[c]))
    marked = frame.head(6).astype({number: object})
    marked.loc[2, number] = "?"
    path = write_csv(marked, "marked.csv")
    assert_error(run("predict", run_dir, path), EXIT_BAD_INPUT, "If they mark missing values, pass --na-values '?'")
    result = run("predict", run_dir, path, "--na-values", "?", "--output", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 6
    assert len(AutoML.load(run_dir).predict(marked, na_values="?")) == 6


def test_predict_extra_column_is_ignored(fitted_run, write_csv):
    run_dir, frame = fitted_run
    result = run("predict", run_dir, write_csv(frame.assign(extra=1), "new.csv"))
    assert result.exit_code == 0, result.output
    assert "does not use; ignoring 'extra'" in result.output


def test_predict_unseen_category(fitted_run, write_csv):
    run_dir, frame = fitted_run
    result = run("predict", run_dir, write_csv(frame.assign(colour="purple"), "new.csv"))
    assert result.exit_code == 0, result.output
    assert "categories not seen in training (e.g. 'purple')" in result.output


def test_predict_wrong_type(fitted_run, write_csv):
    run_dir, frame = fitted_run
    bad = frame.astype({"x1": object})
    bad.loc[2, "x1"] = "twelve"
    result = run("predict", run_dir, write_csv(bad, "new.csv"))
    assert_error(result, EXIT_BAD_INPUT, "Column 'x1'", "must hold numbers", "'twelve'", "row 3")


def test_a_failed_fit_leaves_its_error_in_the_run_folders_logs_once(write_csv, tmp_path):
    result = run("fit", write_csv(make_frame("binary")), "--target", "nope", "--output", tmp_path / "run")
    assert_error(result, EXIT_BAD_INPUT, "Error: Target column 'nope' is not in")
    assert "The run failed" not in result.output  # the terminal has it once, as the error
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    errors = [r for r in records if r["level"] == "ERROR"]
    assert len(errors) == 1 and errors[0]["message"].startswith("The run failed: Target column 'nope' is not in")
    assert "ERROR   automl.fit.running: The run failed: Target column 'nope'" in (
        tmp_path / "run" / "automl.log").read_text()


def test_predictions_that_cannot_be_written_are_a_clear_error(fitted_run, write_csv, tmp_path, monkeypatch):
    run_dir, frame = fitted_run
    data = write_csv(frame, "new.csv")
    result = run("predict", run_dir, data, "--output", Path(data) / "preds.csv")
    assert_error(result, EXIT_BAD_INPUT, "is a file, not a folder", "--output")
    assert_error(run("report", run_dir, "--output", Path(data) / "r.html"), EXIT_BAD_INPUT, "is a file, not a folder")
    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    assert_error(run("predict", run_dir, data, "--output", tmp_path / "p.csv"), EXIT_BAD_INPUT,
                 f"Cannot write {tmp_path / 'p.csv'}: No space left on device. Choose another --output.")


def test_predict_empty_file(fitted_run, write_csv):
    run_dir, _ = fitted_run
    assert_error(run("predict", run_dir, write_csv("", "new.csv")), EXIT_BAD_INPUT, "is empty")


def test_predict_with_a_model_that_was_not_refitted(fitted_run, write_csv):
    run_dir, frame = fitted_run
    result = run("predict", run_dir, write_csv(frame, "new.csv"), "--model", "keras_mlp")
    assert_error(result, EXIT_BAD_INPUT, "'keras_mlp' was not refitted", "available: linear",
                 "fit again with --models keras_mlp")
    result = run("predict", run_dir, write_csv(frame, "new.csv"), "--model", "nosuch")
    assert_error(result, EXIT_BAD_INPUT, "'nosuch' is no model family's key either", "lightgbm")
    assert "--models nosuch" not in result.output


def test_predict_refuses_a_model_of_another_format_version(fitted_run, write_csv, tmp_path):
    import shutil

    run_dir, frame = fitted_run
    old = tmp_path / "old_run"
    shutil.copytree(run_dir, old)
    meta = json.loads((old / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({**meta, "format_version": 1}))
    result = run("predict", old, write_csv(frame, "new.csv"))
    assert_error(result, EXIT_BAD_INPUT, "has format version 1", "Refit it")


def test_predict_from_a_folder_without_model(write_csv, tmp_path):
    data = write_csv("a\n1\n", "new.csv")
    assert_error(run("predict", tmp_path, data), EXIT_BAD_INPUT, "not an automl run folder")
    from automl.api import AutoML
    from automl.errors import ModelFormatError

    with pytest.raises(ModelFormatError, match="is a file, not a run folder"):
        AutoML.load(data)
    (tmp_path / "run.json").write_text('{"status": "running"}')
    assert_error(run("predict", tmp_path, data), EXIT_BAD_INPUT, "(status: running)", "still running",
                 f"automl resume {tmp_path}")


def test_same_seed_gives_the_same_leaderboard(write_csv, tmp_path):
    data = write_csv(make_frame("multiclass"))
    boards = []
    for name in ("a", "b"):
        result = run("fit", data, "--target", "y", "--output", tmp_path / name, "--seed", "11",
                     "--models", "linear,lightgbm,random_forest", "--trials", "3", "--folds", "3",
                     "--repeats", "1")
        assert result.exit_code == 0, result.output
        board = pd.read_csv(tmp_path / name / "leaderboard.csv")
        boards.append(board.drop(columns=["fit_seconds", "predict_seconds_per_1000_rows"]))
    pd.testing.assert_frame_equal(boards[0], boards[1])
    assert (boards[0]["status"] == "ok").all() and len(boards[0]) == 5


def test_skewed_non_negative_regression_target_is_learnt_on_log_scale(write_csv, tmp_path):
    frame = make_frame("regression")
    frame["y"] = np.exp(frame["y"])  # a price-like, right-skewed target
    out = tmp_path / "run"
    result = fit(write_csv(frame), out)
    assert result.exit_code == 0, result.output
    assert "also tries models that learn log1p(y)" in result.output
    meta = json.loads((out / "run.json").read_text())
    assert meta["log_target_offered"] is True
    assert json.loads(meta["leaderboard"][0]["params"])["log_target"] is True  # the defaults trial uses it
    preds = pd.read_csv(io.StringIO(run("predict", out, write_csv(frame.drop(columns="y"), "new.csv")).stdout))
    assert (preds["prediction"] >= 0).all()  # log1p(y) >= 0, so predictions are floored at 0
    assert np.corrcoef(np.log1p(preds["prediction"]), np.log1p(frame["y"]))[0, 1] > 0.8


def test_output_folder_that_cannot_be_created(write_csv, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = fit(write_csv(make_frame("binary")), blocker / "run")
    assert_error(result, EXIT_BAD_INPUT, "Cannot create the output folder", "Choose another --output")


def test_the_recorded_command_can_be_pasted_back(monkeypatch):
    """The run's command was " ".join(sys.argv): unquoted ("--na-values ?", a name with spaces) and, under
    python -m automl, starting with the path of __main__.py."""
    from automl.cli import _command

    monkeypatch.setattr(sys, "argv", ["/x/automl/__main__.py", "fit", "my data.csv", "--na-values", "?"])
    assert _command() == "automl fit 'my data.csv' --na-values '?'"


def test_a_pattern_of_file_names_without_output_dir_says_what_to_add(write_csv, tmp_path):
    out = tmp_path / "run"
    assert run("fit", write_csv(make_frame("binary")), "--target", "y", "--output", out, "--trials", "1",
               "--models", "linear", "--folds", "3", "--repeats", "1").exit_code == 0
    result = run("predict", out, str(tmp_path / "inc" / "*.csv"))
    assert result.exit_code == EXIT_BAD_INPUT and "needs --output-dir" in result.output


@pytest.mark.parametrize("exit_code", [0, EXIT_BAD_INPUT])
def test_the_console_script_exits_with_the_collector_frozen(monkeypatch, exit_code):
    """The console script skips the interpreter's exit-time collection (gc.freeze after the command, whatever
    its exit code), and the command's exit code still reaches the shell."""
    import gc

    import automl.cli

    calls = []

    def fake_main():
        calls.append("main")
        sys.exit(exit_code)

    monkeypatch.setattr(automl.cli, "main", fake_main)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as exited:
        automl.cli.run()
    assert exited.value.code == exit_code and calls == ["main", "freeze"]


def test_the_installed_console_script_and_python_m_use_run():
    import subprocess
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "automl"]
    assert script.value == "automl.cli:run"
    done = subprocess.run([sys.executable, "-m", "automl", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("automl, version")
    source = (Path(__file__).parents[1] / "automl" / "__main__.py").read_text()
    assert "run()" in source and "main()" not in source
