"""The fitted artefact saved in a run folder: the schema plus the refitted pipeline of the chosen model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from automl import threads
from automl.data.schema import Schema, label_sort_key
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
    """

    schema: Schema
    pipeline: Any
    model_key: str
    automl_version: str
    na_values: tuple[str, ...] = ()

    @property
    def classes(self) -> list[str] | None:
        return self.schema.classes

    def predict_frame(self, frame: pd.DataFrame, where: str = "the data") -> pd.DataFrame:
        """Predictions in input row order.

        Classification: one probability column per class, named by the class label as written in the
        training data (numeric labels by value, others alphabetically), then ``prediction`` (the most
        probable label). Regression: ``prediction``.
        """
        X = self.schema.transform(frame, where=where)
        task = self.schema.task
        with threads.limited():
            scores = predict_scores(self.pipeline, X, task, len(self.classes or []))
        if task == "regression":
            return pd.DataFrame({"prediction": scores})
        classes = list(self.classes or [])
        order = sorted(range(len(classes)), key=lambda i: label_sort_key(classes[i]))
        out = pd.DataFrame(scores[:, order], columns=[classes[i] for i in order])
        out["prediction"] = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
        return out
