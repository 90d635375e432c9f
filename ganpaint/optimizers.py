"""Optimizers: Adam with a fused update kernel, the models' default.

Keras 3's Adam updates each variable with about a dozen separate element-wise ops (subtract,
multiply, square, sqrt, divide, three assigns), each a full pass over the variable and its two
slots. GAN generators are large and are often trained at batch 1 (CycleGAN, pix2pix), so
those passes are a large share of a step: a trace of the TF tutorial's CycleGAN step at
128 px (`benchmarks/op_profile.py`) spends 8-15 % of its op time in the optimizer (the larger
share under mixed bfloat16, where the convolutions shrink and the update does not).
`FusedAdam` does the same arithmetic in TensorFlow's single `ResourceApplyAdam` kernel per
variable (the kernel `tf.compat.v1.train.AdamOptimizer` used), which has CPU, GPU and XLA/TPU
implementations and works inside `tf.distribute` update contexts.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_PACKAGE = "ganpaint"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with each variable's update done by one fused kernel.

    Same arguments, same update rule, same variables (so checkpoints are interchangeable with
    `keras.optimizers.Adam`): m ← β1·m + (1-β1)·g, v ← β2·v + (1-β2)·g²,
    θ ← θ - lr·√(1-β2ᵗ)/(1-β1ᵗ) · m/(√v + ε). AMSGrad and sparse (`IndexedSlices`) gradients,
    e.g. an `Embedding`'s, take Keras' own update.

    Example:
    >>> optimizer = FusedAdam(learning_rate=2e-4, beta_1=0.5)
    """

    def update_step(self, gradient, variable, learning_rate):
        if (
            self.amsgrad
            or isinstance(gradient, tf.IndexedSlices)
            or not hasattr(variable, "handle")
        ):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=_handle(m),
            v=_handle(v),
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )


def _handle(variable):
    """The resource handle of a Keras variable (its `tf.Variable`, or under a strategy the
    component of the replica being updated)."""
    return getattr(variable, "value", variable).handle
