"""Recipes: every recipe builds its model; overrides are checked by name."""
import keras
import pytest

from ganpaint import recipes
from ganpaint.optimizers import FusedAdam

from tiny_models import MODELS


@pytest.mark.parametrize("name", [n for n in recipes.RECIPES if "efficientnet" not in n])
def test_every_recipe_builds_its_compiled_model(name):
    recipe = recipes.get(name, smoke=True)
    model = recipes.build_model(name, smoke=True)
    assert type(model) is MODELS[recipe.model] and model.compiled
    image = model.generator if hasattr(model, "generator") else model.g_ab
    assert tuple(image.outputs[0].shape[1:]) == (recipe.image_size, recipe.image_size,
                                                 recipe.channels)
    optimizer = FusedAdam if recipe.optimizer == "adam" else keras.optimizers.RMSprop
    assert isinstance(model.g_optimizer, optimizer)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(recipe.d_learning_rate)


def test_build_model_takes_a_recipe_and_overrides():
    recipe = recipes.get("maps_pix2pix", smoke=True)
    model = recipes.build_model(recipe, image_size=64)
    assert tuple(model.generator.inputs[0].shape[1:]) == (64, 64, 3)
    with pytest.raises(ValueError, match="image_sise"):
        recipes.build_model("maps_pix2pix", image_sise=64)
    with pytest.raises(ValueError, match="Unknown recipe 'pix2pix'"):
        recipes.build_model("pix2pix")
