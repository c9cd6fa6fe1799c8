"""Process environment that must be set before numeric libraries are imported.

OpenMP spin-waiting makes LightGBM/XGBoost/scikit-learn 5-12x slower when the cores are shared
(see ../shared/STACK.md §8); the variable only takes effect if it is set before their first import.
TensorFlow is silenced and its oneDNN numerics pinned. Values the user already set are kept.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MPLBACKEND": "Agg",
    "KMP_WARNINGS": "0",
}


def apply() -> None:
    """Set the defaults above unless the environment already has them."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
