"""Tiny networks, data and stand-ins for testing code built on ganpaint, offline and fast.

- `networks(kind)` / `model(kind)`: every model of `ganpaint.gans` at 16 px, with a few
  filters and weights from a fixed seed. `norm=None`/"instance" and no dropout keep a batch's
  examples independent, so a step split over replicas can match a single-device step exactly.
- `arrays(kind)` / `dataset(kind)`: what a dataset of that kind yields, in [-1, 1].
- `synthetic_inception_graph(path)`: a small frozen graph with the 2015 Inception graph's
  tensor names and shape contract (what FID, MiFID and the submission audit read), for
  machines that cannot download the real one.

The repository's tests and scripts use these; so can a user's own tests.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ganpaint import gans

SIZE, LATENT, CLASSES = 16, 8, 3


def networks(kind, norm=None, dropout=0.0):
    """Fresh networks of one model kind, with weights from a fixed seed; `dropout` in the
    networks that take it (the GANs' discriminators, pix2pix's U-Net)."""
    import keras

    from ganpaint import discriminators as D
    from ganpaint import generators as G

    keras.utils.set_random_seed(7)
    gray, rgb = (SIZE, SIZE, 1), (SIZE, SIZE, 3)
    if kind == "gan":
        return [
            G.dcgan_generator(LATENT, gray, base_filters=8, norm=norm),
            D.dcgan_discriminator(gray, base_filters=8, norm=norm, dropout=dropout),
        ]
    if kind == "cgan":
        return [
            G.dcgan_generator(LATENT, gray, CLASSES, base_filters=8, norm=norm, embedding_dim=4),
            D.dcgan_discriminator(
                gray, CLASSES, base_filters=8, norm=norm, embedding_dim=4, dropout=dropout
            ),
        ]
    if kind == "acgan":
        return [
            G.dcgan_generator(LATENT, gray, CLASSES, base_filters=8, norm=norm, embedding_dim=4),
            D.dcgan_discriminator(
                gray, CLASSES, aux_classifier=True, base_filters=8, norm=norm, dropout=dropout
            ),
        ]
    if kind == "cyclegan":
        # Plain outputs: a residual generator starts as the identity, where the cycle losses'
        # L1 has no gradient, and these tests follow gradients through every term.
        return [
            G.resnet_generator(rgb, n_blocks=1, filters=4, residual=False, name="g_ab"),
            G.resnet_generator(rgb, n_blocks=1, filters=4, residual=False, name="g_ba"),
            D.patchgan_discriminator(rgb, 16, filters=4, name="d_a"),
            D.patchgan_discriminator(rgb, 16, filters=4, name="d_b"),
        ]
    if kind == "pix2pix":
        return [
            G.unet_generator(rgb, filters=4, norm="instance", dropout=dropout),
            D.patchgan_discriminator(rgb, 16, conditional=True, filters=4),
        ]
    raise ValueError(kind)


MODELS = {
    "gan": gans.GAN,
    "cgan": gans.ConditionalGAN,
    "acgan": gans.ACGAN,
    "cyclegan": gans.CycleGAN,
    "pix2pix": gans.Pix2Pix,
}


def model(kind, norm=None, **kwargs):
    kwargs.setdefault("seed", 11)
    return MODELS[kind](*networks(kind, norm), **kwargs)


def arrays(kind, n=8):
    """The arrays a dataset for this kind yields, in [-1, 1]."""
    rng = np.random.default_rng(3)
    if kind in ("gan",):
        return (rng.uniform(-1, 1, (n, SIZE, SIZE, 1)).astype("float32"),)
    if kind in ("cgan", "acgan"):
        return (
            rng.uniform(-1, 1, (n, SIZE, SIZE, 1)).astype("float32"),
            rng.integers(0, CLASSES, n).astype("int32"),
        )
    a = rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")
    return a, np.tanh(a[:, ::-1] * 1.5).astype("float32")


def dataset(kind, batch=4, n=8):
    data = arrays(kind, n)
    ds = tf.data.Dataset.from_tensor_slices(data if len(data) > 1 else data[0])
    return ds.batch(batch, drop_remainder=True)


def weights(m):
    return [np.asarray(v.value) for v in m.generator_variables + m.discriminator_variables]


def synthetic_inception_graph(path, depth=8):
    """A small frozen graph with the 2015 Inception graph's tensor names and shape contract:
    a batch-1 `ExpandDims` of one decoded image, a resize to 299, a scaling, and `pool_3`
    [1, 1, 1, D] after a convolution, written to `path` (a local or gs:// path). Returns a
    numpy function computing the same thing."""
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
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())

    def reference(pixels):
        x = tf.compat.v1.image.resize_bilinear(tf.constant(pixels, tf.float32), [299, 299])
        x = tf.nn.relu(tf.nn.conv2d((x - 128.0) / 128.0, kernel, 2, "VALID"))
        return tf.reduce_mean(x, axis=[1, 2]).numpy()

    return reference
