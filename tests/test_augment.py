"""DiffAugment and ADA's probability: the transforms are the reference's, differentiable,
independent per image, seeded, shared with an image condition, the identity at p = 0, and
compile under XLA; ADA's p rises when D is sure of the real images and falls otherwise."""

import numpy as np
import pytest
import tensorflow as tf

from ganpaint import augment
from ganpaint import generators as G

POLICY_NAMES = ["color", "translation", "cutout"]


def _images(n=6, size=16, channels=3, seed=0):
    return tf.constant(
        np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)), tf.float32
    )


@pytest.mark.parametrize("policy", POLICY_NAMES + ["color,translation,cutout"])
def test_gradients_reach_the_generator_through_each_augmentation(policy):
    g = G.dcgan_generator(8, (16, 16, 3), base_filters=8, norm=None)
    z = tf.random.stateless_normal((4, 8), [1, 2])
    with tf.GradientTape() as tape:
        fake = g(z, training=True)
        loss = tf.reduce_sum(tf.square(augment.diff_augment(fake, policy, seed=3) - 0.3))
    grads = tape.gradient(loss, g.trainable_variables)
    assert all(gr is not None and float(tf.reduce_max(tf.abs(gr))) > 0 for gr in grads)


def test_probability_zero_is_the_identity_and_one_changes_every_image():
    x = _images()
    np.testing.assert_array_equal(augment.diff_augment(x, "color,translation,cutout", 5, 0.0), x)
    y = augment.diff_augment(x, "color,translation,cutout", 5, 1.0)
    changed = np.abs(np.asarray(y) - np.asarray(x)).reshape(len(x), -1).max(axis=1)
    assert (changed > 0).all()


def test_probability_applies_each_transform_to_that_share_of_the_images():
    x = tf.zeros((400, 8, 8, 3)) + 0.5
    y = np.asarray(augment.diff_augment(x, "cutout", seed=1, probability=0.3))
    cut = (y == 0).reshape(400, -1).any(axis=1)
    assert 0.22 < cut.mean() < 0.38


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_transforms_are_drawn_independently_per_image_and_follow_the_seed(policy):
    one = _images(1)
    batch = tf.repeat(one, 8, axis=0)  # the same image 8 times
    y = np.asarray(augment.diff_augment(batch, policy, seed=7))
    distinct = {y[i].tobytes() for i in range(8)}
    assert len(distinct) >= 6, f"{policy}: only {len(distinct)} different transforms of 8"
    np.testing.assert_array_equal(y, augment.diff_augment(batch, policy, seed=7))
    assert not np.array_equal(y, augment.diff_augment(batch, policy, seed=8))


def test_translation_is_an_integer_shift_of_at_most_an_eighth_with_zero_fill():
    size = 16
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    image = np.stack([rows + 1, cols + 1, np.ones_like(rows)], -1).astype("float32")
    y = np.asarray(augment.diff_augment(np.repeat(image[None], 20, 0), "translation", seed=2))
    for out in y:
        inside = out[..., 2] == 1
        r0, c0 = np.argwhere(inside)[0]
        dy, dx = int(r0 - (out[r0, c0, 0] - 1)), int(c0 - (out[r0, c0, 1] - 1))
        assert abs(dy) <= 2 and abs(dx) <= 2  # int(16 / 8 + 0.5) = 2
        shifted = np.zeros_like(image)
        src = image[max(0, -dy) : size - max(0, dy), max(0, -dx) : size - max(0, dx)]
        shifted[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = (
            src
        )
        np.testing.assert_array_equal(out, shifted)


def test_cutout_zeroes_one_square_of_half_the_side_and_keeps_the_rest():
    x = tf.ones((30, 16, 16, 3))
    y = np.asarray(augment.diff_augment(x, "cutout", seed=4))
    for out in y:
        zero = np.argwhere(out[..., 0] == 0)
        (r0, c0), (r1, c1) = zero.min(0), zero.max(0)
        assert len(zero) == (r1 - r0 + 1) * (c1 - c0 + 1)  # one rectangle...
        assert r1 - r0 + 1 <= 8 and c1 - c0 + 1 <= 8  # ...of at most 8x8 (clipped at edges)
        assert (out[..., :][out[..., 0] != 0] == 1).all()
    full = [(o[..., 0] == 0).sum() for o in y]
    assert max(full) == 64


def test_color_changes_brightness_saturation_and_contrast_within_the_reference_ranges():
    gray = tf.zeros((200, 4, 4, 3))  # saturation and contrast leave a constant image alone
    y = np.asarray(augment.diff_augment(gray, "color", seed=9))
    shift = y.reshape(200, -1)
    assert np.allclose(shift, shift[:, :1])  # one brightness offset per image
    assert -0.5 <= shift.min() and shift.max() <= 0.5 and shift.std() > 0.2


def test_an_image_condition_gets_the_same_geometric_transform():
    x = _images(8)
    y, cond = augment.diff_augment(x, "translation,cutout", seed=3, condition=x)
    np.testing.assert_array_equal(y, cond)
    y, cond = augment.diff_augment(x, "color,translation,cutout", seed=3, condition=x)
    assert not np.allclose(y, cond)  # the image got colour changes, the condition did not...
    # ...but the same shift and cutout: zero fill and cutout squares in the same places.
    assert (np.asarray(cond) == 0).sum() > 0
    np.testing.assert_array_equal(np.asarray(cond) == 0, np.asarray(y) == 0)
    with pytest.raises(ValueError, match="`condition` must have the images' height and width"):
        augment.diff_augment(x, "translation", 0, condition=tf.zeros((8, 8, 8, 3)))


def test_xla_and_bfloat16_give_the_eager_result():
    x = _images(4)
    eager = augment.diff_augment(x, "color,translation,cutout", tf.constant([3, 4]), 0.7)
    compiled = tf.function(
        lambda v: augment.diff_augment(v, "color,translation,cutout", tf.constant([3, 4]), 0.7),
        jit_compile=True,
    )(x)
    np.testing.assert_allclose(compiled, eager, atol=1e-5)
    low = augment.diff_augment(tf.cast(x, tf.bfloat16), "color,translation,cutout", 3)
    assert low.dtype == tf.bfloat16


def test_bad_policies_and_shapes_are_named():
    with pytest.raises(ValueError, match="`policy` must name each of"):
        augment.diff_augment(_images(), "color,zoom", 0)
    with pytest.raises(ValueError, match="`policy` must name each of"):
        augment.parse_policy("color,color")
    with pytest.raises(ValueError, match=r"`images` must be a batch \[B, H, W, C\]"):
        augment.diff_augment(tf.zeros((16, 16, 3)), "color", 0)
    assert augment.parse_policy(" translation , color ") == ("translation", "color")
    np.testing.assert_array_equal(augment.diff_augment(_images(), None, 0), _images())


# -- ADA's p ---------------------------------------------------------------------------------


def test_ada_p_rises_when_the_discriminator_is_sure_of_real_images_and_falls_otherwise():
    ada = augment.AdaptiveAugment(probability=0.5, target=0.6, interval=2, kimg=1.0)
    sure, unsure = tf.ones((8, 1)) * 3.0, tf.constant([[1.0], [-1.0]] * 4)
    ada.observe(sure, 8)
    assert float(ada.p.value) == 0.5  # not yet: every `interval` observations
    ada.observe(sure, 8)
    step = 8 * 2 / 1000.0
    assert float(ada.p.value) == pytest.approx(0.5 + step)
    assert float(ada.rt.value) == pytest.approx(1.0)
    for _ in range(4):
        ada.observe(unsure, 8)  # r_t = 0 < 0.6
    assert float(ada.p.value) == pytest.approx(0.5 + step - 2 * step)
    assert float(ada.rt.value) == pytest.approx(0.0)
    for _ in range(2000):
        ada.observe(sure, 8)
    assert float(ada.p.value) == 1.0  # clipped to [0, 1]


def test_ada_arguments_are_checked():
    with pytest.raises(ValueError, match="ada_target"):
        augment.AdaptiveAugment(target=1.5)
    with pytest.raises(ValueError, match="augment_p"):
        augment.AdaptiveAugment(probability=2.0)
    with pytest.raises(ValueError, match="ada_interval"):
        augment.AdaptiveAugment(interval=0)
    with pytest.raises(ValueError, match="ada_kimg"):
        augment.AdaptiveAugment(kimg=0)


def test_nearest_distances_find_copies():
    train = np.random.default_rng(0).uniform(-1, 1, (20, 8, 8, 1))
    generated = np.concatenate([train[3:5], train[:2] * 0.0 + 0.5])
    d = augment.nearest_distances(generated, train)
    np.testing.assert_allclose(d[:2], 0.0, atol=1e-6)
    assert (d[2:] > 0.3).all()
    brute = min(np.sqrt(np.mean((generated[2] - t) ** 2)) for t in train)
    assert d[2] == pytest.approx(brute)
