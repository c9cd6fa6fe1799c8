"""The report's statistics: the corrected resampled t-test, the verdict sentence, the learning-curve reading, and
the budget of each side of the neural-nets-vs-tree-ensembles comparison."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from automl.report.rundata import RunData
from automl.report.sections import fit_note, side_budgets
from automl.report.stats import (
    SideBudget,
    budget_ratio,
    budget_verdict,
    compare,
    corrected_t_test,
    is_provisional,
    verdict,
)
from automl.results import RunRecord


def test_corrected_t_test_inflates_the_variance_of_paired_differences():
    a = np.array([0.81, 0.84, 0.80, 0.86, 0.83])
    b = np.array([0.79, 0.80, 0.80, 0.82, 0.80])
    t, p = corrected_t_test(a, b, test_train_ratio=1 / 4)
    d = a - b
    expected = d.mean() / np.sqrt((1 / 5 + 1 / 4) * d.var(ddof=1))
    assert np.isclose(t, expected)
    assert np.isclose(p, 2 * stats.t.sf(abs(expected), df=4))
    plain = stats.ttest_rel(a, b).pvalue
    assert p > plain  # the correction makes the test more cautious
    assert corrected_t_test(a, a, 0.25) == (0.0, 1.0)


def test_verdict_names_winner_gap_and_significance():
    clear = compare("lightgbm", [0.90, 0.91, 0.92, 0.90, 0.91], "keras_mlp", [0.80, 0.80, 0.81, 0.79, 0.80], 5)
    text = verdict(clear, "roc_auc", greater_is_better=True)
    assert text.startswith("lightgbm beats keras_mlp by 0.108 roc_auc (p ") and "corrected t-test over 5 folds" in text
    noisy = compare("a", [1.0, 2.0, 1.5], "b", [1.4, 1.2, 1.8], 3)
    assert "statistically tied" in verdict(noisy, "rmse", greater_is_better=False)
    lower_better = compare("a", [1.0, 1.1, 1.0, 1.05], "b", [2.0, 2.1, 2.05, 2.0], 4)
    assert verdict(lower_better, "rmse", greater_is_better=False).startswith("a beats b")
    # p beside alpha: "p = 0.05 ... statistically tied" read as a contradiction
    near = replace(noisy, p_value=0.0504)
    assert "(p = 0.0504): on this data they are statistically tied" in verdict(near, "rmse", False)
    assert "(p = 0.0498, corrected" in verdict(replace(noisy, p_value=0.0498), "rmse", False)
    assert "(p = 0.31):" in verdict(replace(noisy, p_value=0.3104), "rmse", False)


def test_learning_curve_readings():
    epochs = np.arange(1, 41)
    falling = {"loss": list(1 / epochs), "val_loss": list(1.1 / epochs)}
    assert fit_note([falling]).startswith("Under-fitting")
    val = np.r_[1 / epochs[:20], 1 / 20 + 0.01 * np.arange(1, 21)]
    over = {"loss": list(0.5 / epochs), "val_loss": list(val)}
    assert fit_note([over, over]).startswith("Over-fitting")
    good = {"loss": list(0.5 + 1 / epochs), "val_loss": list(np.r_[0.52 + 1 / epochs[:30], [0.56] * 10])}
    assert fit_note([good]).startswith("Training and validation loss fall together")


def test_budget_verdict_is_provisional_when_one_side_had_over_three_times_the_trials_or_seconds():
    trees, one_nn = SideBudget("tree ensembles", 38, 41.2), SideBudget("neural nets", 1, 6.04)
    text = budget_verdict(one_nn, trees)
    assert text.startswith("Provisional: the tree ensembles had 38 trials (41 s) and the neural nets 1 trial (6.0 s);")
    assert "best-of-N selection" in text and "single untuned one" in text
    assert is_provisional(one_nn, trees)
    # seconds alone: same trials, the neural nets had 10x the time
    slow_nn = SideBudget("neural nets", 5, 400.0)
    text = budget_verdict(slow_nn, SideBudget("tree ensembles", 5, 40.0))
    assert text.startswith("Provisional: the neural nets had 5 trials (400 s) and the tree ensembles 5 trials (40 s)")
    assert "more time" in text


def test_budget_verdict_says_comparable_within_three_times():
    nn, trees = SideBudget("neural nets", 4, 30.0), SideBudget("tree ensembles", 12, 10.0)  # exactly 3x: even
    text = budget_verdict(nn, trees)
    assert text.startswith("The neural nets and the tree ensembles had comparable budgets")
    assert "4 trials (30 s) and 12 trials (10 s)" in text and "Provisional" not in text
    assert not is_provisional(nn, trees)
    assert is_provisional(nn, SideBudget("tree ensembles", 13, 10.0))  # just over 3x in trials
    assert is_provisional(nn, SideBudget("tree ensembles", 4, 9.9))  # just over 3x in seconds
    assert budget_ratio(0, 0) == 1.0 and budget_ratio(0, 2) == float("inf") and budget_ratio(6, 2) == 3.0


def test_side_budgets_count_every_trial_that_ran_but_not_skipped_placeholders():
    board = pd.DataFrame({
        "model": ["lightgbm", "keras_mlp", "random_forest", "linear", "extra_trees"],
        "kind": ["boosting", "neural net", "bagging", "linear", "bagging"],
        "status": ["ok", "ok", "ok", "ok", "out of budget"],
        "cv_roc_auc_mean": [0.91, 0.85, 0.88, 0.80, np.nan],
        "fold_scores": ["0.9 0.92 0.91", "0.84 0.86 0.85", "0.88 0.87 0.89", "0.8 0.8 0.8", ""],
        "reason": ["", "", "", "", "needs about 90 s, 10 s left"]})
    trials = pd.DataFrame(
        [("lightgbm", 0, "ok", 1.5), ("lightgbm", 1, "pruned", 0.5), ("lightgbm", 2, "out of budget", 2.0),
         ("lightgbm", 3, "failed", 0.25), ("random_forest", 0, "ok", 3.0), ("keras_mlp", 0, "ok", 6.0),
         ("keras_mlp", 1, "pruned", 1.0), ("linear", 0, "ok", 50.0), ("extra_trees", None, "out of budget", 0.0)],
        columns=["model", "trial", "status", "fit_seconds"]).astype({"trial": "Int64"})
    run = RunData(Path("run"), RunRecord(metric="roc_auc", greater_is_better=True), board, trials, None, {}, None, None)
    nn, trees = side_budgets(run, board[board["status"] == "ok"])
    assert (nn.side, nn.trials, nn.seconds, nn.best_model, nn.best_score) == ("neural nets", 2, 7.0, "keras_mlp", 0.85)
    assert (trees.side, trees.trials, trees.seconds) == ("tree ensembles", 5, 7.25)  # linear counts for neither
    assert (trees.best_model, trees.best_score) == ("lightgbm", 0.91)


def test_the_report_names_the_notes_classic_mlp_when_it_ran(tmp_path):
    import json

    import pandas as pd

    from automl.models.keras_mlp import CLASSIC
    from automl.report.rundata import RunData
    from automl.report.sections import classic_network

    trials = pd.DataFrame({
        "model": ["keras_mlp", "keras_mlp", "lightgbm"], "trial": [0, 1, 0], "status": ["ok", "ok", "ok"],
        "cv_roc_auc_mean": [0.91, 0.87, 0.93],
        "params": [json.dumps({"members": 4}), json.dumps({**CLASSIC, "epochs": 31}), json.dumps({})]})
    run = RunData(tmp_path, RunRecord(metric="roc_auc", greater_is_better=True), pd.DataFrame(), trials, None, {},
                  None, None)
    sentence = classic_network(run)
    assert "classic MLP" in sentence and "trial 1" in sentence and "0.87" in sentence and "0.91" in sentence
    run.trials = trials.iloc[[0, 2]]
    assert classic_network(run) is None


def test_file_sizes_read_in_kb_below_one_mib():
    from automl.report import file_size

    assert file_size(5_000) == "4.9 kB" and file_size(300_000) == "293 kB" and file_size(5 * 2**20) == "5.0 MiB"
    assert file_size(20) == "0.1 kB"


def test_time_used_after_a_resume_counts_the_search_before_the_interruption():
    from types import SimpleNamespace

    from automl.report.sections import _time_used

    assert _time_used(SimpleNamespace(fit_seconds=12.34, search_seconds_spent=0.0, resumed=False)) == "12.3 s"
    assert _time_used(SimpleNamespace(fit_seconds=16.2, search_seconds_spent=13.8, resumed=True)) == (
        "30.0 s (13.8 s of search before the run was stopped, 16.2 s after it was resumed)")


def test_a_batch_runs_log_names_the_columns_that_changed():
    from automl.batch import _schema_text

    text = _schema_text({"added": ["new_col"], "removed": ["year"], "task_changed": False,
                         "kind_changed": [{"column": "zip", "previous": "numeric", "current": "categorical"}]})
    assert text == "new column(s) 'new_col'; column(s) 'year' gone; 'zip' now categorical (was numeric)"
    assert _schema_text({"added": [], "removed": [], "kind_changed": [], "task_changed": False}) == ""
