"""Large-data benchmark: a synthetic 1 000 000 x 50 classification table through `automl fit` / `automl predict`.

The table (seeded): 44 numeric columns from scikit-learn's ``make_classification`` (20 informative), 5 with
missing values, 4 categorical columns (one derived from an informative feature, so it carries signal), and a
binary target. Written as Parquet (read through Arrow). automl runs as a user runs it, through its CLI in a
subprocess with a 600 s budget; we record the fit's wall time and peak memory (maximum resident set size of the
process, from ``os.wait4``), then predict 200 000 fresh rows and report rows per second and the test ROC AUC.

Usage::

    .venv/bin/python benchmarks/large_data.py --rows 1000000 --budget 600 --output benchmarks/large_data.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_datasets import run_measured

ROOT = Path(__file__).resolve().parents[1]


def make_table(rows: int, seed: int = 0) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=45, n_informative=20, n_redundant=5, n_classes=2,
                               weights=[0.7, 0.3], flip_y=0.02, random_state=seed)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(X[:, :44], columns=[f"num_{i:02d}" for i in range(44)])
    for i in range(5):
        frame.loc[rng.random(rows) < 0.1, f"num_{i:02d}"] = np.nan
    frame["cat_signal"] = pd.cut(X[:, 44], bins=6, labels=list("abcdef")).astype(str)
    for i in range(3):
        frame[f"cat_{i}"] = rng.choice([f"level_{k}" for k in range(8 * (i + 1))], size=rows)
    frame["y"] = np.where(y == 1, "yes", "no")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--predict-rows", type=int, default=200_000)
    parser.add_argument("--budget", type=float, default=600)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "large_data.md")
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "automl")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full = make_table(args.rows + args.predict_rows)
        train, test = full.iloc[: args.rows], full.iloc[args.rows:]
        train.to_parquet(work / "train.parquet", index=False)
        test.drop(columns="y").to_parquet(work / "test.parquet", index=False)
        truth = (test["y"] == "yes").to_numpy()
        del full
        rc, fit_s, fit_mib, text = run_measured([exe, "fit", str(work / "train.parquet"), "--target", "y",
                                                 "--time-limit", str(args.budget), "--seed", "0",
                                                 "--output", str(work / "run"), "--quiet"])
        if rc != 0:
            raise SystemExit(f"fit failed ({rc}): {text[-2000:]}")
        rc, pred_s, pred_mib, text = run_measured([exe, "predict", str(work / "run"), str(work / "test.parquet"),
                                                   "--output", str(work / "preds.csv"), "--quiet"])
        if rc != 0:
            raise SystemExit(f"predict failed ({rc}): {text[-2000:]}")
        from sklearn.metrics import roc_auc_score

        preds = pd.read_csv(work / "preds.csv")
        auc = roc_auc_score(truth, preds["yes"])
        meta = json.loads((work / "run" / "run.json").read_text())
        board = pd.read_csv(work / "run" / "leaderboard.csv")
        latency = meta.get("predict_seconds_per_1000_rows")
    result = {
        "rows": args.rows, "columns": 49, "budget_s": args.budget, "fit_s": round(fit_s, 1),
        "fit_peak_mib": round(fit_mib), "predict_rows": args.predict_rows, "predict_s": round(pred_s, 1),
        "predict_peak_mib": round(pred_mib), "predict_rows_per_s": round(args.predict_rows / pred_s),
        "in_model_rows_per_s": round(1000 / latency) if latency else None, "test_roc_auc": round(auc, 4),
        "chosen": meta.get("best_model"), "search_rows": meta.get("search_rows"), "folds": meta.get("folds"),
        "families_finished": int((board["status"] == "ok").sum()), "trials": meta.get("trials_total"),
    }
    lines = [
        f"# Large data: {args.rows:,} rows x 49 feature columns, {args.budget:.0f} s budget",
        "",
        f"Machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024**3:.0f} "
        f"GiB RAM, Python {platform.python_version()}. Synthetic table from `benchmarks/large_data.py` (44 numeric "
        "columns, 5 with 10 % missing, 4 categorical, binary target 30 % positive), read from Parquet. Fit and "
        "predict run through the CLI in their own processes; peak memory is each process's maximum resident set "
        "size.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| fit wall time (whole CLI process) | {result['fit_s']} s (budget {args.budget:.0f} s) |",
        f"| fit peak memory | {result['fit_peak_mib']} MiB |",
        f"| search sample / folds | {result['search_rows']:,} rows / {result['folds']} |",
        f"| trials, families finished | {result['trials']}, {result['families_finished']} leaderboard rows |",
        f"| chosen model | {result['chosen']} |",
        f"| test ROC AUC ({args.predict_rows:,} fresh rows) | {result['test_roc_auc']} |",
        f"| predict {args.predict_rows:,} rows (whole CLI process: read, predict, write CSV) | "
        f"{result['predict_s']} s, {result['predict_rows_per_s']:,} rows/s, peak {result['predict_peak_mib']} MiB |",
        f"| model alone (measured at fit time) | {result['in_model_rows_per_s']:,} rows/s |",
    ]
    args.output.write_text("\n".join(lines) + "\n")
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
