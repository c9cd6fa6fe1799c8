"""A real distributed search: a coordinator and two workers share Optuna studies in PostgreSQL.

`.ci/run` starts Debian's PostgreSQL on 127.0.0.1 and sets ``AUTOML_TEST_POSTGRES``; elsewhere the test is
skipped unless that variable names a server (``AUTOML_REQUIRE_POSTGRES=1`` turns the skip into a failure).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from tests.conftest import make_frame

URL = os.environ.get("AUTOML_TEST_POSTGRES")
ROOT = Path(__file__).resolve().parents[1]

if not URL:
    if os.environ.get("AUTOML_REQUIRE_POSTGRES"):
        pytest.fail("AUTOML_REQUIRE_POSTGRES is set but AUTOML_TEST_POSTGRES names no server", pytrace=False)
    pytest.skip("no PostgreSQL server (set AUTOML_TEST_POSTGRES=postgresql://...)", allow_module_level=True)


def automl(*args) -> list[str]:
    return [sys.executable, "-m", "automl", *[str(a) for a in args]]


def trials_by(storage: optuna.storages.BaseStorage, prefix: str, worker: str) -> int:
    """Complete trials of the run's studies that ``worker`` ran."""
    count = 0
    for study in storage.get_all_studies():
        if study.study_name.startswith(prefix):
            count += sum(t.state == optuna.trial.TrialState.COMPLETE
                         and (t.user_attrs.get("result") or {}).get("worker") == worker
                         for t in storage.get_all_trials(study._study_id, deepcopy=False))
    return count


def test_coordinator_and_two_workers_share_the_search_and_survive_a_killed_worker(tmp_path):
    data = tmp_path / "train.csv"
    make_frame("binary", n=400).to_csv(data, index=False)
    run_dir = tmp_path / "run"
    host = socket.gethostname()
    coordinator = subprocess.Popen(
        automl("fit", data, "--target", "y", "--storage", URL, "--output", run_dir, "--time-limit", "45",
               "--families", "linear,lightgbm,xgboost,hist_gb", "--folds", "3", "--repeats", "1", "--quiet"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = [subprocess.Popen(automl("worker", "--storage", URL, "--run", run_dir, "--quiet"), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        # wait until the second worker has finished a few trials, then kill it (most likely mid-trial)
        storage = optuna.storages.RDBStorage(URL)
        victim = f"{host}:{workers[1].pid}"
        deadline = time.monotonic() + 60
        prefix = None
        while time.monotonic() < deadline:
            meta = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").exists() else {}
            prefix = meta.get("study_prefix")
            if prefix and trials_by(storage, prefix, victim) >= 2:
                break
            time.sleep(0.3)
        assert prefix and trials_by(storage, prefix, victim) >= 2, "the second worker never ran a trial"
        os.kill(workers[1].pid, signal.SIGKILL)
        _, err = coordinator.communicate(timeout=240)
        assert coordinator.returncode == 0, err
        assert workers[0].wait(timeout=60) == 0
    finally:
        for proc in (coordinator, *workers):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        storage.engine.dispose()

    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "complete"
    board = pd.read_csv(run_dir / "leaderboard.csv")
    named = " ".join(board["workers"].fillna(""))
    for proc in (coordinator, *workers):  # trials of every process, the killed worker's included
        assert f"{host}:{proc.pid}" in named, named
    trials = pd.read_csv(run_dir / "trials.csv")
    assert set(trials["worker"].dropna()) >= {f"{host}:{p.pid}" for p in (coordinator, *workers)}
    assert (run_dir / "report.html").is_file() and (run_dir / "model.joblib").is_file()
    preds = subprocess.run(automl("predict", run_dir, data, "--output", tmp_path / "preds.csv", "--quiet"),
                           cwd=ROOT, capture_output=True, text=True)
    assert preds.returncode == 0, preds.stderr
    assert len(pd.read_csv(tmp_path / "preds.csv")) == 400
