"""The ``automl`` command: a thin click layer over the Python API.

Only click and automl's light modules are imported at start-up, so ``automl --help`` answers at once;
pandas, scikit-learn and the model libraries load inside the commands.

Exit codes: 0 success; 1 internal error; 2 bad input or configuration; 3 the budget ran out before any
model finished; 4 the run folder is locked by another run; 5 a batch run's score dropped past its recipe's
threshold; 130 interrupted (the run folder can be resumed with ``automl resume``).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from automl.config import METRICS, SCALERS, TASKS, add_families
from automl.errors import FILE_ONLY, AutoMLError, BudgetError, RunLockedError, ScoreDropError
from automl.version import __version__

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_BUDGET, EXIT_LOCKED, EXIT_SCORE_DROP = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130
EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 internal error; 2 bad input or configuration; "
    "3 the budget ran out before any model finished; 4 the run folder is locked by another run; "
    "5 a batch run's score dropped past its recipe's threshold; 130 interrupted (resume with `automl resume`)."
)
SEP_HELP = ("Delimiter of the CSV file: one character, or comma, semicolon, tab, pipe, space (default: the one "
            "under which every row has the header's number of fields).")
EXIT_FOR = {BudgetError: EXIT_BUDGET, RunLockedError: EXIT_LOCKED, ScoreDropError: EXIT_SCORE_DROP}

log = logging.getLogger("automl")


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}[verbosity]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"))
    handler.setLevel(level)
    if verbosity < 1:  # one line per trial only at --verbose (automl.log in the run folder keeps them all)
        handler.addFilter(_no_trial_lines)
    handler.addFilter(_not_file_only)  # the run folder's record of an error the terminal gets as "Error: ..."
    logger = logging.getLogger("automl")
    logger.handlers = [h for h in logger.handlers if not getattr(h, "_automl_cli", False)]
    handler._automl_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(min(level, logger.level or logging.INFO))
    logger.propagate = False
    # scikit-learn's fast finiteness check sums the data in float32: values near float32's limit (kept, they are
    # valid) overflow that sum and numpy warns once per fit, hundreds of times per run; the check itself passes
    warnings.filterwarnings("ignore", message="(overflow|invalid value) encountered in reduce",
                            category=RuntimeWarning)


def _no_trial_lines(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith("automl.trials")


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, FILE_ONLY, False)


def _guarded(debug: bool, action: Callable[[], Any], log_file: Callable[[], Path | None] = lambda: None) -> Any:
    """Run ``action``; turn errors into a short message and an exit code (traceback with --debug)."""
    try:
        return action()
    except KeyboardInterrupt:
        click.echo(f"Interrupted.{_resume_hint(log_file())}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
    except AutoMLError as e:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {e}", err=True)
        sys.exit(next((code for cls, code in EXIT_FOR.items() if isinstance(e, cls)), EXIT_BAD_INPUT))
    except Exception as e:
        if debug:
            traceback.print_exc()
        path = log_file()
        hint = f" The full traceback is in {path}." if path and path.exists() else ""
        click.echo(f"Internal error: {type(e).__name__}: {e}.{hint} Run again with --debug to see it here, "
                   "and report it with that traceback.", err=True)
        sys.exit(EXIT_INTERNAL)


def _resume_hint(log_file: Path | None) -> str:
    """How to continue a run that the interrupt stopped (its run.json says "interrupted"), else nothing."""
    if log_file is None:
        return ""
    import shlex

    from automl.errors import ModelFormatError
    from automl.results import read_record

    try:
        status = read_record(log_file.parent).status
    except (ModelFormatError, OSError, ValueError):
        return ""
    if status != "interrupted":
        return ""
    return (f" What was done is kept in {log_file.parent}; continue with "
            f"`automl resume {shlex.quote(str(log_file.parent))}`.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="automl")
def main() -> None:
    """automl: the best model for a table, Keras MLPs vs tree ensembles, with a report.

    \b
    Example:
      automl fit examples/penguins.csv --target species --time-limit 60 --output reports/penguins
      automl predict reports/penguins new_penguins.csv --output preds.csv
      automl run recipes/nightly.toml
    """


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def _verbosity_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--quiet", "-q", "verbosity", flag_value=-1, help="Only warnings and errors."),
        click.option("--verbose", "-v", "verbosity", flag_value=1, help="Debug messages too."),
        click.option("--debug", is_flag=True, help="Show full tracebacks of errors."),
    ]):
        func = option(func)
    return func


def _search_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `fit` and `run`; all default to None so that a recipe's values stand unless given."""
    options = [
        click.option("--task", type=click.Choice(TASKS), help="Override the inferred task."),
        click.option("--metric", type=click.Choice(METRICS),
                     help="Metric to optimise (default: roc_auc, log_loss or rmse)."),
        click.option("--time-limit", type=click.FloatRange(min=1),
                     help="Budget of the whole fit, in seconds (default: 120, or the recipe's)."),
        click.option("--trials", type=click.IntRange(min=1),
                     help="Trials per model family instead of a time limit (same seed: same leaderboard)."),
        click.option("--folds", type=click.IntRange(min=2),
                     help="Cross-validation folds (default: 5; 3 above 10 000 rows)."),
        click.option("--repeats", type=click.IntRange(min=1),
                     help="Repeat k-fold CV with new shuffles (default: 2 below 1 000 rows with a budget of 120 s "
                          "or more or --trials, else 1)."),
        click.option("--families", "families",
                     help="Model families to try, comma-separated (e.g. lightgbm,keras_mlp); a leading '-' "
                          "excludes one instead (e.g. -catboost,-keras_mlp)."),
        click.option("--models", help="Comma-separated model keys to try (same as --families with names)."),
        click.option("--exclude-models", help="Comma-separated model keys not to try."),
        click.option("--seed", type=int, help="Seed for folds, sampling and models (default: 0)."),
        click.option("--sample-rows", type=click.IntRange(min=100),
                     help="Above this many rows the search uses a stratified sample; the refit uses all rows "
                          "(default: 100 000)."),
        click.option("--n-jobs", type=click.IntRange(min=1), help="Threads per model (default: all cores)."),
        click.option("--storage", help="Optuna storage URL shared by several machines, e.g. "
                                       "postgresql://user:pass@host/db (default: a journal file in the run folder)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _explicit(families: str | None, models: str | None, exclude_models: str | None,
              options: dict[str, Any]) -> dict[str, Any]:
    """The options given on the command line (None = not given), with the model choices merged."""
    given = {**options, "models": _csv(models), "exclude_models": _csv(exclude_models)}
    return {k: v for k, v in add_families(given, families or None).items() if v not in (None, ())}


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", "-t", help="Name of the target column (required unless the recipe sets it).")
@click.option("--recipe", "-r", help="Recipe name (see `automl recipes`) or file; options given here win over it.")
@_search_options
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Run folder (default: reports/<data name>-<timestamp>).")
@click.option("--overwrite", is_flag=True, help="Write into a non-empty run folder, replacing automl's own files.")
@click.option("--positive-class", help="Positive class of a binary target (default: the minority class).")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Binary targets: label a row positive at this probability or above (default: tuned for "
              "accuracy, f1 or balanced_accuracy on out-of-fold predictions, else 0.5).")
@click.option("--na-values", multiple=True, help="Extra text to read as missing (repeatable), e.g. --na-values '?'.")
@click.option("--sep", help=SEP_HELP)
@click.option("--categorical", multiple=True, help="Treat this column as categorical (repeatable).")
@click.option("--keep-whitespace", flag_value=True, default=None,
              help="Keep spaces around text values and labels (default: ' a' and 'a ' are the category 'a').")
@click.option("--no-parse-numbers", "parse_numbers", flag_value=False, default=None,
              help="Keep numbers written as text ('1,250', '$30', '12%') as text instead of reading them as numbers.")
@click.option("--keep-column", "keep_columns", multiple=True,
              help="Keep this column even if it looks like target leakage or an ID (repeatable).")
@click.option("--group-column", help="Rows sharing a value here (a patient, a customer) never fall on both sides "
              "of a CV fold; not a feature.")
@click.option("--weight-column", help="Column of row weights (numbers >= 0) for every fit and every CV score; "
              "not a feature.")
@click.option("--time-column", help="Rows are ordered by this column (dates or numbers): each CV fold trains on the "
              "past and validates on the next period.")
@click.option("--time-gap", type=click.IntRange(min=0), help="With --time-column: rows left out between each "
              "fold's training and validation rows.")
@click.option("--outlier-factor", type=click.FloatRange(min=0), help="IQR factor for clipping outliers (0: off).")
@click.option("--scaler", type=click.Choice(SCALERS), help="Scaler for neural nets and linear models.")
@_verbosity_options
def fit(data: Path, target: str | None, recipe: str | None, verbosity: int | None, debug: bool,
        families: str | None, models: str | None, exclude_models: str | None, **options: Any) -> None:
    """Fit models on DATA (CSV, CSV.GZ or Parquet) and save the best one in a run folder.

    On a terminal a progress bar shows the budget and each family's trials; otherwise plain log lines.
    Stopped (Ctrl-C, kill, crash)? `automl resume RUN_DIR` continues without losing finished trials.

    \b
    Example:
      automl fit examples/penguins.csv --target species --time-limit 60 --seed 1 --output reports/penguins
      automl fit examples/penguins.csv --target species --recipe quick --families -random_forest
    """
    _setup_logging(verbosity or 0)
    run_log: list[Path] = []

    def action() -> None:
        from automl.api import AutoML
        from automl.fit import default_output

        explicit = _explicit(families, models, exclude_models, options)
        explicit["output"] = explicit.get("output") or default_output(data)
        model = AutoML(target=target, recipe=recipe, **explicit)
        run_log.append(model.config.output / "automl.log")
        with _progress(model.config, verbosity) as on_trial:
            model.fit(data, progress=on_trial, command=_command())
        click.echo(f"Chosen model: {model.predictor_.model_key}. Run folder: {model.run_dir_}")

    _guarded(debug, action, log_file=lambda: run_log[0] if run_log else None)


def _command() -> str:
    """The command line as a user can paste it back: ``automl`` and the arguments, each shell-quoted (under
    ``python -m automl`` the program is ``automl`` too)."""
    import shlex

    return shlex.join(["automl", *sys.argv[1:]])


@contextlib.contextmanager
def _progress(config: Any, verbosity: int | None) -> Iterator[Any]:
    from automl.progress import for_terminal

    display = for_terminal(None if config.trials else config.time_limit, config.trials, verbosity == -1)
    if display is None:
        yield None
        return
    with display.shown():
        yield display


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--storage", help="The database URL of a distributed run (run.json keeps it without the password).")
@_verbosity_options
def resume(run_dir: Path, storage: str | None, verbosity: int | None, debug: bool) -> None:
    """Continue the stopped run in RUN_DIR: finished trials are kept, the search goes on, then the ensembles,
    the refit and the report.

    The data is read again from the path the run recorded and must be unchanged. The budget left is the
    run's time limit less the search time already spent.

    \b
    Example:
      automl resume reports/penguins
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl.api import AutoML
        from automl.results import read_config

        with _progress(read_config(run_dir), verbosity) as on_trial:
            model = AutoML.resume(run_dir, progress=on_trial, command=_command(), storage=storage)
        click.echo(f"Chosen model: {model.predictor_.model_key}. Run folder: {model.run_dir_}")

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")


@main.command(epilog=EXIT_CODES_HELP)
@click.option("--storage", required=True, help="The coordinator's database URL, e.g. postgresql://user:pass@host/db.")
@click.option("--run", "run_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="The coordinator's run folder, on a file system this machine shares with it.")
@_verbosity_options
def worker(storage: str, run_dir: Path, verbosity: int | None, debug: bool) -> None:
    """Join a distributed run as a worker: run trials of its studies until its search is over.

    Start the coordinator with `automl fit ... --storage URL --output RUN_DIR`, then any number of workers on
    machines that can reach the database and see RUN_DIR (and the data at the path the coordinator read). The
    coordinator waits for the workers' trials, then builds the ensembles, refits and writes the report.

    \b
    Example:
      automl worker --storage postgresql://automl:secret@db-host/automl --run /shared/reports/churn
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl.fit.worker import run_worker

        ran = run_worker(run_dir, storage)
        click.echo(f"Ran {ran} trial(s) for {run_dir}.")

    _guarded(debug, action)


@main.command("run", epilog=EXIT_CODES_HELP)
@click.argument("recipe")
@_search_options
@_verbosity_options
def run_batch(recipe: str, verbosity: int | None, debug: bool, families: str | None, models: str | None,
              exclude_models: str | None, **options: Any) -> None:
    """Run a batch RECIPE (name or file with a [batch] section), e.g. from cron.

    Writes <output_root>/<recipe>/<timestamp>/ (config, JSON-lines log, leaderboard, model, report), then
    points <output_root>/<recipe>/latest at it. Run again after a crash to resume the unfinished run. The run
    is compared with the previous one (score, schema, drift); exit 5 when the score dropped past the recipe's
    alert_threshold.

    \b
    Example:
      automl run recipes/nightly.toml
      automl run nightly --time-limit 300
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl import recipes
        from automl.batch import batch_spec, run_recipe

        loaded = recipes.load(recipe)
        batch_spec(loaded)  # a recipe without [batch] is refused before anything else
        explicit = _explicit(families, models, exclude_models, options)
        with _progress(loaded.config(**explicit), verbosity) as on_trial:
            result = run_recipe(loaded, command=_command(), on_trial=on_trial, **explicit)
        note = " (resumed)" if result.resumed else ""
        click.echo(f"Run folder: {result.run_dir}{note}")

    _guarded(debug, action)


@main.command("recipes", epilog=EXIT_CODES_HELP)
def list_recipes() -> None:
    """List the recipes that come with automl.

    \b
    Example:
      automl recipes
      automl fit data.csv --target y --recipe best
    """
    from automl import recipes

    def action() -> None:
        for name, path in recipes.shipped().items():
            recipe = recipes.load(path)
            kind = "batch" if recipe.batch else "fit"
            click.echo(f"{name:<18} {kind:<6} {recipe.description}")

    _guarded(False, action)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format.")
@click.option("--all-columns", is_flag=True, help="Every column (per-fold scores, parameters, ...).")
@click.option("--debug", is_flag=True, help="Show full tracebacks of errors.")
def leaderboard(run_dir: Path, fmt: str, all_columns: bool, debug: bool) -> None:
    """Print the leaderboard of RUN_DIR.

    \b
    Example:
      automl leaderboard reports/penguins
      automl leaderboard reports/penguins --format csv > board.csv
    """
    def action() -> None:
        from automl.api import AutoML
        from automl.results import leaderboard as lb
        from automl.results import read_record

        board = AutoML.load(run_dir).leaderboard()
        if not all_columns:
            metric = str(read_record(run_dir).metric)
            scores = [lb.score_column(metric), lb.std_column(metric)]
            board = board[[lb.RANK, lb.MODEL, lb.KIND, lb.STATUS, *scores, lb.FIT_SECONDS, lb.TRIALS, lb.REASON]]
        if fmt == "csv":
            click.echo(board.to_csv(index=False), nl=False)
        elif fmt == "json":
            click.echo(board.to_json(orient="records", indent=1))
        else:
            click.echo(board.astype(object).where(board.notna(), "").to_string(index=False))

    _guarded(debug, action)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("data")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default="-", show_default=True,
              help="CSV file for the predictions ('-' writes to standard output).")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Score every file DATA matches (a quoted glob) into this folder, one CSV per input.")
@click.option("--model", "model_key", help="Use this model of the run instead of the chosen one (an ensemble's "
              "members are kept; an unknown name lists the choices).")
@click.option("--sep", help=SEP_HELP + " Default: the one given at fit.")
@click.option("--na-values", multiple=True, help="Extra text to read as missing in DATA, besides the fit's markers "
              "(repeatable), e.g. --na-values '?'.")
@_verbosity_options
def predict(run_dir: Path, data: str, output: Path, output_dir: Path | None, verbosity: int | None,
            model_key: str | None, sep: str | None, na_values: tuple[str, ...], debug: bool) -> None:
    """Predict DATA (a file, or with --output-dir a quoted glob) with the model saved in RUN_DIR.

    Classification: one probability column per class (named by its label; `proba_<label>` for every class
    when a label is `prediction`) and `prediction`; regression: `prediction`. Rows keep the input order.
    With --output-dir, a file that cannot be scored is reported and skipped, the others are scored, and the
    exit code is 2 if any was skipped.

    \b
    Example:
      automl predict reports/penguins new_penguins.csv --output preds.csv
      automl predict reports/penguins 'incoming/*.csv' --output-dir scored/
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl.results import LOG_FILE, log_to_file, write_csv

        if output_dir is not None:
            from automl.batch import score_files
            from automl.errors import DataError

            with log_to_file(run_dir / LOG_FILE):
                written, problems = score_files(run_dir, data, output_dir, model_key, sep, na_values)
            click.echo(f"Scored {written} file(s) into {output_dir}.", err=True)
            if problems:
                raise DataError(f"{len(problems)} file(s) skipped:\n  " + "\n  ".join(problems))
            return
        from automl.api import AutoML
        from automl.errors import ConfigError

        if any(c in data for c in "*?[") and not Path(data).exists():
            raise ConfigError(f"{data} is a pattern of file names: scoring several files needs --output-dir "
                              "(one predictions file per input), e.g. --output-dir scored/.")
        model = AutoML.load(run_dir)
        with log_to_file(run_dir / LOG_FILE):
            preds = model.predict_frame(Path(data), model_key, sep, na_values)
            if str(output) == "-":
                preds.to_csv(sys.stdout, index=False)
            else:
                write_csv(preds, output)
                click.echo(f"Wrote {len(preds)} predictions to {output}", err=True)

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--model", "model_key", help="Evaluate this model of the run instead of the chosen one.")
@click.option("--sep", help=SEP_HELP + " Default: the one given at fit.")
@click.option("--na-values", multiple=True, help="Extra text to read as missing in DATA, besides the fit's markers "
              "(repeatable), e.g. --na-values '?'.")
@_verbosity_options
def evaluate(run_dir: Path, data: Path, model_key: str | None, sep: str | None, na_values: tuple[str, ...],
             verbosity: int | None, debug: bool) -> None:
    """Score the model saved in RUN_DIR on DATA, labelled rows the fit never saw (a held-out test set).

    Prints every metric of the task, the run's metric first, as the model is delivered (its calibration and
    decision threshold), beside its cross-validation score; saves them in RUN_DIR/holdout.json and adds them
    to the report. DATA needs the target column; rows without a target are left out.

    \b
    Example:
      automl evaluate reports/penguins penguins_test.csv
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        import json
        from datetime import UTC, datetime

        from automl.api import AutoML
        from automl.report import render
        from automl.results import HOLDOUT_FILE, LOG_FILE, log_to_file, read_record
        from automl.results.folder import atomic_write

        model = AutoML.load(run_dir)
        with log_to_file(run_dir / LOG_FILE):
            scores = model.evaluate(data, model_key, sep, na_values)
            record = read_record(run_dir)
            key = str(scores.name)
            board = model.leaderboard().set_index("model")
            column = f"cv_{record.metric}_mean"
            cv = float(board.loc[key, column]) if key in board.index and column in board.columns else None
            rows = int(scores.pop("rows"))
            saved = {"data": data.name, "rows": rows, "model": key, "metric": str(record.metric), "cv": cv,
                     "evaluated": datetime.now(UTC).isoformat(timespec="seconds"),
                     "scores": {k: float(v) for k, v in scores.items()}}
            atomic_write(run_dir / HOLDOUT_FILE, lambda tmp: Path(tmp).write_text(json.dumps(saved, indent=1),
                                                                                  encoding="utf-8"))
            width = max(len(k) for k in scores.index)
            click.echo(f"{key} on {rows} rows of {data.name}" + (f" (CV {record.metric} {cv:.4g})" if cv is not None
                                                                   else "") + ":")
            for name, value in scores.items():
                click.echo(f"  {name:<{width}}  {value:.4g}")
            render(run_dir)

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--model", "model_key", help="Rank the columns of this model of the run instead of the chosen one "
              "(needs DATA).")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True, help="Shuffles per column.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True),
              help="Seconds of scoring (default: no limit, every column); when not all fit, fewer repeats, then "
                   "only the columns most associated with the target on their own.")
@click.option("--max-rows", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Rows of DATA used (sampled with the run's seed).")
@click.option("--sep", help=SEP_HELP + " Default: the one given at fit.")
@click.option("--na-values", multiple=True, help="Extra text to read as missing in DATA, besides the fit's markers "
              "(repeatable), e.g. --na-values '?'.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format.")
@_verbosity_options
def importance(run_dir: Path, data: Path | None, model_key: str | None, repeats: int, time_limit: float | None,
               max_rows: int, sep: str | None, na_values: tuple[str, ...], fmt: str, verbosity: int | None,
               debug: bool) -> None:
    """Print the permutation importance of the model saved in RUN_DIR: how much the run's metric worsens when
    one input column's values are shuffled, most important first.

    With DATA (labelled rows, best ones the fit never saw), computed on them now, as the model is delivered
    (every row counts the same), saved in RUN_DIR/holdout_importance.json and added to the report; without, the
    one the fit computed on training rows (none when its budget ran out), and the options for DATA do not apply.

    \b
    Example:
      automl importance reports/penguins
      automl importance reports/penguins penguins_test.csv --format csv > importance.csv
    """
    _setup_logging(verbosity if verbosity is not None else (-1 if fmt != "table" else 0))

    def action() -> None:
        from automl.api import AutoML

        model = AutoML.load(run_dir)
        frame = model.feature_importance(data, model_key, repeats, time_limit, max_rows, sep, na_values)
        if data is not None:
            _save_holdout_importance(run_dir, data, model_key or model.predictor_.model_key, frame, repeats)
        if fmt == "csv":
            click.echo(frame.to_csv(index=False), nl=False)
        elif fmt == "json":
            click.echo(frame.to_json(orient="records", indent=1))
        else:
            rows = frame.attrs.get("rows")
            where = f" on {rows} rows of {data.name}" if data is not None and rows else (
                " on training rows, at fit" if data is None else "")
            click.echo(f"Drop in {frame.attrs.get('metric', 'the metric')} when a column's values are shuffled"
                       f"{where}:")
            shown = frame.copy()
            for column in ("importance_mean", "importance_std"):
                shown[column] = [f"{v:.4g}" if v == v else "" for v in frame[column]]
            click.echo(shown.to_string(index=False))
            unranked = int(frame["importance_mean"].isna().sum())
            if unranked:
                click.echo(f"{unranked} of {len(frame)} columns were not ranked (no value above): there was time "
                           "to shuffle only the columns most associated with the target on their own."
                           + (" Give DATA (labelled rows) to rank them all." if data is None else
                              " Give more --time-limit to rank them all."))

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")


def _save_holdout_importance(run_dir: Path, data: Path, model_key: str, frame: Any, repeats: int) -> None:
    """The importance computed on DATA, kept in RUN_DIR/holdout_importance.json and shown in the re-rendered
    report (as `automl evaluate` keeps its scores)."""
    import json
    from datetime import UTC, datetime

    from automl.report import render
    from automl.results import HOLDOUT_IMPORTANCE_FILE, LOG_FILE, log_to_file
    from automl.results.folder import atomic_write

    saved = {"data": data.name, "rows": frame.attrs.get("rows"), "model": model_key,
             "metric": frame.attrs.get("metric"), "repeats": repeats,
             "computed": datetime.now(UTC).isoformat(timespec="seconds"),
             "importance": json.loads(frame.to_json(orient="records"))}
    with log_to_file(run_dir / LOG_FILE):
        atomic_write(run_dir / HOLDOUT_IMPORTANCE_FILE,
                     lambda tmp: Path(tmp).write_text(json.dumps(saved, indent=1), encoding="utf-8"))
        render(run_dir)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="HTML file to write (default: RUN_DIR/report.html).")
@_verbosity_options
def report(run_dir: Path, output: Path | None, verbosity: int | None, debug: bool) -> None:
    """Render the HTML report of RUN_DIR from its saved results (no refitting, no network).

    \b
    Example:
      automl report reports/penguins --output penguins.html
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl.report import render

        if output is not None:
            from automl.results.folder import check_output_folder

            check_output_folder(output)
        render(run_dir, output)  # logs where it was written

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")


def run() -> None:
    """The ``automl`` console script and ``python -m automl``: :func:`main`, then the process exits without the
    interpreter's final garbage collection.

    At exit, CPython collects the cyclic garbage of every object every imported module made: measured on 2 cores,
    about 0.3 s after importing pandas and scikit-learn and 1.5 s after TensorFlow, time in which the user waits
    for a process that has finished its work. ``gc.freeze()`` moves every live object out of the collector's
    reach, so that collection has nothing to walk. Nothing is lost: ``atexit`` handlers (logging's flush, the
    removal of temporary folders) still run, objects not held by a reference cycle are still finalised as their
    modules are cleared, and the operating system takes back the memory. Not done in :func:`main` itself, which
    tests call many times in one process.
    """
    try:
        main()
    finally:
        gc.freeze()
