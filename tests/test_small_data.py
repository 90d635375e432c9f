"""The small-data tools on the models: EMA generators (a numpy EMA, sampling, saving), ADA's p
in training, R1 (its value and its lazy schedule), DiffAugment on what every discriminator
sees, spectral norm, projection and class-conditional batch norm."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import round_trip

from ganpaint import discriminators as D
from ganpaint import gans
from ganpaint import generators as G
from ganpaint.gans import ema as ema_lib
from ganpaint.layers import ClassConditionalNormalization, SpectralConv2D, SpectralDense, conv_block
from ganpaint.testing import CLASSES, LATENT, SIZE, arrays, dataset, model, networks


class _Record(keras.callbacks.Callback):
    """The generator's weights after every batch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append([np.asarray(w.value, "float64") for w in self.model.generator.weights])


@pytest.mark.parametrize("rampup", [None, 0.05])
def test_ema_matches_a_numpy_ema_over_ten_steps(rampup):
    m = model("gan", norm="batch", ema=0.9, ema_rampup=rampup)
    start = [np.asarray(w.value, "float64") for w in m.generator.weights]
    m.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
    record = _Record()
    m.fit(dataset("gan", batch=2, n=20), epochs=1, verbose=0, callbacks=[record])
    assert len(record.weights) == 10
    average = start
    for t, current in enumerate(record.weights):
        if rampup is None:
            beta = 0.9
        else:  # StyleGAN2's ramp-up, in steps: half-life min(ln .5 / ln .9, 0.05 t)
            half_life = min(math.log(0.5) / math.log(0.9), rampup * t)
            beta = 0.5 ** (1 / half_life) if half_life > 0 else 0.0
        average = [beta * a + (1 - beta) * c for a, c in zip(average, current)]
    for expected, got in zip(average, m.ema_generator.weights):
        np.testing.assert_allclose(np.asarray(got.value), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(average[0], record.weights[-1][0])  # an average, not the last


def test_without_rampup_the_initial_weights_keep_their_share():
    # Why the ramp-up is on by default: 0.999 ** 2000 of the random start survives.
    assert float(ema_lib.ema_decay(2000, 0.999, None)) == pytest.approx(0.999)
    assert float(ema_lib.ema_decay(0, 0.999, 0.05)) == 0.0  # the first update copies
    assert float(ema_lib.ema_decay(2000, 0.999, 0.05)) == pytest.approx(0.5 ** (1 / 100))
    assert float(ema_lib.ema_decay(10**6, 0.999, 0.05)) == pytest.approx(0.999)


@pytest.mark.parametrize("kind", ["gan", "cgan", "cyclegan", "pix2pix"])
def test_samples_and_translations_use_the_ema_generator_and_the_raw_one_stays_reachable(kind):
    m = model(kind, ema=0.5, ema_rampup=None)
    m.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
    m.fit(dataset(kind), epochs=1, verbose=0)
    name = "g_ab" if kind == "cyclegan" else "generator"
    raw, average = getattr(m, name), getattr(m, f"ema_{name}")
    if kind in ("gan", "cgan"):
        noise = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
        labels = [0, 1, 2] if kind == "cgan" else None
        inputs = noise if labels is None else [noise, np.array(labels)[:, None]]
        out = m.generate(noise=noise, labels=labels)
        raw_out = m.generate(noise=noise, labels=labels, use_ema=False)
    else:
        inputs = arrays(kind, 3)[0]
        out, raw_out = m.translate(inputs), m.translate(inputs, use_ema=False)
    np.testing.assert_allclose(out, average(inputs, training=False), atol=1e-5)
    np.testing.assert_allclose(raw_out, raw(inputs, training=False), atol=1e-5)
    assert np.abs(out - raw_out).max() > 1e-3 * np.abs(raw_out).max()


def test_ema_weights_survive_a_keras_file_and_the_config_keeps_every_option(tmp_path):
    options = dict(
        diff_augment="translation,cutout",
        augment_p=0.7,
        ada_target=0.5,
        ada_interval=2,
        ada_kimg=5.0,
        ema=0.95,
        ema_rampup=None,
        r1_weight=0.5,
        r1_every=4,
    )
    m = model("cyclegan", **options)
    m.compile()
    m.fit(dataset("cyclegan"), epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    m.save(path)
    loaded = keras.saving.load_model(path)
    for key, value in options.items():
        assert getattr(loaded, key) == value
    for a, b in zip(m.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(loaded.ema_g_ba.weights[0].value, m.ema_g_ba.weights[0].value)
    assert float(loaded.augmenter.p.value) == float(m.augmenter.p.value)


def test_bad_small_data_arguments_are_named():
    for kwargs, name in [
        (dict(ema=1.5), "ema"),
        (dict(ema=0.9, ema_rampup=-1), "ema_rampup"),
        (dict(diff_augment="blur"), "policy"),
        (dict(r1_weight=-1), "r1_weight"),
        (dict(r1_every=0), "r1_every"),
        (dict(ada_target=2), "ada_target"),
    ]:
        with pytest.raises(ValueError, match=name):
            model("gan", **kwargs)


# -- ADA in training ------------------------------------------------------------------------


def _ada_run(d_learning_rate, start_p, undecided=False):
    m = model("gan", ada_target=0.6, ada_interval=1, ada_kimg=0.5, augment_p=start_p)
    if undecided:  # a discriminator that cannot tell: its logit is 0 for every image
        for weight in m.discriminator.get_layer("logit").weights:
            weight.assign(np.zeros(weight.shape, "float32"))
    m.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(d_learning_rate))
    history = m.fit(dataset("gan", batch=4, n=4), epochs=40, verbose=0).history
    return float(m.augmenter.p.value), history


def test_ada_p_rises_against_a_discriminator_that_memorises_and_falls_otherwise():
    # Four training images and a fast discriminator: it soon calls them real with certainty.
    p, history = _ada_run(5e-3, 0.0)
    assert history["ada_rt"][-1] > 0.6 and p > 0.2, (p, history["ada_rt"][-5:])
    assert history["augment_p"][-1] == pytest.approx(p)
    # A discriminator that is never sure (r_t = 0 < 0.6): p falls from where it started,
    # by batch * interval / (kimg * 1000) = 0.008 a step.
    p, history = _ada_run(0.0, 0.5, undecided=True)
    assert history["ada_rt"][-1] == 0.0
    assert p == pytest.approx(max(0.0, 0.5 - 40 * 0.008), abs=1e-4)


# -- R1 ----------------------------------------------------------------------------------------


def test_r1_is_half_gamma_times_the_squared_input_gradient_of_the_discriminator():
    m = model("gan", r1_weight=4.0)
    m.compile()
    x = tf.constant(arrays("gan", 4)[0])
    critic = lambda v: m.discriminator(v, training=True)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(critic(x))
    expected = (
        0.5
        * 4.0
        * float(tf.reduce_mean(tf.reduce_sum(tf.square(tape.gradient(total, x)), axis=[1, 2, 3])))
    )
    assert float(m.r1_term(critic, x)) == pytest.approx(expected, rel=1e-5)


def test_lazy_r1_applies_the_scaled_penalty_every_k_steps():
    m = model("gan", r1_weight=1.0, r1_every=3)
    m.compile()
    history = m.fit(dataset("gan", batch=1, n=6), epochs=1, verbose=0).history
    eager = model("gan", r1_weight=1.0, r1_every=3)
    eager.compile()
    x = tf.constant(arrays("gan", 2)[0])
    critic = lambda v: eager.discriminator(v, training=True)
    full = float(model("gan", r1_weight=1.0).r1_term(critic, x))
    assert float(eager.r1_term(critic, x)) == pytest.approx(3 * full, rel=1e-5)  # step 0
    eager.d_optimizer.iterations.assign(1)
    assert float(eager.r1_term(critic, x)) == 0.0
    assert history["r1_penalty"][0] > 0


# -- DiffAugment inside the models -------------------------------------------------------------


def test_with_diff_augment_the_discriminator_sees_augmented_images():
    seen = []

    class Spy(keras.layers.Layer):
        def call(self, x):
            seen.append(x)
            return x

    inputs = keras.Input((SIZE, SIZE, 1))
    d = D.dcgan_discriminator((SIZE, SIZE, 1), base_filters=8, norm=None)
    spy = keras.Model(inputs, d(Spy()(inputs)))
    g = G.dcgan_generator(LATENT, (SIZE, SIZE, 1), base_filters=8, norm=None)
    real = arrays("gan", 4)[0]
    for policy in (None, "cutout"):
        seen.clear()
        m = gans.GAN(g, spy, seed=0, diff_augment=policy)
        m.compile()
        m.train_step(tf.constant(real))
        first = np.asarray(seen[0])[:4]  # the real half of the fused critic call
        if policy is None:
            np.testing.assert_array_equal(first, real)
        else:
            assert (first == 0).reshape(4, -1).sum(axis=1).min() > 0  # each real image cut


# -- networks --------------------------------------------------------------------------------


def test_spectral_conv_divides_the_kernel_by_its_largest_singular_value_and_keeps_it():
    layer = SpectralConv2D(6, 3, padding="same", power_iterations=1)
    x = tf.random.stateless_normal((2, 8, 8, 4), [0, 1])
    layer(x)
    kernel = np.asarray(layer.kernel.value).copy()
    for _ in range(50):  # power iterations accumulate over training calls
        layer(x, training=True)
    np.testing.assert_array_equal(layer.kernel.value, kernel)  # the weights are not rewritten
    sigma = np.linalg.svd(kernel.reshape(-1, 6), compute_uv=False)[0]
    expected = tf.nn.conv2d(x, kernel / sigma, 1, "SAME") + layer.bias
    np.testing.assert_allclose(layer(x), expected, rtol=1e-4, atol=1e-5)


def test_spectral_norm_gradient_flows_through_sigma():
    layer = SpectralDense(3)
    x = tf.random.stateless_normal((5, 4), [2, 3])
    layer(x)
    for _ in range(30):
        layer(x, training=True)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    got = tape.gradient(loss, layer.kernel)
    w = tf.Variable(layer.kernel.value)
    with tf.GradientTape() as tape:  # the same function with an exact sigma
        sigma = tf.linalg.svd(w, compute_uv=False)[0]
        loss = tf.reduce_sum(x @ (w / sigma) + layer.bias)
    naive = tf.reduce_sum(x, axis=0)[:, None] * tf.ones((1, 3)) / sigma  # sigma held constant
    expected = tape.gradient(loss, w)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-4)
    assert not np.allclose(got, naive, rtol=1e-2)


def test_spectral_norm_networks_train_and_round_trip(tmp_path):
    d = D.patchgan_discriminator((SIZE, SIZE, 3), 16, filters=4, spectral_norm=True)
    assert sum(isinstance(layer, SpectralConv2D) for layer in d.layers) == 3
    x = arrays("cyclegan", 2)[0]
    round_trip(d, tmp_path, x)
    g_ab, g_ba, _, _ = networks("cyclegan")
    d_b = D.patchgan_discriminator((SIZE, SIZE, 3), 16, filters=4, spectral_norm=True, name="d_b")
    m = gans.CycleGAN(g_ab, g_ba, d, d_b, seed=0)
    m.compile()
    assert all(np.isfinite(v[0]) for v in m.fit(dataset("cyclegan"), verbose=0).history.values())
    with pytest.raises(ValueError, match="spectral_norm"):
        conv_block(keras.Input((8, 8, 3)), 4, transpose=True, spectral_norm=True, name="x")


def test_projection_discriminator_adds_the_label_embedding_dot_the_features():
    d = D.dcgan_discriminator(
        (SIZE, SIZE, 1), CLASSES, base_filters=8, norm=None, conditioning="projection"
    )
    x = arrays("cgan", 4)[0]
    labels = np.array([0, 1, 2, 1])[:, None]
    features = keras.Model(d.inputs, d.get_layer("features").output)([x, labels])
    psi = d.get_layer("logit")(features)
    table = d.get_layer("label_embedding").embeddings.value
    expected = psi + tf.reduce_sum(tf.gather(table, labels[:, 0]) * features, 1, keepdims=True)
    np.testing.assert_allclose(d([x, labels]), expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(d([x, labels]), d([x, labels * 0]))


def test_class_conditional_norm_applies_the_class_gain_and_bias(tmp_path):
    layer = ClassConditionalNormalization(3, norm=None)
    x = tf.ones((2, 4, 4, 2))
    layer([x, tf.constant([0, 2])])
    layer.gamma.assign([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0]])
    layer.beta.assign([[0.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    out = np.asarray(layer([x, tf.constant([[0], [2]])]))
    np.testing.assert_allclose(out[0], 1.0)
    np.testing.assert_allclose(out[1, ..., 0], 3.5)
    np.testing.assert_allclose(out[1, ..., 1], 0.5)
    with pytest.raises(ValueError, match="num_classes"):
        ClassConditionalNormalization(1)


@pytest.mark.parametrize(
    "g_cond, d_cond", [("cbn", "projection"), ("cbn", "label_map"), ("label_map", "projection")]
)
def test_projection_and_cbn_models_train_and_round_trip_through_keras_files(
    g_cond, d_cond, tmp_path
):
    keras.utils.set_random_seed(0)
    g = G.dcgan_generator(
        LATENT, (SIZE, SIZE, 1), CLASSES, base_filters=8, embedding_dim=4, conditioning=g_cond
    )
    d = D.dcgan_discriminator(
        (SIZE, SIZE, 1), CLASSES, base_filters=8, norm=None, conditioning=d_cond, spectral_norm=True
    )
    m = gans.ConditionalGAN(g, d, loss="hinge", diff_augment="translation", ema=0.9, seed=1)
    m.compile()
    history = m.fit(dataset("cgan"), epochs=2, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert m.num_classes == CLASSES
    path = str(tmp_path / "cgan.keras")
    m.save(path)
    loaded = keras.saving.load_model(path)
    noise = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_allclose(
        loaded.generate(noise=noise, labels=[0, 1, 2]),
        m.generate(noise=noise, labels=[0, 1, 2]),
        atol=1e-5,
    )
    same_noise = np.repeat(noise[:1], 3, axis=0)
    images = m.generate(noise=same_noise, labels=[0, 1, 2])
    assert not np.allclose(images[0], images[1])  # the label changes the image
    loaded.fit(dataset("cgan"), epochs=1, verbose=0)  # and trains on


def test_conditioning_names_are_checked():
    with pytest.raises(ValueError, match="conditioning"):
        G.dcgan_generator(8, (16, 16, 1), 3, conditioning="projection")
    with pytest.raises(ValueError, match="conditioning"):
        D.dcgan_discriminator((16, 16, 1), 3, conditioning="cbn")
