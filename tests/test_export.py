"""Exported generators: only the generator, uint8 in and out, equal to the Keras model."""

import numpy as np
import pytest
import tensorflow as tf

from ganpaint import cli, export, testing
from ganpaint.data import to_uint8
from ganpaint.errors import UserError


@pytest.fixture(scope="module")
def trained_like():
    """One model per kind, with EMA copies that differ from the trained generators."""
    models = {}
    for kind in ("gan", "acgan", "cyclegan", "pix2pix"):
        model = testing.model(kind, ema=0.5)
        model.compile()
        rng = np.random.default_rng(5)
        for name in ("generator",) if kind in ("gan", "acgan", "pix2pix") else ("g_ab", "g_ba"):
            net = getattr(model, name)

            def perturb():  # weights far enough from the start that outputs vary
                for w in net.trainable_weights:
                    w.assign(w + rng.normal(0, 0.3, w.shape).astype("float32"))

            perturb()
            getattr(model, f"ema_{name}").set_weights(net.get_weights())
            perturb()  # the trained generator now differs from its EMA copy
        models[kind] = model
    return models


def assert_same_images(got, expected):
    """Equal up to float rounding: a pixel may land one level away, rarely."""
    assert got.dtype == np.uint8 and got.shape == expected.shape
    diff = np.abs(got.astype(int) - expected.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.01, (diff.max(), diff.mean())


def _inputs_and_expected(model, kind, use_ema=True):
    rng = np.random.default_rng(0)
    if kind in ("gan", "acgan"):
        noise = rng.normal(size=(3, testing.LATENT)).astype("float32")
        labels = np.array([0, 1, 2], "int32") if kind == "acgan" else None
        inputs = {"noise": noise, **({"labels": labels} if labels is not None else {})}
        return inputs, to_uint8(model.generate(noise=noise, labels=labels, use_ema=use_ema))
    images = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    expected = to_uint8(model.translate(images / 127.5 - 1, use_ema=use_ema))
    return {"images": images}, expected


@pytest.mark.parametrize("kind", ["gan", "acgan", "cyclegan", "pix2pix"])
def test_savedmodel_and_tflite_exports_match_the_keras_model(trained_like, kind, tmp_path):
    model = trained_like[kind]
    inputs, expected = _inputs_and_expected(model, kind)
    saved = model.export_generator(tmp_path / "saved")
    served = tf.saved_model.load(saved).signatures["serving_default"]
    got = served(**{k: tf.constant(v) for k, v in inputs.items()})["images"].numpy()
    assert_same_images(got, expected)
    flat = model.export_generator(tmp_path / "g.tflite", format="tflite")
    assert_same_images(export.run_tflite(flat, **inputs), expected)
    # Without EMA: the trained generator itself, which here differs.
    inputs, raw = _inputs_and_expected(model, kind, use_ema=False)
    assert not np.array_equal(raw, expected)
    plain = model.export_generator(tmp_path / "plain", use_ema=False)
    got = (
        tf.saved_model.load(plain)
        .signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})["images"]
        .numpy()
    )
    assert_same_images(got, raw)


def test_a_pix2pix_export_translates_each_image_as_the_model_does(tmp_path):
    """Batch norm and dropout: the export normalises each image on its own statistics, as
    `translate` does, in both formats; and the Keras way when the model asks for it."""
    import keras

    from ganpaint import discriminators, gans, generators

    keras.utils.set_random_seed(2)
    shape = (16, 16, 3)
    for inference in ("per_image", "moving_averages"):
        model = gans.Pix2Pix(
            generators.unet_generator(shape, filters=4, dropout=0.5),
            discriminators.patchgan_discriminator(shape, 16, conditional=True, filters=4),
            ema=0.5,
            inference=inference,
        )
        for v in model.ema_generator.non_trainable_variables:
            if "moving_mean" in v.path:  # far from any image's own statistics
                v.assign(np.full(v.shape, 0.7, "float32"))
        inputs, expected = _inputs_and_expected(model, "pix2pix")
        saved = model.export_generator(tmp_path / inference)
        got = (
            tf.saved_model.load(saved)
            .signatures["serving_default"](images=tf.constant(inputs["images"]))["images"]
            .numpy()
        )
        assert_same_images(got, expected)
        flat = model.export_generator(tmp_path / f"{inference}.tflite", format="tflite")
        assert_same_images(export.run_tflite(flat, **inputs), expected)
        # The first image alone translates as it does in the batch.
        alone = export.run_tflite(flat, images=inputs["images"][:1])
        assert_same_images(alone, expected[:1])


def test_a_generator_export_draws_its_own_noise_from_a_seed(trained_like, tmp_path):
    served = tf.saved_model.load(trained_like["acgan"].export_generator(tmp_path / "s"))
    draw = served.signatures["from_seed"]
    args = dict(
        seed=tf.constant(7, tf.int64),
        count=tf.constant(4, tf.int32),
        labels=tf.constant([0, 1, 2, 0], tf.int32),
    )
    first, again = draw(**args)["images"].numpy(), draw(**args)["images"].numpy()
    assert first.shape == (4, 16, 16, 1) and np.array_equal(first, again)
    other = draw(**dict(args, seed=tf.constant(8, tf.int64)))["images"].numpy()
    assert not np.array_equal(first, other)


def test_a_translator_export_resizes_inputs_of_another_size(trained_like, tmp_path):
    served = tf.saved_model.load(trained_like["cyclegan"].export_generator(tmp_path / "c"))
    photos = np.random.default_rng(1).integers(0, 256, (2, 40, 24, 3), dtype=np.uint8)
    out = served.signatures["serving_default"](images=tf.constant(photos))["images"]
    assert out.shape == (2, 16, 16, 3)


def test_the_export_command_and_its_refusals(trained_like, tmp_path, capsys):
    path = str(tmp_path / "cycle.keras")
    trained_like["cyclegan"].save(path)
    out = tmp_path / "g_ba.tflite"
    assert (
        cli.main(["export", path, "--format", "tflite", "--direction", "BtoA", "--out", str(out)])
        == 0
    )
    assert "in: uint8 images, out: uint8 images" in capsys.readouterr().out
    before = out.read_bytes()
    assert cli.main(["export", path, "--format", "tflite", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == before
    assert cli.main(["export", path, "--format", "tflite", "--out", str(tmp_path / "x")]) == 2
    assert "--out for --format tflite must be one file ending in .tflite" in capsys.readouterr().err
    with pytest.raises(UserError, match="`path` for format='tflite' must be one file ending in"):
        trained_like["gan"].export_generator(tmp_path / "y", format="tflite")
    with pytest.raises(UserError, match="pass format='tflite' \\(or drop format='savedmodel'"):
        trained_like["gan"].export_generator(tmp_path / "y.tflite", format="savedmodel")


def test_a_residual_translator_converts_to_tflite_with_builtin_ops_alone(tmp_path):
    # The builders' default ResNet generator ends in ResidualTanh (atanh of the input), for
    # which TFLite has no kernel: the layer writes atanh with ops TFLite has.
    from ganpaint import discriminators as D
    from ganpaint import gans
    from ganpaint import generators as G

    g = G.resnet_generator((16, 16, 3), 1, filters=4, name="g_ab")
    rng = np.random.default_rng(0)
    for w in g.trainable_weights:
        w.assign(w + rng.normal(0, 0.1, w.shape).astype("float32"))
    model = gans.CycleGAN(
        g,
        G.resnet_generator((16, 16, 3), 1, filters=4, name="g_ba"),
        *(D.patchgan_discriminator((16, 16, 3), 16, filters=4, name=n) for n in ("d_a", "d_b")),
    )
    path = model.export_generator(tmp_path / "g.tflite", format="tflite")
    images = rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8")
    expected = to_uint8(g(images.astype("float32") / 127.5 - 1.0).numpy())
    got = export.run_tflite(path, images=images)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
