"""`automl fit` (report included) + `automl predict` on every dataset in ../shared/datasets (skipped if absent)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from automl.cli import main
from tests.conftest import SHARED_DATASETS

MANIFEST = SHARED_DATASETS / "manifest.json"
DATASETS = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not DATASETS, reason=f"{MANIFEST} not found")
@pytest.mark.parametrize("entry", DATASETS, ids=[d["name"] for d in DATASETS])
def test_fit_and_predict_on_shared_dataset(entry, tmp_path):
    data = SHARED_DATASETS / entry["file"]
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(main, ["fit", str(data), "--target", entry["target"], "--metric", entry["metric"],
                                  "--time-limit", "30", "--seed", "0", "--output", str(out)])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete" and meta["task"] == entry["task"]
    report = (out / "report.html").read_text(encoding="utf-8")
    for section in ("business", "data", "preparation", "modelling", "evaluation", "deployment"):
        assert f'<section id="{section}">' in report
    assert "Predicted vs actual" in report if entry["task"] == "regression" else "Confusion matrix" in report
    result = runner.invoke(main, ["predict", str(out), str(data), "--output", str(tmp_path / "preds.csv")])
    assert result.exit_code == 0, result.output
    preds = pd.read_csv(tmp_path / "preds.csv", keep_default_na=False)
    truth = pd.read_csv(data, keep_default_na=False)[entry["target"]]
    assert len(preds) == len(truth)
    if entry["task"] == "regression":
        assert np.corrcoef(preds["prediction"].astype(float), truth.astype(float))[0, 1] > 0.8
    else:
        assert len(preds.columns) == entry["n_classes"] + 1
        assert set(preds.columns[:-1]) == set(truth.astype(str))
        assert (preds["prediction"].astype(str) == truth.astype(str)).mean() > 0.6
