"""Refuse, with advice, a fit that would not fit in memory, instead of being killed by the operating system.

Two checks: before reading (the file's size against the memory available) and after the schema is known (the
table's rows and prepared columns, the search sample and the model families). The estimates are deliberately
rough upper bounds from measured multipliers; ``AUTOML_MEMORY_LIMIT`` (bytes, e.g. ``24e9``) overrides what the
machine reports as available, for a container whose limit the kernel does not show.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from automl.errors import DataError

log = logging.getLogger(__name__)

GIB = 1024**3
TEXT_TO_FRAME = 2.5  # a parsed table and its prepared copy take about this many times the CSV's size
GZIP_RATIO = 4.0  # a gzipped CSV is about this many times smaller than the text
DENSE_COPIES = 4.0  # copies of the prepared search matrix alive during cross-validation (folds, one-hot, model)
REFIT_COPIES = 3.0  # copies of the full prepared matrix during the refit on all rows
HEAVY_FAMILIES = ("keras_mlp", "random_forest", "extra_trees", "bagging")


def available_bytes() -> int | None:
    """Memory available to this process: ``AUTOML_MEMORY_LIMIT``, else Linux's MemAvailable, else ``None``."""
    limit = os.environ.get("AUTOML_MEMORY_LIMIT")
    if limit:
        return int(float(limit))
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_file(path: Path) -> None:
    """Refuse a file whose parsed table alone would not fit in the memory available."""
    available = available_bytes()
    if available is None:
        return
    size = path.stat().st_size * (GZIP_RATIO if path.name.lower().endswith(".gz") else 1.0)
    need = size * TEXT_TO_FRAME
    if need > 0.9 * available:
        raise DataError(
            f"{path} ({size / GIB:.1f} GiB of text) needs about {need / GIB:.1f} GiB of memory to read and prepare; "
            f"{available / GIB:.1f} GiB are available. Fit on a sample of the rows (e.g. the first N lines), keep "
            "fewer columns, or use a machine with more memory."
        )


def estimate_fit_bytes(rows: int, search_rows: int, width: int, families: list[str]) -> tuple[float, float]:
    """Upper estimates of the memory the search and the refit need beyond the table (8 bytes a value)."""
    search = search_rows * width * 8 * DENSE_COPIES
    refit = rows * width * 8 * REFIT_COPIES
    if any(f in HEAVY_FAMILIES for f in families):  # forests grow with the rows; a Keras refit copies to float32
        refit *= 1.5
    return search, refit


def check_fit(rows: int, search_rows: int, width: int, families: list[str], table_bytes: int) -> None:
    """Refuse a fit whose search and refit would not fit in the memory available (with what to change)."""
    available = available_bytes()
    if available is None:
        return
    search, refit = estimate_fit_bytes(rows, search_rows, width, families)
    room = 0.9 * available - table_bytes
    log.debug("Memory: about %.2f GiB for the search and %.2f GiB for the refit; %.2f GiB available.",
              search / GIB, refit / GIB, available / GIB)
    if search + refit <= room:
        return
    heavy = [f for f in families if f in HEAVY_FAMILIES]
    where = (f"{rows} rows x {width} prepared columns, search on {search_rows} rows; about {search / GIB:.1f} GiB "
             f"for the search and {refit / GIB:.1f} GiB for the refit on all rows, besides the "
             f"{table_bytes / GIB:.1f} GiB table; {available / GIB:.1f} GiB are available")
    if refit > room:
        fix = "fit on a sample of the rows (e.g. the first lines of the file), keep fewer columns"
    else:
        fix = f"--sample-rows {max(1000, int(search_rows * (room - refit) / search)):d} (a smaller search sample)"
    if heavy:
        fix += f", or --exclude-models {','.join(heavy)}"
    raise DataError(f"This fit would not fit in memory ({where}). Try {fix}, or use a machine with more memory.")
