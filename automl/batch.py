"""Scheduled batch runs (``automl run RECIPE``) and batch scoring (``automl predict RUN_DIR 'in/*.csv' ...``).

A batch run writes ``<output_root>/<recipe name>/<timestamp>/`` and, once it is complete, points
``<output_root>/<recipe name>/latest`` at it (a symlink replaced atomically). Running the recipe again after a
crash resumes the unfinished run of the same data instead of starting over. Each run is compared with the
previous complete run of the recipe (:mod:`automl.compare`); the comparison goes into ``run.json`` and the report,
and :class:`automl.errors.ScoreDropError` (exit 5) is raised when the score dropped past the recipe's
``alert_threshold`` (after everything is saved).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from automl.errors import AutoMLError, ConfigError, ScoreDropError, format_score
from automl.recipes import BatchSpec, Recipe
from automl.results import RUN_FILE, RunFolder, RunRecord, read_json, unused_folder

log = logging.getLogger(__name__)

LATEST = "latest"


@dataclass
class BatchResult:
    """What a batch run did."""

    run_dir: Path
    resumed: bool
    comparison: dict[str, Any] | None


def run_recipe(recipe: Recipe, command: str | None = None, on_trial: Any = None, **explicit: Any) -> BatchResult:
    """Run the batch recipe ``recipe`` once (see the module docstring). ``explicit`` options override it."""
    spec = batch_spec(recipe)
    data = newest_input(spec.input)
    root = spec.output_root / recipe.name
    with RunFolder(root).locked(command):  # one batch run of a recipe at a time (exit 4 for a second one)
        return _run_locked(recipe, spec, data, root, command, on_trial, explicit)


def _run_locked(recipe: Recipe, spec: BatchSpec, data: Path, root: Path, command: str | None, on_trial: Any,
                explicit: dict[str, Any]) -> BatchResult:
    from automl.data.io import file_sha256
    from automl.fit import resume_fit, run_fit

    sha = file_sha256(data)
    previous = _latest(root)
    unfinished = _unfinished(root, sha)
    compared: list[dict[str, Any]] = []

    def before_report(run_dir: Path) -> dict[str, Any] | None:  # the comparison is in the report, rendered once
        if previous is None or previous.resolve() == run_dir.resolve():
            return None
        try:
            comparison = _compare(previous, run_dir)
        except Exception as e:  # the run itself stands; its report just lacks the comparison
            log.error("Could not compare with the previous run %s (%s: %s).", previous, type(e).__name__, e)
            return None
        if comparison is None:
            return None
        compared.append(comparison)
        return {"comparison": comparison}

    if unfinished is not None:
        log.info("Resuming the unfinished run %s of the same data (%s).", unfinished, data)
        run_dir = resume_fit(unfinished, command=command, on_trial=on_trial, before_report=before_report).run_dir
    else:
        output = _new_run_folder(root)
        config = recipe.config(output=output, **explicit)
        log.info("Batch run of recipe %s on %s into %s.", recipe.name, data, output)
        run_dir = run_fit(config, data, command=command, on_trial=on_trial, before_report=before_report).run_dir
    comparison = compared[0] if compared else None
    _point_latest(root, run_dir)
    _prune(root, spec.keep_runs, keep=run_dir)
    drop = (comparison or {}).get("score", {}).get("drop")
    if spec.alert_threshold is not None and drop is not None and drop > spec.alert_threshold:
        raise ScoreDropError(
            f"The CV score dropped by {drop:.4g} against the previous run {previous} "
            f"(threshold {spec.alert_threshold:g} in {recipe.path}); everything is saved in {run_dir}, "
            "and the report's comparison section shows the schema changes and drift."
        )
    return BatchResult(run_dir, unfinished is not None, comparison)


def batch_spec(recipe: Recipe) -> BatchSpec:
    if recipe.batch is None:
        raise ConfigError(f"Recipe {recipe.name} ({recipe.path}) has no [batch] section, so `automl run` does not "
                          f"know its data. Use it with `automl fit DATA --recipe {recipe.name}`, or add [batch] "
                          "with input = 'path or glob'.")
    return recipe.batch


def newest_input(pattern: str) -> Path:
    """The file ``pattern`` names, or the most recently modified file matching the glob."""
    matches = [Path(p) for p in glob.glob(pattern) if Path(p).is_file()]
    if not matches:
        raise ConfigError(f"No input file matches {pattern!r} (from the folder {Path.cwd()}). Check [batch] input "
                          "in the recipe.")
    newest = max(matches, key=lambda p: (p.stat().st_mtime, p.name))
    if len(matches) > 1:
        log.info("%d files match %r; using the newest, %s.", len(matches), pattern, newest)
    return newest


def _new_run_folder(root: Path) -> Path:
    """``root/<timestamp>``; a second run within the same second gets ``-2``, ``-3``, ..."""
    return unused_folder(root, datetime.now().strftime("%Y%m%d-%H%M%S"))


def _runs(root: Path) -> list[Path]:
    """Run folders under ``root``, oldest first (their names are timestamps)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and (p / RUN_FILE).is_file())


def _complete_runs(root: Path) -> list[Path]:
    return [p for p in _runs(root) if RunRecord.from_dict(read_json(p / RUN_FILE)).status == "complete"]


def _latest(root: Path) -> Path | None:
    link = root / LATEST
    if link.is_symlink() and link.resolve().is_dir():
        return root / os.readlink(link)
    complete = _complete_runs(root)
    return complete[-1] if complete else None


def _unfinished(root: Path, sha: str | None) -> Path | None:
    """The newest run that did not complete on the same data (stopped or failed): it is resumed."""
    for run in reversed(_runs(root)):
        record = RunRecord.from_dict(read_json(run / RUN_FILE))
        if record.status == "complete":
            return None  # only a run newer than the last complete one is resumed
        if sha and record.data and record.data.sha256 == sha and record.config:
            return run
    return None


def _compare(previous: Path, run_dir: Path) -> dict[str, Any] | None:
    """Compare with the previous run; a comparison that fails is logged, the run itself stands."""
    from automl.compare import compare

    try:
        comparison = compare(previous, run_dir)
    except AutoMLError as e:
        log.warning("Could not compare with the previous run %s: %s", previous, e)
        return None
    score = comparison["score"]
    if score["drop"] is not None:
        log.info("Against the previous run: CV %s %s -> %s (drop %+.4g); %d column(s) drifted.", score["metric"],
                 _fmt(score["previous"]), _fmt(score["current"]), score["drop"],
                 sum(d["level"] != "stable" for d in comparison["drift"]))
    changes = _schema_text(comparison["schema"])
    if changes:
        log.warning("Against the previous run the table changed: %s.", changes)
    return comparison


def _schema_text(schema: dict[str, Any]) -> str:
    """The columns added, removed or of another kind, and a changed task, in words ("" if none)."""
    from automl.errors import format_values

    parts = []
    if schema.get("added"):
        parts.append(f"new column(s) {format_values(schema['added'])}")
    if schema.get("removed"):
        parts.append(f"column(s) {format_values(schema['removed'])} gone")
    kinds = schema.get("kind_changed", [])
    for change in kinds[:5]:
        parts.append(f"{change['column']!r} now {change['current']} (was {change['previous']})")
    if len(kinds) > 5:
        parts.append(f"{len(kinds) - 5} more column(s) of another kind")
    if schema.get("task_changed"):
        parts.append("the task changed")
    return "; ".join(parts)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else format_score(value)


def _point_latest(root: Path, run_dir: Path) -> None:
    """Point ``root/latest`` at ``run_dir`` atomically (a new symlink renamed over the old one)."""
    tmp = root / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, root / LATEST)


def _prune(root: Path, keep_runs: int, keep: Path) -> None:
    """Remove the oldest complete runs beyond ``keep_runs`` (never ``keep``, never an unfinished run)."""
    complete = _complete_runs(root)
    for old in complete[: max(len(complete) - keep_runs, 0)]:
        if old.resolve() == keep.resolve():
            continue
        log.info("Removing the old run %s (keep_runs = %d).", old, keep_runs)
        shutil.rmtree(old, ignore_errors=True)


DATA_SUFFIXES = (".csv.gz", ".csv", ".parquet", ".pq", ".gz")


def output_names(files: list[Path]) -> dict[Path, str]:
    """The CSV name each input is scored into: its name with the data suffix replaced by ``.csv`` (``a.csv.gz``
    → ``a.csv``); where two inputs would share one, the whole input name plus ``.csv`` (``a.parquet.csv``),
    then its folder's name in front (``d1_a.csv.csv``), then a counter: never one output for two inputs."""
    def short(path: Path) -> str:
        lower = path.name.lower()
        suffix = next((s for s in DATA_SUFFIXES if lower.endswith(s)), "")
        return f"{path.name[:len(path.name) - len(suffix)] or path.name}.csv"

    names: dict[Path, str] = {}
    used: set[str] = set()
    for candidates in ([short(p) for p in files], [f"{p.name}.csv" for p in files],
                       [f"{p.parent.name}_{p.name}.csv" for p in files]):
        counts: dict[str, int] = {}
        for path, name in zip(files, candidates, strict=True):
            if path not in names:
                counts[name.lower()] = counts.get(name.lower(), 0) + 1
        for path, name in zip(files, candidates, strict=True):
            if path not in names and counts[name.lower()] == 1 and name.lower() not in used:
                names[path] = name
                used.add(name.lower())
    for path in files:  # same folder name and file name: number them
        if path not in names:
            stem, i = f"{path.parent.name}_{path.name}", 2
            while f"{stem}-{i}.csv".lower() in used:
                i += 1
            names[path] = f"{stem}-{i}.csv"
            used.add(names[path].lower())
    return {path: names[path] for path in files}


def score_files(run_dir: Path, pattern: str, output_dir: Path, model: str | None = None,
                sep: str | None = None, na_values: tuple[str, ...] = ()) -> tuple[int, list[str]]:
    """Score every file matching ``pattern`` with the run's model into ``output_dir/<name>.csv``.

    A file that cannot be scored is reported and skipped; the others are scored. ``sep``: the files' CSV
    delimiter (default: the one given at fit, else chosen from each file). Returns how many were written and
    the problems.
    """
    from automl.results import load_model, write_csv

    files = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
    if not files:
        raise ConfigError(f"No input file matches {pattern!r}.")
    predictor = load_model(run_dir)
    predictor.pipeline_for(model)  # an unknown model is refused before any file is read
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"Cannot create the output folder {output_dir}: {e.strerror or e}. "
                          "Choose another --output-dir.") from e
    written, problems = 0, []
    names = output_names(files)
    for path in files:
        target = output_dir / names[path]
        try:
            frame, info = predictor.read(path, sep, na_values)
            preds = predictor.predict_frame(frame, where=info.name, model=model)
        except AutoMLError as e:
            problems.append(f"{path}: {e}")
            log.error("Skipped %s: %s", path, e)
            continue
        write_csv(preds, target)
        written += 1
        log.info("Scored %s: %d rows -> %s.", path, len(preds), target)
    return written, problems
