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


def recipe(kind, norm=None, dropout=0.0):
    """The recipe of `networks(kind)`: what a user's recipe says to get these networks from
    the family's one network factory (`ganpaint.families`)."""
    from ganpaint.recipe_presets import Recipe

    common = dict(name=f"tiny_{kind}", summary="ganpaint.testing", model=kind, image_size=SIZE)
    if kind in ("gan", "cgan", "acgan"):
        labelled = kind != "gan"
        embedding = {"embedding_dim": 4} if labelled else {}
        return Recipe(
            **common,
            channels=1,
            num_classes=CLASSES if labelled else None,
            latent_dim=LATENT,
            base_filters=8,
            norm=norm,
            d_norm="same",
            dropout=dropout,
            generator_options=embedding,
            discriminator_options={} if kind == "acgan" else embedding,
        )
    if kind == "cyclegan":
        # Plain outputs: a residual generator starts as the identity, where the cycle losses'
        # L1 has no gradient, and these tests follow gradients through every term.
        return Recipe(
            **common,
            generator="resnet",
            base_filters=4,
            norm="instance",
            receptive_field=16,
            generator_options={"n_blocks": 1, "residual": False},
        )
    if kind == "pix2pix":
        return Recipe(
            **common,
            generator="unet",
            base_filters=4,
            norm="instance",
            dropout=dropout,
            receptive_field=16,
        )
    raise ValueError(kind)


def networks(kind, norm=None, dropout=0.0):
    """Fresh networks of one model kind, with weights from a fixed seed, in the order the
    model takes them; `dropout` in the networks that take it (the GANs' discriminators,
    pix2pix's U-Net). Built by the family's network factory from `recipe(kind)`."""
    import keras

    from ganpaint import families

    keras.utils.set_random_seed(7)
    built = families.family(kind).networks(recipe(kind, norm, dropout))
    return list(built.values())


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
