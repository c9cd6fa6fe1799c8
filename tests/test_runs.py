"""Runs that outlive one process: the lock, `automl resume` after `kill -9`, batch recipes with their comparison,
batch scoring, and the Python API in a fresh process."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import optuna
import pandas as pd
import pytest
from click.testing import CliRunner

from automl.cli import EXIT_BAD_INPUT, EXIT_LOCKED, EXIT_SCORE_DROP, main
from tests.conftest import make_frame

FAST = ["--families", "linear,lightgbm", "--folds", "3", "--repeats", "1"]
ROOT = Path(__file__).resolve().parents[1]


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def automl_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "automl", *[str(a) for a in args]]


def complete_trials(journal: Path) -> int:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    return sum(1 for s in storage.get_all_studies()
               for t in storage.get_all_trials(s._study_id, deepcopy=False)
               if t.state == optuna.trial.TrialState.COMPLETE)


# ---------------------------------------------------------------- lock


def hold_lock(folder: Path) -> subprocess.Popen:
    """Another process holding ``folder``'s lock (as a running fit would)."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from automl.results import RunFolder
        with RunFolder({str(folder)!r}).locked("automl fit held.csv"):
            print("held", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return holder


def test_a_locked_run_folder_is_refused_with_the_holder_named(write_csv, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    holder = hold_lock(out)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run("fit", write_csv(make_frame("binary")), "--target", "y", "--output", out, "--trials", "1",
                     *FAST)
        assert result.exit_code == EXIT_LOCKED, result.output
        assert f"process {holder.pid}" in result.output and "automl fit held.csv" in result.output
        assert "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # the kernel released the lock with the process: the folder is usable at once
    result = run("fit", write_csv(make_frame("binary")), "--target", "y", "--output", out, "--trials", "1", *FAST)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- kill -9, then resume


def test_a_run_killed_mid_search_resumes_without_losing_trials(write_csv, tmp_path):
    data = write_csv(make_frame("binary", n=300))
    out = tmp_path / "run"
    proc = subprocess.Popen(automl_cmd("fit", data, "--target", "y", "--output", out, "--trials", "12", *FAST),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    journal = out / "optuna.journal"
    deadline = time.monotonic() + 240
    before = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists():
            before = complete_trials(journal)
            if before >= 4:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the fit ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert before >= 4
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "running" and not (out / "model.joblib").exists()
    assert complete_trials(journal) >= before

    result = subprocess.run(automl_cmd("resume", out), capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete" and len(meta["resumed"]) == 1
    after = complete_trials(journal)
    assert after >= before and meta["trials_total"] >= 2 * 12  # every family reached its 12 trials
    assert "earlier trial(s) restored" in (out / "automl.log").read_text()
    assert run("predict", out, data, "--output", tmp_path / "preds.csv").exit_code == 0
    assert len(pd.read_csv(tmp_path / "preds.csv")) == 300
    assert not (out / "checkpoints").exists()
    again = run("resume", out)
    assert again.exit_code == EXIT_BAD_INPUT and "already complete" in again.output


def test_resume_refuses_changed_data(write_csv, tmp_path, monkeypatch):
    import automl.fit.finishing

    data = write_csv(make_frame("binary"))
    out = tmp_path / "run"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(automl.fit.finishing, "build_ensembles", crash)
    result = CliRunner().invoke(main, ["fit", str(data), "--target", "y", "--output", str(out), "--trials", "1",
                                       *FAST])
    assert result.exit_code == 130
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert f"continue with `automl resume {out}`" in result.output  # it said only "Interrupted."
    assert f"Continue it with `automl resume {out}`" in run("report", out).output  # it said: run automl fit again
    monkeypatch.undo()
    write_csv(make_frame("binary", seed=1))  # same path, other rows
    result = run("resume", out)
    assert result.exit_code == EXIT_BAD_INPUT and "has changed since the run started" in result.output
    assert "put the file back as it was" in result.output and "Pass that data" not in result.output


def test_a_resumed_run_has_only_what_is_left_of_its_budget(write_csv, tmp_path, monkeypatch):
    """The wall time an interrupted attempt's search used (more than its trials' seconds) is recorded, and the
    resume's budget subtracts it."""
    import automl.fit.finishing
    import automl.fit.running

    data = write_csv(make_frame("binary"))
    out = tmp_path / "run"

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(automl.fit.finishing, "build_ensembles", crash)
    result = CliRunner().invoke(main, ["fit", str(data), "--target", "y", "--output", str(out), "--time-limit",
                                       "4", "--families", "linear", "--folds", "3", "--repeats", "1"])
    assert result.exit_code == 130
    meta = json.loads((out / "run.json").read_text())
    trial_seconds = pd.read_csv(out / "trials.csv")["fit_seconds"].sum() if (out / "trials.csv").exists() else 0
    assert meta["status"] == "interrupted" and meta["search_seconds_spent"] > trial_seconds
    monkeypatch.undo()
    budgets = []
    real = automl.fit.running.Budget.for_fit
    monkeypatch.setattr(automl.fit.running.Budget, "for_fit",
                        lambda *args, **kwargs: budgets.append(args) or real(*args, **kwargs))
    assert run("resume", out).exit_code == 0
    assert budgets[0][3] == meta["search_seconds_spent"]  # (time_limit, trials, started, spent)


# ---------------------------------------------------------------- batch runs


def nightly(tmp_path, threshold: float = 0.05) -> Path:
    recipe = tmp_path / "nightly.toml"
    recipe.write_text(textwrap.dedent(f"""
        description = "test"
        [fit]
        target = "y"
        trials = 1
        folds = 3
        repeats = 1
        models = ["linear", "lightgbm"]
        [batch]
        input = "{tmp_path / 'incoming'}/*.csv"
        output_root = "{tmp_path / 'reports'}"
        keep_runs = 2
        alert_threshold = {threshold}
    """))
    (tmp_path / "incoming").mkdir(exist_ok=True)
    return recipe


def drop_in(tmp_path, frame: pd.DataFrame, name: str) -> None:
    path = tmp_path / "incoming" / name
    frame.to_csv(path, index=False)
    os.utime(path, (time.time() + len(list(path.parent.iterdir())),) * 2)  # newest file last


def test_batch_runs_compare_point_latest_prune_and_alert(tmp_path, monkeypatch):
    recipe = nightly(tmp_path)
    root = tmp_path / "reports" / "nightly"
    drop_in(tmp_path, make_frame("binary", n=600), "day1.csv")
    first = run("run", recipe)
    assert first.exit_code == 0, first.output
    runs = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 1 and (root / "latest").resolve() == runs[0].resolve()
    for name in ("run.json", "log.jsonl", "leaderboard.csv", "model.joblib", "report.html"):
        assert (runs[0] / name).is_file()
    json.loads((runs[0] / "log.jsonl").read_text().splitlines()[0])  # JSON lines

    time.sleep(1.1)  # run folders are named by the second
    shifted = make_frame("binary", n=600, seed=1)
    shifted["x2"] = shifted["x2"] * 5 + 10  # drift in one column
    drop_in(tmp_path, shifted, "day2.csv")
    import automl.report

    renders, render = [], automl.report.render
    monkeypatch.setattr(automl.report, "render", lambda *a, **k: renders.append(a) or render(*a, **k))
    second = run("run", recipe)
    assert second.exit_code == 0, second.output
    assert len(renders) == 1  # with the comparison already in it: the report is rendered once
    latest = (root / "latest").resolve()
    meta = json.loads((latest / "run.json").read_text())
    comparison = meta["comparison"]
    assert Path(comparison["previous_run"]).resolve() == runs[0].resolve()
    drift = {d["column"]: d for d in comparison["drift"]}
    assert drift["x2"]["level"] == "major" and drift["x1"]["level"] == "stable"
    assert comparison["schema"] == {"added": [], "removed": [], "kind_changed": [], "task_changed": False}
    report = (latest / "report.html").read_text()
    assert "Monitoring: comparison with the previous run" in report and "x2" in report

    time.sleep(1.1)
    noise = make_frame("binary", n=600, seed=2)
    noise["y"] = np.random.default_rng(0).permutation(noise["y"].to_numpy())  # no signal left: the score drops
    drop_in(tmp_path, noise, "day3.csv")
    third = run("run", recipe)
    assert third.exit_code == EXIT_SCORE_DROP, third.output
    assert "dropped by" in third.output and "Traceback" not in third.output
    first_run = runs[0]
    runs = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 2 and not first_run.exists()  # keep_runs = 2: the oldest run was removed
    assert (root / "latest").resolve() == runs[-1].resolve()
    assert json.loads((runs[-1] / "run.json").read_text())["status"] == "complete"  # saved before exit 5


def test_a_second_batch_run_of_a_recipe_waits_its_turn(tmp_path):
    recipe = nightly(tmp_path)
    drop_in(tmp_path, make_frame("binary", n=100), "day1.csv")
    holder = hold_lock(tmp_path / "reports" / "nightly")
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run("run", recipe)
        assert result.exit_code == EXIT_LOCKED and f"process {holder.pid}" in result.output
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_running_a_recipe_again_resumes_its_unfinished_run(tmp_path, monkeypatch):
    import automl.fit.finishing

    recipe = nightly(tmp_path)
    drop_in(tmp_path, make_frame("binary", n=200), "day1.csv")

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash after the search")

    monkeypatch.setattr(automl.fit.finishing, "build_ensembles", crash)
    assert CliRunner().invoke(main, ["run", str(recipe)]).exit_code == 1
    monkeypatch.undo()
    result = run("run", recipe)
    assert result.exit_code == 0 and "(resumed)" in result.output
    root = tmp_path / "reports" / "nightly"
    runs = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1
    meta = json.loads((runs[0] / "run.json").read_text())
    assert meta["status"] == "complete" and meta["resumed"] and meta["trials_total"] == 2


def test_batch_scoring_skips_a_bad_file_and_scores_the_others(write_csv, tmp_path):
    frame = make_frame("binary")
    out = tmp_path / "run"
    assert run("fit", write_csv(frame), "--target", "y", "--output", out, "--trials", "1", *FAST).exit_code == 0
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    frame.drop(columns="y").head(10).to_csv(incoming / "a.csv", index=False)
    frame.drop(columns=["y", "x1"]).to_csv(incoming / "b.csv", index=False)  # a column is missing
    frame.drop(columns="y").tail(5).to_csv(incoming / "c.csv", index=False)
    result = run("predict", out, f"{incoming}/*.csv", "--output-dir", tmp_path / "scored")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "b.csv" in result.output and "x1" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in (tmp_path / "scored").iterdir()) == ["a.csv", "c.csv"]
    assert len(pd.read_csv(tmp_path / "scored" / "c.csv")) == 5


# ---------------------------------------------------------------- commands and the API


def test_leaderboard_command_and_help_examples(write_csv, tmp_path):
    out = tmp_path / "run"
    assert run("fit", write_csv(make_frame("binary")), "--target", "y", "--output", out, "--trials", "1",
               *FAST).exit_code == 0
    table = run("leaderboard", out)
    assert table.exit_code == 0 and "lightgbm" in table.output and "cv_roc_auc_mean" in table.output
    csv = run("leaderboard", out, "--format", "csv")
    assert pd.read_csv(io.StringIO(csv.output))["model"].notna().all()
    assert run("leaderboard", tmp_path / "nope").exit_code == EXIT_BAD_INPUT
    for command in ("fit", "predict", "report", "leaderboard", "run", "resume", "recipes"):
        help_text = run(command, "--help").output
        assert "Example:" in help_text and "Exit codes" in help_text, command
    assert "4 the run folder is locked" in run("--help").output


def test_plain_log_lines_off_a_terminal(write_csv, tmp_path):
    """Off a terminal: plain lines, one per family's defaults; later trials only in automl.log (and at --verbose)."""
    result = run("fit", write_csv(make_frame("binary")), "--target", "y", "--output", tmp_path / "run",
                 *FAST, "--trials", "3")
    assert result.exit_code == 0 and "\x1b" not in result.output and "\r" not in result.output
    assert "defaults: roc_auc" in result.output and "trial 1" not in result.output
    assert "trial 1" in (tmp_path / "run" / "automl.log").read_text()


def test_progress_display_on_a_terminal():
    from rich.console import Console

    from automl.models import registry
    from automl.progress import SearchProgress
    from automl.results.records import TrialResult

    display = SearchProgress(time_limit=None, n_trials=3,
                             console=Console(file=io.StringIO(), force_terminal=True, width=120))

    result = TrialResult("lightgbm", "LightGBM", "boosting", {}, fold_scores=[0.9])
    state = SimpleNamespace(spec=registry.get("lightgbm"), trials=[result], seconds=1.0, best=result)
    with display.shown():
        display(state, result)
    text = display.console.file.getvalue()
    assert "LightGBM" in text and "1/3" in text and "best 0.9000" in text


def test_api_save_load_predict_in_a_fresh_process(tmp_path):
    make_frame("multiclass").to_csv(tmp_path / "train.csv", index=False)
    fit_code = textwrap.dedent(f"""
        from automl import AutoML
        model = AutoML(target="y", trials=1, folds=3, repeats=1, models=("linear",), seed=1,
                       output={str(tmp_path / 'run')!r}).fit({str(tmp_path / 'train.csv')!r})
        model.save({str(tmp_path / 'saved')!r})
        print(model.leaderboard()["model"].iloc[0])
    """)
    subprocess.run([sys.executable, "-c", fit_code], check=True, cwd=ROOT, capture_output=True, timeout=300)
    predict_code = textwrap.dedent(f"""
        import pandas as pd
        from automl import AutoML
        model = AutoML.load({str(tmp_path / 'saved')!r})
        rows = pd.read_csv({str(tmp_path / 'train.csv')!r}).drop(columns="y").head(7)
        proba = model.predict_proba(rows)
        print(len(model.predict(rows)), sorted(proba.columns), round(float(proba.sum(axis=1).min()), 6))
    """)
    out = subprocess.run([sys.executable, "-c", predict_code], check=True, cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.stdout.strip() == "7 ['a', 'b', 'c'] 1.0"


def test_sklearn_estimators_in_a_pipeline_and_cross_val_score(tmp_path):
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from automl import AutoMLClassifier, AutoMLRegressor

    frame = make_frame("binary", n=150)
    X, y = frame.drop(columns="y"), (frame["y"] == "yes").astype(int).to_numpy()
    est = AutoMLClassifier(trials=1, folds=3, models=("linear",), seed=2)
    assert clone(est).get_params() == est.get_params()
    pipe = make_pipeline(FunctionTransformer(lambda f: f.drop(columns="colour")), est)
    scores = cross_val_score(pipe, X, y, cv=2, scoring="accuracy")
    assert scores.shape == (2,) and scores.min() > 0.6
    fitted = est.fit(X, y)
    assert fitted is est and list(est.classes_) == [0, 1] and est.predict(X).dtype == y.dtype
    assert est.predict_proba(X).shape == (150, 2) and Path(est.run_dir_, "report.html").is_file()
    # a temporary run folder goes with its estimator (cross_val_score's clones left one folder per fit behind)
    first = est.run_dir_
    est.fit(X, y)
    assert not first.exists() and est.run_dir_.exists()
    second = est.run_dir_
    del est, fitted, pipe
    import gc

    gc.collect()
    assert not second.exists()
    kept = AutoMLClassifier(trials=1, folds=3, models=("linear",), output=tmp_path / "kept").fit(X, y)
    del kept
    gc.collect()
    assert (tmp_path / "kept" / "report.html").is_file()

    reg = make_frame("regression", n=150)
    r = AutoMLRegressor(trials=1, folds=3, models=("linear",)).fit(reg.drop(columns=["y", "colour"]).to_numpy(),
                                                                 reg["y"])
    assert r.score(reg.drop(columns=["y", "colour"]).to_numpy(), reg["y"]) > 0.8
    with pytest.raises(ValueError, match="at least 2 classes"):
        AutoMLClassifier().fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0]), np.array([" a", "b"]), np.array(["Yes", "yes"]),
                                    np.array([False, True]), np.array(["no", "yes"])])
def test_the_sklearn_classifier_gives_back_every_kind_of_label(labels, caplog):
    """Float labels (0.0 / 1.0, a float pandas column), padded or case-variant text and booleans, which automl
    reads differently from how they are written, map back exactly (KeyError: '1' before); a lone model name is
    a list of one (it was split into letters)."""
    from automl import AutoMLClassifier

    frame = make_frame("binary", n=120)
    X, y = frame.drop(columns=["y", "colour"]), labels[(frame["y"] == "yes").astype(int).to_numpy()]
    with caplog.at_level(logging.WARNING, logger="automl"):
        est = AutoMLClassifier(trials=1, folds=3, models="linear", seed=0).fit(X, y)
    assert "time limit is ignored" not in caplog.text  # its default time_limit is not one the user gave
    assert list(est.classes_) == list(np.unique(labels))
    predicted = est.predict(X)
    assert predicted.dtype == y.dtype and set(predicted) <= set(labels) and (predicted == y).mean() > 0.8
    proba = est.predict_proba(X)
    assert proba.shape == (120, 2) and (est.classes_[proba.argmax(axis=1)] == predicted).mean() > 0.95


@pytest.mark.parametrize("kind", ["float", "text"])
def test_the_sklearn_estimators_leave_out_rows_with_a_missing_label_and_take_sample_weight(kind, caplog):
    """A missing label (NaN, None) is a left-out row as at the command line, not a class (float labels had a
    class nan; text ones raised TypeError from np.unique); ``sample_weight`` weighs the rows (TypeError before)."""
    from automl import AutoMLClassifier, AutoMLRegressor

    frame = make_frame("binary", n=120)
    X = frame.drop(columns=["y", "colour"])
    y = (frame["y"] == "yes").astype(float).to_numpy().copy()
    if kind == "text":
        y = np.where(y > 0, "yes", "no").astype(object)
    y[[3, 7]] = np.nan if kind == "float" else None
    weights = np.r_[np.ones(110), np.zeros(10)]
    with caplog.at_level(logging.INFO, logger="automl"):
        est = AutoMLClassifier(trials=1, folds=3, models="linear", seed=0).fit(X, y, sample_weight=weights)
    assert len(est.classes_) == 2 and not pd.isna(est.classes_).any()
    assert "Dropped 2 row(s) whose target 'y' is missing" in caplog.text and "__automl" not in caplog.text
    assert est.automl_.config.weight_column == "sample_weight"
    clash = AutoMLClassifier(trials=1, folds=3, models="linear", seed=0).fit(X.assign(y=1.0), y)
    assert clash.automl_.config.target == "__automl_target__"  # a feature named y keeps its name
    assert not pd.isna(est.predict(X)).any() and est.predict_proba(X).shape == (120, 2)
    assert est.n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match=r"one weight per row of X, \(120,\)"):
        AutoMLRegressor(trials=1).fit(X, np.arange(120.0), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight") as err:  # named as given, not as the column it became
        AutoMLRegressor(trials=1).fit(X, np.arange(120.0), sample_weight=-np.ones(120))
    assert "__automl" not in str(err.value)


def test_storage_urls_are_recorded_without_their_password():
    from automl.search.storage import mask

    assert mask("postgresql://automl:s3cr:et@db.example/automl") == "postgresql://automl:***@db.example/automl"
    assert mask("postgresql://automl@db/automl") == "postgresql://automl@db/automl"
    assert mask("sqlite:///runs/studies.db") == "sqlite:///runs/studies.db"


def test_a_fit_that_would_not_fit_in_memory_is_refused_with_advice(write_csv, tmp_path, monkeypatch):
    data = write_csv(make_frame("binary"))
    monkeypatch.setenv("AUTOML_MEMORY_LIMIT", "20000")  # 20 kB "available": even reading is refused
    result = run("fit", data, "--target", "y", "--output", tmp_path / "r1", "--trials", "1", *FAST)
    assert result.exit_code == EXIT_BAD_INPUT and "needs about" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("AUTOML_MEMORY_LIMIT", str(120 * 8 * 3 * 9 + 40_000))  # the table fits, the fit does not
    result = run("fit", data, "--target", "y", "--output", tmp_path / "r2", "--trials", "1",
                 "--families", "linear,random_forest", "--folds", "3")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "would not fit in memory" in result.output and "--exclude-models random_forest" in result.output


def test_a_run_fitted_from_a_dataframe_resumes_only_from_that_dataframe(tmp_path, monkeypatch):
    """A DataFrame run records a hash of its values: resuming with another frame (one value changed: it resumed
    silently, mixing scores of two tables; half the rows: an IndexError) is refused with a clear error."""
    import automl.fit.finishing
    from automl import AutoML
    from automl.errors import DataError

    frame = make_frame("binary", n=120)

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash after the search")

    monkeypatch.setattr(automl.fit.finishing, "build_ensembles", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        AutoML(target="y", trials=1, folds=3, repeats=1, models=("linear",), output=tmp_path / "run").fit(frame)
    monkeypatch.undo()
    changed = frame.copy()
    changed.loc[5, "x1"] += 1.0
    for other in (changed, frame.sample(frac=0.5, random_state=0)):
        with pytest.raises(DataError, match=r"The DataFrame differs from the one the run started with .*: pass "
                                            r"that DataFrame \(AutoML\.resume\(run_dir, data=\.\.\.\)\)"):
            AutoML.resume(tmp_path / "run", data=other)
    resumed = AutoML.resume(tmp_path / "run", data=frame.copy())
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "complete"
    assert len(resumed.predict(frame.drop(columns="y"))) == 120
    # a frame with cells pandas cannot hash (lists) is scored as before: the hash is the fit's, not predict's
    assert len(resumed.predict(frame.drop(columns="y").assign(tags=[["a"], []] * 60))) == 120
    from automl.data.io import frame_sha256

    assert frame_sha256(frame.assign(tags=[["a"], []] * 60)) != frame_sha256(frame.assign(tags=[["b"], []] * 60))
    # a run fitted from a file resumed from a DataFrame: nothing to compare, as before
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    monkeypatch.setattr(automl.fit.finishing, "build_ensembles", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        AutoML(target="y", trials=1, folds=3, repeats=1, models=("linear",), output=tmp_path / "filerun").fit(path)
    monkeypatch.undo()
    AutoML.resume(tmp_path / "filerun", data=pd.read_csv(path))
    assert json.loads((tmp_path / "filerun" / "run.json").read_text())["status"] == "complete"
