"""Golden values for every adversarial loss, on hand-written logits in vector and patch shapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganpaint import losses

REAL = np.array([[2.0], [-0.5], [1.0], [0.0]], "float32")
FAKE = np.array([[-1.0], [0.5], [-3.0], [0.25]], "float32")


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def np_bce(logits, target):
    # -[t log s(x) + (1 - t) log(1 - s(x))] = t softplus(-x) + (1 - t) softplus(x)
    return np.mean(target * softplus(-logits) + (1 - target) * softplus(logits))


def patches(x):
    """The same logits as a [B, 2, 2, 1] PatchGAN map (each value repeated per patch)."""
    return np.repeat(np.repeat(x[:, :, None, None], 2, axis=1), 2, axis=2).reshape(-1, 2, 2, 1)


def E(x):
    return x.mean(axis=0, keepdims=True)


REFERENCE = {  # name: (discriminator(real, fake), generator(real, fake)), written in numpy
    "bce": (lambda r, f: np_bce(r, 1) + np_bce(f, 0), lambda r, f: np_bce(f, 1)),
    "minimax": (lambda r, f: np_bce(r, 1) + np_bce(f, 0), lambda r, f: -np_bce(f, 0)),
    "lsgan": (
        lambda r, f: np.mean((r - 1) ** 2) + np.mean(f**2),
        lambda r, f: np.mean((f - 1) ** 2),
    ),
    "hinge": (
        lambda r, f: np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)),
        lambda r, f: -np.mean(f),
    ),
    "wgan-gp": (lambda r, f: np.mean(f) - np.mean(r), lambda r, f: -np.mean(f)),
    "rsgan": (lambda r, f: np_bce(r - f, 1), lambda r, f: np_bce(f - r, 1)),
    "rasgan": (
        lambda r, f: np_bce(r - E(f), 1) + np_bce(f - E(r), 0),
        lambda r, f: np_bce(f - E(r), 1) + np_bce(r - E(f), 0),
    ),
    "ralsgan": (
        lambda r, f: np.mean((r - E(f) - 1) ** 2) + np.mean((f - E(r) + 1) ** 2),
        lambda r, f: np.mean((f - E(r) - 1) ** 2) + np.mean((r - E(f) + 1) ** 2),
    ),
}


def test_reference_covers_every_loss():
    assert set(REFERENCE) == set(losses.LOSSES)


@pytest.mark.parametrize("shape", ["vector", "patch"])
@pytest.mark.parametrize("name", losses.LOSSES)
def test_loss_matches_numpy_reference(name, shape):
    real, fake = (REAL, FAKE) if shape == "vector" else (patches(REAL), patches(FAKE))
    loss = losses.AdversarialLoss(name)
    d_ref, g_ref = REFERENCE[name]
    np.testing.assert_allclose(float(loss.discriminator(real, fake)), d_ref(real, fake), rtol=1e-5)
    np.testing.assert_allclose(float(loss.generator(real, fake)), g_ref(real, fake), rtol=1e-5)


def test_hand_computed_values():
    # At logit 0 the sigmoid is 1/2, so each BCE term is log 2.
    zeros = np.zeros((3, 1), "float32")
    assert float(losses.bce_discriminator_loss(zeros, zeros)) == pytest.approx(2 * np.log(2))
    assert float(losses.bce_generator_loss(zeros)) == pytest.approx(np.log(2))
    # LSGAN: real 3 -> (3-1)^2 = 4; fake -2 -> 4.
    assert (
        float(losses.lsgan_discriminator_loss(np.full((2, 1), 3.0), np.full((2, 1), -2.0))) == 8.0
    )
    # Hinge: real 0.5 -> 0.5, fake -2 -> 0 (beyond the margin).
    assert (
        float(losses.hinge_discriminator_loss(np.full((2, 1), 0.5), np.full((2, 1), -2.0))) == 0.5
    )
    # RaLSGAN at the optimum (real - E fake = 1, fake - E real = -1) is 0.
    real, fake = np.full((2, 1), 0.5, "float32"), np.full((2, 1), -0.5, "float32")
    assert float(losses.ralsgan_discriminator_loss(real, fake)) == pytest.approx(0.0)


def test_one_sided_label_smoothing_moves_only_the_real_target():
    smoothed = float(losses.bce_discriminator_loss(REAL, FAKE, label_smoothing=0.1))
    assert smoothed == pytest.approx(np_bce(REAL, 0.9) + np_bce(FAKE, 0.0), rel=1e-5)
    ls = float(losses.lsgan_discriminator_loss(REAL, FAKE, label_smoothing=0.1))
    assert ls == pytest.approx(np.mean((REAL - 0.9) ** 2) + np.mean(FAKE**2), rel=1e-5)


def test_random_soft_labels_are_drawn_in_their_ranges():
    real_t, fake_t = losses.targets(
        np.zeros((2000, 1)), np.zeros((2000, 1)), ((0.7, 1.2), (0.0, 0.3)), seed=3
    )
    real_t, fake_t = np.asarray(real_t), np.asarray(fake_t)
    assert 0.7 <= real_t.min() and real_t.max() <= 1.2 and real_t.std() > 0.1
    assert 0.0 <= fake_t.min() and fake_t.max() <= 0.3 and fake_t.std() > 0.05
    # The loss uses exactly these targets, per element.
    loss = float(
        losses.bce_discriminator_loss(
            np.zeros((2000, 1)), np.zeros((2000, 1)), ((0.7, 1.2), (0.0, 0.3)), seed=3
        )
    )
    # At logit 0, BCE is log 2 whatever the target.
    assert loss == pytest.approx(2 * np.log(2), rel=1e-5)
    # With a stateless seed tensor (what the models pass) too, and different per seed.
    a = np.asarray(
        losses.targets(REAL, FAKE, ((0.7, 1.2), (0.0, 0.3)), seed=tf.constant([1, 2]))[0]
    )
    b = np.asarray(
        losses.targets(REAL, FAKE, ((0.7, 1.2), (0.0, 0.3)), seed=tf.constant([1, 3]))[0]
    )
    assert not np.allclose(a, b)


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.1", ((1.2, 0.7), (0.0, 0.3)), (0.7, 1.2), True])
def test_bad_label_smoothing_is_rejected(bad):
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.AdversarialLoss("bce", label_smoothing=bad)


def test_label_smoothing_with_a_loss_that_has_no_targets_is_rejected():
    with pytest.raises(ValueError, match="hinge"):
        losses.AdversarialLoss("hinge", label_smoothing=0.1)


def test_random_soft_labels_need_a_seed():
    with pytest.raises(ValueError, match="seed"):
        losses.bce_discriminator_loss(REAL, FAKE, label_smoothing=((0.7, 1.2), (0.0, 0.3)))


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match="ralsgan.*Received: loss='lsgann'"):
        losses.AdversarialLoss("lsgann")


def test_relativistic_losses_use_the_given_batch_mean():
    # A batch mean that returns 0 turns RaLSGAN into plain (real - 1)^2 + (fake + 1)^2.
    zero_mean = lambda x: keras.ops.zeros_like(x[:1])
    value = float(losses.ralsgan_discriminator_loss(REAL, FAKE, batch_mean=zero_mean))
    assert value == pytest.approx(np.mean((REAL - 1) ** 2) + np.mean((FAKE + 1) ** 2), rel=1e-5)


def test_gradient_penalty_matches_direct_computation():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(4, 3, 3, 2)).astype("float32")
    fake = rng.normal(size=(4, 3, 3, 2)).astype("float32")
    w = rng.normal(size=(18,)).astype("float32")

    def critic(x):  # a quadratic critic, so the gradient depends on the input
        flat = tf.reshape(x, (-1, 18))
        return tf.reduce_sum(flat * w, axis=1, keepdims=True) + tf.reduce_sum(
            flat**2, axis=1, keepdims=True
        )

    penalty = float(losses.gradient_penalty(critic, real, fake, seed=tf.constant([5, 7])))
    alpha = np.asarray(tf.random.stateless_uniform([4, 1, 1, 1], tf.constant([5, 7]), 0.0, 1.0))
    x_hat = (real + alpha * (fake - real)).reshape(4, 18)
    grad = w + 2 * x_hat  # d/dx (w.x + |x|^2)
    expected = np.mean((np.linalg.norm(grad, axis=1) - 1.0) ** 2)
    assert penalty == pytest.approx(expected, rel=1e-4)


def test_gradient_penalty_is_zero_for_a_unit_norm_linear_critic_and_reaches_weights():
    d = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, use_bias=False)])
    d.layers[0].kernel.assign(np.array([[0.6], [0.8], [0], [0], [0], [0]], "float32"))
    real, fake = np.ones((3, 6), "float32"), np.zeros((3, 6), "float32")
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(d, real, fake, seed=1)
    assert float(penalty) == pytest.approx(0.0, abs=1e-6)
    d.layers[0].kernel.assign(np.full((6, 1), 1.0, "float32"))  # norm sqrt(6)
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(d, real, fake, seed=1)
    assert float(penalty) == pytest.approx((np.sqrt(6) - 1) ** 2, rel=1e-5)
    grad = tape.gradient(penalty, d.trainable_variables)[0]
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0


def test_gradient_penalty_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 4\) and \(3, 4\)"):
        losses.gradient_penalty(lambda x: x, np.zeros((2, 4)), np.zeros((3, 4)), seed=1)


def test_losses_are_float32_for_bfloat16_logits():
    real = tf.constant(REAL, tf.bfloat16)
    assert losses.bce_discriminator_loss(real, real).dtype == tf.float32
