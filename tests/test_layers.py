import keras
import numpy as np
import pytest
from helpers import round_trip

from ganpaint.layers import InstanceNormalization, ReflectionPadding2D


def test_instance_norm_normalizes_each_channel_of_each_example():
    x = np.random.default_rng(0).normal(3.0, 5.0, (2, 6, 6, 4)).astype("float32")
    y = keras.ops.convert_to_numpy(InstanceNormalization()(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-3)


def test_instance_norm_takes_tensorflow_addons_arguments(tmp_path):
    layer = InstanceNormalization(
        epsilon=1e-3,
        center=False,
        scale=True,
        gamma_initializer=keras.initializers.RandomNormal(0, 0.02),
    )
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(inputs, layer(inputs))
    assert [w.name for w in layer.weights] == ["gamma"]
    loaded = round_trip(model, tmp_path, np.ones((1, 5, 5, 3), "float32"))
    config = loaded.layers[-1].get_config()
    assert config["epsilon"] == 1e-3 and config["center"] is False and "groups" not in config


def test_reflection_padding_mirrors_the_border(tmp_path):
    x = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    y = keras.ops.convert_to_numpy(ReflectionPadding2D(1)(x))[0, ..., 0]
    np.testing.assert_array_equal(y[0], [4, 3, 4, 5, 4])  # row 1 mirrored above row 0
    inputs = keras.Input((3, 3, 1))
    model = keras.Model(inputs, ReflectionPadding2D((2, 1))(inputs))
    assert model.output.shape == (None, 7, 5, 1)
    round_trip(model, tmp_path, x)


def test_reflection_padding_rejects_negative():
    with pytest.raises(ValueError, match=r"`padding` must be a non-negative int"):
        ReflectionPadding2D(-1)


@pytest.mark.parametrize("noise_shape", [None, (None, 1, 1, 4)])
def test_dropout_draws_keras_masks_uncompiled_and_names_philox(noise_shape, tmp_path):
    import tensorflow as tf

    from ganpaint.layers import Dropout

    x = tf.random.stateless_normal((3, 5, 5, 4), (1, 2))
    ours = Dropout(0.4, noise_shape=noise_shape, seed=5)
    theirs = keras.layers.Dropout(0.4, noise_shape=noise_shape, seed=5)
    for _ in range(2):  # the seed generators advance alike
        np.testing.assert_array_equal(
            tf.function(lambda t: ours(t, training=True))(x),
            tf.function(lambda t: theirs(t, training=True))(x),
        )
    np.testing.assert_array_equal(ours(x), x)  # inference: the identity
    np.testing.assert_array_equal(Dropout(1.0)(x, training=True), np.zeros_like(x))
    hlo = tf.function(
        lambda t: ours(t, training=True), jit_compile=True
    ).experimental_get_compiler_ir(x)(stage="hlo")
    assert "algorithm=rng_philox" in hlo and "StatelessRandomGetKeyCounter" not in hlo
    inputs = keras.Input((5, 5, 4))
    loaded = round_trip(keras.Model(inputs, ours(inputs)), tmp_path, np.ones((1, 5, 5, 4)))
    assert type(loaded.layers[-1]) is Dropout and loaded.layers[-1].rate == 0.4
