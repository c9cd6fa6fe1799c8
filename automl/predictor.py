"""The fitted artefact saved in a run folder: the schema plus the refitted pipeline of the chosen model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import pandas as pd

from automl import threads
from automl.config import separator
from automl.data.io import TableSource, read_table
from automl.data.schema import Schema, label_sort_key
from automl.errors import ConfigError, DataError, format_values
from automl.models.outputs import predict_scores
from automl.results.leaderboard import ENSEMBLE_KEYS

log = logging.getLogger(__name__)

LABEL_COLUMN = "prediction"
PROBA_PREFIX = "proba_"


@dataclass
class Predictor:
    """Turns raw tables with the training columns into predictions.

    Attributes
    ----------
    schema
        The training table's schema (column kinds, task, classes).
    pipeline
        Preprocessing + estimator, refitted on all training rows.
    model_key
        Registry key of the chosen model family.
    automl_version
        Version of automl that fitted it.
    na_values
        Extra missing-value markers used when reading the training data (used for new data too).
    members
        When the chosen model is an ensemble: its members' refitted pipelines by model key, each usable on
        its own (``predict_frame(..., model=KEY)``).
    sep
        The CSV delimiter given at fit (``--sep``), used for files to score unless another is given;
        ``None``: chosen from each file.
    threshold
        Binary targets: the chosen model labels a row positive when the positive class's probability is at
        least this (tuned on out-of-fold predictions or given with ``--threshold``, see
        :mod:`automl.fit.threshold`); ``None``: the most probable class. Members (``model=KEY``) use the most
        probable class.
    calibrator
        Classification: a calibrator (:mod:`automl.models.calibrators`) the chosen model's probabilities go
        through, fitted on out-of-fold predictions (:mod:`automl.fit.calibration`); ``None``: none.
    """

    schema: Schema
    pipeline: Any
    model_key: str
    automl_version: str
    na_values: tuple[str, ...] = ()
    members: dict[str, Any] = field(default_factory=dict)
    sep: str | None = None
    threshold: float | None = None
    calibrator: Any = None

    @property
    def classes(self) -> list[str] | None:
        return self.schema.classes

    @property
    def models(self) -> list[str]:
        """Keys of the models this predictor can use: the chosen one first, then its members."""
        return [self.model_key, *[k for k in self.members if k != self.model_key]]

    def pipeline_for(self, model: str | None = None) -> Any:
        """The fitted pipeline of ``model`` (default: the chosen one); :class:`ConfigError` names the choices."""
        if model is None or model == self.model_key:
            return self.pipeline
        if model in self.members:
            return self.members[model]
        from automl.models.registry import REGISTRY  # only here: predicting never needs the model families

        if model in ENSEMBLE_KEYS:
            advice = (f"{model!r} is an ensemble: only the chosen model and its members are kept for prediction, "
                      "and it was not chosen.")
        elif model in REGISTRY:
            advice = f"To use it, fit again with --models {model}."
        else:
            advice = f"{model!r} is no model family's key either (those are: {', '.join(REGISTRY)})."
        raise ConfigError(f"Model {model!r} was not refitted on all rows in this run; available: "
                          f"{', '.join(self.models)}. {advice}")

    def read(self, data: Any, sep: str | None = None, na_values: tuple[str, ...] = (),
             labelled: bool = False) -> tuple[pd.DataFrame, TableSource]:
        """Read a table to score (a path, a DataFrame, or unless ``labelled`` a NumPy array of the input columns)
        with the training data's missing-value markers and ``na_values`` (more, for this table: ``--na-values``
        at predict), and ``sep`` (default: the fit's, else chosen from the file); :class:`DataError` when a file
        was read as one column though the model needs several (a delimiter no rule reads: give ``sep``), or for
        an array where the rows must hold the target (``labelled``: an array names no column)."""
        if isinstance(data, np.ndarray):
            if labelled:
                raise DataError(f"Scoring the model needs each row's true value in the target column "
                                f"{self.schema.target!r}, which an array cannot name: give a DataFrame or a file.")
            data = self._array_frame(data)
        chosen = separator(sep) if sep is not None else self.sep  # older pickles: the class default
        written = [c.name for c in self.schema.features if c.number_format]  # read in the fit's format
        markers = tuple(dict.fromkeys((*self.na_values, *na_values)))
        frame, info = read_table(data, markers, chosen, written, allow_empty=True)
        expected = [c.name for c in self.schema.features]
        if frame.shape[1] == 1 and len(expected) > 1 and frame.columns[0] not in expected:
            raise DataError(
                f"{info.name} was read as one column ({info.describe()}), but the model needs {len(expected)}: "
                f"{format_values(expected)}. If the file uses another delimiter, give it with --sep (comma, "
                "semicolon, tab, pipe or any single character)."
            )
        return frame, info

    def _array_frame(self, data: np.ndarray) -> pd.DataFrame:
        """A NumPy array of shape (rows, columns) as a DataFrame whose columns are the fit's input columns in their
        order (scikit-learn's estimators read an array by position too), with a warning saying so;
        :class:`DataError` for another shape, naming the columns expected."""
        names = [c.name for c in self.schema.columns]
        if data.ndim != 2 or data.shape[1] != len(names):
            raise DataError(
                f"The array to score has shape {data.shape}; the model reads an array's columns as the "
                f"{len(names)} input columns of its fit, in order ({format_values(names)}), so it needs shape "
                f"(rows, {len(names)}). Give a DataFrame with these column names, or an array of these columns."
            )
        log.warning("Reading the array's %d columns as the fit's input columns in their order (%s): give a "
                    "DataFrame to match columns by name.", len(names), format_values(names))
        return pd.DataFrame(data, columns=pd.Index(names, dtype=object))

    def probability_columns(self) -> list[str]:
        """Names of the probability columns of :meth:`predict_frame`, in its column order.

        Each class's label as written in the training data (numeric labels by value, others alphabetically),
        or ``proba_<label>`` for every class when a label is ``prediction`` (the label column's name), so that
        no output column name is used twice.
        """
        labels = [str(c) for c in self.ordered_classes()]
        if LABEL_COLUMN in labels:
            return [f"{PROBA_PREFIX}{c}" for c in labels]
        return labels

    def ordered_classes(self) -> list[str]:
        """The class labels in the order of the probability columns (numeric labels by value, others
        alphabetically)."""
        return sorted(self.classes or [], key=label_sort_key)

    def as_delivered(self, model: str | None = None) -> Any:
        """``model``'s pipeline (default: the chosen one) as it is delivered, for rows already transformed by
        :meth:`Schema.transform <automl.data.schema.Schema.transform>` (permutation importance shuffles those):
        the chosen model's probabilities go through its calibrator; a member's, or a regression model, as they
        are. Has ``predict_proba`` (classes in the order of :attr:`classes`) or ``predict``."""
        pipeline = self.pipeline_for(model)
        if self.calibrator is None or model not in (None, self.model_key):
            return pipeline
        return _Calibrated(pipeline, self.calibrator, len(self.classes or []))

    def predict_proba(self, frame: pd.DataFrame, where: str = "the data", model: str | None = None) -> pd.DataFrame:
        """Class probabilities, one column per class named by its label (see :meth:`ordered_classes`); each
        row sums to 1. :class:`ConfigError` for a regression model."""
        if self.schema.task == "regression":
            raise ConfigError("predict_proba applies to classification; this model is a regression model.")
        return self._proba_frame(self._scores(frame, where, model), self.ordered_classes())

    def predict_frame(self, frame: pd.DataFrame, where: str = "the data", model: str | None = None) -> pd.DataFrame:
        """Predictions in input row order, by the chosen model or by ``model`` (see :attr:`models`).

        Classification: one probability column per class (see :meth:`probability_columns`), then
        ``prediction`` (the most probable label). Regression: ``prediction``.
        """
        scores = self._scores(frame, where, model)
        if self.schema.task == "regression":
            return pd.DataFrame({LABEL_COLUMN: scores})
        out = self._proba_frame(scores, self.probability_columns())
        out[LABEL_COLUMN] = np.asarray(self.classes, dtype=object)[self._labels(scores, model)]
        return out

    def delivered(self, frame: pd.DataFrame, where: str = "the data",
                  model: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """What the model delivers for ``frame``: its scores (class probabilities in the order of ``classes``,
        calibrated where the model is, or values) and, for classification, the class index of each row's label
        (the decision threshold applied); None for regression."""
        scores = self._scores(frame, where, model)
        return scores, None if self.schema.task == "regression" else self._labels(scores, model)

    def _labels(self, scores: np.ndarray, model: str | None) -> np.ndarray:
        """Class indices: the positive class (index 1) at or above the threshold, else the most probable."""
        if self.threshold is not None and self.schema.task == "binary" and model in (None, self.model_key):
            return (scores[:, 1] >= self.threshold).astype(int)
        return scores.argmax(axis=1)

    def _proba_frame(self, scores: np.ndarray, names: list[str]) -> pd.DataFrame:
        classes = list(self.classes or [])
        order = [classes.index(c) for c in self.ordered_classes()]
        return pd.DataFrame(scores[:, order], columns=pd.Index(names, dtype=object))

    def _scores(self, frame: pd.DataFrame, where: str, model: str | None) -> np.ndarray:
        delivered = self.as_delivered(model)
        X = self.schema.transform(frame, where=where)
        if len(X) == 0:  # a file with a header only (a day without new rows): no rows to predict, no error
            return np.zeros((0, len(self.classes or [])) if self.schema.task != "regression" else 0)
        # threads, not processes, for estimators that predict in parallel (bagged trees): starting loky's worker
        # processes took 2.8 s of a 10 000-row prediction
        with threads.limited(), joblib.parallel_config(backend="threading"):
            return predict_scores(delivered, X, self.schema.task, len(self.classes or []))


class _Calibrated:
    """A classifier's pipeline whose class probabilities go through a calibrator (see
    :meth:`Predictor.as_delivered`)."""

    def __init__(self, pipeline: Any, calibrator: Any, n_classes: int) -> None:
        self.pipeline, self.calibrator, self.classes_ = pipeline, calibrator, np.arange(n_classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.calibrator.transform(predict_scores(self.pipeline, X, "multiclass", len(self.classes_)))
