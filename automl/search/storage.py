"""Where the Optuna studies live: a journal file in the run folder, or a database shared by several machines.

The embedded default, Optuna's journal file in the run folder, needs no server and is safe for several
processes. A database (``postgresql://...``) lets workers on other machines run trials of the same studies
(:mod:`automl.fit.worker`); each running trial sends it a heartbeat, and after the grace period any process marks
a silent worker's trial failed (:func:`optuna.storages.fail_stale_trials`), so no study keeps a trial that runs
forever. :func:`gather` is the coordinator's last step of the search: it waits for the workers' running trials
and reads every trial back.
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
POLL_SECONDS = 1.0


def journal_storage(path: str | Path) -> optuna.storages.BaseStorage:
    """Optuna's journal file at ``path`` (the run folder's ``optuna.journal``)."""
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))


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
