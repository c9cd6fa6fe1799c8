"""Everything the report reads, loaded from one run folder (the report is a pure function of it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from automl.errors import ModelFormatError
from automl.results import (
    IMPORTANCE_FILE,
    JOURNAL_FILE,
    LEADERBOARD_FILE,
    MODEL_FILE,
    OOF_FILE,
    PROFILE_FILE,
    TRIALS_FILE,
    read_run,
)


@dataclass
class RunData:
    """A finished run folder's results as data."""

    path: Path
    meta: dict[str, Any]
    leaderboard: pd.DataFrame
    trials: pd.DataFrame
    oof: pd.DataFrame | None
    profile: dict[str, Any]
    importance: pd.DataFrame | None
    model_bytes: int | None

    @property
    def metric(self) -> str:
        return str(self.meta["metric"])

    @property
    def greater_is_better(self) -> bool:
        return bool(self.meta["greater_is_better"])

    @property
    def score_column(self) -> str:
        return f"cv_{self.metric}_mean"

    def fold_scores(self, model: str) -> list[float]:
        row = self.leaderboard.loc[self.leaderboard["model"] == model]
        text = row["fold_scores"].iloc[0] if len(row) else ""
        return [float(s) for s in str(text).split()] if isinstance(text, str) and text else []

    def studies(self) -> dict[str, Any]:
        """The Optuna studies of the run, by model key (empty when the journal is missing)."""
        path = self.path / JOURNAL_FILE
        if not path.is_file():
            return {}
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
        prefix = str(self.meta.get("study_prefix", "automl")) + "-"
        return {s.study_name[len(prefix):]: optuna.load_study(study_name=s.study_name, storage=storage)
                for s in optuna.get_all_study_summaries(storage) if s.study_name.startswith(prefix)}


def load_run(run_dir: str | Path) -> RunData:
    """Read a complete run folder; :class:`ModelFormatError` when it is not one."""
    path = Path(run_dir)
    meta = read_run(path)
    if meta.get("status") != "complete":
        raise ModelFormatError(f"Run folder {path} is not complete (status: {meta.get('status', 'unknown')}); "
                               "a report needs a finished run. Run `automl fit` again.")
    missing = [name for name in (LEADERBOARD_FILE, TRIALS_FILE) if not (path / name).is_file()]
    if missing:
        raise ModelFormatError(f"Run folder {path} lacks {', '.join(missing)}; run `automl fit` again.")
    profile_path = path / PROFILE_FILE
    return RunData(
        path=path, meta=meta,
        leaderboard=pd.read_csv(path / LEADERBOARD_FILE, keep_default_na=False, na_values=[""]),
        trials=pd.read_csv(path / TRIALS_FILE, keep_default_na=False, na_values=[""]),
        oof=pd.read_parquet(path / OOF_FILE) if (path / OOF_FILE).is_file() else None,
        profile=json.loads(profile_path.read_text(encoding="utf-8")) if profile_path.is_file() else {},
        importance=pd.read_csv(path / IMPORTANCE_FILE, keep_default_na=False, na_values=[""])
        if (path / IMPORTANCE_FILE).is_file() else None,
        model_bytes=(path / MODEL_FILE).stat().st_size if (path / MODEL_FILE).is_file() else None,
    )
