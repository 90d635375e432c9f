"""Several replicas, through the path users take: every recipe, built and fitted with its
default callbacks under a MirroredStrategy of 2 logical CPUs (in this process; one recipe of
each kind over 8, the TPU's count: test_replicas_8.py), trains to the same
weights as one device with the same global batch. Batch norm, dropout, soft labels,
DiffAugment and EMA included; what differs by design is in docs/distributed.md."""

import logging

import keras
import numpy as np
import pytest
import tensorflow as tf
from replica_checks import acceptable, compare

from ganpaint import callbacks, distribute, gans, recipes
from ganpaint.testing import model, weights


@pytest.fixture(scope="module")
def two():
    # One strategy per process (`get_strategy` makes it once): strategies created one after
    # another in a process hand out clashing collective instance keys.
    return distribute.get_strategy(devices=["/cpu:0", "/cpu:1"], verbose=False)


# The EfficientNet recipe's whole run costs six minutes here; its one network no other recipe
# has is checked below (`python tests/replica_checks.py 2 cans_efficientnet_cyclegan` runs it
# whole: docs/distributed.md).
WHOLE_RUNS = [name for name in recipes.RECIPES if name != "cans_efficientnet_cyclegan"]


@pytest.mark.parametrize("name", WHOLE_RUNS)
def test_every_recipe_trains_on_2_replicas_as_on_one_device(name, two, tmp_path):
    record = compare(name, two, str(tmp_path))
    assert acceptable(record) is None, acceptable(record)


def test_a_keras_application_backbone_trains_on_2_replicas_as_on_one_device(two):
    # The EfficientNet generator: a Keras application's batch norm and its stochastic-depth
    # Dropout layers (Keras' own, which give every replica the same mask) inside ganpaint's
    # decoder. On 2 replicas its outputs and moving statistics are one device's, and its
    # gradients differ from one device's no more than one device's own differ when the same
    # images come in another order: this network's float32 gradients depend on the order of
    # its sums by about 2e-3 (instance norm hands batch norm gradients that sum to ~0).
    from ganpaint import generators
    from ganpaint.layers import prepare_for_replicas

    images = np.random.default_rng(0).uniform(-1, 1, (4, 128, 128, 3)).astype("float32")
    runs = []
    for strategy, order in (
        (tf.distribute.get_strategy(), [0, 1, 2, 3]),
        (tf.distribute.get_strategy(), [2, 3, 0, 1]),
        (two, [0, 1, 2, 3]),
    ):
        keras.utils.set_random_seed(1)
        with strategy.scope():
            g = generators.efficientnet_generator((128, 128, 3), "EfficientNetB0", weights=None)
        assert sum(isinstance(layer, keras.layers.Dropout) for layer in g._flatten_layers()) > 0

        @tf.function
        def step(batch):
            def replica(x):
                if strategy.num_replicas_in_sync > 1:
                    prepare_for_replicas(g)
                share = distribute.begin_step(tf.shape(x)[0])
                with tf.GradientTape() as tape:
                    out = g(x, training=True)
                    loss = tf.reduce_mean(tf.square(out - 0.3)) * share
                return out, tape.gradient(loss, g.trainable_variables)

            return strategy.run(replica, args=(batch,))

        for batch in strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensors(images[order])
        ):
            out, grads = step(batch)
        out = np.concatenate([np.asarray(o) for o in strategy.experimental_local_results(out)])
        grads = [
            np.sum([np.asarray(r) for r in strategy.experimental_local_results(grad)], 0)
            for grad in grads
        ]
        moving = [
            np.asarray(keras.ops.convert_to_numpy(v)) for v in g.weights if "moving" in v.path
        ]
        runs.append((out, grads, moving))
    (out1, grads1, moving1), (_, reordered, _), (out2, grads2, moving2) = runs
    np.testing.assert_allclose(out2, out1, atol=1e-4)
    for a, b in zip(moving1, moving2):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)

    def gaps(others):  # each variable's largest difference, relative to its largest gradient
        return np.array(
            [
                float(np.abs(a - b).max()) / max(float(np.abs(a).max()), 1e-12)
                for a, b in zip(grads1, others)
            ]
        )

    replicas, control = gaps(grads2), gaps(reordered)
    assert np.median(replicas) <= 3 * np.median(control), (np.median(replicas), np.median(control))
    assert np.median(replicas) < 1e-2


def test_a_partial_last_batch_weights_every_example_alike(two):
    # 5 images on 2 replicas are 3 and 2: each replica's mean must count as 3/5 and 2/5 of
    # the loss, not 1/2 each, for the step to be one device's.
    images = np.random.default_rng(0).uniform(-1, 1, (5, 16, 16, 1)).astype("float32")
    results = []
    for strategy in (tf.distribute.get_strategy(), two):
        with strategy.scope():
            m = model("gan")
            m.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        history = m.fit(
            tf.data.Dataset.from_tensor_slices(images).batch(5), epochs=1, verbose=0
        ).history
        results.append((weights(m), history, m.last_step_values()))
    (single, single_history, single_step), (split, split_history, split_step) = results
    for a, b in zip(split, single):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # The reported losses too: each replica's mean counts by its share; and the step's own
    # values (what the guard reads), which after one step are the logs.
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(split_history[key], single_history[key], rtol=1e-6)
        np.testing.assert_allclose(split_step[key], single_step[key], rtol=1e-6)
        np.testing.assert_allclose(split_step[key], split_history[key][0], rtol=1e-6)


def test_the_data_order_under_a_strategy_is_one_devices(two):
    # Keras' TF trainer drew a batch to build the model before fit, and started the
    # iterator again: a reshuffling dataset then began on its second order.
    seen = {}

    class Record(keras.callbacks.Callback):
        def __init__(self, key):
            super().__init__()
            self.key = key

        def on_train_batch_end(self, batch, logs=None):
            seen.setdefault(self.key, []).append(round(float(logs["d_loss"]), 5))

    images = np.random.default_rng(1).uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
    for key, strategy in (("one", tf.distribute.get_strategy()), ("two", two)):
        ds = (
            tf.data.Dataset.from_tensor_slices(images)
            .shuffle(8, seed=3, reshuffle_each_iteration=True)
            .batch(4)
        )
        with strategy.scope():
            m = model("gan")
            m.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))  # frozen: losses
        m.fit(ds, epochs=2, verbose=0, callbacks=[Record(key)])  # tell the batches apart
    assert seen["one"] == seen["two"]


def test_learning_rates_are_read_as_numbers_from_mirrored_variables(two):
    with two.scope():
        m = model("gan")
        m.compile()
    assert isinstance(m.g_optimizer.learning_rate.value, tf.distribute.DistributedValues)
    assert distribute.value(m.g_optimizer.learning_rate) == pytest.approx(2e-4)
    with pytest.raises(TypeError):  # why value() exists
        float(m.g_optimizer.learning_rate)


def test_the_guard_rolls_back_and_lowers_the_rates_under_a_strategy(two, tmp_path):
    setup = recipes.build("mnist_acgan", smoke=True, strategy=two, out_dir=str(tmp_path))
    guard = next(c for c in setup.callbacks if isinstance(c, callbacks.TrainingGuard))
    guard.d_loss_floor, guard.collapse_steps, guard.max_trips = 1e9, 2, 5  # trips at once
    rate = distribute.value(setup.model.g_optimizer.learning_rate)
    setup.fit(verbose=0)
    assert guard.trips and "rolled back" in guard.trips[0]["action"]
    assert distribute.value(setup.model.g_optimizer.learning_rate) < rate


def test_linear_decay_sets_every_replicas_rate(two, tmp_path):
    with two.scope():
        m = model("gan")
        m.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    decay = callbacks.LinearDecay(1, 3)
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((4, 16, 16, 1), "float32")).batch(2)
    m.fit(ds, epochs=3, verbose=0, callbacks=[decay])
    assert [round(r[0], 4) for _, r in decay.history] == [0.1, 0.075, 0.05]
    copies = m.g_optimizer.learning_rate.value.values  # each replica's copy
    assert len({float(c.numpy()) for c in copies}) == 1


def test_jit_compile_auto_stays_off_under_mirroring_with_a_logged_reason(two, caplog):
    from ganpaint.gans import base

    base._LOGGED.pop("jit", None)
    with two.scope(), caplog.at_level(logging.INFO, logger="ganpaint.gans.base"):
        m = model("gan")
        m.compile()
    assert m.jit_compile is False
    assert "leaves XLA off under MirroredStrategy" in caplog.text
    with (
        two.scope(),
        pytest.raises(ValueError, match="jit_compile=True under MirroredStrategy over CPU devices"),
    ):
        model("gan").compile(jit_compile=True)
    assert model("gan").compile() is None  # one device: "auto" is Keras' own choice


def test_batch_norm_is_synchronised_only_under_several_replicas(two):
    from ganpaint import generators

    keras.utils.set_random_seed(0)
    with two.scope():
        g = generators.dcgan_generator(8, (16, 16, 1), base_filters=8, norm="batch")
        d = gans.GAN(
            g,
            __import__("ganpaint").discriminators.dcgan_discriminator((16, 16, 1), base_filters=8),
            seed=1,
        )
        d.compile()
    norms = [
        layer for layer in g._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert norms and not any(n.synchronized for n in norms)  # one device: unchanged
    d.fit(
        tf.data.Dataset.from_tensor_slices(np.zeros((4, 16, 16, 1), "float32")).batch(4),
        epochs=1,
        verbose=0,
    )
    assert all(n.synchronized for n in norms)
    for n in norms:  # the replicas' moving statistics agree
        first, second = (np.asarray(c) for c in n.moving_variance.value.values)
        np.testing.assert_array_equal(first, second)
