"""A run against the previous run of the same recipe: score change, schema changes and data drift.

Everything is computed from the two run folders' saved files (``run.json`` and ``profile.json``), so a batch job
needs neither data set again. Drift per column is the population stability index (PSI) between the two
profiles: numeric columns are compared on the previous run's histogram bins merged into about ten groups of
similar mass (the current histogram is spread evenly within its own bins to get there), categorical columns on
their most frequent levels plus "other" and "missing". The usual reading: below 0.1 stable, 0.1 to 0.25 a
moderate shift, above 0.25 a major shift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from automl.results import PROFILE_FILE, RunRecord, read_record
from automl.results import leaderboard as lb

MODERATE, MAJOR = 0.1, 0.25
GROUPS = 10  # numeric columns are compared on about 10 bins of similar mass
EPS = 1e-4


def compare(previous: Path, current: Path) -> dict[str, Any]:
    """The comparison of the run in ``current`` with the complete run in ``previous`` (JSON-ready)."""
    prev_run, cur_run = read_record(previous), read_record(current)
    prev_prof, cur_prof = _profile(previous), _profile(current)
    return {
        "previous_run": str(previous), "previous_finished": prev_run.finished,
        "score": score_change(prev_run, cur_run),
        "schema": schema_changes(prev_run, cur_run),
        "rows": {"previous": prev_prof.get("rows"), "current": cur_prof.get("rows")},
        "drift": drift(prev_prof, cur_prof),
    }


def score_change(prev: RunRecord, cur: RunRecord) -> dict[str, Any]:
    """The chosen model's CV score in each run and the drop (positive = worse now, whatever the metric)."""
    def best(run: RunRecord) -> float | None:
        rows = [r for r in run.leaderboard if r.get(lb.MODEL) == run.best_model]
        return rows[0].get(lb.score_column(str(run.metric))) if rows else None

    p, c = best(prev), best(cur)
    out: dict[str, Any] = {"metric": cur.metric, "previous": p, "current": c, "drop": None,
                           "same_metric": prev.metric == cur.metric}
    if p is not None and c is not None and out["same_metric"]:
        out["drop"] = (p - c) if cur.greater_is_better else (c - p)
    return out


def schema_changes(prev: RunRecord, cur: RunRecord) -> dict[str, Any]:
    """Columns added, removed, or whose kind changed (numeric, categorical, ...), and a changed task."""
    def columns(run: RunRecord) -> dict[str, str]:
        return {c.name: c.kind for c in (run.data.columns if run.data else [])}

    p, c = columns(prev), columns(cur)
    return {
        "added": sorted(set(c) - set(p)), "removed": sorted(set(p) - set(c)),
        "kind_changed": [{"column": n, "previous": p[n], "current": c[n]} for n in sorted(set(p) & set(c))
                         if p[n] != c[n]],
        "task_changed": prev.task != cur.task,
    }


def drift(prev: dict[str, Any], cur: dict[str, Any]) -> list[dict[str, Any]]:
    """PSI per column present in both profiles, largest first."""
    prev_cols = {c["name"]: c for c in prev.get("columns", [])}
    out = []
    for col in cur.get("columns", []):
        old = prev_cols.get(col["name"])
        if old is None or old.get("kind") != col.get("kind"):
            continue
        if "hist_edges" in old and "hist_edges" in col:
            psi = _psi(*_numeric_shares(old, col))
        elif "top_levels" in old and "top_levels" in col:
            psi = _psi(*_level_shares(old, col, prev.get("rows", 0), cur.get("rows", 0)))
        else:
            continue
        out.append({"column": col["name"], "psi": round(psi, 4), "level": level(psi),
                    "missing_previous": old.get("missing_share"), "missing_current": col.get("missing_share")})
    return sorted(out, key=lambda d: -d["psi"])


def level(psi: float) -> str:
    return "major" if psi > MAJOR else "moderate" if psi > MODERATE else "stable"


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.clip(p, EPS, None), np.clip(q, EPS, None)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((q - p) * np.log(q / p)))


def _numeric_shares(old: dict[str, Any], new: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Shares of the previous bins (plus a bin below and one above) in both runs, missing values included."""
    edges, counts_old = _coarsen(np.asarray(old["hist_edges"], dtype=float),
                                 np.asarray(old["hist_counts"], dtype=float))
    p = np.concatenate([[0.0], counts_old, [0.0]])
    cdf_x = np.asarray(new["hist_edges"], dtype=float)
    counts = np.asarray(new["hist_counts"], dtype=float)
    cdf_y = np.concatenate([[0.0], np.cumsum(counts)])
    if len(cdf_x) == 2 and cdf_x[0] == cdf_x[1]:  # a constant column: its histogram is one point
        cdf_x = np.array([cdf_x[0] - 1e-9, cdf_x[1]])
    at = np.interp(edges, cdf_x, cdf_y, left=0.0, right=cdf_y[-1])
    q = np.concatenate([[at[0]], np.diff(at), [cdf_y[-1] - at[-1]]])
    p, q = p / max(p.sum(), 1), q / max(q.sum(), 1)
    return _with_missing(p, old), _with_missing(q, new)


def _coarsen(edges: np.ndarray, counts: np.ndarray, target: int = GROUPS) -> tuple[np.ndarray, np.ndarray]:
    """Merge neighbouring histogram bins into about ``target`` groups of similar mass (as deciles would be):
    fewer, fuller bins keep the PSI of two samples of one distribution near zero."""
    total = counts.sum()
    if total <= 0:
        return edges, counts
    keep, merged, acc = [0], [], 0.0
    for i, c in enumerate(counts):
        acc += c
        if acc >= total / target or i == len(counts) - 1:
            keep.append(i + 1)
            merged.append(acc)
            acc = 0.0
    return edges[keep], np.asarray(merged)


def _level_shares(old: dict[str, Any], new: dict[str, Any], old_rows: int,
                  new_rows: int) -> tuple[np.ndarray, np.ndarray]:
    levels = [k for k, _ in old["top_levels"]]
    a, b = dict(old["top_levels"]), dict(new["top_levels"])
    p = np.array([a.get(k, 0) for k in levels] + [0.0], dtype=float)
    q = np.array([b.get(k, 0) for k in levels] + [0.0], dtype=float)
    p[-1] = max(old_rows - old.get("missing", 0) - p.sum(), 0)
    q[-1] = max(new_rows - new.get("missing", 0) - q.sum(), 0)  # "other": rarer levels and unseen ones
    p, q = p / max(p.sum(), 1), q / max(q.sum(), 1)
    return _with_missing(p, old), _with_missing(q, new)


def _with_missing(shares: np.ndarray, col: dict[str, Any]) -> np.ndarray:
    missing = float(col.get("missing_share") or 0.0)
    return np.concatenate([shares * (1 - missing), [missing]])


def _profile(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / PROFILE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
