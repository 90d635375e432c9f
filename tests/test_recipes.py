"""Recipes: every recipe builds its model; overrides are checked by name."""

import keras
import pytest

from ganpaint import recipes
from ganpaint.optimizers import FusedAdam
from ganpaint.testing import MODELS


@pytest.mark.parametrize("name", [n for n in recipes.RECIPES if "efficientnet" not in n])
def test_every_recipe_builds_its_compiled_model(name):
    recipe = recipes.get(name, smoke=True)
    model = recipes.build_model(name, smoke=True)
    assert type(model) is MODELS[recipe.model] and model.compiled
    image = model.generator if hasattr(model, "generator") else model.g_ab
    assert tuple(image.outputs[0].shape[1:]) == (
        recipe.image_size,
        recipe.image_size,
        recipe.channels,
    )
    optimizer = FusedAdam if recipe.optimizer == "adam" else keras.optimizers.RMSprop
    assert isinstance(model.g_optimizer, optimizer)
    # A recipe that sets no rate leaves it to the model's preset (its one owner).
    expected = recipe.d_learning_rate
    if expected is None:
        expected = model.preset_optimizer["learning_rate"]
        presets = getattr(MODELS[recipe.model], "PRESETS", None)
        if presets:
            assert expected == presets[recipe.preset]["learning_rate"]
    assert float(model.d_optimizer.learning_rate) == pytest.approx(expected)


def test_build_model_takes_a_recipe_and_overrides():
    recipe = recipes.get("maps_pix2pix", smoke=True)
    model = recipes.build_model(recipe, image_size=64)
    assert tuple(model.generator.inputs[0].shape[1:]) == (64, 64, 3)
    with pytest.raises(ValueError, match="image_sise"):
        recipes.build_model("maps_pix2pix", image_sise=64)
    with pytest.raises(ValueError, match="Unknown recipe 'pix2pix'"):
        recipes.build_model("pix2pix")


def test_the_modern_dogs_recipe_has_the_contest_winners_pieces():
    from ganpaint.layers import ClassConditionalNormalization, SpectralConv2D

    model = recipes.build_model("dogs_sngan", smoke=True)
    assert model.adversarial.name == "hinge" and model.ema == 0.999
    assert model.augmenter.policy == "color,translation,cutout"
    assert any(isinstance(layer, ClassConditionalNormalization) for layer in model.generator.layers)
    assert any(isinstance(layer, SpectralConv2D) for layer in model.discriminator.layers)
    assert model.discriminator.get_layer("projection") is not None
    assert float(model.g_optimizer.learning_rate) == pytest.approx(1e-4)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert (model.d_optimizer.beta_1, model.d_optimizer.beta_2) == (0.0, 0.9)


@pytest.mark.parametrize("name", ["monet_cyclegan", "dogs_dcgan", "maps_pix2pix"])
def test_small_data_options_reach_every_recipe_model(name):
    model = recipes.build_model(
        name,
        smoke=True,
        diff_augment="translation",
        ada_target=0.6,
        ema=0.99,
        r1_weight=1.0,
        spectral_norm=True,
    )
    assert model.augmenter.policy == "translation" and model.augmenter.adaptive
    assert model.ema == 0.99 and model.r1_weight == 1.0
    assert all(hasattr(model, f"ema_{g}") for g in model._generators)
