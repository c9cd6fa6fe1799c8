"""What a search keeps on disk so that an interrupted run resumes without losing a finished trial.

Each trial's result (scores per fold, secondary metrics, time, status, learning curves) is stored in its Optuna
trial as the user attribute ``"result"``, so it lives in the study's storage (the journal file in the run folder,
or a database). The out-of-fold predictions of each family's best trial, which the ensembles are built from, are
saved beside it as ``checkpoints/<family>-<trial>.npz``, written before the trial is told to the study and
removed only once a better trial's file exists; so after a crash at any moment, the best complete trial of
every family still has its predictions on disk.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from automl.results import atomic_write
from automl.results.records import TrialResult

log = logging.getLogger(__name__)

RESULT_ATTR = "result"
INTERRUPTED = "interrupted: the run stopped during this trial"
LOST = "its out-of-fold predictions were lost"
_FIELDS = ("status", "reason", "fold_scores", "secondary", "fit_time", "predict_seconds_per_1000", "best_epochs",
           "histories", "params", "chosen", "worker")


def to_attrs(result: TrialResult) -> dict[str, Any]:
    """The JSON-ready part of ``result`` that the study stores with its trial."""
    out = {name: getattr(result, name) for name in _FIELDS}
    out["fold_scores"] = [float(s) for s in result.fold_scores]
    out["secondary"] = {k: float(v) for k, v in result.secondary.items()}
    return out


def from_trial(spec: Any, trial: optuna.trial.FrozenTrial) -> TrialResult:
    """Rebuild the result of a stored trial; a trial that was running when the run stopped is "failed"."""
    attrs = trial.user_attrs.get(RESULT_ATTR)
    if attrs is None:
        return TrialResult(spec.key, spec.name, spec.kind, dict(trial.params), status="failed", reason=INTERRUPTED,
                           trial=trial.number)
    fields = {name: attrs[name] for name in _FIELDS if name in attrs}
    return TrialResult(spec.key, spec.name, spec.kind, trial=trial.number, **fields)


class Checkpoints:
    """The out-of-fold predictions of each family's best trial, in ``folder`` (``None``: kept in memory only)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def path(self, result: TrialResult) -> Path | None:
        if self.folder is None or result.trial is None:
            return None
        return self.folder / f"{result.key}-{result.trial}.npz"

    def save(self, result: TrialResult) -> None:
        path = self.path(result)
        if path is None or result.oof is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"oof": result.oof}
        if result.oof_by_repeat is not None:
            arrays["oof_by_repeat"] = result.oof_by_repeat

        def write(tmp: str) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)

        atomic_write(path, write)

    def load(self, result: TrialResult) -> bool:
        """Attach the saved predictions of ``result``; False if there are none."""
        path = self.path(result)
        if path is None or not path.is_file():
            return False
        with np.load(path) as data:
            result.oof = data["oof"]
            result.oof_by_repeat = data["oof_by_repeat"] if "oof_by_repeat" in data else None
        return True

    def drop(self, result: TrialResult) -> None:
        path = self.path(result)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()


def restore(spec: Any, study: optuna.Study, checkpoints: Checkpoints, shared: bool = False,
            requeue: bool = True, defaults: dict[str, Any] | None = None) -> list[TrialResult]:
    """The results of every trial already in ``study``, oldest first, with the best one's predictions.

    A trial left running by a stopped run is marked failed in the study (``INTERRUPTED``), unless the study is
    ``shared`` by several workers: there a running trial may belong to a live worker, so it is left alone (a dead
    worker's trial is failed by the heartbeat, :func:`optuna.storages.fail_stale_trials`). With ``requeue``, a
    family with no complete trial gets its ``defaults`` (the family's, if not given) queued again so that they
    run first after the resume.
    """
    results = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == optuna.trial.TrialState.WAITING:
            continue
        result = from_trial(spec, trial)
        if trial.state == optuna.trial.TrialState.RUNNING:
            if shared:
                continue
            if result.status == "ok":  # stopped after it finished, before it was told
                study.tell(trial.number, result.mean)
            else:
                study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
                log.info("%s trial %d was interrupted; it is marked failed.", spec.name, trial.number)
        results.append(result)
    sign = 1 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1
    ranked = sorted((r for r in results if r.status == "ok"), key=lambda r: -sign * r.mean)
    lost = []
    for r in ranked:  # the best trial's file is written before it is told: the first one has it unless deleted
        if checkpoints.load(r):
            break
        r.status, r.reason = "failed", LOST
        lost.append(r)
    if lost and requeue:
        log.warning("%s: the out-of-fold predictions of trial(s) %s are missing; the best of them runs again.",
                    spec.name, ", ".join(str(r.trial) for r in lost))
        study.enqueue_trial(lost[0].params)
    elif requeue and not ranked and any(r.reason == INTERRUPTED for r in results) and not _waiting(study):
        study.enqueue_trial(dict(defaults if defaults is not None else spec.defaults))
    return results


def _waiting(study: optuna.Study) -> bool:
    return any(t.state == optuna.trial.TrialState.WAITING for t in study.get_trials(deepcopy=False))
