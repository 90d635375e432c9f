"""Recipes hold every setting: --set for any SECTION.KEY, recipe files, `ganpaint recipes`,
the resolved recipe in the run folder, and one owner per optimizer default."""

import json

import pytest

from ganpaint import cli, recipes, settings
from ganpaint.errors import UserError

# One model-class option of each family, and where the built model keeps it.
FAMILY_OPTIONS = [
    ("dogs_dcgan", "model.d_steps", "2", lambda m: m.d_steps, 2),
    ("dogs_sngan", "model.gp_weight", "3", lambda m: m.gp_weight, 3.0),
    ("mnist_acgan", "model.class_weight", "2.5", lambda m: m.class_weight, 2.5),
    ("monet_cyclegan", "model.cycle_weight", "7", lambda m: m.cycle_weight, 7.0),
    ("maps_pix2pix", "model.l1_weight", "50", lambda m: m.l1_weight, 50.0),
]


@pytest.mark.parametrize(
    "name, key, text, read, expected", FAMILY_OPTIONS, ids=[c[0] for c in FAMILY_OPTIONS]
)
def test_set_reaches_the_model_of_every_family(name, key, text, read, expected):
    before = recipes.build_model(name, smoke=True)
    assert read(before) != expected
    adam = recipes.get(name).optimizer == "adam"
    model = recipes.build_model(
        name,
        smoke=True,
        settings={
            key: text,
            "optimizer.g_learning_rate": "1e-3",
            **({"optimizer.beta_1": "0.25"} if adam else {}),
        },
    )
    assert read(model) == expected
    assert float(model.g_optimizer.learning_rate) == pytest.approx(1e-3)
    if adam:
        assert float(model.g_optimizer.beta_1) == pytest.approx(0.25)
    else:  # RMSprop has no betas: refused by name
        with pytest.raises(UserError, match="optimizer.beta_1 does not apply"):
            recipes.get(name, settings={"optimizer.beta_1": 0.25})
    # The discriminator's rate was not set: the model's preset (or the recipe's) still owns it.
    assert float(model.d_optimizer.learning_rate) == pytest.approx(
        float(before.d_optimizer.learning_rate)
    )


def test_set_reaches_the_builders_of_the_networks():
    from ganpaint.layers import ResidualTanh

    def has_residual(model):
        return any(isinstance(layer, ResidualTanh) for layer in model.g_ab.layers)

    plain = recipes.build_model(
        "monet_cyclegan",
        smoke=True,
        settings={
            "networks.generator": "resnet",
            "networks.generator.residual": "false",
            "networks.generator.n_blocks": "2",
        },
    )
    residual = recipes.build_model(
        "monet_cyclegan",
        smoke=True,
        settings={
            "networks.generator": "resnet",
            "networks.generator.n_blocks": "2",
            "networks.generator.residual": "true",
        },
    )
    assert not has_residual(plain) and has_residual(residual)
    nine_blocks = recipes.build_model(
        "monet_cyclegan", smoke=True, settings={"networks.generator": "resnet"}
    )
    assert plain.g_ab.count_params() < nine_blocks.g_ab.count_params()


@pytest.mark.parametrize(
    "name, key", [("monet_cyclegan", "filters"), ("dogs_dcgan", "base_filters")]
)
def test_the_discriminators_width_may_differ_from_the_generators(name, key):
    # networks.base_filters sets both; networks.discriminator.KEY the discriminator alone
    # (the known-answer benchmarks' PatchGANs are twice their generators' width).
    def first_conv_filters(net):
        return next(l for l in net._flatten_layers() if hasattr(l, "filters")).filters

    base = recipes.build_model(name, smoke=True)
    wide = recipes.build_model(name, smoke=True, settings={f"networks.discriminator.{key}": 16})
    g, d = ("g_ab", "d_a") if name == "monet_cyclegan" else ("generator", "discriminator")
    assert first_conv_filters(getattr(wide, d)) == 16 != first_conv_filters(getattr(base, d))
    assert getattr(wide, g).count_params() == getattr(base, g).count_params()


def test_a_new_labelled_recipe_gets_its_models_measured_optimizer():
    """A cgan recipe that names no rate takes ConditionalGAN's 4e-4 and beta_1 0 (measured),
    not the DCGAN paper's 2e-4 / 0.5 that every other family defaults to."""
    from ganpaint.gans import ConditionalGAN

    recipe = recipes.get("cifar10_cgan", smoke=True).replace(
        name="my_cgan", g_learning_rate=None, d_learning_rate=None, beta_1=None
    )
    model = recipes.build_model(recipe)
    for opt in (model.g_optimizer, model.d_optimizer):
        assert (float(opt.learning_rate), float(opt.beta_1)) == pytest.approx(
            (
                ConditionalGAN.preset_optimizer["learning_rate"],
                ConditionalGAN.preset_optimizer["beta_1"],
            )
        )
    rows = {(s, k): (v, w) for s, k, v, w in settings.describe(recipe)}
    assert rows[("optimizer", "g_learning_rate")] == (4e-4, "ConditionalGAN.preset_optimizer")


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            {"model.cycle_weightt": 1},
            "Unknown setting model.cycle_weightt for recipe "
            "monet_cyclegan (cyclegan). The model section's keys: ",
        ),
        (
            {"model.cycle_weight": "ten"},
            "Setting model.cycle_weight takes None or float. Received: 'ten'",
        ),
        ({"cycle_weight": 1}, "must be SECTION.KEY, with SECTION one of data, networks, model"),
        (
            {"model.simultaneous": True},
            "Setting model.simultaneous does not apply to recipe monet_cyclegan",
        ),
        ({"networks.generator.filters": 8}, "Unknown setting networks.generator.filters"),
        ({"data.image_size": 3.5}, "Setting data.image_size takes int. Received: 3.5"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_key(bad, message):
    with pytest.raises(UserError) as err:
        recipes.get("monet_cyclegan", smoke=True, settings=bad)
    assert message in str(err.value) and "\n" not in str(err.value)
    if "Unknown" in message:  # the line lists the section's keys, the option keys included
        assert "cycle_weight, identity_weight, pool_size" in str(
            err.value
        ) or "generator.residual" in str(err.value)


def test_unknown_key_on_the_command_line_is_one_line(capsys, tmp_path):
    assert (
        cli.main(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--out",
                str(tmp_path / "r"),
                "--set",
                "model.d_stepz=2",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Unknown setting model.d_stepz" in err[0] and "d_steps" in err[0]
    assert not (tmp_path / "r").exists()
    assert cli.main(["train", "dogs_dcgan", "--set", "d_steps"]) == 2
    assert "--set takes SECTION.KEY=VALUE" in capsys.readouterr().err


def test_recipes_command_lists_every_setting_and_its_source(capsys):
    assert cli.main(["recipes"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in recipes.RECIPES)
    assert cli.main(["recipes", "monet_cyclegan", "--smoke", "--set", "model.cycle_weight=10"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["model.cycle_weight"].split()[1:] == ["10.0", "set"]
    assert "CycleGAN preset 'ganpaint'" in lines["model.identity_weight"]
    assert lines["data.image_size"].split()[1:] == ["32", "smoke"]
    assert lines["networks.generator"].split()[1:] == ["'unet'", "recipe"]
    assert "CycleGAN preset 'ganpaint'" in lines["optimizer.g_learning_rate"]
    assert "networks.generator.residual" in lines and "run.epochs" in lines
    # Unset, the discriminator's width is the section's (4 in smoke mode), and says so.
    assert lines["networks.discriminator.filters"].split()[1:] == ["4", "networks.base_filters"]
    # Every key listed is one --set takes.
    recipe = recipes.get("monet_cyclegan", smoke=True)
    for key in lines:
        section, _, rest = key.partition(".")
        assert rest in settings.section_keys(recipe, section), key
    # A builder default that has changed is listed as the value its runs record.
    assert cli.main(["recipes", "monet_cyclegan", "--set", "networks.generator=resnet"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["networks.generator.output"].split()[1:] == [
        "'blend'",
        "builder's",
        "default",
        "(recorded)",
    ]


def test_recipe_files_yaml_json_and_python(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "base: monet_cyclegan\nname: monet_cw10\nmodel:\n  cycle_weight: 10\n"
        "optimizer:\n  g_learning_rate: 1.0e-4\ndata:\n  sample: [photo, monet]\n"
    )
    (tmp_path / "r.json").write_text(
        json.dumps(
            {
                "base": "monet_cyclegan",
                "name": "monet_cw10",
                "model": {"cycle_weight": 10},
                "optimizer": {"g_learning_rate": 1e-4},
            }
        )
    )
    (tmp_path / "r.py").write_text(
        "from ganpaint.recipes import get\n"
        "RECIPE = get('monet_cyclegan', settings={'model.cycle_weight': 10, "
        "'optimizer.g_learning_rate': 1e-4}).replace(name='monet_cw10')\n"
    )
    loaded = [settings.load_file(str(tmp_path / f"r.{ext}")) for ext in ("yaml", "json", "py")]
    assert loaded[0] == loaded[1] == loaded[2]
    assert loaded[0].name == "monet_cw10" and loaded[0].model_options == {"cycle_weight": 10.0}
    assert loaded[0].sample == ("photo", "monet")
    (tmp_path / "bad.yaml").write_text("base: monet_cyclegan\nmodel:\n  cycle_wieght: 10\n")
    with pytest.raises(UserError, match="Unknown setting model.cycle_wieght"):
        settings.load_file(str(tmp_path / "bad.yaml"))
    with pytest.raises(UserError, match="Recipe file not found"):
        settings.load_file(str(tmp_path / "missing.yaml"))


def test_resolved_recipe_round_trips_through_the_run_folder(tmp_path, capsys):
    out = str(tmp_path / "run")
    sets = [
        "--set",
        "model.d_steps=2",
        "--set",
        "networks.generator.embedding_dim=8",
        "--set",
        "optimizer.d_learning_rate=3e-4",
    ]
    assert (
        cli.main(
            [
                "train",
                "mnist_acgan",
                "--smoke",
                "--epochs",
                "1",
                "--out",
                out,
                "--no-tensorboard",
                *sets,
            ]
        )
        == 0
    )
    expected = recipes.get(
        "mnist_acgan",
        smoke=True,
        epochs=1,
        tensorboard=False,
        settings={
            "model.d_steps": 2,
            "networks.generator.embedding_dim": 8,
            "optimizer.d_learning_rate": 3e-4,
        },
    )
    assert settings.from_run(out) == expected
    # The run's own run.json is a recipe file: the same run again, elsewhere.
    assert settings.load_file(f"{out}/run.json") == expected
    capsys.readouterr()
    # Another --set on the used folder is another run: refused, naming what differs.
    assert (
        cli.main(
            [
                "train",
                "mnist_acgan",
                "--smoke",
                "--epochs",
                "2",
                "--out",
                out,
                "--no-tensorboard",
                *sets[:4],
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "optimizer.d_learning_rate 0.0003 -> 5e-05" in err and "--fresh" in err
    # The same settings continue it (epochs may grow).
    assert (
        cli.main(
            [
                "train",
                "mnist_acgan",
                "--smoke",
                "--epochs",
                "2",
                "--out",
                out,
                "--no-tensorboard",
                *sets,
            ]
        )
        == 0
    )


@pytest.fixture
def template_family():
    """docs/examples/paired_l2.py, the adding-a-family template, registered for one test."""
    import importlib.util
    import pathlib

    from ganpaint import families
    from ganpaint.recipe_presets import RECIPES

    path = pathlib.Path(__file__).parent.parent / "docs" / "examples" / "paired_l2.py"
    spec = importlib.util.spec_from_file_location("paired_l2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    families.FAMILIES.pop("paired_l2", None)
    RECIPES.pop(module.RECIPE.name, None)


def test_the_family_template_trains_through_a_recipe(template_family, tmp_path):
    recipe = template_family.RECIPE
    keys = [k for s, k, _, _ in settings.describe(recipe, smoke=True) if s == "model"]
    assert "l2_weight" in keys
    setup = recipes.build(
        recipe,
        smoke=True,
        out_dir=str(tmp_path / "run"),
        settings={"model.l2_weight": 50, "networks.generator.depth": 2},
    )
    assert setup.model.l2_weight == 50.0
    history = setup.fit(verbose=0)
    assert {"d_loss", "g_loss", "g_l2_loss"} <= set(history.history)
    assert (tmp_path / "run" / "model.keras").exists()
    assert settings.from_run(str(tmp_path / "run")).model_options == {"l2_weight": 50.0}
    translated = setup.model.sample(inputs=setup.fixed_inputs[:2])
    assert translated.shape == setup.fixed_inputs[:2].shape


def test_a_run_from_before_a_builder_default_changed_continues_with_its_setting(tmp_path, capsys):
    """The ResNet generator's default output became the blend (issue 38). A run started
    before, whose record does not say its output, is refused in one line that names the
    setting that continues it, and continues with it; new runs record the default."""
    out = str(tmp_path / "run")

    def train(*sets, epochs=1, folder=out):
        argv = ["train", "monet_cyclegan", "--smoke", "--epochs", str(epochs), "--out", folder]
        argv += ["--no-tensorboard", "--set", "networks.generator=resnet"]
        return cli.main(argv + [a for s in sets for a in ("--set", s)])

    assert train("networks.generator.output=residual") == 0
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["recorded_defaults"] == ["networks.generator.output"]
    for section in (record["settings"], record["recipe_settings"]):  # as runs recorded it then
        del section["networks"]["generator.output"]
    del record["recorded_defaults"]
    (tmp_path / "run" / "run.json").write_text(json.dumps(record))
    capsys.readouterr()

    assert train(epochs=2) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "started before the blend output (issue 38)" in err
    assert "pass --set networks.generator.output=residual," in err and "--fresh" in err
    setup = recipes.build(
        "monet_cyclegan",
        smoke=True,
        out_dir=out,
        epochs=2,
        settings={"networks.generator": "resnet"},
    )
    with pytest.raises(
        UserError, match=r"pass settings=\{'networks.generator.output': 'residual'\}"
    ):
        setup.fit()

    first_epoch = (tmp_path / "run" / "history" / "epochs.csv").read_text().splitlines()[:2]
    assert train("networks.generator.output=residual", epochs=2) == 0
    epochs = (tmp_path / "run" / "history" / "epochs.csv").read_text().splitlines()
    assert epochs[:2] == first_epoch and len(epochs) == 3  # continued: epoch 1 kept, 2 added

    # A new run records the default it was built with, so a later change cannot alter it.
    assert train(folder=str(tmp_path / "new")) == 0
    new = json.loads((tmp_path / "new" / "run.json").read_text())
    assert new["settings"]["networks"]["generator.output"] == "blend"


def test_a_record_without_a_recorded_default_differs_only_where_it_has_one():
    from ganpaint import runs

    key = ["networks.generator.output"]
    old = {"settings": {"networks": {"norm": "instance"}}}
    new = {"settings": {"networks": {"norm": "instance", "generator.output": "blend"}}}
    assert runs.settings_differing(old, {**new, "recorded_defaults": key}) == []
    assert runs.settings_differing(old, new) == ["settings"]  # not a recorded default
    held = {"settings": {"networks": {"norm": "instance", "generator.output": "tanh"}}}
    assert runs.settings_differing(held, {**new, "recorded_defaults": key}) == ["settings"]
    # What else identifies a run may be any JSON: a dict of values is compared as a whole.
    assert runs.settings_differing({"sizes": {"a": 1}}, {"sizes": {"a": 2}}) == ["sizes"]
    assert runs.settings_differing({"sizes": {"a": 1}}, {"sizes": {"a": 1}}) == []
