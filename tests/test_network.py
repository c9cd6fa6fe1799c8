"""The tabular network's parts: its input transforms, its layers, its schedule, its compiled training loop."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

from automl.config import FitConfig, PreprocessConfig
from automl.data.io import read_table
from automl.data.network_inputs import CODE_PREFIX, RobustSmoothScaler, SplitCategoricalEncoder, smooth_clip
from automl.data.schema import infer_schema
from automl.models import keras_mlp, registry
from automl.models.keras_mlp import KerasMLPClassifier, KerasMLPRegressor, auto_batch_size, column_roles
from automl.search.evaluate import Context, make_pipeline
from automl.search.metrics import get_metric


def test_robust_scaling_then_smooth_clipping():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0], [1000.0, 5.0]])
    scaler = RobustSmoothScaler().fit(X)
    np.testing.assert_allclose(scaler.center_, [3.0, 5.0])
    np.testing.assert_allclose(scaler.scale_, [2.0, 1.0])  # IQR 4 - 2; a constant column is divided by 1
    out = scaler.transform(X)
    np.testing.assert_allclose(out[:, 0], smooth_clip((X[:, 0] - 3.0) / 2.0), rtol=1e-6)
    assert out.dtype == np.float32 and np.all(np.abs(out) < 3.0) and out[4, 0] > 2.99  # 498.5 → nearly 3
    np.testing.assert_allclose(out[:, 1], 0.0)
    assert smooth_clip(np.array([0.3]))[0] == pytest.approx(0.3 / math.sqrt(1.01))


def test_robust_scaling_falls_back_to_half_the_range():
    X = np.array([[0.0]] * 8 + [[10.0], [20.0]])  # quartiles equal: IQR 0
    scaler = RobustSmoothScaler().fit(X)
    assert scaler.scale_[0] == pytest.approx(10.0)  # (20 - 0) / 2


def test_categories_split_between_one_hot_and_codes():
    many = [f"l{i}" for i in range(12)] * 3 + ["once"]
    frame = pd.DataFrame({"few": (["a", "b", None] * 13)[: len(many)], "many": many})
    enc = SplitCategoricalEncoder().fit(frame)
    assert enc.coded_ == [False, True]
    names = list(enc.get_feature_names_out())
    assert names == ["few=__missing__", "few=a", "few=b", "code:13:many"]  # 12 levels kept, and code 0
    out = enc.transform(pd.DataFrame({"few": ["b", "zzz"], "many": ["l3", "once"]}))
    np.testing.assert_array_equal(out[0], [0, 0, 1, 1 + sorted(f"l{i}" for i in range(12)).index("l3")])
    np.testing.assert_array_equal(out[1], [0, 0, 0, 0])  # unseen one-hot level: zeros; a level seen once: code 0


def test_given_levels_give_every_fold_the_same_layout():
    """With the schema's levels, two folds whose rows hold different levels get the same columns and the same
    codes; a level rare in one fold's rows still maps to code 0 there."""
    levels = [["a", "b", "c", "__missing__"], [f"l{i:02d}" for i in range(12)]]
    fold1 = pd.DataFrame({"few": ["a", "b"] * 10, "many": [f"l{i:02d}" for i in range(10)] * 2})
    fold2 = pd.DataFrame({"few": ["c", None] * 10, "many": [f"l{i:02d}" for i in range(2, 12)] * 2})
    fold2.loc[0, "many"] = "l00"  # seen once in this fold: rare
    one = SplitCategoricalEncoder(categories=levels).fit(fold1)
    two = SplitCategoricalEncoder(categories=levels).fit(fold2)
    names = ["few=__missing__", "few=a", "few=b", "few=c", "code:13:many"]
    assert list(one.get_feature_names_out()) == list(two.get_feature_names_out()) == names
    rows = pd.DataFrame({"few": ["c", "zzz"], "many": ["l00", "l11"]})
    # l11 is not in fold 1's rows, l00 once in fold 2's: code 0 there; the codes of the others never move
    np.testing.assert_array_equal(one.transform(rows), [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(two.transform(rows), [[0, 0, 0, 1, 0], [0, 0, 0, 0, 12]])
    with pytest.raises(ValueError, match="categories has 2 columns' levels; X has 1 columns"):
        SplitCategoricalEncoder(categories=levels).fit(fold1[["few"]])


def test_an_encoder_saved_before_rare_levels_were_kept_still_transforms():
    """Run folders saved before ``rare_`` existed (the layout followed the fit rows) still predict."""
    frame = pd.DataFrame({"many": [f"l{i}" for i in range(12)] * 2 + ["once"]})
    enc = SplitCategoricalEncoder().fit(frame)
    old = pickle.loads(pickle.dumps(enc))
    del old.rare_
    np.testing.assert_array_equal(old.transform(frame), enc.transform(frame))


def test_a_trial_builds_the_networks_training_step_once(monkeypatch, seed):
    """Folds whose training rows lack a category level or a column's missing values still share one compiled
    training loop: the neural pipeline's columns come from the schema, not from each fold's rows."""
    from automl.models import keras_mlp, registry
    from automl.search.cv import make_folds
    from automl.search.evaluate import Context, cross_validate
    from automl.search.metrics import get_metric

    frame = _frame("binary", n=150, seed=seed)
    frame.loc[:2, "kind"] = "w"  # a level in 3 rows: some folds' training rows lack it or hold it once
    frame.loc[3, "x"] = np.nan  # missing in one row: absent from most folds' training rows
    table, info = read_table(frame)
    schema, labels = infer_schema(table, FitConfig(target="y"), info)
    X, y = schema.transform(table), schema.encode_target(labels)
    ctx = Context(schema, get_metric(schema.metric), PreprocessConfig(), seed, 1)
    built = []
    monkeypatch.setattr(keras_mlp, "_TrainingLoop", _counting(keras_mlp._TrainingLoop, built))
    keras_mlp._LOOPS.clear()
    result = cross_validate(registry.get("keras_mlp"), ctx, X, y, make_folds(y, "binary", 5, seed), float("inf"),
                            {"epochs": 3, "units": 8})
    assert result.status == "ok" and len(result.fold_scores) == 5, result.reason
    assert len(built) == 1
    widths = {p.steps[-1][1].n_features_in_ for p in result.fold_models.pipelines}
    assert widths == {2 + 1 + 3 + 1}  # x, noise; missing(x); kind=u/v/w; city's code


def _counting(cls, built):
    class Counting(cls):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)
    return Counting


def _frame(task: str, n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    city = rng.choice([f"city{i}" for i in range(15)], n)
    effect = {f"city{i}": (i % 3) - 1.0 for i in range(15)}
    signal = 2 * x + np.array([effect[c] for c in city]) * 2
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=n), "city": city, "kind": rng.choice(["u", "v"], n)})
    frame["y"] = signal * 10 + 50 if task == "regression" else np.where(signal > 0, "yes", "no")
    return frame


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_the_network_embeds_categories_learns_round_trips_and_repeats(task, tmp_path):
    """Through the `neural` pipeline: numbers (periodic embeddings), one-hot and embedded categories; pickling
    in Keras' native format; the same seed and data give the same network."""
    frame, info = read_table(_frame(task))
    schema, labels = infer_schema(frame, FitConfig(target="y"), info)
    X, y = schema.transform(frame), schema.encode_target(labels)
    ctx = Context(schema, get_metric(schema.metric), PreprocessConfig(), 0, 1)
    params = {"epochs": 40, "patience": 40}
    pipeline = make_pipeline(registry.get("keras_mlp"), ctx, params).fit(X, y)
    net = pipeline.steps[-1][1]
    numeric, binary, codes = column_roles(net.feature_names_in_, net.n_features_in_)
    assert len(numeric) == 2 and len(codes) == 1 and len(binary) == 2  # x, noise | kind=u, kind=v | city
    assert "net_" in pickle.loads(pickle.dumps(net)).__getstate__() and "model_" not in net.__getstate__()
    restored = pickle.loads(pickle.dumps(pipeline))
    predict = (lambda p: p.predict(X)) if task == "regression" else (lambda p: p.predict_proba(X))
    np.testing.assert_allclose(predict(restored), predict(pipeline), rtol=1e-6)
    assert pipeline.score(X, y) > (0.8 if task == "regression" else 0.85)  # R² or accuracy
    other = make_pipeline(registry.get("keras_mlp"), ctx, {**params, "units": 64}).fit(X, y)  # another graph
    again = make_pipeline(registry.get("keras_mlp"), ctx, params).fit(X, y)
    np.testing.assert_allclose(predict(again), predict(pipeline), rtol=1e-5)
    assert not np.allclose(predict(other), predict(pipeline))
    if task == "regression":
        assert predict(pipeline).min() >= y.min() and predict(pipeline).max() <= y.max()


NETWORKS = {  # every layer and activation the family builds
    "defaults": {},
    "classic": {"numeric_embedding": "none", "members": 1, "batch_norm": True, "l2": 1e-4, "activation": "relu"},
    "gelu": {"activation": "gelu", "members": 2, "batch_norm": True, "hidden_layers": 1},
    "silu": {"activation": "silu", "dropout": 0.0, "hidden_layers": 2, "units": 16},
}


@pytest.mark.parametrize(("config", "task"), [  # every layer and every task, each at least twice
    ("defaults", "binary"), ("defaults", "regression"), ("classic", "multiclass"), ("classic", "regression"),
    ("gelu", "multiclass"), ("silu", "binary"),
])
def test_numpy_forward_pass_matches_keras(config, task):
    """A trained network predicts from its exported arrays (numbers, periodic embeddings, 0/1 and categorical
    code columns) as Keras does, to 1e-5."""
    rng = np.random.default_rng(3)
    n = 240
    X = pd.DataFrame({"num__a": rng.normal(size=n), "num__b": rng.normal(size=n) * 3,
                      "cat__kind_u": rng.integers(0, 2, n), f"cat__{CODE_PREFIX}city": rng.integers(0, 12, n)})
    X = X.astype(np.float32)  # as the `neural` pipeline names its columns
    signal = X["num__a"] + (X[f"cat__{CODE_PREFIX}city"] % 3 == 0)
    y = {"binary": signal > 0.3, "multiclass": np.digitize(signal, [-0.2, 0.6]), "regression": signal * 5}[task]
    cls = KerasMLPRegressor if task == "regression" else KerasMLPClassifier
    net = cls(epochs=4, patience=4, **NETWORKS[config]).fit(X, np.asarray(y))
    kinds = [layer["kind"] for layer in net.net_]
    assert kinds[0] == "embedding" and net.net_[0]["codes"] == [3] and net.net_[0]["binary"] == [2]
    assert "head" in kinds
    X_new = X.copy()
    X_new.iloc[:5, 3] = [-1, 99, 12, 0.0, 11]  # unseen codes → the unseen level, as in Keras
    trained = keras_mlp._LOOPS[0].model  # the network just trained, with its best epoch's weights
    keras_out = np.asarray(trained(X_new.to_numpy(), training=False), dtype=np.float64).mean(axis=1)
    out = net._raw_predict(X_new)
    np.testing.assert_allclose(out, keras_out, atol=1e-5, rtol=1e-5)
    order = np.random.default_rng(1).permutation(n)  # a row's output never depends on the rows around it
    np.testing.assert_allclose(net._raw_predict(X_new.iloc[order]), out[order], rtol=1e-12, atol=0)
    np.testing.assert_allclose(net._raw_predict(X_new.iloc[7:8]), out[7:8], rtol=1e-12, atol=0)


def test_a_saved_network_predicts_without_tensorflow(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    net = KerasMLPClassifier(epochs=3, batch_norm=True).fit(X, (X[:, 0] > 0).astype(int))
    joblib.dump(net, tmp_path / "net.joblib")
    np.save(tmp_path / "X.npy", X)
    code = ("import sys, joblib, numpy as np; net = joblib.load(sys.argv[1]); "
            "p = net.predict_proba(np.load(sys.argv[2])); np.save(sys.argv[3], p); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'")
    done = subprocess.run([sys.executable, "-c", code, tmp_path / "net.joblib", tmp_path / "X.npy",
                           tmp_path / "p.npy"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), net.predict_proba(X), rtol=1e-6)


def test_a_reused_training_loop_never_changes_an_earlier_estimator():
    X = np.random.default_rng(1).normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    first = KerasMLPClassifier(epochs=5).fit(X, y)
    before = first.predict_proba(X)
    KerasMLPClassifier(epochs=5).fit(X[::-1], 1 - y[::-1])  # the same graph, other data
    np.testing.assert_array_equal(first.predict_proba(X), before)


RUN_TIME = {"learning_rate": 5e-3, "weight_decay": 3e-2, "frequency_scale": 0.5, "label_smoothing": 0.1,
            "batch_size": 64}


def test_configurations_differing_in_run_time_values_share_one_graph(monkeypatch):
    """Learning rate, weight decay, σ, label smoothing and batch size are set at each fit: a configuration that
    differs from the last one only in these reuses its compiled graph, each of them changes the training, and
    a reused graph trains exactly as a new one."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])  # 3 classes
    built = []
    monkeypatch.setattr(keras_mlp, "_TrainingLoop", _counting(keras_mlp._TrainingLoop, built))
    keras_mlp._LOOPS.clear()
    base = KerasMLPClassifier(epochs=3, patience=3).fit(X, y).predict_proba(X)
    for name, value in RUN_TIME.items():
        one = KerasMLPClassifier(epochs=3, patience=3, **{name: value}).fit(X, y).predict_proba(X)
        assert np.abs(one - base).max() > 1e-4, name
    reused = KerasMLPClassifier(epochs=3, patience=3, **RUN_TIME).fit(X, y)
    assert len(built) == 1
    keras_mlp._LOOPS.clear()
    fresh = KerasMLPClassifier(epochs=3, patience=3, **RUN_TIME).fit(X, y)
    assert len(built) == 2
    np.testing.assert_array_equal(reused.predict_proba(X), fresh.predict_proba(X))
    assert reused.history_ == fresh.history_
    again = KerasMLPClassifier(epochs=3, patience=3).fit(X, y)  # back to the first values: the first network
    assert len(built) == 2
    np.testing.assert_array_equal(again.predict_proba(X), base)
    KerasMLPClassifier(epochs=3, patience=3, units=16).fit(X, y)  # another architecture: a third loop ...
    after = KerasMLPClassifier(epochs=3, patience=3).fit(X, y)  # ... and the one before it is still kept
    assert len(built) == 3
    np.testing.assert_array_equal(after.predict_proba(X), base)
    for units in range(17, 17 + keras_mlp.MAX_LOOPS):  # as many newer architectures: the first one is let go
        KerasMLPClassifier(epochs=3, patience=3, units=units).fit(X, y)
    assert len(keras_mlp._LOOPS) == keras_mlp.MAX_LOOPS and len(built) == 3 + keras_mlp.MAX_LOOPS
    np.testing.assert_array_equal(KerasMLPClassifier(epochs=3, patience=3).fit(X, y).predict_proba(X), base)
    assert len(built) == 4 + keras_mlp.MAX_LOOPS
    monkeypatch.setattr(keras_mlp, "MAX_LOOP_WEIGHTS", 1)  # beyond the weight budget only the latest is kept
    KerasMLPClassifier(epochs=3, patience=3, units=8).fit(X, y)
    assert len(keras_mlp._LOOPS) == 1


def test_unnamed_inputs_are_padded_so_folds_of_slightly_different_width_share_a_graph(monkeypatch):
    assert [keras_mlp.padded_width(n) for n in (1, 8, 9, 85, 254, 256, 257, 5000)] == [8, 8, 16, 88, 256, 256,
                                                                                        288, 5120]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 11)).astype(np.float32)
    y = (X[:, 0] + X[:, 10] > 0).astype(int)
    built = []
    monkeypatch.setattr(keras_mlp, "_TrainingLoop", _counting(keras_mlp._TrainingLoop, built))
    keras_mlp._LOOPS.clear()
    ten = KerasMLPClassifier(epochs=3, patience=3).fit(X[:, :10], y)
    net = KerasMLPClassifier(epochs=3, patience=3).fit(X, y)  # one more one-hot column on another fold
    assert len(built) == 1 and ten.n_inputs_ == net.n_inputs_ == 16 and net.n_features_in_ == 11
    keras_out = np.asarray(keras_mlp._LOOPS[0].model(np.hstack([X, np.zeros((200, 5), np.float32)]),
                                                     training=False), dtype=np.float64).mean(axis=1)
    np.testing.assert_allclose(net._raw_predict(X), keras_out, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="features"):
        net.predict(X[:, :10])  # the width it was fitted on, not the padded one
    named = pd.DataFrame(X, columns=[f"num__x{i}" for i in range(11)])  # the neural pipeline's: never padded
    assert KerasMLPClassifier(epochs=2).fit(named, y).n_inputs_ == 11


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_first_portfolio_configurations_reuse_the_defaults_graph(task):
    spec = registry.get("keras_mlp")
    X = np.zeros((10, 3), np.float32)

    def key(params):
        est = spec.make(task, params)
        if task != "regression":
            est.classes_ = np.arange(2 if task == "binary" else 3)
        return keras_mlp.loop_key(est, X)

    keys = [key(params) for _, params in spec.portfolio_for(task)]
    assert keys[1] == keys[2] == key({}) != keys[0]  # the classic MLP between them: its loops are kept too


@pytest.mark.parametrize("classes", [2, 3])
def test_label_smoothing_is_keras_own(classes):
    """The training loop's label smoothing gives Keras' smoothed cross-entropy (binary: towards 1/2; softmax:
    towards 1/classes)."""
    import keras

    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 2)).astype(np.float32)
    y = rng.integers(0, classes, 120)
    net = KerasMLPClassifier(epochs=2, members=1, label_smoothing=0.2).fit(X, y)
    loop = keras_mlp._LOOPS[0]
    X = keras_mlp._pad(X, net.n_inputs_)  # unnamed columns: the network sees them padded
    target = (y[:, None] == 1).astype(np.float32) if classes == 2 else np.eye(classes, dtype=np.float32)[y]
    w = np.ones(len(X), np.float32)
    pred = loop.model(X, training=False)[:, 0, :]
    loss = (keras.losses.BinaryCrossentropy if classes == 2 else keras.losses.CategoricalCrossentropy)(
        label_smoothing=0.2)
    assert loop.loss(X, target, w) == pytest.approx(float(loss(target, pred)), rel=1e-5)
    assert net.n_epochs_ == 2


def test_periodic_embedding_computes_its_formula():
    import keras

    from automl.models.keras_layers import FeatureEmbedding

    layer = FeatureEmbedding([0, 1], [2], [3], [5], n_frequencies=3, d_embedding=2, seed=0)
    x = np.array([[0.5, -1.0, 1.0, 2.0], [0.0, 2.0, 0.0, 9.0]], dtype=np.float32)  # code 9 ≥ 5: unseen → 0
    out = np.asarray(layer(keras.ops.convert_to_tensor(x)))
    w, b = np.asarray(layer.frequencies), np.asarray(layer.phases)
    kernel, bias, table = np.asarray(layer.kernel), np.asarray(layer.bias), np.asarray(layer.tables[0])
    assert out.shape == (2, 2 * (1 + 2) + 1 + table.shape[1]) == layer.compute_output_shape((2, 4))
    periodic = np.cos(2 * np.pi * x[:, :2, None] * w[None] + b[None])  # (rows, features, frequencies)
    emb = np.einsum("bnk,nkd->bnd", periodic, kernel) + bias[None]
    expected = np.hstack([x[:, :2], emb.reshape(2, -1), x[:, 2:3], table[[2, 0]]])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_members_predict_the_mean_of_their_outputs():
    import keras

    from automl.models.keras_layers import EnsembleAdapter, EnsembleHead, MemberMean

    x = keras.ops.convert_to_tensor(np.ones((3, 4), dtype=np.float32))
    spread = EnsembleAdapter(5, seed=1)(x)
    r = np.asarray(spread)
    assert r.shape == (3, 5, 4) and set(np.unique(r)) <= {-1.0, 1.0} and len(np.unique(r[0], axis=0)) > 1
    heads = EnsembleHead(2, "softmax", seed=2)(spread)
    assert tuple(heads.shape) == (3, 5, 2)
    np.testing.assert_allclose(np.asarray(MemberMean()(heads)), np.asarray(heads).mean(axis=1), rtol=1e-6)


def test_warmup_cosine_schedule_and_its_shortening():
    from automl.models.keras_layers import WarmupCosine

    schedule = WarmupCosine(1e-2, floor=0.01)
    schedule.reset(1000)  # warm-up: 50 steps
    lr = [float(schedule(s)) for s in (0, 24, 49, 50, 525, 1000, 2000)]
    assert lr[0] == pytest.approx(1e-2 / 50) and lr[1] == pytest.approx(1e-2 * 25 / 50)
    assert lr[2] == pytest.approx(1e-2) and lr[3] == pytest.approx(1e-2)
    assert lr[4] == pytest.approx(1e-2 * (0.01 + 0.99 * 0.5), rel=1e-4)  # half-way down the cosine
    assert lr[5] == pytest.approx(1e-4) and lr[6] == pytest.approx(1e-4)
    schedule.shorten(200)  # the time limit allows 200 steps: the decay ends there, the warm-up shrinks
    assert float(schedule(200)) == pytest.approx(1e-4) and float(schedule(10)) == pytest.approx(1e-2)
    schedule.shorten(400)  # never lengthened
    assert float(schedule(200)) == pytest.approx(1e-4)


def test_batch_size_grows_with_the_data():
    assert [auto_batch_size(n) for n in (100, 1_000, 10_000, 100_000, 10**7)] == [32, 64, 512, 1024, 1024]


def test_the_classic_configuration_is_the_notes_mlp():
    spec = registry.get("keras_mlp")
    assert spec.portfolio[0][1] is keras_mlp.CLASSIC
    classic = spec.make("binary", keras_mlp.CLASSIC)
    assert (classic.members, classic.numeric_embedding, classic.optimizer, classic.schedule) == (
        1, "none", "adam", "constant")
    assert spec.pipeline_for("binary", keras_mlp.CLASSIC) == "dense" and spec.pipeline_for("binary") == "neural"
    model = KerasMLPRegressor(**{**{k: v for k, v in keras_mlp.CLASSIC.items() if k != "preprocessing"}, "epochs": 3})
    X = np.random.default_rng(0).normal(size=(60, 3))
    assert model.fit(X, X[:, 0]).n_epochs_ == 3


def test_the_epoch_clock_gives_a_minimum_of_training_a_bounded_grace(monkeypatch):
    """Past its soft deadline a network still trains ``min_epochs`` epochs, for at most three times the time it
    was given, and never more than half-way to the hard deadline."""
    from automl.models import deadline

    now = [0.0]
    monkeypatch.setattr(deadline.time, "monotonic", lambda: now[0])

    def run(hard, ticks):
        now[0] = 0.0
        with deadline.fit_deadline(hard, soft=1.0):
            clock = deadline.EpochClock()  # began at 0: given 1 s
            for epoch, t in enumerate(ticks):
                now[0] = t
                if clock.epoch_end(epoch, min_epochs=10):
                    return epoch + 1
        return None

    assert run(None, [0.1, 0.2, 1.5, 2.9]) is None  # past the soft deadline, short of 10 epochs, within 3 s
    assert run(None, [0.1, 0.2, 1.5, 3.1]) == 4  # past 3 s: the grace is over
    assert run(1.4, [0.1, 0.2, 1.25]) == 3  # a hard deadline at 1.4 s: at most 0.2 s of grace
    assert run(None, [0.1, 0.2] + [1.1 + 0.01 * i for i in range(8)]) == 10  # 10 epochs done in time
