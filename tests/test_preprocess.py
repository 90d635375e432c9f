import numpy as np
import pytest
import tensorflow as tf

from ganpaint.data import preprocess, samples


def test_to_uint8_inverts_scale_to_unit():
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(preprocess.to_uint8(preprocess.scale_to_unit(pixels)), pixels)
    np.testing.assert_array_equal(preprocess.to_uint8([-1.001, 1.001]), [0, 255])  # clipped


def test_to_uint8_keeps_uint8_and_refuses_floats_outside_the_unit_range():
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(preprocess.to_uint8(pixels), pixels)  # not whitened
    with pytest.raises(ValueError, match=r"\[-1, 1\].*\[0, 255\]"):
        preprocess.to_uint8(pixels.astype("float32"))
    with pytest.raises(ValueError, match="integer dtype int64"):
        preprocess.to_uint8(np.arange(3))


def test_resize_is_identity_at_the_same_size():
    image = np.random.default_rng(0).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    np.testing.assert_array_equal(preprocess.resize(tf.constant(image), (7, 9)).numpy(), image)


def test_resize_center_crop_keeps_the_aspect_ratio():
    image = np.zeros((10, 30, 3), np.uint8)
    image[:, 10:20] = 255  # the central square is white
    out = preprocess.resize(tf.constant(image), (5, 5), mode="center_crop").numpy()
    assert (out == 255).all()
    stretched = preprocess.resize(tf.constant(image), (5, 5)).numpy()
    assert (stretched[:, 0] < 128).all()


def test_convert_channels_grayscale_weights():
    rgb = tf.constant([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], tf.uint8)
    np.testing.assert_array_equal(
        preprocess.convert_channels(rgb, 1).numpy()[0, :, 0], [76, 150, 29]
    )


def test_painterly_is_deterministic_and_distinct():
    photo = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    out = samples.painterly(photo)
    np.testing.assert_array_equal(out, samples.painterly(photo))
    np.testing.assert_array_equal(out[1], samples.painterly(photo[1]))  # batch == one by one
    assert np.abs(out.astype(int) - photo).mean() > 20
    with pytest.raises(ValueError, match="uint8 RGB"):
        samples.painterly(photo.astype(np.float32))


def test_sample_path_unknown_name():
    with pytest.raises(ValueError, match="Unknown sample 'cats'"):
        samples.sample_path("cats")
