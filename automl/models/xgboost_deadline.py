"""XGBoost's deadline callback (a module of its own so that xgboost is imported only when a model is built)."""

from __future__ import annotations

from typing import Any

import xgboost as xgb

from automl.models.deadline import check


class DeadlineCallback(xgb.callback.TrainingCallback):
    """Checks :func:`automl.models.deadline.check` after every boosting round."""

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        check()
        return False
