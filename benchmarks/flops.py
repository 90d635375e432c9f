"""Forward FLOPs of a Keras model, counted from its layers (multiply-adds count as 2).

Convolutions, transposed convolutions, depthwise convolutions and dense layers, which hold
nearly all the work of GAN networks; normalization, activations and adds are left out (they
are memory-bound, and a few percent of the arithmetic).
"""

from __future__ import annotations

import math

import keras


def _spatial(shape):
    return math.prod(d for d in shape[1:-1])


def layer_flops(layer) -> int:
    if isinstance(layer, keras.Model):
        return forward_flops(layer)
    try:
        out_shape = layer.output.shape
        in_shape = layer.input.shape
    except (AttributeError, ValueError):
        return 0
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        k = math.prod(layer.kernel_size)
        return 2 * _spatial(out_shape) * out_shape[-1] * k
    if isinstance(layer, keras.layers.Conv2DTranspose):
        k = math.prod(layer.kernel_size)
        return 2 * _spatial(in_shape) * in_shape[-1] * layer.filters * k
    if isinstance(layer, keras.layers.Conv2D):
        k = math.prod(layer.kernel_size)
        return 2 * _spatial(out_shape) * in_shape[-1] * layer.filters * k // layer.groups
    if isinstance(layer, keras.layers.Dense):
        rows = math.prod(d for d in in_shape[1:-1]) if len(in_shape) > 2 else 1
        return 2 * rows * in_shape[-1] * layer.units
    return 0


def forward_flops(model: keras.Model) -> int:
    """FLOPs of one forward pass for one example."""
    return sum(layer_flops(layer) for layer in model.layers)
