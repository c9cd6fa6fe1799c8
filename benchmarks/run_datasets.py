"""Benchmark `automl fit` / `automl predict` on every dataset in ../shared/datasets against simple baselines.

Each dataset is split once (80 % train / 20 % test, stratified for classification, seed 0). automl runs as the
user runs it, through its CLI in a subprocess, with a fixed budget; the baselines (LightGBM and RandomForest
at their library defaults) train on the same rows in this process. Test scores use the manifest's metric.
Peak memory is the maximum resident set size of each automl process (from ``os.wait4``).

Usage::

    .venv/bin/python benchmarks/run_datasets.py --budget 60 --output benchmarks/results.md
    .venv/bin/python benchmarks/run_datasets.py --budget 60 --families keras_mlp --output benchmarks/neural-60s.md

``--families`` is passed to ``automl fit`` (``keras_mlp``: the network alone, with the whole budget). Each row
also gives the neural side's and the tree side's trials and seconds in the search (from the run folder's
``trials.csv``), the best network's and the best single tree model's CV score, and the corrected t-test's
p-value between the two (Nadeau & Bengio; p > 0.05: within the noise of the folds); the JSON file also keeps
each network trial's CV score and seconds, in the order run (defaults, portfolio, then the sampler's).

Writes a Markdown table (and a JSON file beside it) with the score per dataset, a normalized score (0 = the
worst of the compared systems on that dataset, 1 = the best), fit time and peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import automl  # noqa: F401  (sets OMP_WAIT_POLICY before the libraries below load)
from automl.results.leaderboard import score_column
from automl.search.metrics import get_metric

try:
    import flaml  # noqa: F401

    HAVE_FLAML = True
except ImportError:  # the `benchmark` extra installs it
    HAVE_FLAML = False

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


def run_measured(cmd: list[str], env: dict[str, str] | None = None,
                 cwd: str | None = None) -> tuple[int, float, float, str]:
    """Run ``cmd`` (in ``env`` and ``cwd``, default: this process's); return exit code, wall seconds, peak RSS
    in MiB and the combined output."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), wall, usage.ru_maxrss / 1024, text


def split(entry: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(DATASETS / entry["file"])
    stratify = frame[entry["target"]] if entry["task"] != "regression" else None
    return train_test_split(frame, test_size=0.2, random_state=0, stratify=stratify)


def score(entry: dict[str, Any], truth: pd.Series, preds: pd.DataFrame) -> float:
    """Test score from predictions with one probability column per class (or ``prediction``)."""
    metric = get_metric(entry["metric"])
    if entry["task"] == "regression":
        return metric(truth.to_numpy(dtype=float), preds["prediction"].to_numpy(dtype=float), "regression")
    classes = [c for c in preds.columns if c != "prediction"]
    if entry["task"] == "binary":  # positive class in column 1
        pos = entry.get("positive_class", classes[-1])
        classes = [c for c in classes if c != pos] + [pos]
    codes = truth.astype(str).map({c: i for i, c in enumerate(classes)}).to_numpy()
    return metric(codes, preds[classes].to_numpy(dtype=float), entry["task"])


def sides(run: Path, metric: str) -> dict[str, Any]:
    """Trials and seconds of the neural nets and of the tree ensembles in the search, their best CV scores and
    the corrected t-test between the two best (from the run folder)."""
    from automl.report.stats import compare

    board = pd.read_csv(run / "leaderboard.csv")
    trials = pd.read_csv(run / "trials.csv")
    kinds = dict(zip(board["model"], board["kind"], strict=True))
    trials = trials[trials["trial"].notna()]
    out: dict[str, Any] = {}
    best: dict[str, Any] = {}
    greater = get_metric(metric).greater_is_better
    for side, side_kinds in (("nn", ("neural net",)), ("tree", ("boosting", "bagging"))):
        mine = trials[trials["model"].map(kinds).isin(side_kinds)]
        out[f"{side}_trials"], out[f"{side}_seconds"] = len(mine), float(mine["fit_seconds"].sum())
        if side == "nn":  # each network trial in the order run (defaults, portfolio, sampler): which one won
            scores = mine[score_column(metric)].astype(float)
            out["nn_trial_cv"] = [None if np.isnan(v) else round(float(v), 5) for v in scores]
            out["nn_trial_seconds"] = [round(float(v), 1) for v in mine["fit_seconds"]]
            out["nn_trial_status"] = [str(v) for v in mine["status"]]  # a pruned trial's score: its folds' mean
        rows = board[board["kind"].isin(side_kinds) & (board["status"] == "ok")]
        rows = rows.sort_values(score_column(metric), ascending=not greater)
        if len(rows):
            best[side] = rows.iloc[0]
            out[f"{side}_best"] = str(rows.iloc[0]["model"])
            out[f"{side}_cv"] = float(rows.iloc[0][score_column(metric)])
    if len(best) == 2:
        folds = [[float(v) for v in str(best[k]["fold_scores"]).split()] for k in ("nn", "tree")]
        meta = json.loads((run / "run.json").read_text())
        out["p_nn_vs_tree"] = compare("nn", folds[0], "tree", folds[1], int(meta.get("folds") or 5)).p_value
    return out


def run_automl(entry: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame, budget: float,
               workdir: Path, families: str | None = None) -> dict[str, Any]:
    train.to_csv(workdir / "train.csv", index=False)
    test.drop(columns=entry["target"]).to_csv(workdir / "test.csv", index=False)
    exe = str(Path(sys.executable).parent / "automl")
    fit_cmd = [exe, "fit", str(workdir / "train.csv"), "--target", entry["target"], "--metric", entry["metric"],
               "--time-limit", str(budget), "--seed", "0", "--output", str(workdir / "run"), "--quiet"]
    fit_cmd += ["--families", families] if families else []
    rc, wall, rss, text = run_measured(fit_cmd)
    if rc != 0:
        return {"error": f"fit exit {rc}: {text[-300:]}"}
    rc, pwall, _, text = run_measured([exe, "predict", str(workdir / "run"), str(workdir / "test.csv"),
                                       "--output", str(workdir / "preds.csv"), "--quiet"])
    if rc != 0:
        return {"error": f"predict exit {rc}: {text[-300:]}"}
    preds = pd.read_csv(workdir / "preds.csv", keep_default_na=False)
    test_truth = pd.read_csv(DATASETS / entry["file"], keep_default_na=False).loc[test.index, entry["target"]]
    meta = json.loads((workdir / "run" / "run.json").read_text())
    return {"score": score(entry, test_truth, preds), "fit_s": wall, "predict_s": pwall, "peak_mib": rss,
            "best": meta.get("best_model"), "_preds": preds, "_truth": test_truth,
            **sides(workdir / "run", entry["metric"])}


def run_flaml(entry: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame, budget: float) -> dict[str, Any]:
    """FLAML with the same budget and metric, on the raw columns (it handles categoricals itself)."""
    from flaml import AutoML

    target, task = entry["target"], entry["task"]
    X, Xt = train.drop(columns=target), test.drop(columns=target)
    text_cols = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    X, Xt = (f.astype({c: "category" for c in text_cols}) for f in (X, Xt))
    y = train[target].astype(str) if task != "regression" else train[target]
    model = AutoML()
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):  # FLAML's CatBoost writes a train_dir
        model.fit(X, y, task="regression" if task == "regression" else "classification", metric=entry["metric"],
                  time_budget=budget, seed=0, verbose=0, n_jobs=os.cpu_count())
    fit_s = time.monotonic() - start
    if task == "regression":
        preds = pd.DataFrame({"prediction": model.predict(Xt)})
    else:
        preds = pd.DataFrame(model.predict_proba(Xt), columns=[str(c) for c in model.classes_])
    return {"score": score(entry, test[target], preds), "fit_s": fit_s, "best": model.best_estimator}


def run_baseline(name: str, entry: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    import lightgbm as lgb
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    target, task = entry["target"], entry["task"]
    X, Xt = train.drop(columns=target), test.drop(columns=target)
    text_cols = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    y = train[target]
    classes = sorted(y.astype(str).unique()) if task != "regression" else None
    start = time.monotonic()
    if name == "lightgbm_default":
        X, Xt = (f.astype({c: pd.CategoricalDtype(sorted(X[c].dropna().astype(str).unique())) for c in text_cols})
                 for f in (X.astype({c: str for c in text_cols}).where(X.notna()),
                           Xt.astype({c: str for c in text_cols}).where(Xt.notna())))
        model = lgb.LGBMRegressor(verbose=-1) if task == "regression" else lgb.LGBMClassifier(verbose=-1)
    else:
        for c in text_cols:
            codes = {v: i for i, v in enumerate(sorted(X[c].dropna().astype(str).unique()))}
            X[c], Xt[c] = X[c].astype(str).map(codes), Xt[c].astype(str).map(codes)
        med = X.median()
        X, Xt = X.fillna(med).fillna(-1), Xt.fillna(med).fillna(-1)
        model = RandomForestRegressor(n_jobs=2, random_state=0) if task == "regression" else \
            RandomForestClassifier(n_jobs=2, random_state=0)
    model.fit(X, y.astype(str) if classes else y)
    fit_s = time.monotonic() - start
    if classes:
        preds = pd.DataFrame(model.predict_proba(Xt), columns=[str(c) for c in model.classes_])
    else:
        preds = pd.DataFrame({"prediction": model.predict(Xt)})
    return {"score": score(entry, test[target], preds), "fit_s": fit_s, "_preds": preds}


def paired_bootstrap(entry: dict[str, Any], truth: pd.Series, ours: pd.DataFrame, theirs: pd.DataFrame,
                     n: int = 1000) -> tuple[float, float, float]:
    """automl's test-score advantage over a baseline (positive = automl better) with a 95 % bootstrap interval.

    The same resampled test rows score both systems, so the interval is of the paired difference: it shows
    whether a win or loss on this one split is more than the luck of which rows landed in the test set.
    """
    sign = 1.0 if get_metric(entry["metric"]).greater_is_better else -1.0
    truth = truth.reset_index(drop=True)
    ours, theirs = ours.reset_index(drop=True), theirs.reset_index(drop=True)
    point = sign * (score(entry, truth, ours) - score(entry, truth, theirs))
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(n):
        idx = rng.integers(0, len(truth), len(truth))
        t = truth.iloc[idx]
        if entry["task"] == "binary" and t.nunique() < 2:
            continue
        diffs.append(sign * (score(entry, t, ours.iloc[idx]) - score(entry, t, theirs.iloc[idx])))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return point, float(lo), float(hi)


def normalize(scores: dict[str, float], greater_is_better: bool) -> dict[str, float]:
    values = [v for v in scores.values() if np.isfinite(v)]
    lo, hi = min(values), max(values)
    out = {}
    for k, v in scores.items():
        if not np.isfinite(v) or hi == lo:
            out[k] = float("nan") if not np.isfinite(v) else 1.0
        else:
            out[k] = (v - lo) / (hi - lo) if greater_is_better else (hi - v) / (hi - lo)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results.md")
    parser.add_argument("--only", nargs="*", help="dataset names to run (default: all)")
    parser.add_argument("--families", help="passed to automl fit (e.g. keras_mlp: the network alone)")
    args = parser.parse_args()
    manifest = json.loads((DATASETS / "manifest.json").read_text())
    rows = []
    for entry in manifest:
        if args.only and entry["name"] not in args.only:
            continue
        train, test = split(entry)
        with tempfile.TemporaryDirectory() as tmp:
            result = {"automl": run_automl(entry, train, test, args.budget, Path(tmp), args.families)}
        for name in ("lightgbm_default", "random_forest_default"):
            result[name] = run_baseline(name, entry, train, test)
        if HAVE_FLAML:
            result["flaml"] = run_flaml(entry, train, test, args.budget)
        if "error" not in result["automl"]:
            a, lgbm = result["automl"], result["lightgbm_default"]
            a["vs_lightgbm_default"] = paired_bootstrap(entry, a.pop("_truth"), a.pop("_preds"), lgbm["_preds"])
        for r in result.values():
            r.pop("_preds", None)
            r.pop("_truth", None)
        rows.append({"dataset": entry["name"], "task": entry["task"], "metric": entry["metric"], **result})
        print(json.dumps(rows[-1], default=str), flush=True)
        write_report(rows, args)  # after every dataset: a long run that is stopped keeps what it measured


def write_report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    systems = ["automl", "flaml", "lightgbm_default", "random_forest_default"]
    systems = [s for s in systems if all(s in r for r in rows)]
    title = {"automl": "automl", "flaml": "FLAML", "lightgbm_default": "LightGBM default",
             "random_forest_default": "RF default"}
    lines = [
        f"# Benchmark: automl{' --families ' + args.families if args.families else ''} "
        f"{'vs FLAML (same budget, ' if 'flaml' in systems else '('}{args.budget:.0f} s) and library defaults",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; split 80/20 (stratified), seed 0. "
        "Normalized score: 1 = best of the compared systems on that dataset, 0 = worst. automl's fit time and peak "
        "memory are its whole CLI process (start-up and imports included); FLAML runs in the benchmark process. "
        "automl − LightGBM default: the test-score difference (positive = automl better, for every metric) "
        "with a 95 % paired bootstrap interval over the test rows (1000 resamples): an interval that spans 0 "
        "means this split cannot tell the two apart.",
        "",
        "| dataset | task | metric | " + " | ".join(title[s] for s in systems)
        + " | automl norm. | automl − LightGBM default [95% CI] | automl model | automl fit s | automl peak MiB |",
        "|---|---|---|" + "---|" * len(systems) + "---|---|---|---|---|",
    ]
    norms = []
    for r in rows:
        if "error" in r["automl"]:
            lines.append(f"| {r['dataset']} | {r['task']} | {r['metric']} | error: {r['automl']['error'][:80]} |")
            continue
        norm = normalize({s: r[s]["score"] for s in systems}, get_metric(r["metric"]).greater_is_better)
        norms.append(norm)
        a = r["automl"]
        cells = " | ".join(f"{r[s]['score']:.4f}" for s in systems)
        d, lo, hi = a["vs_lightgbm_default"]
        lines.append(f"| {r['dataset']} | {r['task']} | {r['metric']} | {cells} | {norm['automl']:.2f} | "
                     f"{d:+.4g} [{lo:+.3g}, {hi:+.3g}] | {a['best']} | {a['fit_s']:.1f} | {a['peak_mib']:.0f} |")
    if norms:
        mean = {s: float(np.nanmean([n[s] for n in norms])) for s in systems}
        lines += ["", "Mean normalized score: " + ", ".join(f"{title[s]} {v:.2f}" for s, v in mean.items()) + "."]
    lines += sides_table(rows)
    args.output.write_text("\n".join(lines) + "\n")
    args.output.with_suffix(".json").write_text(json.dumps(rows, indent=2, default=str))
    print("\n".join(lines))


def sides_table(rows: list[dict[str, Any]]) -> list[str]:
    """The search's split between neural nets and tree ensembles, and how close the best of each came (CV)."""
    lines = ["", "Search split (CV on the training part): trials and seconds of each side; the best network and the "
             "best single tree model; p of the corrected t-test between them (> 0.05: within the noise of the "
             "folds).", "",
             "| dataset | neural trials | neural s | tree trials | tree s | best network CV | best tree CV | p |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a = r["automl"]
        if "error" in a:
            continue
        cv = {k: f"{a[k]:.4f}" if k in a else "-" for k in ("nn_cv", "tree_cv")}
        p = f"{a['p_nn_vs_tree']:.3f}" if "p_nn_vs_tree" in a else "-"
        lines.append(f"| {r['dataset']} | {a.get('nn_trials', 0)} | {a.get('nn_seconds', 0):.1f} | "
                     f"{a.get('tree_trials', 0)} | {a.get('tree_seconds', 0):.1f} | {cv['nn_cv']} | {cv['tree_cv']} "
                     f"| {p} |")
    return lines


if __name__ == "__main__":
    main()
