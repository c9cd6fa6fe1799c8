"""The HTML report: sections in CRISP-DM order, self-contained, user strings escaped, renders in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from automl.cli import EXIT_BAD_INPUT, main
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
