"""The search: one Optuna study per model family, tuned by k-fold CV on the shared folds, within a budget.

Each family's first trial is its known-good defaults (enqueued). The sampler, pruner and storage are injected
(Optuna's way); by default a seeded TPE sampler, a median pruner between folds, and whatever storage the caller
gives (an SQLite file or Optuna's journal file in the run folder, or a database URL).

A family's next trials after its defaults are its portfolio: a few more known-good configurations (say, more
and slower boosting rounds), then the sampler's own suggestions.

Scheduling, with a time budget: the defaults of the cheapest family of each kind first (linear, boosting,
bagging, neural net), so a short budget still compares every kind; then the other families' defaults, cheapest
first, alternating with portfolio configurations of the best-ranked families (one that would take more than half
of the time left is skipped); then the family with the least time spent so far, weighted by its rank on the
leaderboard (time × rank), gets the next trial: the leading families are tuned most, yet no slow family starves
the others, and each trial is stopped between folds when it would overrun its share. The neural nets have a
share of their own (``NEURAL_SHARE`` of the search time, all of it when they run alone): they go next whenever
they have had less than that share of the time so far, and the share is split into several trials (4 at 60 s,
2 on large data, up to 10 from about 280 s), each of which ends its training at its time and keeps its best
epoch's weights.
With the ``"sides"`` schedule, neural nets and tree ensembles get equal time and, as far as can be, equal
trials instead (a fair comparison). With ``n_trials`` instead of a budget, each family gets exactly that many
trials in a fixed order (defaults, portfolio, sampler), so a seed reproduces the leaderboard.

Every trial's result is kept in its Optuna trial and the best one's out-of-fold predictions on disk
(:mod:`automl.search.checkpoint`), so a stopped run resumes where it was.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.storages._heartbeat import get_heartbeat_thread

from automl.config import LARGE_DATA_ROWS
from automl.data.text import TEXT_COMPONENTS, fit_in_folds, reusing_fits, text_reuse_full
from automl.errors import format_score, format_seconds, left_seconds
from automl.models.base import ModelSpec, is_wide
from automl.results.records import TrialResult
from automl.search import checkpoint
from automl.search.checkpoint import Checkpoints
from automl.search.cv import Fold
from automl.search.decision import ranks_at_tuned_threshold
from automl.search.evaluate import CLASS_WEIGHT, LOG_TARGET, Context, after_folds, cross_validate

log = logging.getLogger(__name__)
trial_log = logging.getLogger("automl.trials")  # one line per trial: the CLI shows them at --verbose only

SamplerFactory = Callable[[int], optuna.samplers.BaseSampler]
PrunerFactory = Callable[[], optuna.pruners.BasePruner]
TrialCallback = Callable[["FamilyState", TrialResult], None]
SCHEDULES = ("rank", "sides")
SUMMARY_SECONDS = 10.0  # the search logs a one-line progress summary at most this often
NEURAL = "neural net"
# Default schedule: the neural nets' share of the search time when tree ensembles run too (all of it when they
# run alone, half under the "sides" schedule), split into at least one trial per 22 s of search, 4 to 10: without
# it the best-ranked boosting families took nearly all the time and the network got one untuned trial.
NEURAL_SHARE = 1 / 3
# ... raised, up to NEURAL_SHARE_MAX, when their defaults took so long that the minimum of NEURAL_TRIALS (the
# later ones planned at LATER_TRIAL_COST of the defaults' time) would not fit in it: at 60 s a network's defaults
# took 8-13 s of the 16 s share on 2 000-5 000 rows (building its graph alone 3 s), leaving room for one more trial
NEURAL_SHARE_MAX = 1 / 2
LATER_TRIAL_COST = 0.5
# Not on large data (over LARGE_DATA_ROWS rows searched): there a short budget cannot tune the network anyway (on
# diamonds, 43 000 rows at 60 s, its best of 5 trials stayed 25 % behind the trees), and on a slow machine the
# raised share gave it half the search (25 of 50 s), time the leading trees lose
NEURAL_TRIALS = (4, 10)
# the fewest on large data (over LARGE_DATA_ROWS rows searched): a later trial of a few seconds cannot train there
# (network alone at 60 s, two runs: every later trial of diamonds' and letter's was far behind their defaults, RMSE
# 609-689 against 569-573, log loss 0.34-0.55 against 0.13), so at 60 s the share goes to two trials, two thirds of
# it to the defaults: diamonds CV RMSE 568.5 -> 562.5, letter CV log loss 0.134 -> 0.128 (benchmarks/neural.md)
NEURAL_TRIALS_LARGE = 2
# 22 s: a 300 s budget searches about 225-235 s (the rest is for the ensembles and the refit), which one trial per
# 25 s planned as 9 (caravan and letter, whole product at 300 s: 9 network trials, benchmarks/results-300s.md)
NEURAL_SECONDS_PER_TRIAL = 22.0
# the defaults, the strongest configuration, are planned as two trials, and at least this share of the neural
# share: with 12 trials planned (1/6.5 of it) letter's defaults got 14.3 s instead of 16.7 and CV log loss went
# 0.131 -> 0.136 (benchmarks/neural.md)
NEURAL_DEFAULTS_SHARE = 0.2
MIN_ANYTIME_SECONDS = 3.0  # a network trial is started only with at least this much search time left,
ANYTIME_SECONDS_PER_1000_COLUMNS = 2.0  # plus this: its graph and each fold's preprocessing grow with the columns
# (a 120 x 5 000 table: 3.4 s to build the first fold's graph, 0.6 s per fold to prepare the inputs; measured)
PORTFOLIO_SHARE = 0.5  # of the search time left: the most a portfolio configuration is expected to take
# "sides" schedule: the side with fewer trials goes next while its time is at most this many times the other
# side's, else the side with less time. Below the report's 3x "provisional" limit (automl.report.stats), so that
# one more trial of the slower side seldom takes the time ratio past it.
SIDES_TIME_SLACK = 2.0


def worker_id() -> str:
    """This process as a worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def default_sampler(seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed)


def default_pruner() -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)


@dataclass
class FamilyState:
    """Progress of one family's study."""

    spec: ModelSpec
    study: optuna.Study
    trials: list[TrialResult] = field(default_factory=list)
    seconds: float = 0.0
    last_trial_seconds: float = 0.0
    fold_seconds: float = 0.0
    exhausted: bool = False
    portfolio: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (relative cost, params) to try
    portfolio_done: int = 0  # portfolio configurations tried or skipped

    @property
    def portfolio_left(self) -> bool:
        return self.portfolio_done < len(self.portfolio)

    @property
    def defaults_fold_seconds(self) -> float:
        """Seconds per fold of the family's first (defaults) trial: the unit of its portfolio's relative costs."""
        first = next((t for t in self.trials if t.fold_scores), None)
        return first.fit_time / len(first.fold_scores) if first else 0.0

    @property
    def best(self) -> TrialResult | None:
        done = [t for t in self.trials if t.status == "ok"]
        if not done:
            return None
        sign = 1 if self.study.direction == optuna.study.StudyDirection.MAXIMIZE else -1
        return max(done, key=lambda t: sign * t.mean)


def _sentence(text: str) -> str:
    """``text`` with its first letter in capitals."""
    return text[:1].upper() + text[1:]


@dataclass
class Search:
    """Runs the studies. ``run()`` returns every trial's result; ``families`` holds each study's state."""

    specs: Sequence[ModelSpec]
    ctx: Context
    X: pd.DataFrame
    y: np.ndarray
    folds: Sequence[Fold]
    storage: Any = None
    study_prefix: str = "automl"
    sampler: SamplerFactory = default_sampler
    pruner: PrunerFactory = default_pruner
    checkpoints: Checkpoints = field(default_factory=lambda: Checkpoints(None))
    schedule: str = "rank"
    on_trial: TrialCallback | None = None
    worker: str = field(default_factory=worker_id)
    shared: bool = False  # several workers share the studies (a database): see automl.fit.worker
    refit_on_search_rows: bool = False  # the refits use the search's rows (no sample): their text is fitted early
    families: list[FamilyState] = field(default_factory=list)
    _hard_deadline: float | None = None
    _portfolio_turn: bool = False  # after the first defaults, portfolio trials alternate with the other defaults
    _started: float = 0.0
    _search_seconds: float = 0.0
    _last_summary: float = 0.0
    _neural_overruns: list[float] = field(default_factory=list)  # seconds network trials ran past their plan

    def __post_init__(self) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}.")
        direction = "maximize" if self.ctx.metric.greater_is_better else "minimize"
        for i, spec in enumerate(self.specs):
            study = optuna.create_study(study_name=f"{self.study_prefix}-{spec.key}", storage=self.storage,
                                        sampler=self.sampler(self.ctx.seed + i), pruner=self.pruner(),
                                        direction=direction, load_if_exists=True)
            state = FamilyState(spec, study, portfolio=self._portfolio(spec))
            if not study.trials:
                study.enqueue_trial(self._defaults(spec), skip_if_exists=True)
            else:
                self._restore(state)
            self.families.append(state)

    @property
    def wide(self) -> bool:
        """Wide data (more columns than rows): the families' ``wide`` changes apply to defaults and portfolio."""
        return is_wide(len(self.X), self.X.shape[1])

    @property
    def large(self) -> bool:
        """Large data (more than ``LARGE_DATA_ROWS`` rows searched): the families' ``large`` changes apply to the
        defaults (and so to the portfolio's starting point)."""
        return len(self.X) > LARGE_DATA_ROWS

    def _defaults(self, spec: ModelSpec) -> dict[str, Any]:
        """The family's defaults for this task (with its large-data changes on large data, its wide-data changes
        on wide data); a skewed target is learnt as log1p first; a rare class unweighted first."""
        return {**spec.defaults_for(self.ctx.schema.task, self.large), **(spec.wide if self.wide else {}),
                **({LOG_TARGET: True} if self.ctx.log_target else {}),
                **({CLASS_WEIGHT: "none"} if self.ctx.class_balance else {})}

    def _portfolio(self, spec: ModelSpec) -> list[tuple[float, dict[str, Any]]]:
        """The family's portfolio for this task; with a rare class, the defaults with balanced class weights
        first; with a skewed target, the raw target first (the defaults learnt its log), then alternately."""
        entries = spec.portfolio_for(self.ctx.schema.task, self.wide, self.large)
        if self.ctx.class_balance:  # a rare class: the defaults with balanced class weights, then alternately
            defaults = {k: v for k, v in self._defaults(spec).items() if k != LOG_TARGET}
            entries = [(1.0, defaults), *entries]
            entries = [(cost, {**params, CLASS_WEIGHT: "balanced" if i % 2 == 0 else "none"})
                       for i, (cost, params) in enumerate(entries)]
        if not self.ctx.log_target:
            return entries
        return [(cost, {**params, LOG_TARGET: i % 2 == 1}) for i, (cost, params) in enumerate(entries)]

    def _restore(self, state: FamilyState, requeue: bool = True) -> None:
        """Pick up the trials a stopped run (or another worker) left in the study (see
        :mod:`automl.search.checkpoint`)."""
        state.trials = checkpoint.restore(state.spec, state.study, self.checkpoints, self.shared, requeue,
                                          self._defaults(state.spec))
        state.portfolio_done = min(len(state.portfolio), max(0, len(state.trials) - 1))
        state.seconds = 0.0
        for result in state.trials:
            state.seconds += result.fit_time
            if result.fold_scores:
                state.fold_seconds = result.fit_time / len(result.fold_scores)
                state.last_trial_seconds = max(result.fit_time, 1e-3)
        # defaults that failed or ran out of budget (not merely interrupted) end the family, as in a fresh run
        state.exhausted = state.best is None and any(
            r.status != "ok" and r.reason not in (checkpoint.INTERRUPTED, checkpoint.LOST) for r in state.trials)
        if state.trials:
            lost = sum(r.reason in (checkpoint.INTERRUPTED, checkpoint.LOST) for r in state.trials)
            log.info("%s: %d earlier trial(s) restored%s%s.", state.spec.name, len(state.trials) - lost,
                     f", best {format_score(state.best.mean)}" if state.best else "",
                     f"; {lost} stopped by the interruption (recorded as failed)" if lost else "")

    def refresh(self) -> None:
        """Re-read every family's trials from the storage: the coordinator's view after the workers finished."""
        for state in self.families:
            self._restore(state, requeue=False)

    @property
    def trials_done(self) -> int:
        """Trials run so far over all families (restored ones included; not a skipped family's placeholder)."""
        return sum(t.trial is not None for s in self.families for t in s.trials)

    # ------------------------------------------------------------------ public
    def run(self, deadline: float | None = None, n_trials: int | None = None,
            hard_deadline: float | None = None) -> list[TrialResult]:
        """Run trials until ``deadline`` (monotonic seconds) or until each family has ``n_trials``.

        A family's first trial (its defaults) may run until ``hard_deadline`` (default: ``deadline``): the time
        left after the search is for ensembles and the refit, and a family's defaults are what it will be
        refitted with if nothing better turns up.
        """
        if (deadline is None) == (n_trials is None):
            raise ValueError("Give exactly one of deadline and n_trials.")
        self._hard_deadline = hard_deadline or deadline
        with reusing_fits():  # free text is tokenised once per fold, not once per fold of every trial
            self._prepare_text(deadline)
            self._started = self._last_summary = time.monotonic()
            self._search_seconds = (deadline - self._started) if deadline is not None else 0.0
            self._log_plan(deadline, n_trials)
            while True:
                state = self._next_family(deadline, n_trials)
                if state is None:
                    break
                self._run_trial(state, deadline, self._take_portfolio(state, deadline))
        return [t for s in self.families for t in s.trials]

    def _prepare_text(self, deadline: float | None) -> None:
        """Fit the free-text columns' features in every fold before the trials (:func:`fit_in_folds`), so that
        the trials, and the time each family is expected to need, do not carry that one-off cost."""
        columns = self.ctx.schema.prepared_columns("text")
        if not columns:
            return
        sparse = [s.spec.sparse_text and s.spec.pipeline_for(self.ctx.schema.task) == "dense" for s in self.families]
        components = ([None] if any(sparse) else []) + ([TEXT_COMPONENTS] if not all(sparse) else [])
        started = time.monotonic()
        done = fit_in_folds(self.X[columns], self.folds, components, deadline, whole=self.refit_on_search_rows)
        what = (f"Free text: the features of {len(columns)} text column{'s' if len(columns) > 1 else ''} "
                f"({' and '.join(['TF-IDF'] * (None in components) + ['its SVD'] * (TEXT_COMPONENTS in components))})")
        seconds = format_seconds(time.monotonic() - started)
        if done == len(self.folds):
            log.info("%s fitted in each of the %d folds in %s, once for every trial.", what, done, seconds)
        else:
            why = ("the memory kept for them is full" if text_reuse_full() else "the search's time ran out")
            log.info("%s fitted in %d of the %d folds in %s, once for every trial (%s); the other folds fit them "
                     "in each trial.", what, done, len(self.folds), seconds, why)

    # ------------------------------------------------------------------ scheduling
    def _next_family(self, deadline: float | None, n_trials: int | None) -> FamilyState | None:
        if n_trials is not None:
            waiting = [s for s in self.families if self._trial_count(s) < n_trials and not s.exhausted]
            return min(waiting, key=lambda s: (len(s.trials), self._defaults_order(s))) if waiting else None
        assert deadline is not None
        remaining = deadline - time.monotonic()
        fresh = sorted((s for s in self.families if s.best is None and not s.exhausted), key=self._defaults_order)
        able = [s for s in self.families if not s.exhausted and s.best is not None and self._fits(s, remaining)]
        if self.schedule == "sides":  # neural nets and tree ensembles get the same time and trials, as far as can be
            neural = self._side_behind()
            able = [s for s in able if (s.spec.kind == NEURAL) == neural] or able
        known = [s for s in able if self._affordable_portfolio(s, remaining)]
        first_of_kind = bool(fresh) and self._defaults_order(fresh[0])[0] == 0
        neural = [s for s in able if s.spec.kind == NEURAL]
        if self.schedule == "rank" and neural and not first_of_kind and self._neural_behind():
            return neural[0]  # its share of the time, in several trials (its portfolio first)
        if fresh and (first_of_kind or not known or not self._portfolio_turn):
            state = fresh[0]  # defaults: the cheapest of each kind, then the others by cost
            need = None
            if state.spec.anytime:  # it stops training where it is told, but its set-up takes seconds
                if remaining < self._min_anytime_seconds():
                    need = f"needs at least {format_seconds(self._min_anytime_seconds())}"
            elif (expected := self._expected_seconds(state)) is not None and expected > remaining:
                need = f"needs about {format_seconds(expected)}"
            if need is not None:
                self._skip(state, f"{need}, {left_seconds(remaining)}")
                return self._next_family(deadline, n_trials)
            self._portfolio_turn = not first_of_kind
            return state
        if known:  # a known-good configuration of the best-ranked family that has one left
            self._portfolio_turn = False
            rank = self._ranks()
            return min(known, key=lambda s: rank[s.spec.key])
        if not able:
            return None
        rank = self._ranks()
        return min(able, key=lambda s: (s.seconds * rank[s.spec.key], rank[s.spec.key]))

    def _side_behind(self) -> bool:
        """The side the ``"sides"`` schedule tunes next (``True``: the neural nets, ``False``: the others).

        The side with fewer trials, while its time is at most ``SIDES_TIME_SLACK`` times the other side's; else
        (or with as many trials) the side with less time. A trial counts when it ran (it has a trial number:
        pruned, stopped and failed ones too), not the placeholder of a family skipped for the budget, as in the
        report's budget table.
        """
        seconds = {k: sum(s.seconds for s in self.families if (s.spec.kind == NEURAL) == k) for k in (True, False)}
        trials = {k: sum(t.trial is not None for s in self.families if (s.spec.kind == NEURAL) == k for t in s.trials)
                  for k in (True, False)}
        if trials[True] != trials[False]:
            fewer = trials[True] < trials[False]
            if seconds[fewer] <= SIDES_TIME_SLACK * seconds[not fewer]:
                return fewer
        return seconds[True] <= seconds[False]

    # ------------------------------------------------------------------ the neural nets' share
    def _neural_share(self) -> float:
        """Share of the search time for the neural nets: all of it when nothing else runs, half under the
        ``"sides"`` schedule, else ``NEURAL_SHARE``, or once their defaults have run what the minimum number of
        trials needs (the defaults' time, then ``LATER_TRIAL_COST`` of it for each later one), at most
        ``NEURAL_SHARE_MAX`` (not on large data: there it stays ``NEURAL_SHARE``)."""
        neural = {s.spec.kind == NEURAL for s in self.families}
        if True not in neural:
            return 0.0
        if False not in neural:
            return 1.0
        if self.schedule == "sides":
            return 0.5
        if not self._search_seconds or self.large:  # no time limit (n_trials), or a large table
            return NEURAL_SHARE
        return max(NEURAL_SHARE, min(NEURAL_SHARE_MAX, self._neural_needed() / self._search_seconds))

    def _neural_needed(self) -> float:
        """Seconds the minimum number of neural trials needs, judged by the first finished network trial (its
        defaults; 0 before). Its time holds the training that replaced its library's import (see
        :func:`~automl.search.evaluate.cross_validate`), which the later trials do not pay: up to about 110 s of
        search any overrun of the defaults' planned two fifths of the share raises the share."""
        ran = [t for s in self.families if s.spec.kind == NEURAL for t in s.trials
               if t.status == "ok" and t.trial is not None]
        if not ran:
            return 0.0
        return ran[0].fit_time * (1 + LATER_TRIAL_COST * (NEURAL_TRIALS[0] - 1))

    def _neural_trials_target(self) -> int:
        """How many trials the neural share is split into: one per ``NEURAL_SECONDS_PER_TRIAL`` s of search, at
        least ``NEURAL_TRIALS[0]`` (``NEURAL_TRIALS_LARGE`` on large data), at most ``NEURAL_TRIALS[1]``."""
        low = NEURAL_TRIALS_LARGE if self.large else NEURAL_TRIALS[0]
        return int(np.clip(round(self._search_seconds / NEURAL_SECONDS_PER_TRIAL), low, NEURAL_TRIALS[1]))

    def _neural_defaults_fraction(self) -> float:
        """The neural share's fraction planned for the defaults: two of the planned trials, at least
        ``NEURAL_DEFAULTS_SHARE``."""
        return max(2 / (self._neural_trials_target() + 1), NEURAL_DEFAULTS_SHARE)

    def _neural_spent(self) -> tuple[float, int]:
        """Seconds and trials the neural nets have had so far."""
        states = [s for s in self.families if s.spec.kind == NEURAL]
        return sum(s.seconds for s in states), sum(len(s.trials) for s in states)

    def _neural_behind(self) -> bool:
        """Whether the neural nets have had less than their share of the search time elapsed so far."""
        return self._neural_spent()[0] < self._neural_share() * (time.monotonic() - self._started)

    def _neural_cap(self, remaining: float) -> float:
        """Seconds for the next neural trial: what is left of the share, over the trials still planned (the
        defaults count as two; at least two, so a later trial always has time too), less the mean time by which
        the trials that ran every fold (the defaults included) overran theirs (never below half the even split);
        once the share is spent (a leading network may get more trials by its rank), an equal share of the
        ``remaining`` seconds with the other families."""
        seconds, trials = self._neural_spent()
        left = self._neural_share() * self._search_seconds - seconds
        if left <= 0:
            return max(remaining, 0.0) / max(1, sum(not s.exhausted for s in self.families))
        if not trials:  # the defaults, the strongest configuration, count as two trials
            return left * self._neural_defaults_fraction()
        even = left / max(self._neural_trials_target() - trials, 2)
        # less what the trials so far (the defaults too) ran past their time on average (predicting each fold's
        # validation rows, preparing its inputs; caravan's 85 columns: 9 trials in a 79 s share instead of the
        # planned 10), never under half
        overrun = float(np.mean(self._neural_overruns)) if self._neural_overruns else 0.0
        return max(even - overrun, even / 2)

    def _fits(self, state: FamilyState, remaining: float) -> bool:
        """Whether another trial of the family fits in the ``remaining`` seconds: a whole CV run and a refit (or
        what its fold models need instead) at its last pace, or for a neural net (it stops training where it is
        told) :meth:`_min_anytime_seconds`."""
        if state.spec.anytime and state.spec.kind == NEURAL:
            return remaining > self._min_anytime_seconds()
        return state.fold_seconds * (len(self.folds) + after_folds(state.spec)) < remaining

    def _min_anytime_seconds(self) -> float:
        """The least search time left with which a network trial starts (its set-up grows with the columns)."""
        return MIN_ANYTIME_SECONDS + ANYTIME_SECONDS_PER_1000_COLUMNS * self.X.shape[1] / 1000

    def _ranks(self) -> dict[str, int]:
        """Rank of each family by its best CV score so far (1 = best); families with no result rank last."""
        sign = 1 if self.ctx.metric.greater_is_better else -1
        scored = sorted((s for s in self.families if s.best is not None), key=lambda s: -sign * s.best.mean)
        ranks = {s.spec.key: i + 1 for i, s in enumerate(scored)}
        return {s.spec.key: ranks.get(s.spec.key, len(self.families)) for s in self.families}

    def _portfolio_seconds(self, state: FamilyState, index: int) -> float:
        """Expected seconds of the family's portfolio configuration ``index`` (a CV run and the refit)."""
        cost = state.portfolio[index][0]
        return state.defaults_fold_seconds * cost * (len(self.folds) + after_folds(state.spec))

    def _affordable_portfolio(self, state: FamilyState, remaining: float) -> bool:
        """Whether the family has a portfolio configuration left that fits in ``PORTFOLIO_SHARE`` of the time
        left (an anytime family's always does: it stops where it is told); those that do not are skipped (and
        logged)."""
        if state.spec.anytime:
            return state.portfolio_left
        while state.portfolio_left:
            expected = self._portfolio_seconds(state, state.portfolio_done)
            if expected <= PORTFOLIO_SHARE * remaining:
                return True
            trial_log.info("Skipping %s configuration %d of its portfolio: needs about %.0f s, %.0f s left.",
                           state.spec.name, state.portfolio_done + 1, expected, max(remaining, 0))
            state.portfolio_done += 1
        return False

    def _take_portfolio(self, state: FamilyState, deadline: float | None) -> dict[str, Any] | None:
        """The params of the family's next portfolio configuration, if its defaults finished and one is left
        (that fits in the time left, with a budget)."""
        if self.shared:  # the other workers' trials count: the study's first ones are the defaults and portfolio
            state.portfolio_done = max(state.portfolio_done, min(len(state.portfolio), self._trial_count(state) - 1))
        if state.best is None or not state.portfolio_left:
            return None
        if deadline is not None and not self._affordable_portfolio(state, deadline - time.monotonic()):
            return None
        state.portfolio_done += 1
        return state.portfolio[state.portfolio_done - 1][1]

    def _trial_count(self, state: FamilyState) -> int:
        """Trials of the family so far: this process's, or with shared studies every worker's (asked ones)."""
        if not self.shared:
            return len(state.trials)
        return sum(t.state != optuna.trial.TrialState.WAITING for t in state.study.get_trials(deepcopy=False))

    def _log_plan(self, deadline: float | None, n_trials: int | None) -> None:
        order = ", ".join(s.spec.key for s in sorted(self.families, key=self._defaults_order))
        if self.wide:
            log.info("Wide table (%d columns, %d rows): the families start from their wide-data defaults (feature "
                     "subsampling, an L1-penalised linear model, a smaller network).", self.X.shape[1], len(self.X))
        for spec in (s.spec for s in self.families if self.large and s.spec.large):
            log.info("Large table (%d rows): %s starts from its large-data defaults (%s).", len(self.X), spec.name,
                     ", ".join(f"{k} {v}" for k, v in spec.large.items()))
        if ranks_at_tuned_threshold(self.ctx.metric.name, self.ctx.schema.task, self.ctx.threshold):
            at = (f"the decision threshold --threshold gives ({self.ctx.threshold:g})" if self.ctx.threshold is not None
                  else "the decision threshold that maximises it on the other folds' out-of-fold predictions")
            log.info("Metric %s: each model is scored as it is delivered, every fold at %s (boosting rounds are "
                     "chosen by log loss).", self.ctx.metric.name, at)
        if n_trials is not None:
            log.info("Plan: %d trial%s per family, one family after another (%s); no time limit.", n_trials,
                     "s" if n_trials != 1 else "", order)
            return
        assert deadline is not None
        search = deadline - time.monotonic()
        if search < 1:  # "Plan: -2 s of search" before
            spent = "before the search started (reading and preparing the data). Raise --time-limit."
            if search <= 0:
                log.warning("Plan: no search time is left: the budget was all spent %s", spent)
            else:
                log.warning("Plan: only %s of search is left, for the first defaults in this order: %s: the budget "
                            "was nearly all spent %s", format_seconds(search), order, spent)
            return
        share = self._neural_share()
        rises = share < NEURAL_SHARE_MAX and not self.large
        neural = ""
        if share:
            trials = self._neural_trials_target()
            later = (1 - self._neural_defaults_fraction()) * share * search / (trials - 1)
            neural = (f" Neural nets: {share:.0%} of it ({share * search:.0f} s), planned as {trials} trials: "
                      f"about {self._neural_defaults_fraction() * share * search:.0f} s for their defaults, then "
                      f"about {later:.0f} s each (each stops training at its time and keeps its "
                      "best epoch)" + (f", up to {NEURAL_SHARE_MAX:.0%} if their defaults take so long that "
                                       f"{NEURAL_TRIALS[0] - 1} more would not fit" if rises
                                       else ""))
            if later < self._min_anytime_seconds():  # a plan, not a promise: say when it cannot hold
                neural += (f"; a budget this short gives them fewer (a network trial needs about "
                           f"{format_seconds(self._min_anytime_seconds())})")
            neural += ";"
        rest = ("the tree ensembles and the others get the same time and trials as the neural nets, as far as can be"
                if self.schedule == "sides" else "the others: the family with the least time spent so far, weighted "
                "by its rank (time x rank), gets the next trial, each within its share of what is left")
        log.info("Plan: %.0f s of search. Each family's defaults first, in this order: %s.%s %s.",
                 search, order, neural, rest if neural else _sentence(rest.replace("the others: ", "after them, ")))

    def _defaults_order(self, state: FamilyState) -> tuple[int, int, float]:
        """Sort key for the defaults trials: first the cheapest family of each kind (linear, boosting, bagging,
        neural net), so a short budget still compares every kind, then the rest; cheaper first within each.
        Among the first of each kind, those that cannot stop early go first, then the network (it stops at
        its share, but importing TensorFlow and building its graph take seconds), then the forests and bagged
        trees, which stop after any step of trees and so take what is left: at 30 s the network came after
        ExtraTrees and met the end of the search (Ames: ExtraTrees' defaults took 14 s, leaving 1.2 s)."""
        same_kind = sorted(s.spec.cost for s in self.families if s.spec.kind == state.spec.kind)
        if state.spec.cost != same_kind[0]:
            return (1, 0, state.spec.cost)
        return (0, 0 if not state.spec.anytime else 1 if state.spec.kind == NEURAL else 2, state.spec.cost)

    def _expected_seconds(self, state: FamilyState) -> float | None:
        """Seconds one CV run of ``state`` is expected to take, from families measured so far."""
        rates = [s.fold_seconds / s.spec.cost for s in self.families if s.fold_seconds > 0]
        if not rates:
            return None
        return float(np.median(rates)) * state.spec.cost * (len(self.folds) + after_folds(state.spec))

    def _skip(self, state: FamilyState, reason: str) -> None:
        log.info("Skipping %s: %s.", state.spec.name, reason)
        state.exhausted = True
        state.trials.append(TrialResult(state.spec.key, state.spec.name, state.spec.kind, self._defaults(state.spec),
                                        status="out of budget", reason=reason))

    # ------------------------------------------------------------------ one trial
    def _run_trial(self, state: FamilyState, deadline: float | None, known: dict[str, Any] | None = None) -> None:
        """One trial of the family: the ``known`` configuration (its portfolio's), or the next the study has
        queued (its defaults) or its sampler suggests."""
        spec, study = state.spec, state.study
        if self.shared:
            optuna.storages.fail_stale_trials(study)  # trials of workers whose heartbeat stopped
        if known is not None:
            study.enqueue_trial(known)
        with warnings.catch_warnings():  # ask-and-tell with our own heartbeat thread (below) is on purpose
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            trial = study.ask()
        enqueued = study._storage.get_trial_system_attrs(trial._trial_id).get("fixed_params")
        params = spec.suggest(trial, self.ctx.schema.task, self.large, enqueued or self._defaults(spec))
        if self.ctx.log_target:
            params[LOG_TARGET] = trial.suggest_categorical(LOG_TARGET, [True, False])
        if self.ctx.class_balance:
            params[CLASS_WEIGHT] = trial.suggest_categorical(CLASS_WEIGHT, ["none", "balanced"])
        expected = 0.0 if known is None else self._portfolio_seconds(state, state.portfolio_done - 1)
        started = time.monotonic()
        trial_deadline, soft_deadline = self._trial_deadline(state, deadline, expected), None
        if spec.anytime and deadline is not None:  # it ends its training at its time limit; only the budget stops it
            soft_deadline = trial_deadline  # the search's end, or for its defaults the budget's if that is later
            trial_deadline = deadline if state.best is not None else min(self._hard_deadline or deadline,
                                                                         max(deadline, soft_deadline))
        with get_heartbeat_thread(trial._trial_id, study._storage):  # no-op unless the storage has heartbeats
            result = cross_validate(spec, self.ctx, self.X, self.y, self.folds, trial_deadline, params, trial=trial,
                                    soft_deadline=soft_deadline)
        result.trial, result.worker = trial.number, self.worker
        previous_best = state.best
        state.trials.append(result)
        trial.set_user_attr(checkpoint.RESULT_ATTR, checkpoint.to_attrs(result))
        if state.best is result:
            self.checkpoints.save(result)  # on disk before the study is told: a resume always finds the best's
        else:
            result.oof = result.oof_by_repeat = None  # keep out-of-fold predictions of each family's best only
            result.fold_models = None
        state.seconds += result.fit_time
        state.last_trial_seconds = max(result.fit_time, 1e-3)
        if spec.kind == NEURAL and soft_deadline is not None and result.status == "ok":
            # the defaults' too (cross_validate moved their end by the import): without it the first later trial
            # has nothing to go by (caravan, whole product at 60 s: 3 network trials instead of 4 in 3 of 6 runs
            # before, 3 of 12 after; benchmarks/neural.md)
            self._neural_overruns.append(max(0.0, result.fit_time - (soft_deadline - started)))
        if result.fold_scores:
            state.fold_seconds = result.fit_time / len(result.fold_scores)
        if result.status == "ok":
            study.tell(trial, result.mean)
        elif result.status in ("pruned", "out of budget") and result.fold_scores:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if len(state.trials) >= 3 and all(t.status == "failed" for t in state.trials[-3:]):
                state.exhausted = True
                log.warning("Giving up on %s after 3 failed trials in a row.", spec.name)
        if previous_best is not None and state.best is result:
            previous_best.oof = previous_best.oof_by_repeat = previous_best.fold_models = None
            self.checkpoints.drop(previous_best)
        if state.best is None and result.status != "ok" and deadline is not None:
            state.exhausted = True  # its defaults did not finish within the budget: do not try bigger models
        self._log(state, result)
        if self.on_trial is not None:
            self.on_trial(state, result)

    def _trial_deadline(self, state: FamilyState, deadline: float | None, expected: float = 0.0) -> float:
        """When the trial must stop: its defaults may use what is left (a neural net: its share of the search,
        see :meth:`_neural_cap`); later trials their share of what is left, or ``1.5 * expected`` (a portfolio
        configuration's cost), or as long as a whole CV run took last time; a forest ends its growing there."""
        if deadline is None:
            return float("inf")
        now = time.monotonic()
        remaining = deadline - now
        if state.spec.anytime and state.spec.kind == NEURAL:  # it ends its training where it is told
            # within the search's time (the rest is the ensembles' and the refit's); its defaults start only with
            # _min_anytime_seconds() left (_next_family)
            return min(deadline, now + self._neural_cap(remaining))
        if state.best is None:  # its defaults: screened by the expected cost, may use what is left (an anytime
            return deadline if state.spec.anytime else self._hard_deadline or deadline  # one: of the search)
        active = max(1, sum(not s.exhausted for s in self.families))
        # Its share of what is left, but never less than what a whole CV run took last time (with room to
        # spare): a trial that could only ever finish one fold would waste its time. A forest (anytime) stops
        # growing trees there. Given only its share (remaining / active), forests were cut short where more trees
        # still helped: soybean's test log loss at 60 s, 3 runs each, 0.128-0.143 against 0.125-0.137 when forests
        # could not stop; with this rule 0.130 and 0.131 (2 runs; letter 0.080 and 0.082, before 0.081-0.085)
        expected = max(expected, state.fold_seconds * (len(self.folds) + after_folds(state.spec)))
        share = max(remaining / active, 1.5 * expected, 3 * state.last_trial_seconds)
        return min(deadline, now + share)

    def _log(self, state: FamilyState, result: TrialResult) -> None:
        """The family's first trial (its defaults) on the search's logger; every later trial on ``automl.trials``
        (the CLI shows those at ``--verbose``, the run's log always); a progress summary every
        ``SUMMARY_SECONDS``."""
        metric = self.ctx.metric.name
        best = state.best
        best_text = f"; best {format_score(best.mean)}" if best else ""
        first = len(state.trials) == 1
        logger, label = (log, f"{state.spec.name} defaults") if first else (trial_log, f"{state.spec.name} trial")
        number = "" if first else f" {result.trial}"
        if result.status == "ok":
            logger.info("%s%s: %s %s%s (%.1f s)%s.", label, number, metric, format_score(result.mean),
                        _rounds_text(state.spec, result), result.fit_time, "" if first else best_text)
        else:
            level = logging.WARNING if result.status == "failed" else logging.INFO
            logger.log(level, "%s%s %s (%s)%s.", label, number, result.status, result.reason, best_text)
        # the share rose (under "rank" it is a third to a half with other families, all of it when alone)
        if first and state.spec.kind == NEURAL and result.status == "ok" and self.schedule == "rank" \
                and NEURAL_SHARE < self._neural_share() < 1.0:
            log.info("Neural nets: their defaults took %.1f s; their share rises to %.0f%% of the search (%.0f s) "
                     "so that %d more trials fit.", result.fit_time, 100 * self._neural_share(),
                     self._neural_share() * self._search_seconds, NEURAL_TRIALS[0] - 1)
        now = time.monotonic()
        if now - self._last_summary >= SUMMARY_SECONDS:
            self._last_summary = now
            log.info("%s", self.summary())

    def summary(self) -> str:
        """One line on the search so far: trials run (how many pruned or failed), each family's best, leader
        first, e.g. ``"Search: 41 trials in 23 s (12 pruned); best roc_auc: LightGBM 0.9312, XGBoost 0.9301"``."""
        results = [t for s in self.families for t in s.trials if t.trial is not None]  # not skipped families
        counts = {status: sum(t.status == status for t in results) for status in ("pruned", "failed")}
        extra = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
        sign = 1 if self.ctx.metric.greater_is_better else -1
        scored = sorted((s for s in self.families if s.best is not None), key=lambda s: -sign * s.best.mean)
        shown = ", ".join(f"{s.spec.name} {format_score(s.best.mean)}" for s in scored[:4])
        more = f" and {len(scored) - 4} more" if len(scored) > 4 else ""
        seconds = time.monotonic() - self._started if self._started else sum(s.seconds for s in self.families)
        trials = f"{len(results)} trial{'' if len(results) == 1 else 's'}"
        return (f"Search: {trials} in {seconds:.0f} s{f' ({extra})' if extra else ''}"
                f"{f'; best {self.ctx.metric.name}: {shown}{more}' if shown else ''}.")


def _rounds_text(spec: ModelSpec, result: TrialResult) -> str:
    """`` at 87 of 150 rounds`` for a boosting trial whose folds chose fewer rounds than it trained; `` with
    60 of 200 trees (its time was up)`` for a forest whose folds stopped growing short."""
    if spec.grown is not None and spec.grown in result.chosen:
        return f" with {result.chosen[spec.grown]} of {result.params.get(spec.grown)} trees (its time was up)"
    if spec.rounds is None or spec.rounds.param not in result.chosen:
        return ""
    chosen, trained = result.chosen[spec.rounds.param], result.params.get(spec.rounds.param)
    return f" at {chosen} of {trained} rounds" if chosen != trained else ""
