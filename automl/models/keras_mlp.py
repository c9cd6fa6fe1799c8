"""Keras tabular networks as scikit-learn estimators: a modern tabular MLP by default, and the study notes'
classic MLP as one named configuration (:data:`CLASSIC`).

The network: an input layer that can embed numbers (periodic embeddings) and categories (learnt tables)
(:class:`~automl.models.keras_layers.FeatureEmbedding`) → optionally ``members`` TabM-mini members sharing the
hidden layers (:class:`~automl.models.keras_layers.EnsembleAdapter`) → 1-4 blocks of Dense(``activation``) [→
BatchNorm] → Dropout, with L1/L2 penalties → an output layer per member chosen by the task (linear for a
standardised regression target, with a squared, absolute or Huber ``loss``; sigmoid + binary cross-entropy; softmax
+ categorical cross-entropy, both with optional label smoothing) → at inference, the mean of the members'
predictions. Training: Adam / AdamW / RMSprop / SGD at a constant rate or along a warm-up + cosine schedule that
ends at the last epoch the time limit allows; the epoch with the best validation loss is kept (EarlyStopping,
``restore_best_weights``). ``history_`` keeps train and validation loss per epoch and ``best_epoch_`` the epoch
whose weights were kept, so a refit on all rows can train for that many epochs without a validation split. Under the
search's time limit a fit may also end early (``timed_out_``), still with its best epoch's weights. Regression
predictions are clipped to the range of the training targets.

Which defaults, and why (each measured here, see ``benchmarks/neural.md``): robust scaling with smooth
clipping, periodic embeddings (σ 0.1, 16 frequencies), AdamW with warm-up + cosine, label smoothing for
classification, and the clipping of regression predictions follow RealMLP (Holzmüller, Grinsztajn & Steinwart
2024, "Better by Default"); the ensemble of members sharing weights follows TabM (Gorishniy et al. 2024).

TensorFlow is imported inside ``fit`` only: a trained network predicts with NumPy from its weights
(:mod:`automl.models.network_arrays`), and pickling stores those arrays, so a saved network loads and predicts
without TensorFlow.
"""

from __future__ import annotations

import os
import tempfile
from functools import partial
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from automl.data.network_inputs import CODE_PREFIX
from automl.models import deadline, network_arrays
from automl.models.base import PREPROCESSING, ModelSpec

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("constant", "cosine")
EMBEDDINGS = ("none", "periodic")
ACTIVATIONS = ("relu", "silu", "gelu")
# A regression network's loss on the standardised target, scikit-learn's names ("auto": the squared error, as for
# the notes' MLP), searched. The absolute error (AutoGluon's tabular network trains every regression on it) is not
# the default for MAE: on Boston (Keras split) it won on CV but lost on the test rows (the defaults, 3 fold seeds:
# CV MAE 2.35 -> 2.25, test MAE 2.27 -> 2.33; Huber 2.30 and 2.28; benchmarks/neural.md)
REGRESSION_LOSSES = ("auto", "squared_error", "absolute_error", "huber")
SEARCHED_LOSSES = ("auto", "absolute_error", "huber")
# Under a time limit a fit still trains at least this many optimizer steps (and 2 epochs): fewer teach a
# network next to nothing (a 3-class table after 16 steps: log loss 0.87, against 0.03 after 150)
MIN_STEPS = 150
EPOCH_STEPS = 16  # at most this many optimizer steps in an "epoch" (a pass over the rows on smaller data)
# Parameters set at the start of each fit, not built into the compiled training step: configurations that differ
# only in these share one graph (a new one costs about 2.4 s before the first fold trains; benchmarks/neural.md)
RUNTIME = ("learning_rate", "weight_decay", "frequency_scale", "label_smoothing", "batch_size")
_THREADS_SET = False


def _keras(n_threads: int | None) -> Any:
    """Import Keras quietly, pinning TensorFlow's thread pools once per process (before the first op)."""
    global _THREADS_SET
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    if not _THREADS_SET and n_threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(n_threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # TensorFlow already ran an op in this process: keep its pools
            pass
        _THREADS_SET = True
    import keras

    keras.utils.disable_interactive_logging()
    return keras


def auto_batch_size(n_rows: int) -> int:
    """Batch size that grows with the data: the power of two nearest ``n_rows / 20``, within 32..1024 (about
    20 steps per epoch; per-step overhead, not arithmetic, dominates a small network on a CPU: 6-12 ms a step
    whatever the batch, measured on 2 cores)."""
    return int(np.clip(2 ** round(np.log2(max(n_rows, 1) / 20)), 32, 1024))


def padded_width(n_features: int) -> int:
    """The width a network's input is padded to, with zero columns, when its columns have no roles (the
    ``dense`` pipeline, whose one-hot and missing-indicator columns differ by a few between CV folds): rounded up
    to a multiple of at least 8 and of about 1/16 to 1/8 of it, so that the folds of a trial mostly share one
    compiled graph (a new one cost 1.2-1.3 s per fold on Ames, 254 to 258 columns, measured). A zero column
    never varies, so the network learns nothing useful from it; the wider first layer changes its initial weights
    a little (Glorot's scale and draws)."""
    step = max(8, 2 ** (int(np.log2(max(n_features, 1))) - 3))
    return -(-n_features // step) * step


def _pad(X: np.ndarray, width: int) -> np.ndarray:
    """``X`` with zero columns appended up to ``width`` columns."""
    if X.shape[1] >= width:
        return X
    return np.hstack([X, np.zeros((len(X), width - X.shape[1]), dtype=X.dtype)])


def _weights(sample_weight: Any, n_rows: int) -> np.ndarray:
    """``sample_weight`` as float32 of shape (n_rows,) (None: ones); :class:`ValueError` for another shape, a
    negative or non-finite weight, or all zeros."""
    if sample_weight is None:
        return np.ones(n_rows, np.float32)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n_rows, float(w))
    if w.shape != (n_rows,):
        raise ValueError(f"sample_weight must have shape ({n_rows},), got {w.shape}.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must hold finite numbers of at least 0.")
    if not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w.astype(np.float32)


def _dense(X: Any) -> np.ndarray:
    """A sparse input (the TF-IDF of free text in the ``dense`` pipeline) as a dense float32 array."""
    return X.toarray() if hasattr(X, "toarray") else X


def _has_roles(names: Any) -> bool:
    """Whether column ``names`` are the ``neural`` pipeline's, which tell each column's role."""
    return names is not None and any(str(n).startswith(("num__", "missing__", "cat__")) for n in names)


def column_roles(names: Any, n_features: int) -> tuple[list[int], list[int], list[int]]:
    """Positions of the numeric, 0/1 and categorical-code columns, from the ``neural`` pipeline's column names
    (:mod:`automl.data.network_inputs`); without such names every one of the ``n_features`` columns is numeric."""
    if not _has_roles(names):
        return list(range(n_features)), [], []
    numeric, binary, codes = [], [], []
    for i, name in enumerate(map(str, names)):
        if name.startswith("cat__" + CODE_PREFIX):
            codes.append(i)
        elif name.startswith(("num__", "text")):  # numbers, and the SVD projection of free text
            numeric.append(i)
        else:
            binary.append(i)
    return numeric, binary, codes


class _KerasMLP(BaseEstimator):
    """Shared implementation; use :class:`KerasMLPClassifier` or :class:`KerasMLPRegressor`."""

    def __init__(self, hidden_layers: int = 3, units: int = 128, activation: str = "relu", dropout: float = 0.1,
                 l1: float = 0.0, l2: float = 0.0, batch_norm: bool = False, numeric_embedding: str = "periodic",
                 frequency_scale: float = 0.1, members: int = 4, optimizer: str = "adamw",
                 learning_rate: float = 2e-3, weight_decay: float = 3e-4, schedule: str = "cosine",
                 label_smoothing: float = 0.0, loss: str = "auto", batch_size: int = 0, epochs: int = 100,
                 patience: int = 30, validation_fraction: float = 0.1, random_state: int = 0,
                 n_jobs: int | None = None) -> None:
        self.hidden_layers = hidden_layers
        self.units = units
        self.activation = activation
        self.dropout = dropout
        self.l1 = l1
        self.l2 = l2
        self.batch_norm = batch_norm
        self.numeric_embedding = numeric_embedding
        self.frequency_scale = frequency_scale
        self.members = members
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.label_smoothing = label_smoothing
        self.loss = loss
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ building
    _LOSSES: tuple[str, ...] = REGRESSION_LOSSES  # valid values of ``loss`` (classifiers: "auto")

    def _outputs(self) -> tuple[int, str | None, Any]:
        """Width of the output layer, its activation and the loss (regression; classifiers override): on the
        standardised target, Huber's loss is squared within one standard deviation of the target, linear beyond."""
        import keras

        if self.loss == "absolute_error":
            return 1, None, keras.losses.MeanAbsoluteError()
        if self.loss == "huber":
            return 1, None, keras.losses.Huber(delta=1.0)
        return 1, None, keras.losses.MeanSquaredError()

    def _check_params(self) -> None:
        for name, value, valid in (("optimizer", self.optimizer, OPTIMIZERS), ("schedule", self.schedule, SCHEDULES),
                                   ("numeric_embedding", self.numeric_embedding, EMBEDDINGS),
                                   ("activation", self.activation, ACTIVATIONS), ("loss", self.loss, self._LOSSES)):
            if value not in valid:
                raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(valid)}.")
        if int(self.members) < 1:
            raise ValueError(f"members must be at least 1, got {self.members}.")

    def _build(self, keras: Any, X: np.ndarray) -> Any:
        """The network as trained: one output per member (at inference, the members' mean is taken from its
        exported arrays, see :mod:`automl.models.network_arrays`). Its periodic embeddings' frequencies are
        drawn from N(0, 1): each fit scales them by ``frequency_scale`` (:meth:`_TrainingLoop.reset`)."""
        from automl.models import keras_layers as kl

        numeric, binary, codes = column_roles(getattr(self, "feature_names_in_", None), X.shape[1])
        cardinalities = _cardinalities(getattr(self, "feature_names_in_", None), X, codes)
        seed, k = int(self.random_state), int(self.members)
        inputs = keras.Input(shape=(X.shape[1],))
        x = kl.FeatureEmbedding(numeric, binary, codes, cardinalities,
                                n_frequencies=16 if self.numeric_embedding == "periodic" else 0,
                                sigma=1.0, seed=seed)(inputs)
        x = kl.EnsembleAdapter(k, seed=seed)(x) if k > 1 else keras.layers.Reshape((1, -1))(x)
        reg = keras.regularizers.L1L2(l1=self.l1, l2=self.l2) if self.l1 or self.l2 else None
        for i in range(self.hidden_layers):
            init = keras.initializers.GlorotUniform(seed=seed + 10 + i)
            x = keras.layers.Dense(self.units, activation=self.activation, kernel_regularizer=reg,
                                   kernel_initializer=init)(x)
            if self.batch_norm:
                x = keras.layers.BatchNormalization()(x)
            if self.dropout > 0:
                x = keras.layers.Dropout(self.dropout, seed=seed + 20 + i)(x)
        width, activation, _ = self._outputs()
        return keras.Model(inputs, kl.EnsembleHead(width, activation, seed=seed + 30)(x))

    def _batch(self, n_rows: int) -> int:
        return min(int(self.batch_size) or auto_batch_size(n_rows), max(n_rows, 1))

    def _make_optimizer(self, keras: Any) -> tuple[Any, Any]:
        """The optimizer, and its learning-rate schedule (``None`` at a constant rate). The training loop sets
        the rate once per step (a schedule given to a Keras optimizer is evaluated once per weight: 0.7 s more
        graph-building per network and more work per step, measured), and the rate and AdamW's weight decay
        (a variable here) at the start of each fit."""
        lr = self.learning_rate
        schedule = None
        if self.schedule == "cosine":
            from automl.models.keras_layers import WarmupCosine

            schedule = WarmupCosine(self.learning_rate)
        optimizer = {
            "adam": lambda: keras.optimizers.Adam(lr),
            "adamw": lambda: keras.optimizers.AdamW(lr, weight_decay=self.weight_decay),
            "rmsprop": lambda: keras.optimizers.RMSprop(lr),
            "sgd": lambda: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True),
        }[self.optimizer]()
        if optimizer.weight_decay is not None:  # read in the graph (tf.cast): a variable keeps it a run-time value
            optimizer.weight_decay = keras.Variable(float(self.weight_decay), trainable=False, name="weight_decay")
        return optimizer, schedule

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified: the TF-IDF of free text comes sparse
        return tags

    # ------------------------------------------------------------------ training
    def _fit_arrays(self, X: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> None:
        """Train on ``X`` (float32) and targets ``y`` shaped ``(n, outputs)``, each row's loss weighted by
        ``sample_weight`` (shape (n,); None: 1): a validation split (``validation_fraction``) chooses the best
        epoch, whose weights are kept."""
        self._check_params()
        w = _weights(sample_weight, len(X))
        names = getattr(self, "feature_names_in_", None)
        self.n_inputs_ = X.shape[1] if _has_roles(names) else padded_width(X.shape[1])
        X = _pad(X, self.n_inputs_)
        keras = _keras(self.n_jobs)
        n_valid = round(len(X) * self.validation_fraction) if self.validation_fraction > 0 else 0
        if n_valid >= 1 and len(X) - n_valid >= 2:
            order = np.random.default_rng(self.random_state).permutation(len(X))
            valid, train = order[:n_valid], order[n_valid:]
            X_valid, y_valid, w_valid, X, y, w = X[valid], y[valid], w[valid], X[train], y[train], w[train]
        else:
            X_valid = y_valid = w_valid = None
        loop = _loop_for(self, keras, X)
        try:  # a fit stopped by the time limit (FitTimeout) also lets go of its rows
            loop.reset(self, X, y, w)
            trained = loop.model
            clock = deadline.EpochClock()
            min_epochs = max(2, -(-MIN_STEPS // loop.steps))
            history: dict[str, list[float]] = {"loss": []}
            if X_valid is not None:
                history["val_loss"] = []
            best, best_weights, waited = np.inf, None, 0
            for epoch in range(int(self.epochs)):
                history["loss"].append(loop.epoch(epoch))
                if X_valid is not None:
                    history["val_loss"].append(loop.loss(X_valid, y_valid, w_valid))
                    if history["val_loss"][-1] < best:
                        best, best_weights, waited = history["val_loss"][-1], trained.get_weights(), 0
                    else:
                        waited += 1
                stop = clock.epoch_end(epoch, min_epochs) or waited >= self.patience
                allowed = clock.epochs_allowed(epoch, min_epochs)
                if allowed is not None:
                    loop.shorten(allowed)
                if stop:
                    break
            if best_weights is not None:
                trained.set_weights(best_weights)
            # predictions use these arrays (a copy: the loop goes on to the next fit), here and once saved: the
            # trained network's layers, then the mean over members (building a Keras inference model to copy the
            # weights into cost 0.07 s per fit: 0.31 -> 0.24 s for a 3-epoch fit of a reused loop, measured)
            self.net_ = [*network_arrays.export(trained), {"kind": "member_mean"}]
            self.history_ = history
            self.best_epoch_ = (int(np.nanargmin(history["val_loss"])) + 1 if X_valid is not None
                                else len(history["loss"]))
            self.n_epochs_ = len(history["loss"])
            self.timed_out_ = clock.timed_out  # ended by the search's time limit, not by early stopping
        finally:
            loop.release()

    def _raw_predict(self, X: Any) -> np.ndarray:
        """The network's output, computed with NumPy from its exported weights (see
        :mod:`automl.models.network_arrays`): the same in the search and once saved, without TensorFlow."""
        check_is_fitted(self, "net_")
        X = _dense(validate_data(self, X, dtype=np.float32, reset=False, accept_sparse="csr"))
        return network_arrays.forward(self.net_, _pad(X, getattr(self, "n_inputs_", 0))).astype(np.float64)

    # ------------------------------------------------------------------ pickling: the arrays, not the Keras model
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("model_", None)  # kept by earlier versions: the Keras model lived only in the training process
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        data = state.pop("_keras_bytes", None)  # saved by earlier versions: Keras' native format
        self.__dict__.update(state)
        if data is not None and "net_" not in state:
            keras = _keras(state.get("n_jobs"))
            import automl.models.keras_layers  # noqa: F401  (registers the custom layers)

            fd, path = tempfile.mkstemp(suffix=".keras")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                self.net_ = network_arrays.export(keras.models.load_model(path, compile=False))
            finally:
                os.unlink(path)


class _TrainingLoop:
    """A network with its training step compiled once: one TensorFlow function per epoch (shuffle, then every
    batch's step in a graph loop) and one for the loss.

    Keras' ``fit`` costs 1.5-3 s of set-up per model and 10-20 ms per epoch beyond the arithmetic on small
    data (measured), which k-fold CV pays k times per trial. A loop is therefore kept for the last
    architecture trained (:func:`_loop_for`) and reused by the next fit of the same architecture (the next
    fold): :meth:`reset` puts back the initial weights, random-generator states and optimizer state, so a
    reused loop trains exactly as a new one would. Estimators never keep its network: they get a copy.
    """

    def __init__(self, est: _KerasMLP, keras: Any, X: np.ndarray, key: tuple[Any, ...]) -> None:
        import tensorflow as tf

        self.tf, self.key = tf, key
        # No global seed: every initializer, dropout layer and shuffle has its own (setting TensorFlow's global
        # seed also empties its kernel cache: 0.7 s per network, measured).
        self.model = est._build(keras, X)
        self.optimizer, self.schedule = est._make_optimizer(keras)
        width, activation, self.loss_fn = est._outputs()
        # label smoothing (classification) as Keras' losses do it, from a variable set at each fit
        self.smoothing = keras.Variable(0.0, trainable=False, name="label_smoothing") if activation else None
        self.smooth_to = 0.5 if width == 1 else 1.0 / width  # binary: towards 1/2; softmax: towards 1/classes
        self.members = int(est.members)
        self.variables = self.model.trainable_variables
        self.optimizer.build(self.variables)
        self.initial = [v.numpy() for v in self.model.variables]
        self.n_weights = sum(int(v.size) for v in self.initial)
        # the periodic embeddings' frequencies, drawn from N(0, 1): each fit scales them by its frequency_scale
        self.frequencies = [v for v in self.model.variables if v.path.endswith("/frequencies")]
        self.initial_optimizer = [v.numpy() for v in self.optimizer.variables]  # its learning rate among them
        x_spec = tf.TensorSpec([None, X.shape[1]], tf.float32)
        y_spec = tf.TensorSpec([None, width], tf.float32)
        w_spec = tf.TensorSpec([None], tf.float32)
        scalar = tf.TensorSpec([], tf.int32)
        self._epoch = tf.function(self._epoch_graph, input_signature=[
            x_spec, y_spec, w_spec, tf.TensorSpec([2], tf.int64), scalar, scalar, scalar])
        self._loss = tf.function(self._loss_graph, input_signature=[x_spec, y_spec, w_spec])
        # XLA (jit_compile) measured no faster here: Ames, 5 folds, 88 s without, 92 s with
        self._step = tf.function(self._step_graph)

    def reset(self, est: _KerasMLP, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        """Start ``est``'s fit on ``(X, y)`` with row weights ``w`` from the initial state, with its
        :data:`RUNTIME` parameters (the rest of ``est`` built this loop, see :func:`_loop_for`)."""
        for variable, value in zip(self.model.variables, self.initial, strict=True):
            variable.assign(value)
        for variable, value in zip(self.optimizer.variables, self.initial_optimizer, strict=True):
            variable.assign(value)
        for variable in self.frequencies:
            variable.assign(variable.numpy() * np.float32(est.frequency_scale))
        self.optimizer.learning_rate.assign(float(est.learning_rate))
        if self.schedule is not None:
            self.schedule.peak.assign(float(est.learning_rate))
        if self.optimizer.weight_decay is not None:
            self.optimizer.weight_decay.assign(float(est.weight_decay))
        if self.smoothing is not None:
            self.smoothing.assign(float(est.label_smoothing))
        batch, epochs, seed = est._batch(len(X)), int(est.epochs), int(est.random_state)
        self.X, self.y, self.w, self.seed = self.tf.constant(X), self.tf.constant(y), self.tf.constant(w), seed
        # the last partial batch of a pass is dropped (another one each pass); an "epoch" is a pass over the rows,
        # or EPOCH_STEPS steps of one on larger data, so the time limit and early stopping are checked often
        self.batch, self.pass_steps = batch, max(1, len(X) // batch)
        self.steps = min(self.pass_steps, EPOCH_STEPS)
        if self.schedule is not None:
            self.schedule.reset(self.steps * epochs)

    def release(self) -> None:
        """Let go of the last fit's rows (a kept loop holds only its network and its compiled graph)."""
        self.X = self.y = self.w = None

    def _member_loss(self, y: Any, pred: Any, w: Any, training: bool) -> Any:
        if self.smoothing is not None:
            y = y * (1.0 - self.smoothing) + self.smooth_to * self.smoothing
        target = self.tf.repeat(y[:, None, :], self.members, axis=1)  # every member learns every target
        loss = self.loss_fn(target, pred, sample_weight=w[:, None])  # each row's loss times its weight
        if training and self.model.losses:
            loss = loss + self.tf.add_n(self.model.losses)  # L1/L2 penalties
        return loss

    def _epoch_graph(self, X: Any, y: Any, w: Any, seed: Any, batch: Any, first: Any, steps: Any) -> Any:
        tf = self.tf
        order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(X)[0]), seed=seed)
        total = tf.constant(0.0)
        for step in tf.range(first, first + steps):
            rows = order[step * batch:(step + 1) * batch]
            total += self._step(tf.gather(X, rows), tf.gather(y, rows), tf.gather(w, rows))
        return total / tf.cast(steps, tf.float32)

    def _step_graph(self, X: Any, y: Any, w: Any) -> Any:
        if self.schedule is not None:
            self.optimizer.learning_rate.assign(self.schedule(self.optimizer.iterations))
        with self.tf.GradientTape() as tape:
            loss = self._member_loss(y, self.model(X, training=True), w, True)
        self.optimizer.apply(tape.gradient(loss, self.variables), self.variables)
        return loss

    def _loss_graph(self, X: Any, y: Any, w: Any) -> Any:
        return self._member_loss(y, self.model(X, training=False), w, False)

    def epoch(self, epoch: int) -> float:
        """Train one epoch (a pass over the rows reshuffled from the seed and the pass number, or the
        ``epoch``-th stretch of ``EPOCH_STEPS`` steps of one); the mean training loss."""
        tf = self.tf
        done = epoch * self.steps  # steps of the earlier epochs
        passes, first = divmod(done, self.pass_steps)
        steps = min(self.steps, self.pass_steps - first)
        return float(self._epoch(self.X, self.y, self.w, tf.constant([self.seed, passes], dtype=tf.int64),
                                 tf.constant(self.batch, tf.int32), tf.constant(first, tf.int32),
                                 tf.constant(steps, tf.int32)))

    def loss(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
        """The loss on ``(X, y)`` with row weights ``w`` (mean over members), without dropout."""
        return float(self._loss(self.tf.constant(X), self.tf.constant(y), self.tf.constant(w)))

    def shorten(self, epochs: float) -> None:
        """End the learning-rate schedule after ``epochs`` epochs in all (the time limit allows no more)."""
        if self.schedule is not None:
            self.schedule.shorten(epochs * self.steps)


# The loops of the last architectures trained, the latest first. The portfolio goes from the defaults to the
# classic MLP (whose folds may need two graphs: padded_width) and back to the defaults' architecture: with two
# loops kept, the defaults' graph was rebuilt there (2.8 s on Ames, 3.1 s on soybean, measured). A loop keeps its
# network's weights, optimizer state and their initial values (about six copies of the weights): the oldest are
# also let go beyond MAX_LOOP_WEIGHTS weights in all.
_LOOPS: list[_TrainingLoop] = []
MAX_LOOPS = 4
MAX_LOOP_WEIGHTS = 4_000_000  # about 100 MB of float32 with the six copies


def loop_key(est: _KerasMLP, X: np.ndarray) -> tuple[Any, ...]:
    """What ``est``'s compiled training loop depends on, for inputs like ``X``: fits with equal keys share one
    graph (its :data:`RUNTIME` parameters, epochs, patience and validation split are set at each fit)."""
    numeric, _, codes = column_roles(getattr(est, "feature_names_in_", None), X.shape[1])
    ignored = ("patience", "n_jobs", "validation_fraction", "epochs", *RUNTIME)  # not part of the compiled graph
    params = {k: v for k, v in est.get_params().items() if k not in ignored}
    return (type(est).__name__, tuple(sorted(params.items())), X.shape[1], est._outputs()[0], tuple(numeric),
            tuple(codes), tuple(_cardinalities(getattr(est, "feature_names_in_", None), X, codes)), _loss_key(est))


def _loop_for(est: _KerasMLP, keras: Any, X: np.ndarray) -> _TrainingLoop:
    """The training loop for ``est``'s architecture on inputs like ``X``: one of the ``MAX_LOOPS`` latest if its
    key matches (:func:`loop_key`), else a new one; the oldest beyond ``MAX_LOOPS`` or ``MAX_LOOP_WEIGHTS`` are
    let go."""
    key = loop_key(est, X)
    found = next((loop for loop in _LOOPS if loop.key == key), None)
    if found is None:
        del _LOOPS[MAX_LOOPS - 1:]  # before building: never more than MAX_LOOPS networks at once
        found = _TrainingLoop(est, keras, X, key)
    else:
        _LOOPS.remove(found)
    _LOOPS.insert(0, found)
    kept = 0
    for i, loop in enumerate(_LOOPS):  # the weight budget (the count was kept before building)
        kept += loop.n_weights
        if i > 0 and kept > MAX_LOOP_WEIGHTS:
            del _LOOPS[i:]
            break
    return found


def _loss_key(est: _KerasMLP) -> Any:
    classes = getattr(est, "classes_", None)
    return None if classes is None else min(len(classes), 3)  # binary or multiclass


def _cardinalities(names: Any, X: np.ndarray, codes: list[int]) -> list[int]:
    """Codes per categorical column (0 = unseen or rare level): ``K`` of its name ``cat__code:<K>:<col>``
    (the encoder's, the same on every fold), else one more than the largest code in the training rows."""
    out = []
    for c in codes:
        size = str(names[c]).removeprefix("cat__" + CODE_PREFIX).split(":", 1)[0] if names is not None else ""
        largest = int(max(X[:, c].max(), 0)) + 1 if len(X) else 1
        out.append(max(int(size), largest) if size.isdigit() else largest)
    return out


class KerasMLPRegressor(RegressorMixin, _KerasMLP):
    """Keras network for regression: linear output, on the standardised target a ``loss`` of
    ``"squared_error"`` (``"auto"``), ``"absolute_error"`` or ``"huber"``; predictions clipped to the training
    targets' range."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KerasMLPRegressor:
        """Train on ``X`` (n_rows, n_features) and ``y`` (n_rows,), each row's loss weighted by
        ``sample_weight`` (n_rows,; None: 1)."""
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True, accept_sparse="csr")
        X = _dense(X)
        y = np.asarray(y, dtype=np.float64)
        self._y_mean, self._y_std = float(y.mean()), float(y.std()) or 1.0
        self._y_range = (float(y.min()), float(y.max()))
        self._fit_arrays(X, ((y - self._y_mean) / self._y_std).astype(np.float32)[:, None], sample_weight)
        return self

    def predict(self, X: Any) -> np.ndarray:
        out = self._raw_predict(X).ravel() * self._y_std + self._y_mean
        return np.clip(out, *getattr(self, "_y_range", (-np.inf, np.inf)))


class KerasMLPClassifier(ClassifierMixin, _KerasMLP):
    """Keras network for classification: sigmoid + binary cross-entropy, or softmax + categorical
    cross-entropy; both with ``label_smoothing`` (``loss`` is ``"auto"``: the cross-entropy)."""

    _LOSSES = ("auto",)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KerasMLPClassifier:
        """Train on ``X`` (n_rows, n_features) and labels ``y`` (n_rows,), each row's loss weighted by
        ``sample_weight`` (n_rows,; None: 1)."""
        X, y = validate_data(self, X, y, dtype=np.float32, accept_sparse="csr")
        X = _dense(X)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"Classifier needs samples of at least 2 classes; got 1 class: {self.classes_.tolist()}.")
        if len(self.classes_) == 2:
            target = codes.astype(np.float32)[:, None]
        else:
            target = np.eye(len(self.classes_), dtype=np.float32)[codes]
        self._fit_arrays(X, target, sample_weight)
        return self

    def _outputs(self) -> tuple[int, str | None, Any]:
        import keras

        # label_smoothing is applied to the targets by the training loop (a run-time value there)
        if len(self.classes_) == 2:
            return 1, "sigmoid", keras.losses.BinaryCrossentropy()
        return len(self.classes_), "softmax", keras.losses.CategoricalCrossentropy()

    def predict_proba(self, X: Any) -> np.ndarray:
        raw = self._raw_predict(X)
        if raw.shape[1] == 1:
            p = np.clip(raw[:, 0], 0.0, 1.0)
            return np.column_stack([1 - p, p])
        return raw / raw.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)  # checks that the model is fitted
        return self.classes_[proba.argmax(axis=1)]


def build(task: str, params: dict[str, Any], seed: int, n_jobs: int) -> Any:
    _keras(n_jobs)  # import TensorFlow now (seconds), not inside the first timed fit
    cls = KerasMLPRegressor if task == "regression" else KerasMLPClassifier
    return cls(**params, random_state=seed, n_jobs=n_jobs)


def search_space(trial: Any, task: str, large: bool = False) -> dict[str, Any]:
    """The network's search space; on ``large`` data (the family's ``large_search_space``) one member, a learning
    rate from 1e-3 and the batch size that grows with the rows, as its large-data defaults: under a short time
    limit a large table gets few passes, and letter's (16 000 rows, 240 s) sampled trials with 8 or 16 members, a
    rate of 4e-4 or batches of 32 were all pruned at log loss 0.81-2.37, the defaults reaching 0.113
    (``benchmarks/neural.md``)."""
    return {
        PREPROCESSING: trial.suggest_categorical(PREPROCESSING, ["neural", "dense"]),
        "hidden_layers": trial.suggest_int("hidden_layers", 1, 4),
        "units": trial.suggest_categorical("units", [64, 128, 256, 512]),
        "activation": trial.suggest_categorical("activation", list(ACTIVATIONS)),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "l1": trial.suggest_categorical("l1", [0.0, 1e-6, 1e-5, 1e-4]),
        "l2": trial.suggest_categorical("l2", [0.0, 1e-6, 1e-5, 1e-4, 1e-3]),
        "batch_norm": trial.suggest_categorical("batch_norm", [False, True]),
        "numeric_embedding": trial.suggest_categorical("numeric_embedding", list(EMBEDDINGS)),
        "frequency_scale": trial.suggest_float("frequency_scale", 0.01, 1.0, log=True),
        "members": 1 if large else trial.suggest_categorical("members", [1, 4, 8, 16]),
        "optimizer": trial.suggest_categorical("optimizer", list(OPTIMIZERS)),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3 if large else 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-2, log=True),
        "schedule": trial.suggest_categorical("schedule", list(SCHEDULES)),
        "label_smoothing": trial.suggest_categorical("label_smoothing", [0.0, 0.1]) if task != "regression" else 0.0,
        **({"loss": trial.suggest_categorical("loss", list(SEARCHED_LOSSES))} if task == "regression" else {}),
        "batch_size": 0 if large else trial.suggest_categorical("batch_size", [0, 32, 64, 128, 256, 512]),
    }


# The study notes' MLP: Dense(relu) blocks with Dropout and L2, Adam at a constant rate, EarlyStopping on the
# validation loss, standard scaling with IQR clipping and one-hot categories (the "dense" pipeline).
CLASSIC: dict[str, Any] = {
    PREPROCESSING: "dense", "hidden_layers": 2, "units": 128, "activation": "relu", "dropout": 0.2, "l1": 0.0,
    "l2": 1e-4, "batch_norm": False, "numeric_embedding": "none", "frequency_scale": 0.1, "members": 1,
    "optimizer": "adam", "learning_rate": 1e-3, "weight_decay": 3e-4, "schedule": "constant", "label_smoothing": 0.0,
    "loss": "auto", "batch_size": 128, "epochs": 200, "patience": 10, "validation_fraction": 0.1,
}

SPEC = ModelSpec(
    key="keras_mlp", name="Keras MLP", kind="neural net", preprocessing="neural", cost=10.0, build=build,
    defaults={PREPROCESSING: "neural", "hidden_layers": 3, "units": 128, "activation": "relu", "dropout": 0.1,
              "l1": 0.0, "l2": 0.0, "batch_norm": False, "numeric_embedding": "periodic", "frequency_scale": 0.1,
              "members": 4, "optimizer": "adamw", "learning_rate": 2e-3, "weight_decay": 3e-4, "schedule": "cosine",
              "label_smoothing": 0.0, "loss": "auto", "batch_size": 0, "epochs": 100, "patience": 30,
              "validation_fraction": 0.1},
    # Dropout adds noise to a regression network's output: 0 against 0.2 measured on the classic MLP, diamonds
    # RMSE 560 vs 1293 (a held-out third), Ames 26 414 vs 27 020, Boston (Keras split) MAE 2.12 vs 2.33 (5-fold CV).
    task_defaults={"regression": {"dropout": 0.0}},
    # after the defaults: the notes' classic MLP (cheap per step: on larger tables a short trial cannot train the
    # defaults to the end; with it third, the network alone at 60 s went 0.38 -> 0.43 on letter, 639 -> 752 on
    # diamonds, benchmarks/neural.md), then two configurations of the defaults' architecture that
    # differ only in RUNTIME values, so they reuse its compiled graph (2.4 s less each): a slower, more
    # regularised one with smoother embeddings, and a faster one with sharper embeddings; then a plain MLP with
    # the modern training (no embeddings, one member: the cheapest per step), and a wider ensemble
    portfolio=((1.0, CLASSIC),
               (1.0, {"learning_rate": 1e-3, "weight_decay": 1e-2, "frequency_scale": 0.05}),
               (1.0, {"learning_rate": 4e-3, "frequency_scale": 0.2}),
               (0.5, {"members": 1, "numeric_embedding": "none", "hidden_layers": 2, "units": 256, "dropout": 0.2}),
               (2.0, {"members": 8, "units": 256, "dropout": 0.15, "learning_rate": 1e-3})),
    search_space=search_space,
    # wide data (more columns than rows): no per-column embeddings (16 frequencies x 4 outputs for each of
    # thousands of columns), one member, a narrower and more regularised network
    wide={"numeric_embedding": "none", "members": 1, "hidden_layers": 2, "units": 64, "dropout": 0.3, "l2": 1e-3},
    # large data (over LARGE_DATA_ROWS rows): one member and a faster rate. Under a time limit a large table gets
    # few passes, and four members (1.7 times the cost per step) at 2e-3 are far from converged: 3-fold CV, 15 s per
    # trial, letter log loss 0.634 -> 0.146 (one member at 2e-3: 0.226; four at 6e-3: 0.391), diamonds RMSE
    # 742 -> 597 on the log target and 573 on the raw one (benchmarks/neural.md). Below 10 000 rows the four
    # members hold or win at 10 s a trial (credit 0.8443 against 0.8396, pima 0.8280 against 0.8251).
    large={"members": 1, "learning_rate": 6e-3},
    large_search_space=partial(search_space, large=True),
    anytime=True,
    # delivered as the mean of its fold models, each stopped at its best validation epoch: a refit on all rows
    # must guess the epoch count and trains without validation (Boston, Keras split: test MAE 2.68 refitted
    # against a CV MAE of 2.17)
    fold_models="deliver",
)
