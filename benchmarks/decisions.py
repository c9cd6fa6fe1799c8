"""What the decision threshold (F1) and calibration (log loss) do on the shared classification datasets.

Each classification dataset of ../shared/datasets is split once (80 % train / 20 % test, stratified, seed 0, as
``run_datasets.py`` does) and fitted in this process through the API with a fixed, reproducible search
(``--models linear,lightgbm --trials N --folds 5``):

- binary datasets with ``metric="f1"``: the test F1 of the chosen model's labels at 0.5 (the most probable
  class) against its labels at the delivered threshold (tuned on out-of-fold predictions, kept only when it beats
  0.5 on CV), with the threshold and its CV evidence;
- every dataset with ``metric="log_loss"``: the test log loss of the chosen model's raw probabilities against
  the delivered (calibrated, when calibration was kept) ones, with the method and its CV evidence.

The test rows are never seen by the fit; "before" and "after" are the same fitted model with and without the
decision. Usage::

    .venv/bin/python benchmarks/decisions.py --output benchmarks/decisions.md
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_datasets import DATASETS, split

from automl import AutoML
from automl.search.metrics import get_metric, label_score


def codes(model: AutoML, truth: pd.Series) -> np.ndarray:
    classes = [str(c) for c in model.predictor_.classes]
    return truth.astype(str).map({c: i for i, c in enumerate(classes)}).to_numpy()


def raw_and_delivered(model: AutoML, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities in the model's class order: without the calibrator, and as delivered."""
    predictor = model.predictor_
    frame = test.drop(columns=[predictor.schema.target])
    delivered = predictor._scores(frame, "test", None)
    calibrator, predictor.calibrator = predictor.calibrator, None
    try:
        raw = predictor._scores(frame, "test", None)
    finally:
        predictor.calibrator = calibrator
    return raw, delivered


def threshold_row(entry: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame, trials: int,
                  tmp: Path) -> dict[str, Any]:
    model = AutoML(target=entry["target"], metric="f1", models=["linear", "lightgbm"], trials=trials, folds=5,
                   positive_class=entry.get("positive_class"), output=tmp / f"{entry['name']}-f1").fit(train)
    y = codes(model, test[entry["target"]])
    raw, delivered = raw_and_delivered(model, test)
    choice = json.loads((model.run_dir_ / "run.json").read_text(encoding="utf-8"))["decision_threshold"]
    t = model.predictor_.threshold
    return {"dataset": entry["name"], "positives": float(np.mean(y == 1)), "chosen": model.predictor_.model_key,
            "source": choice["source"], "threshold": choice["value"], "cv_f1_at_half": choice["cv_default"],
            "cv_f1_tuned": choice["cv_tuned"],
            "test_f1_at_half": label_score("f1", y, delivered.argmax(axis=1)),
            "test_f1_delivered": label_score("f1", y, (delivered[:, 1] >= t).astype(int) if t is not None
                                             else delivered.argmax(axis=1)),
            "test_f1_raw_argmax": label_score("f1", y, raw.argmax(axis=1))}


def calibration_row(entry: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame, trials: int,
                    tmp: Path) -> dict[str, Any]:
    model = AutoML(target=entry["target"], metric="log_loss", models=["linear", "lightgbm"], trials=trials, folds=5,
                   output=tmp / f"{entry['name']}-ll").fit(train)
    y = codes(model, test[entry["target"]])
    raw, delivered = raw_and_delivered(model, test)
    task = "binary" if raw.shape[1] == 2 else "multiclass"
    log_loss = get_metric("log_loss")
    choice = json.loads((model.run_dir_ / "run.json").read_text(encoding="utf-8"))["calibration"]
    return {"dataset": entry["name"], "classes": raw.shape[1], "chosen": model.predictor_.model_key,
            "method": choice["method"], "applied": choice["applied"], "cv_before": choice["cv_before"],
            "cv_after": choice["cv_after"], "test_log_loss_raw": log_loss(y, raw, task),
            "test_log_loss_delivered": log_loss(y, delivered, task)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/decisions.md"))
    parser.add_argument("--only", nargs="*", help="dataset names (default: every classification dataset)")
    parser.add_argument("--part", choices=("both", "threshold", "calibration"), default="both",
                        help="the decision-threshold rows, the calibration rows, or both (default)")
    args = parser.parse_args()
    manifest = json.loads((DATASETS / "manifest.json").read_text(encoding="utf-8"))
    entries = [e for e in manifest if e["task"] != "regression" and (not args.only or e["name"] in args.only)]
    thresholds, calibrations = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for entry in entries:
            train, test = split(entry)
            if entry["task"] == "binary" and args.part != "calibration":
                thresholds.append(threshold_row(entry, train, test, args.trials, Path(tmp)))
                print(thresholds[-1], flush=True)
            if args.part != "threshold":
                calibrations.append(calibration_row(entry, train, test, args.trials, Path(tmp)))
                print(calibrations[-1], flush=True)
    args.output.with_suffix(".json").write_text(json.dumps({"thresholds": thresholds,
                                                            "calibration": calibrations}, indent=1))
    write(args, thresholds, calibrations)


def write(args: argparse.Namespace, thresholds: list[dict[str, Any]], calibrations: list[dict[str, Any]]) -> None:
    f = "{:.4f}".format
    lines = [
        "# Decision thresholds and calibration on the shared datasets", "",
        f"Written by `benchmarks/decisions.py` (see its docstring): 80/20 split (seed 0), `--models linear,lightgbm "
        f"--trials {args.trials} --folds 5`; test rows never seen by the fit. Machine: {platform.machine()}, "
        f"{platform.python_version()}.", "",
        "## Decision threshold (metric F1, binary datasets)", "",
        "| dataset | positives | chosen | threshold | source | CV F1 at 0.5 | CV F1 tuned | test F1 at 0.5 | "
        "test F1 delivered |", "|---|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in thresholds:
        lines.append(f"| {r['dataset']} | {100 * r['positives']:.1f} % | {r['chosen']} | {r['threshold']:.3f} | "
                     f"{r['source']} | {f(r['cv_f1_at_half'])} | {f(r['cv_f1_tuned'])} | {f(r['test_f1_at_half'])} | "
                     f"{f(r['test_f1_delivered'])} |")
    if thresholds:
        gain = np.mean([r["test_f1_delivered"] - r["test_f1_at_half"] for r in thresholds])
        lines += ["", f"Mean test F1 change from the delivered threshold: {gain:+.4f}."]
    if not calibrations:
        args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    lines += ["", "## Calibration (metric log loss)", "",
              "| dataset | classes | chosen | method kept | CV log loss before | CV after (per method) | "
              "test log loss raw | test log loss delivered |", "|---|---:|---|---|---:|---|---:|---:|"]
    for r in calibrations:
        after = ", ".join(f"{k} {v:.4f}" for k, v in r["cv_after"].items())
        lines.append(f"| {r['dataset']} | {r['classes']} | {r['chosen']} | {r['method'] or 'none'} | "
                     f"{f(r['cv_before'])} | {after} | {f(r['test_log_loss_raw'])} | "
                     f"{f(r['test_log_loss_delivered'])} |")
    if calibrations:
        gain = np.mean([r["test_log_loss_delivered"] - r["test_log_loss_raw"] for r in calibrations])
        lines += ["", f"Mean test log loss change from calibration: {gain:+.4f} (negative is better)."]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
