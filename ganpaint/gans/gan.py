"""The one-generator GAN family: GAN (unconditional), ConditionalGAN and ACGAN."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganpaint.gans.base import (
    OneGenerator,
    as_pair,
    check_class_labels,
    check_meet,
    has_batch_norm,
    images_of,
    input_shape_of,
    non_negative,
    output_shape_of,
)


@keras.saving.register_keras_serializable(package="ganpaint")
class GAN(OneGenerator):
    """An unconditional GAN (DCGAN and friends) with any loss of `ganpaint.losses`.

    Each step: `d_steps` discriminator updates (the last one on the fakes the generator step
    then reuses, as the PyTorch DCGAN example does), then one generator update, judged by the
    updated discriminator. With `simultaneous=True` both networks' gradients are instead
    taken at the current weights from one generator pass and one discriminator pass, as the
    TF DCGAN and pix2pix tutorials do (one discriminator pass fewer per step). A
    discriminator without batch norm judges real and fake images in one call (`fuse_critic`);
    with batch norm they stay separate batches, as DCGAN prescribes.

    Args:
        generator: keras.Model mapping noise `[B, latent_dim]` to images.
        discriminator: keras.Model mapping images to logits (any shape: vector or patch map).
        latent_dim: int. Noise size. Defaults to the generator's input size.
        loss: "bce" (non-saturating, default), "minimax", "lsgan", "hinge", "wgan-gp",
            "rsgan", "rasgan" or "ralsgan".
        d_steps: int. Discriminator updates per generator update (5 for WGAN-GP).
        simultaneous: bool. Update both networks from gradients at the same weights (needs
            `d_steps=1`). Defaults to False: the generator sees the updated discriminator.
        label_smoothing: None, a float (real target 1 - s) or ranges ((0.7, 1.2), (0.0, 0.3)).
        gp_weight: float. Gradient-penalty weight for "wgan-gp". Defaults to 10.
        seed: int. Seed of the noise. Defaults to a random one.
        diff_augment, augment_p, ada_target, ema, r1_weight, ...: the small-data tools of
            `AdversarialModel`: the discriminator sees every real and fake image augmented;
            `generate` uses the EMA generator when `ema` is set.

    Example:
    >>> gan = GAN(dcgan_generator(64, (28, 28, 1)), dcgan_discriminator((28, 28, 1)), seed=0)
    >>> gan.compile()
    >>> gan.fit(image_dataset(data, image_size=28, batch_size=64), epochs=5)
    """

    _metric_names = ("d_loss", "g_loss", "gradient_penalty")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        *,
        loss: str = "bce",
        d_steps: int = 1,
        simultaneous: bool = False,
        label_smoothing=None,
        gp_weight: float = 10.0,
        seed: int | None = None,
        **kwargs,
    ):
        self._check_networks(generator, discriminator, latent_dim)
        super().__init__(
            loss=loss, label_smoothing=label_smoothing, gp_weight=gp_weight, seed=seed, **kwargs
        )
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(latent_dim or input_shape_of(generator)[0])
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"`d_steps` must be an int >= 1. Received: d_steps={d_steps!r}")
        self.d_steps = d_steps
        if not isinstance(simultaneous, bool) or (simultaneous and d_steps != 1):
            raise ValueError(
                f"`simultaneous` must be a bool, and True only with d_steps=1. "
                f"Received: simultaneous={simultaneous!r}, d_steps={d_steps!r}"
            )
        self.simultaneous = simultaneous
        self.fuse_critic = not has_batch_norm(discriminator)
        self.init_small_data()
        self.built = True

    def _check_networks(self, generator, discriminator, latent_dim):
        for net, name in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(net, keras.Model):
                raise ValueError(f"`{name}` must be a keras.Model. Received: {name}={net!r}")
        noise_shape = input_shape_of(generator)
        if len(noise_shape) != 1 or (latent_dim is not None and noise_shape[0] != latent_dim):
            raise ValueError(
                f"The generator's noise input has shape {noise_shape}; expected "
                f"({latent_dim or 'latent_dim'},). Received: latent_dim={latent_dim!r}"
            )
        check_meet(
            generator,
            output_shape_of(generator),
            discriminator,
            input_shape_of(discriminator),
            "generator output vs discriminator input",
        )

    # Hooks the conditional models override.
    def _split(self, data):
        return images_of(data), None

    def _generate(self, noise, labels, training=True, network=None):
        return (network or self.generator)(noise, training=training)

    def _critic(self, images, labels, training=True):
        """(adversarial logits, class logits or None)."""
        return self.discriminator(images, training=training), None

    def _class_loss(self, class_logits, labels):
        return None

    def _critic_both(self, real, fake, labels):
        """The critic on real and on fake images. Without batch norm in the discriminator,
        each example's logit depends on that example only, so one call on the concatenated
        batch gives the same logits as two calls, with bigger, faster kernels."""
        if not self.fuse_critic:
            return self._critic(real, labels), self._critic(fake, labels)
        n = tf.shape(real)[0]
        both_labels = None if labels is None else tf.concat([labels, labels], axis=0)
        logits, classes = self._critic(tf.concat([real, fake], axis=0), both_labels)
        split = lambda x: (None, None) if x is None else (x[:n], x[n:])
        (real_logits, fake_logits), (real_classes, fake_classes) = split(logits), split(classes)
        return (real_logits, real_classes), (fake_logits, fake_classes)

    def _discriminator_total(
        self, real_logits, fake_logits, real_classes, fake_classes, labels, critic, real, fake
    ):
        """The discriminator's loss (adversarial + penalties + class terms), its adversarial
        part, the gradient and R1 penalties, and the class loss on real images (or None)."""
        d_loss, d_adv, penalty, r1 = self.discriminator_loss(
            real_logits, fake_logits, critic, real, fake
        )
        real_class_loss = self._class_loss(real_classes, labels)
        if real_class_loss is not None:
            d_loss += self.class_weight * (real_class_loss + self._class_loss(fake_classes, labels))
        return d_loss, d_adv, penalty, r1, real_class_loss

    def _generator_total(self, real_logits, fake_logits, fake_classes, labels):
        g_loss = self.generator_loss(real_logits, fake_logits)
        fake_class_loss = self._class_loss(fake_classes, labels)
        if fake_class_loss is not None:
            g_loss += self.class_weight * fake_class_loss
        return g_loss

    def train_step(self, data):
        real, labels = self._split(data)
        self.begin_step(real)
        batch = tf.shape(real)[0]
        critic = lambda x: self._critic(x, labels)[0]
        if self.simultaneous:
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = self.augment(self._generate(self.draw_noise(batch, self.latent_dim), labels))
                seen_real = self.augment(real)
                (real_logits, real_classes), (fake_logits, fake_classes) = self._critic_both(
                    seen_real, fake, labels
                )
                d_loss, d_adv, penalty, r1, real_class_loss = self._discriminator_total(
                    real_logits,
                    fake_logits,
                    real_classes,
                    fake_classes,
                    labels,
                    critic,
                    seen_real,
                    ops.stop_gradient(fake),
                )
                g_loss = self._generator_total(real_logits, fake_logits, fake_classes, labels)
            self.apply_loss(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
            self.observe_real(real_logits)
        else:
            for step in range(self.d_steps):
                noise = self.draw_noise(batch, self.latent_dim)
                if step == self.d_steps - 1:  # the generator update reuses these fakes
                    with tf.GradientTape() as g_tape:
                        fake = self._generate(noise, labels)
                else:
                    fake = self._generate(noise, labels)
                seen_fake = self.augment(ops.stop_gradient(fake))
                seen_real = self.augment(real)
                with tf.GradientTape() as d_tape:
                    (real_logits, real_classes), (fake_logits, fake_classes) = self._critic_both(
                        seen_real, seen_fake, labels
                    )
                    d_loss, d_adv, penalty, r1, real_class_loss = self._discriminator_total(
                        real_logits,
                        fake_logits,
                        real_classes,
                        fake_classes,
                        labels,
                        critic,
                        seen_real,
                        seen_fake,
                    )
                self.apply_loss(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
                self.observe_real(real_logits)
            with g_tape:  # judged by the updated discriminator, on freshly augmented images
                fake_logits, fake_classes = self._critic(self.augment(fake), labels)
                real_logits = (
                    self._critic(self.augment(real), labels)[0]
                    if self.adversarial.needs_real_for_generator
                    else None
                )
                g_loss = self._generator_total(real_logits, fake_logits, fake_classes, labels)
        self.apply_loss(self.g_optimizer, g_tape, g_loss, self.generator_variables)
        self.update_ema()
        return self.report(
            d_loss=d_adv,
            g_loss=g_loss,
            gradient_penalty=penalty,
            **self.small_data_report(r1),
            **self._class_report(real_classes, labels, real_class_loss),
        )

    def _class_report(self, real_classes, labels, class_loss):
        return {}

    def sample(
        self,
        n: int | None = None,
        *,
        inputs=None,
        labels=None,
        noise=None,
        seed: int | None = None,
        direction: str = "AtoB",
        use_ema: bool = True,
        batch_size: int | None = None,
    ) -> np.ndarray:
        if inputs is not None:
            raise ValueError(
                f"{type(self).__name__} generates from noise; `inputs` are for translators."
            )
        if noise is None and seed is not None:
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"Give `n` (a positive int) or `noise`. Received: n={n!r}")
            noise = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
            noise = noise.astype("float32")
        count = len(noise) if noise is not None else n
        if labels is None and self.num_classes is not None and isinstance(count, int):
            labels = self.class_labels(count)
        return self.generate(
            None if noise is not None else n,
            noise=noise,
            labels=labels,
            batch_size=batch_size or 256,
            use_ema=use_ema,
        )

    def generate(
        self,
        n: int | None = None,
        noise=None,
        labels=None,
        batch_size: int = 256,
        use_ema: bool = True,
    ) -> np.ndarray:
        """Generate images (float32 in [-1, 1]) in batches, for any number of images, with
        the EMA generator when the model keeps one.

        Args:
            n: int. Number of images, with fresh noise (a stream seeded by `seed`, apart from the
                training noise).
            noise: array [N, latent_dim]. Use this noise instead (e.g. fixed noise for grids).
            labels: int array [N] (conditional models): the class of each image.
            batch_size: int. Images per generator call.
            use_ema: bool. With `ema` set, sample the moving average (default) or, with False,
                the trained generator itself (`model.generator`).
        """
        if noise is None:
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"Give `n` (a positive int) or `noise`. Received: n={n!r}")
            # Its own stream: sampling during training (callbacks) leaves the training noise,
            # and so a resumed run, unchanged.
            if getattr(self, "_sampling_rng", None) is None:
                object.__setattr__(self, "_sampling_rng", np.random.default_rng(self.seed))
            noise = self._sampling_rng.standard_normal((n, self.latent_dim), dtype=np.float32)
        noise = np.asarray(noise, "float32")
        if noise.ndim != 2 or noise.shape[1] != self.latent_dim:
            raise ValueError(
                f"`noise` must have shape [N, {self.latent_dim}]. Received: shape {noise.shape}"
            )
        labels = self._check_labels(labels, len(noise))
        net = self.sampling_network("generator", use_ema)
        if labels is None:
            return self.run_in_batches(
                lambda z: self._generate(z, None, training=False, network=net), [noise], batch_size
            )
        return self.run_in_batches(
            lambda z, y: self._generate(z, y, training=False, network=net),
            [noise, labels],
            batch_size,
        )

    def _check_labels(self, labels, n):
        if labels is not None:
            raise ValueError(f"{type(self).__name__} is unconditional; `labels` must be None.")
        return None

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "simultaneous": self.simultaneous,
        }


def _labels_column(labels):
    return ops.reshape(ops.cast(labels, "int32"), (-1, 1))


class _LabelledGAN(GAN):
    """A GAN whose dataset yields (images, labels) and whose generator takes [noise, labels]."""

    def _check_networks(self, generator, discriminator, latent_dim):
        inputs = generator.inputs if isinstance(generator.inputs, list) else [generator.inputs]
        if len(inputs) != 2:
            raise ValueError(
                f"{type(self).__name__} needs a generator taking [noise, labels] "
                f"(e.g. dcgan_generator(num_classes=...)); `{generator.name}` has "
                f"{len(inputs)} input(s)."
            )
        check_meet(
            generator,
            output_shape_of(generator),
            discriminator,
            input_shape_of(discriminator),
            "generator output vs discriminator input",
        )

    def _split(self, data):
        images, labels = as_pair(data, type(self).__name__, "images, labels")
        return images, _labels_column(labels)

    def _generate(self, noise, labels, training=True, network=None):
        return (network or self.generator)([noise, _labels_column(labels)], training=training)

    @property
    def num_classes(self) -> int:
        """The number of classes: the size of the generator's label embedding (or of its
        class-conditional normalization)."""
        for layer in self.generator.layers:
            if isinstance(layer, keras.layers.Embedding):
                return layer.input_dim
            if hasattr(layer, "num_classes"):
                return layer.num_classes
        raise ValueError(
            f"`{self.generator.name}` has no label Embedding to read the number of classes from."
        )

    def _check_labels(self, labels, n):
        if labels is None:
            raise ValueError(f"{type(self).__name__}.generate needs `labels`, one per image.")
        labels = check_class_labels(labels, self.num_classes)
        if len(labels) == 1:
            labels = np.repeat(labels, n)
        if len(labels) != n:
            raise ValueError(f"`labels` has {len(labels)} entries for {n} images.")
        return labels

    def generate(self, n=None, noise=None, labels=None, batch_size=256, use_ema=True):
        if n is None and noise is None and labels is not None:
            n = len(np.asarray(labels).reshape(-1))
        return super().generate(n, noise, labels, batch_size, use_ema)


@keras.saving.register_keras_serializable(package="ganpaint")
class ConditionalGAN(_LabelledGAN):
    """A label-conditioned GAN (Mirza & Osindero): both networks see the label.

    The dataset yields (images, labels); the generator takes [noise, labels] and the
    discriminator [images, labels] (`dcgan_generator(num_classes=...)`,
    `dcgan_discriminator(num_classes=...)`). Fakes are generated for the batch's own labels.
    Arguments as `GAN`. `compile()` with no optimizers gives both players Adam(4e-4,
    beta_1=0, beta_2=0.999) (BigGAN's betas), not the DCGAN paper's Adam(2e-4, beta_1=0.5):
    with the labelled builders' defaults (spectral norm, projection) it made the requested
    class more often after 600 steps on the digits, on a held-out set of textures and after
    2,400 steps (docs/defaults.md, "Labelled GANs"); `compile(2e-4, 2e-4)` gives the paper's
    (a number is Adam with beta_1 0.5).
    """

    # compile()'s Adam when no optimizer is given (tests/test_defaults.py pins it to the
    # measured choice in docs/benchmarks/defaults.json).
    preset_optimizer = {"learning_rate": 4e-4, "beta_1": 0.0, "beta_2": 0.999}

    def _check_networks(self, generator, discriminator, latent_dim):
        super()._check_networks(generator, discriminator, latent_dim)
        inputs = (
            discriminator.inputs
            if isinstance(discriminator.inputs, list)
            else [discriminator.inputs]
        )
        if len(inputs) != 2:
            raise ValueError(
                "ConditionalGAN needs a discriminator taking [images, labels] (e.g. "
                f"dcgan_discriminator(num_classes=...)); `{discriminator.name}` has "
                f"{len(inputs)} input(s)."
            )

    def _critic(self, images, labels, training=True):
        return self.discriminator([images, labels], training=training), None


@keras.saving.register_keras_serializable(package="ganpaint")
class ACGAN(_LabelledGAN):
    """The auxiliary-classifier GAN (Odena et al.): the discriminator also classifies.

    The discriminator takes images and returns `[logit, class_logits]`
    (`dcgan_discriminator(num_classes=..., aux_classifier=True)`). Both players add
    `class_weight` times the sparse cross-entropy of the class head: the discriminator on real
    and fake images, the generator on its fakes. `d_class_accuracy` is the head's accuracy on
    the real images. Other arguments as `GAN`.
    """

    _metric_names = ("d_loss", "g_loss", "d_class_loss", "d_class_accuracy")

    def __init__(
        self, generator, discriminator, latent_dim=None, *, class_weight: float = 1.0, **kwargs
    ):
        outputs = (
            discriminator.outputs
            if isinstance(discriminator.outputs, list)
            else [discriminator.outputs]
        )
        if len(outputs) != 2:
            raise ValueError(
                "ACGAN needs a discriminator returning [logit, class_logits] (e.g. "
                "dcgan_discriminator(num_classes=..., aux_classifier=True)); "
                f"`{discriminator.name}` has {len(outputs)} output(s)."
            )
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        self.class_weight = non_negative(class_weight, "class_weight")

    def _make_tracker(self, name):
        if name == "d_class_accuracy":
            return keras.metrics.SparseCategoricalAccuracy(name=name)
        return super()._make_tracker(name)

    def _critic(self, images, labels, training=True):
        logit, classes = self.discriminator(images, training=training)
        return logit, classes

    def _class_loss(self, class_logits, labels):
        return ops.mean(
            keras.losses.sparse_categorical_crossentropy(
                ops.reshape(labels, (-1,)), ops.cast(class_logits, "float32"), from_logits=True
            )
        )

    def _class_report(self, real_classes, labels, class_loss):
        accuracy = next(t for t in self.trackers if t.name == "d_class_accuracy")
        accuracy.update_state(ops.reshape(labels, (-1,)), real_classes)
        return {"d_class_loss": class_loss}

    def get_config(self):
        return {**super().get_config(), "class_weight": self.class_weight}
