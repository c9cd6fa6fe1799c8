"""What a fit records besides its models: permutation importance, the report, pipeline summaries, latency,
library versions and the data's description (each written into the run folder by :mod:`automl.fit`)."""

from __future__ import annotations

import logging
import platform
import time
from typing import Any

import pandas as pd

from automl import threads
from automl.config import FitConfig
from automl.data.io import TableSource
from automl.data.preprocess import build_preprocessor, describe, summarize
from automl.data.schema import Schema
from automl.data.text import TEXT_COMPONENTS
from automl.ensembles.model import EnsembleModel
from automl.fit.importance import UndefinedScore, permutation_importance
from automl.results import IMPORTANCE_FILE, LOG_FILE, REPORT_FILE, ColumnRecord, DataRecord, RunFolder
from automl.results.records import LeaderboardRow
from automl.search.evaluate import Context, predict_scores
from automl.version import __version__

log = logging.getLogger(__name__)

REPORT_SECONDS = 3.0  # kept for rendering the report at the end of the budget
LATENCY_ROWS = 250  # rows the prediction latency is measured on


def importance(folder: RunFolder, model: Any, X: pd.DataFrame, y: Any, schema: Schema, metric: Any,
                config: FitConfig, deadline: float | None, latency: float | None = None,
               sample_weight: Any = None) -> None:
    """Permutation importance of the final model in what is left of the budget (its report section);
    ``latency``: the model's seconds per 1000 rows, to skip it without a first, costly scoring."""
    seconds = None if deadline is None else deadline - time.monotonic() - REPORT_SECONDS
    try:
        with threads.limited():
            frame = permutation_importance(model, X, y, schema, metric, config.seed, seconds, latency,
                                           sample_weight)
    except UndefinedScore as e:
        log.info("Permutation importance skipped: %s", e)
        return
    if frame is not None:
        folder.write_text(IMPORTANCE_FILE, frame.to_csv(index=False))


def report(folder: RunFolder) -> None:
    """Render report.html. A report that fails is logged; the fitted model and results are kept."""
    from automl.report import render

    try:
        folder.files.add(REPORT_FILE)
        folder.update()
        render(folder.path)
    except Exception as e:
        log.error("The report could not be rendered (%s: %s); the model and results are saved. Details are in "
                  "%s; `automl report %s` retries.", type(e).__name__, e, folder.path / LOG_FILE, folder.path)
        log.debug("Report failure", exc_info=True)


def pipelines(specs: Any, ctx: Context, X: pd.DataFrame, y: Any) -> dict[str, Any]:
    """Each preprocessing pipeline of the run: its families, its steps in words, and in numbers (fitted on the
    search rows)."""
    out: dict[str, Any] = {}
    text = bool(ctx.schema.prepared_columns("text"))
    for spec in specs:
        entry = out.setdefault(spec.preprocessing,
                               {"families": [], "steps": describe(spec.preprocessing, ctx.preprocess, text)})
        entry["families"].append(spec.key)
    for kind, entry in out.items():
        try:
            prep = build_preprocessor(kind, ctx.schema, ctx.preprocess)
            # without the free-text steps: TF-IDF again for every pipeline took 20-40 s of a 30 s budget on
            # 3 000 reviews; the numbers come from the other steps, the text part is said in words
            prep.set_params(transformers=[t for t in prep.transformers if not str(t[0]).startswith("text")])
            summary = entry["summary"] = summarize(prep.fit(X, y), ctx.schema)
            if text:
                n_text, width = len(ctx.schema.prepared_columns("text")), summary["output_columns"]
                summary["output_columns"] = (f"{width} + the TF-IDF of {n_text} text column(s)" if kind == "dense"
                                             else width + TEXT_COMPONENTS * n_text)
                summary["text_features"] = text_width(kind, ctx.schema)
        except Exception as e:  # a summary is nice to have; the run does not depend on it
            log.debug("Could not summarise the %s pipeline: %s", kind, e)
    return out


def text_width(kind: str, schema: Any) -> str:
    """What each free-text column becomes in a pipeline of ``kind`` (learnt in each fold: not fitted here)."""
    from automl.data.text import CHAR_FEATURES, WORD_FEATURES

    width = (f"its TF-IDF (up to {WORD_FEATURES + CHAR_FEATURES} word and character n-grams)" if kind == "dense"
             else f"{TEXT_COMPONENTS} columns (SVD of its TF-IDF)")
    names = [schema.original_names().get(c, c) for c in schema.prepared_columns("text")]
    return "; ".join(f"{n}: {width}, learnt in each fold" for n in names)


def latency(model: Any, X: pd.DataFrame, schema: Schema) -> float:
    """Seconds to predict 1000 rows with the final model, measured on up to ``LATENCY_ROWS`` training rows (a
    large bagged model takes seconds per 1000 rows: the measurement must not eat the budget)."""
    rows = X.iloc[: min(len(X), LATENCY_ROWS)]
    tick = time.monotonic()
    with threads.limited():
        predict_scores(model, rows, schema.task, len(schema.classes or []))
    return (time.monotonic() - tick) / max(len(rows), 1) * 1000


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"automl": __version__, "python": platform.python_version()}
    for dist in ("scikit-learn", "lightgbm", "xgboost-cpu", "catboost", "tensorflow-cpu", "keras", "optuna",
                 "pandas", "numpy"):
        try:
            out[dist.removesuffix("-cpu")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def preprocessing(model: Any, chosen: LeaderboardRow, schema: Schema) -> dict[str, Any]:
    pipelines = model.members if isinstance(model, EnsembleModel) else [model]
    keys = chosen.members or [chosen.key]
    out = {key: summarize(p.named_steps["prep"], schema) for key, p in zip(keys, pipelines, strict=True)}
    for key, summary in out.items():
        if summary.get("clipped_values"):
            changed = list(summary["clipped_values"].items())
            log.info("%s: outlier clipping changed %s%s.", key, ", ".join(f"{k}: {v}" for k, v in changed[:10]),
                     f" and {len(changed) - 10} more columns" if len(changed) > 10 else "")
    return out


def data_record(info: TableSource, frame: pd.DataFrame, schema: Schema) -> DataRecord:
    """What ``run.json`` says of the table a run was fitted on."""
    return DataRecord(
        source=info.describe(), path=info.path, sha256=info.sha256, rows=len(frame),
        rows_missing_target=schema.n_missing_target, target=schema.target, classes=schema.classes,
        class_counts=schema.class_counts, positive_class=schema.positive_class,
        columns=[ColumnRecord(c.name, c.kind, c.reason, c.n_missing, c.n_unique, c.dtype) for c in schema.columns],
    )
