"""Would training the k fold networks of a CV trial at once, in one graph, make a trial cheaper on a CPU?

Issue 13's idea: pack the k fold models as k independent networks in one TensorFlow graph (every weight gets a
leading fold axis; each fold's batch comes from its own training rows), so that one optimizer step trains all
k. It pays when a step's cost is fixed overhead rather than arithmetic. This script measures one optimizer step
(AdamW) of the family's default core, TabM-mini with 4 members sharing 3 × Dense(128, ReLU) and a sigmoid head
per member, on an input of 40 columns (8 numbers and their periodic embeddings), for 1, 3 and 5 packed folds,
at the batch sizes the family uses on small to large tables. Usage::

    .venv/bin/python benchmarks/fold_packing.py --output benchmarks/fold_packing.md
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

WIDTH, MEMBERS, UNITS, LAYERS, ROWS = 40, 4, 128, 3, 2000


def step_ms(tf: object, keras: object, folds: int, batch: int, steps: int) -> float:
    """Milliseconds per optimizer step of ``folds`` packed networks, each on its own batch of ``batch`` rows."""
    rng = np.random.default_rng(0)
    shapes = [(folds, WIDTH, UNITS)] + [(folds, UNITS, UNITS)] * (LAYERS - 1) + [(folds, MEMBERS, UNITS, 1)]
    kernels = [keras.Variable((rng.normal(size=s) / np.sqrt(s[-2])).astype("float32")) for s in shapes]
    signs = keras.Variable(np.sign(rng.normal(size=(folds, MEMBERS, WIDTH))).astype("float32"))
    variables = [*kernels, signs]
    optimizer = keras.optimizers.AdamW(1e-3)
    optimizer.build(variables)
    X = tf.constant(rng.normal(size=(folds, ROWS, WIDTH)).astype("float32"))
    y = tf.constant((rng.random((folds, ROWS, 1)) > 0.5).astype("float32"))

    def step(xb: object, yb: object) -> object:
        with tf.GradientTape() as tape:
            h = xb[:, :, None, :] * signs[:, None]  # (folds, batch, members, width)
            for kernel in kernels[:-1]:
                h = tf.nn.relu(tf.einsum("fbmd,fdu->fbmu", h, kernel))
            out = tf.einsum("fbmu,fmuo->fbmo", h, kernels[-1])
            target = tf.broadcast_to(yb[:, :, None], tf.shape(out))
            # the sum over folds of each fold's mean loss: a fold's gradient is its own loss's
            loss = tf.reduce_sum(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(target, out), axis=[1, 2, 3]))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    @tf.function
    def run(n: object) -> object:
        total = tf.constant(0.0)
        for i in tf.range(n):
            rows = tf.random.stateless_uniform([folds, batch], seed=[0, i], maxval=ROWS, dtype=tf.int32)
            total += step(tf.gather(X, rows, batch_dims=1), tf.gather(y, rows, batch_dims=1))
        return total

    run(tf.constant(5))  # trace and warm up
    start = time.perf_counter()
    run(tf.constant(steps))
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("fold_packing.md"))
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    import tensorflow as tf

    from automl.models.keras_mlp import _keras

    keras = _keras(2)
    rows = []
    for batch in (32, 128, 512):
        single = step_ms(tf, keras, 1, batch, args.steps)
        for folds in (3, 5):
            packed = step_ms(tf, keras, folds, batch, args.steps)
            rows.append(f"| {batch} | {folds} | {single:.2f} | {packed:.2f} | {folds * single:.2f} | "
                        f"{packed / (folds * single):.2f} |")
            print(rows[-1], flush=True)
    text = "\n".join([
        "# Packing the k fold networks of a trial into one graph (issue 13's idea), measured",
        "",
        f"Machine: 2 cores (TensorFlow pinned to 2 threads), Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}; `benchmarks/fold_packing.py`. One AdamW step of the default core (4 TabM-mini members, "
        f"{LAYERS} × Dense({UNITS}), input {WIDTH} wide), milliseconds, mean of {args.steps} steps.",
        "",
        "| batch | folds packed | one fold's step | packed step | the folds one after another "
        "| packed / one after another |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    args.output.write_text(text)


if __name__ == "__main__":
    main()
