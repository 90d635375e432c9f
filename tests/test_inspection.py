"""feature_maps on plain and nested models; bad names list the valid ones."""

import keras
import numpy as np
import pytest

from ganpaint import generators as G
from ganpaint import inspection


@pytest.fixture(scope="module")
def effnet():
    return G.efficientnet_generator((64, 64, 3), "EfficientNetB0", weights=None)


def test_feature_maps_of_top_level_layers_match_sub_models():
    g = G.unet_generator((16, 16, 3), filters=4, dropout=0.0)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    maps = inspection.feature_maps(g, x, ["down2_conv", "up1_act", "output"])
    assert list(maps) == ["down2_conv", "up1_act", "output"]
    assert maps["down2_conv"].shape == (2, 4, 4, 8) and maps["output"].shape == (2, 16, 16, 3)
    direct = keras.Model(g.input, g.get_layer("up1_act").output)(x, training=False)
    np.testing.assert_allclose(maps["up1_act"], np.asarray(direct), atol=1e-6)
    np.testing.assert_allclose(maps["output"], np.asarray(g(x, training=False)), atol=1e-6)


def test_feature_maps_reach_into_a_nested_backbone(effnet):
    x = np.random.default_rng(1).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    maps = inspection.feature_maps(
        effnet, x, ["encoder/stem_conv", "block2a_expand_conv", "encoder", "out_conv"]
    )
    assert maps["encoder/stem_conv"].shape == (2, 32, 32, 32)
    assert maps["block2a_expand_conv"].shape == (2, 32, 32, 96)  # bare name, found inside
    assert isinstance(maps["encoder"], list)  # the encoder's outputs: skips + the cut
    cut = effnet.get_layer("encoder").outputs[-1]
    assert maps["encoder"][-1].shape == (2, 4, 4, cut.shape[-1])  # stride 16
    assert maps["out_conv"].shape == (2, 64, 64, 3)
    # The nested map is the backbone's own output on the rescaled input.
    encoder = effnet.get_layer("encoder")
    stem = keras.Model(encoder.input, encoder.get_layer("stem_conv").output)
    np.testing.assert_allclose(
        maps["encoder/stem_conv"], np.asarray(stem((x + 1) * 127.5)), rtol=1e-4, atol=1e-4
    )


def test_default_is_every_top_level_layer(effnet):
    maps = inspection.feature_maps(effnet, np.zeros((1, 64, 64, 3), "float32"))
    names = [l.name for l in effnet.layers if not isinstance(l, keras.layers.InputLayer)]
    assert list(maps) == names


def test_bad_layer_names_list_the_valid_ones(effnet):
    with pytest.raises(ValueError, match=r"No layer named 'nope'.*encoder/stem_conv.*out_conv"):
        inspection.feature_maps(effnet, np.zeros((1, 64, 64, 3), "float32"), ["nope"])
    assert "encoder/block1a_project_conv" in inspection.layer_paths(effnet)


def test_plot_feature_maps_writes_a_figure(effnet, tmp_path):
    maps = inspection.feature_maps(
        effnet, np.zeros((1, 64, 64, 3), "float32"), ["encoder/stem_conv", "out_conv"]
    )
    fig = inspection.plot_feature_maps(maps, tmp_path / "maps.png", channels=4)
    assert len(fig.axes) == 8 and (tmp_path / "maps.png").stat().st_size > 1000
