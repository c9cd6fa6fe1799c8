"""How long `automl predict` takes as a whole process, against a bare `python -c "import pandas, sklearn"`.

A seeded binary table (8 numeric and 2 categorical columns) is fitted on 2 000 rows once per model family
(``--models KEY --trials 1 --folds 3 --repeats 1``), and once with LightGBM and the network together, whose
chosen model may be an ensemble holding the network. Each run folder then scores a 10 000-row CSV with
``automl predict`` (the console script, a fresh process) ``--repeats`` times; the median wall time is compared
with the median of the bare import. A separate in-process run of the same command records which heavy modules
the prediction imported (TensorFlow, Optuna, the search, the report). Target (issue 16): within 0.8 s of the
bare import for every kind of model.

Usage::

    .venv/bin/python benchmarks/predict_startup.py --output benchmarks/predict_startup.md
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_datasets import run_measured

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = [*([k] for k in ("linear", "hist_gb", "lightgbm", "xgboost", "catboost", "adaboost", "extra_trees",
                        "random_forest", "bagging", "keras_mlp")), ["lightgbm", "keras_mlp"]]
HEAVY = ("tensorflow", "keras", "optuna", "automl.fit", "automl.search.tuner", "automl.report", "jinja2",
         "matplotlib", "lightgbm", "xgboost", "catboost")
PROBE = """
import sys, json
from automl.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.stderr)
"""


def table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    city = rng.choice([f"c{i}" for i in range(15)], n)
    kind = rng.choice(["a", "b", "c"], n)
    signal = X[:, 0] - X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + (kind == "a") + 0.3 * (np.char.count(city, "1") > 0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]).assign(city=city, kind=kind)
    frame["y"] = np.where(signal + rng.normal(scale=0.5, size=n) > 0.5, "yes", "no")
    return frame


def median_wall(cmd: list[str], repeats: int) -> float:
    walls = []
    for _ in range(repeats):
        code, wall, _, out = run_measured(cmd)
        if code != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out[-2000:]}")
        walls.append(wall)
    return statistics.median(walls)


def measure(work: Path, repeats: int) -> dict[str, Any]:
    train, new = work / "train.csv", work / "new.csv"
    table(2000, 0).to_csv(train, index=False)
    table(10_000, 1).drop(columns="y").to_csv(new, index=False)
    bare = median_wall([sys.executable, "-c", "import pandas, sklearn"], repeats)
    rows = []
    for models in RUNS:
        run_dir = work / "-".join(models)
        code, fit_wall, _, out = run_measured([str(BIN / "automl"), "fit", str(train), "--target", "y", "--models",
                                               ",".join(models), "--trials", "1", "--folds", "3", "--repeats", "1",
                                               "--seed", "0", "--output", str(run_dir), "--quiet"])
        if code != 0:
            raise RuntimeError(f"fit {models} failed:\n{out[-2000:]}")
        meta = json.loads((run_dir / "run.json").read_text())
        wall = median_wall([str(BIN / "automl"), "predict", str(run_dir), str(new), "--output",
                            str(work / "preds.csv")], repeats)
        probe = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), "predict", str(run_dir), str(new),
                                "--output", str(work / "preds.csv")], capture_output=True, text=True, check=True)
        imported = json.loads(probe.stderr.strip().splitlines()[-1])
        rows.append({"families": models, "chosen": meta.get("best_model"),
                     "refitted": meta.get("models_refitted", []), "predict_s": round(wall, 2),
                     "over_bare_s": round(wall - bare, 2), "imported": imported, "fit_s": round(fit_wall, 1)})
        print(rows[-1], flush=True)
    return {"bare_import_s": round(bare, 2), "repeats": repeats, "rows_scored": 10_000, "runs": rows,
            "machine": f"{platform.machine()}, {platform.python_version()}, {_cores()} cores"}


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def render(result: dict[str, Any]) -> str:
    lines = [
        "# `automl predict` as a whole process",
        "",
        "Written by `benchmarks/predict_startup.py` (see its docstring). A 10 000-row CSV scored by each run "
        f"folder, median of {result['repeats']} fresh processes, against a bare "
        f"`python -c \"import pandas, sklearn\"`: **{result['bare_import_s']:.2f} s**. Machine: "
        f"{result['machine']}.",
        "",
        "| families fitted | chosen model (members) | `automl predict` s | over the bare import s "
        "| heavy modules imported |",
        "|---|---|---:|---:|---|",
    ]
    for row in result["runs"]:
        members = ", ".join(m for m in row["refitted"] if m != row["chosen"])
        chosen = f"{row['chosen']} ({members})" if members else row["chosen"]
        lines.append(f"| {', '.join(row['families'])} | {chosen} | {row['predict_s']:.2f} | "
                     f"{row['over_bare_s']:+.2f} | {', '.join(row['imported']) or 'none'} |")
    worst = max(row["over_bare_s"] for row in result["runs"])
    lines += ["", f"Largest gap over the bare import: {worst:+.2f} s (target: at most 0.8 s). The library of the "
              "chosen model is imported (LightGBM, XGBoost, CatBoost: their models are theirs); TensorFlow, "
              "Optuna, the search and the report never are: a network predicts with NumPy from its weights.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "predict_startup.md")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    raw = args.output.with_suffix(".json")
    if not args.render_only:
        with tempfile.TemporaryDirectory() as tmp:
            raw.write_text(json.dumps(measure(Path(tmp), args.repeats), indent=1))
    args.output.write_text(render(json.loads(raw.read_text())))
    print(args.output.read_text())


if __name__ == "__main__":
    main()
