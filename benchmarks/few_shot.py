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

The conditional benchmarks (labels learned on the digits and the textures) are in
`conditional.py`; they share `digit_networks`.

    python -m benchmarks --task few_shot_digits
"""

from __future__ import annotations

import keras
import numpy as np

from benchmarks import judges  # the digit judge, stored once
from benchmarks.common import batches, fit_scoring, summary
from ganpaint import augment, discriminators, gans, generators, metrics

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
    "diff_augment translation,cutout (the paper's for this task)": dict(
        diff_augment="translation,cutout"
    ),
    "diff_augment p=0.5": dict(diff_augment="color,translation,cutout", augment_p=0.5),
    "diff_augment p=0.25": dict(diff_augment="color,translation,cutout", augment_p=0.25),
    "ada_target 0.6 + ema": dict(ada_target=0.6, ema=0.999),
}
# The same question with DCGAN's own discriminator (batch norm after the first layer), which
# memorises faster than the norm-free one above (`--task few_shot_digits_bn`).
BN_ROWS = {
    "plain, batch-norm D": dict(d_norm="batch"),
    "diff_augment, batch-norm D": dict(d_norm="batch", diff_augment="color,translation,cutout"),
    "diff_augment translation,cutout, batch-norm D": dict(
        d_norm="batch", diff_augment="translation,cutout"
    ),
    "ada_target 0.6, batch-norm D": dict(d_norm="batch", ada_target=0.6),
}
ALL_ROWS = {**ROWS, **BN_ROWS}


def digit_networks(seed, num_classes=None, conditioning=None, d_norm=None, spectral_norm=False):
    keras.utils.set_random_seed(seed)
    g_kw, d_kw = {}, {}
    if conditioning is not None:
        g_kw = dict(conditioning=conditioning[0])
        d_kw = dict(conditioning=conditioning[1])
    g = generators.dcgan_generator(
        LATENT, (28, 28, 1), num_classes, base_filters=32, max_filters=128, norm="batch", **g_kw
    )
    d = discriminators.dcgan_discriminator(
        (28, 28, 1),
        num_classes,
        base_filters=32,
        max_filters=128,
        norm=d_norm,
        spectral_norm=spectral_norm,
        **d_kw,
    )
    return g, d


def _sigmoid_mean(discriminator, images):
    logits = np.concatenate(
        [
            np.asarray(discriminator(images[i : i + 500], training=False))
            for i in range(0, len(images), 500)
        ]
    )
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


def _train_few_shot(kwargs, train, steps, seed, judge, noise):
    kwargs = dict(kwargs)
    g, d = digit_networks(seed, d_norm=kwargs.pop("d_norm", None))
    model = gans.GAN(g, d, seed=seed, **kwargs)
    model.compile()
    curve, seconds = fit_scoring(
        model,
        batches(train, seed, batch=BATCH),
        steps,
        CURVE_EVERY,
        lambda done: [done, round(judge.fid(model.generate(noise=noise)), 3)],
    )
    return model, curve, seconds


def few_shot_digits(seeds=SEEDS, rows=tuple(ROWS), budgets=None):
    """Rows for each training-set size and each setting in `rows` (names of `ROWS`)."""

    train_pool = judges.data(judges.DIGIT, "train")[0]  # the judge's split
    held_out = judges.data(judges.DIGIT, "held_out")[0]
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
                model, curve, seconds = _train_few_shot(
                    ALL_ROWS[name], train, steps, seed, judge, noise
                )
                fakes = model.generate(noise=noise)
                gap = _sigmoid_mean(model.discriminator, train) - _sigmoid_mean(
                    model.discriminator, held_out
                )
                distances = augment.nearest_distances(fakes, train)
                runs.append(
                    {
                        "seed": seed,
                        "fid_classifier": curve[-1][1],
                        "overfit_gap": gap,
                        "nearest_train_distance": float(np.mean(distances)),
                        "final_p": float(model.augmenter.p.value)
                        if model.augmenter is not None
                        else 0.0,
                        "seconds": seconds,
                    }
                )
                print(f"few-shot {n} digits", name, runs[-1], flush=True)
                runs[-1]["curve"] = curve
            curves = [r.pop("curve") for r in runs]
            row = summary(f"few-shot digits, {n} training digits", name, steps, runs)
            row["fid_curve"] = {
                "steps": [c[0] for c in curves[0]],
                "mean": [
                    round(float(np.mean([c[i][1] for c in curves])), 3)
                    for i in range(len(curves[0]))
                ],
            }
            row["held_out_nearest_train_distance"] = round(held_distance, 4)
            row["settings"] = ALL_ROWS[name]
            out.append({**row, **judges.record()})
        # What copying the training digits would score: each repeated to 1,000 images.
        copies = np.resize(train, (1000, *train.shape[1:]))
        out.append(
            summary(
                f"few-shot digits, {n} training digits",
                "(no model: the training digits, repeated)",
                0,
                [
                    {
                        "seed": 0,
                        "fid_classifier": judge.fid(copies),
                        "overfit_gap": 0.0,
                        "nearest_train_distance": 0.0,
                        "final_p": 0.0,
                        "seconds": 0.0,
                    }
                ],
            )
        )
        out[-1].update(held_out_nearest_train_distance=round(held_distance, 4), **judges.record())
    return out


def few_shot_digits_bn(seeds=SEEDS):
    """The 30-digit rows with DCGAN's batch-norm discriminator (and their own plain row)."""
    return [
        dict(r, task=r["task"] + ", batch-norm D")
        for r in few_shot_digits(seeds=seeds, rows=tuple(BN_ROWS), budgets={30: BUDGETS[30]})
    ]
