"""Benchmark `automl fit` on a table with a free-text column: what a short budget finishes, and how well.

None of the shared datasets holds free text, so the table is made here, the same every time (seed 0): a review
of 40-120 words per row, drawn from a Zipf-distributed vocabulary of 4 000 made-up words, with 0-3 sentiment
words that say the label 80 % of the time, beside two numbers that carry no signal; the target is binary (40 %
positive). It measures the cost of the text features in the search (TF-IDF of word and character n-grams for
the linear model, their SVD for the other families: :mod:`automl.data.text`), not the state of the art in
text classification.

Each size is split once (80 % train / 20 % test, stratified, seed 0); ``automl fit`` runs through its CLI in a
subprocess with each budget, then ``automl predict`` on the test rows. ``--code DIR`` runs the code of another
checkout (a git worktree of an older commit) with the same script, for a before/after table.

Usage::

    .venv/bin/python benchmarks/free_text.py --output benchmarks/free_text.md
    .venv/bin/python benchmarks/free_text.py --code /tmp/wt-old --output /tmp/free_text-old.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
POSITIVE = ["excellent", "great", "loved", "perfect", "wonderful", "recommend"]
NEGATIVE = ["terrible", "awful", "broken", "refund", "disappointed", "worst"]


def make_reviews(n: int, seed: int = 0) -> pd.DataFrame:
    """The benchmark's table: ``n`` rows of review (text), two noise numbers and ``liked`` (yes / no)."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "pe", "so", "vi", "da", "ge", "ho", "ju", "ba", "ce", "fo"]
    vocab = np.asarray(["".join(rng.choice(syllables, size=rng.integers(2, 4))) for _ in range(4000)])
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    zipf /= zipf.sum()
    rows = []
    for _ in range(n):
        liked = bool(rng.random() < 0.4)
        words = list(rng.choice(vocab, size=int(rng.integers(40, 121)), p=zipf))
        for _ in range(int(rng.integers(0, 4))):
            says = liked if rng.random() < 0.8 else not liked
            words.insert(int(rng.integers(0, len(words))), str(rng.choice(POSITIVE if says else NEGATIVE)))
        rows.append({"review": " ".join(words), "visits": int(rng.integers(1, 50)),
                     "price": round(float(rng.lognormal(3, 1)), 2), "liked": "yes" if liked else "no"})
    return pd.DataFrame(rows)


def run_one(rows: int, budget: float, code: Path, workdir: Path) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    frame = make_reviews(rows)
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame["liked"])
    train.to_csv(workdir / "train.csv", index=False)
    test.drop(columns="liked").to_csv(workdir / "test.csv", index=False)
    env = {**os.environ, "PYTHONPATH": str(code)}
    cwd = tempfile.gettempdir()  # the working directory comes first on ``python -m``'s path: PYTHONPATH's code runs
    run = workdir / "run"
    rc, wall, rss, text = run_measured([sys.executable, "-m", "automl", "fit", str(workdir / "train.csv"),
                                        "--target", "liked", "--time-limit", str(budget), "--seed", "0",
                                        "--output", str(run), "--overwrite", "--quiet"], env, cwd)
    out: dict[str, Any] = {"rows": rows, "budget_s": budget, "fit_s": round(wall, 1), "peak_mib": round(rss)}
    if rc != 0:
        return {**out, "error": f"fit exit {rc}: {text.strip().splitlines()[-1][:300] if text.strip() else ''}"}
    trials = pd.read_csv(run / "trials.csv")
    finished = trials[trials["status"] == "ok"]
    meta = json.loads((run / "run.json").read_text(encoding="utf-8"))
    rc, _, _, text = run_measured([sys.executable, "-m", "automl", "predict", str(run), str(workdir / "test.csv"),
                                   "--output", str(workdir / "preds.csv"), "--quiet"], env, cwd)
    if rc != 0:
        return {**out, "error": f"predict exit {rc}: {text[-300:]}"}
    preds = pd.read_csv(workdir / "preds.csv")
    return {**out, "trials_finished": len(finished), "families_finished": int(finished["model"].nunique()),
            "chosen": meta.get("best_model"), "test_roc_auc": round(float(roc_auc_score(test["liked"] == "yes",
                                                                                      preds["yes"])), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="3000,10000", help="table sizes, comma-separated")
    parser.add_argument("--budgets", default="30,60", help="time limits in seconds, comma-separated")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose automl runs (default: this one)")
    parser.add_argument("--output", type=Path, required=True, help="Markdown file; a JSON file is written beside it")
    args = parser.parse_args()
    results = []
    for rows in (int(r) for r in args.rows.split(",")):
        for budget in (float(b) for b in args.budgets.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                result = run_one(rows, budget, args.code.resolve(), Path(tmp))
            print(json.dumps(result), flush=True)
            results.append(result)
    commit = subprocess.run(["git", "-C", str(args.code), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    if subprocess.run(["git", "-C", str(args.code), "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        commit += " with uncommitted changes"
    args.output.with_suffix(".json").write_text(json.dumps({"commit": commit, "results": results}, indent=1) + "\n",
                                                encoding="utf-8")
    lines = [f"# Free text at short budgets (code at {commit})", "",
             f"`benchmarks/free_text.py` on {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}. Synthetic reviews (see the script); 80 % train, 20 % test.", "",
             "| rows (train) | budget s | fit wall s | peak MiB | trials finished | families finished | chosen | "
             "test ROC AUC |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {int(r['rows'] * 0.8)} | {r['budget_s']:.0f} | {r['fit_s']} | {r['peak_mib']} | "
                         f"{r['error']} | | | |")
        else:
            lines.append(f"| {int(r['rows'] * 0.8)} | {r['budget_s']:.0f} | {r['fit_s']} | {r['peak_mib']} | "
                         f"{r['trials_finished']} | {r['families_finished']} | {r['chosen']} | {r['test_roc_auc']} |")
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
