"""The seed experiments' hyperparameters as data: `Recipe`, `RECIPES` and `get`.

Pure Python (no TensorFlow), so the command line can list and check recipes without importing
TensorFlow; `ganpaint.recipes` builds them (and re-exports these names).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """A seed experiment's hyperparameters. `model` is one of gan, cgan, acgan, cyclegan,
    pix2pix; `sample` names the bundled sample(s) used when no data is given in smoke mode."""

    name: str
    summary: str
    model: str
    image_size: int
    channels: int = 3
    batch_size: int = 64
    epochs: int = 100
    sample: Any = None
    num_classes: int | None = None
    latent_dim: int = 128
    # None: the model's own default (GAN's "bce"; CycleGAN/Pix2Pix.PRESETS[preset]).
    loss: str | None = None
    preset: str = "ganpaint"  # CycleGAN / Pix2Pix: "ganpaint" (measured) or "paper"
    label_smoothing: Any = None
    # Adam's rate and betas; None: the model's `preset_optimizer` (GAN: 2e-4, beta_1 0.5, the
    # DCGAN paper's; ConditionalGAN: 4e-4, beta_1 0; CycleGAN/Pix2Pix: their preset's).
    g_learning_rate: float | None = None
    d_learning_rate: float | None = None
    optimizer: str = "adam"  # "adam" or "rmsprop"
    beta_1: float | None = None  # (SAGAN's TTUR uses 0.0 and 0.9)
    beta_2: float | None = None
    base_filters: int = 64
    max_filters: int = 512
    generator: str = "dcgan"  # dcgan, unet, resnet, efficientnet
    backbone: str = "EfficientNetB0"
    backbone_weights: str | None = "imagenet"
    receptive_field: int = 70
    simultaneous: bool = False  # GAN family: both gradients at the same weights
    # Labelled networks; None: the builders' defaults (cbn G; projection D with spectral norm
    # and no batch norm), chosen by the conditional benchmark. The seed notebooks' form:
    # conditioning="label_map", g_conditioning="label_map", spectral_norm=False.
    conditioning: str | None = None  # labelled D: "label_map" or "projection"
    g_conditioning: str | None = None  # labelled G: "label_map" or "cbn"
    spectral_norm: bool | None = None  # in the discriminator(s); None: the builder's default
    # The small-data tools (`ganpaint.gans.AdversarialModel`).
    diff_augment: str | None = None  # e.g. "color,translation,cutout"
    augment_p: float | None = None
    ada_target: float | None = None  # e.g. 0.6
    ema: float | None = None  # e.g. 0.999
    r1_weight: float = 0.0
    r1_every: int = 1
    norm: str | None = "batch"
    d_norm: str | None = "auto"  # the discriminator's norm; "same" as `norm`; "auto": the
    # DCGAN builder's (none with spectral norm, else batch), `norm` for a PatchGAN
    dropout: float = 0.0
    augment: Any = "flip"
    resize_mode: str = "stretch"
    on_error: str = "raise"  # unreadable image files: "raise" names them, "skip" leaves them out
    # GAN family: train on the objects cut from their VOC boxes (Stanford Dogs' Annotation/).
    annotations: str | None = None
    box_margin: float = 0.0
    decay_epochs: int = 0  # LinearDecay: constant for epochs - decay_epochs, then decay
    fid_every: int = 0  # 0: no FIDCheckpoint
    fid_samples: int = 1000
    fid_features: str = "inception"  # inception, pixels (cheap, offline) or off (no FID)
    # Inception's weights for training-time FID: a local .pb/.h5 file, "imagenet", or None
    # (find one: $GANPAINT_FID_WEIGHTS, a file under /kaggle/input, Keras' cache; else download).
    fid_weights: str | None = None
    gradient_norms: bool = False
    gradient_norms_every: int = 10  # batches between gradient-norm readings
    sample_every: int = 1
    tensorboard: bool = True  # TensorBoardLog into OUT/tensorboard (`--no-tensorboard`)
    # Translators: held-out pairs (what pix2pix's data takes: side-by-side input | target
    # images) scored each epoch by the L1 of the translated input to its target, logged as
    # `val_l1` (`callbacks.PairedL1`; e.g. the maps dataset's val/).
    val_pairs: str | None = None
    # Labelled recipes: a classifier of the recipe's classes (.keras, images in [-1, 1]) that
    # scores each `fid_every` epochs (each epoch when 0) how often the generator draws the
    # class asked for, `right_class`, and FID on its "features" layer, `judge_fid`
    # (`callbacks.ClassJudge`): Inception knows no digits.
    judge: str | None = None
    steps_per_epoch: int | None = None  # None: the whole dataset each epoch
    checkpoint_every: int = 500  # steps between checkpoints: what a kill can cost at most
    # Training steps per call of the compiled step; None: the strategy's default
    # (`recipes.default_steps_per_execution`: 32 on a TPU, 1 elsewhere).
    steps_per_execution: int | None = None
    # Every other keyword of the family's model class (`model.cycle_weight`, `model.d_steps`),
    # of its generator builder (`networks.generator.residual`) and of its discriminator
    # builder (`networks.discriminator.affine_norm`): see `ganpaint.settings`.
    model_options: dict = field(default_factory=dict)
    generator_options: dict = field(default_factory=dict)
    discriminator_options: dict = field(default_factory=dict)
    smoke: dict = field(default_factory=dict)

    def section(self, name: str) -> dict:
        """The fields of one section ("data", "networks", "model", "optimizer", "run")."""
        return {key: getattr(self, key) for key in SECTIONS[name]}

    def replace(self, **changes) -> Recipe:
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(
                f"Unknown recipe fields {unknown} for {self.name!r}. Fields: "
                f"{', '.join(f.name for f in dataclasses.fields(self))}"
            )
        return dataclasses.replace(self, **changes)


# Each field belongs to one section, as `ganpaint recipes NAME` and `--set SECTION.KEY=VALUE`
# show them. The model section also takes every keyword of the family's model class
# (`model_options`); the networks section the builders' (`generator.KEY`, `discriminator.KEY`).
SECTIONS: dict[str, tuple[str, ...]] = {
    "data": (
        "image_size",
        "channels",
        "batch_size",
        "augment",
        "resize_mode",
        "on_error",
        "annotations",
        "box_margin",
        "sample",
    ),
    "networks": (
        "generator",
        "base_filters",
        "max_filters",
        "norm",
        "d_norm",
        "dropout",
        "receptive_field",
        "spectral_norm",
        "latent_dim",
        "num_classes",
        "conditioning",
        "g_conditioning",
        "backbone",
        "backbone_weights",
    ),
    "model": (
        "preset",
        "loss",
        "label_smoothing",
        "simultaneous",
        "diff_augment",
        "augment_p",
        "ada_target",
        "ema",
        "r1_weight",
        "r1_every",
    ),
    "optimizer": (
        "optimizer",
        "g_learning_rate",
        "d_learning_rate",
        "beta_1",
        "beta_2",
        "decay_epochs",
    ),
    "run": (
        "epochs",
        "steps_per_epoch",
        "checkpoint_every",
        "steps_per_execution",
        "sample_every",
        "fid_every",
        "fid_samples",
        "fid_features",
        "fid_weights",
        "gradient_norms",
        "gradient_norms_every",
        "tensorboard",
        "val_pairs",
        "judge",
    ),
}
# Where the open-ended options live: section -> (field, prefix of its keys).
OPTION_FIELDS = {
    "model_options": ("model", ""),
    "generator_options": ("networks", "generator."),
    "discriminator_options": ("networks", "discriminator."),
}

_SMOKE = dict(
    epochs=2,
    steps_per_epoch=3,
    fid_every=1,
    fid_features="pixels",
    sample_every=1,
    gradient_norms_every=1,
    checkpoint_every=2,
)
_SMOKE_GAN = dict(
    _SMOKE, batch_size=8, base_filters=8, max_filters=32, latent_dim=16, fid_samples=16
)
_SMOKE_TRANSLATE = dict(_SMOKE, batch_size=2, base_filters=4, max_filters=16, fid_samples=4)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "dogs_dcgan",
            "DCGAN on Stanford Dogs / Kaggle all-dogs, 64 px",
            "gan",
            64,
            batch_size=32,
            epochs=100,
            sample="photo",
            label_smoothing=0.1,
            resize_mode="center_crop",
            fid_every=10,
            fid_samples=1000,
            smoke=dict(_SMOKE_GAN, image_size=32),
        ),
        Recipe(
            "dogs_ralsgan",
            "Relativistic average LSGAN on dogs, 64 px (the Kaggle kernel)",
            "gan",
            64,
            batch_size=32,
            epochs=100,
            sample="photo",
            loss="ralsgan",
            g_learning_rate=2e-4,
            d_learning_rate=2e-4,
            resize_mode="center_crop",
            fid_every=10,
            smoke=dict(_SMOKE_GAN, image_size=32),
        ),
        Recipe(
            "dogs_sngan",
            "Breed-conditional SNGAN-projection on Stanford Dogs, 64 px: cbn G, "
            "projection + spectral-norm D, hinge, DiffAugment, EMA, TTUR",
            "cgan",
            64,
            batch_size=64,
            epochs=200,
            sample="mnist",
            num_classes=120,
            latent_dim=128,
            loss="hinge",
            g_learning_rate=1e-4,
            d_learning_rate=4e-4,
            beta_1=0.0,
            beta_2=0.9,
            conditioning="projection",
            g_conditioning="cbn",
            spectral_norm=True,
            d_norm=None,
            diff_augment="color,translation,cutout",
            ema=0.999,
            resize_mode="center_crop",
            fid_every=10,
            fid_samples=1000,
            smoke=dict(_SMOKE_GAN, image_size=32, num_classes=10),
        ),
        Recipe(
            "monet_dcgan",
            "DCGAN on Monet paintings, 320 px (5x5 seed, 6 doublings)",
            "gan",
            320,
            batch_size=16,
            epochs=200,
            sample="monet",
            max_filters=512,
            fid_every=20,
            smoke=dict(_SMOKE_GAN, image_size=40),
        ),
        Recipe(
            "monet_cyclegan",
            "CycleGAN photo -> Monet: U-Net G, PatchGAN, linear decay, best FID",
            "cyclegan",
            256,
            batch_size=1,
            epochs=50,
            decay_epochs=25,
            sample=("photo", "monet"),
            generator="unet",
            norm="instance",
            receptive_field=70,
            augment="jitter+flip",
            fid_every=5,
            fid_samples=300,
            smoke=dict(_SMOKE_TRANSLATE, image_size=32, receptive_field=16, decay_epochs=1),
        ),
        Recipe(
            "cans_efficientnet_cyclegan",
            "CycleGAN Coke <-> Pepsi with an EfficientNet-backbone G",
            "cyclegan",
            128,
            batch_size=4,
            epochs=100,
            decay_epochs=50,
            sample=("photo", "monet"),
            generator="efficientnet",
            norm="instance",
            receptive_field=70,
            fid_every=10,
            fid_samples=200,
            smoke=dict(
                _SMOKE_TRANSLATE,
                image_size=32,
                receptive_field=16,
                decay_epochs=1,
                backbone_weights=None,
            ),
        ),
        Recipe(
            "mnist_acgan",
            "MNIST GAN whose discriminator also classifies digits (AC-GAN)",
            "acgan",
            28,
            channels=1,
            batch_size=64,
            epochs=50,
            sample="mnist",
            num_classes=10,
            latent_dim=100,
            optimizer="rmsprop",
            g_learning_rate=5e-5,
            d_learning_rate=5e-5,
            base_filters=64,
            max_filters=256,
            norm="batch",
            dropout=0.3,
            augment=None,
            fid_every=5,
            fid_samples=1000,
            fid_features="pixels",
            smoke=dict(_SMOKE_GAN, image_size=28, num_classes=10),
        ),
        Recipe(
            "maps_pix2pix",
            "pix2pix aerial -> map, 600 px pairs resized to 256",
            "pix2pix",
            256,
            batch_size=1,
            epochs=200,
            sample="pairs",
            generator="unet",
            norm="batch",
            dropout=0.5,
            receptive_field=70,
            augment="jitter+flip",
            fid_every=10,
            fid_samples=200,
            smoke=dict(_SMOKE_TRANSLATE, image_size=32, receptive_field=16, dropout=0.0),
        ),
        Recipe(
            "cifar10_cgan",
            "Label-conditioned GAN on CIFAR-10: soft labels, separate LRs, gradient norms",
            "cgan",
            32,
            batch_size=64,
            epochs=100,
            sample="mnist",
            num_classes=10,
            loss="bce",
            label_smoothing=((0.7, 1.2), (0.0, 0.3)),
            g_learning_rate=2e-4,
            d_learning_rate=1e-4,
            beta_1=0.5,
            dropout=0.4,
            gradient_norms=True,
            augment="flip",
            fid_every=10,
            smoke=dict(_SMOKE_GAN, image_size=32, num_classes=10),
        ),
    ]
}


def get(
    name: str | Recipe, smoke: bool = False, settings: dict | None = None, **overrides
) -> Recipe:
    """The recipe called `name` (or the `Recipe` given, or a recipe file's path), with smoke
    settings, `overrides` (named fields) and `settings` ({"model.cycle_weight": 10}: any
    `SECTION.KEY`, checked by `ganpaint.settings.apply`) applied, in that order."""
    if isinstance(name, Recipe):
        recipe = name
    elif name in RECIPES:
        recipe = RECIPES[name]
    elif isinstance(name, str) and name.endswith((".yaml", ".yml", ".json", ".py")):
        from ganpaint.settings import load_file

        recipe = load_file(name)
    else:
        raise ValueError(
            f"Unknown recipe {name!r}. Recipes: {', '.join(RECIPES)}; or a recipe "
            "file (.yaml, .json, .py)."
        )
    if smoke:
        recipe = recipe.replace(**recipe.smoke)
    recipe = recipe.replace(**overrides) if overrides else recipe
    if settings:
        from ganpaint.settings import apply

        recipe = apply(recipe, settings)
    return recipe
