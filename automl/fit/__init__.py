"""The stages of one fit, named after the data flow: :mod:`~automl.fit.preparing` (read, schema, folds),
:mod:`~automl.fit.running` (:func:`run_fit`, :func:`resume_fit`, and :mod:`~automl.fit.worker` for the other
machines of a distributed run), :mod:`~automl.fit.finishing` (ensembles, choice, :mod:`~automl.fit.refit`,
records, report), with the :class:`~automl.fit.budget.Budget` that owns their deadlines and what a run records
besides its models (:mod:`~automl.fit.runinfo`, :mod:`~automl.fit.importance`).
"""

from automl.fit.finishing import FitResult
from automl.fit.running import default_output, resume_fit, run_fit

__all__ = ["FitResult", "default_output", "resume_fit", "run_fit"]
