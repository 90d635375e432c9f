"""The research settings of every search in docs/defaults.md, in one place: what each row of
a published table changes, by the name the table shows. The scripts that train them
(`defaults_search`, `known_answer`, `known_answer_sweeps`, `conditional`, `search_sweeps`) and
`report`, which renders their tables, read them from here.
"""

from __future__ import annotations

# -- the defaults search (`defaults_search.py`): CycleGAN photo -> painting 64 px ----------------

# What each setting may name: networks (residual, norm, receptive_field, spectral_norm), the
# objective (loss, pool_size, cycle_weight, identity_weight), the optimizers (lr_g, lr_d,
# beta_1, beta_2) and the small-data tools (diff_augment, ema).
CYCLE_PAPER = dict(
    loss="lsgan",
    pool_size=50,
    cycle_weight=10.0,
    identity_weight=0.5,
    residual=False,
    norm="instance",
    receptive_field=16,
    spectral_norm=False,
    lr_g=2e-4,
    lr_d=2e-4,
    beta_1=0.5,
    beta_2=0.999,
)

CYCLE_STAGES = {
    "loss": {
        f"loss={loss}, pool={pool}": dict(loss=loss, pool_size=pool)
        for loss in ("lsgan", "bce", "hinge", "ralsgan")
        for pool in (50, 0)
    },
    "output": {"residual output": dict(residual=True)},
    "weights": {
        f"cycle={c}, identity={i}": dict(cycle_weight=c, identity_weight=i)
        for c, i in ((10.0, 0.0), (10.0, 1.0), (5.0, 0.5), (20.0, 0.5))
    },
    "optimizer": {
        "lr 1e-4": dict(lr_g=1e-4, lr_d=1e-4),
        "lr 4e-4": dict(lr_g=4e-4, lr_d=4e-4),
        "TTUR g 1e-4, d 4e-4": dict(lr_g=1e-4, lr_d=4e-4),
        "betas 0, 0.9": dict(beta_1=0.0, beta_2=0.9),
    },
    "networks": {
        "group norm": dict(norm="group"),
        "spectral norm D": dict(spectral_norm=True),
        "PatchGAN 70": dict(receptive_field=70),
        "PatchGAN 1 (PixelGAN)": dict(receptive_field=1),
    },
    "small_data": {
        "diff_augment": dict(diff_augment="color,translation,cutout"),
        "ema 0.999": dict(ema=0.999),
    },
}


# -- the defaults search: pix2pix photo -> map 64 px ----------------------------------------

# `inference`: how `Pix2Pix` translates the held-out photos; the paper's per-image batch norm
# (rows before it existed say "moving_averages", Keras' inference, the rule then).
PIX_PAPER = dict(
    loss="bce",
    l1_weight=100.0,
    norm="batch",
    dropout=0.5,
    receptive_field=16,
    spectral_norm=False,
    lr_g=2e-4,
    lr_d=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    inference="per_image",
)

PIX_STAGES = {
    "loss": {f"loss={loss}": dict(loss=loss) for loss in ("bce", "lsgan", "hinge", "ralsgan")},
    "l1": {f"l1={w}": dict(l1_weight=w) for w in (50.0, 200.0, 400.0)},
    "networks": {
        "instance norm": dict(norm="instance"),
        "no dropout": dict(dropout=0.0),
        "spectral norm D": dict(spectral_norm=True),
        "PatchGAN 70": dict(receptive_field=70),
    },
    "optimizer": {
        "lr 1e-4": dict(lr_g=1e-4, lr_d=1e-4),
        "lr 4e-4": dict(lr_g=4e-4, lr_d=4e-4),
        "TTUR g 1e-4, d 4e-4": dict(lr_g=1e-4, lr_d=4e-4),
    },
    "small_data": {
        "diff_augment": dict(diff_augment="color,translation,cutout"),
        "ema 0.999": dict(ema=0.999),
    },
}


# -- known-answer tasks (`known_answer.py`, `known_answer_sweeps.py`) ------------------------

# What a setting may name: `step` ("ganpaint" or "tutorial": the TF tutorial's step,
# `textbook.cyclegan_step`), the networks' options (`residual` output, `input_skip`, `affine`
# norm, the blend's `content_gradient`, a candidate `output` of `output_forms`), the update
# `order` (`step_variants.ORDERS`), and any `CycleGAN` argument (preset, loss, pool_size,
# cycle_weight, identity_weight, ...).
# "default" is what `CycleGAN(...)` + `compile()` on the builders' networks gives today (the
# blend output, issue 38's fourth round; "blend" and "blend, re-run" are it too, run in the
# fourth and sixth rounds); "input skip" the default before it (the residual
# output whose last convolution also sees the input image, issue 38's first round; its rows
# were published as "default"); "identity start" the default of issues 25 to 38 (the same
# output without the input skip, `input_skip=False`); "previous default" the one before
# that (a plain tanh output). The "default, ..." candidates of issue 25's searches are the
# identity start with one change, and keep the names they were published under.
IDENTITY_START = {"residual": True, "input_skip": False}
CYCLE_SETTINGS = {
    "default": {},
    "input skip": {"residual": True},
    "identity start": IDENTITY_START,
    "previous default": {"residual": False},
    "paper": {"preset": "paper", "residual": False},
    "tutorial": {"step": "tutorial", "residual": False},
    "paper, no pool": {"preset": "paper", "pool_size": 0, "residual": False},
    "paper objective, bce, no pool": {
        "preset": "paper",
        "loss": "bce",
        "pool_size": 0,
        "residual": False,
    },
    "paper, no pool, residual output": {"preset": "paper", "pool_size": 0, **IDENTITY_START},
    # Candidates for "do no harm" on near-identity tasks (issue 25's second search).
    "default, ema": {**IDENTITY_START, "ema": 0.999},
    "default, lr 2e-4": {**IDENTITY_START, "learning_rate": 2e-4},
    "default, identity 1": {**IDENTITY_START, "identity_weight": 1.0},
    "default, cycle 10": {**IDENTITY_START, "cycle_weight": 10.0},
    "default, cycle 10, ema": {**IDENTITY_START, "cycle_weight": 10.0, "ema": 0.999},
    "default, cycle 20": {**IDENTITY_START, "cycle_weight": 20.0},
    # The step itself (issue 25's third search): `order` as in `step_variants.ORDERS`.
    "default, fresh fakes": {**IDENTITY_START, "order": "fresh fakes"},
    "default, d first": {**IDENTITY_START, "order": "d first"},
    # The identity start again, run beside later candidates in a later environment
    # (TensorFlow 2.21), so that they compare in one environment.
    "identity start, re-run": IDENTITY_START,
    # Less or no identity loss (issue 25's fourth search): does it hold a residual generator
    # at the photo on tasks far from identity?
    "default, no identity": {**IDENTITY_START, "identity_weight": 0.0},
    "default, cycle 10, no identity": {
        **IDENTITY_START,
        "cycle_weight": 10.0,
        "identity_weight": 0.0,
    },
    "default, identity 0.25": {**IDENTITY_START, "identity_weight": 0.25},
    "default, cycle 10, identity 0.25": {
        **IDENTITY_START,
        "cycle_weight": 10.0,
        "identity_weight": 0.25,
    },
    # The generator's output (issue 38's search): forms for tasks near identity and far from
    # it, each on the identity start's body with the default preset (`output_forms`). The
    # residual skip won and is now the builder's default ("default").
    "identity start, gate": {"output": "gate"},
    "identity start, fade 200": {"output": "fade", "fade_steps": 200},
    "identity start, fade 400": {"output": "fade", "fade_steps": 400},
    "identity start, skip": {"output": "skip"},
    "identity start, residual skip": {"output": "residual skip"},
    "identity start, gated skip": {"output": "gated skip"},
    # The identity loss again, on the new default (issue 38's second round): does it hold the
    # input-skip generator at the photo on far tasks (painterly)?
    "input skip, no identity": {"residual": True, "identity_weight": 0.0},
    "input skip, cycle 10, identity 0.25": {
        "residual": True,
        "cycle_weight": 10.0,
        "identity_weight": 0.25,
    },
    # The paper's preset, a piece at a time, on the new default (issue 38's third round): the
    # plain output loses painterly with the default preset (0.196) and not with the paper's
    # (0.173), so is it the preset, not the output, that holds the default back on far tasks?
    "input skip, paper preset": {"residual": True, "preset": "paper"},
    "input skip, lsgan": {"residual": True, "loss": "lsgan"},
    "input skip, lr 2e-4": {"residual": True, "learning_rate": 2e-4},
    "input skip, pool 50": {"residual": True, "pool_size": 50},
    # A per-pixel blend of the photo and a plain output (issue 38's fourth round,
    # `output_forms`): the residual's atanh makes large moves of dark and bright pixels
    # costly (painterly lifts the shadows); a blend mask hands such pixels to a plain output.
    "blend": {"output": "blend"},
    # Why the blend loses abstraction at 64 px / 2,400 steps where the paper's setting wins
    # (issue 38's fifth round): the paper's preset on the blend (the builder's default).
    "blend, paper preset": {"preset": "paper"},
    # The blend's new picture trained by the output's whole gradient (issue 38's sixth
    # round): with the mask nearly closed, the blend's own gradient reaches the new picture
    # scaled by 0.05, and on abstraction it became a push towards saturated colours (L1 0.73
    # to the truth, the mask at 0.09 on average after 600 steps) rather than a picture.
    "blend, full content gradient": {"content_gradient": "full"},
    # The builders' blend (the default), run beside the candidate in one environment;
    # "blend" is `output_forms`' head on the builders' body, run in round four.
    "blend, re-run": {"content_gradient": "masked"},
    # Candidates for the posterizing far task that the blend loses at 64 px and 2,400 steps
    # (issue 38's seventh round), on the sixth round's full content gradient: the mask
    # starting half open, or the new picture's convolution without the input image.
    "blend full, open start": {"output": "blend, open", "content_gradient": "full"},
    "blend full, plain content": {"output": "blend, plain content", "content_gradient": "full"},
}

# Known-answer settings that `known_answer.py` trains by hand but a recipe can say exactly, as
# "SECTION.KEY" recipe settings (`known_answer_sweeps.recipe_settings`):
# - "tutorial": the TF CycleGAN tutorial's step (`textbook.cyclegan_step`) is the paper's
#   objective with the non-saturating BCE loss and no pool of fakes: cycle weight 10
#   (`LAMBDA`), identity weight 0.5 of it, Adam 2e-4 with beta_1 0.5, a plain tanh output. Its
#   discriminator loss is halved, which Adam's scale invariance undoes. Issue 25's tuning rows
#   measured the two side by side ("paper objective, bce, no pool": warm 0.267 against the
#   tutorial's 0.262, sepia 0.265 against 0.261, sketch 0.822 against 0.813, each within its
#   seeds' spread).
# - "blend": `output_forms`' blend head on the builders' body, the builders' default since
#   issue 38's fourth round, said explicitly (its content gradient "masked" too) so that the
#   variant keeps meaning this blend if a default changes.
CYCLE_RECIPE_EQUIVALENTS = {
    "tutorial": {
        "model.preset": "paper",
        "model.loss": "bce",
        "model.pool_size": 0,
        "networks.generator.output": "tanh",
    },
    "blend": {
        "networks.generator.output": "blend",
        "networks.generator.content_gradient": "masked",
    },
    "blend full, open start": {
        "networks.generator.output": "blend",
        "networks.generator.content_gradient": "full",
        "networks.generator.mask_start": 0.0,
    },
}

# What a pix2pix setting may name: `step` ("ganpaint" or "tutorial": the TF pix2pix tutorial's
# step, `textbook.pix2pix_step`, which also translates with training=True as the tutorial
# does), the U-Net's `residual` output, `dropout` and `norm`, `score` ("dropout on":
# translated by the paper's rule in full, `per_image_inference(..., dropout=True)`, which
# `Pix2Pix` does not use), and any `Pix2Pix` argument (`preset` and `inference` among them).
# "default" is `Pix2Pix(g, d)`: the paper's objective with Adam 4e-4, translating with batch
# norm on each image's own statistics. The other settings change one thing from the paper's
# (`preset="paper"`, Adam 2e-4), which was the default when they were searched.
PIX_SETTINGS = {
    "default": {},
    "tutorial": {"step": "tutorial"},
    "paper": {"preset": "paper"},
    # Keras' inference mode (the moving averages), the rule before per-image inference; and
    # the paper's rule in full, which also keeps dropout on (one fixed mask).
    "paper, moving averages": {"preset": "paper", "inference": "moving_averages"},
    "paper, dropout on at inference": {"preset": "paper", "score": "dropout on"},
    "paper, instance norm": {"preset": "paper", "norm": "instance"},
    "paper, no dropout": {"preset": "paper", "dropout": 0.0},
    "paper, ema": {"preset": "paper", "ema": 0.999},
    "paper, lsgan": {"preset": "paper", "loss": "lsgan"},
    "paper, l1 weight 200": {"preset": "paper", "l1_weight": 200.0},
    "paper, residual output": {"preset": "paper", "residual": True},
    # The two best of the search under per-image inference, together: Adam 4e-4 and no dropout.
    "default, no dropout": {"dropout": 0.0},
}

# With the recipe's own networks (`--networks recipe`, issue 38: "every recipe's networks
# measured"), the settings are the recipe's as its users train it, and one change at a time.
RECIPE_SETTINGS = {
    "recipe": {},
    "recipe, paper preset": {"model.preset": "paper"},
    "recipe, residual output": {"networks.generator.residual": True},  # U-Net, ResNet
    "recipe, resnet generator": {"networks.generator": "resnet"},
    # The recipes' 70 px PatchGAN is larger than the tasks' 32 px images: its 2x2 logits each
    # see the whole image, mostly padding, and the monet U-Nets output noise after 600 steps.
    # The 16 px PatchGAN keeps the patch-to-image ratio of 70 px at 256 (docs/defaults.md).
    "recipe, 16 px D": {"networks.receptive_field": 16},
    # The U-Net's output forms (`unet_generator(output=...)`), for its output round.
    "recipe, 16 px D, blend output": {
        "networks.receptive_field": 16,
        "networks.generator.output": "blend",
    },
    "recipe, 16 px D, residual output": {
        "networks.receptive_field": 16,
        "networks.generator.output": "residual",
    },
    "recipe, 16 px D, resnet generator": {
        "networks.receptive_field": 16,
        "networks.generator": "resnet",
    },
}


# -- labelled GANs (`conditional.py`, `search_sweeps.py`) ------------------------------------

# The conditioning study's rows (`conditional.conditional_digits`) as builder settings.
CONDITIONAL_SETTINGS = {
    "label map (G and D), bce": dict(
        g_conditioning="label_map", conditioning="label_map", spectral_norm=False
    ),
    "cbn G + projection D, bce": dict(
        g_conditioning="cbn", conditioning="projection", spectral_norm=False
    ),
    "cbn G + projection D, hinge": dict(
        g_conditioning="cbn", conditioning="projection", spectral_norm=False, loss="hinge"
    ),
    "cbn G + projection D + spectral norm, bce": dict(
        g_conditioning="cbn", conditioning="projection", spectral_norm=True
    ),
    "cbn G + projection D + spectral norm, hinge": dict(
        g_conditioning="cbn", conditioning="projection", spectral_norm=True, loss="hinge"
    ),
}

# The labelled models' optimizer candidates (the obvious build's rows, which `conditional.py`
# trains), in the order the searches added them: row name -> Adam's settings for both players,
# or a (G's, D's) pair. The first is the DCGAN paper's, the base every candidate must be no
# worse than on the checks.
_ADAM = dict(beta_1=0.5, beta_2=0.999)
CONDITIONAL_OPTIMIZERS = {
    **{
        f"ConditionalGAN, builder defaults, compile({rate}, {rate})": dict(
            learning_rate=float(rate), **_ADAM
        )
        for rate in ("2e-4", "4e-4", "8e-4")
    },
    # The second search: Adam's first moment off (SNGAN's and BigGAN's beta_1 = 0), and a
    # faster discriminator (TTUR).
    "ConditionalGAN, builder defaults, compile(Adam 4e-4, betas 0 / 0.999)": dict(
        learning_rate=4e-4, beta_1=0.0, beta_2=0.999
    ),
    "ConditionalGAN, builder defaults, compile(Adam 4e-4, betas 0 / 0.9)": dict(
        learning_rate=4e-4, beta_1=0.0, beta_2=0.9
    ),
    "ConditionalGAN, builder defaults, compile(4e-4, 8e-4)": (
        dict(learning_rate=4e-4, **_ADAM),
        dict(learning_rate=8e-4, **_ADAM),
    ),
}
CONDITIONAL_BASE = "ConditionalGAN, builder defaults, compile(2e-4, 2e-4)"
