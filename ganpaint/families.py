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
        build: (recipe, seed) -> the model (uncompiled), networks included.
        training_dataset: (recipe, sources, batch_size, seed) -> a `tf.data.Dataset`.
        references: (recipe, sources, seed) -> (fixed inputs for grids and translation
            scores or None, real images for FID).
        domains: int. Data paths a run takes (CycleGAN: two, unpaired).
        kind: "generate", "labelled" or "translate": how the notebooks show its samples.
        crops_boxes: bool. Takes `annotations` (VOC box crops of its training images).
    """

    name: str
    model_class: type
    build: Callable
    training_dataset: Callable
    references: Callable
    domains: int = 1
    kind: str = "generate"
    crops_boxes: bool = False


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


def _small_data(recipe) -> dict:
    return dict(diff_augment=recipe.diff_augment, augment_p=recipe.augment_p,
                ada_target=recipe.ada_target, ema=recipe.ema, r1_weight=recipe.r1_weight,
                r1_every=recipe.r1_every)


def _d_norm(recipe, builder="dcgan"):
    if recipe.loss is not None and losses.objective(recipe.loss).penalty:
        return None  # the gradient penalty is per example: no batch statistics in the critic
    if recipe.d_norm == "auto":
        return "auto" if builder == "dcgan" else recipe.norm
    return recipe.norm if recipe.d_norm == "same" else recipe.d_norm


def _common(recipe, seed) -> dict:
    return dict(image_size=recipe.image_size, channels=recipe.channels, seed=seed,
                on_error=recipe.on_error)


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

def _noise_model(cls, labelled, aux_classifier):
    def build(recipe, seed):
        shape, classes = _shape(recipe), recipe.num_classes if labelled else None
        g = generators.dcgan_generator(recipe.latent_dim, shape, classes,
                                       base_filters=recipe.base_filters,
                                       max_filters=recipe.max_filters, norm=recipe.norm,
                                       conditioning=recipe.g_conditioning)
        d = discriminators.dcgan_discriminator(shape, classes, aux_classifier,
                                               base_filters=recipe.base_filters,
                                               max_filters=recipe.max_filters,
                                               norm=_d_norm(recipe), dropout=recipe.dropout,
                                               spectral_norm=recipe.spectral_norm,
                                               conditioning=recipe.conditioning)
        return cls(g, d, loss=recipe.loss, label_smoothing=recipe.label_smoothing,
                   simultaneous=recipe.simultaneous, seed=seed, **_small_data(recipe))
    return build


def _image_source(source, **kwargs):
    """image_dataset for a path, an array, or an (images, labels) pair of arrays."""
    if isinstance(source, tuple) and len(source) == 2 and not isinstance(source[0], str):
        return gdata.image_dataset(source[0], labels=source[1], **kwargs)
    return gdata.image_dataset(source, **kwargs)


def _boxes(recipe) -> dict:
    return ({} if recipe.annotations is None else
            dict(annotations=recipe.annotations, box_margin=recipe.box_margin))


def _noise_dataset(labelled):
    def training_dataset(recipe, sources, batch, seed):
        kwargs = dict(_common(recipe, seed), batch_size=batch, augment=recipe.augment,
                      resize_mode=recipe.resize_mode, **_boxes(recipe))
        if labelled and not isinstance(sources[0], tuple):
            kwargs["labels"] = True
        return _image_source(sources[0], **kwargs)
    return training_dataset


def _noise_references(recipe, sources, seed):
    real = first_images(_image_source(sources[0], **dict(
        _common(recipe, seed), batch_size=64, shuffle=True, augment=None, drop_remainder=False,
        cache=False, resize_mode=recipe.resize_mode, **_boxes(recipe))), recipe.fid_samples)
    return None, real


for _name, _cls, _labelled, _aux in (("gan", gans.GAN, False, False),
                                     ("cgan", gans.ConditionalGAN, True, False),
                                     ("acgan", gans.ACGAN, True, True)):
    register(Family(_name, _cls, _noise_model(_cls, _labelled, _aux), _noise_dataset(_labelled),
                    _noise_references, kind="labelled" if _labelled else "generate",
                    crops_boxes=True))


# -- translators: CycleGAN, pix2pix --------------------------------------------------------------

def _translator(recipe, name):
    shape = _shape(recipe)
    if recipe.generator == "unet":
        return generators.unet_generator(shape, filters=recipe.base_filters,
                                         max_filters=recipe.max_filters, norm=recipe.norm,
                                         dropout=recipe.dropout, name=name)
    if recipe.generator == "resnet":
        return generators.resnet_generator(shape, filters=recipe.base_filters, norm=recipe.norm,
                                           name=name)
    if recipe.generator == "efficientnet":
        return generators.efficientnet_generator(shape, recipe.backbone,
                                                 weights=recipe.backbone_weights, norm=recipe.norm,
                                                 name=name)
    raise UserError(f"`generator` must be unet, resnet or efficientnet for {recipe.name}. "
                    f"Received: {recipe.generator!r}")


def _patchgan(recipe, conditional=False, name=None):
    return discriminators.patchgan_discriminator(
        _shape(recipe), recipe.receptive_field, conditional=conditional,
        filters=recipe.base_filters, norm=_d_norm(recipe, "patchgan"),
        spectral_norm=bool(recipe.spectral_norm), **({"name": name} if name else {}))


def _build_cyclegan(recipe, seed):
    g_ab, g_ba = (_translator(recipe, name) for name in ("g_ab", "g_ba"))
    d_a, d_b = (_patchgan(recipe, name=name) for name in ("d_a", "d_b"))
    return gans.CycleGAN(g_ab, g_ba, d_a, d_b, preset=recipe.preset, loss=recipe.loss,
                         seed=seed, **_small_data(recipe))


def _cyclegan_dataset(recipe, sources, batch, seed):
    return gdata.unpaired_dataset(*sources, batch_size=batch, augment=recipe.augment,
                                  **_common(recipe, seed))


def _cyclegan_references(recipe, sources, seed):
    plain = dict(_common(recipe, seed), batch_size=16, augment=None, drop_remainder=False,
                 cache=False)
    inputs, real = (first_images(gdata.image_dataset(s, **plain), recipe.fid_samples)
                    for s in sources)
    return inputs, real


def _build_pix2pix(recipe, seed):
    return gans.Pix2Pix(_translator(recipe, "generator"), _patchgan(recipe, conditional=True),
                        preset=recipe.preset, loss=recipe.loss, seed=seed, **_small_data(recipe))


def _pix2pix_dataset(recipe, sources, batch, seed):
    return gdata.paired_dataset(sources[0], batch_size=batch, augment=recipe.augment,
                                **_common(recipe, seed))


def _pix2pix_references(recipe, sources, seed):
    pairs = gdata.paired_dataset(sources[0], batch_size=16, augment=None, shuffle=False,
                                 drop_remainder=False, cache=False, **_common(recipe, seed))
    inputs, targets = [], []
    for x, y in pairs:
        inputs.append(np.asarray(x))
        targets.append(np.asarray(y))
    inputs, targets = np.concatenate(inputs), np.concatenate(targets)
    return inputs[:recipe.fid_samples], targets[:recipe.fid_samples]


register(Family("cyclegan", gans.CycleGAN, _build_cyclegan, _cyclegan_dataset,
                _cyclegan_references, domains=2, kind="translate"))
register(Family("pix2pix", gans.Pix2Pix, _build_pix2pix, _pix2pix_dataset, _pix2pix_references,
                kind="translate"))
