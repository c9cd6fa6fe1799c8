"""The run folder: what a run writes, written atomically, and the list of files automl owns there.

Layout::

    RUN_DIR/run.json          metadata, status, config, schema summary, scores, timings, files written
    RUN_DIR/leaderboard.csv   one row per model family and ensemble (also as leaderboard.json)
    RUN_DIR/trials.csv        every Optuna trial of every family
    RUN_DIR/oof_predictions.parquet  out-of-fold predictions of each leaderboard model, per row of the search data
    RUN_DIR/optuna.journal    the Optuna studies (one per family)
    RUN_DIR/profile.json      the data profile (column statistics, histograms, target distribution)
    RUN_DIR/feature_importance.csv  permutation importance of the final model
    RUN_DIR/holdout.json      scores on held-out labelled data (``automl evaluate``), when it was run
    RUN_DIR/holdout_importance.json  permutation importance on held-out labelled data (``automl importance RUN
                              DATA``), when it was run
    RUN_DIR/report.html       the report, rendered from the files above
    RUN_DIR/model.joblib      the fitted predictor (pickle: load only run folders you trust)
    RUN_DIR/automl.log        the full log of the run, tracebacks included
    RUN_DIR/log.jsonl         the same log as JSON lines (time, level, logger, message), for log collectors
    RUN_DIR/checkpoints/      out-of-fold predictions of each family's best trial while the search runs (resume)
    RUN_DIR/.automl.lock      held (flock) by the process writing the folder; lock.json names it

``run.json["files"]`` lists every file automl wrote, so ``--overwrite`` replaces exactly those and never
touches anything else in the folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from automl.errors import FILE_ONLY, ConfigError, ModelFormatError, OutputExistsError, RunLockedError
from automl.results.run_record import FIELDS, RunRecord

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the predictor keeps the refitted members of an ensemble (predict --model)
RUN_FILE = "run.json"
MODEL_FILE = "model.joblib"
LEADERBOARD_FILE = "leaderboard.csv"
LEADERBOARD_JSON = "leaderboard.json"
OOF_FILE = "oof_predictions.parquet"
PROFILE_FILE = "profile.json"
IMPORTANCE_FILE = "feature_importance.csv"
HOLDOUT_FILE = "holdout.json"
HOLDOUT_IMPORTANCE_FILE = "holdout_importance.json"
REPORT_FILE = "report.html"
TRIALS_FILE = "trials.csv"
JOURNAL_FILE = "optuna.journal"
LOG_FILE = "automl.log"
JSON_LOG_FILE = "log.jsonl"
CHECKPOINT_DIR = "checkpoints"
LOCK_FILE = ".automl.lock"
LOCK_INFO = "lock.json"
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


_UMASK = os.umask(0)
os.umask(_UMASK)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def unused_folder(parent: Path, name: str) -> Path:
    """``parent/name``, or when that exists ``parent/name-2``, ``-3``, ...: run folders named by the second (two
    runs within one second would otherwise share one)."""
    candidate, n = parent / name, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{name}-{n}"
    return candidate


class RunFolder:
    """A run folder being written by one fit."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.files: set[str] = set()
        self.meta: dict[str, Any] = {}

    def prepare(self, overwrite: bool) -> None:
        """Create the folder, or check that it may be written to.

        A folder holding anything but the files of an earlier *failed* run is refused unless ``overwrite``;
        with ``overwrite``, only the files an earlier run listed as its own are removed.
        """
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"Output {self.path} is a file, not a folder. Choose another --output.")
        entries = sorted(p.name for p in self.path.iterdir() if p.name not in (LOCK_FILE, LOCK_INFO)) \
            if self.path.is_dir() else []
        found = read_json(self.path / RUN_FILE) if RUN_FILE in entries else {}
        previous = RunRecord.from_dict(found)
        owned = set(previous.files) | ({RUN_FILE} if found else set())
        if entries and not overwrite and not (previous.status == "failed" and set(entries) <= owned):
            shown = ", ".join(entries[:5]) + (" ..." if len(entries) > 5 else "")
            raise OutputExistsError(
                f"Output folder {self.path} is not empty ({shown}). Choose another --output, or pass --overwrite "
                "to replace the files automl wrote there (other files are kept)."
            )
        try:
            for name in owned & set(entries):
                target = self.path / name
                if target.is_dir() and name == CHECKPOINT_DIR:
                    shutil.rmtree(target)
                elif target.is_file():
                    target.unlink()
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"Cannot write to the output folder {self.path}: {e.strerror or e}. "
                              "Choose another --output.") from e
        self.update(status="running", started=now(), format_version=FORMAT_VERSION)

    def reopen(self) -> RunRecord:
        """Continue an unfinished run in this folder: its ``run.json`` is read back and marked running again."""
        self.meta = read_run(self.path)
        previous = RunRecord.from_dict(self.meta)
        if previous.status == "complete":
            raise ConfigError(f"The run in {self.path} is already complete; there is nothing to resume. "
                              "Start a new run with `automl fit`.")
        if previous.format_version != FORMAT_VERSION:
            raise ModelFormatError(f"The run in {self.path} was written by another automl version (format "
                                   f"{previous.format_version}, this one writes {FORMAT_VERSION}); "
                                   "it cannot be resumed. Start a new run with `automl fit`.")
        self.files = set(previous.files)
        self.update(status="running", resumed=[*previous.resumed, now()], error=None)
        return previous

    @property
    def checkpoints(self) -> Path:
        self.files.add(CHECKPOINT_DIR)
        return self.path / CHECKPOINT_DIR

    def drop_checkpoints(self) -> None:
        """Remove the search's checkpoints once the run is complete (its results are in the other files)."""
        shutil.rmtree(self.path / CHECKPOINT_DIR, ignore_errors=True)
        self.files.discard(CHECKPOINT_DIR)

    @contextlib.contextmanager
    def locked(self, command: str | None = None) -> Iterator[None]:
        """Hold the folder's lock while writing it; another process gets :class:`RunLockedError` (exit 4).

        The lock is an ``flock`` (through ``filelock``): the kernel releases it when its process ends,
        however it ends (``kill -9`` included), so a stopped run never leaves a stale lock behind.
        """
        from filelock import FileLock, Timeout

        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"Output {self.path} is a file, not a folder. Choose another --output.")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"Cannot create the output folder {self.path}: {e.strerror or e}. "
                              "Choose another --output.") from e
        lock = FileLock(self.path / LOCK_FILE, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            holder = read_json(self.path / LOCK_INFO)
            who = (f"process {holder.get('pid', '?')} on {holder.get('host', '?')}, started "
                   f"{holder.get('started', '?')}" + (f" ({holder['command']})" if holder.get("command") else ""))
            raise RunLockedError(f"Run folder {self.path} is in use by {who}. Wait for that run to finish, or "
                                 "choose another --output.") from None
        try:
            info = {"pid": os.getpid(), "host": socket.gethostname(), "started": now(), "command": command}
            atomic_write(self.path / LOCK_INFO, lambda tmp: Path(tmp).write_text(json.dumps(info)))
            yield
        finally:
            with contextlib.suppress(OSError):
                (self.path / LOCK_INFO).unlink()
            lock.release()

    def write_text(self, name: str, text: str) -> Path:
        """Write a file atomically and record it as automl's."""
        self.files.add(name)
        return atomic_write(self.path / name, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def write_parquet(self, name: str, frame: Any) -> Path:
        """Write a DataFrame as Parquet atomically and record it as automl's."""
        self.files.add(name)
        return atomic_write(self.path / name, lambda tmp: frame.to_parquet(tmp, index=False))

    def save_model(self, obj: Any) -> Path:
        """Pickle ``obj`` atomically with joblib: a crash never leaves a half-written model that loads."""
        import joblib

        self.files.add(MODEL_FILE)
        return atomic_write(self.path / MODEL_FILE, lambda tmp: joblib.dump(obj, tmp))

    @property
    def record(self) -> RunRecord:
        """``run.json`` as written so far."""
        return RunRecord.from_dict(self.meta)

    def update(self, **fields: Any) -> None:
        """Merge ``fields`` into ``run.json`` and rewrite it.

        Every key must be a field of :class:`~automl.results.run_record.RunRecord` (:class:`TypeError`
        otherwise); a nested record (a dataclass) is written as an object.
        """
        unknown = sorted(set(fields) - FIELDS)
        if unknown:
            raise TypeError(f"run.json has no key {', '.join(map(repr, unknown))}: add it to RunRecord first.")
        self.meta.update({k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for k, v in fields.items()})
        self.files.add(RUN_FILE)
        self.meta["files"] = sorted(self.files)
        self.write_text(RUN_FILE, json.dumps(_finite(self.meta), indent=2, default=_json_default, allow_nan=False))

    @contextlib.contextmanager
    def logging_to_file(self) -> Iterator[None]:
        """Send every ``automl`` log record (DEBUG and up) to ``automl.log``; log the traceback of a failure."""
        self.files.update((LOG_FILE, JSON_LOG_FILE))
        with log_to_file(self.path / LOG_FILE), log_to_file(self.path / JSON_LOG_FILE, JsonLines(), trace=False):
            yield


class JsonLines(logging.Formatter):
    """One JSON object per log record: time (UTC, ISO 8601), level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


@contextlib.contextmanager
def log_to_file(path: Path, formatter: logging.Formatter | None = None, trace: bool = True) -> Iterator[None]:
    """Append every ``automl`` log record to ``path``, and (``trace``) the traceback of an exception leaving the
    block.

    Where the program configured no logging (a script or a notebook calling the API), Python prints warnings and
    errors through its last-resort handler; this file handler would silence it, so one that prints as it does
    is kept on for the block (a dropped column, a model no better than the constant predictor are still seen).
    Where it did, its handlers get what they got before the file asked for every record: the records at or above
    the level the ``automl`` logger had (a program configured at WARNING does not see INFO lines)."""
    logger = logging.getLogger("automl")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(formatter or logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.DEBUG)
    old_level = logger.level
    shown = _STDERR.enter(logger)
    forwarded = not shown and _FORWARD.enter(logger)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    except BaseException:
        if trace:
            log.debug("Failed with this traceback:", exc_info=True)
        raise
    finally:
        logger.removeHandler(handler)
        if shown:
            _STDERR.leave(logger)
        if forwarded:
            _FORWARD.leave(logger)
        logger.setLevel(old_level)
        handler.close()


class _SharedHandler(logging.Handler):
    """A handler that every run of the process shares: attached to the logger by the first run that enters
    (when :meth:`_attach` agrees), detached by the last that leaves (two runs in threads: the first to end
    leaves it to the other)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.users = 0
        self.users_lock = threading.Lock()

    def _attach(self, logger: logging.Logger) -> bool:
        """Attach to ``logger`` if it should; whether it did."""
        raise NotImplementedError

    def _detach(self, logger: logging.Logger) -> None:
        logger.removeHandler(self)

    def enter(self, logger: logging.Logger) -> bool:
        """Attach it for this run (if the first run's :meth:`_attach` did); whether it is attached."""
        with self.users_lock:
            if self.users == 0 and not self._attach(logger):
                return False
            self.users += 1
            return True

    def leave(self, logger: logging.Logger) -> None:
        with self.users_lock:
            self.users -= 1
            if self.users == 0:
                self._detach(logger)


class _ForwardToParents(_SharedHandler):
    """While a run log lowers the ``automl`` logger to DEBUG, its records stop propagating, and this handler
    passes on those at or above the level the logger had before (its effective level when the first run began)
    to the handlers of its parents, as propagation did."""

    def emit(self, record: logging.LogRecord) -> None:
        parent = logging.getLogger("automl").parent
        if parent is not None:
            parent.callHandlers(record)

    def _attach(self, logger: logging.Logger) -> bool:
        """Take over the logger's propagation (unless it does not propagate)."""
        if not logger.propagate:
            return False
        self.setLevel(logger.getEffectiveLevel())
        logger.propagate = False
        logger.addHandler(self)
        return True

    def _detach(self, logger: logging.Logger) -> None:
        logger.removeHandler(self)
        logger.propagate = True


_FORWARD = _ForwardToParents()


class _WarningsToStderr(_SharedHandler):
    """What Python's last-resort handler prints (warnings and errors, as their message, to the current standard
    error), without the lines meant for the run log only; attached while any run goes on where the program
    configured no logging."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.addFilter(lambda record: not getattr(record, FILE_ONLY, False))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(record.getMessage() + "\n")
        except Exception:  # as logging's own handlers: a broken stream never breaks the run
            self.handleError(record)

    def _attach(self, logger: logging.Logger) -> bool:
        """Attach it if the program configured no logging."""
        if logger.hasHandlers() or logging.lastResort is None:
            return False
        logger.addHandler(self)
        return True


_STDERR = _WarningsToStderr()


def atomic_write(target: Path, write: Callable[[str], Any],
                 advice: str = "Free some space or fix the folder's permissions") -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it over ``target``.

    Raises
    ------
    ConfigError
        When the file cannot be written (permissions, a full disk): its path, the system's reason and ``advice``.
    """
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode open() would
        os.replace(tmp, target)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(e, OSError):
            raise ConfigError(f"Cannot write {target}: {e.strerror or e}. {advice}.") from e
        raise
    return target


def check_output_folder(path: str | Path) -> None:
    """Raise :class:`ConfigError` unless the folder ``path`` is to be written in exists and is a folder."""
    parent = Path(path).parent
    if not parent.exists():
        raise ConfigError(f"Folder {parent} does not exist. Create it or choose another --output.")
    if not parent.is_dir():
        raise ConfigError(f"{parent} is a file, not a folder, so {path} cannot be written. Choose another --output.")


def write_csv(frame: Any, path: str | Path) -> Path:
    """Write a DataFrame as CSV atomically (no partial file if interrupted).

    Raises
    ------
    ConfigError
        When the file's folder does not exist or the file cannot be written (permissions, a full disk).
    """
    target = Path(path)
    check_output_folder(target)
    return atomic_write(target, lambda tmp: frame.to_csv(tmp, index=False), advice="Choose another --output")


def _finite(value: Any) -> Any:
    """NaN and infinities become ``null``, so run.json is strict JSON that every tool reads."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        return _finite(value.item())
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; ``{}`` if it is missing, damaged or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_record(run_dir: str | Path) -> RunRecord:
    """``run.json`` of a run folder as its typed record; :class:`ModelFormatError` if it is missing or damaged."""
    return RunRecord.from_dict(read_run(run_dir))


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` of a run folder as a JSON object; :class:`ModelFormatError` if it is missing or damaged.
    Readers use :func:`read_record`; this raw form is for rewriting the file."""
    path = Path(run_dir)
    if not path.is_dir():
        what = "is a file, not a run folder" if path.exists() else "does not exist"
        raise ModelFormatError(f"Run folder {path} {what}. Give the --output folder of an `automl fit`.")
    data = read_json(path / RUN_FILE)
    if not data:
        raise ModelFormatError(f"{path} is not an automl run folder (no readable {RUN_FILE}).")
    return data


def read_config(run_dir: str | Path, target: str = "?") -> Any:
    """The :class:`~automl.config.FitConfig` a run folder's ``run.json`` recorded (``target`` when it has
    none, as in a run that failed before its config was written)."""
    return read_record(run_dir).fit_config(target)


def unfinished_advice(path: Path, status: str | None) -> str:
    """What to do with a run folder whose run did not finish, by its ``status``."""
    import shlex

    quoted = shlex.quote(str(path))
    if status == "running":
        return ("Its fit is still running, or its process ended without a word (a killed process): wait for "
                f"it, or continue it with `automl resume {quoted}`.")
    if status in ("interrupted", "budget exhausted"):
        return f"Continue it with `automl resume {quoted}`, or run `automl fit` again."
    return f"See {path / LOG_FILE} for what happened, and run `automl fit` again."


def load_model(run_dir: str | Path) -> Any:
    """Load the fitted predictor of a run folder, checking its format version.

    The model file is a pickle: load only run folders from a trusted source.
    """
    path = Path(run_dir)
    record = read_record(path)
    if record.status != "complete" or not (path / MODEL_FILE).is_file():
        raise ModelFormatError(f"Run folder {path} holds no finished model (status: {record.status}). "
                               f"{unfinished_advice(path, record.status)}")
    version = record.format_version
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"The model in {path} has format version {version}; this automl reads version {FORMAT_VERSION}. "
            "Refit it with this version, or install the automl version that wrote it."
        )
    import joblib

    try:
        return joblib.load(path / MODEL_FILE)
    except Exception as e:
        raise ModelFormatError(f"Cannot load {path / MODEL_FILE}: {type(e).__name__}: {e}. Refit the model.") from e
