"""One fit, end to end, and its resumption: read → schema → folds → search → ensembles → refit → run folder.

:func:`run_fit` and :func:`resume_fit` lock the run folder, log to it, and mark it ``failed`` or ``interrupted``
when something goes wrong; the stages are :mod:`automl.fit.preparing` and :mod:`automl.fit.finishing`, the
deadlines a :class:`~automl.fit.budget.Budget`.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from automl import threads
from automl.config import FitConfig
from automl.data.profile import profile
from automl.data.text import reusing_fits
from automl.errors import FILE_ONLY
from automl.fit import runinfo
from automl.fit.budget import Budget
from automl.fit.finishing import FitResult, Hooks, finish
from automl.fit.preparing import prepare, recorded_config, recorded_data, study_prefix
from automl.models import fit_warnings
from automl.results import JOURNAL_FILE, PROFILE_FILE, DataRecord, RunFolder, now, unused_folder
from automl.search.checkpoint import Checkpoints
from automl.search.storage import gather, journal_storage, open_storage
from automl.search.tuner import Search, TrialCallback
from automl.version import __version__

log = logging.getLogger(__name__)


def default_output(data: Any) -> Path:
    """``reports/<data name>-<timestamp>`` under the current folder; a second fit within the same second (two
    quick notebook fits) gets ``-2``, ``-3``, ...: the name was taken before, and the second fit was refused as
    writing into the first's folder. (Two processes starting in the same second may still choose one name: the
    second is then refused, its data untouched.)"""
    stem = "dataframe" if isinstance(data, pd.DataFrame) else Path(str(data)).name.split(".")[0] or "data"
    return unused_folder(Path("reports"), f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}")


def run_fit(config: FitConfig, data: Any, command: str | None = None, on_trial: TrialCallback | None = None,
            before_report: Callable[[Path], dict[str, Any] | None] | None = None) -> FitResult:
    """Fit on ``data`` (path or DataFrame) as ``config`` says and save the run folder.

    The budget ``config.time_limit`` counts from this call. The folder is locked while the run writes it
    (:class:`automl.errors.RunLockedError` if another process holds it). Whatever fails is logged with its
    traceback in the run folder's ``automl.log`` and ``run.json`` is marked ``failed``; the error is re-raised.
    ``on_trial(family_state, result)`` is called after every trial (progress display);
    ``before_report(run_dir)`` once every result is saved, before the report is rendered, returning entries
    for ``run.json`` (a batch run adds its comparison with the previous run there: one rendering of the report).
    """
    started = time.monotonic()
    folder = RunFolder(config.output or default_output(data))
    with folder.locked(command):
        folder.prepare(config.overwrite)
        folder.update(config=recorded_config(config), command=command, automl_version=__version__,
                      python=platform.python_version(), study_prefix=study_prefix(config, folder))
        return _guarded_fit(config, data, folder, started, Hooks(on_trial, before_report))


def resume_fit(run_dir: str | Path, data: Any = None, command: str | None = None,
               on_trial: TrialCallback | None = None, storage: str | None = None,
               before_report: Callable[[Path], dict[str, Any] | None] | None = None) -> FitResult:
    """Continue the unfinished run in ``run_dir``: its finished trials are kept, the search goes on where it
    stopped (same studies, same folds), then the ensembles, the refit and the report follow.

    ``data``: the table, when the run was fitted from a DataFrame (a file is read again from its recorded
    path and must be unchanged). The budget left is the run's time limit less the search time already spent.
    ``on_trial`` and ``before_report`` as in :func:`run_fit`.
    """
    started = time.monotonic()
    folder = RunFolder(run_dir)
    with folder.locked(command):
        record = folder.reopen()
        config = record.fit_config().replace(output=folder.path)
        if storage or config.storage:
            config = config.replace(storage=storage or config.storage)
        if data is None:
            data = recorded_data(record, folder.path)
        note = f"Resuming the run in {folder.path} (started {record.started})."
        return _guarded_fit(config, data, folder, started, Hooks(on_trial, before_report), record.data, note)


def _guarded_fit(config: FitConfig, data: Any, folder: RunFolder, started: float, hooks: Hooks,
                 expect: DataRecord | None = None, note: str | None = None) -> FitResult:
    with folder.logging_to_file():
        if note:
            log.info(note)
        try:
            with threads.limited():
                return _fit(config, data, folder, started, hooks, expect)
        except BaseException as e:
            status = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
            folder.update(status=status, finished=now(), error=f"{type(e).__name__}: {e}")
            # in automl.log and log.jsonl, where a log collector looks (a terminal gets the CLI's "Error: ...")
            log.error("The run %s: %s", "failed" if status == "failed" else "was interrupted",
                      e if str(e) else type(e).__name__, extra={FILE_ONLY: True})
            raise


def _fit(config: FitConfig, data: Any, folder: RunFolder, started: float, hooks: Hooks,
         expect: DataRecord | None) -> FitResult:
    p = prepare(config, data, expect)
    # what the report says about the data and the pipelines depends on the data only: written before the search
    # (its cost, which grows with the columns, comes out of the search's time, not the finishing phase's)
    folder.write_text(PROFILE_FILE, json.dumps(profile(p.frame, p.X, p.ctx.schema, p.y), default=float))
    folder.update(data=p.data_record, preprocessing_pipelines=runinfo.pipelines(p.specs, p.ctx, p.X_s, p.y_s))
    import automl.report.sections  # noqa: F401  (matplotlib, Jinja, SciPy's stats: 1-3 s, paid before the search)
    shared = config.storage is not None
    search = Search(p.specs, p.ctx, p.X_s, p.y_s, p.folds, storage=_storage(folder, config.storage),
                    study_prefix=folder.record.study_prefix, checkpoints=Checkpoints(folder.checkpoints),
                    schedule=config.schedule, on_trial=hooks.on_trial, shared=shared,
                    refit_on_search_rows=p.X_s is p.X)
    # what earlier, stopped attempts used: the wall time they recorded when they stopped (their trials' seconds
    # leave out the trial that was running, importing TensorFlow and the finishing), or a killed one's trials
    spent = 0.0 if shared else max(sum(s.seconds for s in search.families), folder.record.search_seconds_spent)
    budget = Budget.for_fit(config.time_limit, config.trials, started, spent)
    folder.update(search_started=now(), search_deadline_epoch=budget.search_deadline_epoch())
    began = time.monotonic()
    try:
        with reusing_fits():  # free text: its features, fitted in the search, serve the refits too
            budget.run(search)
            if shared:  # the workers' trials join the leaderboard
                gather(search, budget.gather_until)
            trials = [t for s in search.families for t in s.trials]
            # the libraries' warnings in the ensembles' meta-model, calibration, importance: to the log, as in
            # the search
            with fit_warnings.logged(log, "Finishing"):
                return finish(config, folder, started, budget, search, trials, p, hooks.before_report)
    except BaseException:
        if not shared:
            folder.update(search_seconds_spent=round(spent + time.monotonic() - began, 2))
        raise


def _storage(folder: RunFolder, url: str | None) -> Any:
    """Optuna's journal file in the run folder (no server needed, safe for several processes), or the database
    at ``url`` shared with workers on other machines (see :mod:`automl.fit.worker`)."""
    if url is not None:
        return open_storage(url)
    folder.files.add(JOURNAL_FILE)
    return journal_storage(folder.path / JOURNAL_FILE)
