"""The report's statistics: the corrected resampled t-test, the verdict sentence, the learning-curve reading."""

from __future__ import annotations

import numpy as np
from scipy import stats

from automl.report.sections import fit_note
from automl.report.stats import compare, corrected_t_test, verdict


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


def test_learning_curve_readings():
    epochs = np.arange(1, 41)
    falling = {"loss": list(1 / epochs), "val_loss": list(1.1 / epochs)}
    assert fit_note([falling]).startswith("Under-fitting")
    val = np.r_[1 / epochs[:20], 1 / 20 + 0.01 * np.arange(1, 21)]
    over = {"loss": list(0.5 / epochs), "val_loss": list(val)}
    assert fit_note([over, over]).startswith("Over-fitting")
    good = {"loss": list(0.5 + 1 / epochs), "val_loss": list(np.r_[0.52 + 1 / epochs[:30], [0.56] * 10])}
    assert fit_note([good]).startswith("Training and validation loss fall together")
