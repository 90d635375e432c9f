"""Adversarial losses as pure functions of discriminator logits.

Every function takes logits of any rank (a `[B, 1]` vector or a `[B, H, W, 1]` PatchGAN map)
and returns a float32 scalar: the mean over all elements. Discriminator losses are the *sum*
of the real and the fake term, as TF-GAN, the TF tutorials and the PyTorch DCGAN write them;
CycleGAN and pix2pix halve theirs in `ganpaint.gans`, as their papers do.

| name      | discriminator                                 | generator                     |
|-----------|-----------------------------------------------|-------------------------------|
| `bce`     | BCE(real, 1) + BCE(fake, 0)                    | BCE(fake, 1) (non-saturating) |
| `minimax` | same as `bce`                                  | -BCE(fake, 0) (the original)  |
| `lsgan`   | (real - 1)^2 + fake^2                          | (fake - 1)^2                  |
| `hinge`   | relu(1 - real) + relu(1 + fake)                | -fake                         |
| `wgan-gp` | fake - real (+ `gradient_penalty`, in the model) | -fake                       |
|           | R1 (`r1_penalty`, any loss): E |grad_x D(real)|^2, weighted by the model |  |
| `rsgan`   | BCE(real - fake, 1)                            | BCE(fake - real, 1)           |
| `rasgan`  | BCE(real - E fake, 1) + BCE(fake - E real, 0)  | the same with targets swapped |
| `ralsgan` | (real - E fake - 1)^2 + (fake - E real + 1)^2  | the same with signs swapped   |

`E` is the mean over the batch (per patch position for PatchGAN maps). The relativistic losses
take a `batch_mean` function so that a model under `tf.distribute` can average over the
*global* batch (`ganpaint.gans` does). The table itself is `OBJECTIVES`: each entry holds its
two functions and its properties (relativistic, penalty, can be negative, smoothable); adding a
loss is one entry there.

Label smoothing (`bce`, `minimax`, `lsgan`, `rasgan`, `ralsgan`) is given as `label_smoothing`:
- a float `s`: one-sided smoothing, real target `1 - s` (Salimans et al. 2016; 0.1 gives 0.9);
- a pair of ranges `((0.7, 1.2), (0.0, 0.3))`: each target is drawn uniformly per element from
  its range (the "soft and noisy labels" of the GAN-hacks list), which needs a `seed`.

Example:
>>> real, fake = keras.ops.array([[2.0], [1.0]]), keras.ops.array([[-1.0], [0.5]])
>>> float(bce_discriminator_loss(real, fake, label_smoothing=0.1))  # doctest: +ELLIPSIS
1.0...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import keras
from keras import ops

LabelSmoothing = Union[None, float, tuple[tuple[float, float], tuple[float, float]]]  # noqa: UP007 (a runtime alias: Python 3.10 has no None | float)


def _float(x):
    return ops.cast(x, "float32")


def _uniform(shape, low, high, seed):
    """Uniform draws from an int or SeedGenerator seed, or a stateless seed tensor of shape [2]
    (what the models pass). A seed tensor draws for the whole global batch under a strategy,
    and this replica takes its rows (`distribute.global_slice`): the same numbers as one
    device."""
    if seed is None or isinstance(seed, (int, keras.random.SeedGenerator)):
        return keras.random.uniform(shape, low, high, seed=seed)
    import tensorflow as tf

    from ganpaint import distribute
    from ganpaint.layers import RNG_ALG

    shape = tf.convert_to_tensor(shape, tf.int32)
    return distribute.global_slice(
        lambda n: tf.random.stateless_uniform(
            tf.concat([[n], shape[1:]], 0), seed, low, high, alg=RNG_ALG
        ),
        shape[0],
    )


def batch_mean(x):
    """Mean over the batch axis, kept for broadcasting: the `E` of the relativistic losses."""
    return ops.mean(x, axis=0, keepdims=True)


def bce(logits, target):
    """Mean sigmoid cross-entropy of logits against a target (a number or a tensor)."""
    logits = _float(logits)
    target = ops.broadcast_to(_float(target), ops.shape(logits))
    return ops.mean(ops.binary_crossentropy(target, logits, from_logits=True))


def _check_smoothing(label_smoothing):
    if label_smoothing is None:
        return None
    if isinstance(label_smoothing, (int, float)) and not isinstance(label_smoothing, bool):
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                "`label_smoothing` as a number must be in [0, 1). "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        return float(label_smoothing)
    try:
        (rlo, rhi), (flo, fhi) = label_smoothing
        ranges = ((float(rlo), float(rhi)), (float(flo), float(fhi)))
    except (TypeError, ValueError):
        ranges = None
    if ranges is None or rlo > rhi or flo > fhi:
        raise ValueError(
            "`label_smoothing` must be None, a float in [0, 1) or two ranges "
            "((real_low, real_high), (fake_low, fake_high)). "
            f"Received: label_smoothing={label_smoothing!r}"
        )
    return ranges


def targets(real, fake, label_smoothing: LabelSmoothing = None, seed=None):
    """The real and fake targets a discriminator loss uses, after label smoothing.

    Returns:
        (real_target, fake_target): Python floats, or float32 tensors shaped like `real` and
        `fake` when `label_smoothing` gives ranges.
    """
    smoothing = _check_smoothing(label_smoothing)
    if smoothing is None:
        return 1.0, 0.0
    if isinstance(smoothing, float):
        return 1.0 - smoothing, 0.0
    if seed is None:
        raise ValueError(
            "Random soft labels (`label_smoothing` given as ranges) need a `seed` "
            "(an int or a keras.random.SeedGenerator)."
        )
    (rlo, rhi), (flo, fhi) = smoothing
    if not isinstance(seed, (int, keras.random.SeedGenerator)):  # a stateless seed tensor
        import tensorflow as tf

        from ganpaint.layers import RNG_ALG

        seed, fake_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2, RNG_ALG))
    else:
        fake_seed = seed
    real_t = _uniform(ops.shape(real), rlo, rhi, seed)
    fake_t = _uniform(ops.shape(fake), flo, fhi, fake_seed)
    return real_t, fake_t


# -- standard (minimax / non-saturating) --------------------------------------------------


def bce_discriminator_loss(real, fake, label_smoothing: LabelSmoothing = None, seed=None):
    """BCE(real, 1) + BCE(fake, 0): the discriminator loss of the original GAN and DCGAN."""
    real_t, fake_t = targets(real, fake, label_smoothing, seed)
    return bce(real, real_t) + bce(fake, fake_t)


def bce_generator_loss(fake):
    """The non-saturating generator loss BCE(fake, 1) = mean softplus(-fake)."""
    return bce(fake, 1.0)


minimax_discriminator_loss = bce_discriminator_loss


def minimax_generator_loss(fake):
    """The original minimax generator loss -BCE(fake, 0) = -mean softplus(fake) (saturates)."""
    return -bce(fake, 0.0)


# -- least squares ------------------------------------------------------------------------


def lsgan_discriminator_loss(real, fake, label_smoothing: LabelSmoothing = None, seed=None):
    """(real - 1)^2 + fake^2, each averaged (Mao et al.; the CycleGAN code's MSELoss)."""
    real_t, fake_t = targets(real, fake, label_smoothing, seed)
    return ops.mean(ops.square(_float(real) - real_t)) + ops.mean(ops.square(_float(fake) - fake_t))


def lsgan_generator_loss(fake):
    """(fake - 1)^2, averaged."""
    return ops.mean(ops.square(_float(fake) - 1.0))


# -- hinge and Wasserstein ----------------------------------------------------------------


def hinge_discriminator_loss(real, fake):
    """relu(1 - real) + relu(1 + fake), each averaged (SAGAN, BigGAN)."""
    return ops.mean(ops.relu(1.0 - _float(real))) + ops.mean(ops.relu(1.0 + _float(fake)))


def hinge_generator_loss(fake):
    """-fake, averaged."""
    return -ops.mean(_float(fake))


def wasserstein_discriminator_loss(real, fake):
    """fake - real, averaged: the WGAN critic loss (add `gradient_penalty` for WGAN-GP)."""
    return ops.mean(_float(fake)) - ops.mean(_float(real))


def wasserstein_generator_loss(fake):
    """-fake, averaged."""
    return -ops.mean(_float(fake))


def gradient_penalty(critic: Callable, real, fake, seed=None, target: float = 1.0):
    """The WGAN-GP penalty (Gulrajani et al. 2017): E[(||grad critic(x_hat)||_2 - target)^2].

    `x_hat = real + alpha * (fake - real)` with one `alpha ~ U(0, 1)` per example; the norm is
    over all non-batch axes. Called inside the discriminator's tape, its gradient (a second
    derivative) reaches the critic's weights.

    Args:
        critic: callable mapping images to logits, e.g. `lambda x: d(x, training=True)`, or
            `lambda x: d([x, labels])` for a conditional critic.
        real, fake: image batches of the same shape.
        seed: int, `keras.random.SeedGenerator` or stateless seed tensor for alpha.
        target: float. The norm the penalty pulls towards. Defaults to 1.0.
    """
    import tensorflow as tf  # the nested tape is TF-specific

    real, fake = _float(real), _float(fake)
    if tuple(real.shape) != tuple(fake.shape):
        raise ValueError(
            "`real` and `fake` must have the same shape for the gradient penalty. "
            f"Received: {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    alpha_shape = [ops.shape(real)[0]] + [1] * (len(real.shape) - 1)
    alpha = _uniform(alpha_shape, 0.0, 1.0, seed)
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        logits = _float(critic(interpolated))
    grads = tape.gradient(logits, interpolated)
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=list(range(1, len(grads.shape)))) + 1e-12)
    return ops.mean(ops.square(norms - target))


# -- relativistic -------------------------------------------------------------------------


def rsgan_discriminator_loss(real, fake, label_smoothing: LabelSmoothing = None, seed=None):
    """Relativistic standard GAN: BCE(real - fake, 1), pairing the i-th real with the i-th fake."""
    if label_smoothing is not None:
        raise ValueError("`rsgan` has no fake target to smooth; use `rasgan`.")
    return bce(_float(real) - _float(fake), 1.0)


def rsgan_generator_loss(real, fake):
    """Relativistic standard GAN generator loss: BCE(fake - real, 1)."""
    return bce(_float(fake) - _float(real), 1.0)


def rasgan_discriminator_loss(
    real, fake, label_smoothing: LabelSmoothing = None, seed=None, batch_mean: Callable = batch_mean
):
    """Relativistic average GAN: BCE(real - E fake, 1) + BCE(fake - E real, 0)."""
    real, fake = _float(real), _float(fake)
    real_t, fake_t = targets(real, fake, label_smoothing, seed)
    return bce(real - batch_mean(fake), real_t) + bce(fake - batch_mean(real), fake_t)


def rasgan_generator_loss(real, fake, batch_mean: Callable = batch_mean):
    """Relativistic average GAN generator loss: BCE(fake - E real, 1) + BCE(real - E fake, 0)."""
    real, fake = _float(real), _float(fake)
    return bce(fake - batch_mean(real), 1.0) + bce(real - batch_mean(fake), 0.0)


def ralsgan_discriminator_loss(
    real, fake, label_smoothing: LabelSmoothing = None, seed=None, batch_mean: Callable = batch_mean
):
    """Relativistic average LSGAN: (real - E fake - 1)^2 + (fake - E real + 1)^2, averaged.

    With label smoothing the targets `t_r`, `t_f` replace 1 and 0 as `(real - E fake - (2 t_r -
    1))^2` and `(fake - E real - (2 t_f - 1))^2`, so unsmoothed targets give +1 and -1.
    """
    real, fake = _float(real), _float(fake)
    real_t, fake_t = targets(real, fake, label_smoothing, seed)
    return ops.mean(ops.square(real - batch_mean(fake) - (2.0 * real_t - 1.0))) + ops.mean(
        ops.square(fake - batch_mean(real) - (2.0 * fake_t - 1.0))
    )


def ralsgan_generator_loss(real, fake, batch_mean: Callable = batch_mean):
    """Relativistic average LSGAN generator loss: (fake - E real - 1)^2 + (real - E fake + 1)^2."""
    real, fake = _float(real), _float(fake)
    return ops.mean(ops.square(fake - batch_mean(real) - 1.0)) + ops.mean(
        ops.square(real - batch_mean(fake) + 1.0)
    )


# -- R1 ------------------------------------------------------------------------------------


def r1_penalty(critic: Callable, real):
    """E_x |grad_x D(x)|^2 on real images (Mescheder et al. 2018; StyleGAN2's R1, before its
    gamma/2 weight). For patch outputs D(x) is the image's mean logit. Float32 throughout."""
    import tensorflow as tf  # the nested tape is TF-specific

    x = tf.identity(tf.cast(real, tf.float32))  # a tensor of this branch, to watch
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = tf.cast(critic(x), tf.float32)
        per_image = tf.reduce_mean(tf.reshape(logits, [tf.shape(logits)[0], -1]), axis=1)
        total = tf.reduce_sum(per_image)
    grads = tape.gradient(total, x)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=list(range(1, len(grads.shape)))))


# -- the table of objectives ----------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    """One adversarial objective: its two losses (with one signature for every objective)
    and the properties the models, the guard and the recipes ask about.

    Attributes:
        name: str. What `loss=` takes.
        discriminator: (real, fake, label_smoothing, seed, batch_mean) -> loss.
        generator: (real, fake, batch_mean) -> loss.
        relativistic: bool. The generator's loss also needs D(real).
        penalty: "gradient_penalty" when the critic needs one (WGAN-GP), else None.
        can_be_negative: bool. The discriminator's loss has no floor at 0 (a Wasserstein
            critic), so "D loss near 0" says nothing.
        smoothable: bool. Takes `label_smoothing`.
    """

    name: str
    discriminator: Callable
    generator: Callable
    relativistic: bool = False
    penalty: str | None = None
    can_be_negative: bool = False
    smoothable: bool = False


def _smoothed(fn):
    return lambda real, fake, label_smoothing, seed, batch_mean: fn(
        real, fake, label_smoothing=label_smoothing, seed=seed
    )


def _relativistic_smoothed(fn):
    return lambda real, fake, label_smoothing, seed, batch_mean: fn(
        real, fake, label_smoothing=label_smoothing, seed=seed, batch_mean=batch_mean
    )


def _plain(fn):
    return lambda real, fake, label_smoothing, seed, batch_mean: fn(real, fake)


def _of_fake(fn):
    return lambda real, fake, batch_mean: fn(fake)


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in [
        Objective(
            "bce", _smoothed(bce_discriminator_loss), _of_fake(bce_generator_loss), smoothable=True
        ),
        Objective(
            "minimax",
            _smoothed(bce_discriminator_loss),
            _of_fake(minimax_generator_loss),
            smoothable=True,
        ),
        Objective(
            "lsgan",
            _smoothed(lsgan_discriminator_loss),
            _of_fake(lsgan_generator_loss),
            smoothable=True,
        ),
        Objective("hinge", _plain(hinge_discriminator_loss), _of_fake(hinge_generator_loss)),
        Objective(
            "wgan-gp",
            _plain(wasserstein_discriminator_loss),
            _of_fake(wasserstein_generator_loss),
            penalty="gradient_penalty",
            can_be_negative=True,
        ),
        Objective(
            "rsgan",
            _plain(rsgan_discriminator_loss),
            lambda real, fake, batch_mean: rsgan_generator_loss(real, fake),
            relativistic=True,
        ),
        Objective(
            "rasgan",
            _relativistic_smoothed(rasgan_discriminator_loss),
            lambda real, fake, batch_mean: rasgan_generator_loss(real, fake, batch_mean),
            relativistic=True,
            smoothable=True,
        ),
        Objective(
            "ralsgan",
            _relativistic_smoothed(ralsgan_discriminator_loss),
            lambda real, fake, batch_mean: ralsgan_generator_loss(real, fake, batch_mean),
            relativistic=True,
            smoothable=True,
        ),
    ]
}
LOSSES = tuple(OBJECTIVES)
RELATIVISTIC = tuple(n for n, o in OBJECTIVES.items() if o.relativistic)
SMOOTHABLE = tuple(n for n, o in OBJECTIVES.items() if o.smoothable)


def objective(name: str) -> Objective:
    """The table's entry for `name`; an unknown name is an error that lists the table."""
    if name not in OBJECTIVES:
        raise ValueError(f"`loss` must be one of {', '.join(OBJECTIVES)}. Received: loss={name!r}")
    return OBJECTIVES[name]


class AdversarialLoss:
    """The pair of losses a model uses, looked up by name in `OBJECTIVES`.

    `discriminator(real, fake, seed=None, batch_mean=...)` and `generator(real, fake, ...)`
    have one signature for every variant; `needs_real_for_generator` says whether the
    generator step must also run the discriminator on real images (relativistic losses).

    Example:
    >>> loss = AdversarialLoss("ralsgan")
    >>> loss.needs_real_for_generator
    True
    """

    def __init__(self, name: str = "bce", label_smoothing: LabelSmoothing = None):
        self.objective = objective(name)
        if label_smoothing is not None and not self.objective.smoothable:
            raise ValueError(
                f"`label_smoothing` applies to the losses {', '.join(SMOOTHABLE)}, "
                f"not {name!r}. Received: label_smoothing={label_smoothing!r}"
            )
        self.name = name
        self.label_smoothing = label_smoothing
        self.needs_real_for_generator = self.objective.relativistic
        self.needs_seed = label_smoothing is not None and not isinstance(
            _check_smoothing(label_smoothing), float
        )

    def discriminator(self, real, fake, seed=None, batch_mean: Callable = batch_mean):
        return self.objective.discriminator(real, fake, self.label_smoothing, seed, batch_mean)

    def generator(self, real, fake, batch_mean: Callable = batch_mean):
        return self.objective.generator(real, fake, batch_mean)

    def __repr__(self):
        return f"AdversarialLoss({self.name!r}, label_smoothing={self.label_smoothing!r})"
