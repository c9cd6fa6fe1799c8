"""The Python API: ``AutoML(target=...).fit(data)``, then ``predict`` / ``predict_proba`` / ``leaderboard``.

>>> from automl import AutoML
>>> model = AutoML(target="species", time_limit=60).fit("examples/penguins.csv")  # doctest: +SKIP
>>> model.predict(new_rows)                                                         # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.config import THRESHOLD_METRICS
from automl.errors import ConfigError, DataError
from automl.predictor import Predictor
from automl.results import LEADERBOARD_FILE, load_model, read_record
from automl.results import leaderboard as lb

log = logging.getLogger(__name__)
MIN_IMPORTANCE_ROWS = 30  # fewer rows to shuffle: a warning that the ranking says little


class AutoML:
    """Fit the best model automl can find for one target column.

    Parameters
    ----------
    target
        Name of the target column (``None``: the recipe's).
    recipe
        A recipe name (see ``automl recipes``) or file; the options given here win over it.
    **options
        Any field of :class:`automl.config.FitConfig` (``task``, ``metric``, ``time_limit``, ``folds``,
        ``seed``, ``output``, ``overwrite``, ...) and of :class:`automl.config.PreprocessConfig`
        (``outlier_factor``, ``scaler``, ...). Invalid values raise :class:`automl.errors.ConfigError`.
        ``families`` is the CLI's ``--families``: ``families="keras_mlp"`` (the network alone) or
        ``families=["-catboost"]``, added to ``models`` / ``exclude_models``.

    Examples
    --------
    >>> model = AutoML(target="species", time_limit=60, seed=1).fit("examples/penguins.csv")  # doctest: +SKIP
    >>> model.leaderboard().head()                                                          # doctest: +SKIP
    >>> model.save("penguins-model"); AutoML.load("penguins-model").predict(new_rows)       # doctest: +SKIP
    """

    def __init__(self, target: str | None = None, recipe: str | Path | None = None, **options: Any) -> None:
        from automl.recipes import resolve

        self.config = resolve(target, recipe, **options)
        self.predictor_: Predictor | None = None
        self.leaderboard_: pd.DataFrame | None = None
        self.run_dir_: Path | None = None

    def fit(self, data: Any, progress: Callable[[Any, Any], None] | None = None,
            command: str | None = None) -> AutoML:
        """Fit on a CSV / CSV.GZ / Parquet path or a DataFrame; the run folder is saved as it goes.

        ``progress(family_state, trial_result)`` is called after every trial (the CLI's progress display);
        ``command`` is recorded in ``run.json`` as what started the run.
        """
        from automl.fit import run_fit  # the search: not imported where a saved model only predicts

        result = run_fit(self.config, data, command=command, on_trial=progress)
        self.predictor_, self.leaderboard_, self.run_dir_ = result.predictor, result.leaderboard, result.run_dir
        return self

    @classmethod
    def resume(cls, run_dir: str | Path, data: Any = None, progress: Callable[[Any, Any], None] | None = None,
               command: str | None = None, storage: str | None = None) -> AutoML:
        """Continue a stopped run (see ``automl resume``); ``data`` only for a run fitted from a DataFrame;
        ``progress`` and ``command`` as in :meth:`fit`; ``storage``: a distributed run's database URL (its
        password is not recorded)."""
        from automl.fit import resume_fit

        result = resume_fit(run_dir, data, command=command, on_trial=progress, storage=storage)
        obj = cls.load(result.run_dir)
        obj.predictor_, obj.leaderboard_ = result.predictor, result.leaderboard
        return obj

    def save(self, path: str | Path) -> Path:
        """Copy the run folder (model, leaderboard, report, ...) to ``path``, which must not exist yet.

        The copy loads with :meth:`load`. The model inside is a pickle: share it only with people who trust you.
        """
        import shutil

        from automl.results import CHECKPOINT_DIR, LOCK_FILE, LOCK_INFO

        self._fitted()
        assert self.run_dir_ is not None
        target = Path(path)
        if target.exists():
            raise ConfigError(f"{target} already exists; save to a new folder.")
        shutil.copytree(self.run_dir_, target, ignore=shutil.ignore_patterns(LOCK_FILE, LOCK_INFO, CHECKPOINT_DIR))
        return target

    def predict_frame(self, data: Any, model: str | None = None, sep: str | None = None,
                      na_values: tuple[str, ...] | str = ()) -> pd.DataFrame:
        """Class probabilities (one column per class) and ``prediction``; regression: ``prediction``.

        ``data``: a path, a DataFrame, or a NumPy array of shape (rows, the fit's input columns), read by position
        as those columns in their order (with a warning; :class:`~automl.errors.DataError` for another width).
        The probability columns are named by the class labels, or ``proba_<label>`` for every class when a
        label is ``prediction`` (see :meth:`automl.predictor.Predictor.probability_columns`). ``model``: a key
        from :attr:`models` instead of the chosen model. ``sep``: the CSV delimiter of ``data`` (default: the
        one given at fit, else chosen from the file). ``na_values``: text read as missing in ``data``, besides
        the fit's markers (``"?"`` or a list). The rows keep the index of a DataFrame ``data`` (a
        file's rows are numbered 0, 1, ...), so ``test["pred"] = model.predict(test)`` lines up.
        """
        predictor = self._fitted()
        predictor.pipeline_for(model)  # an unknown model is refused before the data is read
        frame, info = predictor.read(data, sep, _markers(na_values))
        out = predictor.predict_frame(frame, where=info.name, model=model)
        out.index = frame.index
        return out

    def predict(self, data: Any, model: str | None = None, sep: str | None = None,
                na_values: tuple[str, ...] | str = ()) -> pd.Series:
        """Predicted labels (classification) or values (regression), in input row order, with the index of a
        DataFrame ``data``. Labels have the type of the target they were fitted from: integers, floats or
        booleans for a target of numbers or booleans, else text (as in :meth:`predict_frame`'s ``prediction``
        column, which is always text; ``na_values`` as there)."""
        predictions = self.predict_frame(data, model, sep, na_values)["prediction"]
        schema = self._fitted().schema
        return predictions if schema.classes is None else schema.typed_labels(predictions)

    def predict_proba(self, data: Any, model: str | None = None, sep: str | None = None,
                      na_values: tuple[str, ...] | str = ()) -> pd.DataFrame:
        """Class probabilities, one column per class (each row sums to 1), with the index of a DataFrame
        ``data``. Columns are named by the labels as :meth:`predict` returns them (``proba[model.predict(x)]``
        works): integers, floats or booleans for a target of numbers or booleans, else text."""
        predictor = self._fitted()
        if predictor.classes is None:  # before the data is read
            raise ConfigError("predict_proba applies to classification; this model is a regression model.")
        predictor.pipeline_for(model)
        frame, info = predictor.read(data, sep, _markers(na_values))
        out = predictor.predict_proba(frame, where=info.name, model=model)
        out.index = frame.index
        out.columns = pd.Index(predictor.schema.typed_labels(pd.Series(out.columns, dtype=object)))
        return out

    def evaluate(self, data: Any, model: str | None = None, sep: str | None = None,
                 na_values: tuple[str, ...] | str = ()) -> pd.Series:
        """Scores on labelled rows the fit never saw (a held-out test set): the run's metric first, then every
        other metric of the task, as the model is delivered (its calibration, and for a binary model its
        decision threshold in the metrics of labels: accuracy, F1, precision, recall, balanced accuracy).

        ``data``: a path or a DataFrame holding the feature columns and the target; rows without a target are
        left out. ``model``: a key from :attr:`models` instead of the chosen model. Returns a Series indexed by
        metric name, plus ``rows`` (rows scored). Raises :class:`~automl.errors.DataError` when the target
        column is missing or holds a label the model was not trained on (named, with its rows).
        """
        from automl.search.metrics import all_scores

        predictor = self._fitted()
        predictor.pipeline_for(model)  # an unknown model is refused before the data is read
        frame, info = predictor.read(data, sep, _markers(na_values), labelled=True)
        y, kept = predictor.schema.holdout_target(frame, info.name)
        scores, labels = predictor.delivered(frame[kept], info.name, model)
        task = predictor.schema.task
        with warnings.catch_warnings():  # scikit-learn's per-metric warnings on one class: one line below instead
            warnings.simplefilter("ignore")
            out = all_scores(y, scores, task)
            if task == "binary":  # the metrics of labels, from the labels the model delivers
                delivered = np.eye(2)[labels]
                out.update({k: v for k, v in all_scores(y, delivered, task).items() if k in THRESHOLD_METRICS})
        if task != "regression" and len(np.unique(y)) < 2:
            label = (predictor.classes or ["?"])[int(y[0])]
            log.warning("Evaluating on rows of one class only (%r): ROC AUC is undefined (NaN), and the other "
                        "metrics count only that class's rows; give rows of every class to compare with the "
                        "cross-validation score.", label)
        first = predictor.schema.metric  # the run's metric (the run folder may have gone: a temporary one)
        ordered = {first: out.pop(first), **out} if first in out else out
        if int(kept.sum()) < len(frame):
            log.warning("Evaluating on %d of %d rows of %s: the others have no target value.", int(kept.sum()),
                        len(frame), info.name)
        return pd.Series({**ordered, "rows": float(kept.sum())}, name=model or predictor.model_key)

    def feature_importance(self, data: Any = None, model: str | None = None, repeats: int = 5,
                           time_limit: float | None = None, max_rows: int = 5000, sep: str | None = None,
                           na_values: tuple[str, ...] | str = ()) -> pd.DataFrame:
        """Permutation importance: how much the run's metric worsens when one input column's values are
        shuffled (Breiman 2001; scikit-learn's ``permutation_importance``), as the model is delivered (its
        calibration, and a binary model's decision threshold in a metric of labels).

        ``data``: labelled rows (a path or a DataFrame with the target column), best ones the fit never saw:
        the importance is then what the model relies on for new data; every row counts the same (a weight
        column is not used); rows without a target are left out (logged). ``None``: the importance the fit
        computed on up to 2 000 training rows in what was left of its budget (``feature_importance.csv``;
        the other arguments then do not apply). ``model``: a key from :attr:`models` instead of the chosen model
        (with ``data`` only). ``repeats``: shuffles per column. ``time_limit``: seconds of scoring; when not
        every column fits, fewer repeats, then only the columns most associated with the target on their own
        are ranked (a warning says so); ``None``: every column, every repeat. ``max_rows``: rows of ``data``
        used, sampled with the run's seed.

        Returns a DataFrame, one row per input column, most important first: ``feature``, ``importance_mean`` and
        ``importance_std`` (the drop of the run's metric over the repeats, in its units; near 0 or negative: the
        model does not need the column; NaN: not ranked, last; the std is NaN with one repeat). Raises
        :class:`~automl.errors.ConfigError` for invalid arguments, when ``data`` is None and the fit computed none
        (it was skipped for the budget), or when not one column can be scored in ``time_limit``;
        :class:`~automl.errors.DataError` as :meth:`evaluate` does, and when the metric is undefined on the rows
        (ROC AUC on one class).
        """
        from automl.fit.importance import UndefinedScore, permutation_importance
        from automl.fit.threshold import at_value
        from automl.search.metrics import get_metric

        predictor = self._fitted()
        delivered = predictor.as_delivered(model)  # an unknown model is refused first
        if data is None:
            given = [name for name, value, default in (("repeats", repeats, 5), ("time_limit", time_limit, None),
                                                         ("max_rows", max_rows, 5000), ("sep", sep, None),
                                                         ("na_values", tuple(_markers(na_values)), ()))
                     if value != default]
            if given:
                raise ConfigError(f"{', '.join(given)} apply to importance computed on labelled rows; pass them "
                                  "(feature_importance(data, ...); at the command line, DATA), or leave them out "
                                  "for the fit's.")
            return self._saved_importance(predictor, model)
        _check_count("repeats", repeats)
        _check_count("max_rows", max_rows)
        if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                       or not time_limit > 0):
            raise ConfigError(f"time_limit must be a positive number of seconds or None, not {time_limit!r}.")
        frame, info = predictor.read(data, sep, _markers(na_values), labelled=True)
        y, kept = predictor.schema.holdout_target(frame, info.name)
        X = predictor.schema.transform(frame[kept], where=info.name)
        if int(kept.sum()) < len(frame):
            log.warning("Permutation importance on %d of %d rows of %s: the others have no target value.",
                        int(kept.sum()), len(frame), info.name)
        metric = get_metric(predictor.schema.metric)
        if model in (None, predictor.model_key) and predictor.schema.task == "binary":
            metric = at_value(metric, predictor.threshold)
        import joblib

        from automl import threads

        try:
            with threads.limited(), joblib.parallel_config(backend="threading"):
                out = permutation_importance(delivered, X, y, predictor.schema, metric, self.config.seed,
                                             math.inf if time_limit is None else float(time_limit),
                                             repeats=repeats, max_rows=max_rows)
        except UndefinedScore as e:
            raise DataError(f"Permutation importance on {info.name}: {e}") from e
        if out is None:
            raise ConfigError(f"Not one column can be scored in time_limit={time_limit} s; give more time or "
                              "fewer rows (max_rows).")
        ranked = int(out["importance_mean"].notna().sum())
        if ranked < len(out):
            log.warning("Permutation importance ranked %d of %d columns in time_limit=%s s (the most associated "
                        "with the target on their own; the others have no value); give more time to rank them "
                        "all.", ranked, len(out), time_limit)
        rows = min(int(kept.sum()), max_rows)
        if rows < MIN_IMPORTANCE_ROWS:
            log.warning("Permutation importance on only %d rows: shuffling so few says little about the columns.",
                        rows)
        out.attrs.update(metric=metric.name, rows=rows)
        return out

    def _saved_importance(self, predictor: Predictor, model: str | None) -> pd.DataFrame:
        from automl.results import IMPORTANCE_FILE

        if model not in (None, predictor.model_key):
            raise ConfigError(f"The fit ranked the columns of the chosen model ({predictor.model_key}) only; for "
                              f"{model!r}, pass labelled rows (feature_importance(data, model={model!r}); at the "
                              "command line, DATA).")
        if self.run_dir_ is None or not self.run_dir_.is_dir():
            raise ConfigError(f"The run folder {self.run_dir_} is gone, and the fit's importance with it. Pass "
                              "labelled rows (feature_importance(data); at the command line, DATA).")
        path = self.run_dir_ / IMPORTANCE_FILE
        if not path.is_file():
            raise ConfigError("This run has no permutation importance: the fit skips it when its budget runs out "
                              "(see automl.log). Pass labelled rows, best ones the fit never saw "
                              "(feature_importance(data); at the command line, DATA).")
        out = pd.read_csv(path)
        out.attrs.update(metric=predictor.schema.metric)
        return out

    @property
    def models(self) -> list[str]:
        """Models refitted on all rows and usable for prediction: the chosen one first, then its members."""
        return self._fitted().models

    def leaderboard(self) -> pd.DataFrame:
        """One row per model tried: rank, CV score mean and std, per-fold scores, time, status."""
        self._fitted()
        assert self.leaderboard_ is not None
        return self.leaderboard_.copy()

    def report(self, output: str | Path | None = None) -> Any:
        """The run's HTML report (re-rendered to ``output`` if given); displays inline in Jupyter."""
        from automl.report import Report, render
        from automl.results import REPORT_FILE

        self._fitted()
        assert self.run_dir_ is not None
        path = self.run_dir_ / REPORT_FILE
        if output is not None or not path.is_file():
            path = render(self.run_dir_, output)
        return Report(path)

    def _repr_html_(self) -> str:
        if self.predictor_ is None or self.leaderboard_ is None:
            return "<p>AutoML (not fitted)</p>"
        import html

        return (f"<p>AutoML run <code>{html.escape(str(self.run_dir_))}</code>, chosen model "
                f"<b>{html.escape(self.predictor_.model_key)}</b>. Leaderboard:</p>"
                + self.leaderboard_.drop(columns=[lb.PARAMS, lb.FOLD_SCORES], errors="ignore").to_html(index=False))

    @classmethod
    def load(cls, run_dir: str | Path) -> AutoML:
        """Load a fitted run folder. It holds pickles: load only folders from a trusted source."""
        predictor = load_model(run_dir)
        obj = cls.__new__(cls)
        record = read_record(run_dir)
        obj.config = record.fit_config(predictor.schema.target)
        obj.predictor_, obj.run_dir_ = predictor, Path(run_dir)
        obj.leaderboard_ = lb.read_leaderboard(Path(run_dir) / LEADERBOARD_FILE, str(record.metric))
        return obj

    def _fitted(self) -> Predictor:
        if self.predictor_ is None:
            raise ConfigError("This AutoML object is not fitted yet; call .fit(data) first.")
        return self.predictor_


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {value!r}.")


def _markers(na_values: tuple[str, ...] | str) -> tuple[str, ...]:
    """``na_values`` as a tuple: a lone string is a list of one."""
    return (na_values,) if isinstance(na_values, str) else tuple(na_values)


def load(run_dir: str | Path) -> AutoML:
    """Load a fitted run folder (see :meth:`AutoML.load`)."""
    return AutoML.load(run_dir)
