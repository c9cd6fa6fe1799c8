"""Probability calibrators a saved classifier applies to its probabilities (NumPy only, so predicting stays light).

Fitted by :mod:`automl.fit.calibration` on out-of-fold predictions; see there for when each is used.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-6


class Temperature:
    """Temperature scaling: probabilities ``softmax(log(p) / T)``, shape (n_rows, n_classes) in and out."""

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = float(temperature)

    def fit(self, proba: np.ndarray, y: np.ndarray) -> Temperature:
        from scipy.optimize import minimize_scalar

        logits = np.log(np.clip(proba, EPS, 1.0))
        rows = np.arange(len(y))

        def loss(log_t: float) -> float:
            z = logits / np.exp(log_t)
            z = z - z.max(axis=1, keepdims=True)
            return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y]))

        self.temperature = float(np.exp(minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded").x))
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        z = np.log(np.clip(proba, EPS, 1.0)) / self.temperature
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


class Isotonic:
    """Isotonic regression of a binary model's P(positive), kept as its step points (NumPy only to apply)."""

    def __init__(self) -> None:
        self.x_: np.ndarray = np.array([0.0, 1.0])
        self.y_: np.ndarray = np.array([0.0, 1.0])

    def fit(self, proba: np.ndarray, y: np.ndarray) -> Isotonic:
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba[:, 1], y)
        self.x_, self.y_ = np.asarray(iso.X_thresholds_, dtype=float), np.asarray(iso.y_thresholds_, dtype=float)
        return self

    def transform(self, proba: np.ndarray) -> np.ndarray:
        p = np.clip(np.interp(proba[:, 1], self.x_, self.y_), EPS, 1 - EPS)
        return np.column_stack([1 - p, p])
