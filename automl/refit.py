"""Refit the chosen model on all training rows: one pipeline, or every member of an ensemble."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from automl.ensembles.model import EnsembleModel
from automl.models import registry
from automl.search.evaluate import Context, ModelResult, make_pipeline

log = logging.getLogger(__name__)


def refit(chosen: ModelResult, families: Mapping[str, ModelResult], ctx: Context, X: pd.DataFrame,
          y: np.ndarray) -> Any:
    """Fit ``chosen`` on all rows. Neural nets train for the mean early-stopping epoch found in CV."""
    if not chosen.members:
        return _refit_one(chosen, ctx, X, y)
    members = [_refit_one(families[key], ctx, X, y) for key in chosen.members]
    method = "greedy" if chosen.weights else "stacking"
    weights = np.asarray(chosen.weights) if chosen.weights else None
    return EnsembleModel(method, members, ctx.schema.task, len(ctx.schema.classes or []), weights, chosen.combiner)


def _refit_one(result: ModelResult, ctx: Context, X: pd.DataFrame, y: np.ndarray) -> Any:
    params = result.refit_params()
    extra = f" for {params['epochs']} epochs" if result.best_epochs else ""
    extra += "".join(f" with {k}={v} (chosen on the folds)" for k, v in result.chosen.items())
    log.info("Refitting %s on all %d rows%s.", result.name, len(y), extra)
    return make_pipeline(registry.get(result.key), ctx, params).fit(X, y)
