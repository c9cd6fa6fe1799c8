"""A trained network as plain arrays, with a NumPy forward pass: a saved network predicts without TensorFlow.

:func:`export` (which needs Keras, so runs where the network was trained) turns a network of
:mod:`automl.models.keras_mlp` (the trained one, to which the caller appends the members' mean; or an inference
model ending in ``MemberMean``, as earlier versions saved) into a list of layers, each a dict of its kind, settings
and weights as NumPy arrays; :func:`forward` computes the network's output from them with NumPy alone, its matrix
products in float64 (the weights stay float32). BLAS's float32 kernels sum in an order that depends on a row's
place in the batch, so a row's float32 output would change in its 7th digit with the rows around it; a prediction
must not depend on the other rows. Padding every chunk to one shape does not cure it on every CPU: with it,
OpenBLAS's SkylakeX, Sandybridge and Nehalem kernels gave each row the same bits wherever it stood, but its Haswell
kernel (which AMD Zen CPUs get too) gave rows of one fixed 16 x 128 by 128 x 128 product other results when they
were shuffled, in the 7th digit (measured with ``OPENBLAS_CORETYPE``); float32 would halve the products' time.
The periodic embeddings' cosines, element-wise, are taken in float32 as Keras takes them. The layers covered
are every one the family builds: the input embedding (:class:`~automl.models.keras_layers.FeatureEmbedding`:
numbers as they are, their periodic embeddings, 0/1 columns, categorical embeddings), the TabM-mini members
(``EnsembleAdapter`` or a single member's ``Reshape``), ``Dense`` with ReLU / SiLU / GELU, ``BatchNormalization``
(its moving statistics), ``Dropout`` (nothing at inference), the members' output layers (``EnsembleHead`` with
sigmoid / softmax / linear) and their mean. Any other layer is a :class:`TypeError` at export, so a layer added to
the family without a NumPy twin fails in its tests, not at a user's predict.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

CHUNK_ROWS = 1024  # rows per pass: the activations of a chunk stay in the cache (3 folds x 10 000 rows: 0.48 -> 0.34 s)


def export(model: Any) -> list[dict[str, Any]]:
    """The layers of a Keras network of the family as dicts of NumPy arrays (see the module docstring).

    Raises
    ------
    TypeError
        For a layer this module has no NumPy forward pass of.
    """
    layers: list[dict[str, Any]] = []
    for layer in model.layers:
        kind = type(layer).__name__
        weights = {v.path.rsplit("/", 1)[-1]: np.asarray(v.numpy(), dtype=np.float32) for v in layer.weights}
        config = layer.get_config()
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind == "FeatureEmbedding":
            layers.append({"kind": "embedding", "numeric": list(layer.numeric), "binary": list(layer.binary),
                           "codes": list(layer.codes), "cardinalities": list(layer.cardinalities),
                           "n_frequencies": int(layer.n_frequencies), "d_embedding": int(layer.d_embedding),
                           "tables": [np.asarray(t.numpy(), dtype=np.float32) for t in layer.tables],
                           **{k: weights[k] for k in ("frequencies", "phases", "kernel", "bias") if k in weights}})
        elif kind == "EnsembleAdapter":
            layers.append({"kind": "members", "r": weights["r"]})
        elif kind == "Reshape" and tuple(config["target_shape"]) == (1, -1):
            layers.append({"kind": "members", "r": None})
        elif kind == "Dense":
            layers.append({"kind": "dense", "kernel": weights["kernel"], "bias": weights.get("bias"),
                           "activation": _activation_name(config["activation"])})
        elif kind == "BatchNormalization" and config.get("axis") in (-1, [-1]):
            layers.append({"kind": "batch_norm", "epsilon": float(config["epsilon"]),
                           "gamma": weights.get("gamma"), "beta": weights.get("beta"),
                           "mean": weights["moving_mean"], "variance": weights["moving_variance"]})
        elif kind == "EnsembleHead":
            layers.append({"kind": "head", "kernel": weights["kernel"], "bias": weights["bias"],
                           "activation": _activation_name(config["activation"])})
        elif kind == "MemberMean":
            layers.append({"kind": "member_mean"})
        else:
            raise TypeError(f"No NumPy forward pass for the Keras layer {kind} ({layer.name}); add one to "
                            f"{__name__} before the network family uses it.")
    return layers


def _activation_name(activation: Any) -> str:
    name = activation if isinstance(activation, str) or activation is None else getattr(activation, "__name__", "")
    name = name or "linear"
    if name not in ACTIVATIONS:
        raise TypeError(f"No NumPy forward pass for the activation {name!r}; known: {', '.join(ACTIVATIONS)}.")
    return name


def forward(layers: list[dict[str, Any]], X: np.ndarray) -> np.ndarray:
    """The network's output for the rows of ``X``, shape (n_rows, n_outputs), computed with NumPy.

    ``X``: the network's input, shape (n_rows, n_features), as the Keras model takes it.
    """
    X = np.asarray(X, dtype=np.float64)
    chunks = [_forward(layers, X[i:i + CHUNK_ROWS]) for i in range(0, len(X), CHUNK_ROWS)]
    if chunks:
        return np.concatenate(chunks)
    return _forward(layers, np.zeros((1, X.shape[1]), dtype=np.float64))[:0]


def _forward(layers: list[dict[str, Any]], X: np.ndarray) -> np.ndarray:
    h = X
    for layer in layers:
        h = STEPS[layer["kind"]](layer, h)
    return h


def _embedding(layer: dict[str, Any], X: np.ndarray) -> np.ndarray:
    parts = []
    if layer["numeric"]:
        x = X[:, layer["numeric"]]
        parts.append(x)
        if layer["n_frequencies"]:
            # float32, as Keras computes them: element-wise, so a row's values do not depend on the other rows,
            # and NumPy's float32 cosine is vectorised (float64's: 1.9 against 0.08 ms for 1 024 x 8 x 16 values,
            # measured); the product below is float64
            x32 = x.astype(np.float32)
            angles = np.float32(2 * math.pi) * x32[:, :, None] * layer["frequencies"][None] + layer["phases"][None]
            waves = np.cos(angles).astype(np.float64)
            # per feature n: (rows, k) @ (k, d)
            emb = np.matmul(waves.transpose(1, 0, 2), layer["kernel"]).transpose(1, 0, 2) + layer["bias"]
            parts.append(emb.reshape(len(X), -1))
    if layer["binary"]:
        parts.append(X[:, layer["binary"]])
    for column, cardinality, table in zip(layer["codes"], layer["cardinalities"], layer["tables"], strict=True):
        code = np.nan_to_num(X[:, column], nan=-1.0, posinf=-1.0, neginf=-1.0).astype(np.int64)
        code = np.where((code < 0) | (code >= cardinality), 0, code)
        parts.append(table[code])
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def _members(layer: dict[str, Any], h: np.ndarray) -> np.ndarray:
    return h[:, None, :] if layer["r"] is None else h[:, None, :] * layer["r"][None]


def _dense(layer: dict[str, Any], h: np.ndarray) -> np.ndarray:
    # one matrix product over rows x members (a stacked (members, d) @ (d, units) per row is 5x slower)
    out = (h.reshape(-1, h.shape[-1]) @ layer["kernel"].astype(h.dtype)).reshape(*h.shape[:-1], -1)
    if layer["bias"] is not None:
        out += layer["bias"]  # in place: ``out`` is this step's own array
    if layer["activation"] == "relu":
        return np.maximum(out, 0, out=out)
    return ACTIVATIONS[layer["activation"]](out)


def _batch_norm(layer: dict[str, Any], h: np.ndarray) -> np.ndarray:
    out = (h - layer["mean"]) / np.sqrt(layer["variance"] + np.float32(layer["epsilon"]))
    if layer["gamma"] is not None:
        out = out * layer["gamma"]
    return out + layer["beta"] if layer["beta"] is not None else out


def _head(layer: dict[str, Any], h: np.ndarray) -> np.ndarray:
    out = np.matmul(h.transpose(1, 0, 2), layer["kernel"]).transpose(1, 0, 2) + layer["bias"][None]
    return ACTIVATIONS[layer["activation"]](out)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return (0.5 * x * (1 + erf(x / np.float32(math.sqrt(2))))).astype(x.dtype)


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "silu": lambda x: x * _sigmoid(x),
    "gelu": _gelu,
    "sigmoid": _sigmoid,
    "softmax": _softmax,
}
STEPS = {"embedding": _embedding, "members": _members, "dense": _dense, "batch_norm": _batch_norm,
         "head": _head, "member_mean": lambda layer, h: h.mean(axis=1)}
