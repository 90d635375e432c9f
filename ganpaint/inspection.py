"""Looking inside networks: receptive fields (and, later, intermediate feature maps)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

_NORM_LAYERS = (keras.layers.BatchNormalization, keras.layers.GroupNormalization,
                keras.layers.LayerNormalization, keras.layers.Dropout)


def receptive_field(model: keras.Model, input_size: int | None = None) -> int:
    """Measures a discriminator's receptive field, in pixels, from its gradients.

    Takes the gradient of one output logit (the centre of the output map) with respect to the
    input, on a copy of the model with normalization and dropout removed and every weight set
    to a positive constant, on a constant input, so no path can cancel out; the receptive field is the extent of the
    non-zero gradient. Works on any fully convolutional model with one image input (for a
    conditional model, the first input).

    Args:
        model: a Keras model whose output is a spatial map `[B, H', W', C]`.
        input_size: int. Square input side to probe with. Defaults to the model's own input
            size, or 512 when that is not fixed.

    Example:
    >>> receptive_field(patchgan_discriminator((256, 256, 3), receptive_field=70))
    70
    """
    def without_norm(layer):
        # Normalization pools statistics over the whole image, which would make every field
        # global; the receptive field is a property of the convolution geometry.
        if isinstance(layer, _NORM_LAYERS):
            return keras.layers.Identity(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    probe = keras.models.clone_model(model, clone_function=without_norm)
    for weight in probe.weights:
        weight.assign(np.full(weight.shape, 0.01, dtype="float32"))
    inputs = probe.inputs
    shapes = [tuple(i.shape[1:]) for i in inputs]
    size = input_size or shapes[0][0] or 512
    xs = [tf.ones((1, size, size, s[-1])) for s in shapes]
    with tf.GradientTape() as tape:
        tape.watch(xs[0])
        out = probe(xs if len(xs) > 1 else xs[0], training=False)
        out = out[0] if isinstance(out, (list, tuple)) else out
        if len(out.shape) != 4:
            raise ValueError(f"`model` must output a spatial map [B, H, W, C]; its output has "
                             f"shape {out.shape}")
        h, w = out.shape[1] // 2, out.shape[2] // 2
        target = tf.reduce_sum(out[0, h, w])
    grad = tape.gradient(target, xs[0])
    nonzero = np.argwhere(np.abs(grad.numpy()[0]).sum(-1) > 0)
    if len(nonzero) == 0:
        raise ValueError("No input pixel reaches the output; is the model fully convolutional?")
    rows = nonzero[:, 0].max() - nonzero[:, 0].min() + 1
    cols = nonzero[:, 1].max() - nonzero[:, 1].min() + 1
    if rows >= size or cols >= size:
        raise ValueError(f"The receptive field fills the whole {size}x{size} probe; pass a "
                         "larger `input_size`.")
    return int(max(rows, cols))
