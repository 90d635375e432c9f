"""pix2pix: a conditional GAN on paired images with an L1 term."""

from __future__ import annotations

import contextlib
import weakref

import keras
import numpy as np
import tensorflow as tf

from ganpaint.gans.base import (
    OneGenerator,
    as_pair,
    check_meet,
    input_shape_of,
    mean_l1,
    non_negative,
    output_shape_of,
    resolve_preset,
)


@keras.saving.register_keras_serializable(package="ganpaint")
class Pix2Pix(OneGenerator):
    """pix2pix (Isola et al. 2017): a conditional GAN on paired images with an L1 term.

    Generator loss: adversarial(D([x, G(x)])) + l1_weight * |G(x) - y|. The discriminator, a
    conditional PatchGAN taking [input, target], minimises half its loss on (x, y) and
    (x, G(x)), as the paper does. The generator pass is shared by both updates, which both use
    the discriminator from before the step (the TF tutorial's two-tape step).

    Two presets set the objective and `compile()`'s default Adam (README "Defaults"):
    "ganpaint" (the default: the paper's objective with Adam 4e-4, the winner of
    `benchmarks/defaults_search.py --family pix2pix` at 2,400 steps and of the known-answer
    suite's tuning and held-out tasks) and "paper" (Isola et al.: bce, l1_weight 100, Adam
    2e-4 with beta_1 0.5). An argument given explicitly overrides its preset.

    Args:
        generator: image-to-image model (e.g. `unet_generator`).
        discriminator: `patchgan_discriminator(..., conditional=True)`.
        preset: "ganpaint" (default) or "paper", as above.
        l1_weight: float. Lambda of the L1 term.
        inference: "per_image" (default; batch norm on each image's own statistics, above:
            nothing is updated, and a translation depends on its image alone) or
            "moving_averages" (Keras' inference mode: batch norm on the moving averages).
            Both leave dropout off.
        loss: adversarial loss (`ganpaint.losses.LOSSES`).
        diff_augment, augment_p, ada_target, ema, r1_weight, ...: the small-data tools of
            `AdversarialModel`. The discriminator's input image gets the same translation and
            cutout as the target it judges (colour changes the target only).

    The dataset yields (input, target) batches (`ganpaint.data.paired_dataset`).
    """

    _metric_names = ("g_loss", "g_gan_loss", "g_l1_loss", "d_loss")

    # Measured with per-image inference, the search found twice the paper's learning rate best
    # (docs/defaults.md); it kept the rest of the paper's setting.
    _PAPER = dict(loss="bce", l1_weight=100.0, learning_rate=2e-4, beta_1=0.5, beta_2=0.999)
    PRESETS = {"ganpaint": dict(_PAPER, learning_rate=4e-4), "paper": dict(_PAPER)}
    INFERENCE = ("per_image", "moving_averages")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        *,
        preset: str = "ganpaint",
        l1_weight: float | None = None,
        loss: str | None = None,
        inference: str = "per_image",
        label_smoothing=None,
        gp_weight: float = 10.0,
        seed: int | None = None,
        **kwargs,
    ):
        if inference not in self.INFERENCE:
            raise ValueError(
                f"`inference` must be one of {', '.join(map(repr, self.INFERENCE))}. "
                f"Received: inference={inference!r}"
            )
        values = resolve_preset(Pix2Pix, preset, dict(loss=loss, l1_weight=l1_weight))
        loss, l1_weight = values["loss"], values["l1_weight"]
        super().__init__(
            loss=loss, label_smoothing=label_smoothing, gp_weight=gp_weight, seed=seed, **kwargs
        )
        self.preset, self.inference = preset, inference
        self.preset_optimizer = {k: values[k] for k in ("learning_rate", "beta_1", "beta_2")}
        inputs = (
            discriminator.inputs
            if isinstance(discriminator.inputs, list)
            else [discriminator.inputs]
        )
        if len(inputs) != 2:
            raise ValueError(
                "Pix2Pix needs a conditional discriminator taking [input, target] "
                "(patchgan_discriminator(..., conditional=True)); "
                f"`{discriminator.name}` has {len(inputs)} input(s)."
            )
        check_meet(
            generator,
            input_shape_of(generator),
            discriminator,
            input_shape_of(discriminator, 0),
            "generator input vs discriminator input",
        )
        check_meet(
            generator,
            output_shape_of(generator),
            discriminator,
            input_shape_of(discriminator, 1),
            "generator output vs discriminator target",
        )
        self.generator, self.discriminator = generator, discriminator
        self.l1_weight = non_negative(l1_weight, "l1_weight")
        self.init_small_data()
        self.built = True

    def train_step(self, data):
        source, target = as_pair(data, "Pix2Pix", "input, target")
        self.begin_step(source)
        needs_real = self.adversarial.needs_real_for_generator
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(source, training=True)
            real_target, real_source = self.augment(target, source)
            fake_target, fake_source = self.augment(fake, source)
            real_logits = self.discriminator([real_source, real_target], training=True)
            fake_logits = self.discriminator([fake_source, fake_target], training=True)
            gan_loss = self.generator_loss(real_logits if needs_real else None, fake_logits)
            l1_loss = mean_l1(fake, target)
            g_loss = gan_loss + self.l1_weight * l1_loss
            # The penalties' critic judges targets against the source they were seen with.
            d_loss, _, _, r1 = self.discriminator_loss(
                real_logits,
                fake_logits,
                lambda x: self.discriminator([real_source, x], training=True),
                real_target,
                tf.stop_gradient(fake_target),
            )
            d_loss = 0.5 * d_loss
        self.apply_loss(self.g_optimizer, g_tape, g_loss, self.generator_variables)
        self.apply_loss(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
        self.observe_real(real_logits)
        self.update_ema()
        return self.report(
            g_loss=g_loss,
            g_gan_loss=gan_loss,
            g_l1_loss=l1_loss,
            d_loss=d_loss,
            **self.small_data_report(r1),
        )

    takes_inputs = True
    directions = ("AtoB",)  # one generator: input -> target

    def translator(self, direction: str = "AtoB", use_ema: bool = True) -> keras.Model:
        if direction != "AtoB":
            raise ValueError(
                "Pix2Pix has one generator (input -> target): direction='AtoB'. "
                f"Received: direction={direction!r}"
            )
        return self.sampling_network("generator", use_ema)

    def translate(self, images, batch_size: int = 8, use_ema: bool = True) -> np.ndarray:
        """Translate input images in [-1, 1] to targets, in batches (with the EMA generator
        when the model keeps one and `use_ema`)."""
        return self.translate_with(self.sampling_network("generator", use_ema), images, batch_size)

    def inference_function(self, net):
        if self.inference == "moving_averages":
            return super().inference_function(net)
        if net not in _PER_IMAGE:  # traced once per network, not once per call
            ref = weakref.ref(net)
            _PER_IMAGE[net] = tf.function(
                lambda x: per_image_inference(ref(), x), reduce_retracing=True
            )
        return _PER_IMAGE[net]

    def get_config(self):
        return {
            **super().get_config(),
            "preset": self.preset,
            "l1_weight": self.l1_weight,
            "inference": self.inference,
        }

    @classmethod
    def from_config(cls, config):
        # A model saved before `inference` existed translates as it did then.
        return super().from_config({"inference": "moving_averages", **config})


_PER_IMAGE = weakref.WeakKeyDictionary()  # network -> its traced per-image translation


def per_image_inference(net: keras.Model, images, dropout: bool = False):
    """`net(images)` with each image's batch norm on the image's own statistics, as the
    pix2pix paper infers (at batch 1 in training mode), with no state changed: the moving
    averages stay as they are, and a translation depends on its image alone. Batched
    (`tf.vectorized_map`) and exact per image. Frozen batch norm layers (an EMA copy is
    frozen) normalise per image too.

    dropout: bool. Keep dropout on, as the paper does at test time (its noise), with the
    dropout seeds as they stand: one mask for every image, so translations still repeat.
    Off by default: leaving it out scored a little better on 4 of the 5 known-answer tasks
    at 2,400 steps (docs/defaults.md)."""
    with _per_image_mode(net, dropout):
        trainable = [v.value for v in net.trainable_variables]
        non_trainable = [v.value for v in net.non_trainable_variables]

        def one(image):
            out, _ = net.stateless_call(trainable, non_trainable, image[None], training=True)
            return tf.cast(out[0], tf.float32)

        return tf.vectorized_map(one, tf.convert_to_tensor(images, tf.float32))


@contextlib.contextmanager
def _per_image_mode(net, dropout: bool):
    """While the call is traced: batch norm layers thawed (a frozen one ignores
    training=True) and, unless `dropout`, dropout rates at 0; both as they were afterwards."""
    layers = list(net._flatten_layers())
    frozen = [
        layer
        for layer in layers
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.trainable
    ]
    dropouts = (
        []
        if dropout
        else [(layer, layer.rate) for layer in layers if isinstance(layer, keras.layers.Dropout)]
    )
    for layer in frozen:
        layer.trainable = True
    for layer, _ in dropouts:
        layer.rate = 0.0
    try:
        yield
    finally:
        for layer in frozen:
            layer.trainable = False
        for layer, rate in dropouts:
            layer.rate = rate
