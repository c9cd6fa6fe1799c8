"""What a run writes, as data: the run folder (:mod:`.folder`), the typed record of ``run.json``
(:mod:`.run_record`), trial results and leaderboard rows (:mod:`.records`), and the result tables with their
column names (:mod:`.leaderboard`).

The package imports NumPy and pandas only, so the prediction path may use it.
"""

from automl.results.folder import (
    CHECKPOINT_DIR,
    FORMAT_VERSION,
    HOLDOUT_FILE,
    HOLDOUT_IMPORTANCE_FILE,
    IMPORTANCE_FILE,
    JOURNAL_FILE,
    JSON_LOG_FILE,
    LEADERBOARD_FILE,
    LEADERBOARD_JSON,
    LOCK_FILE,
    LOCK_INFO,
    LOG_FILE,
    LOG_FORMAT,
    MODEL_FILE,
    OOF_FILE,
    PROFILE_FILE,
    REPORT_FILE,
    RUN_FILE,
    TRIALS_FILE,
    JsonLines,
    RunFolder,
    atomic_write,
    load_model,
    log_to_file,
    now,
    read_config,
    read_json,
    read_record,
    read_run,
    unfinished_advice,
    unused_folder,
    write_csv,
)
from automl.results.run_record import ColumnRecord, ConstantPredictor, DataRecord, RunRecord

__all__ = [
    "CHECKPOINT_DIR", "FORMAT_VERSION", "HOLDOUT_FILE", "HOLDOUT_IMPORTANCE_FILE", "IMPORTANCE_FILE", "JOURNAL_FILE",
    "JSON_LOG_FILE",
    "LEADERBOARD_FILE",
    "LEADERBOARD_JSON", "LOCK_FILE", "LOCK_INFO", "LOG_FILE", "LOG_FORMAT", "MODEL_FILE", "OOF_FILE",
    "PROFILE_FILE", "REPORT_FILE", "RUN_FILE", "TRIALS_FILE", "ColumnRecord", "ConstantPredictor", "DataRecord",
    "JsonLines", "RunFolder", "RunRecord", "atomic_write", "load_model", "log_to_file", "now", "read_config",
    "read_json", "read_record", "read_run", "unfinished_advice", "unused_folder", "write_csv",
]
