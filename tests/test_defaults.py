"""The defaults are the measured ones: the code's defaults equal what the search's JSON
(`docs/benchmarks/defaults.json`, written by `benchmarks/report.py`) says was chosen, and the
README shows the table rendered from that JSON. Changing a default without re-measuring and
re-rendering the table fails here. Also: the presets' mechanics, and the builders' labelled
defaults."""

import inspect
import json
import os

import keras
import pytest

from benchmarks import report
from ganpaint import discriminators as D
from ganpaint import gans, layers, recipes
from ganpaint import generators as G
from ganpaint.testing import networks

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def chosen():
    with open(os.path.join(ROOT, "docs", "benchmarks", "defaults.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("family, cls", [("cyclegan", gans.CycleGAN), ("pix2pix", gans.Pix2Pix)])
def test_model_presets_equal_the_measured_choice(chosen, family, cls):
    assert cls.PRESETS["ganpaint"] == chosen[family]["ganpaint"]
    assert cls.PRESETS["paper"] == chosen[family]["paper"]
    assert inspect.signature(cls).parameters["preset"].default == "ganpaint"


def test_labelled_builder_defaults_equal_the_measured_choice(chosen):
    expected = chosen["conditional"]["ganpaint"]
    g = G.dcgan_generator(8, (16, 16, 1), num_classes=3, base_filters=8)
    d = D.dcgan_discriminator((16, 16, 1), num_classes=3, base_filters=8)
    assert any(isinstance(x, layers.ClassConditionalNormalization) for x in g.layers) == (
        expected["g_conditioning"] == "cbn"
    )
    assert ("projection" in [x.name for x in d.layers]) == (
        expected["conditioning"] == "projection"
    )
    assert any(isinstance(x, layers.SpectralConv2D) for x in d.layers) == expected["spectral_norm"]
    assert any(isinstance(x, keras.layers.BatchNormalization) for x in d.layers) == (
        expected["d_norm"] == "batch"
    )


def test_conditional_gan_compiles_with_the_measured_optimizer(chosen):
    expected = chosen["conditional"]["optimizer"]
    pair = report.adam_pair(expected)
    g = G.dcgan_generator(8, (16, 16, 1), num_classes=3, base_filters=8)
    d = D.dcgan_discriminator((16, 16, 1), num_classes=3, base_filters=8)
    model = gans.ConditionalGAN(g, d)
    model.compile()
    for opt, want in zip((model.g_optimizer, model.d_optimizer), pair):
        assert (float(opt.learning_rate), opt.beta_1, opt.beta_2) == pytest.approx(
            (want["learning_rate"], want["beta_1"], want["beta_2"])
        )
    model.compile(1e-4, 3e-4)  # a given rate still wins (Adam, beta_1 0.5)
    assert [
        float(o.learning_rate) for o in (model.g_optimizer, model.d_optimizer)
    ] == pytest.approx([1e-4, 3e-4])


def test_readme_shows_the_table_of_the_json(chosen):
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    table = report.defaults_table(chosen)
    assert table in readme, (
        "README's defaults table differs from docs/benchmarks/defaults.json: "
        "run `python -m benchmarks.report --figures docs`"
    )


# -- presets ---------------------------------------------------------------------------------


def test_the_resnet_generators_output_is_the_held_out_winner():
    # The known-answer suite's "default" (what the held-out table reports) is what the
    # builder gives without arguments; the paper's plain output is one argument away.
    from benchmarks import known_answer

    with open(os.path.join(ROOT, "docs", "benchmarks", "known_answer_cyclegan.json")) as f:
        rows = json.load(f)["rows"]
    held_out = {r["setting"] for r in rows if r["suite"] == "held_out"}
    assert {"input skip", "identity start", "previous default", "paper", "tutorial"} <= held_out
    assert "blend" in held_out  # the candidate that became the default
    assert known_answer.CYCLE_SETTINGS["default"] == {}
    assert known_answer.CYCLE_SETTINGS["input skip"] == {"residual": True}
    assert known_answer.CYCLE_SETTINGS["identity start"] == {
        "residual": True,
        "input_skip": False,
    }
    shape = (16, 16, 3)
    default = G.resnet_generator(shape, 1, filters=4)
    assert isinstance(default.layers[-1], layers.BlendOutput)
    assert "input_skip" in [layer.name for layer in default.layers]
    input_skip = G.resnet_generator(shape, 1, filters=4, residual=True)
    assert isinstance(input_skip.layers[-1], layers.ResidualTanh)
    assert "input_skip" in [layer.name for layer in input_skip.layers]
    assert not isinstance(
        G.resnet_generator(shape, 1, filters=4, residual=False).layers[-1], layers.ResidualTanh
    )


def test_the_paper_preset_is_one_argument_away():
    m = gans.CycleGAN(*networks("cyclegan"), preset="paper")
    assert (m.adversarial.name, m.pool_size, m.cycle_weight, m.identity_weight) == (
        "lsgan",
        50,
        10.0,
        0.5,
    )
    m.compile()
    assert float(m.g_optimizer.learning_rate) == pytest.approx(2e-4)
    p = gans.Pix2Pix(*networks("pix2pix"), preset="paper")
    assert (p.adversarial.name, p.l1_weight) == ("bce", 100.0)


def test_an_explicit_argument_overrides_its_preset():
    m = gans.CycleGAN(*networks("cyclegan"), preset="paper", loss="hinge", pool_size=0)
    assert (m.adversarial.name, m.pool_size, m.cycle_weight) == ("hinge", 0, 10.0)
    m.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    assert float(m.g_optimizer.learning_rate) == pytest.approx(1e-3)


def test_an_unknown_preset_is_named():
    with pytest.raises(ValueError, match="preset.*'ganpaint', 'paper'.*Received: preset='junyanz'"):
        gans.CycleGAN(*networks("cyclegan"), preset="junyanz")


def test_presets_round_trip_through_keras_files(tmp_path):
    m = gans.CycleGAN(*networks("cyclegan"), preset="paper", pool_size=4)
    m.compile()
    m.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras")
    assert (back.preset, back.adversarial.name, back.pool_size) == ("paper", "lsgan", 4)


def test_recipes_take_the_paper_preset():
    model = recipes.build_model("monet_cyclegan", smoke=True, preset="paper")
    assert (model.preset, model.adversarial.name) == ("paper", "lsgan")
    assert float(model.g_optimizer.learning_rate) == pytest.approx(2e-4)
    default = recipes.build_model("monet_cyclegan", smoke=True)
    assert default.preset == "ganpaint"


def test_the_label_map_form_is_one_argument_away():
    g = G.dcgan_generator(8, (16, 16, 1), num_classes=3, base_filters=8, conditioning="label_map")
    d = D.dcgan_discriminator((16, 16, 1), num_classes=3, base_filters=8, conditioning="label_map")
    assert not any(isinstance(x, layers.ClassConditionalNormalization) for x in g.layers)
    assert "with_label" in [x.name for x in d.layers]
    assert not any(isinstance(x, layers.SpectralConv2D) for x in d.layers)
    assert any(isinstance(x, keras.layers.BatchNormalization) for x in d.layers)


def test_unconditional_and_acgan_discriminators_keep_dcgan_batch_norm():
    for d in (
        D.dcgan_discriminator((16, 16, 1), base_filters=8),
        D.dcgan_discriminator((16, 16, 1), 3, aux_classifier=True, base_filters=8),
    ):
        assert not any(isinstance(x, layers.SpectralConv2D) for x in d.layers)
        assert any(isinstance(x, keras.layers.BatchNormalization) for x in d.layers)


def test_every_marked_table_of_the_readme_and_docs_is_the_rendering_of_its_json():
    pages = [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(ROOT, "docs", p)
        for p in os.listdir(os.path.join(ROOT, "docs"))
        if p.endswith(".md")
    )
    seen = set()
    for page in pages:
        with open(page) as f:
            for name, content in report.marked_tables(f.read()):
                expected = report.rendered(name, os.path.join(ROOT, "docs", "benchmarks"))
                assert content == expected, (
                    f"{page}: table {name!r} differs from its JSON: "
                    "run `python -m benchmarks.report --docs .`"
                )
                seen.add(name)
    # The README's headline figures are among them, and every renderer is used somewhere.
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = {name for name, _ in report.marked_tables(f.read())}
    assert {"defaults", "user_path_sweep"} <= readme
    assert seen == set(report.DOC_TABLES)


def test_the_readme_is_a_newcomers_page():
    with open(os.path.join(ROOT, "README.md")) as f:
        lines = f.read().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; details belong in docs/"
