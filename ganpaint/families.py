"""Model families: each registered once, with everything a recipe needs to build it.

A `Family` holds the model class it trains, how a recipe's fields become its networks and
model, how its data become a training pipeline and reference images, how many data paths it
takes and what kind of sampling it does. `ganpaint.recipes`, the command line and the
notebook generator look a family up by the recipe's `model` name, and nothing else names a
family; an unknown name is an error that lists the registered ones.

Adding a family is one `register(Family(...))` here (and its model class in `ganpaint.gans`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ganpaint import data as gdata
from ganpaint import discriminators, gans, generators, losses
from ganpaint.errors import UserError


@dataclass(frozen=True)
class Family:
    """One model family.

    Attributes:
        name: what a recipe's `model` field says ("gan", "cyclegan", ...).
        model_class: the `ganpaint.gans` class it trains.
        networks: recipe -> the networks, by the model class's argument names (the one
            factory of a family's networks: recipes, benchmarks and tests build them here).
        builders: recipe -> (generator builder, discriminator builder): the functions whose
            other keywords `networks.generator.KEY` / `networks.discriminator.KEY` set.
        training_dataset: (recipe, sources, batch_size, seed) -> a `tf.data.Dataset`.
        references: (recipe, sources, seed) -> (fixed inputs for grids and translation
            scores or None, real images for FID).
        domains: int. Data paths a run takes (CycleGAN: two, unpaired).
        kind: "generate", "labelled" or "translate": how the notebooks show its samples.
        crops_boxes: bool. Takes `annotations` (VOC box crops of its training images).
    """

    name: str
    model_class: type
    networks: Callable
    builders: Callable
    training_dataset: Callable
    references: Callable
    domains: int = 1
    kind: str = "generate"
    crops_boxes: bool = False

    def build(self, recipe, seed):
        """The family's model (uncompiled) with the recipe's networks and model settings."""
        return self.model_class(
            **self.networks(recipe), seed=seed, **model_kwargs(recipe, self.model_class)
        )


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.name] = family
    return family


def family(name: str) -> Family:
    """The family a recipe's `model` names; an unknown name lists the registered ones."""
    if name not in FAMILIES:
        raise ValueError(f"Unknown model family {name!r}. Families: {', '.join(FAMILIES)}")
    return FAMILIES[name]


# -- pieces every family uses ------------------------------------------------------------------


def _shape(recipe):
    return (recipe.image_size, recipe.image_size, recipe.channels)


def model_kwargs(recipe, model_class) -> dict:
    """The recipe's model section as keywords of `model_class`: each field of
    `SECTIONS["model"]` the class takes (None left to the class's default or preset), then
    `model_options` (checked against the class's signature by `ganpaint.settings`)."""
    from ganpaint.recipe_presets import SECTIONS
    from ganpaint.settings import keywords

    taken = keywords(model_class)
    found = {
        k: getattr(recipe, k)
        for k in SECTIONS["model"]
        if k in taken and getattr(recipe, k) is not None
    }
    found.update(recipe.model_options)
    return found


def _d_norm(recipe, builder="dcgan"):
    if recipe.loss is not None and losses.objective(recipe.loss).penalty:
        return None  # the gradient penalty is per example: no batch statistics in the critic
    if recipe.d_norm == "auto":
        return "auto" if builder == "dcgan" else recipe.norm
    return recipe.norm if recipe.d_norm == "same" else recipe.d_norm


def _common(recipe, seed) -> dict:
    return dict(
        image_size=recipe.image_size, channels=recipe.channels, seed=seed, on_error=recipe.on_error
    )


def first_images(dataset, n):
    """The first `n` images of a dataset of batches (or of (images, ...) batches)."""
    parts, count = [], 0
    for element in dataset:
        batch = np.asarray(element[0] if isinstance(element, (tuple, list)) else element)
        parts.append(batch)
        count += len(batch)
        if count >= n:
            break
    return np.concatenate(parts)[:n]


# -- noise models: GAN, ConditionalGAN, ACGAN ----------------------------------------------------


def _noise_networks(labelled, aux_classifier):
    def networks(recipe):
        shape, classes = _shape(recipe), recipe.num_classes if labelled else None
        g = generators.dcgan_generator(
            recipe.latent_dim,
            shape,
            classes,
            base_filters=recipe.base_filters,
            max_filters=recipe.max_filters,
            norm=recipe.norm,
            conditioning=recipe.g_conditioning,
            **recipe.generator_options,
        )
        d = discriminators.dcgan_discriminator(
            shape,
            classes,
            aux_classifier,
            **{
                "base_filters": recipe.base_filters,
                "max_filters": recipe.max_filters,
                "norm": _d_norm(recipe),
                "dropout": recipe.dropout,
                "spectral_norm": recipe.spectral_norm,
                "conditioning": recipe.conditioning,
                **recipe.discriminator_options,  # its own width, if it says one
            },
        )
        return dict(generator=g, discriminator=d)

    return networks


def _noise_builders(recipe):
    return generators.dcgan_generator, discriminators.dcgan_discriminator


def _image_source(source, **kwargs):
    """image_dataset for a path, an array, or an (images, labels) pair of arrays."""
    if isinstance(source, tuple) and len(source) == 2 and not isinstance(source[0], str):
        return gdata.image_dataset(source[0], labels=source[1], **kwargs)
    return gdata.image_dataset(source, **kwargs)


def _boxes(recipe) -> dict:
    return (
        {}
        if recipe.annotations is None
        else dict(annotations=recipe.annotations, box_margin=recipe.box_margin)
    )


def _noise_dataset(labelled):
    def training_dataset(recipe, sources, batch, seed):
        kwargs = dict(
            _common(recipe, seed),
            batch_size=batch,
            augment=recipe.augment,
            resize_mode=recipe.resize_mode,
            **_boxes(recipe),
        )
        if labelled and not isinstance(sources[0], tuple):
            kwargs["labels"] = True
        return _image_source(sources[0], **kwargs)

    return training_dataset


def _noise_references(recipe, sources, seed):
    real = first_images(
        _image_source(
            sources[0],
            **dict(
                _common(recipe, seed),
                batch_size=64,
                shuffle=True,
                augment=None,
                drop_remainder=False,
                cache=False,
                resize_mode=recipe.resize_mode,
                **_boxes(recipe),
            ),
        ),
        recipe.fid_samples,
    )
    return None, real


for _name, _cls, _labelled, _aux in (
    ("gan", gans.GAN, False, False),
    ("cgan", gans.ConditionalGAN, True, False),
    ("acgan", gans.ACGAN, True, True),
):
    register(
        Family(
            _name,
            _cls,
            _noise_networks(_labelled, _aux),
            _noise_builders,
            _noise_dataset(_labelled),
            _noise_references,
            kind="labelled" if _labelled else "generate",
            crops_boxes=True,
        )
    )


# -- translators: CycleGAN, pix2pix --------------------------------------------------------------

_TRANSLATORS = {
    "unet": generators.unet_generator,
    "resnet": generators.resnet_generator,
    "efficientnet": generators.efficientnet_generator,
}


def _translator_builders(recipe):
    if recipe.generator not in _TRANSLATORS:
        raise UserError(
            f"networks.generator must be {', '.join(_TRANSLATORS)} for {recipe.name}. "
            f"Received: {recipe.generator!r}"
        )
    return _TRANSLATORS[recipe.generator], discriminators.patchgan_discriminator


def _translator(recipe, name):
    shape, options = _shape(recipe), dict(recipe.generator_options, name=name)
    if recipe.generator == "unet":
        return generators.unet_generator(
            shape,
            filters=recipe.base_filters,
            max_filters=recipe.max_filters,
            norm=recipe.norm,
            dropout=recipe.dropout,
            **options,
        )
    if recipe.generator == "resnet":
        return generators.resnet_generator(
            shape, filters=recipe.base_filters, norm=recipe.norm, **options
        )
    _translator_builders(recipe)  # names the choices
    return generators.efficientnet_generator(
        shape, recipe.backbone, weights=recipe.backbone_weights, norm=recipe.norm, **options
    )


def _patchgan(recipe, conditional=False, name=None):
    return discriminators.patchgan_discriminator(
        _shape(recipe),
        recipe.receptive_field,
        conditional=conditional,
        **{
            "filters": recipe.base_filters,
            "norm": _d_norm(recipe, "patchgan"),
            "spectral_norm": bool(recipe.spectral_norm),
            **({"name": name} if name else {}),
            **recipe.discriminator_options,  # its own width, if it says one
        },
    )


def _cyclegan_networks(recipe):
    g_ab, g_ba = (_translator(recipe, name) for name in ("g_ab", "g_ba"))
    d_a, d_b = (_patchgan(recipe, name=name) for name in ("d_a", "d_b"))
    return dict(g_ab=g_ab, g_ba=g_ba, d_a=d_a, d_b=d_b)


def _cyclegan_dataset(recipe, sources, batch, seed):
    return gdata.unpaired_dataset(
        *sources, batch_size=batch, augment=recipe.augment, **_common(recipe, seed)
    )


def _cyclegan_references(recipe, sources, seed):
    plain = dict(
        _common(recipe, seed), batch_size=16, augment=None, drop_remainder=False, cache=False
    )
    inputs, real = (
        first_images(gdata.image_dataset(s, **plain), recipe.fid_samples) for s in sources
    )
    return inputs, real


def _pix2pix_networks(recipe):
    return dict(
        generator=_translator(recipe, "generator"),
        discriminator=_patchgan(recipe, conditional=True),
    )


def _pix2pix_dataset(recipe, sources, batch, seed):
    return gdata.paired_dataset(
        sources[0], batch_size=batch, augment=recipe.augment, **_common(recipe, seed)
    )


def read_pairs(recipe, source, seed=0):
    """Every (input, target) pair of a paired source (side-by-side images, as pix2pix's data),
    at the recipe's size, unaugmented and in order: two arrays in [-1, 1]."""
    pairs = gdata.paired_dataset(
        source,
        batch_size=16,
        augment=None,
        shuffle=False,
        drop_remainder=False,
        cache=False,
        **_common(recipe, seed),
    )
    inputs, targets = [], []
    for x, y in pairs:
        inputs.append(np.asarray(x))
        targets.append(np.asarray(y))
    return np.concatenate(inputs), np.concatenate(targets)


def _pix2pix_references(recipe, sources, seed):
    inputs, targets = read_pairs(recipe, sources[0], seed)
    return inputs[: recipe.fid_samples], targets[: recipe.fid_samples]


register(
    Family(
        "cyclegan",
        gans.CycleGAN,
        _cyclegan_networks,
        _translator_builders,
        _cyclegan_dataset,
        _cyclegan_references,
        domains=2,
        kind="translate",
    )
)
register(
    Family(
        "pix2pix",
        gans.Pix2Pix,
        _pix2pix_networks,
        _translator_builders,
        _pix2pix_dataset,
        _pix2pix_references,
        kind="translate",
    )
)


# -- builder defaults that have changed ---------------------------------------------------------


@dataclass(frozen=True)
class ChangedDefault:
    """A builder's default that has changed between versions. A run records it explicitly
    (`with_recorded_defaults`), so that a later change cannot alter a run's networks; a run
    folder from before it was recorded is matched against the earlier values
    (`earlier_settings`), newest first, each with the change that ended it.

    Attributes:
        key: the setting ("networks.generator.output").
        value: today's default.
        applies: recipe -> bool. Whether the recipe's builder takes the default (the recipe
            leaves the option, and any option that decides it, unset).
        earlier: ((settings, the change that ended them), ...), newest first.
    """

    key: str
    value: object
    applies: Callable
    earlier: tuple = ()


def _resnet_output_left_to_builder(recipe) -> bool:
    deciding = ("output", "residual", "output_channels")
    return (
        recipe.model in ("cyclegan", "pix2pix")
        and recipe.generator == "resnet"
        and not any(k in recipe.generator_options for k in deciding)
    )


CHANGED_DEFAULTS = (
    ChangedDefault(
        "networks.generator.output",
        "blend",
        _resnet_output_left_to_builder,
        (
            ({"networks.generator.output": "residual"}, "the blend output (issue 38)"),
            (
                {"networks.generator.output": "residual", "networks.generator.input_skip": False},
                "the input skip (issue 38)",
            ),
            ({"networks.generator.output": "tanh"}, "the identity start (issue 25)"),
        ),
    ),
)


def _without_own_options(recipe, default: ChangedDefault):
    """The recipe without the generator options `default` sets (today's or an earlier one's),
    to ask whether its networks take that default at all."""
    own = {key for settings, _ in default.earlier for key in settings} | {default.key}
    names = {key.removeprefix("networks.generator.") for key in own}
    kept = {k: v for k, v in recipe.generator_options.items() if k not in names}
    return recipe.replace(generator_options=kept)


def recorded_defaults(recipe) -> dict:
    """{"SECTION.KEY": today's default} of each changed builder default this recipe leaves
    to its builders (what a run of it records, and `ganpaint recipes` lists)."""
    return {d.key: d.value for d in CHANGED_DEFAULTS if d.applies(recipe)}


def recorded_keys(recipe) -> list[str]:
    """The settings whose builder default has changed and that this recipe's networks take,
    set or not: a run record from before they were recorded may lack them."""
    return [d.key for d in CHANGED_DEFAULTS if d.applies(_without_own_options(recipe, d))]


def with_recorded_defaults(recipe):
    """The recipe with each changed builder default it leaves to the builder said explicitly
    (`CHANGED_DEFAULTS`), so that the run it trains records the networks it was built with."""
    from ganpaint.settings import apply

    found = recorded_defaults(recipe)
    return apply(recipe, found) if found else recipe


def earlier_settings(recipe) -> list[tuple[dict, str]]:
    """(settings, the change that ended them) for each earlier default of the builder options
    this recipe's networks take, newest first: what a run started before a change was built
    with."""
    return [
        pair
        for d in CHANGED_DEFAULTS
        if d.applies(_without_own_options(recipe, d))
        for pair in d.earlier
    ]
