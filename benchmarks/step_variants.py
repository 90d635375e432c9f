"""CycleGAN's step in other update orders, for the known-answer search over the step itself
(issue 25): which fakes each update sees, and which network moves first.

`gans.CycleGAN` updates both players from one forward pass: the generators' gradient and the
discriminators' come from the same fakes and the same discriminator weights (the TF
tutorial's step, and the PyTorch reference's without its pool). The orders here differ:

- "fresh fakes": the generators update first; the discriminators then judge fakes drawn again
  from the updated generators (one more forward pass of both generators per step, and the
  discriminators' pass can no longer be the generators' update's);
- "d first": the discriminators update first, on the current generators' fakes; the
  generators then update against the updated discriminators (the keras-io DCGAN order). The
  second discriminator pass is inherent; the second generator pass is not (the generators'
  weights have not moved), but sharing it would mean splitting `generator_losses`, so this
  order's run times overstate its cost by one forward pass of each generator.

The losses, the networks' calls and the updates are the model's own (`generator_losses`,
`_discriminator_loss`, `_apply`); only the order differs. Without a pool, augmentation or
R1, as the searched settings have them.
"""

from __future__ import annotations

import tensorflow as tf

from ganpaint import gans
from ganpaint.gans.base import as_pair

ORDERS = ("simultaneous", "fresh fakes", "d first")


class OrderedCycleGAN(gans.CycleGAN):
    """`gans.CycleGAN` with `order` one of `ORDERS` ("simultaneous" is the model's step)."""

    def __init__(self, *networks, order: str = "simultaneous", **kwargs):
        super().__init__(*networks, **kwargs)
        if order not in ORDERS:
            raise ValueError(f"`order` must be one of {ORDERS}. Received: order={order!r}")
        if order != "simultaneous" and (
            self.pool_size or self.augmenter is not None or self.r1_weight
        ):
            raise ValueError("The other orders are written without a pool, augmentation or R1.")
        self.order = order

    def _discriminators_update(self, real_a, real_b, fake_a, fake_b):
        fake_a, fake_b = tf.stop_gradient(fake_a), tf.stop_gradient(fake_b)
        with tf.GradientTape() as tape:
            real_a_logits, fake_a_logits = self._calls(self.d_a, [real_a, fake_a], True)
            real_b_logits, fake_b_logits = self._calls(self.d_b, [real_b, fake_b], True)
            d_a_loss = 0.5 * self.discriminator_loss(real_a_logits, fake_a_logits)[0]
            d_b_loss = 0.5 * self.discriminator_loss(real_b_logits, fake_b_logits)[0]
            d_loss = d_a_loss + d_b_loss  # on the tape
        self.apply_loss(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        return d_a_loss, d_b_loss

    def _fakes(self, real_a, real_b):
        """(fake_a, fake_b) from the generators' current weights."""
        return self.g_ba(real_b, training=True), self.g_ab(real_a, training=True)

    def _generators_update(self, real_a, real_b):
        with tf.GradientTape() as tape:
            terms = self.generator_losses(real_a, real_b)
        self.apply_loss(self.g_optimizer, tape, terms["g_loss"], self.generator_variables)
        self.update_ema()
        return terms

    def train_step(self, data):
        if self.order == "simultaneous":
            return super().train_step(data)
        real_a, real_b = as_pair(data, "CycleGAN", "domain A, domain B")
        if self.order == "d first":
            fakes = self._fakes(real_a, real_b)
            d_a_loss, d_b_loss = self._discriminators_update(real_a, real_b, *fakes)
            terms = self._generators_update(real_a, real_b)
        else:  # "fresh fakes"
            terms = self._generators_update(real_a, real_b)
            fakes = self._fakes(real_a, real_b)
            d_a_loss, d_b_loss = self._discriminators_update(real_a, real_b, *fakes)
        return self.report(
            g_loss=terms["g_loss"],
            g_ab_loss=terms["g_ab_loss"],
            g_ba_loss=terms["g_ba_loss"],
            cycle_loss=terms["cycle_a_loss"] + terms["cycle_b_loss"],
            identity_loss=terms["identity_loss"],
            d_a_loss=d_a_loss,
            d_b_loss=d_b_loss,
        )
