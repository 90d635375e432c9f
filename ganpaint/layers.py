"""Layers the GAN networks share: instance norm, reflection padding, spectral norm,
class-conditional normalization, dropout, and conv blocks.

Custom layers keep every constructor argument in `get_config` and are registered under the
"ganpaint" package, so every model built from them round-trips through `.keras` files.
"""

from __future__ import annotations

import math
import types

import keras
import tensorflow as tf
from keras import layers

_PACKAGE = "ganpaint"

# The generator every random draw inside a train step names. TensorFlow's "auto_select" leaves
# it to the device: its own CPU and GPU kernels pick Philox (so naming it changes no draw of
# an uncompiled step), but a step compiled with XLA gets XLA's default generator, which on the
# CPU measured about 40x slower (a 64x16x16x64 dropout mask: 295 ms against 7 ms). Compiled
# and uncompiled steps still draw different numbers: XLA's Philox lays out its output
# differently from TensorFlow's kernels (only seed splits agree).
RNG_ALG = "philox"


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

    def __init__(
        self,
        epsilon: float = 1e-5,
        center: bool = True,
        scale: bool = True,
        axis: int = -1,
        **kwargs,
    ):
        kwargs.pop("groups", None)  # always one group per channel
        super().__init__(
            groups=-1, axis=axis, epsilon=epsilon, center=center, scale=scale, **kwargs
        )

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        return config


def clipped_atanh(image, margin: float = 1e-3):
    """atanh of an image in [-1, 1] (float32), clipped to +-(1 - `margin`) where atanh is
    finite: the pre-tanh value that gives the image back (`ResidualTanh`'s skip). Written
    as 0.5 * log((1 + x) / (1 - x)): TFLite has no Atanh kernel, and an exported translator
    must convert with the builtin ops alone."""
    bound = 1.0 - margin
    x = keras.ops.clip(keras.ops.cast(image, "float32"), -bound, bound)
    return 0.5 * keras.ops.log((1.0 + x) / (1.0 - x))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ResidualTanh(layers.Layer):
    """A translator's output that starts from its input: `tanh(delta + atanh(image))`.

    With `delta` = 0 it returns `image` (clipped to +-(1 - `margin`), where atanh is finite),
    so a generator whose last convolution starts at zero starts as the identity and learns
    the change from the input rather than the whole picture from noise. The output stays in
    (-1, 1) and its gradient is smooth everywhere, unlike `clip(image + delta)`.

    Called on `[delta, image]`; computes in float32.
    """

    def __init__(self, margin: float = 1e-3, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.margin = float(margin)

    def call(self, inputs):
        delta, image = inputs
        return keras.ops.tanh(keras.ops.cast(delta, "float32") + clipped_atanh(image, self.margin))

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BlendOutput(layers.Layer):
    """A translator's output that blends its input with a new picture, pixel by pixel:
    `image + sigmoid(mask) * (content - image)`, as the attention masks of GANimation
    (Pumarola et al. 2018) and AttentionGAN (Tang et al. 2019).

    Where the mask is low the output is the input; where it is high, the new picture (a tanh
    output). With the mask's convolution at zero and its bias negative the generator starts
    close to the identity, and a pixel far from its target (a shadow lifted, a colour
    replaced) moves by the mask, without the large pre-tanh change that `ResidualTanh` needs
    near -1 and 1. The output stays in [-1, 1] when `content` and `image` do.

    Called on `[mask, content, image]` (the mask one channel or one per channel); computes in
    float32.

    Args:
        content_gradient: "masked" (the default) or "full". Which gradient reaches `content`:
            "masked" is the blend's own, `sigmoid(mask)` times the output's, so while the mask
            is nearly closed the new picture learns little (trained on a far task it becomes
            a push towards saturated colours rather than a picture, docs/defaults.md);
            "full" passes it the output's gradient whole, as if it were the output, while
            the output and the mask's gradient stay as they are.
    """

    CONTENT_GRADIENTS = ("masked", "full")

    def __init__(self, content_gradient: str = "masked", **kwargs):
        if content_gradient not in self.CONTENT_GRADIENTS:
            raise ValueError(
                f"`content_gradient` must be one of {self.CONTENT_GRADIENTS}. Received: "
                f"content_gradient={content_gradient!r}"
            )
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.content_gradient = content_gradient

    def call(self, inputs):
        mask, content, image = (keras.ops.cast(t, "float32") for t in inputs)
        weight = keras.ops.sigmoid(mask)
        out = image + weight * (content - image)
        if self.content_gradient == "full":  # adds zero; its gradient tops content's up to 1
            stop = keras.ops.stop_gradient
            out = out + (1.0 - stop(weight)) * (content - stop(content))
        return out

    def get_config(self):
        return {**super().get_config(), "content_gradient": self.content_gradient}

    def compute_output_shape(self, input_shapes):
        return input_shapes[2]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Dropout(layers.Dropout):
    """`keras.layers.Dropout` with its mask drawn by Philox (`RNG_ALG`), compiled or not, and
    drawn for the whole global batch under a strategy.

    Keras draws the mask with TensorFlow's "auto_select", which under `jit_compile=True` on the
    CPU is XLA's default generator: it made the cifar10_cgan step 12x slower compiled than
    uncompiled (docs/performance.md). Uncompiled, this layer draws the same masks as Keras'
    (same arguments, seed generator and seeds).

    Under a strategy of N replicas every replica holds the same seed, so Keras' layer gives
    the i-th image of every replica the same mask. This one draws the mask of the global
    batch and each replica takes its own rows (`ganpaint.distribute.global_slice`): N
    replicas drop exactly what one device drops for the same global batch.
    """

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return keras.ops.zeros_like(inputs)
        seed = self.seed_generator.next()
        if seed.dtype != tf.int32:  # as Keras' TensorFlow backend folds its int64 state
            seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        dynamic = tf.shape(inputs)
        shape = self.noise_shape or (None,) * len(inputs.shape)
        noise_shape = tf.stack([dynamic[i] if d is None else d for i, d in enumerate(shape)])
        from ganpaint import distribute

        if distribute.num_replicas() == 1:
            return tf.nn.experimental.stateless_dropout(
                inputs,
                self.rate,
                seed,
                rng_alg=RNG_ALG,
                noise_shape=None if self.noise_shape is None else noise_shape,
            )
        # stateless_dropout's own arithmetic, on this replica's rows of the global draw.
        uniform = distribute.global_slice(
            lambda n: tf.random.stateless_uniform(
                tf.concat([[n], noise_shape[1:]], 0), seed, dtype=inputs.dtype, alg=RNG_ALG
            ),
            noise_shape[0],
        )
        keep = tf.cast(uniform >= self.rate, inputs.dtype)
        return inputs * tf.cast(1.0 / (1.0 - self.rate), inputs.dtype) * keep


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
            raise ValueError(
                f"`padding` must be a non-negative int or a pair of them. "
                f"Received: padding={padding!r}"
            )
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


class _SpectralNorm:
    """Spectral normalization (Miyato et al. 2018) as a reparameterisation: the layer computes
    with W / sigma(W), sigma estimated by one power iteration per training call from a
    persistent vector u, so the gradient flows through sigma as in the paper, PyTorch's
    `spectral_norm` and TF-GAN.

    Keras' own `keras.layers.SpectralNormalization` instead *assigns* W / sigma into the
    kernel in every training call: the gradient then skips sigma (tensorflow/addons#1244),
    the stored weights are rewritten by the forward pass, and a replica-context assignment of
    a trainable variable is what `tf.distribute` forbids. Only u is state here.
    """

    def __init__(self, *args, power_iterations: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(power_iterations, int) or power_iterations < 1:
            raise ValueError(
                f"`power_iterations` must be an int >= 1. "
                f"Received: power_iterations={power_iterations!r}"
            )
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel.shape[-1]),
            name="vector_u",
            trainable=False,
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            aggregation="only_first_replica",
        )

    def normalized_kernel(self, training=False):
        """W / sigma(W) in float32; a training call also advances u."""
        kernel = keras.ops.cast(self.kernel.value, "float32")
        w = keras.ops.reshape(kernel, (-1, kernel.shape[-1]))
        u = keras.ops.cast(self.vector_u.value, "float32")
        for _ in range(self.power_iterations):
            v = _l2_normalize(keras.ops.matmul(u, keras.ops.transpose(w)))
            u = _l2_normalize(keras.ops.matmul(v, w))
        u, v = keras.ops.stop_gradient(u), keras.ops.stop_gradient(v)
        sigma = keras.ops.sum(keras.ops.matmul(v, w) * u)
        if training:
            self.vector_u.assign(u)
        return kernel / sigma

    # Conv2D and Dense save only kernel and bias; the generic Layer methods keep u as well.
    def save_own_variables(self, store):
        layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        layers.Layer.load_own_variables(self, store)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _l2_normalize(x):
    return x / keras.ops.sqrt(keras.ops.sum(keras.ops.square(x)) + 1e-12)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpectralConv2D(_SpectralNorm, layers.Conv2D):
    """`keras.layers.Conv2D` with a spectrally normalized kernel (`_SpectralNorm`).

    Example:
    >>> SpectralConv2D(8, 3, padding="same")(keras.ops.zeros((2, 16, 16, 3))).shape
    (2, 16, 16, 8)
    """

    def call(self, inputs, training=False):
        kernel = keras.ops.cast(self.normalized_kernel(training), self.compute_dtype)
        outputs = self.convolution_op(inputs, kernel)
        if self.use_bias:
            outputs = keras.ops.add(outputs, keras.ops.reshape(self.bias, (1, 1, 1, self.filters)))
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpectralDense(_SpectralNorm, layers.Dense):
    """`keras.layers.Dense` with a spectrally normalized kernel (`_SpectralNorm`)."""

    def call(self, inputs, training=False):
        kernel = keras.ops.cast(self.normalized_kernel(training), self.compute_dtype)
        outputs = keras.ops.matmul(inputs, kernel)
        if self.bias is not None:
            outputs = keras.ops.add(outputs, self.bias)
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ClassConditionalNormalization(layers.Layer):
    """Class-conditional normalization (de Vries et al. 2017; Miyato & Koyama 2018; BigGAN's
    conditional batch norm): normalize without learned parameters, then scale and shift each
    channel by a per-class gain and bias: `(1 + gamma[y]) * norm(x) + beta[y]`.

    Called on `[features, labels]` with integer labels of shape [B] or [B, 1].

    Args:
        num_classes: int. Number of classes.
        norm: "batch" (conditional batch norm, the default), "instance", or None (only the
            per-class scale and shift).
        momentum, epsilon: of the batch norm.
    """

    def __init__(
        self,
        num_classes: int,
        norm: str | None = "batch",
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}"
            )
        self.num_classes, self.norm = num_classes, norm
        self.momentum, self.epsilon = momentum, epsilon
        if norm == "batch":
            self.normalizer = layers.BatchNormalization(
                momentum=momentum, epsilon=epsilon, center=False, scale=False, name="norm"
            )
        else:
            self.normalizer = normalization(norm, name="norm", affine=False)

    def build(self, input_shape):
        feature_shape = input_shape[0]
        channels = feature_shape[-1]
        self.normalizer.build(feature_shape)
        self.gamma = self.add_weight(
            shape=(self.num_classes, channels), initializer="zeros", name="gamma"
        )
        self.beta = self.add_weight(
            shape=(self.num_classes, channels), initializer="zeros", name="beta"
        )

    def call(self, inputs, training=False):
        x, labels = inputs
        labels = keras.ops.reshape(keras.ops.cast(labels, "int32"), (-1,))
        x = self.normalizer(x, training=training)
        shape = (-1,) + (1,) * (len(x.shape) - 2) + (x.shape[-1],)
        gamma = keras.ops.reshape(keras.ops.take(self.gamma, labels, axis=0), shape)
        beta = keras.ops.reshape(keras.ops.take(self.beta, labels, axis=0), shape)
        return x * keras.ops.cast(1.0 + gamma, x.dtype) + keras.ops.cast(beta, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "norm": self.norm,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
        }


def prepare_for_replicas(*models) -> int:
    """Make every layer of `models` whose output depends on more than its own image train on
    N replicas as it does on one device (nested models, a Keras application backbone and
    class-conditional norm included); the models call this in their train step under more
    than one replica, and on one device nothing changes. Returns how many layers it set.

    - Batch norm computes its statistics over the global batch (Keras' `synchronized=True`,
      which all-reduces each replica's sums). Without it a step on N replicas normalises over
      B / N images (one image, at a per-replica batch of 1) and each replica's moving averages
      drift apart, so a saved model depends on which replica saved it.
    - Keras' `Dropout` (an EfficientNet backbone's stochastic depth, a network of your own)
      draws its mask for the global batch and takes this replica's rows, as
      `ganpaint.layers.Dropout` does; Keras' own gives every replica the same mask.
    """
    count = 0
    for model in models:
        for layer in model._flatten_layers(include_self=True, recursive=True):
            if getattr(layer, "_ganpaint_replicas", False):
                continue
            if isinstance(layer, layers.BatchNormalization):
                layer.synchronized = True
            elif isinstance(layer, layers.Dropout) and not isinstance(layer, Dropout):
                object.__setattr__(layer, "call", types.MethodType(Dropout.call, layer))
            else:
                continue
            object.__setattr__(layer, "_ganpaint_replicas", True)
            count += 1
    return count


GROUP_NORM_GROUPS = 8


def normalization(
    norm: str | None, name: str | None = None, affine: bool = True, channels: int | None = None
):
    """A normalization layer by name: "instance", "group" (8 groups, or fewer when `channels`
    is not a multiple of 8), "batch", or None (identity)."""
    if norm == "instance":
        return InstanceNormalization(center=affine, scale=affine, name=name)
    if norm == "group":
        groups = math.gcd(GROUP_NORM_GROUPS, channels) if channels else GROUP_NORM_GROUPS
        return layers.GroupNormalization(
            groups=groups, epsilon=1e-5, center=affine, scale=affine, name=name
        )
    if norm == "batch":
        return layers.BatchNormalization(center=affine, scale=affine, name=name)
    if norm in (None, "none"):
        return layers.Identity(name=name)
    raise ValueError(
        f"`norm` must be 'instance', 'group', 'batch' or None. Received: norm={norm!r}"
    )


def activation(name: str | None, layer_name: str | None = None):
    """An activation layer by name: "relu", "leaky_relu" (slope 0.2, as DCGAN and PatchGAN use),
    "tanh", or None."""
    if name == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=layer_name)
    if name in (None, "linear"):
        return layers.Identity(name=layer_name)
    return layers.Activation(name, name=layer_name)


def conv_block(
    x,
    filters: int,
    kernel_size: int = 3,
    strides: int = 1,
    *,
    norm="instance",
    act="relu",
    transpose: bool = False,
    padding: str = "same",
    use_bias: bool | None = None,
    dropout: float = 0.0,
    affine: bool = True,
    kernel_initializer="glorot_uniform",
    spectral_norm: bool = False,
    name: str,
):
    """Conv (or transposed conv) -> norm -> dropout -> activation, named `name_*`.

    `use_bias` defaults to False before batch norm (whose shift makes the bias redundant) and
    True otherwise, as the pix2pix/CycleGAN reference code does. `spectral_norm=True` uses
    `SpectralConv2D` (not for transposed convolutions).
    """
    if use_bias is None:
        use_bias = norm != "batch"
    if spectral_norm and transpose:
        raise ValueError(
            "`spectral_norm` is for (discriminator) convolutions, not transposed ones."
        )
    conv = (
        layers.Conv2DTranspose
        if transpose
        else (SpectralConv2D if spectral_norm else layers.Conv2D)
    )
    x = conv(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=use_bias,
        kernel_initializer=kernel_initializer,
        name=f"{name}_conv",
    )(x)
    x = normalization(norm, name=f"{name}_norm", affine=affine, channels=filters)(x)
    if dropout:
        x = Dropout(dropout, name=f"{name}_dropout")(x)
    return activation(act, f"{name}_act")(x)
