"""The HTML report: one self-contained file rendered from a run folder (a pure function of that folder).

``render(run_dir)`` reads the saved results (run.json, leaderboard, trials, out-of-fold predictions, profile,
feature importance, the Optuna journal), builds the six CRISP-DM sections and writes ``report.html`` with the
figures inline as SVG, no external URL and every user-supplied string escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from automl.results import REPORT_FILE, DataRecord, RunRecord, atomic_write
from automl.results import leaderboard as lb

log = logging.getLogger(__name__)


SECTIONS = ("business", "data", "preparation", "modelling", "evaluation", "deployment")


def _section(build: Any, run: Any) -> dict[str, Any]:
    """One CRISP-DM section, or a one-line note if it cannot be built: a report renders for any data the fit
    accepted, and one section's failure costs that section only."""
    try:
        return build(run)
    except Exception as e:  # any failure of one section must not cost the report
        log.warning("The report's %s could not be built (%s: %s); it shows a note instead.", build.__name__,
                    type(e).__name__, e)
        return {"failed": f"This section could not be built ({type(e).__name__}: {str(e)[:200]})."}


def render_html(run_dir: str | Path) -> str:
    """The report of ``run_dir`` as an HTML string."""
    import jinja2

    from automl.report import sections
    from automl.report.rundata import load_run

    run = load_run(run_dir)
    # ChainableUndefined: a section replaced by its note (see _section) leaves the rest of its template empty
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
                             undefined=jinja2.ChainableUndefined)
    board = run.leaderboard
    chosen = run.record.best_model
    row = board.loc[board[lb.MODEL] == chosen]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # matplotlib layout notes on tiny plots
        context: dict[str, Any] = {
            "title": _title(run.record), "chosen": chosen, "metric": run.metric,
            "chosen_name": row[lb.NAME].iloc[0] if len(row) else chosen,
            "chosen_score": f"{row[run.score_column].iloc[0]:.4g}" if len(row) else "",
            "finished": run.record.finished or "",
            **{name: _section(getattr(sections, f"{name}_section"), run) for name in SECTIONS},
            "fmt": _fmt, "size": file_size,
        }
    return env.get_template("report.html.j2").render(**context)


def file_size(n_bytes: float) -> str:
    """``"840 kB"`` below 1 MiB (a small model read "0.0 MiB"), else ``"3.4 MiB"``; kB = 1024 bytes."""
    if n_bytes < 1024 * 1024:
        return f"{max(n_bytes / 1024, 0.1):.{0 if n_bytes >= 10 * 1024 else 1}f} kB"
    return f"{n_bytes / 1048576:.1f} MiB"


def render(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write the report of ``run_dir`` to ``output`` (default ``RUN_DIR/report.html``), atomically."""
    html = render_html(run_dir)
    target = Path(output) if output else Path(run_dir) / REPORT_FILE
    atomic_write(target, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))
    log.info("Report written to %s (%.0f kB).", target, len(html.encode()) / 1024)
    return target


def _title(record: RunRecord) -> str:
    data = record.data or DataRecord()
    name = Path(data.path).name if data.path else "DataFrame"
    return f"{name} → {data.target}"


def _fmt(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        if value != value:
            return ""
        from automl.report.sections import format_number

        return format_number(value)
    return str(value)


class Report:
    """A rendered report file; in Jupyter it displays inline (in an iframe, so its styles stay its own)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def html(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def _repr_html_(self) -> str:
        import html

        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width:100%;height:800px;'
                f'border:1px solid #ddd" title="automl report {html.escape(str(self.path))}"></iframe>')

    def __repr__(self) -> str:
        return f"Report({str(self.path)!r})"
