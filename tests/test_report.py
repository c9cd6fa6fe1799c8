"""The HTML report: sections in CRISP-DM order, self-contained, user strings escaped, renders in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from automl.cli import EXIT_BAD_INPUT, main
from automl.report import render_html
from tests.conftest import make_frame

SECTIONS = ["business", "data", "preparation", "modelling", "evaluation", "deployment"]
EVIL_COLUMN = "<script>alert(1)</script>"
EVIL_LEVEL = 'Tom & "Jerry" <b>bold</b>'


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A real small run whose column names and category values try to inject HTML."""
    tmp = tmp_path_factory.mktemp("report")
    frame = make_frame("binary", n=150)
    frame = frame.rename(columns={"x1": EVIL_COLUMN})
    frame["colour"] = frame["colour"].replace({"red": EVIL_LEVEL})
    frame.to_csv(tmp / "train.csv", index=False)
    result = run("fit", tmp / "train.csv", "--target", "y", "--output", tmp / "run", "--trials", "2",
                 "--folds", "3", "--repeats", "1", "--models", "linear,lightgbm,keras_mlp", "--seed", "1")
    assert result.exit_code == 0, result.output
    return tmp / "run"


def test_fit_writes_a_report_with_every_section_in_crisp_dm_order(fitted):
    html = (fitted / "report.html").read_text(encoding="utf-8")
    positions = [html.index(f'<section id="{s}">') for s in SECTIONS]
    assert positions == sorted(positions)
    for phrase in ("Why this metric", "Class balance", "Pipeline", "Leaderboard", "Optuna optimisation history",
                   "learning curves", "corrected resampled t-test", "Confusion", "ROC curve", "Calibration",
                   "Permutation importance", "automl predict"):
        assert phrase.lower() in html.lower(), phrase
    assert html.count("<svg") >= 8  # plots are inline SVG
    assert len(html.encode()) < 5 * 1024 * 1024


def test_report_is_self_contained(fitted):
    html = (fitted / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert "url(http" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"<script[^>]+src", html)


def test_user_strings_are_escaped(fitted):
    html = (fitted / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html
    assert html.count("<script") == 1  # the report's own table-sorting script, nothing else


def test_neural_net_vs_tree_verdict(fitted):
    html = (fitted / "report.html").read_text(encoding="utf-8")
    verdicts = re.findall(r'<p class="verdict">(.*?)</p>', html, flags=re.S)
    assert verdicts and any("keras_mlp" in v and "lightgbm" in v for v in verdicts)
    assert any("p = " in v or "p &lt; 0.001" in v for v in verdicts)


def test_report_command_rerenders_from_the_run_folder(fitted, tmp_path):
    out = tmp_path / "copy.html"
    result = run("report", fitted, "--output", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (fitted / "report.html").read_text(encoding="utf-8")
    missing = run("report", tmp_path / "nothing")
    assert missing.exit_code == EXIT_BAD_INPUT and "does not exist" in missing.output
    no_folder = run("report", fitted, "--output", tmp_path / "no" / "such" / "r.html")
    assert no_folder.exit_code == EXIT_BAD_INPUT and "does not exist" in no_folder.output


def test_notebook_display(fitted):
    from automl import AutoML

    model = AutoML.load(fitted)
    shown = model.report()._repr_html_()
    assert shown.startswith("<iframe") and "srcdoc=" in shown
    assert "<script>alert(1)" not in shown  # the whole document is attribute-escaped
    assert "leaderboard" in model._repr_html_().lower()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("AUTOML_REQUIRE_CHROMIUM"),
                    reason="Chromium is not installed (CI installs Debian's chromium package)")
def test_report_renders_in_headless_chromium(fitted, tmp_path):
    assert CHROMIUM, "AUTOML_REQUIRE_CHROMIUM is set but chromium is not installed"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = (fitted / "report.html").resolve().as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    for section in SECTIONS:
        assert f'id="{section}"' in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([*flags, "--window-size=1280,8000", f"--screenshot={shot}", url], capture_output=True,
                   timeout=120, check=True)
    assert shot.stat().st_size > 50_000
    keep = os.environ.get("AUTOML_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "report.png")


BUDGET_ROW = re.compile(r'<tr><td>([a-z ]+)</td><td class="num">(\d+)</td><td class="num">([\d.]+)</td>'
                        r'<td>([^<]*)</td>')


def _budget_html(html: str) -> tuple[str, dict[str, tuple[int, float, str]]]:
    """The budget sentence and the side table's rows (side: trials, seconds, best model) of a report."""
    sentence = re.search(r'<p class="verdict[a-z ]*" id="budget-verdict">(.*?)</p>', html, flags=re.S)
    table = re.search(r'<table id="side-budgets">(.*?)</table>', html, flags=re.S)
    assert sentence and table
    rows = {side: (int(n), float(s), model) for side, n, s, model in BUDGET_ROW.findall(table.group(1))}
    return sentence.group(1), rows


def _with_trials(fitted: Path, tmp_path: Path, plan: dict[str, list[float]], data_path: str | None = None) -> str:
    """Copy the run folder, give each model in ``plan`` one trial per listed fit time (every third one pruned) and
    a skipped placeholder row (no trial number, which must not count), and render its report."""
    run_dir = tmp_path / "run"
    shutil.copytree(fitted, run_dir)
    original = pd.read_csv(run_dir / "trials.csv", keep_default_na=False, na_values=[""])
    rows = []
    for model, seconds in plan.items():
        template = original[original["model"] == model].iloc[0].to_dict()
        rows += [{**template, "trial": i, "status": "pruned" if i % 3 == 2 else "ok", "fit_seconds": s}
                 for i, s in enumerate(seconds)]
        rows.append({**template, "trial": None, "status": "out of budget", "fit_seconds": 99.0})
    pd.DataFrame(rows).astype({"trial": "Int64"}).to_csv(run_dir / "trials.csv", index=False)
    if data_path is not None:
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        meta["data"]["path"] = data_path
        (run_dir / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    return render_html(run_dir)


def test_budget_figures_match_the_trials_table(fitted):
    html = (fitted / "report.html").read_text(encoding="utf-8")
    sentence, rows = _budget_html(html)
    trials = pd.read_csv(fitted / "trials.csv", keep_default_na=False, na_values=[""])
    trials = trials[trials["trial"].notna()]
    expected = {}
    for side, models in (("neural nets", ["keras_mlp"]), ("tree ensembles", ["lightgbm"])):  # linear: neither
        mine = trials[trials["model"].isin(models)]
        expected[side] = (len(mine), round(float(mine["fit_seconds"].sum()), 1), models[0])
    assert rows == expected
    assert expected["neural nets"][0] == expected["tree ensembles"][0] == 2  # --trials 2: even in trials
    seconds = sorted(v[1] for v in expected.values())
    assert ("Provisional" in sentence) == (seconds[1] > 3 * seconds[0])


def test_provisional_wording_when_the_neural_side_had_one_trial_and_the_trees_many(fitted, tmp_path):
    html = _with_trials(fitted, tmp_path, {"keras_mlp": [6.0], "lightgbm": [1.0] * 37 + [4.0], "linear": [50.0] * 9},
                        data_path=f"/data/{EVIL_LEVEL}.csv")
    sentence, rows = _budget_html(html)
    assert rows == {"neural nets": (1, 6.0, "keras_mlp"), "tree ensembles": (38, 41.0, "lightgbm")}
    assert sentence.startswith("Provisional: the tree ensembles had 38 trials (41 s) and the neural nets 1 trial "
                               "(6.0 s); the best of 38 trials is favoured over a single untuned one (best-of-N "
                               "selection).")
    assert "--recipe nn-vs-ensembles</code> or a longer --time-limit." in sentence
    assert "&lt;b&gt;bold&lt;/b&gt;" in sentence and "<b>" not in html  # the data path in the command is escaped
    assert '<p class="verdict provisional" id="budget-verdict">' in html


def test_balanced_wording_when_the_sides_had_even_budgets(fitted, tmp_path):
    html = _with_trials(fitted, tmp_path, {"keras_mlp": [10.0] * 4, "lightgbm": [2.5] * 11 + [5.5]})
    sentence, rows = _budget_html(html)
    assert rows == {"neural nets": (4, 40.0, "keras_mlp"), "tree ensembles": (12, 33.0, "lightgbm")}
    assert sentence == ("The neural nets and the tree ensembles had comparable budgets (within 3x in trials and in "
                        "seconds): 4 trials (40 s) and 12 trials (33 s), so the best-of-N selection favours neither "
                        "side much.")
    assert "Provisional" not in html and "nn-vs-ensembles" not in html


def test_a_run_without_one_side_says_so_instead_of_blaming_the_budget(tmp_path):
    make_frame("binary", n=150).to_csv(tmp_path / "train.csv", index=False)
    result = run("fit", tmp_path / "train.csv", "--target", "y", "--output", tmp_path / "run", "--trials", "1",
                 "--folds", "3", "--repeats", "1", "--models", "linear,lightgbm", "--seed", "1")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "This run had no neural net among its models" in html and "within the budget" not in html
    assert re.search(r"neural nets</td>.*?not in this run", html, flags=re.S)


def test_a_section_that_cannot_be_built_becomes_a_note(fitted, monkeypatch):
    from automl.report import sections

    def broken(run):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(sections, "data_section", broken)
    html = render_html(fitted)
    assert "This section could not be built (OverflowError: cannot convert float infinity to integer)." in html
    assert all(f'<section id="{s}">' in html for s in SECTIONS)  # the other sections are still there
    assert 'id="constant-predictor"' in html and "The constant predictor" in html


def test_preprocessing_numbers_say_none_instead_of_an_empty_cell(fitted):
    """A pipeline summary's empty list (no column log-transformed, no value clipped) reads "none", not a blank."""
    html = (fitted / "report.html").read_text(encoding="utf-8")
    preparation = html[html.index('id="preparation"'):html.index('id="modelling"')]
    assert "<td>none</td>" in preparation and not re.search(r"<th>[a-z_0-9]+</th><td></td>", preparation)


def test_the_data_section_gives_a_datetime_columns_earliest_and_latest():
    from automl.config import FitConfig
    from automl.data.io import read_table
    from automl.data.profile import profile
    from automl.data.schema import infer_schema

    frame = make_frame("binary", n=60)
    frame["seen"] = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(60)]
    frame.loc[3, "seen"] = None
    frame, info = read_table(frame)
    schema, y = infer_schema(frame, FitConfig(target="y"), info)
    entry = next(c for c in profile(frame, schema.transform(frame), schema, schema.encode_target(y))["columns"]
                 if c["name"] == "seen")
    assert entry["kind"] == "datetime" and (entry["min"], entry["max"]) == ("2024-01-01", "2024-12-24")


def test_two_processes_without_a_shared_storage_are_not_a_distributed_search(fitted, tmp_path):
    """A run interrupted and resumed has trials of two processes of one machine: the report called it "A
    distributed search" and showed the worker columns; only a run with a shared storage is one."""
    run_dir = tmp_path / "run"
    shutil.copytree(fitted, run_dir)
    trials = pd.read_csv(run_dir / "trials.csv")
    trials["worker"] = ["vm:100" if i % 2 else "vm:200" for i in range(len(trials))]
    trials.to_csv(run_dir / "trials.csv", index=False)
    assert "A distributed search" not in render_html(run_dir)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    record["config"]["storage"] = "postgresql://automl:***@db/automl"
    (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert "A distributed search" in render_html(run_dir)


def test_failed_trials_are_a_table_not_a_python_list(fitted, tmp_path):
    """The modelling section's failed trials shared the key of a section's own failure note, so the note
    printed them as a Python list ([{'model': 'keras_mlp', 'trial': 0, ...}]) above the leaderboard."""
    run_dir = tmp_path / "run"
    shutil.copytree(fitted, run_dir)
    trials = pd.read_csv(run_dir / "trials.csv", dtype={"reason": object})
    trials.loc[0, ["status", "reason"]] = ["failed", "interrupted: the run stopped during this trial"]
    trials.to_csv(run_dir / "trials.csv", index=False)
    html = render_html(run_dir)
    assert "<h3>Failed trials</h3>" in html and "[{&#39;model&#39;" not in html and "[{'model'" not in html


def test_the_report_describes_only_what_happened(fitted, tmp_path):
    """Best parameters are listed for the models that finished (a skipped family's defaults were listed as its
    "best"); a run whose every delivered model is its fold models does not claim a "final refit"; large
    scores read with thousands separators, not "2.273e+04"."""
    from automl.report.sections import _cell, format_number

    run_dir = tmp_path / "run"
    shutil.copytree(fitted, run_dir)
    board = pd.read_csv(run_dir / "leaderboard.csv", dtype={"reason": object})
    skipped = board.index[board["model"] == "lightgbm"][0]
    board.loc[skipped, ["rank", "status", "reason"]] = [None, "out of budget", "needs about 2.0 s, no time left"]
    board.to_csv(run_dir / "leaderboard.csv", index=False)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    record["best_model"], record["models_refitted"], record["models_bagged"] = "keras_mlp", ["keras_mlp"], ["keras_mlp"]
    (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
    html = render_html(run_dir)
    params = html[html.index("Best parameters per model"):html.index("</details>", html.index("Best parameters"))]
    assert "<th>linear</th>" in params and "<th>lightgbm</th>" not in params
    assert "nothing was refitted" in html and "the search and the final refit" not in html
    # the "In numbers" tables are fitted on the search's rows before the search (runinfo.pipelines)
    assert "the numbers shown are from a fit on the 150 rows of the search, made before it." in html
    assert (format_number(22730.4), format_number(0.012345), _cell(525817372.2), _cell(float("nan"))) == (
        "22,730", "0.01235", "525,817,372", "")
