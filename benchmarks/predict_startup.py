"""How long `automl predict` takes as a whole process, against a bare `python -c "import pandas, sklearn"`.

A seeded binary table (8 numeric and 2 categorical columns) is fitted on 2 000 rows once per model family
(``--models KEY --trials 1 --folds 3 --repeats 1``), and once with LightGBM and the network together under
``--metric log_loss``, where the chosen model is an ensemble holding both (checked: on this table their greedy
blend's log loss beats either alone, while under ROC AUC the network alone may rank first). Each run folder
then scores a 10 000-row CSV with ``automl predict`` (the console script, a fresh process) ``--repeats`` times,
each time after the bare import;
the median of the paired differences is the gap over the bare import, and the difference of the fastest of each
is the gap on a quiet machine (the other processes of a shared machine only ever add time: ``timeit``'s
reasoning). The `automl` console script exits without the interpreter's exit-time garbage collection
(``automl.cli.run``), which the bare import pays (about 0.3 s); a third process per repeat, the bare import
exiting the same way, gives the like-for-like gap. A separate in-process run of the same command records which
heavy modules the prediction imported (TensorFlow, Optuna, the search, the report). Target (issue 16): within
0.8 s of the bare import for every kind of
model. automl's modules are byte-compiled first, as in an installed package.

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
# the run whose chosen model must be an ensemble holding the network, and the metric that makes it one
ENSEMBLE_RUN, ENSEMBLE_METRIC = ["lightgbm", "keras_mlp"], "log_loss"
BARE = [sys.executable, "-c", "import pandas, sklearn"]
# the same import, leaving the process as the `automl` console script does: without the interpreter's exit-time
# collection of every object (automl.cli.run), which costs about 0.3 s after these imports
BARE_FROZEN = [sys.executable, "-c", "import pandas, sklearn, gc; gc.freeze()"]
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


def _wall(cmd: list[str]) -> float:
    code, wall, _, out = run_measured(cmd)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out[-2000:]}")
    return wall


def paired_walls(cmd: list[str], repeats: int) -> tuple[list[float], list[float], list[float]]:
    """``repeats`` wall times of ``cmd``, of the bare import and of the bare import exiting as ``automl`` does,
    run in turns, so that a slow spell of the machine weighs on all three (a shared VM's start-up times drift by
    tenths of a second within minutes)."""
    walls, bares, frozen = [], [], []
    for _ in range(repeats):
        bares.append(_wall(BARE))
        frozen.append(_wall(BARE_FROZEN))
        walls.append(_wall(cmd))
    return walls, bares, frozen


def measure(work: Path, repeats: int) -> dict[str, Any]:
    train, new = work / "train.csv", work / "new.csv"
    table(2000, 0).to_csv(train, index=False)
    table(10_000, 1).drop(columns="y").to_csv(new, index=False)
    # byte-compiled, as an installed package is: an editable checkout run with PYTHONDONTWRITEBYTECODE set
    # would compile automl's modules again in every process (about 0.06 s, measured)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "automl")], check=True, capture_output=True)
    rows, all_bares = [], []
    for models in RUNS:
        run_dir = work / "-".join(models)
        metric = ["--metric", ENSEMBLE_METRIC] if models == ENSEMBLE_RUN else []
        code, fit_wall, _, out = run_measured([str(BIN / "automl"), "fit", str(train), "--target", "y", "--models",
                                               ",".join(models), "--trials", "1", "--folds", "3", "--repeats", "1",
                                               "--seed", "0", "--output", str(run_dir), "--quiet", *metric])
        if code != 0:
            raise RuntimeError(f"fit {models} failed:\n{out[-2000:]}")
        meta = json.loads((run_dir / "run.json").read_text())
        if models == ENSEMBLE_RUN and not set(models) <= set(meta.get("models_refitted", [])) - {meta["best_model"]}:
            raise RuntimeError(f"the chosen model {meta['best_model']!r} is not an ensemble holding {models}: "
                               "this row would not measure one")
        walls, bares, frozen = paired_walls([str(BIN / "automl"), "predict", str(run_dir), str(new), "--output",
                                     str(work / "preds.csv")], repeats)
        all_bares += bares
        probe = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), "predict", str(run_dir), str(new),
                                "--output", str(work / "preds.csv")], capture_output=True, text=True, check=True)
        imported = json.loads(probe.stderr.strip().splitlines()[-1])
        rows.append({"families": models, "metric": metric[1:], "chosen": meta.get("best_model"),
                     "refitted": meta.get("models_refitted", []),
                     "predict_s": round(statistics.median(walls), 2),
                     "over_bare_s": round(statistics.median(w - b for w, b in zip(walls, bares, strict=True)), 2),
                     "over_bare_fastest_s": round(min(walls) - min(bares), 2),
                     "over_frozen_s": round(statistics.median(w - b for w, b in zip(walls, frozen, strict=True)), 2),
                     "walls": [round(w, 3) for w in walls], "bares": [round(b, 3) for b in bares],
                     "frozen": [round(b, 3) for b in frozen],
                     "imported": imported, "fit_s": round(fit_wall, 1)})
        print(rows[-1], flush=True)
    return {"bare_import_s": round(statistics.median(all_bares), 2), "repeats": repeats, "rows_scored": 10_000,
            "runs": rows,
            "machine": f"{platform.machine()}, {platform.python_version()}, {_cores()} cores"}


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def render(result: dict[str, Any]) -> str:
    lines = [
        "# `automl predict` as a whole process",
        "",
        "Written by `benchmarks/predict_startup.py` (see its docstring). A 10 000-row CSV scored by each run "
        f"folder, {result['repeats']} fresh processes, each after a bare `python -c \"import pandas, sklearn\"` "
        f"(median **{result['bare_import_s']:.2f} s**); \"over the bare import\" is the median of the paired "
        "differences, \"fastest\" the fastest prediction less the fastest bare import of its row (the other "
        "processes of a shared machine only ever add time; its start-up times drift by tenths of a second within "
        "minutes). `automl` exits without the interpreter's exit-time garbage collection (`automl.cli.run`: "
        "nothing is left to do, and the collection walks every object every module made); the bare import pays "
        "it, so the last figure compares with `python -c \"import pandas, sklearn, gc; gc.freeze()\"`, run in "
        f"the same turns. Machine: {result['machine']}.",
        "",
        "| families fitted | chosen model (members) | `automl predict` s | over the bare import s | fastest s "
        "| over the bare import exiting as automl does s | heavy modules imported |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in result["runs"]:
        members = ", ".join(m for m in row["refitted"] if m != row["chosen"])
        chosen = f"{row['chosen']} ({members})" if members else row["chosen"]
        fitted = ", ".join(row["families"]) + "".join(f" (`--metric {m}`)" for m in row.get("metric", []))
        lines.append(f"| {fitted} | {chosen} | {row['predict_s']:.2f} | "
                     f"{row['over_bare_s']:+.2f} | {_fastest(row)} | {_frozen(row)} | "
                     f"{', '.join(row['imported']) or 'none'} |")
    worst = max(row["over_bare_s"] for row in result["runs"])
    fastest = max((row["over_bare_fastest_s"] for row in result["runs"] if "over_bare_fastest_s" in row), default=None)
    fastest_text = f", of the fastest runs {fastest:+.2f} s" if fastest is not None else ""
    frozen = max((row["over_frozen_s"] for row in result["runs"] if "over_frozen_s" in row), default=None)
    fastest_text += (f", over the bare import exiting as automl does {frozen:+.2f} s (medians)"
                     if frozen is not None else "")
    lines += ["", f"Largest gap over the bare import: {worst:+.2f} s (medians){fastest_text} (target: at most 0.8 s). "
              "The library of the "
              "chosen model is imported (LightGBM, XGBoost, CatBoost: their models are theirs); TensorFlow, "
              "Optuna, the search and the report never are: a network predicts with NumPy from its weights.", ""]
    return "\n".join(lines)


def _frozen(row: dict[str, Any]) -> str:
    return f"{row['over_frozen_s']:+.2f}" if "over_frozen_s" in row else "-"


def _fastest(row: dict[str, Any]) -> str:
    return f"{row['over_bare_fastest_s']:+.2f}" if "over_bare_fastest_s" in row else "-"


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
