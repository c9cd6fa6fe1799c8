"""Wide-data benchmark: synthetic tables with many more columns than rows, through `automl fit` / `predict`.

Four seeded tables, each with 1 000 fresh test rows from the same distribution:

- ``sparse-binary``: 120 rows x 5 000 standard-normal columns; the class is the sign of x0 + x1 - x2 plus noise
  (the example of issue 14);
- ``sparse-regression``: 150 x 2 000; y = 3 x0 - 2 x1 + 2 x2 + x3 x4 + noise;
- ``sparse-multiclass``: 200 x 1 000; three classes cut from x0 + x1 - x2 + x3;
- ``dense-binary``: 100 x 3 000 in 30 correlated blocks of 100 columns; the class follows the mean of the first
  block (many weak, redundant columns: where an L1 penalty has no easy win).

Each table is fitted twice with a 30 s budget: through the CLI in a subprocess, as a user runs it (wall time of
the whole process against the limit 30 x 1.1 + 5 s, peak memory, test score of ``automl predict``), and in
this process through the API with the families' wide-data defaults switched off (``ModelSpec.wide`` ignored),
to measure what those defaults are worth. Test metric: ROC AUC, RMSE, log loss.

Usage::

    .venv/bin/python benchmarks/wide.py --budget 30 --output benchmarks/wide.md
    .venv/bin/python benchmarks/wide.py --render-only   # the Markdown again from wide.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_datasets import run_measured

from automl.search.metrics import get_metric

ROOT = Path(__file__).resolve().parents[1]
TEST_ROWS = 1000


def _table(name: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """(train, test, task, metric) of one synthetic table."""
    rng = np.random.default_rng(seed)
    n, p = {"sparse-binary": (120, 5000), "sparse-regression": (150, 2000), "sparse-multiclass": (200, 1000),
            "dense-binary": (100, 3000)}[name]
    total = n + TEST_ROWS
    if name == "dense-binary":
        latent = rng.normal(size=(total, 30))
        X = np.repeat(latent, 100, axis=1) + rng.normal(scale=1.5, size=(total, p))
        signal = X[:, :100].mean(axis=1)
    else:
        X = rng.normal(size=(total, p))
        signal = X[:, 0] + X[:, 1] - X[:, 2] + (X[:, 3] if name == "sparse-multiclass" else 0)
    frame = pd.DataFrame(X.astype(np.float32), columns=[f"x{i}" for i in range(p)])
    noise = rng.normal(scale=0.5, size=total)
    if name == "sparse-regression":
        frame["y"] = 3 * X[:, 0] - 2 * X[:, 1] + 2 * X[:, 2] + X[:, 3] * X[:, 4] + noise
        task, metric = "regression", "rmse"
    elif name == "sparse-multiclass":
        frame["y"] = np.select([signal + noise < -1, signal + noise < 1], ["low", "mid"], "high")
        task, metric = "multiclass", "log_loss"
    else:
        frame["y"] = np.where(signal + noise > 0, "yes", "no")
        task, metric = "binary", "roc_auc"
    return frame.iloc[:n], frame.iloc[n:].reset_index(drop=True), task, metric


def _score(truth: pd.Series, preds: pd.DataFrame, task: str, metric: str, positive: str | None) -> float:
    if task == "regression":
        return get_metric(metric)(truth.to_numpy(float), preds["prediction"].to_numpy(float), task)
    classes = [c for c in preds.columns if c != "prediction"]
    if task == "binary":  # the positive class last
        classes = [c for c in classes if c != positive] + [positive]
    codes = truth.map({c: i for i, c in enumerate(classes)}).to_numpy()
    return get_metric(metric)(codes, preds[classes].to_numpy(float), task)


def _cli(train: Path, test: Path, work: Path, budget: float) -> dict[str, Any]:
    run_dir = work / "cli-run"
    code, wall, peak, output = run_measured([sys.executable, "-m", "automl", "fit", str(train), "--target", "y",
                                             "--time-limit", str(budget), "--output", str(run_dir), "--overwrite"])
    if code != 0:
        return {"error": output[-500:]}
    preds = work / "preds.csv"
    run_measured([sys.executable, "-m", "automl", "predict", str(run_dir), str(test), "--output", str(preds)])
    meta = json.loads((run_dir / "run.json").read_text())
    board = pd.read_csv(run_dir / "leaderboard.csv")
    return {"wall": wall, "peak": peak, "meta": meta, "preds": pd.read_csv(preds, keep_default_na=False),
            "finished": int(((board["status"] == "ok") & (board["kind"] != "ensemble")).sum())}


def _api_without_wide_defaults(train: pd.DataFrame, test: pd.DataFrame, work: Path, budget: float) -> dict[str, Any]:
    from automl import AutoML

    with mock.patch("automl.search.tuner.is_wide", return_value=False):
        model = AutoML(target="y", time_limit=budget, output=work / "api-run", overwrite=True).fit(train)
    meta = json.loads((work / "api-run" / "run.json").read_text())
    return {"meta": meta, "preds": model.predict_frame(test.drop(columns="y"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "wide.md")
    parser.add_argument("--tables", default="sparse-binary,sparse-regression,sparse-multiclass,dense-binary")
    parser.add_argument("--render-only", action="store_true", help="write the Markdown from the JSON file")
    args = parser.parse_args()
    if args.render_only:
        _write(json.loads(args.output.with_suffix(".json").read_text()), args)
        return
    logging.getLogger("automl").setLevel(logging.WARNING)
    limit = args.budget * 1.1 + 5
    rows = []
    for name in args.tables.split(","):
        train, test, task, metric = _table(name)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            train.to_csv(work / "train.csv", index=False)
            test.drop(columns="y").to_csv(work / "test.csv", index=False)
            cli = _cli(work / "train.csv", work / "test.csv", work, args.budget)
            off = _api_without_wide_defaults(train, test, work, args.budget)
        if "error" in cli:
            rows.append({"table": name, "error": cli["error"]})
            continue
        meta, positive = cli["meta"], cli["meta"]["data"].get("positive_class")
        board = {r["model"]: r for r in meta["leaderboard"]}
        rows.append({
            "table": name, "task": task, "shape": f"{len(train)} x {train.shape[1] - 1}", "metric": metric,
            "wall_s": round(cli["wall"], 1), "limit_s": round(limit, 1), "peak_mib": round(cli["peak"]),
            "families_finished": cli["finished"], "chosen": meta["best_model"],
            "cv": board[meta["best_model"]][f"cv_{metric}_mean"],
            "constant_cv": meta["constant_predictor"]["cv_mean"],
            "test": _score(test["y"], cli["preds"], task, metric, positive),
            "chosen_without_wide_defaults": off["meta"]["best_model"],
            "test_without_wide_defaults": _score(test["y"], off["preds"], task, metric, positive),
        })
        print(json.dumps(rows[-1]), flush=True)
    args.output.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    _write(rows, args)


def _gain(r: dict[str, Any]) -> float:
    """Relative test-score gain of the wide-data defaults (positive: better with them)."""
    with_, without = r["test"], r["test_without_wide_defaults"]
    sign = 1 if get_metric(r["metric"]).greater_is_better else -1
    return sign * (with_ - without) / abs(without)


def _write(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    lines = [
        "# Benchmark: wide tables (many more columns than rows)", "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; budget {args.budget:.0f} s; "
        f"{TEST_ROWS} test rows per table. `benchmarks/wide.py` describes the tables. Wall time: the whole "
        f"`automl fit` process, imports included, against the limit {args.budget:.0f} x 1.1 + 5 s. Without wide "
        "defaults: the same fit with each family's `wide` changes ignored (API, same process).", "",
        "| table | task | rows x columns | metric | wall s | limit s | peak MiB | families finished | chosen | CV "
        "| constant predictor CV | test | without wide defaults: chosen | test |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['table']} | error: {r['error'][:200]} |")
            continue
        lines.append(f"| {r['table']} | {r['task']} | {r['shape']} | {r['metric']} | {r['wall_s']} | {r['limit_s']} "
                     f"| {r['peak_mib']} | {r['families_finished']} | {r['chosen']} | {r['cv']:.4f} "
                     f"| {r['constant_cv']:.4f} | {r['test']:.4f} | {r['chosen_without_wide_defaults']} "
                     f"| {r['test_without_wide_defaults']:.4f} |")
    ok = [r for r in rows if "error" not in r]
    if ok:
        gains = [_gain(r) for r in ok]
        per_table = ", ".join(f"{r['table']} {g:+.1%}" for r, g in zip(ok, gains, strict=True))
        lines += ["", f"Wide-data defaults, relative test-score gain per table: {per_table}; "
                  f"mean {np.mean(gains):+.1%}. "
                  f"Every fit within its limit: {all(r['wall_s'] <= r['limit_s'] for r in ok)}; "
                  f"every chosen model beat the constant predictor on CV: "
                  f"{all(get_metric(r['metric']).better(r['cv'], r['constant_cv']) for r in ok)}.", "",
                  "Before issue 14 (the 120 x 5 000 example of the issue, 30 s): the fit took 53 s, three families "
                  "ran, and the model chosen was the L2 linear model with CV ROC AUC 0.333, worse than chance."]
    args.output.write_text("\n".join(lines) + "\n")
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
