"""Results as typed data (automl.results): run.json matches RunRecord key for key, the result tables carry the
columns automl.results.leaderboard names, and a trial is never changed into a leaderboard row."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from automl import AutoML
from automl.errors import ModelFormatError
from automl.results import LEADERBOARD_FILE, RUN_FILE, TRIALS_FILE, RunFolder, RunRecord, read_record
from automl.results import leaderboard as lb
from automl.results.records import LeaderboardRow, TrialResult
from automl.results.run_record import unknown_keys
from tests.conftest import make_frame

ONLY_SOMETIMES = {"resumed", "error", "search_seconds_spent", "comparison"}  # resume, a stopped run, a batch


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "run"
    AutoML(target="y", models=["linear", "lightgbm"], trials=1, folds=3, output=out).fit(make_frame("multiclass"))
    return out


def test_run_json_is_the_run_record_key_for_key(run_dir):
    written = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    assert unknown_keys(written) == []  # every key the fit wrote is typed
    assert set(written) == {f.name for f in fields(RunRecord)} - ONLY_SOMETIMES  # and every field is written
    record = read_record(run_dir)
    typed = record.to_dict()
    assert {k: typed[k] for k in written} == written  # read back without loss
    assert record.status == "complete" and record.metric == "log_loss" and not record.greater_is_better
    assert record.data is not None and record.data.rows == 120 and record.data.classes == ["a", "b", "c"]
    assert [c.name for c in record.data.columns] == ["x1", "x2", "colour", "x_nan"]
    assert record.best_model in {row[lb.MODEL] for row in record.leaderboard}
    assert record.fit_config().models == ("linear", "lightgbm")


def test_result_tables_carry_the_named_columns(run_dir):
    board = lb.read_leaderboard(run_dir / LEADERBOARD_FILE, "log_loss")
    named = lb.leaderboard_columns("log_loss")
    assert [c for c in board.columns if c in named] == named
    others = [c for c in board.columns if c not in named]
    assert lb.secondary_column("accuracy") in others and all(c.startswith("cv_") for c in others)
    trials = lb.read_trials(run_dir / TRIALS_FILE, "log_loss")
    assert trials.columns.tolist() == lb.trial_columns("log_loss") and len(trials) == 2
    assert board.set_index(lb.MODEL).loc[["linear", "lightgbm"], lb.TRIALS].tolist() == [1, 1]


def test_a_renamed_column_or_key_fails_where_it_is_read_or_written(run_dir, tmp_path):
    board = (run_dir / LEADERBOARD_FILE).read_text(encoding="utf-8")
    (tmp_path / LEADERBOARD_FILE).write_text(board.replace("fold_scores", "scores_of_folds", 1), encoding="utf-8")
    with pytest.raises(ModelFormatError, match="lacks the column"):
        lb.read_leaderboard(tmp_path / LEADERBOARD_FILE, "log_loss")
    folder = RunFolder(tmp_path / "new")
    folder.prepare(overwrite=False)
    with pytest.raises(TypeError, match=r"run\.json has no key 'best_models'"):
        folder.update(best_models="lightgbm")
    assert RunRecord.from_dict({"status": "complete", "from_a_later_version": 1}).status == "complete"
    assert unknown_keys({"status": "x", "data": {"rows": 1, "rowz": 2}}) == ["data.rowz"]


def test_a_family_row_is_built_from_its_trials_without_changing_them():
    trials = [TrialResult("lightgbm", "LightGBM", "boosting", {"a": 1}, fold_scores=[0.8, 0.9], worker="h:1",
                          trial=0),
              TrialResult("lightgbm", "LightGBM", "boosting", {"a": 2}, status="failed", reason="boom", worker="h:2",
                          trial=1)]
    row = LeaderboardRow.of_family("lightgbm", "LightGBM", "boosting", trials, trials[0])
    assert (row.trials_run, row.trials_failed, row.workers) == (2, 1, {"h:1": 1, "h:2": 1})
    assert row.params == {"a": 1} and row.mean == pytest.approx(0.85) and row is not trials[0]
    assert not hasattr(trials[0], "trials_run") and not hasattr(trials[0], "members")
    empty = LeaderboardRow.of_family("xgboost", "XGBoost", "boosting", [], None)
    assert (empty.status, empty.reason, empty.trials_run) == ("not run", "no budget", 0)


def test_a_family_skipped_before_its_first_trial_ran_none_and_has_no_rank():
    """The search records a family it skipped for want of time as a placeholder without a trial number: its row
    says 0 trials (it said 1), and the rank column stays whole numbers, empty for that row (it read 1.0, 2.0)."""
    from automl.search.metrics import get_metric

    ran = TrialResult("linear", "Linear", "linear", {}, fold_scores=[0.3, 0.4], trial=0)
    skipped = TrialResult("xgboost", "XGBoost", "boosting", {"max_depth": 6}, status="out of budget",
                          reason="needs about 2 s, 0 s left")
    rows = [LeaderboardRow.of_family("linear", "Linear", "linear", [ran], ran),
            LeaderboardRow.of_family("xgboost", "XGBoost", "boosting", [skipped], None)]
    assert [r.trials_run for r in rows] == [1, 0]
    board = lb.leaderboard_frame(rows, get_metric("log_loss"))
    lines = board.to_csv(index=False).splitlines()
    assert lines[1].startswith("1,linear,") and lines[2].startswith(",xgboost,")
    assert json.loads(board.to_json(orient="records"))[1][lb.RANK] is None


def test_the_leaderboard_reads_back_its_counts_as_whole_numbers(run_dir):
    board = AutoML.load(run_dir).leaderboard()
    assert str(board[lb.RANK].dtype) == "Int64" and str(board[lb.TRIALS].dtype) == "Int64"
    assert board[lb.RANK].tolist()[:2] == [1, 2]
    assert read_record(run_dir).trials_total == 2


@pytest.mark.parametrize("configured", [None, "WARNING", "INFO"])
def test_the_run_log_does_not_silence_warnings_where_no_logging_is_configured(configured, tmp_path):
    """A script that configures no logging sees automl's warnings on standard error, as Python's last-resort
    handler prints them (the run log's file handler had silenced it); one that configures logging gets them once,
    through its own handler, at its own level (the run log's DEBUG had let INFO lines through to a program
    configured at WARNING); both find every line in the run log."""
    import subprocess
    import sys

    script = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "from automl.results import log_to_file\n"
        + (f"logging.basicConfig(level=logging.{configured}, format='mine: %(message)s')\n" if configured else "")
        + "with log_to_file(Path(sys.argv[1])):\n"
        "    logging.getLogger('automl.data').warning('dropped column x')\n"
        "    logging.getLogger('automl.data').info('read 3 rows')\n"
        "    logging.getLogger('automl.fit').error('for the log only', extra={'automl_file_only': True})\n"
        "logging.getLogger('automl.data').warning('after the run')\n"
        "print(logging.getLogger('automl').propagate, logging.getLogger('automl').level)\n"
    )
    log_file = tmp_path / "automl.log"
    done = subprocess.run([sys.executable, "-c", script, str(log_file)], capture_output=True, text=True, check=True)
    lines = done.stderr.splitlines()
    if configured:  # once each, through the program's own handler (not also Python's last resort)
        assert lines.count("mine: dropped column x") == 1 and lines.count("mine: after the run") == 1
        assert not [line for line in lines if not line.startswith("mine: ")]
        assert lines.count("mine: read 3 rows") == (configured == "INFO")
    else:
        assert lines == ["dropped column x", "after the run"]
    assert done.stdout.split() == ["True", "0"]  # the logger as it was
    assert "dropped column x" in log_file.read_text() and "read 3 rows" in log_file.read_text()
    assert "for the log only" in log_file.read_text()
    assert configured or "for the log only" not in done.stderr  # the program's own handlers show what they will
