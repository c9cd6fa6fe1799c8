"""Several machines on one search: workers that join a run whose Optuna studies live in a database.

The coordinator is an ordinary ``automl fit ... --storage postgresql://...``: it prepares the data and the folds,
creates the studies (named after the run, so one database serves many runs), runs trials itself, and when its
search time is over waits for the workers' running trials before it builds the ensembles, refits and reports.

A worker, ``automl worker --storage URL --run RUN_DIR``, runs on any machine that sees the run folder (a shared
file system): it reads the run's configuration from ``RUN_DIR/run.json`` and the data from the recorded path,
makes the same folds (same seed, same data), and runs trials of the same studies until the search time is over
(or, with ``--trials N``, until every family has N trials in the database). Results travel through the database
(each trial's scores, in its user attributes) and the shared run folder (the out-of-fold predictions of each
family's best trial, in ``RUN_DIR/checkpoints/``).

Each running trial sends a heartbeat to the database (:mod:`automl.search.storage`); a worker killed mid-trial
stops sending it, and after the grace period any other process marks its trial failed, so the study is never
left with a trial that runs forever. The other workers go on.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from automl import threads
from automl.errors import ConfigError
from automl.fit.budget import Budget
from automl.fit.preparing import prepare, recorded_data
from automl.results import RUN_FILE, RunRecord, log_to_file, read_json
from automl.search.checkpoint import Checkpoints
from automl.search.storage import POLL_SECONDS, open_storage
from automl.search.tuner import Search, worker_id

log = logging.getLogger(__name__)

JOIN_WAIT_SECONDS = 120  # how long a worker waits for the coordinator to create the run


def wait_for_run(run_dir: Path) -> RunRecord:
    """The coordinator's ``run.json`` once it has created the studies (a worker may start first)."""
    deadline = time.monotonic() + JOIN_WAIT_SECONDS
    while True:
        record = RunRecord.from_dict(read_json(run_dir / RUN_FILE))
        if record.search_deadline_epoch is not None or record.search_started:
            if record.status != "running":
                raise ConfigError(f"The run in {run_dir} is {record.status}; there is nothing to join.")
            return record
        if time.monotonic() > deadline:
            raise ConfigError(f"No run to join in {run_dir} after {JOIN_WAIT_SECONDS} s: start the coordinator "
                              "(`automl fit ... --storage URL --output RUN_DIR`) and give workers its run folder.")
        time.sleep(POLL_SECONDS)


def run_worker(run_dir: str | Path, storage_url: str, on_trial: Any = None) -> int:
    """Join the run in ``run_dir`` as a worker: run trials of its studies until its search is over.

    Returns the number of trials this worker ran. The run folder must be the coordinator's (a shared file
    system) and the data readable at the path the coordinator recorded.
    """
    run_dir = Path(run_dir)
    record = wait_for_run(run_dir)
    config = record.fit_config().replace(storage=storage_url)
    me = worker_id()
    logs = run_dir / "workers"
    logs.mkdir(exist_ok=True)
    with log_to_file(logs / f"{me.replace(':', '-')}.log"), threads.limited():
        log.info("Worker %s joins the run in %s.", me, run_dir)
        p = prepare(config, recorded_data(record, run_dir), record.data)
        search = Search(p.specs, p.ctx, p.X_s, p.y_s, p.folds, storage=open_storage(storage_url),
                        study_prefix=record.study_prefix, checkpoints=Checkpoints(run_dir / "checkpoints"),
                        schedule=config.schedule, on_trial=on_trial, worker=me, shared=True)
        before = search.trials_done
        Budget.for_worker(config.time_limit, config.trials, record.search_deadline_epoch).run(search)
        ran = search.trials_done - before
        log.info("Worker %s ran %d trial(s); the coordinator builds the ensembles and the report.", me, ran)
    return ran
