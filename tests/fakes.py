"""Stand-ins for large files the tests cannot download: a small graph with the 2015 Inception
graph's tensor names and shape contract (what FID, MiFID and audits read)."""

import numpy as np


def synthetic_inception_graph(path, depth=8):
    """A small frozen graph with the 2015 Inception graph's tensor names and shape contract:
    a batch-1 `ExpandDims` of one decoded image, a resize to 299, a scaling, and `pool_3`
    [1, 1, 1, D] after a convolution. Returns a numpy function computing the same thing."""
    import tensorflow as tf

    kernel = np.random.default_rng(0).normal(size=(3, 3, 3, depth)).astype("float32")
    graph = tf.Graph()
    with graph.as_default():
        decoded = tf.compat.v1.placeholder(tf.float32, [None, None, 3], name="Cast")
        x = tf.expand_dims(decoded, 0, name="ExpandDims")
        x = tf.compat.v1.image.resize_bilinear(x, [299, 299], name="ResizeBilinear")
        x = (x - 128.0) / 128.0
        x = tf.nn.relu(tf.nn.conv2d(x, tf.constant(kernel), 2, "VALID"))
        pooled = tf.reduce_mean(x, axis=[1, 2], keepdims=True, name="pool_3")
        tf.reshape(pooled, [1, depth], name="pool_3/_reshape")  # batch 1, as the real graph
    with open(path, "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())

    def reference(pixels):
        x = tf.compat.v1.image.resize_bilinear(tf.constant(pixels, tf.float32), [299, 299])
        x = tf.nn.relu(tf.nn.conv2d((x - 128.0) / 128.0, kernel, 2, "VALID"))
        return tf.reduce_mean(x, axis=[1, 2]).numpy()

    return reference
