"""An exponential moving average of a generator's weights (Karras et al.; BigGAN; StyleGAN2).

The average of the last few thousand generators samples better than the last generator: the
oscillation of adversarial training averages out. With a fixed decay of 0.999 the random
initial weights keep a 0.999^t share (13.5 % after 2,000 steps), so the decay ramps up as
StyleGAN2-ADA's `ema_rampup` does: the EMA's half-life is `rampup` times the steps so far,
capped at the half-life of `decay`.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


def clone_network(net: keras.Model) -> keras.Model:
    """A copy of `net` with its own variables, holding the same values (trainable weights and
    batch-norm statistics alike)."""
    clone = keras.models.clone_model(net)
    clone.set_weights(net.get_weights())
    clone.trainable = False
    return clone


def check_ema(decay, rampup):
    """Validate `ema` (None or in (0, 1)) and `ema_rampup` (None or > 0)."""
    if decay is not None and (
        isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 < decay < 1.0
    ):
        raise ValueError(
            f"`ema` must be None or a decay in (0, 1), e.g. 0.999. Received: ema={decay!r}"
        )
    if rampup is not None and (
        isinstance(rampup, bool) or not isinstance(rampup, (int, float)) or rampup <= 0
    ):
        raise ValueError(
            f"`ema_rampup` must be None or a number > 0 (StyleGAN2: 0.05). "
            f"Received: ema_rampup={rampup!r}"
        )


def ema_decay(step, decay: float, rampup: float | None):
    """The decay used at generator update `step` (0 for the first update, which copies).

    Without ramp-up it is `decay`. With it, the half-life in steps is
    min(ln 0.5 / ln decay, rampup * step), and the decay 0.5 ** (1 / half-life).
    """
    if rampup is None:
        return tf.constant(decay, tf.float32)
    half_life = math.log(0.5) / math.log(decay)
    steps = tf.cast(step, tf.float32)
    ramped = tf.minimum(tf.constant(half_life, tf.float32), rampup * steps)
    return tf.where(ramped > 0, tf.pow(0.5, 1.0 / tf.maximum(ramped, 1e-8)), 0.0)


def update_ema(average: keras.Model, source: keras.Model, beta):
    """average <- beta * average + (1 - beta) * source, for every variable of the networks
    (integer variables, e.g. a seed state, are copied).

    On one replica the floating-point variables are updated in one XLA-compiled pass,
    average -= (1 - beta) * (average - source), which XLA fuses into one loop per variable
    (read both, write the average) in place of the half-dozen element-wise kernels of
    `blend_ema`, each a pass over the variable (`benchmarks/step_cost.py` measures it);
    inside an XLA-compiled step it is inlined. With more than one replica (`MirroredStrategy`,
    TPUs) it is `blend_ema`, each replica assigning through the strategy's variable: an
    in-place update there would be summed over the replicas.
    """
    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        return blend_ema(average, source, beta)
    floats = []
    for avg, var in zip(average.weights, source.weights):
        if "int" in str(avg.dtype):
            avg.assign(var.value)
        else:
            floats.append((_tf_variable(avg), _tf_variable(var)))
    if floats:
        _ema_pass([a for a, _ in floats], [v for _, v in floats], tf.cast(beta, tf.float32))


def blend_ema(average: keras.Model, source: keras.Model, beta):
    """`update_ema` as element-wise kernels and an assign per variable: the form for several
    replicas, and the one the one-pass update is measured against."""
    beta = tf.cast(beta, tf.float32)
    for avg, var in zip(average.weights, source.weights):
        if "int" in str(avg.dtype):
            avg.assign(var.value)
            continue
        new = beta * tf.cast(avg.value, tf.float32) + (1.0 - beta) * tf.cast(var.value, tf.float32)
        avg.assign(tf.cast(new, avg.dtype))


def _tf_variable(variable):
    return getattr(variable, "value", variable)


@tf.function(jit_compile=True)
def _ema_pass(averages, sources, beta):
    for avg, src in zip(averages, sources):
        delta = (1.0 - beta) * (tf.cast(avg, tf.float32) - tf.cast(src, tf.float32))
        avg.assign_sub(tf.cast(delta, avg.dtype))
