import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf

# Under pytest-xdist (`make test` runs two workers) each worker gets one intra-op thread, so
# the two workers share the machine's cores instead of fighting over them.
if os.environ.get("PYTEST_XDIST_WORKER"):
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(2)

# Two logical CPU devices, for the MirroredStrategy tests: this must run before TensorFlow
# initialises its devices, so it lives here, ahead of every test module.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


def write_image(path, image, fmt=None):
    """Writes a uint8 [H, W, C] array as JPEG or PNG (by extension), creating folders."""
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fmt = fmt or os.path.splitext(path)[1].lower()
    image = tf.constant(image, tf.uint8)
    data = tf.io.encode_png(image) if fmt == ".png" else tf.io.encode_jpeg(image, quality=95)
    tf.io.write_file(path, data)
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def coordinate_image():
    """40x40 RGB where R = column and G = row: any crop or flip can be read off its pixels."""
    cols, rows = np.meshgrid(np.arange(40), np.arange(40))
    return np.stack([cols * 6, rows * 6, np.full_like(cols, 128)], -1).astype(np.uint8)


def batches(ds):
    """All batches of a dataset as numpy (tuples stay tuples)."""
    return [tuple(x.numpy() for x in b) if isinstance(b, tuple) else b.numpy() for b in ds]
