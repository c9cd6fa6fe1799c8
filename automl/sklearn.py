"""scikit-learn estimators over the whole search: ``AutoMLClassifier`` and ``AutoMLRegressor``.

They follow scikit-learn's contract (``__init__`` only stores parameters, ``fit`` returns ``self``, fitted
attributes end in ``_``, ``clone`` works), so they go inside a ``Pipeline`` or ``cross_val_score`` like any
estimator. Each ``fit`` is a complete automl run: without ``output`` its run folder (report included) is a new
temporary folder, named by ``run_dir_`` and removed with the estimator (when it is garbage-collected, refitted or
the program ends: ``cross_val_score`` leaves no folders behind); pass ``output`` to keep it.

>>> from sklearn.model_selection import cross_val_score
>>> cross_val_score(AutoMLClassifier(time_limit=60), X, y, cv=3)   # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from automl.errors import DataError

TARGET = "__automl_target__"
WEIGHT = "__automl_weight__"


def _free_name(columns: Any, wanted: str, internal: str) -> str:
    """``wanted`` unless a feature column has that name, then ``internal`` (a ValueError if it has both)."""
    for name in (wanted, internal):
        if name not in columns:
            return name
    raise ValueError(f"A feature column may not be named {internal!r}.")


class _AutoMLEstimator(BaseEstimator):
    """Shared parameters and plumbing; see :class:`AutoMLClassifier` and :class:`AutoMLRegressor`."""

    _task: str | None = None

    def __init__(self, time_limit: float = 120.0, trials: int | None = None, metric: str | None = None,
                 folds: int | None = None, seed: int = 0, models: tuple[str, ...] = (),
                 recipe: str | None = None, output: str | Path | None = None, n_jobs: int | None = None) -> None:
        self.time_limit = time_limit
        self.trials = trials
        self.metric = metric
        self.folds = folds
        self.seed = seed
        self.models = models
        self.recipe = recipe
        self.output = output
        self.n_jobs = n_jobs

    def _frame(self, X: Any) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            return X.reset_index(drop=True)
        array = np.asarray(X)
        if array.ndim != 2:
            raise ValueError(f"Expected a 2-D table of features, got an array of shape {array.shape}.")
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])

    def _fit(self, X: Any, y: Any, task: str | None, sample_weight: Any = None) -> Any:
        from automl.api import AutoML

        frame = self._frame(X)
        # the columns y and sample_weight become, named as the arguments so that the fit's messages ("Dropped 2
        # rows whose target 'y' is missing") read as the caller wrote them; internal names where X has those
        target = _free_name(frame.columns, "y", TARGET)
        weight = _free_name(frame.columns, "sample_weight", WEIGHT)
        frame[target] = y if isinstance(y, pd.api.extensions.ExtensionArray) else np.asarray(y)
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=float)
            if weights.shape != (len(frame),):
                raise ValueError(f"sample_weight has shape {weights.shape}; expected one weight per row of X, "
                                 f"({len(frame)},).")
            frame[weight] = weights
        previous = getattr(self, "temporary_dir_", None)
        if previous is not None:  # a refit: the last fit's temporary run folder goes
            shutil.rmtree(previous, ignore_errors=True)
            self.temporary_dir_ = None
        output = self.output
        if not output:
            output = tempfile.mkdtemp(prefix="automl-")
            self.temporary_dir_ = output
            weakref.finalize(self, shutil.rmtree, output, True)  # with the estimator, or at exit
        models = self.models if isinstance(self.models, str) else tuple(self.models)  # "linear": a list of one
        options = {"time_limit": None if self.trials else self.time_limit, "trials": self.trials,
                   "metric": self.metric,
                   "folds": self.folds, "seed": self.seed, "models": models, "n_jobs": self.n_jobs,
                   "output": output, "overwrite": True, "task": task,
                   "weight_column": weight if sample_weight is not None else None}
        model = AutoML(target=target, recipe=self.recipe, **{k: v for k, v in options.items() if v not in (None, ())})
        try:
            model.fit(frame)
        except DataError as e:  # name the arguments, not the columns they became
            text = str(e)
            for column, argument in ((f"Weight column {WEIGHT!r}", "sample_weight"), (f"Target {TARGET!r}", "y"),
                                     (repr(WEIGHT), "sample_weight"), (repr(TARGET), "y")):
                text = text.replace(column, argument)
            raise DataError(text) from e
        self.automl_ = model
        self.run_dir_ = model.run_dir_
        self.n_features_in_ = frame.shape[1] - 1 - (sample_weight is not None)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def _predict_frame(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "automl_")
        return self.automl_.predict_frame(self._frame(X))

    def leaderboard(self) -> pd.DataFrame:
        """The leaderboard of the last fit."""
        check_is_fitted(self, "automl_")
        return self.automl_.leaderboard()


class AutoMLClassifier(ClassifierMixin, _AutoMLEstimator):
    """The whole automl search as a scikit-learn classifier (binary or multiclass).

    Parameters
    ----------
    time_limit, trials, metric, folds, seed, models, n_jobs
        As in :class:`automl.config.FitConfig`.
    recipe
        A recipe name or file; the parameters set here win over it.
    output
        Run folder of each fit (default: a new temporary folder, see ``run_dir_``, removed with the estimator).
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> AutoMLClassifier:
        """Run the search on ``X`` with labels ``y`` (and row weights ``sample_weight``, shape ``(n_rows,)``, at
        least 0); returns ``self``.

        Rows whose label is missing (NaN, None) are left out of the fit, as the command line leaves out rows
        with a missing target (the log counts them). Labels that automl would read differently from how they are
        written (floats such as ``0.0`` / ``1.0``, text with surrounding spaces or differing only in case,
        booleans) are fitted as their positions in ``classes_`` (0, 1, ...), so every label maps back exactly;
        the run folder's report then names the classes by those positions. Integers and plain text are fitted
        as they are."""
        y = np.asarray(y)
        missing = np.asarray(pd.isna(y), dtype=bool)
        self.classes_ = np.unique(y[~missing])
        if len(self.classes_) < 2:
            raise ValueError(f"Classification needs at least 2 classes in y, got {list(self.classes_)}.")
        self.fitted_on_positions_ = not _labels_read_back(self.classes_)
        target: Any = y
        if self.fitted_on_positions_:
            codes = np.zeros(len(y), dtype=np.int64)
            codes[~missing] = np.searchsorted(self.classes_, y[~missing])
            target = pd.array(np.where(missing, None, codes), dtype="Int64")  # a missing label stays missing
        return self._fit(X, target, "binary" if len(self.classes_) == 2 else "multiclass", sample_weight)

    def _run_labels(self) -> list[str]:
        """The run's label of each of ``classes_``, as text."""
        if getattr(self, "fitted_on_positions_", False):
            return [str(i) for i in range(len(self.classes_))]
        return [str(c) for c in self.classes_]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "automl_")
        frame = self.automl_.predict_proba(self._frame(X))
        by_label = {str(c): c for c in frame.columns}
        return frame[[by_label[c] for c in self._run_labels()]].to_numpy(dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row (the most probable, or for a binary target the positive class at or
        above the run's decision threshold), with the labels (and their type) of ``y``."""
        check_is_fitted(self, "automl_")
        by_label = dict(zip(self._run_labels(), self.classes_, strict=True))
        return np.asarray([by_label[str(v)] for v in self._predict_frame(X)["prediction"]], dtype=self.classes_.dtype)


def _labels_read_back(classes: np.ndarray) -> bool:
    """Whether automl reads each label of ``classes`` back as ``str(label)``, one class each: integers, and text
    without surrounding whitespace, distinct ignoring case, that is not a number or a yes/no word."""
    if classes.dtype.kind in "iu":
        return True
    if classes.dtype.kind not in "OU" or not all(isinstance(c, str) for c in classes):
        return False
    text = [str(c) for c in classes]
    if len({t.casefold() for t in text}) < len(text) or any(t != t.strip() or not t for t in text):
        return False
    return pd.to_numeric(pd.Series(text), errors="coerce").isna().all() and not all(
        t.casefold() in {"true", "false", "yes", "no", "y", "n", "t", "f"} for t in text)


class AutoMLRegressor(RegressorMixin, _AutoMLEstimator):
    """The whole automl search as a scikit-learn regressor (parameters as :class:`AutoMLClassifier`)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> AutoMLRegressor:
        """Run the search on ``X`` with targets ``y`` (and row weights ``sample_weight``, shape ``(n_rows,)``,
        at least 0); rows with a missing target are left out. Returns ``self``."""
        return self._fit(X, np.asarray(y, dtype=float), "regression", sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, one per row of ``X``."""
        return self._predict_frame(X)["prediction"].to_numpy(dtype=float)
