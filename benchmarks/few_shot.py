"""Few-shot digits: does DiffAugment / ADA / EMA keep a GAN working on 30 or 100 images?

The small-data tools' own benchmark, on real MNIST digits (the bundled 5,000):
- a DCGAN (the demo's widths: latent 64, 32-128 filters, batch-norm G, norm-free D), BCE,
  Adam(2e-4, 0.5), batch 32, trained on the first 30 digits for 3,000 steps or the first 100
  for 2,000 steps of a fixed shuffle, each row with the same seeds;
- FID on the digit classifier's features (the demo's judge, trained once on 4,000 digits and
  stored: `judges.py`) between 1,000 generated digits and the 1,000 held-out digits, every
  `CURVE_EVERY` steps (the curve) and at the end (the score);
- the discriminator's overfitting gap, ADA's own measure: mean sigmoid(D(training digits))
  minus mean sigmoid(D(held-out digits)), on unaugmented images;
- memorisation: each generated digit's RMS pixel distance to its nearest training digit,
  beside the same distance for held-out real digits (an unseen real digit's distance).

And the conditional check of the same issue: `ConditionalGAN` with a projection discriminator
and a class-conditional batch-norm generator on the 4,000 training digits, batch 64, for 600
and 3,120 steps, scored by how often the classifier sees the requested class.

    python benchmarks/run.py --task few_shot_digits
    python benchmarks/run.py --task conditional_digits
"""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from ganpaint import augment, demo, discriminators, gans, generators, metrics

import judges  # the digit judge, stored once
from common import summary  # one summary format for every quality row

SEEDS = (0, 1)
BATCH = 32
BUDGETS = {30: 3000, 100: 2000}  # training digits -> steps
CURVE_EVERY = 250
LATENT = 64

# Rows: name -> model keyword arguments. The first four are the issue's; the rest ask whether
# a weaker policy, a lower fixed p or ADA closes DiffAugment's FID cost at 100 digits.
ROWS = {
    "plain": {},
    "diff_augment": dict(diff_augment="color,translation,cutout"),
    "diff_augment + ema": dict(diff_augment="color,translation,cutout", ema=0.999),
    "ada_target 0.6": dict(ada_target=0.6),
    "diff_augment translation,cutout (the paper's for this task)":
        dict(diff_augment="translation,cutout"),
    "diff_augment p=0.5": dict(diff_augment="color,translation,cutout", augment_p=0.5),
    "diff_augment p=0.25": dict(diff_augment="color,translation,cutout", augment_p=0.25),
    "ada_target 0.6 + ema": dict(ada_target=0.6, ema=0.999),
}
# The same question with DCGAN's own discriminator (batch norm after the first layer), which
# memorises faster than the norm-free one above (`--task few_shot_digits_bn`).
BN_ROWS = {
    "plain, batch-norm D": dict(d_norm="batch"),
    "diff_augment, batch-norm D": dict(d_norm="batch", diff_augment="color,translation,cutout"),
    "diff_augment translation,cutout, batch-norm D": dict(d_norm="batch",
                                                          diff_augment="translation,cutout"),
    "ada_target 0.6, batch-norm D": dict(d_norm="batch", ada_target=0.6),
}
ALL_ROWS = {**ROWS, **BN_ROWS}


def digit_networks(seed, num_classes=None, conditioning=None, d_norm=None,
                   spectral_norm=False):
    keras.utils.set_random_seed(seed)
    g_kw, d_kw = {}, {}
    if conditioning is not None:
        g_kw = dict(conditioning=conditioning[0])
        d_kw = dict(conditioning=conditioning[1])
    g = generators.dcgan_generator(LATENT, (28, 28, 1), num_classes, base_filters=32,
                                   max_filters=128, norm="batch", **g_kw)
    d = discriminators.dcgan_discriminator((28, 28, 1), num_classes, base_filters=32,
                                           max_filters=128, norm=d_norm,
                                           spectral_norm=spectral_norm, **d_kw)
    return g, d


def _dataset(images, seed, labels=None, batch=BATCH):
    data = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(data)
    # Repeat before batching: 30 digits make less than one batch of 32.
    return ds.shuffle(len(images), seed=seed).repeat().batch(batch, drop_remainder=True)


def _sigmoid_mean(discriminator, images):
    logits = np.concatenate([np.asarray(discriminator(images[i:i + 500], training=False))
                             for i in range(0, len(images), 500)])
    return float(np.mean(1.0 / (1.0 + np.exp(-logits))))


class _Judge:
    """The classifier's features of the held-out digits, computed once."""

    def __init__(self, classifier, held_out):
        self.metrics = metrics
        self.features = metrics.LayerFeatures(classifier, "features")
        self.held_out = metrics.compute_features(held_out, self.features, verbose=False)

    def fid(self, fakes):
        fake_f = self.metrics.compute_features(fakes, self.features, verbose=False)
        return float(self.metrics.fid_from_features(self.held_out, fake_f))


class _Every(keras.callbacks.Callback):
    """Calls `score(steps_done)` at the end of each epoch (of `steps_per_epoch` steps) and
    keeps the results; the time it takes is kept apart from the training time."""

    def __init__(self, steps_per_epoch, score):
        super().__init__()
        self.steps_per_epoch, self.score = steps_per_epoch, score
        self.results, self.eval_seconds = [], 0.0

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        result = self.score((epoch + 1) * self.steps_per_epoch)
        if result is not None:
            self.results.append(result)
        self.eval_seconds += time.perf_counter() - start


def _fit(model, ds, steps, every, score):
    """One `fit` over `steps` (one data iterator), scoring every `every` steps. Returns
    (scores, training seconds)."""
    callback = _Every(every, score)
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=every, epochs=steps // every, verbose=0, shuffle=False,
              callbacks=[callback])
    return callback.results, time.perf_counter() - start - callback.eval_seconds


def _train_few_shot(kwargs, train, steps, seed, judge, noise):
    kwargs = dict(kwargs)
    g, d = digit_networks(seed, d_norm=kwargs.pop("d_norm", None))
    model = gans.GAN(g, d, seed=seed, **kwargs)
    model.compile()
    curve, seconds = _fit(model, _dataset(train, seed), steps, CURVE_EVERY,
                          lambda done: [done, round(judge.fid(model.generate(noise=noise)), 3)])
    return model, curve, seconds


def few_shot_digits(seeds=SEEDS, rows=tuple(ROWS), budgets=None):
    """Rows for each training-set size and each setting in `rows` (names of `ROWS`)."""

    images, labels = demo._load_digits()
    train_pool, held_out = images[:4000], images[4000:5000]
    classifier = judges.digit_judge()  # trained once, stored with its SHA-256
    judge = _Judge(classifier, held_out)
    noise = np.random.default_rng(123).normal(size=(1000, LATENT)).astype("float32")
    out = []
    for n, steps in (budgets or BUDGETS).items():
        train = train_pool[:n]
        held_distance = float(np.mean(augment.nearest_distances(held_out, train)))
        for name in rows:
            runs = []
            for seed in seeds:
                model, curve, seconds = _train_few_shot(ALL_ROWS[name], train, steps, seed,
                                                        judge, noise)
                fakes = model.generate(noise=noise)
                gap = (_sigmoid_mean(model.discriminator, train)
                       - _sigmoid_mean(model.discriminator, held_out))
                distances = augment.nearest_distances(fakes, train)
                runs.append({"seed": seed, "fid_classifier": curve[-1][1], "overfit_gap": gap,
                             "nearest_train_distance": float(np.mean(distances)),
                             "final_p": float(model.augmenter.p.value)
                             if model.augmenter is not None else 0.0,
                             "seconds": seconds})
                print(f"few-shot {n} digits", name, runs[-1], flush=True)
                runs[-1]["curve"] = curve
            curves = [r.pop("curve") for r in runs]
            row = summary(f"few-shot digits, {n} training digits", name, steps, runs)
            row["fid_curve"] = {"steps": [c[0] for c in curves[0]],
                                "mean": [round(float(np.mean([c[i][1] for c in curves])), 3)
                                         for i in range(len(curves[0]))]}
            row["held_out_nearest_train_distance"] = round(held_distance, 4)
            row["settings"] = ALL_ROWS[name]
            out.append({**row, **judges.record()})
        # What copying the training digits would score: each repeated to 1,000 images.
        copies = np.resize(train, (1000, *train.shape[1:]))
        out.append(summary(f"few-shot digits, {n} training digits",
                            "(no model: the training digits, repeated)", 0,
                            [{"seed": 0, "fid_classifier": judge.fid(copies), "overfit_gap": 0.0,
                              "nearest_train_distance": 0.0, "final_p": 0.0, "seconds": 0.0}]))
        out[-1].update(held_out_nearest_train_distance=round(held_distance, 4),
                       **judges.record())
    return out


def few_shot_digits_bn(seeds=SEEDS):
    """The 30-digit rows with DCGAN's batch-norm discriminator (and their own plain row)."""
    return [dict(r, task=r["task"] + ", batch-norm D") for r in
            few_shot_digits(seeds=seeds, rows=tuple(BN_ROWS), budgets={30: BUDGETS[30]})]


# -- conditional: projection + cbn against the label map -------------------------------------

CONDITIONAL_ROWS = {
    "label map (G and D), bce": (("label_map", "label_map"), {}),
    "cbn G + projection D, bce": (("cbn", "projection"), {}),
    "cbn G + projection D, hinge": (("cbn", "projection"), dict(loss="hinge")),
    "cbn G + projection D + spectral norm, bce": (("cbn", "projection"),
                                                   dict(spectral_norm=True)),
    "cbn G + projection D + spectral norm, hinge": (("cbn", "projection"),
                                                     dict(loss="hinge", spectral_norm=True)),
}
CONDITIONAL_STEPS = (600, 3120)
CONDITIONAL_EVERY = 120  # divides both budgets


def conditional_digits(seeds=(0, 1, 2), steps=CONDITIONAL_STEPS, rows=tuple(CONDITIONAL_ROWS)):

    images, labels = demo._load_digits()
    train, train_labels = images[:4000], labels[:4000]
    classifier = judges.digit_judge()  # trained once, stored with its SHA-256
    fake_labels = np.repeat(np.arange(10), 100).astype("int32")
    noise = np.random.default_rng(123).normal(size=(1000, LATENT)).astype("float32")
    out = []
    for name in rows:
        conditioning, extra = CONDITIONAL_ROWS[name]
        extra = dict(extra)
        spectral = extra.pop("spectral_norm", False)
        runs = {s: [] for s in steps}
        for seed in seeds:
            g, d = digit_networks(seed, 10, conditioning, spectral_norm=spectral)
            model = gans.ConditionalGAN(g, d, seed=seed, **extra)
            model.compile()

            def score(done):
                if done not in steps:
                    return None
                s = demo.scores(classifier, images[4000:5000],
                                model.generate(noise=noise, labels=fake_labels), fake_labels)
                return {"steps": done, "class_accuracy": s["class_accuracy"],
                        "fid_classifier": s["fid"]}

            results, seconds = _fit(model, _dataset(train, seed, train_labels, batch=64),
                                    max(steps), CONDITIONAL_EVERY, score)
            for result in results:
                done = result.pop("steps")
                runs[done].append({"seed": seed, **result, "seconds": seconds})
                print("conditional", name, done, runs[done][-1], flush=True)
        for target in steps:
            out.append({**summary(f"conditional digits 28px, {target} steps", name, target,
                                  runs[target]), **judges.record()})
    return out


# -- the conditional defaults: the obvious three lines ----------------------------------------

DEFAULTS_STEPS = 600


def _obvious_conditional(seed, paper=False):
    """`dcgan_generator(num_classes=10)`, `dcgan_discriminator(num_classes=10)`,
    `ConditionalGAN(g, d)`, `compile()`: the builders' defaults, or with `paper` the seed
    notebooks' label map (DCGAN batch norm, no spectral norm)."""
    keras.utils.set_random_seed(seed)
    form = dict(conditioning="label_map") if paper else {}
    g = generators.dcgan_generator(128, (28, 28, 1), num_classes=10, **form)
    d = discriminators.dcgan_discriminator((28, 28, 1), num_classes=10,
                                           **dict(form, spectral_norm=False) if paper else {})
    model = gans.ConditionalGAN(g, d, seed=seed)
    model.compile()
    return model


def conditional_defaults(seeds=(0, 1, 2), steps=DEFAULTS_STEPS):
    """Rows for the obvious conditional GAN (today's builder defaults and the label map) and
    the demo's AC-GAN, `steps` steps of batch 64 each, on the 4,000 training digits."""

    images, labels = demo._load_digits()
    train, train_labels = images[:4000], labels[:4000]
    classifier = judges.digit_judge()  # trained once, stored with its SHA-256
    fake_labels = np.repeat(np.arange(10), 100).astype("int32")
    noise = np.random.default_rng(123).normal(size=(1000, 128)).astype("float32")

    def acgan(seed):
        import tempfile

        from ganpaint import recipes
        with tempfile.TemporaryDirectory() as out_dir:
            setup = recipes.build("mnist_acgan", data=(train, train_labels), out_dir=out_dir,
                                  seed=seed, **demo.DEMO_OVERRIDES)
        return setup.model, setup.dataset.repeat()

    builds = {
        "ConditionalGAN, builder defaults (cbn G, projection + SN D), default compile()":
            lambda seed: (_obvious_conditional(seed), _dataset(train, seed, train_labels, 64)),
        "ConditionalGAN, label map (G and D, batch norm, no SN), default compile()":
            lambda seed: (_obvious_conditional(seed, paper=True),
                          _dataset(train, seed, train_labels, 64)),
        "ganpaint AC-GAN (demo settings)": acgan,
    }
    out = []
    for name, build in builds.items():
        runs = []
        for seed in seeds:
            model, ds = build(seed)
            start = time.perf_counter()
            model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
            seconds = time.perf_counter() - start
            latent = noise[:, :model.latent_dim]
            s = demo.scores(classifier, images[4000:5000],
                            model.generate(noise=latent, labels=fake_labels), fake_labels)
            runs.append({"seed": seed, "class_accuracy": s["class_accuracy"],
                         "fid_classifier": s["fid"], "seconds": seconds})
            print("conditional defaults", name, runs[-1], flush=True)
        out.append({**summary(f"conditional digits 28px, obvious build, {steps} steps", name,
                              steps, runs), **judges.record()})
    return out
