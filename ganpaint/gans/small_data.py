"""The small-data tools every ganpaint model has, as one component (`SmallData`, a base class
of `ganpaint.gans.AdversarialModel`): DiffAugment and ADA on what the discriminators see, an
EMA copy of each generator, and the R1 penalty.

The interface a `train_step` calls (docs/adding_a_family.md):

- `augment(images, condition=None)`: DiffAugment with the model's policy and p, on every image
  a discriminator sees (real and fake, in both updates); the identity when off.
- `observe_real(*real_logits)`: ADA's controller reads the discriminators' logits on reals.
- `r1_term(critic, real)`: the R1 penalty (times `r1_every` on lazy steps), or None when off;
  `AdversarialModel.discriminator_loss` adds it.
- `update_ema()`: after each generator update.
- `small_data_report(r1)`: the values to `report` (R1, p, ADA's r_t).

and what sampling reads: `sampling_network(name, use_ema)`, the EMA copy when kept. A model
calls `init_small_data()` once its generators are set (the EMA copies are made from them).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ganpaint.augment import DEFAULT_POLICY, AdaptiveAugment
from ganpaint.gans import ema as ema_lib
from ganpaint.gans.helpers import non_negative
from ganpaint.losses import r1_penalty


class LastValue(keras.metrics.Metric):
    """A metric that reports the last value it was given (ADA's p and r_t), not a mean."""

    def __init__(self, name):
        super().__init__(name=name)
        self.current = self.add_variable(
            (), "zeros", aggregation="only_first_replica", name="current"
        )

    def update_state(self, value):
        self.current.assign(tf.cast(value, self.current.dtype))

    def result(self):
        return self.current.value


class SmallData:
    """DiffAugment / ADA, EMA generators and R1 (see the module's docstring).

    `AdversarialModel.__init__` calls `set_small_data` with the model's keyword arguments
    (documented there); the model's `_generators` name the networks that `ema` averages.
    """

    # Reported values that are the last one given, not a mean (`LastValue`).
    last_value_metrics = ("augment_p", "ada_rt")

    def set_small_data(
        self,
        diff_augment,
        augment_p,
        ada_target,
        ada_interval,
        ada_kimg,
        ema,
        ema_rampup,
        r1_weight,
        r1_every,
    ) -> list[str]:
        """Check and keep the small-data settings (the defaults are `AdversarialModel`'s
        keyword arguments); returns the names of the values they report (R1, p, r_t), for
        the model's trackers."""
        self.diff_augment, self.augment_p, self.ada_target = diff_augment, augment_p, ada_target
        self.ada_interval, self.ada_kimg = ada_interval, ada_kimg
        self.augmenter = None
        if diff_augment or augment_p is not None or ada_target is not None:
            start = augment_p if augment_p is not None else (0.0 if ada_target is not None else 1.0)
            self.augmenter = AdaptiveAugment(
                diff_augment or DEFAULT_POLICY,
                start,
                ada_target,
                ada_interval,
                ada_kimg,
                name="augment",
            )
        ema_lib.check_ema(ema, ema_rampup)
        self.ema, self.ema_rampup = ema, ema_rampup
        self.r1_weight = non_negative(r1_weight, "r1_weight")
        if not isinstance(r1_every, int) or isinstance(r1_every, bool) or r1_every < 1:
            raise ValueError(f"`r1_every` must be an int >= 1. Received: r1_every={r1_every!r}")
        self.r1_every = r1_every
        names = []
        if self.r1_weight:
            names.append("r1_penalty")
        if self.augmenter is not None:
            names.append("augment_p")
            if self.augmenter.adaptive:
                names.append("ada_rt")
        return names

    def small_data_config(self) -> dict:
        """The settings, for `get_config`."""
        return dict(
            diff_augment=self.diff_augment,
            augment_p=self.augment_p,
            ada_target=self.ada_target,
            ada_interval=self.ada_interval,
            ada_kimg=self.ada_kimg,
            ema=self.ema,
            ema_rampup=self.ema_rampup,
            r1_weight=self.r1_weight,
            r1_every=self.r1_every,
        )

    def init_small_data(self):
        """Make the EMA copies of the generators (after the subclass has set them)."""
        if self.ema is not None:
            for name in self._generators:
                setattr(self, f"ema_{name}", ema_lib.clone_network(getattr(self, name)))

    def sampling_network(self, name: str, use_ema: bool = True) -> keras.Model:
        """The generator `name` to sample or translate with: its EMA copy when the model keeps
        one (and `use_ema`), else the trained network itself."""
        if use_ema and self.ema is not None:
            return getattr(self, f"ema_{name}")
        return getattr(self, name)

    def update_ema(self):
        """After a generator update: move each EMA copy towards its generator."""
        if self.ema is None:
            return
        beta = ema_lib.ema_decay(self.g_optimizer.iterations - 1, self.ema, self.ema_rampup)
        for name in self._generators:
            ema_lib.update_ema(getattr(self, f"ema_{name}"), getattr(self, name), beta)

    def augment(self, images, condition=None):
        """DiffAugment with the model's policy and p (identity when off). One seed for all
        replicas: each takes its slice of the global batch's draws."""
        if self.augmenter is None:
            return images if condition is None else (images, condition)
        return self.augmenter.augment(images, self.seed_generator.next(), condition)

    def observe_real(self, *real_logits):
        """ADA: feed the discriminators' logits on real images to the p controller."""
        if self.augmenter is not None and self.augmenter.adaptive:
            flat = tf.concat([tf.reshape(tf.cast(x, tf.float32), [-1]) for x in real_logits], 0)
            self.augmenter.observe(flat, tf.shape(real_logits[0])[0])

    def r1_term(self, critic, real):
        """gamma/2 * E|grad_x D(x)|^2 on real images, times `r1_every` on every
        `r1_every`-th discriminator update (0 otherwise); None when off. For patch outputs D(x)
        is the image's mean logit."""
        if not self.r1_weight:
            return None

        def penalty():
            return 0.5 * self.r1_weight * r1_penalty(critic, real)

        if self.r1_every == 1:
            return penalty()
        due = tf.equal(self.d_optimizer.iterations % self.r1_every, 0)
        return tf.cond(due, lambda: penalty() * float(self.r1_every), lambda: tf.constant(0.0))

    def small_data_report(self, r1=None) -> dict:
        values = {"r1_penalty": r1}
        if self.augmenter is not None:
            values["augment_p"] = self.augmenter.p.value
            values["ada_rt"] = self.augmenter.rt.value
        return values
