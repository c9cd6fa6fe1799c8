"""`automl --help` must not import the heavy libraries (it would take seconds instead of a blink)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("tensorflow", "keras", "sklearn", "pandas", "lightgbm", "xgboost", "catboost", "optuna", "numpy")


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from click.testing import CliRunner; from automl.cli import main;"
        "r = CliRunner().invoke(main, ['fit', '--help']); assert r.exit_code == 0, r.output;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_console_script_help_and_version():
    out = subprocess.run([sys.executable, "-m", "automl", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("automl, version")
    out = subprocess.run([sys.executable, "-m", "automl", "fit", "--help"], capture_output=True, text=True, check=True)
    assert "Example:" in out.stdout and "Exit codes" in out.stdout
