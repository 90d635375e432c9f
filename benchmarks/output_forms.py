"""Candidate outputs for the ResNet generator, searched on the known-answer tasks (issue 38).

Issue 25's `resnet_generator` started as the identity (`ResidualTanh`: tanh(delta +
atanh(image)), delta's convolution at zero; now `input_skip=False`). That wins near identity
and holds the generator at the photo far from it. The candidates keep the network's body and
replace its output (the "residual skip" won, and is now the builder's default:
docs/defaults.md, "The generator's output, near identity and far from it"):

- "gate": tanh(delta + g * atanh(image)), g per channel, learned, starting at 1 (g = 1 +
  `GATE_RATE` * w, so Adam moves it `GATE_RATE` times faster than a weight);
- "fade": tanh(delta + b * atanh(image)), b falling linearly from 1 to 0 over the first
  `fade_steps` steps (`Fade`, a callback): an identity start that lets go;
- "skip": the paper's tanh output, its last convolution also seeing the input image: no
  identity start, but the identity is one linear map away;
- "residual skip", "gated skip": the identity start (fixed, or with the gate), its last
  convolution (at zero) also seeing the input image, so that a change of colours that is
  linear in the input (a channel mix, a hue rotation) is one linear map away.
- "blend" (issue 38's fourth round): a per-pixel blend of the image and a new picture,
  image + m * (content - image), as AttentionGAN's and GANimation's attention masks: content
  is the "skip" output (tanh, its convolution seeing the input image), m = sigmoid(mask), the
  mask's convolution at zero with a bias of `generators.BLEND_START` (m = 0.047: close to an
  identity start), and `ganpaint.layers.BlendOutput`, now the builder's default. Where the
  target is far from the photo, m -> 1 hands the pixel to a plain output, which reaches any
  value without the residual's atanh (a dark pixel at -0.95 is 1.8 from the origin in atanh's
  space, and lifting it to -0.5 asks delta for +1.3).
- "blend, open", "blend, plain content" (issue 38's seventh round, candidates for the far,
  posterizing task the blend loses at 64 px and 2,400 steps): the mask starting half open
  (`OPEN_START`), or the new picture's convolution without the input image, so that the
  photo's detail has no linear path into it.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ganpaint.generators import BLEND_START
from ganpaint.layers import BlendOutput, clipped_atanh

GATE_RATE = 10.0
OPEN_START = 0.0  # "blend, open": the mask's first logit, sigmoid(0) = 0.5 of the new picture


class GatedResidualTanh(layers.Layer):
    def build(self, input_shapes):
        self.w = self.add_weight(
            shape=(input_shapes[1][-1],), initializer="zeros", name="gate", dtype="float32"
        )

    def call(self, inputs):
        delta, image = inputs
        gate = 1.0 + GATE_RATE * self.w
        return ops.tanh(ops.cast(delta, "float32") + gate * clipped_atanh(image))

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


class FadingResidualTanh(layers.Layer):
    def build(self, input_shapes):
        self.blend = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="blend", dtype="float32"
        )

    def call(self, inputs):
        delta, image = inputs
        return ops.tanh(ops.cast(delta, "float32") + self.blend * clipped_atanh(image))

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


class Fade(keras.callbacks.Callback):
    """Sets every `FadingResidualTanh`'s blend to max(0, 1 - step / `steps`) before each
    step, counting steps across `fit` calls."""

    def __init__(self, generators, steps):
        super().__init__()
        self.layers = [
            layer for g in generators for layer in g.layers if isinstance(layer, FadingResidualTanh)
        ]
        self.steps, self.done = steps, 0

    def on_train_batch_begin(self, batch, logs=None):
        blend = max(0.0, 1.0 - self.done / self.steps)
        for layer in self.layers:
            layer.blend.assign(blend)
        self.done += 1


def with_output(generator, form, content_gradient="masked"):
    """`generator` (a `resnet_generator`) with its output replaced by `form` ("gate", "fade",
    "skip", "residual skip", "gated skip", "blend", "blend, open", "blend, plain content");
    the body's weights are shared. `content_gradient`: the blends' (`BlendOutput`'s)."""
    from ganpaint.generators import gan_init
    from ganpaint.layers import ReflectionPadding2D, ResidualTanh

    inputs = generator.input
    x = generator.get_layer("out_pad").output
    channels = inputs.shape[-1]
    if form.endswith("skip"):  # the last convolution also sees the input image
        image = ReflectionPadding2D(3, name="skip_pad")(inputs)
        x = layers.Concatenate(name="skip")([x, image])
    if form.startswith("blend"):
        image = ReflectionPadding2D(3, name="skip_pad")(inputs)
        both = layers.Concatenate(name="skip")([x, image])
        seen = x if form == "blend, plain content" else both
        y = layers.Conv2D(channels, 7, kernel_initializer=gan_init(), name="content_conv")(seen)
        content = layers.Activation("tanh", dtype="float32", name="content")(y)
        mask = layers.Conv2D(
            1,
            7,
            kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(
                OPEN_START if form == "blend, open" else BLEND_START
            ),
            name="mask_conv",
        )(both)
        out = BlendOutput(content_gradient, name="blend_output")([mask, content, inputs])
    elif form == "skip":
        y = layers.Conv2D(channels, 7, kernel_initializer=gan_init(), name="skip_conv")(x)
        out = layers.Activation("tanh", dtype="float32", name="skip_output")(y)
    elif form in ("residual skip", "gated skip"):
        delta = layers.Conv2D(channels, 7, kernel_initializer="zeros", name="skip_conv")(x)
        head = GatedResidualTanh if form == "gated skip" else ResidualTanh
        out = head(dtype="float32", name="skip_output")([delta, inputs])
    else:
        delta = layers.Conv2D(channels, 7, kernel_initializer="zeros", name=f"{form}_conv")(x)
        head = {"gate": GatedResidualTanh, "fade": FadingResidualTanh}[form]
        out = head(dtype="float32", name=f"{form}_output")([delta, inputs])
    return keras.Model(inputs, out, name=generator.name)
