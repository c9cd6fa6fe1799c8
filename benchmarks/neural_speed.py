"""Seconds per k-fold trial of the Keras network against LightGBM, on synthetic tables of 1 k, 10 k and 100 k rows.

Each trial is one cross-validation run as the search makes it (:func:`automl.search.evaluate.cross_validate`:
preprocessing fitted in each fold, 5 folds up to 10 000 rows and 3 above). The network trains a fixed number of
epochs (``--epochs``, early stopping off) so that the figures measure cost, not convergence; LightGBM runs its
defaults. The first network trial of a process also builds its TensorFlow graph; the second trial (a fresh
estimator, same configuration) shows the cost once the graph is compiled, as the later folds of a trial see it.

Usage::

    .venv/bin/python benchmarks/neural_speed.py --output benchmarks/neural_speed.md
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

import automl  # noqa: F401  (process environment before the libraries load)
from automl.config import FitConfig, PreprocessConfig
from automl.data.io import read_table
from automl.data.schema import infer_schema
from automl.models import registry
from automl.search.cv import make_folds
from automl.search.evaluate import Context, cross_validate
from automl.search.metrics import get_metric

ROOT = Path(__file__).resolve().parents[1]


def table(n_rows: int, seed: int = 0) -> tuple[Context, pd.DataFrame, np.ndarray, list]:
    """A binary table of ``n_rows`` × 20 numeric features (8 informative) and 2 categorical ones."""
    X, y = make_classification(n_rows, 20, n_informative=8, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
    rng = np.random.default_rng(seed)
    frame["few"] = rng.choice(list("abcd"), n_rows)  # one-hot
    frame["many"] = rng.choice([f"level{i}" for i in range(40)], n_rows)  # embedded
    frame["y"] = y
    frame, info = read_table(frame)
    schema, labels = infer_schema(frame, FitConfig(target="y"), info)
    folds = make_folds(schema.encode_target(labels), schema.task, 5 if n_rows <= 10_000 else 3, seed)
    ctx = Context(schema, get_metric("roc_auc"), PreprocessConfig(), seed, os.cpu_count() or 1)
    return ctx, schema.transform(frame), schema.encode_target(labels), folds


def trial_seconds(key: str, ctx: Context, X: pd.DataFrame, y: np.ndarray, folds: list,
                  params: dict) -> tuple[float, float]:
    """Wall seconds of one k-fold trial and its CV score."""
    start = time.monotonic()
    result = cross_validate(registry.get(key), ctx, X, y, folds, float("inf"), params)
    assert result.status == "ok", result.reason
    return time.monotonic() - start, result.mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "neural_speed.md")
    args = parser.parse_args()
    nn = {"epochs": args.epochs, "patience": args.epochs}
    lines = [f"# Seconds per k-fold trial: Keras network ({args.epochs} epochs) vs LightGBM defaults", "",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; synthetic binary table, 20 "
             "numeric + 2 categorical columns; 5 folds up to 10 000 rows, 3 above; `benchmarks/neural_speed.py`.",
             "", "| rows | folds | network, 1st trial s | network, 2nd trial s | s per epoch per fold | network CV AUC "
             "| classic MLP s | LightGBM s | LightGBM CV AUC |", "|---|---|---|---|---|---|---|---|---|"]
    from automl.models.keras_mlp import CLASSIC

    classic = {**CLASSIC, "epochs": args.epochs, "patience": args.epochs}
    for n in args.rows:
        ctx, X, y, folds = table(n)
        first, _ = trial_seconds("keras_mlp", ctx, X, y, folds, nn)
        second, auc = trial_seconds("keras_mlp", ctx, X, y, folds, nn)
        classic_s, _ = trial_seconds("keras_mlp", ctx, X, y, folds, classic)
        lgbm_s, lgbm_auc = trial_seconds("lightgbm", ctx, X, y, folds, {})
        per_epoch = second / len(folds) / args.epochs
        lines.append(f"| {n:,} | {len(folds)} | {first:.1f} | {second:.1f} | {per_epoch:.3f} | {auc:.4f} | "
                     f"{classic_s:.1f} | {lgbm_s:.1f} | {lgbm_auc:.4f} |")
        print(lines[-1], flush=True)
    args.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
