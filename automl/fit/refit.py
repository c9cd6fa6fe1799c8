"""The delivered model: the chosen model refitted on all training rows (one pipeline, or every member of an
ensemble), or, for a family that delivers them or whose refit would not fit in the budget, the mean of its
cross-validation fold models (k-fold bagging, :mod:`automl.search.bagged`)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from automl.ensembles.model import EnsembleModel
from automl.models import fit_warnings, registry
from automl.results.records import LeaderboardRow
from automl.search.evaluate import (
    CLASS_WEIGHT,
    REFIT_FACTOR,
    Context,
    accepts_weights,
    fit_weights,
    make_pipeline,
)

log = logging.getLogger(__name__)


def singles(chosen: LeaderboardRow, families: Mapping[str, LeaderboardRow]) -> list[LeaderboardRow]:
    """The family results a chosen result is made of: its ensemble members, or itself."""
    return [families[key] for key in chosen.members] if chosen.members else [chosen]


def bagged_by_default(result: LeaderboardRow, sampled: bool) -> bool:
    """Whether the family's fold models are delivered instead of a refit (``ModelSpec.fold_models`` is
    ``"deliver"``, they were kept, and the search saw every row: after a search on a sample the refit on all
    rows sees more data)."""
    return result.fold_models is not None and not sampled and registry.get(result.key).fold_models == "deliver"


def refit_seconds(result: LeaderboardRow, n_folds: int, growth: float = 1.0) -> float:
    """Expected seconds of a family result's refit on all rows: one fold's time x ``REFIT_FACTOR`` x
    ``growth`` (all rows / search rows)."""
    return result.fit_time / n_folds * REFIT_FACTOR * max(growth, 1.0)


def refit(chosen: LeaderboardRow, families: Mapping[str, LeaderboardRow], ctx: Context, X: pd.DataFrame,
          y: np.ndarray, bagged: Collection[str] = (), weights: np.ndarray | None = None) -> Any:
    """The delivered model of ``chosen``: each family in it is refitted on all rows (neural nets for the mean
    early-stopping epoch found in CV; rows weighted by ``weights``, shape (n_rows,)), or, if its key is in
    ``bagged``, delivered as its fold models."""
    if not chosen.members:
        return _deliver_one(chosen, ctx, X, y, chosen.key in bagged, weights)
    members = [_deliver_one(families[key], ctx, X, y, key in bagged, weights) for key in chosen.members]
    method = "greedy" if chosen.weights else "stacking"
    weights = np.asarray(chosen.weights) if chosen.weights else None
    return EnsembleModel(method, members, ctx.schema.task, len(ctx.schema.classes or []), weights, chosen.combiner)


def _deliver_one(result: LeaderboardRow, ctx: Context, X: pd.DataFrame, y: np.ndarray, bagged: bool,
                 weights: np.ndarray | None = None) -> Any:
    if bagged:
        assert result.fold_models is not None
        log.info("%s: the mean of its %d fold models is delivered (k-fold bagging), not a refit.", result.name,
                 len(result.fold_models))
        return result.fold_models
    params = result.refit_params()
    extra = f" for {params['epochs']} epochs" if result.best_epochs else ""
    spec = registry.get(result.key)
    why = {k: "as many as its folds grew in their time" if k == spec.grown else "chosen on the folds"
           for k in result.chosen}
    extra += "".join(f" with {k}={v} ({why[k]})" for k, v in result.chosen.items())
    log.info("Refitting %s on all %d rows%s.", result.name, len(y), extra)
    pipeline = make_pipeline(spec, ctx, params)
    balanced = params.get(CLASS_WEIGHT) == "balanced"
    with fit_warnings.logged(log, f"{result.name} refit"):
        if (weights is not None or balanced) and accepts_weights(pipeline):
            return pipeline.fit(X, y, model__sample_weight=fit_weights(weights, y, np.arange(len(y)), balanced))
        return pipeline.fit(X, y)
