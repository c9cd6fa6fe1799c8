"""Keras layers and the learning-rate schedule of the tabular networks (:mod:`automl.models.keras_mlp`).

Imported only where a network is built or loaded (it imports Keras, hence TensorFlow). Every layer is
registered for Keras' native ``.keras`` format, so a saved network loads without this module's help beyond its
import.

Sources:

- :class:`FeatureEmbedding`'s periodic embeddings of numbers: Gorishniy, Rubachev & Babenko (2022), "On
  Embeddings for Numerical Features in Tabular Deep Learning" (periodic embeddings, σ about 0.1 with 16
  frequencies), in the "PBLD" form of Holzmüller et al. (2024), "Better by Default" (RealMLP): per feature
  ``[x, W₂ cos(2π w x + b) + b₂]``; categorical embeddings of size ``min(16, round(1.6 n^0.56))`` (the fast.ai
  rule of thumb).
- :class:`EnsembleAdapter` / :class:`EnsembleHead` / :class:`MemberMean`: TabM-mini, Gorishniy et al. (2024),
  "TabM: Advancing Tabular Deep Learning with Parameter-Efficient Ensembling": k members share the hidden
  layers; each multiplies the input by its own random ±1 vector and has its own output layer; training uses
  the mean of the members' losses, inference the mean of their predictions.
- :class:`WarmupCosine`: linear warm-up then cosine decay (Loshchilov & Hutter 2017, SGDR), whose length can be
  shortened while training runs (a network that must stop at a time limit still ends its schedule).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

PACKAGE = "automl"


def embedding_size(levels: int) -> int:
    """Width of a learnt categorical embedding for ``levels`` codes: ``min(16, round(1.6 levels^0.56))``."""
    return max(2, min(16, round(1.6 * levels ** 0.56)))


@keras.saving.register_keras_serializable(package=PACKAGE)
class FeatureEmbedding(keras.layers.Layer):
    """The network's input layer: numbers (optionally periodic-embedded), 0/1 columns, categorical codes.

    Input ``(batch, n_features)``; output ``(batch, width)``, the concatenation of: each number ``x`` as it is,
    followed, if ``n_frequencies > 0``, by ``d_embedding`` values ``W₂ cos(2π w x + b) + b₂`` (its own
    ``n_frequencies`` frequencies ``w ~ N(0, sigma²)``, phases ``b ~ U(-π, π)``, and linear layer, all learnt);
    the 0/1 columns as they are; for each code column an embedding of width :func:`embedding_size`.

    Parameters
    ----------
    numeric, binary, codes
        Column positions of each role in the input.
    cardinalities
        For each code column, the number of codes (codes at or above it are treated as 0, the unseen level).
    """

    def __init__(self, numeric: list[int], binary: list[int], codes: list[int], cardinalities: list[int],
                 n_frequencies: int = 16, sigma: float = 0.1, d_embedding: int = 4, seed: int = 0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.numeric, self.binary, self.codes = list(numeric), list(binary), list(codes)
        self.cardinalities = [int(c) for c in cardinalities]
        self.n_frequencies, self.sigma, self.d_embedding, self.seed = n_frequencies, sigma, d_embedding, seed

    def build(self, input_shape: Any) -> None:
        n, k, d = len(self.numeric), self.n_frequencies, self.d_embedding
        if n and k:
            init = keras.initializers.RandomNormal(stddev=self.sigma, seed=self.seed)
            self.frequencies = self.add_weight(shape=(n, k), initializer=init, name="frequencies")
            self.phases = self.add_weight(shape=(n, k), name="phases", initializer=keras.initializers.RandomUniform(
                -math.pi, math.pi, seed=self.seed + 1))
            limit = 1.0 / math.sqrt(k)
            self.kernel = self.add_weight(shape=(n, k, d), name="kernel", initializer=keras.initializers.RandomUniform(
                -limit, limit, seed=self.seed + 2))
            self.bias = self.add_weight(shape=(n, d), name="bias", initializer="zeros")
        self.tables = [self.add_weight(shape=(c, embedding_size(c)), name=f"table_{i}",
                                       initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed + 3 + i))
                       for i, c in enumerate(self.cardinalities)]

    def call(self, inputs: Any) -> Any:
        parts = []
        if self.numeric:
            x = ops.take(inputs, self.numeric, axis=1)
            parts.append(x)
            if self.n_frequencies:
                angles = 2 * math.pi * x[:, :, None] * self.frequencies[None] + self.phases[None]
                emb = ops.einsum("bnk,nkd->bnd", ops.cos(angles), self.kernel) + self.bias[None]
                parts.append(ops.reshape(emb, (-1, len(self.numeric) * self.d_embedding)))
        if self.binary:
            parts.append(ops.take(inputs, self.binary, axis=1))
        for column, cardinality, table in zip(self.codes, self.cardinalities, self.tables, strict=True):
            code = ops.cast(inputs[:, column], "int32")
            code = ops.where((code < 0) | (code >= cardinality), ops.zeros_like(code), code)
            parts.append(ops.take(table, code, axis=0))
        return ops.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, int]:
        width = len(self.numeric) * (1 + (self.d_embedding if self.n_frequencies else 0)) + len(self.binary)
        return (input_shape[0], width + sum(embedding_size(c) for c in self.cardinalities))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "numeric": self.numeric, "binary": self.binary, "codes": self.codes,
                "cardinalities": self.cardinalities, "n_frequencies": self.n_frequencies, "sigma": self.sigma,
                "d_embedding": self.d_embedding, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class EnsembleAdapter(keras.layers.Layer):
    """``(batch, d)`` → ``(batch, k, d)``: member ``i`` sees the input times its own vector ``r_i``, drawn as
    random signs (TabM-mini; learnt)."""

    def __init__(self, k: int, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k, self.seed = k, seed

    def build(self, input_shape: Any) -> None:
        self.r = self.add_weight(shape=(self.k, input_shape[-1]), name="r", initializer=_RandomSigns(self.seed))

    def call(self, inputs: Any) -> Any:
        return inputs[:, None, :] * self.r[None]

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return (input_shape[0], self.k, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "k": self.k, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class EnsembleHead(keras.layers.Layer):
    """``(batch, k, d)`` → ``(batch, k, units)``: each member's own output layer (Glorot-uniform kernels),
    followed by ``activation``."""

    def __init__(self, units: int, activation: str | None = None, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units, self.activation, self.seed = units, activation, seed

    def build(self, input_shape: Any) -> None:
        k, d = input_shape[1], input_shape[2]
        limit = math.sqrt(6.0 / (d + self.units))
        self.kernel = self.add_weight(shape=(k, d, self.units), name="kernel",
                                      initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed))
        self.bias = self.add_weight(shape=(k, self.units), name="bias", initializer="zeros")

    def call(self, inputs: Any) -> Any:
        out = ops.einsum("bkd,kdu->bku", inputs, self.kernel) + self.bias[None]
        return keras.activations.get(self.activation)(out)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return (input_shape[0], input_shape[1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "activation": self.activation, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MemberMean(keras.layers.Layer):
    """``(batch, k, units)`` → ``(batch, units)``: the mean of the members' predictions."""

    def call(self, inputs: Any) -> Any:
        return ops.mean(inputs, axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=PACKAGE)
class _RandomSigns(keras.initializers.Initializer):
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        draw = keras.random.uniform(shape, seed=self.seed, dtype=dtype or "float32")
        return ops.where(draw < 0.5, -ops.ones_like(draw), ops.ones_like(draw))

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class WarmupCosine:
    """Learning rate rising linearly over the first 5 % of the steps to ``peak``, then falling along half a
    cosine to ``peak * floor`` at the last step, and staying there.

    The peak and the number of steps are variables: a new fit may assign another ``peak`` and :meth:`reset`
    the steps, :meth:`shorten` moves the end earlier while training runs (the time limit allows fewer epochs
    than planned). Called with the step number inside the training graph; saved networks do not keep it.
    """

    WARMUP = 0.05

    def __init__(self, peak: float, floor: float = 0.01) -> None:
        self.peak = keras.Variable(float(peak), trainable=False, name="peak_learning_rate")
        self.floor = float(floor)
        self.total = keras.Variable(1000.0, trainable=False, name="total_steps")
        self.warmup = keras.Variable(50.0, trainable=False, name="warmup_steps")

    def reset(self, total_steps: float) -> None:
        """Plan ``total_steps`` steps in all."""
        self.total.assign(max(float(total_steps), 2.0))
        self.warmup.assign(max(1.0, self.WARMUP * float(total_steps)))

    def shorten(self, total_steps: float) -> None:
        """End the decay at ``total_steps`` if that is earlier than planned; the warm-up shrinks with it."""
        total = max(float(total_steps), 2.0)
        if total < float(self.total.numpy()):
            self.total.assign(total)
            self.warmup.assign(min(float(self.warmup.numpy()), max(1.0, self.WARMUP * total)))

    def __call__(self, step: Any) -> Any:
        step = ops.cast(step, "float32")
        warm = self.peak * (step + 1.0) / self.warmup
        progress = ops.clip((step - self.warmup) / ops.maximum(self.total - self.warmup, 1.0), 0.0, 1.0)
        cosine = self.peak * (self.floor + (1 - self.floor) * 0.5 * (1.0 + ops.cos(math.pi * progress)))
        return ops.where(step < self.warmup, warm, cosine)
