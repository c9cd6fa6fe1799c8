"""automl: tabular AutoML over Keras MLPs and tree ensembles, tuned by Optuna with k-fold CV.

The public surface is imported lazily so that ``import automl`` (and ``automl --help``) stays fast:
pandas, scikit-learn and the model libraries load only when a fit or a prediction needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl import _env

_env.apply()

from automl.version import __version__  # noqa: E402

__all__ = ["AutoML", "AutoMLClassifier", "AutoMLRegressor", "FitConfig", "__version__", "load"]

if TYPE_CHECKING:  # pragma: no cover
    from automl.api import AutoML, load
    from automl.config import FitConfig
    from automl.sklearn import AutoMLClassifier, AutoMLRegressor


def __getattr__(name: str) -> Any:
    if name in ("AutoML", "load"):
        from automl import api

        return getattr(api, name)
    if name in ("AutoMLClassifier", "AutoMLRegressor"):
        from automl import sklearn

        return getattr(sklearn, name)
    if name == "FitConfig":
        from automl.config import FitConfig

        return FitConfig
    raise AttributeError(f"module 'automl' has no attribute {name!r}")
