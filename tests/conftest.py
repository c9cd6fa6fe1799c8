"""Shared fixtures: tiny synthetic frames (with a categorical and a NaN column), a seed, CSV writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl  # noqa: F401  (sets OMP_WAIT_POLICY etc. before numeric libraries load)

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture
def seed() -> int:
    return 7


def make_frame(task: str, n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Numeric, categorical and NaN-bearing columns plus a target whose signal the models can learn."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.exponential(2.0, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    x_nan = rng.normal(size=n)
    x_nan[rng.random(n) < 0.2] = np.nan
    signal = 2 * x1 + (colour == "red") * 1.5 + np.nan_to_num(x_nan) * 0.5
    frame = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "x_nan": x_nan})
    if task == "regression":
        frame["y"] = signal + rng.normal(scale=0.3, size=n)
    elif task == "binary":
        frame["y"] = np.where(signal + rng.normal(scale=0.5, size=n) > 0.5, "yes", "no")
    else:
        frame["y"] = np.select([signal < -0.5, signal < 1.5], ["a", "b"], "c")
    return frame


@pytest.fixture
def binary_frame() -> pd.DataFrame:
    return make_frame("binary")


@pytest.fixture
def multiclass_frame() -> pd.DataFrame:
    return make_frame("multiclass")


@pytest.fixture
def regression_frame() -> pd.DataFrame:
    return make_frame("regression")


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write a frame (or raw text/bytes) to a file in tmp_path and return its path."""

    def write(content: pd.DataFrame | str | bytes, name: str = "data.csv", **kwargs) -> Path:
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False, **kwargs)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
