"""The report's plots: matplotlib figures (scikit-learn's display classes where one exists) as inline SVG.

Every function takes plain data and returns one ``<svg>`` string. Text stays text (``svg.fonttype: none``),
user strings are XML-escaped by matplotlib's SVG writer and never parsed as math, and element ids are salted
per figure so several figures can live in one HTML page.
"""

from __future__ import annotations

import functools
import html
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MAX_POINTS = 2000  # scatter plots are subsampled so the report stays small
COLORS = {"neural net": "#d62728", "boosting": "#1f77b4", "bagging": "#2ca02c", "linear": "#7f7f7f",
          "stacking": "#9467bd", "ensemble": "#ff7f0e"}
_RC = {"svg.fonttype": "none", "text.parse_math": False, "font.size": 9, "axes.spines.top": False,
       "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}


@contextmanager
def _figure(name: str, width: float = 6.4, height: float = 3.6,
            layout: str | None = "constrained") -> Iterator[tuple[Any, list[str]]]:
    """A matplotlib Figure (no pyplot state) whose SVG text lands in the yielded list (``layout=None``: the
    caller places the axes: 24 small histograms took 3.8 s with constrained layout, 2.3 s without)."""
    import matplotlib
    from matplotlib.figure import Figure

    out: list[str] = []
    with matplotlib.rc_context({**_RC, "svg.hashsalt": name}):
        fig = Figure(figsize=(width, height), layout=layout)
        yield fig, out
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})  # same folder, same bytes
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    out.append(svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1))


def _or_note(draw: Callable[..., str]) -> Callable[..., str]:
    """A plot that cannot be drawn (data no axis can hold, a library's failure) becomes a one-line note: a
    report renders for any data the fit accepted."""

    @functools.wraps(draw)
    def safe(*args: Any, **kwargs: Any) -> str:
        try:
            return draw(*args, **kwargs)
        except Exception as e:  # any failure of one plot must not cost the report
            log.warning("The report's %s plot could not be drawn (%s: %s); it shows a note instead.",
                        draw.__name__, type(e).__name__, e)
            return (f'<p class="note">This plot could not be drawn ({html.escape(type(e).__name__)}: '
                    f"{html.escape(str(e)[:200])}).</p>")

    return safe


def _svg(ctx: list[str]) -> str:
    return ctx[0]


@_or_note
def histograms(columns: Sequence[Mapping[str, Any]], name: str = "hist", per_row: int = 4) -> str:
    """Small multiples: one histogram per numeric column (from the profile's saved bins)."""
    n = len(columns)
    rows = max(1, -(-n // per_row))
    with _figure(name, 8.0, 1.7 * rows, layout=None) as (fig, out):
        axes = np.atleast_1d(fig.subplots(rows, per_row)).ravel()
        fig.subplots_adjust(left=0.05, right=0.98, bottom=0.4 / (1.7 * rows), top=1 - 0.3 / (1.7 * rows),
                            hspace=0.7, wspace=0.3)
        for ax, col in zip(axes, columns, strict=False):
            edges, counts = np.asarray(col["hist_edges"]), np.asarray(col["hist_counts"])
            ax.stairs(counts, edges, fill=True, color="#1f77b4", alpha=0.7)
            ax.set_title(_short(col["name"]), fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in axes[n:]:
            ax.set_visible(False)
    return _svg(out)


@_or_note
def bars(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, name: str,
         errors: Sequence[float] | None = None, colors: Sequence[str] | None = None) -> str:
    """Horizontal bars, first label on top."""
    height = 0.8 + 0.25 * len(labels)
    with _figure(name, 6.4, min(height, 9)) as (fig, out):
        ax = fig.subplots()
        pos = np.arange(len(labels))[::-1]
        ax.barh(pos, values, xerr=errors, color=colors or "#1f77b4", alpha=0.85)
        ax.set_yticks(pos, [_short(s) for s in labels])
        ax.set_title(title)
        ax.set_xlabel(xlabel)
    return _svg(out)


@_or_note
def fold_boxplots(names: Sequence[str], scores: Sequence[Sequence[float]], kinds: Sequence[str], metric: str,
                  name: str = "folds") -> str:
    """Distribution of fold scores per model, on the same folds."""
    with _figure(name, 6.4, 0.8 + 0.3 * len(names)) as (fig, out):
        ax = fig.subplots()
        box = ax.boxplot(list(scores)[::-1], orientation="horizontal", patch_artist=True,
                         tick_labels=[_short(n) for n in names][::-1])
        for patch, kind in zip(box["boxes"], list(kinds)[::-1], strict=True):
            patch.set_facecolor(COLORS.get(kind, "#999999"))
            patch.set_alpha(0.6)
        ax.set_xlabel(f"{metric} per fold")
    return _svg(out)


@_or_note
def paired_folds(series: Mapping[str, Sequence[float]], metric: str, name: str = "paired") -> str:
    """Fold-by-fold scores of a few models: lines join each model's scores across the shared folds."""
    from matplotlib.ticker import MaxNLocator

    with _figure(name) as (fig, out):
        ax = fig.subplots()
        for label, values in series.items():
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=_short(label))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("fold (the same rows for every model)")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    return _svg(out)


@_or_note
def optimisation_history(numbers: Sequence[int], values: Sequence[float], greater_is_better: bool, metric: str,
                         title: str, name: str) -> str:
    """Score of each complete trial and the best so far."""
    from matplotlib.ticker import MaxNLocator

    with _figure(name, 4.2, 2.6) as (fig, out):
        ax = fig.subplots()
        v = np.asarray(values, dtype=float)
        best = np.maximum.accumulate(v) if greater_is_better else np.minimum.accumulate(v)
        ax.scatter(numbers, v, s=12, alpha=0.7, label="trial")
        ax.step(numbers, best, where="post", color="#d62728", label="best so far")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.set_xlabel("trial")
        ax.set_ylabel(metric)
        ax.legend(fontsize=7)
    return _svg(out)


@_or_note
def learning_curves(histories: Sequence[Mapping[str, Sequence[float]]], title: str, name: str) -> str:
    """Train and validation loss per epoch for each fold, with each fold's early-stopping epoch marked."""
    with _figure(name, 6.4, 3.2) as (fig, out):
        ax = fig.subplots()
        for i, h in enumerate(histories):
            epochs = np.arange(1, len(h["loss"]) + 1)
            ax.plot(epochs, h["loss"], color="#1f77b4", alpha=0.6, label="train loss" if i == 0 else None)
            if "val_loss" in h:
                ax.plot(epochs, h["val_loss"], color="#d62728", alpha=0.6, label="validation loss" if i == 0 else None)
                best = int(np.argmin(h["val_loss"])) + 1
                ax.axvline(best, color="#555555", ls=":", lw=1, label="early-stopping epoch" if i == 0 else None)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(fontsize=8)
    return _svg(out)


@_or_note
def reliability(curves: Mapping[str, Sequence[Sequence[float]]], name: str = "reliability") -> str:
    """Reliability diagram: each curve's mean confidence against the share correct per bin (the diagonal is
    perfect calibration), marker size by the bin's rows."""
    with _figure(name, 4.2, 3.4) as (fig, out):
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1)
        for (label, points), color in zip(curves.items(), ("#1f77b4", "#d62728"), strict=False):
            conf, acc, rows = np.asarray(points, dtype=float).T
            ax.plot(conf, acc, color=color, marker="o", label=label)
            ax.scatter(conf, acc, s=8 + 60 * rows / rows.max(), color=color, alpha=0.4)
        ax.set_xlabel("confidence (probability of the predicted class)")
        ax.set_ylabel("share correct")
        ax.legend(fontsize=7)
    return _svg(out)


@_or_note
def threshold_curve(curve: Sequence[Sequence[float]], chosen: float, metric: str, name: str = "threshold") -> str:
    """A label metric against the decision threshold (out-of-fold predictions), the chosen threshold marked."""
    with _figure(name, 4.6, 2.8) as (fig, out):
        ax = fig.subplots()
        t, v = np.asarray(curve, dtype=float).T
        ax.plot(t, v, color="#1f77b4")
        ax.axvline(chosen, color="#d62728", ls="--", lw=1, label=f"chosen {chosen:.3g}")
        ax.axvline(0.5, color="#555555", ls=":", lw=1, label="0.5")
        ax.set_xlabel("threshold on P(positive)")
        ax.set_ylabel(metric)
        ax.legend(fontsize=7)
    return _svg(out)


@_or_note
def confusion(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str], name: str = "confusion") -> str:
    from sklearn.metrics import ConfusionMatrixDisplay

    size = min(3.0 + 0.35 * len(labels), 9)
    with _figure(name, size, size * 0.85) as (fig, out):
        ax = fig.subplots()
        ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=list(range(len(labels))),
                                                display_labels=[_short(s, 14) for s in labels], ax=ax,
                                                colorbar=False, xticks_rotation="vertical" if len(labels) > 4
                                                else "horizontal", include_values=len(labels) <= 12)
        ax.set_title("Confusion matrix (out-of-fold)")
        ax.grid(False)
    return _svg(out)


@_or_note
def roc_pr(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], positive: int | None,
           name: str = "rocpr") -> str:
    """ROC and precision-recall curves: of the positive class (binary) or one-vs-rest per class (up to 10)."""
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    classes = [positive] if positive is not None else list(range(min(len(labels), 10)))
    with _figure(name, 8.0, 3.4) as (fig, out):
        roc_ax, pr_ax = fig.subplots(1, 2)
        for c in classes:
            truth = (y_true == c).astype(int)
            RocCurveDisplay.from_predictions(truth, proba[:, c], ax=roc_ax, name=_short(labels[c], 16),
                                             plot_chance_level=c == classes[0])
            PrecisionRecallDisplay.from_predictions(truth, proba[:, c], ax=pr_ax, name=_short(labels[c], 16))
        roc_ax.set_title("ROC curve")
        pr_ax.set_title("Precision-recall curve")
        for ax in (roc_ax, pr_ax):
            ax.legend(fontsize=7)
    return _svg(out)


@_or_note
def calibration(y_true: np.ndarray, proba: np.ndarray, positive: int | None, name: str = "calibration") -> str:
    """Reliability diagram: of P(positive) (binary), or of the top predicted class's probability (multiclass)."""
    from sklearn.calibration import CalibrationDisplay

    if positive is not None:
        truth, prob, label = (y_true == positive).astype(int), proba[:, positive], "P(positive class)"
    else:
        top = proba.argmax(axis=1)
        truth, prob, label = (top == y_true).astype(int), proba.max(axis=1), "confidence of the predicted class"
    with _figure(name, 4.4, 3.6) as (fig, out):
        ax = fig.subplots()
        CalibrationDisplay.from_predictions(truth, prob, n_bins=10, strategy="quantile", ax=ax, name="model")
        ax.set_xlabel(label)
        ax.set_ylabel("observed frequency")
        ax.set_title("Calibration (out-of-fold)")
    return _svg(out)


@_or_note
def regression_errors(y_true: np.ndarray, y_pred: np.ndarray, name: str = "regression") -> str:
    """Predicted vs actual and residuals vs predicted (subsampled)."""
    from sklearn.metrics import PredictionErrorDisplay

    with _figure(name, 8.0, 3.6) as (fig, out):
        left, right = fig.subplots(1, 2)
        for ax, kind, title in ((left, "actual_vs_predicted", "Predicted vs actual"),
                                (right, "residual_vs_predicted", "Residuals")):
            PredictionErrorDisplay.from_predictions(y_true, y_pred, kind=kind, ax=ax, subsample=MAX_POINTS,
                                                    random_state=0, scatter_kwargs={"alpha": 0.4, "s": 8})
            ax.set_title(title)
    return _svg(out)


def _short(text: Any, width: int = 24) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"
