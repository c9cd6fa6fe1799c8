"""What every model family declares: how to build it, its defaults, its search space and its cost."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("neural net", "bagging", "boosting", "stacking", "ensemble", "linear")

# Threads for OpenMP-parallel libraries (LightGBM, XGBoost, HistGradientBoosting). Measured on this project's
# 2-core machines with OMP_WAIT_POLICY=PASSIVE (benchmarks/threads.md): 2 OpenMP threads are 3-10x *slower*
# than 1 (HistGradientBoosting, 26 classes: 22 s vs 2 s; LightGBM: 8 s vs 1 s), while scikit-learn's forests,
# which use joblib threads, are 2x faster with 2. So OpenMP libraries get one thread and forests every core.
OPENMP_THREADS = 1
PREPROCESSING = "preprocessing"  # a hyperparameter naming the pipeline that feeds the model (not a model setting)

Builder = Callable[[str, dict[str, Any], int, int], Any]
SearchSpace = Callable[[Any, str], dict[str, Any]]


@dataclass(frozen=True)
class Rounds:
    """How a boosting family counts its rounds and predicts with only the first ``k`` of them.

    Parameters
    ----------
    param
        The hyperparameter holding the number of rounds (``"n_estimators"``).
    staged
        ``staged(model, X, counts, task)`` → for each ``k`` in ``counts`` (increasing), the fitted estimator's
        class probabilities (in ``model.classes_`` order) or predicted values using its first ``k`` rounds;
        ``X`` is already preprocessed. It should cost about one prediction with all rounds, not one per ``k``.
    """

    param: str
    staged: Callable[[Any, Any, Sequence[int], str], list[Any]]


WIDE_MIN_COLUMNS = 100


def is_wide(n_rows: int, n_columns: int) -> bool:
    """Whether a table is wide: more feature columns than rows, and at least ``WIDE_MIN_COLUMNS`` of them."""
    return n_columns >= WIDE_MIN_COLUMNS and n_columns > n_rows


def pick_stages(stages: Iterable[Any], counts: Sequence[int]) -> list[Any]:
    """From an iterator of predictions after 1, 2, 3, ... rounds (scikit-learn's and CatBoost's
    ``staged_predict*``), the ones after each of ``counts`` rounds; a model that stopped boosting early gives
    its last predictions for the counts it did not reach."""
    wanted, out, last = set(counts), [], None
    for i, last in enumerate(stages, start=1):
        if i in wanted:
            out.append(last)
            if len(out) == len(counts):
                break
    return out + [last] * (len(counts) - len(out))


def from_margin(raw: Any, task: str) -> Any:
    """Probabilities (classification: logistic for two classes, softmax for more) or values (regression) from
    a gradient-boosting model's raw scores with the libraries' default objectives."""
    import numpy as np
    from scipy.special import expit, softmax

    raw = np.asarray(raw, dtype=float)
    if task == "regression":
        return raw
    if task == "binary":
        p = expit(raw.ravel())
        return np.column_stack([1 - p, p])
    return softmax(raw, axis=1)


FOLD_MODELS = ("deliver", "fallback", "drop")  # see ModelSpec.fold_models


@dataclass(frozen=True)
class ModelSpec:
    """One model family.

    Parameters
    ----------
    key
        Short name used on the command line and in the leaderboard (``"lightgbm"``).
    name
        Display name (``"LightGBM"``).
    kind
        One of ``KINDS``: neural net, bagging, boosting, stacking, ensemble or linear.
    preprocessing
        Which preprocessing pipeline feeds it: ``"dense"``, ``"ordinal"`` or ``"native"``
        (see :mod:`automl.data.preprocess`).
    cost
        Relative cost of one fit (the linear model is 1); cheap families are tried first.
    build
        ``build(task, params, seed, n_jobs)`` → an unfitted scikit-learn estimator.
    defaults
        Known-good hyperparameters, tried first.
    search_space
        ``search_space(trial, task)`` → hyperparameters suggested through an Optuna trial.
    tasks
        Tasks the family supports.
    fit_params
        ``fit_params()`` → extra keyword arguments for the estimator's ``fit`` (LightGBM's deadline callback).
    task_defaults
        Per task, changes to ``defaults`` (a regression network trains better without dropout).
    portfolio
        Further known-good configurations, tried after the defaults and before the sampler's own: each a pair
        ``(relative cost, changes to the defaults)``, the cost as a multiple of the defaults' fit time (the
        search skips a configuration that would take too much of the time left).
    wide
        Changes to the defaults and to each portfolio entry on wide data (:func:`is_wide`: more columns than
        rows), where a fit's cost grows with the columns and few of them carry signal: feature subsampling,
        an L1 penalty, a smaller network (measured in ``benchmarks/wide.md``).
    large
        Changes to the defaults on large data (more than ``automl.config.LARGE_DATA_ROWS`` rows searched), where
        a fit under a short time limit sees few passes over the rows: a network that converges in fewer steps.
        The portfolio's entries start from these defaults; their own changes win.
    large_search_space
        The search space on large data, where it differs (default: ``search_space``): the sampler's trials then
        keep the ``large`` changes too (a network: one member, a faster rate), not only the known-good ones.
    anytime
        Whether a fit can be stopped at a time limit and still give a model (a network keeps its best epoch's
        weights, a forest the trees grown so far): the search then caps the time of its trials instead of
        waiting for them or failing them.
    grown
        For an anytime family that grows a count (a forest's ``n_estimators``), that parameter: the fitted
        model's ``n_grown_`` tells how many it grew, and when a fold stopped short, the trial's refit on all rows
        grows the fewest any fold grew (its time then matches the folds').
    rounds
        For a boosting family, how to predict with fewer rounds than it was trained for: the cross-validation
        then chooses the round count (:mod:`automl.search.rounds`).
    fold_models
        What becomes of a trial's k fitted fold models (k-fold bagging, as AutoGluon's bagged models, Erickson
        et al. 2020, "AutoGluon-Tabular"): ``"deliver"``, the mean of their predictions is the delivered model
        instead of a refit on all rows (a network: each fold model stopped at its own best validation epoch,
        where a refit must guess the epoch count and trains without validation); ``"fallback"``, they are kept
        and delivered only when the refit would not fit in the budget; ``"drop"``, never kept (forests of deep
        trees: k of them take too much memory).
    sparse_text
        Whether free-text columns reach it as their sparse TF-IDF matrix (a linear model: tens of thousands of
        columns, fast on sparse input) rather than as its SVD projection (every other family; a network given
        the TF-IDF densified would need gigabytes: 6 400 rows x 40 000 columns is 2 GB).
    """

    key: str
    name: str
    kind: str
    preprocessing: str
    cost: float
    build: Builder
    defaults: Mapping[str, Any] = field(default_factory=dict)
    search_space: SearchSpace | None = None
    tasks: tuple[str, ...] = ("binary", "multiclass", "regression")
    fit_params: Callable[[], dict[str, Any]] | None = None
    task_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    portfolio: tuple[tuple[float, Mapping[str, Any]], ...] = ()
    wide: Mapping[str, Any] = field(default_factory=dict)
    large: Mapping[str, Any] = field(default_factory=dict)
    large_search_space: SearchSpace | None = None
    anytime: bool = False
    grown: str | None = None
    rounds: Rounds | None = None
    fold_models: str = "fallback"
    sparse_text: bool = False

    def __post_init__(self) -> None:
        if self.fold_models not in FOLD_MODELS:
            raise ValueError(f"fold_models must be one of {', '.join(FOLD_MODELS)}; got {self.fold_models!r}.")

    def defaults_for(self, task: str, large: bool = False) -> dict[str, Any]:
        """The known-good hyperparameters for ``task``: ``defaults`` with that task's changes (and the ``large``
        changes on large data)."""
        return {**self.defaults, **self.task_defaults.get(task, {}), **(self.large if large else {})}

    def portfolio_for(self, task: str, wide: bool = False, large: bool = False) -> list[tuple[float, dict[str, Any]]]:
        """The portfolio for ``task``: ``(relative cost, full hyperparameters)`` per configuration (from the
        ``large`` defaults on large data; with the ``wide`` changes on wide data)."""
        base = self.defaults_for(task, large)
        extra = dict(self.wide) if wide else {}
        return [(cost, {**base, **changes, **extra}) for cost, changes in self.portfolio]

    def suggest(self, trial: Any, task: str, large: bool = False,
                base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A trial's hyperparameters: what the search space (on ``large`` data, ``large_search_space``) suggests
        through the Optuna ``trial``, and for the family's other keys the values of ``base``: the configuration
        enqueued for the trial (its defaults or a portfolio entry: the classic MLP's epochs and patience), or for
        a sampled trial the defaults for this data (the wide-data changes the space does not search). Optuna hands
        back only the values the space asks for, and the others would silently be the plain defaults."""
        space = (self.large_search_space if large else None) or self.search_space
        params = space(trial, task) if space is not None else {}
        known = set(self.defaults_for(task)) | set(params)
        return {**params, **{k: v for k, v in (base or {}).items() if k in known and k not in trial.params}}

    def pipeline_for(self, task: str, params: Mapping[str, Any] | None = None) -> str:
        """The preprocessing pipeline of a configuration: its ``preprocessing`` hyperparameter, if the family
        searches one, else the family's."""
        return str({**self.defaults_for(task), **(params or {})}.get(PREPROCESSING, self.preprocessing))

    def make(self, task: str, params: Mapping[str, Any] | None = None, seed: int = 0, n_jobs: int = 1) -> Any:
        """Build an estimator with the task's defaults updated by ``params`` (less ``preprocessing``, which
        chooses the pipeline in front of it)."""
        merged = {**self.defaults_for(task), **(params or {})}
        merged.pop(PREPROCESSING, None)
        return self.build(task, merged, seed, n_jobs)
