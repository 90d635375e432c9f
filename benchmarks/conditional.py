"""Labelled GANs: how fast the requested class is learned, on the digits (where the labelled
builders' defaults were chosen) and on the textures (a set held out from that choice).

- The conditioning study (`--task conditional_digits`): `ConditionalGAN` with the few-shot
  benchmark's narrow networks (32-128 filters, latent 64) on the 4,000 training digits, batch
  64, for 600 and 3,120 steps: label map against class-conditional batch norm (G) with a
  projection discriminator, with and without spectral norm, BCE and hinge.
- The obvious build (`--task conditional_defaults` on the digits, `--task
  conditional_textures` on the textures): the three lines a user writes,
  `dcgan_generator(128, shape, num_classes=10)`, `dcgan_discriminator(shape, num_classes=10)`,
  `ConditionalGAN(g, d)` and `compile()`, 600 steps of batch 64, beside the same lines with
  the seed notebooks' label map and the recipe a user would run on such data (the demo's
  AC-GAN on the digits, `cifar10_cgan` on the textures).

Each is scored by its set's stored judge (`judges.py`): how often it sees the requested class
in 1,000 generated images (100 a class), and FID on its features against the 1,000 held-out
images.

    python -m benchmarks --task conditional_digits
    python -m benchmarks --task conditional_defaults
    python -m benchmarks --task conditional_defaults_long
    python -m benchmarks --task conditional_textures
"""

from __future__ import annotations

import tempfile

import keras
import numpy as np

from benchmarks import judges
from benchmarks.common import batches, fit_scoring, summary
from benchmarks.few_shot import LATENT, digit_networks
from benchmarks.report import adam_pair
from benchmarks.settings import CONDITIONAL_OPTIMIZERS, CONDITIONAL_SETTINGS
from ganpaint import demo, discriminators, gans, generators, recipes
from ganpaint.gans import default_optimizer

# -- the conditioning study: projection + cbn against the label map --------------------------

CONDITIONAL_STEPS = (600, 3120)
CONDITIONAL_EVERY = 120  # divides both budgets


# Labelled sets: name -> (the row's task prefix, image shape, the judge's file under
# benchmarks/judges/, whose data `judges.data` gives).
SETS = {
    "digits": ("conditional digits 28px", (28, 28, 1), judges.DIGIT),
    "textures": ("conditional textures 32px", (32, 32, 3), judges.TEXTURE),
}


def _rows(labelled_set, builds, rows, seeds, budgets, every, noise, label):
    """Train each of `rows` (names of `builds`: seed -> (model, dataset)) for each seed,
    scored by the set's judge after each of `budgets` steps of one run; one row per (name,
    budget), named `label(budget)`."""
    task, _, judge_name = SETS[labelled_set]
    held_out = judges.data(judge_name, "held_out")[0]
    classifier = judges.judge(judge_name)  # trained once, stored with its SHA-256
    fake_labels = np.repeat(np.arange(10), 100).astype("int32")  # 100 of each class
    out = []
    for name in rows:
        runs = {b: [] for b in budgets}
        for seed in seeds:
            model, ds = builds[name](seed)

            def score(done):
                if done not in budgets:
                    return None
                s = demo.scores(
                    classifier,
                    held_out,
                    model.generate(noise=noise[:, : model.latent_dim], labels=fake_labels),
                    fake_labels,
                )
                return {
                    "steps": done,
                    "class_accuracy": s["class_accuracy"],
                    "fid_classifier": s["fid"],
                }

            results, seconds = fit_scoring(model, ds, max(budgets), every, score)
            for result in results:
                done = result.pop("steps")
                runs[done].append({"seed": seed, **result, "seconds": seconds})
                print(task, name, done, runs[done][-1], flush=True)
        out += [
            {**summary(label(b), name, b, runs[b]), **judges.record(judge_name)} for b in budgets
        ]
    return out


def conditional_digits(seeds=(0, 1, 2), steps=CONDITIONAL_STEPS, rows=tuple(CONDITIONAL_SETTINGS)):
    train, train_labels = judges.data(judges.DIGIT, "train")

    def build(name):
        extra = dict(CONDITIONAL_SETTINGS[name])
        conditioning = extra.pop("g_conditioning"), extra.pop("conditioning")
        spectral = extra.pop("spectral_norm")

        def make(seed):
            g, d = digit_networks(seed, 10, conditioning, spectral_norm=spectral)
            model = gans.ConditionalGAN(g, d, seed=seed, **extra)
            model.compile(2e-4, 2e-4)  # the study's rate (compile()'s default since is 4e-4)
            return model, batches(train, seed, train_labels, batch=64)

        return make

    noise = np.random.default_rng(123).normal(size=(1000, LATENT)).astype("float32")
    return _rows(
        "digits",
        {name: build(name) for name in rows},
        rows,
        seeds,
        steps,
        CONDITIONAL_EVERY,
        noise,
        lambda b: f"conditional digits 28px, {b} steps",
    )


# -- the obvious build: the three lines, on each labelled set ---------------------------------

DEFAULTS_STEPS = 600
LABEL_MAP = "ConditionalGAN, label map (G and D, batch norm, no SN), compile(2e-4, 2e-4)"
# The builders' defaults (cbn G, projection + SN D), compiled with each candidate Adam
# (`settings.CONDITIONAL_OPTIMIZERS`); `ConditionalGAN.compile()`'s default is one of them
# (docs/defaults.md says which, and why).
OPTIMIZER_ROWS = tuple(CONDITIONAL_OPTIMIZERS)
LONG_STEPS = (600, 2400)  # the candidates' longer budget (`conditional_defaults_long`)


def obvious_conditional(seed, shape=(28, 28, 1), paper=False, optimizers=(None, None)):
    """`dcgan_generator(128, shape, num_classes=10)`, `dcgan_discriminator(shape,
    num_classes=10)`, `ConditionalGAN(g, d)`, `compile(*optimizers)`: the builders' defaults,
    or with `paper` the seed notebooks' label map (DCGAN batch norm, no spectral norm)."""
    keras.utils.set_random_seed(seed)
    form = dict(conditioning="label_map") if paper else {}
    g = generators.dcgan_generator(128, shape, num_classes=10, **form)
    d = discriminators.dcgan_discriminator(
        shape, num_classes=10, **dict(form, spectral_norm=False) if paper else {}
    )
    model = gans.ConditionalGAN(g, d, seed=seed)
    model.compile(*optimizers)
    return model


def _recipe(name, images, labels, seed, **overrides):
    """Recipe `name` built on (images, labels), as `ganpaint train` would: its model and its
    (repeated) dataset."""
    with tempfile.TemporaryDirectory() as out_dir:
        setup = recipes.build(name, data=(images, labels), out_dir=out_dir, seed=seed, **overrides)
    return setup.model, setup.dataset.repeat()


def _adams(settings):
    """(G's, D's) fresh Adam from a `CONDITIONAL_OPTIMIZERS` value."""
    return tuple(default_optimizer(**s) for s in adam_pair(settings))


def _builds(labelled_set, shape, train, train_labels):
    """name -> seed -> (model, dataset): the rows of `conditional_defaults` on one set."""

    def three_lines(paper=False, optimizers=(None, None), adam=None):
        """`adam`: a `CONDITIONAL_OPTIMIZERS` value, built afresh for each seed."""
        return lambda seed: (
            obvious_conditional(seed, shape, paper, _adams(adam) if adam else optimizers),
            batches(train, seed, train_labels, 64),
        )

    builds = {name: three_lines(adam=CONDITIONAL_OPTIMIZERS[name]) for name in OPTIMIZER_ROWS}
    builds[LABEL_MAP] = three_lines(paper=True, optimizers=(2e-4, 2e-4))  # as measured
    if labelled_set == "digits":
        builds["ganpaint AC-GAN (demo settings)"] = lambda seed: _recipe(
            "mnist_acgan", train, train_labels, seed, **demo.DEMO_OVERRIDES
        )
    else:
        builds["cifar10_cgan recipe (its settings)"] = lambda seed: _recipe(
            "cifar10_cgan", train, train_labels, seed, fid_every=0
        )
    return builds


def conditional_defaults(seeds=(0, 1, 2), steps=DEFAULTS_STEPS, labelled_set="digits", rows=None):
    """Rows for the obvious conditional GAN (the builders' defaults at each candidate learning
    rate, and the label map) and the set's recipe, batch 64, on the set's 4,000 training
    images, scored after `steps` steps (an int, or several budgets of one run each)."""
    task, shape, judge_name = SETS[labelled_set]
    train, train_labels = judges.data(judge_name, "train")
    noise = np.random.default_rng(123).normal(size=(1000, 128)).astype("float32")
    builds = _builds(labelled_set, shape, train, train_labels)
    budgets = (steps,) if isinstance(steps, int) else tuple(steps)
    return _rows(
        labelled_set,
        builds,
        rows or tuple(builds),
        seeds,
        budgets,
        int(np.gcd.reduce(budgets)),
        noise,
        lambda b: f"{task}, obvious build, {b} steps",
    )


def conditional_defaults_long(seeds=(0, 1)):
    """The optimizer candidates on the digits at 600 and 2,400 steps of one run."""
    return conditional_defaults(seeds, LONG_STEPS, rows=OPTIMIZER_ROWS)


def conditional_textures(seeds=(0, 1, 2), steps=DEFAULTS_STEPS, rows=None):
    """`conditional_defaults` on the textures: the held-out labelled set."""
    return conditional_defaults(seeds, steps, labelled_set="textures", rows=rows)
