"""The report's sections, in CRISP-DM order, as plain data for the template (figures as SVG strings).

Each ``*_section`` function takes the :class:`RunData` and returns a dict; nothing here writes HTML markup
except matplotlib's SVG, and every user-supplied string reaches the page through the template's autoescaping.
"""

from __future__ import annotations

import json
import logging
import shlex
from typing import Any

import numpy as np
import pandas as pd

from automl.config import RANKED_AT_TUNED_THRESHOLD, THRESHOLD_METRICS
from automl.report import figures
from automl.report.rundata import RunData
from automl.report.stats import SideBudget, budget_verdict, compare, is_provisional, verdict
from automl.results import ConstantPredictor, DataRecord
from automl.results import leaderboard as lb

log = logging.getLogger(__name__)

MAX_HISTOGRAMS = 24
MAX_TABLE_ROWS = 100  # per-column tables of wide data: the first rows, then a note (profile.json keeps all)
MAX_LISTED = 30  # names in one sentence or bar chart
METRIC_WHY = {
    "roc_auc": "ROC AUC measures how well the model ranks positives above negatives, whatever the threshold; "
               "it is not fooled by class imbalance.",
    "log_loss": "Log loss scores the predicted probabilities themselves, so it rewards a model that is both "
                "right and honest about its confidence, over every class.",
    "accuracy": "Accuracy is the share of rows classified correctly.",
    "f1": "F1 balances precision and recall of the positive class (macro-averaged over classes for multiclass).",
    "precision": "Precision is the share of predicted positives that are real positives.",
    "recall": "Recall is the share of real positives that the model finds.",
    "balanced_accuracy": "Balanced accuracy is the mean of the recall of each class, so a rare class counts as "
                         "much as a common one.",
    "rmse": "RMSE is the typical size of an error, in the target's units, with large errors weighing more.",
    "mse": "MSE is the mean squared error; large errors weigh heavily.",
    "mae": "MAE is the mean absolute error, in the target's units; every error counts in proportion to its size.",
    "r2": "R² is the share of the target's variance the model explains (1 is perfect, 0 is predicting the mean).",
}
KIND_NAMES = {"neural net": "neural net", "boosting": "tree ensemble (boosting)",
              "bagging": "tree ensemble (bagging)", "linear": "linear model", "stacking": "stacking",
              "ensemble": "greedy ensemble"}
TREE_KINDS = ("boosting", "bagging")
ENSEMBLE_KINDS = ("ensemble", "stacking")  # leaderboard rows combining other rows
SIDES = {"neural nets": ("neural net",), "tree ensembles": TREE_KINDS}  # the two sides of the evaluation
EVEN_RECIPE = "nn-vs-ensembles"  # the shipped recipe that gives both sides the same budget


def business_section(run: RunData) -> dict[str, Any]:
    record, config = run.record, run.config
    budget = (f"{config.trials} trials per model family (reproducible)" if config.trials
              else f"{config.time_limit:.0f} s")
    data = record.data or DataRecord(target=config.target)
    why = METRIC_WHY.get(run.metric, "")
    if config.metric is None:
        why += f" It is automl's default metric for {record.task} tasks; --metric chooses another."
    return {
        "facts": [
            ("Task", f"{record.task} — {record.task_reason or ''}"),
            ("Target", data.target),
            ("Metric", f"{run.metric} ({'higher' if run.greater_is_better else 'lower'} is better)"),
            ("Why this metric", why),
            ("Budget", budget),
            ("Time used", _time_used(record)),
            ("Data", data.source),
            ("Data SHA-256", (data.sha256 + (" (of the DataFrame's values)" if data.path is None else ""))
             if data.sha256 else "n/a"),
            ("Started / finished", f"{record.started or ''} / {record.finished or ''}"),
            ("Seed", config.seed),
            ("Versions", ", ".join(f"{k} {v}" for k, v in record.versions.items())
             or f"automl {record.automl_version}, Python {record.python}"),
        ],
    }


def data_section(run: RunData) -> dict[str, Any]:
    prof = run.profile
    columns = prof.get("columns", [])
    numeric = [c for c in columns if c.get("hist_counts")]
    missing = [c for c in columns if c.get("missing")]
    target = prof.get("target", {})
    out: dict[str, Any] = {
        "rows": prof.get("rows"), "input_columns": prof.get("input_columns"), "features": prof.get("features"),
        "duplicates": prof.get("duplicate_rows"), "rows_missing_target": prof.get("rows_missing_target"),
        "columns": columns[:MAX_TABLE_ROWS], "dropped": prof.get("dropped", [])[:MAX_TABLE_ROWS], "target": target,
        "columns_note": _more(len(columns), MAX_TABLE_ROWS, "columns"),
        "dropped_note": _more(len(prof.get("dropped", [])), MAX_TABLE_ROWS, "dropped columns"),
        "histograms": figures.histograms(numeric[:MAX_HISTOGRAMS]) if numeric else None,
        "histograms_note": (f"The first {MAX_HISTOGRAMS} of {len(numeric)} numeric columns."
                            if len(numeric) > MAX_HISTOGRAMS else ""),
        "missing_plot": _missing_plot(missing),
        "skewed": _listed([c["name"] for c in numeric if abs(c.get("skew", 0)) > 1]),
        "datetimes": [c for c in columns if c.get("kind") == "datetime" and c.get("reason")][:MAX_LISTED],
        "text_columns": [c for c in columns if c.get("kind") == "text" and "mean_words" in c][:MAX_LISTED],
    }
    if target.get("classes"):
        out["target_plot"] = figures.bars(target["classes"], target["class_counts"], "Class balance", "rows",
                                          "target")
        counts = np.asarray(target["class_counts"], dtype=float)
        out["imbalance"] = float(counts.max() / max(counts.min(), 1))
    elif target.get("hist_counts"):
        out["target_plot"] = figures.histograms([{**target, "name": target["name"]}], "target", per_row=1)
    return out


def _more(n: int, shown: int, what: str) -> str:
    return f"The first {shown} of {n:,} {what}; profile.json in the run folder lists them all." if n > shown else ""


def _listed(names: list[str], limit: int = MAX_LISTED) -> list[str]:
    """At most ``limit`` names, the last entry saying how many more there are."""
    return names if len(names) <= limit else [*names[:limit], f"and {len(names) - limit:,} more"]


def _missing_plot(missing: list[dict[str, Any]]) -> str | None:
    if not missing:
        return None
    top = sorted(missing, key=lambda c: -c["missing_share"])[:MAX_LISTED]
    title = "Missing values per column" + (f" (the {MAX_LISTED} of {len(missing):,} with most)"
                                           if len(missing) > MAX_LISTED else "")
    return figures.bars([c["name"] for c in top], [100 * c["missing_share"] for c in top], title, "% of rows",
                        "missing")


def _short_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A pipeline's summary with long lists and mappings cut to ``MAX_LISTED`` entries (wide data)."""
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, dict) and len(value) > MAX_LISTED:
            out[key] = {**dict(list(value.items())[:MAX_LISTED]), "…": f"{len(value) - MAX_LISTED:,} more"}
        elif isinstance(value, list):
            out[key] = _listed([str(v) for v in value])
        else:
            out[key] = value
    return out


def preparation_section(run: RunData) -> dict[str, Any]:
    record = run.record
    pipelines = []
    for name, info in record.preprocessing_pipelines.items():
        pipelines.append({"name": name, "families": info.get("families", []),
                          "steps": info.get("steps", []), "summary": _short_summary(info.get("summary", {}))})
    rows, search_rows = record.data.rows if record.data else 0, record.search_rows or 0
    repeats = record.cv_repeats
    cv = (f"{record.folds}-fold {'stratified ' if record.task != 'regression' else ''}"
          f"{'group ' if record.cv_groups else ''}cross-validation")
    if record.time_folds:
        gap = f", leaving {run.config.time_gap} rows out between them" if run.config.time_gap else ""
        cv = (f"{record.folds} forward-chaining folds in time by {run.config.time_column!r}: each trains on every row "
              f"before its validation period{gap} and validates on that period only, so the scores estimate the error "
              "on the future; the earliest period is only trained on. The final model was refitted on all rows")
    if record.cv_groups:
        cv += (f" by {run.config.group_column!r} ({record.cv_groups:,} groups): the rows of a group are never on "
               "both sides of a fold, so the scores estimate the error on new groups")
    if repeats and repeats > 1:
        cv += f", repeated {repeats} times with new shuffles"
    bagged = record.models_bagged
    kinds = dict(zip(run.leaderboard[lb.MODEL], run.leaderboard[lb.KIND], strict=True))
    singles = [m for m in record.models_refitted or [record.best_model] if kinds.get(m) not in ENSEMBLE_KINDS]
    refitted = [m for m in singles if m not in bagged]
    sampling = (f"The search ran on a stratified sample of {search_rows:,} of {rows:,} rows; the final model "
                f"was refitted on all rows." if search_rows and search_rows < rows
                else f"All {rows:,} rows were used in the search and the final refit." if refitted
                else f"All {rows:,} rows were used in the search; nothing was refitted (below).")
    if run.config.weight_column:
        sampling += (f" Rows are weighted by {run.config.weight_column!r} (rows of weight 0 were left out) in every "
                     "model's fit and in every CV score, ensemble, decision threshold and calibration.")
    if bagged:
        sampling += (f" Not refitted: {', '.join(bagged)}, each delivered as the mean of its cross-validation fold "
                     "models (k-fold bagging: each fold's model saw the other folds' rows).")
    stats = ("All statistics below (medians, quartiles, scales, category levels) are learnt from the training part "
             "of each fold only, then from all rows for a refitted model (a model delivered as its fold models "
             f"keeps each fold's own); the numbers shown are from a fit on the {search_rows or rows:,} rows of the "
             "search, made before it.")
    return {
        "pipelines": pipelines,
        "stats": stats,
        "sampling": sampling,
        "cv": cv + ("" if record.time_folds else f", shuffled with seed {run.config.seed}")
        + "; every model was scored on the same folds.",
        "log_target": record.log_target_offered,
        "class_balance": record.class_balance_offered,
        "group_hint": _group_hint(record.group_hint),
        "time_folds": record.time_folds or [],
    }


def _group_hint(hint: dict[str, Any] | None) -> str | None:
    if not hint:
        return None
    return (f"Column {hint['column']!r} looks like a group id ({hint['values']:,} values, {hint['rows_per_value']} "
            f"rows each), and {hint['duplicate_rows']:,} rows have an exact duplicate in another fold: the CV scores "
            f"may be optimistic. If rows sharing a {hint['column']!r} are related (one patient, one customer), fit "
            f"again with --group-column {hint['column']}.")


def modelling_section(run: RunData) -> dict[str, Any]:
    board, trials = run.leaderboard, run.trials
    score = run.score_column
    per_worker = trials[lb.WORKER].fillna("").value_counts()
    per_worker = per_worker[per_worker.index != ""]
    # several processes with a shared storage; a resumed run's second process on one machine is not distributed
    distributed = len(per_worker) > 1 and run.config.storage is not None
    hidden = (lb.NAME, lb.PARAMS, lb.FOLD_SCORES) + (() if distributed else (lb.WORKER, lb.WORKERS))
    shown = [c for c in board.columns if c not in hidden]
    failed = trials[trials[lb.STATUS] == "failed"][[lb.MODEL, lb.TRIAL, lb.REASON]] if len(trials) else trials
    seconds = trials.groupby(lb.MODEL, sort=False)[lb.FIT_SECONDS].sum().sort_values(ascending=False)
    return {
        "columns": shown,
        "rows": [[_cell(v) for v in row] for row in board[shown].itertuples(index=False)],
        # the finished rows only: a family skipped or stopped has no best parameters (its defaults were shown)
        "params": {m: p for m, p, status in zip(board[lb.MODEL], board[lb.PARAMS], board[lb.STATUS], strict=True)
                   if status == "ok"},
        "failed_trials": failed.to_dict(orient="records"),  # not "failed": that key is a section's own failure
        "history": _histories(run, score),
        "importances": _param_importances(run),
        "curves": _learning_curves(run),
        "time_plot": figures.bars(list(seconds.index), list(seconds.values), "Search time per family",
                                  "seconds (all trials, all folds)", "time") if len(seconds) else None,
        "workers": [[w, int(n)] for w, n in per_worker.items()] if distributed else [],
        "scored_at_tuned_threshold": _threshold_note(run),
    }


def evaluation_section(run: RunData) -> dict[str, Any]:
    board = run.leaderboard
    ok = board[board[lb.STATUS] == "ok"]
    chosen = run.record.best_model
    out: dict[str, Any] = {"chosen": chosen, "metric": run.metric}
    if len(ok):
        out["boxplot"] = figures.fold_boxplots(list(ok[lb.MODEL]), [run.fold_scores(m) for m in ok[lb.MODEL]],
                                               list(ok[lb.KIND]), run.metric)
    out.update(_nn_vs_trees(run, ok, chosen))
    out["constant"] = _constant_sentence(run.record.constant_predictor, run.metric, str(run.record.task))
    out.update(_oof_plots(run, chosen))
    out["threshold"] = _threshold(run.record.decision_threshold)
    out["calibration"] = _calibration(run.record.calibration)
    out["holdout"] = _holdout(run.holdout, run.metric)
    ranked = run.importance.dropna(subset=["importance_mean"]) if run.importance is not None else None
    if ranked is not None and len(ranked):
        top = ranked.head(20)
        out["importance_plot"] = figures.bars(list(top["feature"]), list(top["importance_mean"]),
                                              "Permutation importance of the final model",
                                              f"drop in {run.metric} when the column is shuffled", "importance",
                                              errors=list(top["importance_std"].fillna(0.0)))
        unranked = [str(f) for f in run.importance["feature"][run.importance["importance_mean"].isna()]]
        out["importance_unranked"] = (
            f"{len(unranked)} of {len(run.importance)} columns were not ranked: the fit shuffled only the "
            f"{len(ranked)} most associated with the target on their own (univariate screening; for want of time, "
            "or at most 40 without a time limit), and a "
            f"column that matters only with others can be among those left out ({', '.join(_listed(unranked))}). "
            "`automl importance RUN_DIR TEST` ranks them all on labelled rows.") if unranked else ""
    out["holdout_importance"] = _holdout_importance(run.holdout_importance)
    return out


def _holdout_importance(saved: dict[str, Any] | None) -> dict[str, Any] | None:
    """Permutation importance on held-out labelled data (``automl importance RUN DATA``): what it was computed
    on, and the bars of its 20 most important columns."""
    if not saved or not saved.get("importance"):
        return None
    top = pd.DataFrame(saved["importance"]).dropna(subset=["importance_mean"]).head(20)
    if not len(top):
        return None
    metric = saved.get("metric", "the metric")
    text = (f"{saved.get('model', '?')} on {saved.get('rows', '?')} labelled rows of {saved.get('data', '?')} "
            f"({saved.get('computed', '')}), {saved.get('repeats', '?')} shuffles per column: what the model relies "
            "on for new data.")
    plot = figures.bars(list(top["feature"]), list(top["importance_mean"]),
                        f"Permutation importance on {saved.get('data', 'held-out data')}",
                        f"drop in {metric} when the column is shuffled", "holdout-importance",
                        errors=list(top["importance_std"].fillna(0.0)))
    return {"text": text, "plot": plot}


def _calibration(choice: dict[str, Any] | None) -> dict[str, Any] | None:
    """What calibrating the chosen model's probabilities did to its CV log loss, with the reliability diagram."""
    if not choice or not choice.get("cv_after"):
        return None
    tried = ", ".join(f"{k} {format_number(v)}" for k, v in choice["cv_after"].items())
    method = choice.get("method")
    if method is None:
        text = (f"Calibration left out: no method lowered the chosen model's CV log loss by 0.5 % or more "
                f"({format_number(choice['cv_before'])}; {tried}), each fitted on the other folds' out-of-fold "
                "predictions.")
    else:
        detail = f" (T = {choice['temperature']:.3g})" if choice.get("temperature") else ""
        done = ("The delivered model applies it to every probability it returns." if choice.get("applied") else
                "Not applied: the run's metric is not log loss, and the delivered probabilities are the model's own.")
        text = (f"Calibration by {method}{detail}, fitted on the other folds' out-of-fold predictions, lowers the "
                f"chosen model's CV log loss from {format_number(choice['cv_before'])} to "
                f"{format_number(choice['cv_after'][method])} (tried: {tried}). {done}")
    curves = {k: v for k, v in choice.get("reliability", {}).items() if v}
    return {"text": text, "plot": figures.reliability(curves) if curves else None}


def _holdout(holdout: dict[str, Any] | None, metric: str) -> dict[str, Any] | None:
    """Scores on held-out labelled data (``automl evaluate``): what they were computed on, and each metric."""
    if not holdout:
        return None
    scores = holdout.get("scores", {})
    cv = holdout.get("cv")
    text = (f"{holdout.get('model', '?')} scored on {holdout.get('rows', '?')} labelled rows of "
            f"{holdout.get('data', '?')} that the fit never saw ({holdout.get('evaluated', '')}): {metric} "
            f"{format_number(scores[metric]) if metric in scores else 'n/a'}"
            + (f", against {format_number(cv)} in cross-validation." if cv is not None else "."))
    return {"text": text, "rows": [[k, format_number(v)] for k, v in scores.items()]}


def _threshold_note(run: RunData) -> str:
    """How the leaderboard scores a binary metric of labels: at each model's delivered threshold."""
    if str(run.record.task) != "binary":
        return ""
    given = run.config.threshold
    if given is not None and run.metric in THRESHOLD_METRICS:
        at = f"at the decision threshold --threshold gives ({given:g})"
    elif given is None and run.metric in RANKED_AT_TUNED_THRESHOLD:
        at = ("at the decision threshold that maximises it on the other folds' out-of-fold predictions (at 0.5, a "
              "model whose probabilities of a rare class stay below 0.5 would label nothing positive, however well "
              "it ranks the rows)")
    else:
        return ""
    return (f"Each model's {run.metric} is scored as it is delivered: every validation fold {at}. The other "
            "metrics' columns are at 0.5.")


def _threshold(choice: dict[str, Any] | None) -> dict[str, Any] | None:
    """The decision threshold of a binary model: where it came from, its CV evidence, and the curve."""
    if not choice or not choice.get("curve"):
        return None
    value, metric = choice["value"], choice["metric"]
    if choice["source"] == "given":
        text = f"Rows are labelled positive when P(positive) is at least {value:.3g}, as --threshold asked."
    elif choice["source"] == "tuned":
        text = (f"Rows are labelled positive when P(positive) is at least {value:.3g}, the threshold that maximises "
                f"{metric} on the out-of-fold predictions. Chosen on the other folds for each fold, it scores a CV "
                f"{metric} of {format_number(choice['cv_tuned'])}, against {format_number(choice['cv_default'])} at "
                "0.5.")
    elif choice.get("cv_tuned") is not None:
        text = (f"The threshold stays at 0.5: tuned on the other folds for each fold, it scored a CV {metric} of "
                f"{format_number(choice['cv_tuned'])}, no better than {format_number(choice['cv_default'])} at 0.5.")
    else:
        text = (f"The threshold is 0.5 (the most probable class): the run's metric does not score labels, or is "
                f"precision or recall, which a threshold tuned for them alone would game. The curve shows {metric} "
                "at each threshold; --threshold sets one.")
    return {"text": text, "plot": figures.threshold_curve(choice["curve"], value, metric)}


def _constant_sentence(constant: ConstantPredictor | None, metric: str, task: str) -> dict[str, Any] | None:
    """What the constant predictor (class shares or the mean, same folds) scored, and who did not beat it."""
    if constant is None or constant.cv_mean is None:
        return None
    what = "the training rows' mean of the target" if task == "regression" else "the training rows' class shares"
    base = (f"The constant predictor (in each fold, {what}) scores a CV {metric} of "
            f"{format_number(constant.cv_mean)} on the same folds.")
    worse = constant.worse
    if not constant.beaten:
        return {"text": f"{base} No model beat it: the delivered model predicts no better than the target's "
                        "distribution alone. More rows, more informative columns or a longer budget may help.",
                "warning": True}
    if worse:
        names = ", ".join(worse[:8]) + (f" and {len(worse) - 8} more" if len(worse) > 8 else "")
        return {"text": f"{base} Scoring no better, {names} could not be chosen.", "warning": False}
    return {"text": f"{base} Every model beat it.", "warning": False}


def deployment_section(run: RunData) -> dict[str, Any]:
    record = run.record
    path = str(run.path)
    chosen = record.best_model
    models = record.models_refitted or [chosen]
    return {
        "cli": f"automl predict {shlex.quote(path)} new_data.csv --output predictions.csv",
        "python": (f"from automl import AutoML\nmodel = AutoML.load({path!r})\n"
                   "predictions = model.predict_frame(new_data)  # a DataFrame or a CSV / Parquet path"),
        "model_bytes": run.model_bytes,
        "latency": record.predict_seconds_per_1000_rows,
        "models": models,
        "bagged": record.models_bagged,
        "reproduce": record.command or _reproduce(run),
        "reproducible": bool(run.config.trials),
        "comparison": _comparison(record.comparison),
        "resumed": record.resumed,
    }


def _comparison(comparison: dict[str, Any] | None) -> dict[str, Any] | None:
    """The batch run's comparison with the previous run, ready for the template (drift table: top 15)."""
    if not comparison:
        return None
    score = comparison.get("score") or {}
    drop = score.get("drop")
    if drop is None:
        verdict = "The scores cannot be compared (a different metric, or a run without a score)."
    elif drop > 0:
        verdict = f"The CV {score.get('metric')} is worse than in the previous run by {format_number(drop)}."
    elif drop < 0:
        verdict = f"The CV {score.get('metric')} is better than in the previous run by {format_number(-drop)}."
    else:
        verdict = f"The CV {score.get('metric')} is the same as in the previous run."
    drift = comparison.get("drift") or []
    return {**comparison, "verdict": verdict, "drift_top": drift[:15],
            "drifted": sum(d["level"] != "stable" for d in drift)}


# ---------------------------------------------------------------------- helpers


def _time_used(record: Any) -> str:
    """The fit's wall time; after a resume, with the search time of the attempts before it."""
    last = record.fit_seconds or 0.0
    earlier = record.search_seconds_spent if record.resumed else 0.0
    if not earlier:
        return f"{last:.1f} s"
    return (f"{last + earlier:.1f} s ({earlier:.1f} s of search before the run was stopped, {last:.1f} s after "
            "it was resumed)")


def format_number(value: float) -> str:
    """A score or figure in a sentence: 4 significant digits, with thousands separators from 10 000 up (not
    "2.273e+04") to a billion; beyond it, 4 significant digits again ("3.881e+28", not 29 digits)."""
    if abs(value) < 9999.5:
        return f"{value:.4g}"
    return f"{value:,.0f}" if abs(value) < 1e9 else f"{value:.4g}"


def _cell(value: Any) -> Any:
    if value is pd.NA:  # an empty cell of a whole-number column (the rank of a row that did not finish)
        return ""
    if isinstance(value, float):
        return "" if np.isnan(value) else format_number(value)
    return value


def _histories(run: RunData, score: str) -> list[dict[str, Any]]:
    ok = run.trials[(run.trials[lb.STATUS] == "ok") & run.trials[score].notna()]
    out = []
    for model, group in ok.groupby(lb.MODEL, sort=False):
        if len(group) < 2:
            continue
        out.append({"model": model, "svg": figures.optimisation_history(
            list(group[lb.TRIAL].astype(int)), list(group[score]), run.greater_is_better, run.metric,
            f"{model}: {len(group)} complete trials", f"hist-{model}")})
    return out


def _param_importances(run: RunData) -> list[dict[str, Any]]:
    import optuna

    out = []
    try:
        studies = run.studies()
    except Exception as e:  # an unreadable journal costs the importances, not the report
        log.warning("Could not read the Optuna studies of %s: %s", run.path, e)
        return []
    for model, study in studies.items():
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if len(complete) < 4:
            continue
        try:
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
        except (RuntimeError, ValueError) as e:
            log.debug("No importances for %s: %s", model, e)
            continue
        if imp:
            names = list(imp)[:10]
            out.append({"model": model, "svg": figures.bars(names, [imp[n] for n in names],
                                                            f"{model}: hyperparameter importance (fANOVA)",
                                                            "importance", f"imp-{model}")})
    return out


def _learning_curves(run: RunData) -> list[dict[str, Any]]:
    out = []
    for model, histories in run.record.learning_curves.items():
        if not histories:
            continue
        out.append({"model": model, "note": fit_note(histories),
                    "svg": figures.learning_curves(histories, f"{model}: loss per epoch, each CV fold",
                                                   f"curve-{model}")})
    return out


def fit_note(histories: list[dict[str, list[float]]]) -> str:
    """Plain-language reading of learning curves: converged, over-fitting, or possibly under-fitting."""
    notes = []
    for h in histories:
        if "val_loss" not in h or not h["val_loss"]:
            continue
        val, train = np.asarray(h["val_loss"]), np.asarray(h["loss"])
        best = int(np.argmin(val))
        stopped_early = best < len(val) - 1
        gap = (val[best] - train[best]) / max(abs(train[best]), 1e-12)
        rising = stopped_early and val[-1] > val[best] * 1.02 and train[-1] < train[best]
        notes.append((stopped_early, gap, rising))
    if not notes:
        return "No validation split was used, so there is no validation curve."
    if not any(n[0] for n in notes):
        return ("Under-fitting: the validation loss was still falling at the last epoch in every fold; more "
                "epochs or a higher learning rate could help.")
    if sum(n[2] for n in notes) > len(notes) / 2:
        return ("Over-fitting after the early-stopping epoch: validation loss rises while training loss keeps "
                "falling. Early stopping restored the best epoch's weights, which is what the model uses.")
    if np.median([n[1] for n in notes]) > 0.5:
        return ("Validation loss stays well above training loss: the network fits the training rows much better "
                "than new rows (variance); more dropout or L2 would narrow the gap.")
    return "Training and validation loss fall together and flatten: a good fit, stopped at the best epoch."


def _best_of(ok: pd.DataFrame, kinds: tuple[str, ...], score: str, greater: bool) -> str | None:
    rows = ok[ok[lb.KIND].isin(kinds)]
    if not len(rows):
        return None
    return str(rows.sort_values(score, ascending=not greater).iloc[0][lb.MODEL])


def side_budgets(run: RunData, ok: pd.DataFrame) -> list[SideBudget]:
    """Trials, seconds and best model of each side (neural nets, then tree ensembles), from the trials table.

    How trials are counted: every row of ``trials.csv`` with a trial number counts, whatever its status (ok,
    pruned, out of budget, failed), since each of them ran; the side's seconds are the sum of those rows'
    ``fit_seconds``. The placeholder rows of families skipped before any trial ran (no trial number) are not
    counted. A trial belongs to a side by its model's kind on the leaderboard (``SIDES``); other kinds (linear
    models, ensembles) belong to neither.

    Parameters
    ----------
    run
        The run folder's data.
    ok
        The leaderboard rows that finished (status ``"ok"``): where each side's best model and CV score come from.

    Returns
    -------
    list of SideBudget
        One per side, in the order of ``SIDES``; a side without a finished model has ``best_model=None``.
    """
    kinds = dict(zip(run.leaderboard[lb.MODEL], run.leaderboard[lb.KIND], strict=True))
    trials = run.trials
    ran = trials[trials[lb.TRIAL].notna()]
    kind = ran[lb.MODEL].map(kinds)
    seconds = pd.to_numeric(ran[lb.FIT_SECONDS], errors="coerce").fillna(0.0)
    score, greater = run.score_column, run.greater_is_better
    out = []
    for side, side_kinds in SIDES.items():
        mine = kind.isin(side_kinds)
        best = _best_of(ok, side_kinds, score, greater)
        best_score = float(ok.loc[ok[lb.MODEL] == best, score].iloc[0]) if best is not None else None
        out.append(SideBudget(side, int(mine.sum()), float(seconds[mine].sum()), best, best_score))
    return out


def classic_network(run: RunData) -> str | None:
    """A sentence on the study notes' classic MLP (``keras_mlp.CLASSIC``, a configuration of the network's
    portfolio) if it ran: its CV score against the best network's; ``None`` if it did not run."""
    from automl.models.keras_mlp import CLASSIC

    trials = run.trials
    score = run.score_column
    for _, row in trials[(trials[lb.MODEL] == "keras_mlp") & (trials[lb.STATUS] == "ok")].iterrows():
        try:
            params = json.loads(row[lb.PARAMS])
        except (TypeError, ValueError):
            continue
        if all(params.get(k) == v for k, v in CLASSIC.items() if k not in ("epochs", "validation_fraction")):
            ok = trials[(trials[lb.MODEL] == "keras_mlp") & (trials[lb.STATUS] == "ok")]
            best = ok[score].max() if run.greater_is_better else ok[score].min()
            return (f"The study notes' classic MLP (Dense-ReLU blocks, dropout, L2, Adam, early stopping; trial "
                    f"{int(row[lb.TRIAL])}) scored CV {run.metric} {format_number(row[score])}; the best network "
                    f"{format_number(best)}.")
    return None


def _budget(run: RunData, sides: list[SideBudget], comparable: bool) -> dict[str, Any]:
    """The budget of each side for the template, with the sentence on whether they were comparable."""
    kinds = set(run.leaderboard[lb.KIND])
    out: dict[str, Any] = {"rows": [[s.side, s.trials, s.seconds, s.best_model or (
        "none finished" if kinds & set(SIDES[s.side]) else "not in this run"), s.best_score] for s in sides],
        "classic": classic_network(run)}
    if not comparable or any(s.trials == 0 for s in sides):
        return out
    out.update(sentence=budget_verdict(*sides), provisional=is_provisional(*sides))
    if out["provisional"]:
        out.update(_even_command(run))
    return out


def _even_command(run: RunData) -> dict[str, str]:
    """The advice for an even comparison: the ``nn-vs-ensembles`` recipe, or more time if this run used it."""
    config = run.config
    args = ["automl", "fit", _data_path(run), "--target", str(config.target), "--recipe", EVEN_RECIPE]
    if config.recipe != EVEN_RECIPE:
        return {"advice": "For an even comparison, give both sides the same time and trials:",
                "command": shlex.join(args), "advice_end": "or a longer --time-limit."}
    longer = 2 * float(config.time_limit or 600)
    return {"advice": f"This run already used the {EVEN_RECIPE} recipe; for an even comparison, give it more time:",
            "command": shlex.join([*args, "--time-limit", f"{longer:.0f}"]), "advice_end": ""}


def _one_side_verdict(run: RunData, missing: str, kinds: tuple[str, ...]) -> str:
    """Why the two sides cannot be compared: the ``missing`` side (of family ``kinds``) was not part of the run,
    ran out of the budget, or failed."""
    board = run.leaderboard
    rows = board[board[lb.KIND].isin(kinds)]
    if rows.empty:
        return (f"This run had no {missing} among its models, so the two sides cannot be compared. Include one "
                f"with --models (or --families), or use the {EVEN_RECIPE} recipe.")
    reasons = [r for r in rows[lb.REASON] if isinstance(r, str) and r]
    why = f" ({reasons[0]})" if reasons else ""
    if set(rows[lb.STATUS]) <= {"failed"}:
        return f"No {missing} finished{why}, so the two sides cannot be compared on this run."
    return (f"No {missing} finished within the budget{why}, so the two sides cannot be compared on this run. "
            "Raise --time-limit, or use --models to give that side the budget.")


def _nn_vs_trees(run: RunData, ok: pd.DataFrame, chosen: str | None) -> dict[str, Any]:
    score, greater = run.score_column, run.greater_is_better
    nn = _best_of(ok, ("neural net",), score, greater)
    tree = _best_of(ok, TREE_KINDS, score, greater)
    folds = int(run.record.folds or 5)
    budget = _budget(run, side_budgets(run, ok), comparable=nn is not None and tree is not None)
    if nn is None or tree is None:
        return {"verdicts": [_one_side_verdict(run, "neural net" if nn is None else "tree ensemble",
                                               ("neural net",) if nn is None else TREE_KINDS)], "budget": budget}
    pairs = [(tree, nn)]
    if chosen and chosen not in (nn, tree) and chosen in set(ok[lb.MODEL]):
        pairs += [(chosen, tree), (chosen, nn)]
    comparisons = [compare(a, run.fold_scores(a), b, run.fold_scores(b), folds) for a, b in pairs]
    series = {m: run.fold_scores(m) for m in dict.fromkeys([tree, nn] + ([chosen] if chosen else []))
              if m in set(ok[lb.MODEL])}
    return {
        "verdicts": [verdict(c, run.metric, greater) for c in comparisons],
        "comparisons": [{"a": c.a, "b": c.b, "diff": c.mean_difference, "t": c.t, "p": c.p_value,
                         "n": c.n_folds} for c in comparisons],
        "paired_plot": figures.paired_folds(series, run.metric),
        "best_nn": nn, "best_tree": tree, "budget": budget,
    }


def _oof_plots(run: RunData, chosen: str | None) -> dict[str, Any]:
    oof, data = run.oof, run.record.data or DataRecord()
    if oof is None or not chosen:
        return {}
    oof = oof[oof[lb.FOLD] > 0]  # forward-chaining folds in time: the first period has no prediction
    classes = data.classes
    if classes is None:
        if lb.oof_column(chosen) not in oof:
            return {}
        return {"regression_plot": figures.regression_errors(oof[lb.TARGET].to_numpy(float),
                                                             oof[lb.oof_column(chosen)].to_numpy(float))}
    cols = [lb.oof_column(chosen, c) for c in classes]
    if not set(cols) <= set(oof.columns):
        return {}
    proba = oof[cols].to_numpy(float)
    index = {str(c): i for i, c in enumerate(classes)}
    y = np.asarray([index[str(t)] for t in oof[lb.TARGET]])
    pos = index.get(str(data.positive_class)) if run.record.task == "binary" else None
    choice = run.record.decision_threshold or {}
    labels = (proba[:, 1] >= choice["value"]).astype(int) if choice.get("source") in ("tuned", "given") \
        else proba.argmax(axis=1)
    return {"confusion_plot": figures.confusion(y, labels, classes),
            "roc_plot": figures.roc_pr(y, proba, classes, pos),
            "calibration_plot": figures.calibration(y, proba, pos)}


def _data_path(run: RunData) -> str:
    return str(run.record.data.path) if run.record.data and run.record.data.path else "DATA.csv"


def _reproduce(run: RunData) -> str:
    config = run.config
    args = ["automl", "fit", _data_path(run), "--target", str(config.target), "--seed", str(config.seed)]
    args += ["--trials", str(config.trials)] if config.trials else ["--time-limit", str(config.time_limit)]
    return " ".join(shlex.quote(a) for a in args)

