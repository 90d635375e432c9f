"""Each speed-up of the training step gives the numbers of the straightforward computation:
the one-pass EMA and CycleGAN's shared forward pass."""

import keras
import numpy as np
import tensorflow as tf

from ganpaint.gans import ema
from ganpaint.testing import arrays, dataset, model, weights


def test_ema_pass_equals_the_plain_blend_in_graph_and_eager():
    net = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()]
    )
    average = ema.clone_network(net)
    for step, beta in enumerate((0.9, 0.25)):
        for w in net.weights:
            w.assign(w + 1.0 + step)
        before = [np.asarray(w) for w in average.weights]
        update = lambda: ema.update_ema(average, net, beta)
        (tf.function(update) if step == 0 else update)()
        for b, a, s in zip(before, average.weights, net.weights):
            np.testing.assert_allclose(
                a, beta * b + (1 - beta) * np.asarray(s), rtol=1e-6, atol=1e-6
            )


def test_cyclegan_shared_forward_equals_a_second_pass():
    # The default preset's relativistic loss (the generators' update needs real logits too),
    # with R1, whose penalty differentiates D again inside the tape. On two replicas the
    # shared step is compared with the single-device one in tests/test_distribute.py (one
    # MirroredStrategy per process: a second one's collectives can collide with the first's).
    trained = []
    for share in (True, False):
        m = model("cyclegan", r1_weight=1.0)
        assert m.shares_forward
        m.shares_forward = share
        m.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        m.fit(dataset("cyclegan", batch=4, n=8), epochs=1, verbose=0)
        trained.append(m)
    for a, b in zip(weights(trained[0]), weights(trained[1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_cyclegan_shared_forward_calls_each_discriminator_once_a_step():
    a, b = (tf.constant(x[:2]) for x in arrays("cyclegan"))
    convolutions = {}
    for share in (True, False):
        m = model("cyclegan")
        m.shares_forward = share
        m.compile()
        graph = tf.function(m.train_step).get_concrete_function((a, b)).graph
        convolutions[share] = sum(
            op.type == "Conv2D" and "d_a" in op.name for op in graph.get_operations()
        )
    layers = sum(isinstance(x, keras.layers.Conv2D) for x in model("cyclegan").d_a.layers)
    # Shared: one call on (real, fake). Two passes: the fakes and the reals in the
    # generators' update, then (real, fake) again in the discriminators'.
    assert convolutions == {True: layers, False: 3 * layers}


def test_cyclegan_shares_its_forward_only_where_a_second_pass_is_the_same():
    assert model("cyclegan").shares_forward  # the default preset: no pool
    assert not model("cyclegan", preset="paper").shares_forward  # the pool swaps fakes
    assert not model("cyclegan", pool_size=0, diff_augment="color").shares_forward
