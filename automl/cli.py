"""The ``automl`` command: a thin click layer over the Python API.

Only click and automl's light modules are imported at start-up, so ``automl --help`` answers at once;
pandas, scikit-learn and the model libraries load inside the commands.

Exit codes: 0 success; 1 internal error; 2 bad input or configuration; 3 the budget ran out before any
model finished; 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from automl import __version__
from automl.config import METRICS, SCALERS, TASKS
from automl.errors import AutoMLError, BudgetError

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 internal error; 2 bad input or configuration; "
    "3 the budget ran out before any model finished; 130 interrupted."
)

log = logging.getLogger("automl")


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}[verbosity]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"))
    handler.setLevel(level)
    logger = logging.getLogger("automl")
    logger.handlers = [h for h in logger.handlers if not getattr(h, "_automl_cli", False)]
    handler._automl_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(min(level, logger.level or logging.INFO))
    logger.propagate = False


def _guarded(debug: bool, action: Callable[[], Any], log_file: Callable[[], Path | None] = lambda: None) -> Any:
    """Run ``action``; turn errors into a short message and an exit code (traceback with --debug)."""
    try:
        return action()
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
    except AutoMLError as e:
        if debug:
            traceback.print_exc()
        click.echo(f"Error: {e}", err=True)
        sys.exit(EXIT_BUDGET if isinstance(e, BudgetError) else EXIT_BAD_INPUT)
    except Exception as e:
        if debug:
            traceback.print_exc()
        path = log_file()
        hint = f" The full traceback is in {path}." if path and path.exists() else ""
        click.echo(f"Internal error: {type(e).__name__}: {e}.{hint} Run again with --debug to see it here, "
                   "and report it with that traceback.", err=True)
        sys.exit(EXIT_INTERNAL)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="automl")
def main() -> None:
    """automl: the best model for a table, Keras MLPs vs tree ensembles, with a report.

    \b
    Example:
      automl fit examples/penguins.csv --target species --time-limit 60 --output reports/penguins
      automl predict reports/penguins new_penguins.csv --output preds.csv
    """


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", "-t", required=True, help="Name of the target column.")
@click.option("--task", type=click.Choice(TASKS), help="Override the inferred task.")
@click.option("--metric", type=click.Choice(METRICS), help="Metric to optimise (default: roc_auc, log_loss or rmse).")
@click.option("--time-limit", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Budget of the whole fit, in seconds.")
@click.option("--trials", type=click.IntRange(min=1),
              help="Trials per model family instead of a time limit (same seed: same leaderboard).")
@click.option("--folds", type=click.IntRange(min=2), help="Cross-validation folds (default: 5; 3 above 10 000 rows).")
@click.option("--repeats", type=click.IntRange(min=1),
              help="Repeat k-fold CV with new shuffles (default: 2 below 1 000 rows with a budget of 120 s or "
                   "more or --trials, else 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for folds, sampling and models.")
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Run folder (default: reports/<data name>-<timestamp>).")
@click.option("--overwrite", is_flag=True, help="Write into a non-empty run folder, replacing automl's own files.")
@click.option("--sample-rows", type=click.IntRange(min=100), default=100_000, show_default=True,
              help="Above this many rows the search uses a stratified sample; the refit uses all rows.")
@click.option("--n-jobs", type=click.IntRange(min=1), help="Threads per model (default: all cores).")
@click.option("--models", help="Comma-separated model keys to try (default: all).")
@click.option("--exclude-models", help="Comma-separated model keys not to try.")
@click.option("--positive-class", help="Positive class of a binary target (default: the minority class).")
@click.option("--na-values", multiple=True, help="Extra text to read as missing (repeatable), e.g. --na-values '?'.")
@click.option("--categorical", multiple=True, help="Treat this column as categorical (repeatable).")
@click.option("--keep-column", "keep_columns", multiple=True,
              help="Keep this column even if it looks like target leakage (repeatable).")
@click.option("--outlier-factor", type=click.FloatRange(min=0), help="IQR factor for clipping outliers (0: off).")
@click.option("--scaler", type=click.Choice(SCALERS), help="Scaler for neural nets and linear models.")
@click.option("--quiet", "-q", "verbosity", flag_value=-1, help="Only warnings and errors.")
@click.option("--verbose", "-v", "verbosity", flag_value=1, help="Debug messages too.")
@click.option("--debug", is_flag=True, help="Show full tracebacks of errors.")
def fit(data: Path, target: str, verbosity: int | None, debug: bool, models: str | None,
        exclude_models: str | None, **options: Any) -> None:
    """Fit models on DATA (CSV, CSV.GZ or Parquet) and save the best one in a run folder.

    \b
    Example:
      automl fit examples/penguins.csv --target species --time-limit 60 --seed 1 --output reports/penguins
    """
    _setup_logging(verbosity or 0)

    run_log: list[Path] = []

    def action() -> None:
        from automl.api import make_config
        from automl.fitting import default_output, run_fit

        options["output"] = options["output"] or default_output(data)
        config = make_config(target, models=_csv(models), exclude_models=_csv(exclude_models), **options)
        run_log.append(config.output / "automl.log")
        result = run_fit(config, data, command=" ".join(sys.argv))
        click.echo(f"Chosen model: {result.predictor.model_key}. Run folder: {result.run_dir}")

    _guarded(debug, action, log_file=lambda: run_log[0] if run_log else None)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default="-", show_default=True,
              help="CSV file for the predictions ('-' writes to standard output).")
@click.option("--quiet", "-q", "verbosity", flag_value=-1, help="Only warnings and errors.")
@click.option("--verbose", "-v", "verbosity", flag_value=1, help="Debug messages too.")
@click.option("--model", "model_key", help="Use this model of the run instead of the chosen one (an ensemble's "
              "members are kept; an unknown name lists the choices).")
@click.option("--debug", is_flag=True, help="Show full tracebacks of errors.")
def predict(run_dir: Path, data: Path, output: Path, verbosity: int | None, model_key: str | None,
            debug: bool) -> None:
    """Predict DATA with the model saved in RUN_DIR.

    Classification: one probability column per class (named by its label) and `prediction`;
    regression: `prediction`. Rows keep the input order.

    \b
    Example:
      automl predict reports/penguins new_penguins.csv --output preds.csv
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl.api import AutoML
        from automl.results import LOG_FILE, log_to_file, write_csv

        model = AutoML.load(run_dir)
        with log_to_file(run_dir / LOG_FILE):
            preds = model.predict_frame(data, model_key)
            if str(output) == "-":
                preds.to_csv(sys.stdout, index=False)
            else:
                write_csv(preds, output)
                click.echo(f"Wrote {len(preds)} predictions to {output}", err=True)

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="HTML file to write (default: RUN_DIR/report.html).")
@click.option("--quiet", "-q", "verbosity", flag_value=-1, help="Only warnings and errors.")
@click.option("--verbose", "-v", "verbosity", flag_value=1, help="Debug messages too.")
@click.option("--debug", is_flag=True, help="Show full tracebacks of errors.")
def report(run_dir: Path, output: Path | None, verbosity: int | None, debug: bool) -> None:
    """Render the HTML report of RUN_DIR from its saved results (no refitting, no network).

    \b
    Example:
      automl report reports/penguins --output penguins.html
    """
    _setup_logging(verbosity or 0)

    def action() -> None:
        from automl.report import render

        if output is not None and not output.parent.is_dir():
            from automl.errors import ConfigError

            raise ConfigError(f"Folder {output.parent} does not exist. Create it or choose another --output.")
        render(run_dir, output)  # logs where it was written

    _guarded(debug, action, log_file=lambda: run_dir / "automl.log")
