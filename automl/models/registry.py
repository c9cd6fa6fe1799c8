"""The one explicit list of model families. Adding a family = one module + one line here."""

from __future__ import annotations

from collections.abc import Iterable

from automl.errors import ConfigError, choices, did_you_mean
from automl.models import adaboost, bagging, catboost, forests, hist_gb, keras_mlp, lightgbm, linear, xgboost
from automl.models.base import ModelSpec

REGISTRY: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        linear.SPEC,
        hist_gb.SPEC,
        lightgbm.SPEC,
        xgboost.SPEC,
        catboost.SPEC,
        adaboost.SPEC,
        forests.EXTRA_TREES,
        forests.RANDOM_FOREST,
        bagging.SPEC,
        keras_mlp.SPEC,
    )
}


def get(key: str) -> ModelSpec:
    """The spec registered under ``key``; the error lists the valid keys."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise ConfigError(f"Unknown model {key!r}; choose from {choices(REGISTRY)}.{did_you_mean(key, REGISTRY)}"
                          ) from None


def select(task: str, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[ModelSpec]:
    """Specs for ``task``, filtered by ``include``/``exclude`` keys, cheapest first."""
    include, exclude = list(include), list(exclude)
    for key in (*include, *exclude):
        get(key)
    specs = [s for s in REGISTRY.values() if task in s.tasks]
    if include:
        specs = [s for s in specs if s.key in include]
    specs = [s for s in specs if s.key not in exclude]
    if not specs:
        raise ConfigError(f"No model left to try for a {task} task after --models/--exclude-models; "
                          f"valid keys: {choices(REGISTRY)}.")
    return sorted(specs, key=lambda s: s.cost)
