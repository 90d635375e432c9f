"""FusedAdam: the same updates, slots and checkpoints as keras.optimizers.Adam."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganpaint import gans
from ganpaint.optimizers import FusedAdam
from ganpaint.testing import dataset, model, weights


def _net(seed=0, embedding=False):
    keras.utils.set_random_seed(seed)
    if embedding:
        inputs = keras.Input((2,), dtype="int32")
        x = keras.layers.Flatten()(keras.layers.Embedding(5, 3)(inputs))
    else:
        inputs = keras.Input((4, 4, 2))
        x = keras.layers.Flatten()(keras.layers.Conv2D(3, 3)(inputs))
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def _train(optimizer, steps=6, embedding=False, jit_compile=False):
    net = _net(embedding=embedding)
    rng = np.random.default_rng(1)
    x = (rng.integers(0, 5, (8, 2)) if embedding else rng.normal(size=(8, 4, 4, 2))).astype(
        "int32" if embedding else "float32"
    )
    y = rng.normal(size=(8, 2)).astype("float32")

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((net(x) - y) ** 2)
        optimizer.apply_gradients(
            zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables)
        )

    for i in range(steps):
        if i == 3:  # what LinearDecay does between epochs
            optimizer.learning_rate = optimizer.learning_rate * 0.5
        step(x, y)
    return net, optimizer


def _assert_same(a, b, rtol=1e-5, atol=2e-6):
    # float32 round-off of a different operation order; updates are lr = 1e-2 in size.
    (net_a, opt_a), (net_b, opt_b) = a, b
    for u, v in zip(net_a.weights + opt_a.variables, net_b.weights + opt_b.variables):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=rtol, atol=atol)

    def slots(optimizer):  # "adam_3/dense_kernel_momentum" -> "momentum"
        return [(v.shape, v.path.split("/")[-1].rsplit("_", 1)[-1]) for v in optimizer.variables]

    assert slots(opt_a) == slots(opt_b)


@pytest.mark.parametrize("kwargs", [{}, {"beta_1": 0.5, "epsilon": 1e-3}, {"amsgrad": True}])
def test_fused_adam_equals_keras_adam(kwargs):
    fused = _train(FusedAdam(1e-2, **kwargs))
    _assert_same(fused, _train(keras.optimizers.Adam(1e-2, **kwargs)))
    start = _net().get_weights()
    assert not np.allclose(fused[0].get_weights()[0], start[0])  # it did train


def test_fused_adam_takes_sparse_gradients_and_xla():
    _assert_same(
        _train(FusedAdam(1e-2), embedding=True), _train(keras.optimizers.Adam(1e-2), embedding=True)
    )
    _assert_same(
        _train(FusedAdam(1e-2), jit_compile=True),
        _train(keras.optimizers.Adam(1e-2), jit_compile=True),
    )


def test_fused_adam_serializes_and_shares_checkpoints_with_keras_adam(tmp_path):
    opt = FusedAdam(3e-4, beta_1=0.5)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored) is FusedAdam and restored.get_config() == opt.get_config()

    # A checkpoint written with keras' Adam loads into FusedAdam and trains on identically.
    rng = np.random.default_rng(2)
    x, y = (
        rng.normal(size=(8, 4, 4, 2)).astype("float32"),
        rng.normal(size=(8, 2)).astype("float32"),
    )
    path = str(tmp_path / "adam.weights.h5")
    written = _net()
    written.compile(keras.optimizers.Adam(1e-2), "mse")
    written.fit(x, y, batch_size=4, epochs=1, verbose=0)
    written.save_weights(path)
    runs = []
    for optimizer in (keras.optimizers.Adam(1e-2), FusedAdam(1e-2)):
        net = _net(seed=5)
        net.compile(optimizer, "mse")
        net.optimizer.build(net.trainable_variables)
        net.load_weights(path)
        assert int(net.optimizer.iterations) == 2
        net.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        runs.append((net, net.optimizer))
    _assert_same(*runs)


def test_models_default_to_fused_adam_and_round_trip(tmp_path):
    m = model("gan")
    m.compile()
    assert isinstance(m.g_optimizer, FusedAdam) and isinstance(m.d_optimizer, FusedAdam)
    m.fit(dataset("gan"), epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    m.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.g_optimizer, FusedAdam)
    for a, b in zip(m.g_optimizer.variables, loaded.g_optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_gan_trains_the_same_with_fused_and_keras_adam():
    # epsilon 1e-2: with the default 1e-7, Adam turns a gradient that is zero up to round-off
    # into a +-lr step, so runs that differ only in op order would drift apart.
    kw = dict(learning_rate=1e-3, beta_1=0.5, epsilon=1e-2)
    fused = model("acgan")  # an Embedding in both networks: sparse and dense gradients
    fused.compile(FusedAdam(**kw), FusedAdam(**kw))
    fused.fit(dataset("acgan"), epochs=2, verbose=0)
    plain = model("acgan")
    plain.compile(keras.optimizers.Adam(**kw), keras.optimizers.Adam(**kw))
    plain.fit(dataset("acgan"), epochs=2, verbose=0)
    for a, b in zip(weights(fused), weights(plain)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert gans.default_optimizer().beta_1 == 0.5
