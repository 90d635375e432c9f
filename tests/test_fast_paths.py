"""Each speed-up of the training step gives the numbers of the straightforward computation:
the one-pass EMA and CycleGAN's shared forward pass; and every model
still trains under XLA with `steps_per_execution=2` in every precision, plain and with the
small-data tools (the TPU path)."""
import numpy as np
import pytest
import tensorflow as tf
import keras

from ganpaint import gans
from ganpaint.gans import ema

from tiny_models import dataset, model, weights


def test_ema_pass_equals_the_plain_blend_in_graph_and_eager():
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                            keras.layers.BatchNormalization()])
    average = ema.clone_network(net)
    for step, beta in enumerate((0.9, 0.25)):
        for w in net.weights:
            w.assign(w + 1.0 + step)
        before = [np.asarray(w) for w in average.weights]
        update = lambda: ema.update_ema(average, net, beta)  # noqa: E731
        (tf.function(update) if step == 0 else update)()
        for b, a, s in zip(before, average.weights, net.weights):
            np.testing.assert_allclose(a, beta * b + (1 - beta) * np.asarray(s), rtol=1e-6,
                                       atol=1e-6)


@pytest.fixture(scope="module")
def mirrored():
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.mark.parametrize("on_two_replicas", [False, True])
def test_cyclegan_shared_forward_equals_a_second_pass(on_two_replicas, mirrored):
    # The default preset's relativistic loss: the generators' update needs real logits too.
    strategy = mirrored if on_two_replicas else tf.distribute.get_strategy()
    trained = []
    for share in (True, False):
        with strategy.scope():
            m = model("cyclegan")
            assert m.shares_forward
            m.shares_forward = share
            m.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        m.fit(dataset("cyclegan", batch=4, n=8), epochs=1, verbose=0)
        trained.append(m)
    for a, b in zip(weights(trained[0]), weights(trained[1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_cyclegan_shares_its_forward_only_where_a_second_pass_is_the_same():
    assert model("cyclegan").shares_forward  # the default preset: no pool
    assert not model("cyclegan", preset="paper").shares_forward  # the pool swaps fakes
    assert not model("cyclegan", pool_size=0, diff_augment="color").shares_forward


TOOLS = dict(diff_augment="color,translation,cutout", ada_target=0.6, ada_interval=1,
             ema=0.99, r1_weight=1.0, r1_every=2)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])  # float32: test_gans
@pytest.mark.parametrize("tools", [False, True], ids=["plain", "tools"])
@pytest.mark.parametrize("kind", ["gan", "cgan", "acgan", "cyclegan", "pix2pix"])
def test_every_model_trains_under_xla_with_steps_per_execution(kind, tools, precision):
    keras.config.set_dtype_policy(precision)
    try:
        m = model(kind, **(TOOLS if tools else {}))
        before = weights(m)
        m.compile(jit_compile=True, steps_per_execution=2)
        history = m.fit(dataset(kind, batch=2, n=4), epochs=1, verbose=0).history
    finally:
        keras.config.set_dtype_policy("float32")
    assert m.jit_compile is True and m.steps_per_execution == 2
    assert all(np.isfinite(values[-1]) for values in history.values()), history
    after = weights(m)
    assert all(np.isfinite(w).all() for w in after)
    assert sum(float(np.abs(a - b).sum()) for a, b in zip(after, before)) > 0  # it trained
