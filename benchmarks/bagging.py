"""The network delivered as its k fold models (k-fold bagging) against refitted on all rows, paired.

For each dataset of ../shared/datasets (the 80/20 split of ``run_datasets.py``), one network-alone search
(``models=("keras_mlp",)``, the budget given) runs through the API; its best network is then both the mean of its
fold models (what the fit delivers) and refitted on all training rows for the mean early-stopping epoch (what it
delivered before), and both are scored on the test rows, so the search's noise does not enter the comparison.
The average of the two is scored too. Usage::

    .venv/bin/python benchmarks/bagging.py --budget 60 --output benchmarks/bagging.md
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import automl.fit.finishing as fitting
from automl import AutoML
from automl.search.evaluate import predict_scores
from automl.search.metrics import get_metric

sys.path.insert(0, str(Path(__file__).parent))
from run_datasets import DATASETS, split

_seen: dict[str, Any] = {}
_refit = fitting.refit


def _spy(chosen: Any, families: Any, ctx: Any, X: Any, y: Any, bagged: Any = ()) -> Any:
    """The fit's own refit step, recording what it was given (to refit the same network afterwards)."""
    _seen.update(chosen=chosen, families=families, ctx=ctx, X=X, y=y)
    return _refit(chosen, families, ctx, X, y, bagged)


def measure(entry: dict[str, Any], budget: float, folder: Path) -> dict[str, Any]:
    train, test = split(entry)
    model = AutoML(target=entry["target"], metric=entry["metric"], time_limit=budget, models=("keras_mlp",),
                   seed=0, output=str(folder / entry["name"]), overwrite=True).fit(train)
    schema, seen = model.predictor_.schema, dict(_seen)
    bag = model.predictor_.pipeline_for(None)
    started = time.monotonic()
    refitted = _refit(seen["chosen"], seen["families"], seen["ctx"], seen["X"], seen["y"], ())
    refit_seconds = time.monotonic() - started
    X = schema.transform(test.drop(columns=[entry["target"]]))
    y = schema.encode_target(test[entry["target"]])
    n_classes, metric = len(schema.classes or []), get_metric(schema.metric)
    p_bag = predict_scores(bag, X, schema.task, n_classes)
    p_refit = predict_scores(refitted, X, schema.task, n_classes)
    return {"dataset": entry["name"], "metric": metric.name, "greater_is_better": metric.greater_is_better,
            "cv": seen["chosen"].mean, "bagged": metric(y, p_bag, schema.task),
            "refitted": metric(y, p_refit, schema.task),
            "average": metric(y, (p_bag + p_refit) / 2, schema.task), "folds": len(bag),
            "refit_seconds": round(refit_seconds, 1), "trials": seen["chosen"].trials_run}


def write(rows: list[dict[str, Any]], budget: float, output: Path) -> None:
    lines = [f"# The network: k fold models (bagged) against a refit on all rows, same search ({budget:.0f} s)", "",
             f"Machine: {platform.machine()}, Python {platform.python_version()}; `benchmarks/bagging.py "
             f"--budget {budget:.0f}`. Test scores on the 80/20 split of `run_datasets.py`.", "",
             "| dataset | metric | CV (best network) | bagged | refitted | average of both | bagged better by "
             "| trials |",
             "|---|---|---|---|---|---|---|---|"]
    gains = []
    for r in rows:
        sign = 1 if r["greater_is_better"] else -1
        gains.append(100 * sign * (r["bagged"] - r["refitted"]) / abs(r["refitted"]))
        lines.append(f"| {r['dataset']} | {r['metric']} | {r['cv']:.4f} | {r['bagged']:.4f} | {r['refitted']:.4f} "
                     f"| {r['average']:.4f} | {gains[-1]:+.2f} % | {r['trials']} |")
    lines += ["", f"Bagged better by (relative test score, positive = bagged better): mean {np.mean(gains):+.2f} %, "
              f"median {np.median(gains):+.2f} %; bagged better on {sum(g > 0 for g in gains)} of {len(gains)}."]
    output.write_text("\n".join(lines) + "\n")
    output.with_suffix(".json").write_text(json.dumps(rows, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "bagging.md")
    parser.add_argument("--only", nargs="*", help="dataset names to run (default: all)")
    parser.add_argument("--runs", type=Path, default=Path("/tmp/automl-bagging"), help="run folders go here")
    parser.add_argument("--rewrite", action="store_true", help="only rewrite the table from the JSON beside it")
    args = parser.parse_args()
    if args.rewrite:
        write(json.loads(args.output.with_suffix(".json").read_text()), args.budget, args.output)
        return
    fitting.refit = _spy
    rows = []
    for entry in json.loads((DATASETS / "manifest.json").read_text()):
        if args.only and entry["name"] not in args.only:
            continue
        rows.append(measure(entry, args.budget, args.runs))
        write(rows, args.budget, args.output)  # after every dataset: a stopped run keeps what it measured
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
