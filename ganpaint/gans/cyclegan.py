"""CycleGAN (two generators, two discriminators, unpaired domains) and its image pool."""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganpaint.gans.base import (
    AdversarialModel,
    as_pair,
    check_meet,
    has_batch_norm,
    has_layer,
    input_shape_of,
    mean_l1,
    non_negative,
    output_shape_of,
    resolve_preset,
)
from ganpaint.layers import RNG_ALG


class ImagePool(keras.layers.Layer):
    """The image history buffer of Shrivastava et al., as CycleGAN uses it (pool_size 50).

    `query(fakes)` returns a batch for the discriminator: while the pool fills, the new fakes
    themselves; once full, each fake is, with probability 1/2, swapped for a random stored one
    (which is returned) or passed through. Queries are vectorized per batch; swap slots within
    a batch are distinct. Each replica keeps its own pool under `tf.distribute`. The pool is
    part of the model's weights, so a checkpoint keeps it.

    Args:
        pool_size: int. Number of images kept; 0 turns the pool off.
    """

    def __init__(self, pool_size: int = 50, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_size, int) or pool_size < 0:
            raise ValueError(f"`pool_size` must be an int >= 0. Received: pool_size={pool_size!r}")
        self.pool_size = pool_size

    def build(self, image_shape):
        if self.pool_size:
            shape = (self.pool_size, *image_shape[1:])
            sync = dict(
                trainable=False, synchronization="on_read", aggregation="only_first_replica"
            )
            self.images = keras.Variable(np.zeros(shape, "float32"), name="images", **sync)
            self.count = keras.Variable(np.int32(0), dtype="int32", name="count", **sync)

    def query(self, fakes, seed):
        fakes = ops.stop_gradient(ops.cast(fakes, "float32"))
        if not self.pool_size:
            return fakes
        batch = fakes.shape[0]
        if batch is not None and batch > self.pool_size:
            raise ValueError(
                f"The image pool holds {self.pool_size} images but the per-replica "
                f"batch is {batch}. Raise `pool_size` or set it to 0."
            )
        n = tf.shape(fakes)[0]
        pool, count = (
            tf.convert_to_tensor(self.images.value),
            tf.convert_to_tensor(self.count.value),
        )
        seed_draw, seed_perm = tf.unstack(tf.random.experimental.stateless_split(seed, 2, RNG_ALG))
        fill_slot = count + tf.range(n)
        filling = fill_slot < self.pool_size
        swapping = tf.logical_and(
            tf.logical_not(filling), tf.random.stateless_uniform([n], seed_draw, alg=RNG_ALG) < 0.5
        )
        distinct = tf.argsort(
            tf.random.stateless_uniform([self.pool_size], seed_perm, alg=RNG_ALG)
        )[:n]
        slot = tf.where(filling, fill_slot, tf.cast(distinct, tf.int32))

        slot_hot = tf.one_hot(slot, self.pool_size)
        fill_hot = slot_hot * tf.cast(filling, tf.float32)[:, None]
        swap_hot = slot_hot * tf.cast(swapping, tf.float32)[:, None]

        def write(pool, hot):  # put each marked fake into its slot
            keep = 1.0 - tf.reduce_sum(hot, axis=0)
            keep = tf.reshape(keep, [-1] + [1] * (len(pool.shape) - 1))
            return pool * keep + tf.tensordot(tf.transpose(hot), fakes, axes=1)

        pool = write(pool, fill_hot)
        returned = tf.tensordot(swap_hot, pool, axes=1)  # read before the swap overwrites
        pool = write(pool, swap_hot)
        self.images.assign(pool)
        self.count.assign(tf.minimum(count + n, self.pool_size))
        mask = tf.reshape(swapping, [-1] + [1] * (len(fakes.shape) - 1))
        return tf.where(mask, returned, fakes)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package="ganpaint")
class CycleGAN(AdversarialModel):
    """CycleGAN (Zhu et al. 2017): two generators, two discriminators, unpaired domains.

    Generator loss: adversarial(D_B(G_AB(a))) + adversarial(D_A(G_BA(b)))
    + cycle_weight * (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
    + cycle_weight * identity_weight * (|G_BA(a) - a| + |G_AB(b) - b|),
    minimised over *both* generators together, so each cycle loss trains both generators.
    Each discriminator minimises half its adversarial loss on real images and on fakes drawn
    from an image pool of `pool_size`, as the reference code does.

    Two presets set the objective and `compile()`'s default Adam (README "Defaults"):

    | preset | loss | pool_size | cycle_weight | identity_weight | Adam lr, betas |
    |---|---|---|---|---|---|
    | "ganpaint" (default) | ralsgan | 0 | 5 | 0.5 | 4e-4, (0.5, 0.999) |
    | "paper" (Zhu et al.) | lsgan | 50 | 10 | 0.5 | 2e-4, (0.5, 0.999) |

    The default is the setting that won the search in `benchmarks/defaults_search.py`;
    "paper" is the published one. An argument given explicitly overrides its preset.

    Args:
        g_ab, g_ba: generators A->B and B->A (e.g. `resnet_generator`, `unet_generator`).
        d_a, d_b: discriminators of domains A and B (e.g. `patchgan_discriminator`).
        preset: "ganpaint" (default) or "paper", as above.
        cycle_weight: float. Lambda of the cycle losses.
        identity_weight: float. Identity loss weight relative to `cycle_weight` (0 turns it
            off).
        loss: adversarial loss (`ganpaint.losses.LOSSES`).
        pool_size: int. Image history per discriminator; 0 turns it off.
        seed: int. Seed of the pool's draws.
        diff_augment, augment_p, ada_target, ema, r1_weight, ...: the small-data tools of
            `AdversarialModel`, on both discriminators (one p for both) and both generators
            (`translate` uses the EMA copies when `ema` is set).

    The dataset yields (a, b) batches (`ganpaint.data.unpaired_dataset`).
    """

    _networks = ("g_ab", "g_ba", "d_a", "d_b")
    _generators = ("g_ab", "g_ba")
    discriminator_losses = ("d_a_loss", "d_b_loss")
    _metric_names = (
        "g_loss",
        "g_ab_loss",
        "g_ba_loss",
        "cycle_loss",
        "identity_loss",
        "d_a_loss",
        "d_b_loss",
    )

    PRESETS = {
        "ganpaint": dict(
            loss="ralsgan",
            pool_size=0,
            cycle_weight=5.0,
            identity_weight=0.5,
            learning_rate=4e-4,
            beta_1=0.5,
            beta_2=0.999,
        ),
        "paper": dict(
            loss="lsgan",
            pool_size=50,
            cycle_weight=10.0,
            identity_weight=0.5,
            learning_rate=2e-4,
            beta_1=0.5,
            beta_2=0.999,
        ),
    }

    def __init__(
        self,
        g_ab: keras.Model,
        g_ba: keras.Model,
        d_a: keras.Model,
        d_b: keras.Model,
        *,
        preset: str = "ganpaint",
        cycle_weight: float | None = None,
        identity_weight: float | None = None,
        loss: str | None = None,
        pool_size: int | None = None,
        label_smoothing=None,
        gp_weight: float = 10.0,
        seed: int | None = None,
        **kwargs,
    ):
        values = resolve_preset(
            CycleGAN,
            preset,
            dict(
                loss=loss,
                pool_size=pool_size,
                cycle_weight=cycle_weight,
                identity_weight=identity_weight,
            ),
        )
        loss, pool_size = values["loss"], values["pool_size"]
        cycle_weight, identity_weight = values["cycle_weight"], values["identity_weight"]
        super().__init__(
            loss=loss, label_smoothing=label_smoothing, gp_weight=gp_weight, seed=seed, **kwargs
        )
        self.preset = preset
        self.preset_optimizer = {k: values[k] for k in ("learning_rate", "beta_1", "beta_2")}
        shape_a, shape_b = input_shape_of(g_ab), input_shape_of(g_ba)
        check_meet(
            g_ab, output_shape_of(g_ab), d_b, input_shape_of(d_b), "G_AB output vs D_B input"
        )
        check_meet(
            g_ba, output_shape_of(g_ba), d_a, input_shape_of(d_a), "G_BA output vs D_A input"
        )
        check_meet(g_ab, output_shape_of(g_ab), g_ba, shape_b, "G_AB output vs G_BA input")
        check_meet(g_ba, output_shape_of(g_ba), g_ab, shape_a, "G_BA output vs G_AB input")
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.cycle_weight = non_negative(cycle_weight, "cycle_weight")
        self.identity_weight = non_negative(identity_weight, "identity_weight")
        self.pool_size = pool_size
        self.pool_a = ImagePool(pool_size, name="pool_a")
        self.pool_b = ImagePool(pool_size, name="pool_b")
        self.pool_a.build((None, *shape_a))
        self.pool_b.build((None, *shape_b))
        self.fuse_calls = not any(has_batch_norm(n) for n in (g_ab, g_ba, d_a, d_b))
        self.init_small_data()
        # The discriminators' update sees what the generators' update saw (same weights, same
        # fakes) unless a pool swaps fakes, augmentation redraws, or batch norm / dropout make
        # a second call differ: then one forward pass serves both updates.
        self.shares_forward = (
            not pool_size
            and self.augmenter is None
            and self.fuse_calls
            and not any(has_layer(d, keras.layers.Dropout) for d in (d_a, d_b))
        )
        self.built = True

    @property
    def generator_variables(self):
        return self.g_ab.trainable_variables + self.g_ba.trainable_variables

    @property
    def discriminator_variables(self):
        return self.d_a.trainable_variables + self.d_b.trainable_variables

    def call(self, inputs, training=False):
        return self.g_ab(inputs, training=training)

    def _calls(self, net, inputs: list, training) -> list:
        """`net` on each input; in one call on the concatenated batch when no network has
        batch norm (each example's output then depends on that example only)."""
        if len(inputs) == 1 or not self.fuse_calls:
            return [net(x, training=training) for x in inputs]
        outputs = net(tf.concat(inputs, axis=0), training=training)
        return tf.split(outputs, [tf.shape(x)[0] for x in inputs], axis=0)

    def generator_losses(
        self, real_a, real_b, training: bool = True, real_logits: bool = False
    ) -> dict:
        """Every term of the generators' objective, and the fakes the discriminators judge.

        Returns a dict with `g_ab_loss`, `g_ba_loss` (adversarial), `cycle_a_loss`
        (|G_BA(G_AB(a)) - a|), `cycle_b_loss`, `identity_loss` (None when off), `g_loss` (the
        weighted total both generators minimise), and `fake_a`, `fake_b`; with `real_logits`
        (or a relativistic loss) also the discriminators' logits `real_a_logits`,
        `fake_a_logits`, `real_b_logits`, `fake_b_logits`.
        """
        needs_real = self.adversarial.needs_real_for_generator
        identity = bool(self.identity_weight)
        # Calls that do not depend on each other go through each network together.
        fake_b, *same_b = self._calls(self.g_ab, [real_a] + [real_b] * identity, training)
        fake_a, *same_a = self._calls(self.g_ba, [real_b] + [real_a] * identity, training)
        cycle_a_loss = mean_l1(self.g_ba(fake_b, training=training), real_a)
        cycle_b_loss = mean_l1(self.g_ab(fake_a, training=training), real_b)
        seen = (lambda x: self.augment(x)) if training else (lambda x: x)
        logits = {}
        for domain, d, real, fake in (
            ("b", self.d_b, real_b, fake_b),
            ("a", self.d_a, real_a, fake_a),
        ):
            if real_logits:  # the discriminators' update differentiates both halves
                logits[f"real_{domain}_logits"], logits[f"fake_{domain}_logits"] = self._calls(
                    d, [seen(real), seen(fake)], training
                )
                continue
            # The generators' gradient flows through the fakes' half only: the reals' logits
            # come from a call of their own, which the tape does not differentiate.
            logits[f"fake_{domain}_logits"] = d(seen(fake), training=training)
            if needs_real:
                logits[f"real_{domain}_logits"] = d(seen(real), training=training)
        g_ab_loss = self.generator_loss(logits.get("real_b_logits"), logits["fake_b_logits"])
        g_ba_loss = self.generator_loss(logits.get("real_a_logits"), logits["fake_a_logits"])
        g_loss = g_ab_loss + g_ba_loss + self.cycle_weight * (cycle_a_loss + cycle_b_loss)
        identity_loss = None
        if identity:
            identity_loss = mean_l1(same_a[0], real_a) + mean_l1(same_b[0], real_b)
            g_loss += self.cycle_weight * self.identity_weight * identity_loss
        return dict(
            g_ab_loss=g_ab_loss,
            g_ba_loss=g_ba_loss,
            cycle_a_loss=cycle_a_loss,
            cycle_b_loss=cycle_b_loss,
            identity_loss=identity_loss,
            g_loss=g_loss,
            fake_a=fake_a,
            fake_b=fake_b,
            **logits,
        )

    def train_step(self, data):
        real_a, real_b = as_pair(data, "CycleGAN", "domain A, domain B")
        self.begin_step(real_a)
        # With `shares_forward` the discriminators' tape records the generators' forward pass
        # too, and their update reuses its logits: the same numbers as a second pass.
        d_tape = tf.GradientTape()
        with (
            tf.GradientTape() as g_tape,
            d_tape if self.shares_forward else contextlib.nullcontext(),
        ):
            terms = self.generator_losses(real_a, real_b, real_logits=self.shares_forward)
            g_loss = terms["g_loss"]
        fake_a, fake_b = terms["fake_a"], terms["fake_b"]
        self.apply_loss(self.g_optimizer, g_tape, g_loss, self.generator_variables)

        pool_seed_a, pool_seed_b = tf.unstack(
            tf.random.experimental.stateless_split(self.replica_seed(), 2, RNG_ALG)
        )
        pooled_b = self.augment(self.pool_b.query(fake_b, pool_seed_b))
        pooled_a = self.augment(self.pool_a.query(fake_a, pool_seed_a))
        seen_a, seen_b = self.augment(real_a), self.augment(real_b)
        with d_tape:
            if self.shares_forward:
                real_a_logits, fake_a_logits = terms["real_a_logits"], terms["fake_a_logits"]
                real_b_logits, fake_b_logits = terms["real_b_logits"], terms["fake_b_logits"]
            else:
                real_a_logits, fake_a_logits = self._calls(self.d_a, [seen_a, pooled_a], True)
                real_b_logits, fake_b_logits = self._calls(self.d_b, [seen_b, pooled_b], True)
            d_a_loss, _, _, r1_a = self.discriminator_loss(
                real_a_logits, fake_a_logits, lambda x: self.d_a(x, training=True), seen_a, pooled_a
            )
            d_b_loss, _, _, r1_b = self.discriminator_loss(
                real_b_logits, fake_b_logits, lambda x: self.d_b(x, training=True), seen_b, pooled_b
            )
            d_a_loss, d_b_loss = 0.5 * d_a_loss, 0.5 * d_b_loss
            d_loss = d_a_loss + d_b_loss
        self.apply_loss(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
        self.observe_real(real_a_logits, real_b_logits)
        self.update_ema()
        r1 = None if r1_a is None else r1_a + r1_b
        return self.report(
            g_loss=g_loss,
            g_ab_loss=terms["g_ab_loss"],
            g_ba_loss=terms["g_ba_loss"],
            cycle_loss=terms["cycle_a_loss"] + terms["cycle_b_loss"],
            identity_loss=terms["identity_loss"],
            d_a_loss=d_a_loss,
            d_b_loss=d_b_loss,
            **self.small_data_report(r1),
        )

    takes_inputs = True
    directions = ("AtoB", "BtoA")

    def translator(self, direction: str = "AtoB", use_ema: bool = True) -> keras.Model:
        if direction not in self.directions:
            raise ValueError(
                f"`direction` must be 'AtoB' or 'BtoA'. Received: direction={direction!r}"
            )
        return self.sampling_network("g_ab" if direction == "AtoB" else "g_ba", use_ema)

    def translate(
        self, images, direction: str = "AtoB", batch_size: int = 8, use_ema: bool = True
    ) -> np.ndarray:
        """Translate images in [-1, 1] with G_AB ("AtoB") or G_BA ("BtoA"), in batches; with
        their EMA copies when the model keeps them and `use_ema`."""
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(
                f"`direction` must be 'AtoB' or 'BtoA'. Received: direction={direction!r}"
            )
        net = self.sampling_network("g_ab" if direction == "AtoB" else "g_ba", use_ema)
        return self.translate_with(net, images, batch_size)

    def get_config(self):
        return {
            **super().get_config(),
            "preset": self.preset,
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "pool_size": self.pool_size,
        }
