"""The search's progress on a terminal (rich): an overall bar with its ETA and one line per model family.

With a time budget the overall bar is the budget itself (with its ETA) and each family's bar the share of the
search time it has used; with ``--trials N`` every family has its own bar of N trials and its own ETA. Log records
go through the same console, above the bars. Off a terminal nothing here runs: the CLI prints plain timestamped
log lines with no control characters.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from automl.errors import format_score

TICK = 0.5


class SearchProgress:
    """Callback for :class:`automl.search.tuner.Search` (``on_trial``) that draws the progress display."""

    def __init__(self, time_limit: float | None, n_trials: int | None, console: Any = None,
                 search_share: float = 0.8) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = console or Console(file=sys.stderr)
        self.n_trials = n_trials
        columns: list[Any] = [TextColumn("{task.description:<28}"), BarColumn(bar_width=30)]
        columns += [MofNCompleteColumn()] if n_trials else [TextColumn("{task.percentage:>3.0f}%")]
        columns += [TimeRemainingColumn(), TextColumn("{task.fields[note]}")]
        self.progress = Progress(*columns, console=self.console, transient=False)
        self.search_seconds = None if time_limit is None else time_limit * search_share
        self.started = time.monotonic()
        self.overall = None if n_trials else self.progress.add_task("search budget", total=time_limit, note="")
        self.families: dict[str, Any] = {}
        self._stop = threading.Event()

    def __call__(self, state: Any, result: Any) -> None:
        key = state.spec.key
        if key not in self.families:  # with a budget, a family's bar is its share of the search time (no ETA)
            self.families[key] = self.progress.add_task(state.spec.name, total=self.n_trials or self.search_seconds,
                                                        note="", start=bool(self.n_trials))
        best = state.best
        note = f"{len(state.trials)} trial(s), {state.seconds:.0f} s" + (
            f", best {format_score(best.mean)}" if best else f", {result.status}")
        done = len(state.trials) if self.n_trials else state.seconds
        self.progress.update(self.families[key], completed=done, note=note)

    @contextlib.contextmanager
    def shown(self) -> Iterator[None]:
        """Draw the display while the block runs; ``automl`` log records print above it."""
        from rich.logging import RichHandler

        handler = RichHandler(console=self.console, show_path=False, markup=False, log_time_format="%H:%M:%S")
        handler.setLevel(logging.INFO)
        logger = logging.getLogger("automl")
        saved = [h for h in logger.handlers if getattr(h, "_automl_cli", False)]
        for h in saved:
            handler.setLevel(h.level)
            for f in h.filters:  # e.g. no per-trial lines unless --verbose
                handler.addFilter(f)
            logger.removeHandler(h)
        logger.addHandler(handler)
        ticker = threading.Thread(target=self._tick, daemon=True)
        try:
            with self.progress:
                ticker.start()
                yield
        finally:
            self._stop.set()
            logger.removeHandler(handler)
            for h in saved:
                logger.addHandler(h)

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            if self.overall is not None:
                self.progress.update(self.overall, completed=time.monotonic() - self.started)


def for_terminal(time_limit: float | None, n_trials: int | None, quiet: bool) -> SearchProgress | None:
    """A progress display when standard error is a terminal and the run is not quiet; else ``None``."""
    if quiet or not sys.stderr.isatty():
        return None
    return SearchProgress(time_limit, n_trials)
