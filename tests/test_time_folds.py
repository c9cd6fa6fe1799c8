"""Forward-chaining folds in time (--time-column): every fold validates only on rows later than all of its
training rows, the gap is kept, one time is never split, the refit uses every row, and the report shows the
folds' periods."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.config import FitConfig
from automl.errors import ConfigError, DataError
from automl.fit.preparing import prepare
from automl.search.cv import time_folds, validated_rows


def daily(n: int = 240, seed: int = 0, task: str = "regression") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    x = rng.normal(size=n)
    trend = np.arange(n) / n
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "x": x, "z": rng.normal(size=n)})
    signal = 2 * x + trend
    frame["y"] = signal + rng.normal(scale=0.3, size=n) if task == "regression" else np.where(signal > 0.5, "a", "b")
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # rows not in time order in the file


@pytest.mark.parametrize("gap", [0, 7])
def test_every_fold_validates_only_on_later_rows(gap):
    rng = np.random.default_rng(0)
    times = rng.integers(0, 60, 300).astype(float)  # many ties
    folds = time_folds(times, 4, gap)
    assert len(folds) == 4
    for train, valid in folds:
        assert times[valid].min() > times[train].max()  # later, never the same time
        between = np.sum((times > times[train].max()) & (times < times[valid].min()))
        assert between >= gap or gap == 0
    first_valid = min(times[v].min() for _, v in folds)
    assert not validated_rows(folds, 300)[times < first_valid].any()  # the first period is only trained on
    assert validated_rows(folds, 300)[times >= first_valid].all()
    assert [len(t) for t, _ in folds] == sorted(len(t) for t, _ in folds)  # training grows


def test_too_few_times_or_a_bad_time_is_a_clear_error():
    with pytest.raises(DataError, match="Cannot make 5 forward-chaining folds: 3 distinct times"):
        time_folds(np.repeat([1.0, 2.0, 3.0], 10), 5)
    frame = daily(60)
    frame.loc[[3, 9], "day"] = None
    with pytest.raises(DataError, match=r"Time column 'day' .* no date or number in 2 row\(s\): rows 4, 10"):
        prepare(FitConfig(target="y", time_column="day", folds=3), frame)
    with pytest.raises(ConfigError, match="cannot be used together"):
        FitConfig(target="y", time_column="day", group_column="g")


def test_folds_in_time_that_cannot_be_scored_are_a_clear_error():
    """A class that only occurs late leaves a period with one class: ROC AUC is undefined there (the run ended
    with CV roc_auc nan, exit 0), and the first fold trains on one class. The error names the folds, their
    periods and what to do; a metric defined on one class (log loss) runs."""
    frame = daily(120, task="binary")
    day, labels = pd.to_datetime(frame["day"]), frame["y"].copy()
    frame["y"] = np.where(day >= "2024-03-01", labels, "a")  # "b" only from March on
    with pytest.raises(DataError) as err:
        prepare(FitConfig(target="y", time_column="day", folds=3), frame)
    text = str(err.value)
    assert "fold 1 trains on one class only (2024-01-01 to 2024-01-30)" in text
    assert "fold 2 validates on 2024-03-01 to 2024-03-30" not in text  # both classes there
    # training on one class: fewer folds or shuffled ones help, a metric does not (log loss gave the same error)
    assert "--folds 2" in text and "--metric" not in text and "without --time-column day" in text
    frame["y"] = np.where((day >= "2024-01-10") & (day < "2024-03-01"), labels, "a")  # no "b" after Feb
    with pytest.raises(DataError, match=r"fold 2 validates on 2024-03-01 to 2024-03-30, where only 'a' occurs; "
                                        r"fold 3 validates on 2024-03-31 to 2024-04-29, where only 'a' occurs"):
        prepare(FitConfig(target="y", time_column="day", folds=3), frame)
    p = prepare(FitConfig(target="y", time_column="day", folds=3, metric="log_loss"), frame)
    assert len(p.folds) == 3
    with pytest.raises(DataError) as err:  # two folds: no fewer to suggest
        prepare(FitConfig(target="y", time_column="day", folds=2), frame.assign(y=np.where(day < "2024-02-20", "a",
                                                                                             labels)))
    assert "--folds" not in str(err.value) and "without --time-column day" in str(err.value)


def test_prepare_chains_the_folds_forward_and_keeps_the_time_column_as_a_feature():
    frame = daily()
    p = prepare(FitConfig(target="y", time_column="day", folds=4, repeats=3), frame)
    days = pd.to_datetime(frame["day"]).to_numpy()
    assert p.repeats == 1 and len(p.folds) == 4
    for train, valid in p.folds:
        assert days[valid].min() > days[train].max()
    assert "day" in [c.name for c in p.ctx.schema.features]
    assert p.time_periods[0]["train_from"] == "2024-01-01" and p.time_periods[-1]["valid_until"] == "2024-08-27"
    assert [f["valid_rows"] for f in p.time_periods] == [48] * 4


@pytest.mark.parametrize("task", ["regression", "binary"])
def test_a_fit_in_time_order_records_reports_and_refits_on_every_row(task, tmp_path):
    frame = daily(task=task)
    out = tmp_path / "run"
    model = AutoML(target="y", time_column="day", models=["linear", "lightgbm"], trials=1, folds=3,
                   output=out).fit(frame)
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(meta["time_folds"]) == 3 and meta["config"]["time_column"] == "day"
    board = model.leaderboard()
    assert {"greedy_ensemble", "stacking"} <= set(board["model"]) and (board["status"] == "ok").all()
    oof = pd.read_parquet(out / "oof_predictions.parquet")
    first = oof["fold"] == 0
    assert first.sum() == 60 and oof.loc[first].drop(columns=["row", "fold", "target"]).isna().all().all()
    assert oof.loc[~first].drop(columns=["row", "fold", "target"]).notna().all().all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="time-folds"' in html and "forward-chaining folds in time" in html
    assert len(model.predict(frame.drop(columns="y").head(5))) == 5


def test_a_time_gap_needs_a_time_column():
    with pytest.raises(ConfigError, match="give --time-column too"):
        FitConfig(target="y", time_gap=3)
