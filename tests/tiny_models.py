"""Tiny networks and data for the training tests: every model of `ganpaint.gans` at 16 px.

`norm=None`/"instance" and no dropout keep a batch's examples independent, so a step split over
replicas can match a single-device step exactly.
"""

import numpy as np
import tensorflow as tf

from ganpaint import discriminators as D
from ganpaint import gans
from ganpaint import generators as G

SIZE, LATENT, CLASSES = 16, 8, 3


def networks(kind, norm=None, dropout=0.0):
    """Fresh networks of one model kind, with weights from a fixed seed; `dropout` in the
    networks that take it (the GANs' discriminators, pix2pix's U-Net)."""
    import keras

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
