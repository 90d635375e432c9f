import keras
import numpy as np
import pytest
from helpers import round_trip

from ganpaint import generators as G
from ganpaint import layers


@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (64, 3), (320, 3)])
def test_dcgan_generator_sizes(size, channels):
    g = G.dcgan_generator(16, (size, size, channels), base_filters=8, max_filters=32)
    out = keras.ops.convert_to_numpy(g(np.random.normal(size=(2, 16)).astype("float32")))
    assert out.shape == (2, size, size, channels)
    assert out.dtype == np.float32 and np.abs(out).max() <= 1.0


def test_conditional_dcgan_generator_uses_the_label(tmp_path):
    g = G.dcgan_generator(8, (32, 32, 3), num_classes=10, base_filters=8)
    z = np.random.normal(size=(2, 8)).astype("float32")
    a = g.predict([z, np.array([1, 1])], verbose=0)
    b = g.predict([z, np.array([7, 7])], verbose=0)
    assert a.shape == (2, 32, 32, 3) and not np.allclose(a, b)
    round_trip(g, tmp_path, [z, np.array([3, 4])])


@pytest.mark.parametrize("shape", [(7, 7, 3), (28, 32, 3), (2, 2, 3), (64, 64)])
def test_dcgan_generator_rejects_impossible_sizes(shape):
    with pytest.raises(ValueError, match="image_shape"):
        G.dcgan_generator(8, shape)


def test_resnet_generator_matches_the_reference_parameter_count():
    # The official CycleGAN resnet_9blocks at 256x256x3: 11.378 M (the paper's plain output;
    # the default blend output adds its mask's convolution, 7 x 7 x 67 + 1, and the input
    # skip's 7 x 7 x 3 x 3 weights).
    assert G.resnet_generator((256, 256, 3), output="tanh").count_params() == 11_378_179
    assert G.resnet_generator((256, 256, 3)).count_params() == 11_378_179 + 7 * 7 * 67 + 1 + 441


def test_resnet_generator_small_round_trip(tmp_path):
    g = G.resnet_generator((32, 32, 3), n_blocks=2, filters=8)
    x = np.random.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    out = g.predict(x, verbose=0)
    assert out.shape == (2, 32, 32, 3) and np.abs(out).max() <= 1.0
    round_trip(g, tmp_path, x)


def test_resnet_generator_starts_near_the_identity_when_channels_match():
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (2, 16, 16, 3)).astype("float32")
    g = G.resnet_generator((16, 16, 3), n_blocks=1, filters=4)  # the default: the blend
    content = keras.Model(g.input, g.get_layer("out_content").output)(x).numpy()
    blended = x + (1 / (1 + np.exp(3.0))) * (content - x)  # 4.7 % of the way to a new picture
    np.testing.assert_allclose(g(x).numpy(), blended, atol=1e-5)
    assert isinstance(g.layers[-1], layers.BlendOutput)
    assert "input_skip" in [layer.name for layer in g.layers]
    # The residual output starts as the identity, its last convolution seeing the input
    # (issue 38's first form); without that, issue 25's.
    residual = G.resnet_generator((16, 16, 3), n_blocks=1, filters=4, output="residual")
    np.testing.assert_allclose(residual(x).numpy(), x, atol=1e-5)
    before = G.resnet_generator((16, 16, 3), n_blocks=1, filters=4, residual=True, input_skip=False)
    np.testing.assert_allclose(before(x).numpy(), x, atol=1e-5)
    assert residual.count_params() == before.count_params() + 7 * 7 * 3 * 3
    plain = G.resnet_generator((16, 16, 3), n_blocks=1, filters=4, residual=False)
    assert np.abs(plain(x).numpy() - x).mean() > 0.1
    with pytest.raises(ValueError, match="`residual=False` is `output='tanh'`; pass one of"):
        G.resnet_generator((16, 16, 3), 1, output="blend", residual=False)
    with pytest.raises(ValueError, match=r"`output` must be one of \('blend'"):
        G.resnet_generator((16, 16, 3), 1, output="gate")
    gray_to_rgb = G.resnet_generator((16, 16, 1), n_blocks=1, filters=4, output_channels=3)
    assert gray_to_rgb.output_shape == (None, 16, 16, 3)  # no residual across channel counts
    with pytest.raises(ValueError, match="input's 1 channels"):
        G.resnet_generator((16, 16, 1), n_blocks=1, filters=4, output_channels=3, residual=True)


def test_the_blend_s_full_content_gradient_changes_its_training_and_not_its_output(tmp_path):
    """`content_gradient="full"`: the same output and the same gradient to the mask, and the
    new picture gets the output's gradient whole (as if it were the output) instead of the
    mask's 4.7 % of it."""
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(1).uniform(-0.9, 0.9, (2, 16, 16, 3)), "float32")
    runs = {}
    for form in ("masked", "full"):
        keras.utils.set_random_seed(2)
        g = G.resnet_generator((16, 16, 3), n_blocks=1, filters=4, content_gradient=form)
        with tf.GradientTape() as tape:
            out = g(x)
            loss = tf.reduce_sum(out * tf.range(1.0, 4.0))  # a different weight per channel
        grads = tape.gradient(loss, g.trainable_variables)
        runs[form] = out.numpy(), {v.path: d for v, d in zip(g.trainable_variables, grads)}
    (masked, masked_grads), (full, full_grads) = runs["masked"], runs["full"]
    np.testing.assert_allclose(full, masked, atol=1e-6)
    for path in masked_grads:
        if "out_mask" in path:  # the mask learns as the blend's does
            np.testing.assert_allclose(full_grads[path], masked_grads[path], rtol=1e-5)
    bias = next(p for p in masked_grads if "out_conv" in p and "bias" in p)
    # the content's bias: the output's gradient (1, 2, 3 per channel, summed over pixels)
    np.testing.assert_allclose(
        full_grads[bias].numpy() / masked_grads[bias].numpy(), 1 + np.exp(3.0), rtol=0.05
    )
    g = G.resnet_generator((16, 16, 3), n_blocks=1, filters=4, content_gradient="full")
    assert round_trip(g, tmp_path, x.numpy()).layers[-1].content_gradient == "full"
    with pytest.raises(ValueError, match="this generator's output is 'tanh'. Pass output='blend'"):
        G.resnet_generator((16, 16, 3), 1, output="tanh", content_gradient="full")
    with pytest.raises(ValueError, match=r"`content_gradient` must be one of \('masked', 'full'\)"):
        G.resnet_generator((16, 16, 3), 1, content_gradient="whole")


def test_the_blend_mask_starts_where_mask_start_says(tmp_path):
    """`mask_start`: the mask's logit where training begins, so the untrained generator is
    sigmoid(mask_start) of the way from the input to its new picture, in both builders."""
    x = np.random.default_rng(3).uniform(-0.9, 0.9, (2, 16, 16, 3)).astype("float32")
    builders = (
        lambda **kw: G.resnet_generator((16, 16, 3), n_blocks=1, filters=4, **kw),
        lambda **kw: G.unet_generator((16, 16, 3), filters=4, output="blend", **kw),
    )
    for build in builders:
        for start in (G.BLEND_START, 0.0, 2):
            g = build(mask_start=start)
            content = keras.Model(g.input, g.get_layer("out_content").output)(x).numpy()
            share = 1 / (1 + np.exp(-start))
            np.testing.assert_allclose(g(x).numpy(), x + share * (content - x), atol=1e-5)
    opened = builders[0](mask_start=0.0, content_gradient="full")
    assert float(round_trip(opened, tmp_path, x).get_layer("out_mask").bias.numpy()[0]) == 0.0
    with pytest.raises(ValueError, match="this generator's output is 'residual'. Pass output="):
        G.resnet_generator((16, 16, 3), 1, output="residual", mask_start=0.0)
    for bad, why in (
        ("half", "must be a number"),
        (True, "must be a number"),
        (40.0, r"must be within \+-12"),
    ):
        with pytest.raises(ValueError, match=f"`mask_start` {why}.*Received: mask_start="):
            G.resnet_generator((16, 16, 3), 1, mask_start=bad)


def test_resnet_generator_rejects_odd_size():
    with pytest.raises(ValueError, match=r"divisible by 4.*\(30, 32, 3\)"):
        G.resnet_generator((30, 32, 3))


def test_unet_generator_matches_pix2pix_parameter_count():
    # pix2pix U-Net-256: 54,424,387 here (TF tutorial 54,425,859, which also normalizes the
    # 1x1 bottleneck; PyTorch unet_256 54.41 M, which counts no BN moving statistics).
    assert abs(G.unet_generator((256, 256, 3)).count_params() - 54.4e6) < 0.05e6


@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_unet_bottleneck_is_not_normalized_to_zero_at_batch_one(norm):
    # A norm on a 1x1 map (instance norm; batch norm at batch size 1) outputs zeros, which
    # would cut the innermost layer out of the network.
    g = G.unet_generator((16, 16, 3), filters=4, norm=norm)
    bottleneck = keras.Model(g.input, g.get_layer("down4_act").output)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    assert float(np.abs(bottleneck(x, training=True)).max()) > 1e-3


@pytest.mark.parametrize("size, depth", [(256, 8), (320, 6), (48, 4)])
def test_unet_default_depth_fits_the_size(size, depth):
    g = G.unet_generator((size, size, 3), filters=4, max_filters=8)
    assert g.output.shape == (None, size, size, 3)
    assert (
        len([l for l in g.layers if l.name.startswith("down") and l.name.endswith("_conv")])
        == depth
    )


def test_unet_small_round_trip(tmp_path):
    g = G.unet_generator((32, 32, 3), filters=8)
    x = np.random.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    assert np.abs(g.predict(x, verbose=0)).max() <= 1.0
    round_trip(g, tmp_path, x)


def test_unet_outputs_the_paper_s_by_default_and_the_resnet_s_forms_on_request(tmp_path):
    x = np.random.uniform(-0.9, 0.9, (2, 32, 32, 3)).astype("float32")
    plain = G.unet_generator((32, 32, 3), filters=8, dropout=0.0)
    assert plain.layers[-1].name == "output" and not isinstance(
        plain.layers[-1], layers.BlendOutput
    )
    same = G.unet_generator((32, 32, 3), filters=8, dropout=0.0, output="tanh")
    assert same.count_params() == plain.count_params()
    residual = G.unet_generator((32, 32, 3), filters=8, dropout=0.0, output="residual")
    np.testing.assert_allclose(residual(x).numpy(), x, atol=1e-5)  # starts as the identity
    blend = G.unet_generator((32, 32, 3), filters=8, dropout=0.0, output="blend")
    content = keras.Model(blend.input, blend.get_layer("out_content").output)(x).numpy()
    np.testing.assert_allclose(
        blend(x).numpy(), x + (1 / (1 + np.exp(3.0))) * (content - x), atol=1e-5
    )
    # the mask's transposed convolution on the last skip (8 + 8 channels): 4 x 4 x 16 + 1
    # weights, no input skip
    assert blend.count_params() == plain.count_params() + 4 * 4 * 16 + 1
    round_trip(blend, tmp_path, x)
    with pytest.raises(ValueError, match="`residual=True` is `output='residual'`; pass one of"):
        G.unet_generator((32, 32, 3), filters=8, output="blend", residual=True)


def test_unet_refuses_a_shallow_automatic_depth_but_takes_an_explicit_one():
    with pytest.raises(ValueError, match=r"allows only 2 stride-2 downsamplings.*`depth`"):
        G.unet_generator((300, 300, 3))
    assert G.unet_generator((300, 300, 3), depth=2, filters=4).output.shape == (None, 300, 300, 3)


def test_unet_rejects_a_depth_the_size_does_not_allow():
    with pytest.raises(ValueError, match=r"divisible by 2\*\*depth=256.*\(320, 320, 3\)"):
        G.unet_generator((320, 320, 3), depth=8)


@pytest.mark.parametrize("backbone", ["EfficientNetB0", "EfficientNetV2B0"])
def test_efficientnet_generator_builds_and_trains_one_step(backbone):
    g = G.efficientnet_generator((32, 32, 3), backbone, weights=None, decoder_filters=(16, 8, 8, 8))
    x = np.random.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    out = g(x, training=False).numpy()
    assert out.shape == (2, 32, 32, 3) and np.abs(out).max() <= 1.0
    encoder = g.get_layer("encoder")
    assert [o.shape[1] for o in encoder.outputs] == [16, 8, 4, 2]  # skips + cut at 1/16
    if backbone != "EfficientNetB0":
        return  # one backbone trains (tracing a step costs a minute); the wiring is shared
    before = [w.numpy().copy() for w in g.trainable_weights[:3]]
    g.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    history = g.fit(x, -x, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(b, w.numpy()) for b, w in zip(before, g.trainable_weights[:3]))


def test_efficientnet_generator_loads_a_local_weights_file(tmp_path):
    backbone = keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    path = str(tmp_path / "efficientnetb0_notop.weights.h5")
    backbone.save_weights(path)
    g = G.efficientnet_generator((32, 32, 3), weights=path, trainable_backbone=False)
    encoder = g.get_layer("encoder")
    np.testing.assert_array_equal(
        encoder.get_layer("stem_conv").kernel.numpy(),
        backbone.get_layer("stem_conv").kernel.numpy(),
    )
    assert not encoder.trainable and encoder.trainable_weights == []


def test_efficientnet_generator_round_trip(tmp_path):
    g = G.efficientnet_generator((32, 32, 3), skips=False, decoder_filters=(8,))
    round_trip(g, tmp_path, np.zeros((1, 32, 32, 3), "float32"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(backbone="ResNet50"), r"`backbone` must be one of .* Received: backbone='ResNet50'"),
        (dict(cut=3), r"`cut` must be a stride"),
        (dict(cut="no_such_layer"), r"`cut` 'no_such_layer' is not a layer of EfficientNetB0"),
        (dict(weights="/nonexistent/b0.h5"), r"`weights` file not found: /nonexistent/b0.h5"),
        (dict(image_shape=(48, 48, 3), cut=32), r"divisible by cut=32"),
        (dict(image_shape=(32, 32, 1)), r"take 3 channels"),
    ],
)
def test_efficientnet_generator_errors(kwargs, message):
    args = dict(image_shape=(32, 32, 3)) | kwargs
    with pytest.raises(ValueError, match=message):
        G.efficientnet_generator(**args)
