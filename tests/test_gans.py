"""Training models: each trains at tiny sizes, gradients reach the right networks, bad wiring
is refused with a message naming the shapes, and the inference helpers take any batch size."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganpaint import discriminators as D
from ganpaint import gans, losses
from ganpaint import generators as G
from ganpaint.optimizers import FusedAdam
from ganpaint.testing import LATENT, SIZE, arrays, dataset, model, networks, weights


def fit(m, kind, epochs=1, **compile_kwargs):
    m.compile(**compile_kwargs)
    return m.fit(dataset(kind), epochs=epochs, verbose=0).history


@pytest.mark.parametrize("kind", ["gan", "cgan", "acgan", "cyclegan", "pix2pix"])
def test_each_model_trains_with_finite_losses_and_changes_every_network(kind):
    m = model(kind)
    before = weights(m)
    history = fit(m, kind, epochs=2)
    for name, values in history.items():
        assert len(values) == 2 and np.all(np.isfinite(values)), (name, values)
    after = weights(m)
    moved = [not np.allclose(a, b) for a, b in zip(before, after)]
    assert all(moved), f"{moved.count(False)} of {len(moved)} variables did not move"
    assert int(m.g_optimizer.iterations) == int(m.d_optimizer.iterations) == 4


@pytest.mark.parametrize("loss", losses.LOSSES)
def test_gan_trains_with_every_loss(loss):
    m = model("gan", loss=loss, d_steps=2 if loss == "wgan-gp" else 1)
    history = fit(m, "gan")
    assert all(np.isfinite(v[0]) for v in history.values())
    assert ("gradient_penalty" in history) == (loss == "wgan-gp")


def test_d_steps_runs_that_many_discriminator_updates_per_generator_update():
    m = model("gan", loss="wgan-gp", d_steps=3)
    fit(m, "gan")
    assert int(m.d_optimizer.iterations) == 3 * int(m.g_optimizer.iterations) == 6


def _one_sgd_step(kind, d_lr, **kwargs):
    m = model(kind, **kwargs)
    m.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(d_lr))
    m.fit(dataset(kind, batch=4, n=4), epochs=1, verbose=0)
    n_g = len(m.generator_variables)
    w = weights(m)
    return w[:n_g], w[n_g:]


@pytest.mark.parametrize("kind, loss", [("gan", "bce"), ("gan", "ralsgan"), ("acgan", "bce")])
def test_simultaneous_update_takes_both_gradients_at_the_same_weights(kind, loss):
    g_alt, d_alt = _one_sgd_step(kind, 0.1, loss=loss)
    g_sim, d_sim = _one_sgd_step(kind, 0.1, loss=loss, simultaneous=True)
    for a, b in zip(d_alt, d_sim):  # the same noise, so the same discriminator update
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    # The alternating generator step sees the updated discriminator, the simultaneous one
    # the old: they differ, unless the discriminator did not move (learning rate 0).
    assert max(float(np.abs(a - b).max()) for a, b in zip(g_alt, g_sim)) > 1e-6
    g_frozen, _ = _one_sgd_step(kind, 0.0, loss=loss)
    for a, b in zip(g_frozen, g_sim):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_simultaneous_needs_one_discriminator_step_and_round_trips():
    with pytest.raises(ValueError, match="simultaneous"):
        model("gan", simultaneous=True, d_steps=2)
    m = model("gan", simultaneous=True)
    assert gans.GAN.from_config(m.get_config()).simultaneous is True


def test_soft_random_labels_train():
    m = model("cgan", label_smoothing=((0.7, 1.2), (0.0, 0.3)))
    assert np.isfinite(fit(m, "cgan")["d_loss"][0])


def test_acgan_reports_class_accuracy_of_real_images():
    m = model("acgan", class_weight=1.0)
    history = fit(m, "acgan", epochs=2)
    assert 0.0 <= history["d_class_accuracy"][-1] <= 1.0
    assert history["d_class_loss"][0] > 0


def test_each_cyclegan_generator_receives_gradient_from_both_cycle_losses():
    m = model("cyclegan")
    a, b = (tf.constant(x[:2]) for x in arrays("cyclegan"))
    for term in ("cycle_a_loss", "cycle_b_loss"):
        with tf.GradientTape(persistent=True) as tape:
            loss = m.generator_losses(a, b)[term]
        for net in (m.g_ab, m.g_ba):
            grads = tape.gradient(loss, net.trainable_variables)
            reached = sum(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
            assert reached == len(grads), f"{term} reaches {reached}/{len(grads)} of {net.name}"


def test_cyclegan_total_generator_loss_is_the_weighted_sum_of_its_terms():
    m = model("cyclegan", cycle_weight=10.0, identity_weight=0.5)
    a, b = (tf.constant(x[:2]) for x in arrays("cyclegan"))
    t = {
        k: float(v)
        for k, v in m.generator_losses(a, b, training=False).items()
        if k not in ("fake_a", "fake_b") and not k.endswith("_logits")
    }
    expected = (
        t["g_ab_loss"]
        + t["g_ba_loss"]
        + 10 * (t["cycle_a_loss"] + t["cycle_b_loss"])
        + 10 * 0.5 * t["identity_loss"]
    )
    assert t["g_loss"] == pytest.approx(expected, rel=1e-5)
    assert model("cyclegan", identity_weight=0).generator_losses(a, b)["identity_loss"] is None


# -- the image pool ------------------------------------------------------------------------


def test_image_pool_fills_then_swaps_half_the_time():
    pool = gans.ImagePool(4)
    pool.build((None, 1))
    seen = []
    for step in range(40):
        batch = tf.constant([[float(2 * step)], [float(2 * step + 1)]])
        out = np.asarray(pool.query(batch, tf.constant([step, 0]))).ravel()
        stored = np.asarray(pool.images.value).ravel()
        if step < 2:  # filling: fakes pass through and are stored in order
            np.testing.assert_array_equal(out, batch.numpy().ravel())
            np.testing.assert_array_equal(stored[: 2 * step + 2], np.arange(2 * step + 2))
        else:
            for value, new in zip(out, batch.numpy().ravel()):
                seen.append(value != new)
                assert value == new or value < 2 * step  # an older fake from the pool
            assert set(batch.numpy().ravel()) - set(out) <= set(stored)  # swapped-in are kept
        if step >= 1:
            assert len(set(stored)) == 4  # full, and never two copies of one fake
    assert int(pool.count.value) == 4
    assert 0.3 < np.mean(seen) < 0.7


def test_image_pool_of_zero_passes_through_and_a_batch_larger_than_the_pool_is_refused():
    off = gans.ImagePool(0)
    off.build((None, 2))
    x = tf.ones((3, 2))
    np.testing.assert_array_equal(off.query(x, tf.constant([0, 0])), x)
    small = gans.ImagePool(2)
    small.build((None, 2))
    with pytest.raises(ValueError, match="holds 2 images but the per-replica batch is 3"):
        small.query(x, tf.constant([0, 0]))
    with pytest.raises(ValueError, match="pool_size"):
        gans.ImagePool(-1)


# -- wiring errors -------------------------------------------------------------------------


def test_generator_output_must_match_discriminator_input():
    g = G.dcgan_generator(LATENT, (32, 32, 1), base_filters=8)
    d = D.dcgan_discriminator((16, 16, 1), base_filters=8)
    with pytest.raises(ValueError, match=r"shape \(32, 32, 1\).*takes \(16, 16, 1\)"):
        gans.GAN(g, d)


def test_latent_dim_must_match_the_generator():
    with pytest.raises(ValueError, match=r"noise input has shape \(8,\).*latent_dim=10"):
        gans.GAN(*networks("gan"), latent_dim=10)


def test_cyclegan_checks_every_meeting_point():
    g_ab, g_ba, d_a, _ = networks("cyclegan")
    d_b = D.patchgan_discriminator((32, 32, 3), 16, filters=4)
    with pytest.raises(ValueError, match="G_AB output vs D_B input"):
        gans.CycleGAN(g_ab, g_ba, d_a, d_b)


def test_conditional_models_need_conditional_networks():
    g, d = networks("gan")
    with pytest.raises(ValueError, match=r"\[noise, labels\]"):
        gans.ConditionalGAN(g, d)
    g, d = networks("cgan")
    with pytest.raises(ValueError, match=r"\[images, labels\]"):
        gans.ConditionalGAN(g, D.dcgan_discriminator((SIZE, SIZE, 1), base_filters=8))
    with pytest.raises(ValueError, match=r"\[logit, class_logits\]"):
        gans.ACGAN(g, d)
    with pytest.raises(ValueError, match=r"conditional=True"):
        gans.Pix2Pix(
            G.unet_generator((SIZE, SIZE, 3), filters=4),
            D.patchgan_discriminator((SIZE, SIZE, 3), 16, filters=4),
        )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="d_steps"):
        model("gan", d_steps=0)
    with pytest.raises(ValueError, match="cycle_weight"):
        model("cyclegan", cycle_weight=-1)
    with pytest.raises(ValueError, match="l1_weight"):
        model("pix2pix", l1_weight="100")
    with pytest.raises(ValueError, match="`loss` must be one of"):
        model("gan", loss="wasserstein")
    m = model("gan")
    with pytest.raises(ValueError, match="unexpected arguments \\['loss'\\]"):
        m.compile(loss="bce")
    with pytest.raises(ValueError, match="g_optimizer"):
        m.compile(g_optimizer="no-such-optimizer")
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer objects"):
        m.compile(opt, opt)


def test_a_dataset_of_single_batches_is_refused_by_paired_models():
    m = model("cyclegan")
    m.compile()
    images = tf.data.Dataset.from_tensor_slices(arrays("cyclegan")[0]).batch(2)
    with pytest.raises(ValueError, match=r"\(domain A, domain B\) pairs"):
        m.fit(images, epochs=1, verbose=0)


# -- inference helpers ---------------------------------------------------------------------


def test_generate_handles_any_count_and_fixed_noise_is_deterministic():
    m = model("gan")
    images = m.generate(5, batch_size=2)
    assert images.shape == (5, SIZE, SIZE, 1) and images.dtype == np.float32
    assert np.abs(images).max() <= 1.0
    noise = np.random.default_rng(0).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_allclose(
        m.generate(noise=noise), m.generate(noise=noise, batch_size=1), atol=1e-6
    )
    with pytest.raises(ValueError, match=r"\[N, 8\]"):
        m.generate(noise=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="unconditional"):
        m.generate(2, labels=[1, 2])


def test_conditional_generate_follows_the_labels():
    m = model("cgan")
    noise = np.zeros((3, LATENT), "float32")
    images = m.generate(noise=noise, labels=[0, 1, 2])
    assert images.shape == (3, SIZE, SIZE, 1)
    assert not np.allclose(images[0], images[1])  # same noise, different class
    assert m.generate(labels=[2, 2, 1, 0]).shape[0] == 4
    with pytest.raises(ValueError, match="needs `labels`"):
        m.generate(3)
    with pytest.raises(ValueError, match="2 entries for 3 images"):
        m.generate(noise=noise, labels=[0, 1])


def test_translate_in_batches_and_checks_shapes():
    m = model("cyclegan")
    a = arrays("cyclegan", 5)[0]
    out = m.translate(a, batch_size=2)
    assert out.shape == a.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, np.asarray(m.g_ab(a)), atol=1e-5)
    assert m.translate(a[0]).shape == (1, SIZE, SIZE, 3)  # one image
    np.testing.assert_allclose(m.translate(a, "BtoA"), np.asarray(m.g_ba(a)), atol=1e-5)
    with pytest.raises(ValueError, match=r"shape \[N, 16, 16, 3\]"):
        m.translate(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="direction"):
        m.translate(a, "AB")
    assert model("pix2pix").translate(a, batch_size=4).shape == a.shape


def _paper_pix2pix(**kwargs):
    """A pix2pix whose U-Net has batch norm and dropout, with moving averages far from any
    image's own statistics (as after batch-1 training)."""
    keras.utils.set_random_seed(3)
    g = G.unet_generator((SIZE, SIZE, 3), filters=4, dropout=0.5)
    m = gans.Pix2Pix(
        g,
        D.patchgan_discriminator((SIZE, SIZE, 3), 16, conditional=True, filters=4),
        seed=1,
        **kwargs,
    )
    for net in [m.generator] + ([m.ema_generator] if m.ema else []):
        for v in net.non_trainable_variables:
            if "moving_mean" in v.path:
                v.assign(np.full(v.shape, 0.7, "float32"))
    return m


def _each_image_on_its_own_statistics(net, images):
    """The plain, stateful way: each image alone through the same U-Net built without
    dropout, in training mode, its weights put back after each call."""
    plain = G.unet_generator((SIZE, SIZE, 3), filters=4, dropout=0.0)
    plain.set_weights(net.get_weights())
    start = [v.numpy() for v in plain.variables]
    out = []
    for image in images:
        out.append(plain(image[None], training=True).numpy()[0])
        for v, value in zip(plain.variables, start):
            v.assign(value)
    return np.stack(out)


@pytest.mark.parametrize("use_ema", [False, True])
def test_pix2pix_translates_each_image_on_its_own_statistics_and_changes_nothing(use_ema):
    m = _paper_pix2pix(ema=0.5)
    net = m.sampling_network("generator", use_ema)
    state = [v.numpy().copy() for v in m.variables]
    x = arrays("cyclegan", 5)[0]
    out = m.translate(x, batch_size=2, use_ema=use_ema)
    np.testing.assert_allclose(out, _each_image_on_its_own_statistics(net, x), atol=1e-5)
    assert all(np.array_equal(v.numpy(), s) for v, s in zip(m.variables, state))  # nothing moved
    assert not m.ema_generator.trainable and not any(  # the EMA copy stays frozen
        layer.trainable for layer in m.ema_generator._flatten_layers()
    )
    # A translation depends on its image alone: not on the batch, its order, or earlier calls.
    np.testing.assert_allclose(
        m.translate(x[::-1], batch_size=5, use_ema=use_ema), out[::-1], atol=1e-5
    )
    np.testing.assert_allclose(m.sample(inputs=x[2:3], use_ema=use_ema), out[2:3], atol=1e-5)
    # Keras' usual inference, one argument away, uses the moving averages.
    keras_way = gans.Pix2Pix(m.generator, m.discriminator, inference="moving_averages")
    np.testing.assert_allclose(
        keras_way.translate(x, use_ema=False), np.asarray(m.generator(x, training=False)), atol=1e-5
    )
    assert (
        np.abs(keras_way.translate(x, use_ema=False) - m.translate(x, use_ema=False)).max() > 0.05
    )


def test_pix2pix_inference_is_checked_and_saved(tmp_path):
    with pytest.raises(
        ValueError,
        match="`inference` must be one of 'per_image', "
        "'moving_averages'. Received: inference='paper'",
    ):
        model("pix2pix", inference="paper")
    m = _paper_pix2pix(inference="moving_averages")
    m.compile()
    m.save(tmp_path / "p.keras")
    assert keras.saving.load_model(tmp_path / "p.keras").inference == "moving_averages"
    assert model("pix2pix").inference == "per_image"
    assert (
        keras.saving.load_model(_saved(model("pix2pix"), tmp_path / "new.keras")).inference
        == "per_image"
    )
    # A file saved before the option existed translates as it did then.
    old = _saved(model("pix2pix"), tmp_path / "old.keras", drop="inference")
    assert keras.saving.load_model(old).inference == "moving_averages"


def _saved(m, path, drop=None):
    """`m` saved to `path`; with `drop`, that key taken out of the file's model config."""
    import json
    import zipfile

    m.compile()
    m.save(path)
    if drop:
        with zipfile.ZipFile(path) as z:
            files = {name: z.read(name) for name in z.namelist()}
        config = json.loads(files["config.json"])
        del config["config"][drop]
        files["config.json"] = json.dumps(config).encode()
        with zipfile.ZipFile(path, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
    return path


def test_pix2pix_translates_per_image_under_mixed_bfloat16(policy):
    policy("mixed_bfloat16")
    m = _paper_pix2pix()
    out = m.translate(arrays("cyclegan", 3)[0])
    assert out.dtype == np.float32 and np.isfinite(out).all()


# -- compile options, saving ----------------------------------------------------------------


def test_jit_compile_and_steps_per_execution_pass_through():
    m = model("cyclegan")
    history = fit(m, "cyclegan", jit_compile=True, steps_per_execution=2)
    assert m.jit_compile is True and m.steps_per_execution == 2
    assert np.isfinite(history["g_loss"][0])


def test_default_optimizers_are_the_papers_adam():
    m = model("gan")
    m.compile()
    for opt in (m.g_optimizer, m.d_optimizer):
        assert isinstance(opt, FusedAdam)
        assert float(opt.learning_rate) == pytest.approx(2e-4) and opt.beta_1 == 0.5
    m.compile(1e-3, keras.optimizers.RMSprop(5e-5))
    assert float(m.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert isinstance(m.d_optimizer, keras.optimizers.RMSprop)


@pytest.mark.parametrize("kind", ["acgan", "cyclegan"])
def test_model_round_trips_through_keras_file_with_its_optimizer_state(kind, tmp_path):
    m = model(kind, **({"pool_size": 6} if kind == "cyclegan" else {}))
    fit(m, kind, g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    path = str(tmp_path / "model.keras")
    m.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(m)
    for a, b in zip(weights(m), weights(loaded)):
        np.testing.assert_array_equal(a, b)
    assert float(loaded.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert int(loaded.g_optimizer.iterations) == int(m.g_optimizer.iterations) == 2
    for a, b in zip(
        m.g_optimizer.variables + m.d_optimizer.variables,
        loaded.g_optimizer.variables + loaded.d_optimizer.variables,
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert isinstance(loaded.d_optimizer, FusedAdam)  # the default, by its registered name
    if kind == "cyclegan":
        np.testing.assert_array_equal(loaded.pool_a.images.value, m.pool_a.images.value)
        assert int(loaded.pool_b.count.value) == 6
    history = loaded.fit(dataset(kind), epochs=1, verbose=0).history  # and trains on
    assert all(np.isfinite(v[0]) for v in history.values())


# -- mixed precision -----------------------------------------------------------------------


@pytest.fixture
def policy():
    def set_policy(name):
        keras.config.set_dtype_policy(name)

    yield set_policy
    keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize("kind", ["gan", "cyclegan"])
def test_mixed_bfloat16_trains_with_float32_outputs(kind, policy):
    policy("mixed_bfloat16")
    m = model(kind, **({"norm": "batch"} if kind == "gan" else {}))
    assert m.generator_variables[0].dtype == "float32"  # weights stay float32
    history = fit(m, kind)
    assert all(np.isfinite(v[0]) for v in history.values())
    assert not isinstance(m.g_optimizer, keras.optimizers.LossScaleOptimizer)
    out = m.generate(3) if kind == "gan" else m.translate(arrays(kind, 3)[0])
    assert out.dtype == np.float32 and np.isfinite(out).all()


def test_mixed_float16_wraps_optimizers_in_loss_scaling(policy):
    policy("mixed_float16")
    m = model("gan")
    m.compile()
    assert isinstance(m.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(m.d_optimizer, keras.optimizers.LossScaleOptimizer)
    # The saved compile config holds the plain optimizers; loading wraps them again.
    assert m.get_compile_config()["g_optimizer"]["class_name"] == "FusedAdam"


@pytest.mark.parametrize("kind", ["gan", "acgan", "cyclegan"])
def test_fused_network_calls_give_the_same_step_as_separate_calls(kind):
    fused, split = model(kind), model(kind)
    flag = "fuse_calls" if kind == "cyclegan" else "fuse_critic"
    assert getattr(fused, flag)  # no batch norm in these networks
    setattr(split, flag, False)
    for m in (fused, split):
        m.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5))
        m.fit(dataset(kind, batch=4, n=4), epochs=1, verbose=0)
    for a, b in zip(weights(fused), weights(split)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not model("gan", norm="batch").fuse_critic  # DCGAN's separate BN batches kept
