"""Several machines on one search: Optuna studies shared through a database (PostgreSQL), workers that join.

The coordinator is an ordinary ``automl fit ... --storage postgresql://...``: it prepares the data and the folds,
creates the studies (named after the run, so one database serves many runs), runs trials itself, and when its
search time is over waits for the workers' running trials before it builds the ensembles, refits and reports.

A worker, ``automl worker --storage URL --run RUN_DIR``, runs on any machine that sees the run folder (a shared
file system): it reads the run's configuration from ``RUN_DIR/run.json`` and the data from the recorded path,
makes the same folds (same seed, same data), and runs trials of the same studies until the search time is over
(or, with ``--trials N``, until every family has N trials in the database). Results travel through the database
(each trial's scores, in its user attributes) and the shared run folder (the out-of-fold predictions of each
family's best trial, in ``RUN_DIR/checkpoints/``).

Each running trial sends a heartbeat to the database; a worker killed mid-trial stops sending it, and after the
grace period any other process marks its trial failed (:func:`optuna.storages.fail_stale_trials`), so the study
is never left with a trial that runs forever. The other workers go on.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from pathlib import Path
from typing import Any

import optuna

from automl.errors import ConfigError

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
GRACE_SECONDS = 20
JOIN_WAIT_SECONDS = 120  # how long a worker waits for the coordinator to create the run
POLL_SECONDS = 1.0


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """The Optuna storage at ``url`` (``postgresql://user:pass@host/db``, ``sqlite:///file.db``, ...), with
    heartbeats so that a dead worker's trial is failed instead of running forever."""
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna 5; the interface is pinned
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS,
                                              grace_period=GRACE_SECONDS)
    except Exception as e:
        raise ConfigError(f"Cannot open the study storage {mask(url)!r}: {type(e).__name__}: {e}. Check the URL "
                          "(e.g. postgresql://user:password@host/database or sqlite:///file.db), that the "
                          "server is running, and that its driver is installed (psycopg for PostgreSQL: "
                          "pip install 'automl[postgres]').") from e


def mask(url: str) -> str:
    """``url`` without its password, for logs and run.json."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def gather(search: Any, until: float | None) -> None:
    """Wait (until ``until``, monotonic seconds, if given) for the trials other workers are running, fail the
    ones whose worker died, then re-read every family's trials from the database into ``search``."""
    def running() -> int:
        count = 0
        for state in search.families:
            optuna.storages.fail_stale_trials(state.study)
            count += sum(t.state == optuna.trial.TrialState.RUNNING
                         for t in state.study.get_trials(deepcopy=False))
        return count

    waiting = running()
    if waiting:
        log.info("Waiting for %d trial(s) still running on other workers.", waiting)
    while waiting and (until is None or time.monotonic() < until):
        time.sleep(POLL_SECONDS)
        waiting = running()
    if waiting:
        log.warning("%d trial(s) of other workers were still running at the end of the search; they are left out.",
                    waiting)
    search.refresh()
    workers = sorted({t.worker for s in search.families for t in s.trials if t.worker})
    log.info("%d trial(s) from %d worker(s): %s.", search.trials_done, len(workers), ", ".join(workers))


def wait_for_run(run_dir: Path) -> dict[str, Any]:
    """The coordinator's ``run.json`` once it has created the studies (a worker may start first)."""
    from automl.results import RUN_FILE, read_json

    deadline = time.monotonic() + JOIN_WAIT_SECONDS
    while True:
        meta = read_json(run_dir / RUN_FILE)
        if meta.get("search_deadline_epoch") is not None or meta.get("search_started"):
            if meta.get("status") != "running":
                raise ConfigError(f"The run in {run_dir} is {meta.get('status')}; there is nothing to join.")
            return meta
        if time.monotonic() > deadline:
            raise ConfigError(f"No run to join in {run_dir} after {JOIN_WAIT_SECONDS} s: start the coordinator "
                              "(`automl fit ... --storage URL --output RUN_DIR`) and give workers its run folder.")
        time.sleep(POLL_SECONDS)


def run_worker(run_dir: str | Path, storage_url: str, on_trial: Any = None) -> int:
    """Join the run in ``run_dir`` as a worker: run trials of its studies until its search is over.

    Returns the number of trials this worker ran. The run folder must be the coordinator's (a shared file
    system) and the data readable at the path the coordinator recorded.
    """
    from automl import threads
    from automl.config import FitConfig
    from automl.fitting import GATHER_SHARE, _prepare, _recorded_data
    from automl.results import log_to_file
    from automl.search.checkpoint import Checkpoints
    from automl.search.tuner import Search, worker_id

    run_dir = Path(run_dir)
    meta = wait_for_run(run_dir)
    config = FitConfig.from_dict(meta["config"]).replace(storage=storage_url)
    me = worker_id()
    logs = run_dir / "workers"
    logs.mkdir(exist_ok=True)
    with log_to_file(logs / f"{me.replace(':', '-')}.log"), threads.limited():
        log.info("Worker %s joins the run in %s.", me, run_dir)
        p = _prepare(config, _recorded_data(meta, run_dir), (meta.get("data") or {}).get("sha256"))
        search = Search(p.specs, p.ctx, p.X_s, p.y_s, p.folds, storage=open_storage(storage_url),
                        study_prefix=meta["study_prefix"], checkpoints=Checkpoints(run_dir / "checkpoints"),
                        schedule=config.schedule, on_trial=on_trial, worker=me, shared=True)
        before = search.trials_done
        if config.trials:
            search.run(n_trials=config.trials)
        else:
            epoch = meta["search_deadline_epoch"]
            deadline = time.monotonic() + (epoch - time.time())
            hard = deadline + config.time_limit * GATHER_SHARE
            search.run(deadline=deadline, hard_deadline=hard)
        ran = search.trials_done - before
        log.info("Worker %s ran %d trial(s); the coordinator builds the ensembles and the report.", me, ran)
    return ran
