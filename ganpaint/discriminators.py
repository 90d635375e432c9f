"""Discriminators: DCGAN (optionally conditional or with a class head) and PatchGAN.

They output logits (no sigmoid), in float32 under mixed precision; the losses decide.
`spectral_norm=True` normalizes every convolution and dense layer (`ganpaint.layers.
SpectralConv2D`, `SpectralDense`), as SN-GAN, SAGAN and BigGAN do.
"""

from __future__ import annotations

import warnings

import keras
from keras import layers

from ganpaint.generators import check_image_shape, check_num_classes, gan_init, label_map_input
from ganpaint.layers import SpectralConv2D, SpectralDense, conv_block

CONDITIONINGS = ("label_map", "projection")


def _dense(units, spectral_norm, **kwargs):
    return (SpectralDense if spectral_norm else layers.Dense)(units, **kwargs)


# PatchGAN receptive field -> number of stride-2 layers (pix2pix appendix 6.1.2).
_PATCHGAN_LAYERS = {16: 1, 70: 3, 286: 5}


def dcgan_discriminator(
    image_shape: tuple[int, int, int] = (64, 64, 3),
    num_classes: int | None = None,
    aux_classifier: bool = False,
    *,
    base_filters: int = 64,
    max_filters: int = 512,
    embedding_dim: int = 50,
    norm: str | None = "auto",
    dropout: float = 0.0,
    spectral_norm: bool | None = None,
    conditioning: str | None = None,
    name: str = "dcgan_discriminator",
) -> keras.Model:
    """The DCGAN discriminator: stride-2 4x4 convs with LeakyReLU(0.2) down to 4x4 or less,
    then one real/fake logit.

    Args:
        image_shape: (height, width, channels).
        num_classes: int. With `aux_classifier=False` the model takes `[images, labels]`
            (conditional GAN), conditioned as `conditioning` says. With
            `aux_classifier=True` it takes images only and returns `[logit, class_logits]`
            (the AC-GAN discriminator, or the MNIST one that also classifies digits).
        aux_classifier: bool. Add the class-logits head.
        base_filters, max_filters: widths of the first layer and the cap (doubling per layer).
        norm: "batch" (DCGAN; never on the first layer), "instance", None, or "auto" (the
            default): None with spectral norm (SNGAN's discriminator), "batch" otherwise.
        dropout: float. Dropout after each block (the keras-io GAN examples use 0.3-0.4).
        spectral_norm: bool. Spectrally normalize every conv and dense layer. Defaults to
            True for the projection discriminator (SNGAN-projection), False otherwise.
        conditioning: how labels enter a conditional discriminator. Defaults to
            "projection" (with spectral norm and no batch norm: the setting that learned
            labels fastest in the conditional digits benchmark; README "Defaults");
            `conditioning="label_map"` gives the seed notebooks' DCGAN form:
            - "label_map": the label is embedded, projected to an image-sized map and
              concatenated as an extra input channel (the seed notebooks' form);
            - "projection": the projection discriminator (Miyato & Koyama 2018): logit =
              psi(phi(x)) + <embed(y), phi(x)>, phi the flattened features. It learns labels
              far faster than a label map.

    Example:
    >>> d = dcgan_discriminator((28, 28, 1), num_classes=10, aux_classifier=True)
    >>> [o.shape for o in d(keras.ops.zeros((2, 28, 28, 1)))]
    [(2, 1), (2, 10)]
    """
    image_shape = check_image_shape(image_shape)
    if aux_classifier and num_classes is None:
        raise ValueError("`aux_classifier=True` needs `num_classes`.")
    conditioning = conditioning or "projection"
    if conditioning not in CONDITIONINGS:
        raise ValueError(
            f"`conditioning` must be one of {CONDITIONINGS}. "
            f"Received: conditioning={conditioning!r}"
        )
    image = keras.Input(image_shape, name="image")
    inputs, x = [image], image
    conditional = num_classes is not None and not aux_classifier
    if spectral_norm is None:
        spectral_norm = conditional and conditioning == "projection"
    if norm == "auto":
        norm = None if spectral_norm else "batch"
    if conditional and conditioning == "label_map":
        label_map = label_map_input(num_classes, embedding_dim, image_shape[:2], inputs)
        x = layers.Concatenate(name="with_label")([x, label_map])
    size, i, width = min(image_shape[:2]), 0, base_filters
    while size > 4 or i == 0:
        x = conv_block(
            x,
            min(width, max_filters),
            4,
            2,
            norm=None if i == 0 else norm,
            act="leaky_relu",
            dropout=dropout,
            kernel_initializer=gan_init(),
            spectral_norm=spectral_norm,
            name=f"down{i + 1}",
        )
        size, i, width = -(-size // 2), i + 1, width * 2
    features = layers.Flatten(name="features")(x)
    logit = _dense(1, spectral_norm, dtype="float32", kernel_initializer=gan_init(), name="logit")(
        features
    )
    if conditional and conditioning == "projection":
        label = keras.Input((1,), dtype="int32", name="label")
        inputs.append(label)
        check_num_classes(num_classes)
        # Glorot-uniform, as the authors' code: N(0, 0.02) made labels far slower to learn.
        embedded = layers.Embedding(
            num_classes,
            features.shape[-1],
            embeddings_initializer="glorot_uniform",
            name="label_embedding",
        )(label)
        embedded = layers.Flatten(name="label_flat")(embedded)
        projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
        logit = layers.Add(dtype="float32", name="logit_with_projection")([logit, projection])
    if not aux_classifier:
        return keras.Model(inputs if len(inputs) > 1 else image, logit, name=name)
    classes = _dense(num_classes, spectral_norm, dtype="float32", name="class_logits")(features)
    return keras.Model(image, [logit, classes], name=name)


def _warn_if_patch_exceeds_image(image_shape, receptive_field) -> None:
    """A PatchGAN whose patches are larger than the image judges whole images, mostly zero
    padding, from a few logits: at 32 px the monet recipe's U-Nets with the 70 px PatchGAN
    learned nothing in 600 steps (noise out), and with the 16 px one they did
    (docs/defaults.md, "The recipes' own networks")."""
    side = min(image_shape[:2])
    if receptive_field <= side:
        return
    smaller = max(r for r in (1, *_PATCHGAN_LAYERS) if r <= side)
    warnings.warn(
        f"patchgan_discriminator: a receptive field of {receptive_field} px is larger than "
        f"the {image_shape[0]}x{image_shape[1]} images, so each logit judges the whole image, "
        f"mostly padding, and training may not start; pass receptive_field={smaller} (a "
        f"recipe's networks.receptive_field={smaller}) for images this small.",
        UserWarning,
        stacklevel=2,
    )


def patchgan_discriminator(
    image_shape: tuple[int, int, int] = (256, 256, 3),
    receptive_field: int = 70,
    conditional: bool = False,
    *,
    filters: int = 64,
    norm: str | None = "instance",
    affine_norm: bool = False,
    spectral_norm: bool = False,
    name: str | None = None,
) -> keras.Model:
    """The PatchGAN discriminator of pix2pix and CycleGAN: a map of real/fake logits, one per
    overlapping patch of `receptive_field` pixels.

    C64-C128-C256-C512 (4x4 convs, LeakyReLU 0.2, no norm on C64), the last two with stride 1,
    then a 1-channel 4x4 conv; 16 drops to C64-C128 and 286 adds two C512, as in the pix2pix
    paper's appendix. 1 is the PixelGAN (1x1 convs). With 3 input channels the 70x70 model has
    the reference's 2,764,737 parameters.

    Args:
        image_shape: (height, width, channels).
        receptive_field: 1, 16, 70 or 286.
        conditional: bool. Take `[input, target]` and judge them concatenated (pix2pix).
        filters: int. Width of the first layer.
        norm: "instance" (CycleGAN), "batch" (pix2pix) or None.
        affine_norm: bool. Learn gamma/beta in the norm layers. Defaults to False, as the
            reference code's InstanceNorm2d.
        spectral_norm: bool. Spectrally normalize every convolution.
    """
    image_shape = check_image_shape(image_shape)
    if receptive_field not in (1, *_PATCHGAN_LAYERS):
        raise ValueError(
            f"`receptive_field` must be 1, 16, 70 or 286. "
            f"Received: receptive_field={receptive_field!r}"
        )
    _warn_if_patch_exceeds_image(image_shape, receptive_field)
    name = name or f"patchgan{receptive_field}_discriminator"
    target = keras.Input(image_shape, name="target" if conditional else "image")
    if conditional:
        source = keras.Input(image_shape, name="input")
        inputs = [source, target]
        x = layers.Concatenate(name="input_target")([source, target])
    else:
        inputs, x = target, target
    block = dict(
        kernel_initializer=gan_init(),
        act="leaky_relu",
        affine=affine_norm,
        spectral_norm=spectral_norm,
    )
    conv = SpectralConv2D if spectral_norm else layers.Conv2D

    if receptive_field == 1:
        x = conv_block(x, filters, 1, norm=None, name="pixel1", **block)
        x = conv_block(x, filters * 2, 1, norm=norm, name="pixel2", **block)
        logits = conv(1, 1, dtype="float32", kernel_initializer=gan_init(), name="logits")(x)
        return keras.Model(inputs, logits, name=name)

    n_layers = _PATCHGAN_LAYERS[receptive_field]
    # Padding 1 on every 4x4 conv, as the reference, keeps the paper's receptive fields and
    # gives 30x30 logits for 256 px at 70x70.
    pad = lambda y, i: layers.ZeroPadding2D(1, name=f"pad{i}")(y)
    x = conv_block(pad(x, 1), filters, 4, 2, padding="valid", norm=None, name="down1", **block)
    for i in range(1, n_layers):
        x = conv_block(
            pad(x, i + 1),
            filters * min(2**i, 8),
            4,
            2,
            padding="valid",
            norm=norm,
            name=f"down{i + 1}",
            **block,
        )
    x = conv_block(
        pad(x, n_layers + 1),
        filters * min(2**n_layers, 8),
        4,
        1,
        padding="valid",
        norm=norm,
        name=f"down{n_layers + 1}",
        **block,
    )
    logits = conv(
        1, 4, padding="valid", dtype="float32", kernel_initializer=gan_init(), name="logits"
    )(pad(x, n_layers + 2))
    return keras.Model(inputs, logits, name=name)
