"""Layers the GAN networks share: instance norm, reflection padding, and conv blocks.

Custom layers keep every constructor argument in `get_config` and are registered under the
"ganpaint" package, so every model built from them round-trips through `.keras` files.
"""

from __future__ import annotations

import keras
from keras import layers

_PACKAGE = "ganpaint"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class InstanceNormalization(layers.GroupNormalization):
    """Instance normalization: each channel of each example normalized over its pixels.

    A drop-in for `tensorflow_addons.layers.InstanceNormalization` (end-of-life, not Keras 3
    compatible), built on `keras.layers.GroupNormalization(groups=-1)`: one group per channel.

    Args:
        epsilon: float. Added to the variance. Defaults to 1e-5 (PyTorch's InstanceNorm2d and
            the CycleGAN/pix2pix reference code).
        center: bool. Learn an offset (beta). Defaults to True.
        scale: bool. Learn a gain (gamma). Defaults to True.
        beta_initializer, gamma_initializer, *_regularizer, *_constraint: as Keras layers.
        axis: int. Channel axis. Defaults to -1.

    Example:
    >>> x = keras.random.normal((2, 8, 8, 4))
    >>> InstanceNormalization()(x).shape
    (2, 8, 8, 4)
    """

    def __init__(self, epsilon: float = 1e-5, center: bool = True, scale: bool = True,
                 axis: int = -1, **kwargs):
        kwargs.pop("groups", None)  # always one group per channel
        super().__init__(groups=-1, axis=axis, epsilon=epsilon, center=center, scale=scale,
                         **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ReflectionPadding2D(layers.Layer):
    """Pads height and width by mirroring the border (no border artefacts, as CycleGAN uses).

    Args:
        padding: int or (pad_height, pad_width). Pixels added on each side.
    """

    def __init__(self, padding: int | tuple[int, int] = 1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (padding, padding)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 or min(padding) < 0:
            raise ValueError(f"`padding` must be a non-negative int or a pair of them. "
                             f"Received: padding={padding!r}")
        self.padding = padding

    def call(self, inputs):
        ph, pw = self.padding
        return keras.ops.pad(inputs, [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        ph, pw = self.padding
        return (n, None if h is None else h + 2 * ph, None if w is None else w + 2 * pw, c)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def normalization(norm: str | None, name: str | None = None, affine: bool = True):
    """A normalization layer by name: "instance", "batch", or None (identity)."""
    if norm == "instance":
        return InstanceNormalization(center=affine, scale=affine, name=name)
    if norm == "batch":
        return layers.BatchNormalization(center=affine, scale=affine, name=name)
    if norm in (None, "none"):
        return layers.Identity(name=name)
    raise ValueError(f"`norm` must be 'instance', 'batch' or None. Received: norm={norm!r}")


def activation(name: str | None, layer_name: str | None = None):
    """An activation layer by name: "relu", "leaky_relu" (slope 0.2, as DCGAN and PatchGAN use),
    "tanh", or None."""
    if name == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=layer_name)
    if name in (None, "linear"):
        return layers.Identity(name=layer_name)
    return layers.Activation(name, name=layer_name)


def conv_block(x, filters: int, kernel_size: int = 3, strides: int = 1, *, norm="instance",
               act="relu", transpose: bool = False, padding: str = "same",
               use_bias: bool | None = None, dropout: float = 0.0, affine: bool = True,
               kernel_initializer="glorot_uniform", name: str):
    """Conv (or transposed conv) -> norm -> dropout -> activation, named `name_*`.

    `use_bias` defaults to False before batch norm (whose shift makes the bias redundant) and
    True otherwise, as the pix2pix/CycleGAN reference code does.
    """
    if use_bias is None:
        use_bias = norm != "batch"
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
             kernel_initializer=kernel_initializer, name=f"{name}_conv")(x)
    x = normalization(norm, name=f"{name}_norm", affine=affine)(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return activation(act, f"{name}_act")(x)
