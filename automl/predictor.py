"""The fitted artefact saved in a run folder: the schema plus the refitted pipeline of the chosen model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automl import threads
from automl.data.schema import Schema, label_sort_key
from automl.errors import ConfigError
from automl.search.evaluate import predict_scores


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
    """

    schema: Schema
    pipeline: Any
    model_key: str
    automl_version: str
    na_values: tuple[str, ...] = ()
    members: dict[str, Any] = field(default_factory=dict)

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
        raise ConfigError(
            f"Model {model!r} was not refitted on all rows in this run; available: {', '.join(self.models)}. "
            f"To use another model, fit again with --models {model}."
        )

    def predict_frame(self, frame: pd.DataFrame, where: str = "the data", model: str | None = None) -> pd.DataFrame:
        """Predictions in input row order, by the chosen model or by ``model`` (see :attr:`models`).

        Classification: one probability column per class, named by the class label as written in the
        training data (numeric labels by value, others alphabetically), then ``prediction`` (the most
        probable label). Regression: ``prediction``.
        """
        pipeline = self.pipeline_for(model)
        X = self.schema.transform(frame, where=where)
        task = self.schema.task
        with threads.limited():
            scores = predict_scores(pipeline, X, task, len(self.classes or []))
        if task == "regression":
            return pd.DataFrame({"prediction": scores})
        classes = list(self.classes or [])
        order = sorted(range(len(classes)), key=lambda i: label_sort_key(classes[i]))
        out = pd.DataFrame(scores[:, order], columns=[classes[i] for i in order])
        out["prediction"] = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
        return out
