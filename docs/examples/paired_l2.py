"""A template family: paired translation judged by an unconditional discriminator, plus an L2
term to the target. Copy it to start a family of your own (docs/adding_a_family.md).

    import ganpaint as gp
    import paired_l2                      # registers the family "paired_l2"
    setup = gp.recipes.build(paired_l2.RECIPE, smoke=True, out_dir="runs/paired")
    setup.fit()
"""

import keras
import tensorflow as tf

from ganpaint import data as gdata
from ganpaint import discriminators, families, generators
from ganpaint.gans.base import OneGenerator, as_pair, mean_l2, non_negative
from ganpaint.recipe_presets import RECIPES, Recipe


@keras.saving.register_keras_serializable(package="my_project")
class PairedL2(OneGenerator):
    """input -> target with an adversarial loss on targets alone and `l2_weight` * MSE.

    Every keyword of `__init__` is a recipe setting (`--set model.l2_weight=50`): the model
    section passes straight to the class. The base class takes the rest (loss, diff_augment,
    ema, r1_weight, seed, ...).
    """

    _metric_names = ("d_loss", "g_loss", "g_l2_loss")  # what the step reports, in order

    def __init__(self, generator, discriminator, *, l2_weight: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.l2_weight = non_negative(l2_weight, "l2_weight")
        self.init_small_data()  # EMA copies, when `ema` is set
        self.built = True

    def train_step(self, data):
        source, target = as_pair(data, "PairedL2", "input, target")
        self.begin_step(source)  # the replica's share of the global batch (tf.distribute)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(source, training=True)
            real_logits = self.discriminator(self.augment(target), training=True)
            fake_logits = self.discriminator(self.augment(fake), training=True)
            l2 = mean_l2(fake, target)
            g_loss = self.generator_loss(real_logits, fake_logits) + self.l2_weight * l2
            d_loss, *_ = self.discriminator_loss(real_logits, fake_logits)
        self.apply_loss(self.g_optimizer, g_tape, g_loss, self.generator_variables)
        self.apply_loss(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
        self.observe_real(real_logits)  # ADA's controller, when `ada_target` is set
        self.update_ema()
        return self.report(d_loss=d_loss, g_loss=g_loss, g_l2_loss=l2)

    # Sampling: a translator's `sample(inputs=...)`, `translate` and export come from these.
    takes_inputs = True
    directions = ("AtoB",)

    def translator(self, direction="AtoB", use_ema=True):
        return self.sampling_network("generator", use_ema)

    def translate(self, images, batch_size=8, use_ema=True):
        return self.translate_with(self.sampling_network("generator", use_ema), images, batch_size)

    def get_config(self):
        return {**super().get_config(), "l2_weight": self.l2_weight}


def _networks(recipe):
    """The family's one network factory: recipes, benchmarks and tests build here."""
    shape = (recipe.image_size, recipe.image_size, recipe.channels)
    return dict(
        generator=generators.unet_generator(
            shape,
            filters=recipe.base_filters,
            max_filters=recipe.max_filters,
            norm=recipe.norm,
            **recipe.generator_options,
        ),
        discriminator=discriminators.patchgan_discriminator(
            shape,
            recipe.receptive_field,
            filters=recipe.base_filters,
            norm=recipe.norm,
            **recipe.discriminator_options,
        ),
    )


def _builders(recipe):  # whose other keywords networks.generator.* / discriminator.* set
    return generators.unet_generator, discriminators.patchgan_discriminator


def _dataset(recipe, sources, batch_size, seed):
    return gdata.paired_dataset(
        sources[0],
        image_size=recipe.image_size,
        batch_size=batch_size,
        augment=recipe.augment,
        seed=seed,
        on_error=recipe.on_error,
    )


def _references(recipe, sources, seed):
    """(inputs the grids and scores translate, their real targets)."""
    pairs = gdata.paired_dataset(
        sources[0],
        image_size=recipe.image_size,
        batch_size=16,
        augment=None,
        shuffle=False,
        drop_remainder=False,
        cache=False,
    )
    inputs, targets = zip(*[(x.numpy(), y.numpy()) for x, y in pairs])
    inputs, targets = tf.concat(inputs, 0).numpy(), tf.concat(targets, 0).numpy()
    return inputs[: recipe.fid_samples], targets[: recipe.fid_samples]


families.register(
    families.Family(
        "paired_l2", PairedL2, _networks, _builders, _dataset, _references, kind="translate"
    )
)

RECIPE = Recipe(
    "maps_paired_l2",
    "aerial -> map with an unconditional PatchGAN and L2",
    "paired_l2",
    256,
    batch_size=1,
    epochs=100,
    sample="pairs",
    norm="instance",
    receptive_field=70,
    augment="jitter+flip",
    fid_every=10,
    fid_samples=200,
    smoke=dict(
        epochs=2,
        steps_per_epoch=3,
        batch_size=2,
        image_size=32,
        base_filters=4,
        max_filters=16,
        receptive_field=16,
        fid_every=1,
        fid_samples=4,
        fid_features="pixels",
        checkpoint_every=2,
    ),
)
RECIPES.setdefault(RECIPE.name, RECIPE)  # optional: `ganpaint recipes` and the CLI list it
