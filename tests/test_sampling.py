"""One sampling entry on every model: `model.sample(...)`, whatever the model's kind."""

import numpy as np
import pytest

from ganpaint import load_model, testing


@pytest.mark.parametrize("kind", list(testing.MODELS))
def test_every_model_samples_through_one_entry_and_round_trips(kind, tmp_path):
    model = testing.model(kind)
    model.compile()
    model.fit(tf_dataset(kind), epochs=1, verbose=0)
    inputs = testing.arrays(kind)[0][:3] if model.takes_inputs else None
    images = model.sample(3, inputs=inputs, seed=4)
    assert images.shape[0] == 3 and np.abs(images).max() <= 1.0
    again = model.sample(3, inputs=inputs, seed=4)
    np.testing.assert_array_equal(images, again)  # a seed (or the inputs) fixes the sample
    grid, cols = model.sample_grid(2, inputs=inputs)
    assert grid.ndim == 4
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path, compile=False)
    np.testing.assert_allclose(loaded.sample(3, inputs=inputs, seed=4), images, atol=1e-5)
    if model.num_classes is not None:
        np.testing.assert_array_equal(model.class_labels(5, start=2), [2, 0, 1, 2, 0])
    else:
        assert model.class_labels(5) is None


def tf_dataset(kind):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(testing.arrays(kind)).batch(4)


def test_wrong_requests_name_the_argument():
    gan, cycle, p2p = (testing.model(k) for k in ("gan", "cyclegan", "pix2pix"))
    with pytest.raises(ValueError, match="`inputs` are for translators"):
        gan.sample(2, inputs=np.zeros((2, 16, 16, 1), "float32"))
    with pytest.raises(ValueError, match="give the `inputs`"):
        cycle.sample(2)
    with pytest.raises(ValueError, match="direction"):
        p2p.sample(inputs=np.zeros((1, 16, 16, 3), "float32"), direction="BtoA")
    backwards = cycle.sample(inputs=np.zeros((1, 16, 16, 3), "float32"), direction="BtoA")
    np.testing.assert_allclose(
        backwards, cycle.translate(np.zeros((1, 16, 16, 3)), direction="BtoA")
    )


# -- model families: one registration each ----------------------------------------------------


def test_every_registered_family_builds_trains_one_step_samples_and_round_trips(tmp_path):
    from ganpaint import families, recipes
    from ganpaint.recipe_presets import RECIPES

    seen = set()
    for name, recipe in RECIPES.items():
        if recipe.model in seen or recipe.generator == "efficientnet":
            continue
        seen.add(recipe.model)
        setup = recipes.build(
            name,
            smoke=True,
            out_dir=str(tmp_path / name),
            epochs=1,
            steps_per_epoch=1,
            fid_every=0,
            tensorboard=False,
        )
        assert isinstance(setup.model, families.family(recipe.model).model_class)
        setup.fit(verbose=0)
        inputs = setup.fixed_inputs[:2] if setup.model.takes_inputs else None
        images = setup.model.sample(2, inputs=inputs, seed=1)
        loaded = __import__("ganpaint").load_model(tmp_path / name / "model.keras", compile=False)
        np.testing.assert_allclose(loaded.sample(2, inputs=inputs, seed=1), images, atol=1e-5)
    assert seen == set(families.FAMILIES)  # every family has a recipe, and each was tried
    with pytest.raises(ValueError, match="Unknown model family 'vae'. Families: gan, cgan"):
        families.family("vae")
