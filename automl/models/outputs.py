"""What a fitted pipeline predicts, in the one layout the search, the ensembles and the saved model share.

A light module (NumPy only): the prediction path imports it without the search.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def predict_scores(pipeline: Any, X: Any, task: str, n_classes: int) -> np.ndarray:
    """Class probabilities, shape (n_rows, n_classes) with one column per class code (a class the pipeline
    never saw gets 0), or predicted values, shape (n_rows,), for regression."""
    if task == "regression":
        return np.asarray(pipeline.predict(X), dtype=float)
    proba = np.asarray(pipeline.predict_proba(X), dtype=float)
    full = np.zeros((len(X), n_classes))
    full[:, np.asarray(pipeline.classes_, dtype=int)] = proba
    return full
