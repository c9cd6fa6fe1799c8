"""Everything the report reads, loaded from one run folder (the report is a pure function of it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from automl.config import FitConfig
from automl.errors import ModelFormatError
from automl.results import (
    HOLDOUT_FILE,
    HOLDOUT_IMPORTANCE_FILE,
    IMPORTANCE_FILE,
    JOURNAL_FILE,
    LEADERBOARD_FILE,
    MODEL_FILE,
    OOF_FILE,
    PROFILE_FILE,
    TRIALS_FILE,
    RunRecord,
    read_record,
    unfinished_advice,
)
from automl.results import leaderboard as lb


@dataclass
class RunData:
    """A finished run folder's results as data."""

    path: Path
    record: RunRecord  # run.json
    leaderboard: pd.DataFrame
    trials: pd.DataFrame
    oof: pd.DataFrame | None
    profile: dict[str, Any]
    importance: pd.DataFrame | None
    model_bytes: int | None
    holdout: dict[str, Any] | None = None  # holdout.json: scores on held-out labelled data (automl evaluate)
    # holdout_importance.json: permutation importance on held-out labelled data (automl importance RUN DATA)
    holdout_importance: dict[str, Any] | None = None

    @cached_property
    def config(self) -> FitConfig:
        """The run's configuration."""
        return self.record.fit_config(self.record.data.target if self.record.data else "?")

    @property
    def metric(self) -> str:
        return str(self.record.metric)

    @property
    def greater_is_better(self) -> bool:
        return self.record.greater_is_better

    @property
    def score_column(self) -> str:
        return lb.score_column(self.metric)

    def fold_scores(self, model: str) -> list[float]:
        row = self.leaderboard.loc[self.leaderboard[lb.MODEL] == model]
        text = row[lb.FOLD_SCORES].iloc[0] if len(row) else ""
        return [float(s) for s in str(text).split()] if isinstance(text, str) and text else []

    def studies(self) -> dict[str, Any]:
        """The Optuna studies of the run, by model key (empty when the journal is missing)."""
        path = self.path / JOURNAL_FILE
        if not path.is_file():
            return {}
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
        prefix = self.record.study_prefix + "-"
        return {s.study_name[len(prefix):]: optuna.load_study(study_name=s.study_name, storage=storage)
                for s in optuna.get_all_study_summaries(storage) if s.study_name.startswith(prefix)}


def load_run(run_dir: str | Path) -> RunData:
    """Read a complete run folder; :class:`ModelFormatError` when it is not one."""
    path = Path(run_dir)
    record = read_record(path)
    if record.status != "complete" or record.metric is None:
        raise ModelFormatError(f"Run folder {path} is not complete (status: {record.status}); a report needs a "
                               f"finished run. {unfinished_advice(path, record.status)}")
    missing = [name for name in (LEADERBOARD_FILE, TRIALS_FILE) if not (path / name).is_file()]
    if missing:
        raise ModelFormatError(f"Run folder {path} lacks {', '.join(missing)}; run `automl fit` again.")
    profile_path = path / PROFILE_FILE
    return RunData(
        path=path, record=record,
        leaderboard=lb.read_leaderboard(path / LEADERBOARD_FILE, record.metric),
        trials=lb.read_trials(path / TRIALS_FILE, record.metric),
        oof=pd.read_parquet(path / OOF_FILE) if (path / OOF_FILE).is_file() else None,
        profile=json.loads(profile_path.read_text(encoding="utf-8")) if profile_path.is_file() else {},
        importance=pd.read_csv(path / IMPORTANCE_FILE, keep_default_na=False, na_values=[""])
        if (path / IMPORTANCE_FILE).is_file() else None,
        model_bytes=(path / MODEL_FILE).stat().st_size if (path / MODEL_FILE).is_file() else None,
        holdout=json.loads((path / HOLDOUT_FILE).read_text(encoding="utf-8"))
        if (path / HOLDOUT_FILE).is_file() else None,
        holdout_importance=json.loads((path / HOLDOUT_IMPORTANCE_FILE).read_text(encoding="utf-8"))
        if (path / HOLDOUT_IMPORTANCE_FILE).is_file() else None,
    )
