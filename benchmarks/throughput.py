"""Training throughput of every ganpaint model against the textbook train step, side by side.

For each case the same networks (same builders, sizes and seed) on the same batch are trained
by
- ganpaint's model (`model.fit` on a repeated batch; float32 or mixed bfloat16; with and
  without XLA; `steps_per_execution`), and
- the textbook step (`textbook.py`): the TF CycleGAN / pix2pix / DCGAN tutorials' steps and
  keras-io's `GAN.train_step` (unconditional, conditional, and with a class head), float32 or
  the same networks built under mixed bfloat16, no XLA.
Each figure is the median rate of timed windows after a warm-up, in one process, the two
sides' windows alternating. FLOPs per
step (`flops.py`) count the textbook step's network calls: forward FLOPs x3 for a call that is
differentiated (forward + backward), x1 for one that is not; the same task FLOPs are used for
both implementations, so the achieved fraction of the measured peak (`peak.py`) compares
useful work.

    python -m benchmarks --only throughput [--case cyclegan128 ...]
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from benchmarks import common, flops, peak, textbook
from ganpaint import families, gans, recipes

WINDOWS = 3
SMALL_VARIANTS = ((False, 1), (True, 1), (True, 8))  # (jit_compile, steps_per_execution)
LARGE_VARIANTS = ((False, 1), (True, 1))
NO_XLA = ((False, 1),)  # 256 px: XLA's compile of the CycleGAN step ran out of this machine's
# 24 GiB (the process was killed), and XLA is slower at 128 px on this CPU anyway


# -- timing ---------------------------------------------------------------------------------------
# The machine's speed drifts (shared CPU), so the two sides are timed in alternating windows:
# textbook, ganpaint, textbook, ganpaint, ... and each side's figure is the median of its
# windows. Ratios then compare windows taken seconds apart.


def textbook_window(step, args, steps):
    """steps/s of `steps` calls of a warmed-up textbook step."""
    start = time.perf_counter()
    for _ in range(steps):
        out = step(*args)
    float(out)
    return steps / (time.perf_counter() - start)


class _StepClock(keras.callbacks.Callback):
    """Timestamps at batch ends inside one `fit`, so the rate excludes fit's start-up."""

    def __init__(self):
        super().__init__()
        self.marks = {}

    def on_train_batch_end(self, batch, logs=None):
        self.marks[batch + 1] = time.perf_counter()


def ganpaint_window(model, data, steps, steps_per_execution):
    """steps/s of `model.fit` in its steady state: one `fit` call of one warm-up execution
    plus `steps` (rounded up to whole executions), timed between batch ends."""
    spe = steps_per_execution
    steps = -(-max(steps, spe) // spe) * spe
    clock = _StepClock()
    model.fit(
        data, steps_per_epoch=spe + steps, epochs=1, verbose=0, shuffle=False, callbacks=[clock]
    )
    return steps / (clock.marks[spe + steps] - clock.marks[spe])


def _with_policy(policy, build):
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        return build()
    finally:
        keras.config.set_dtype_policy("float32")


# -- cases ----------------------------------------------------------------------------------------


@dataclass
class Case:
    """One benchmark case: how to build each side and what a step does."""

    name: str
    images_per_step: int
    window_steps: int
    variants: tuple
    batch: Callable[[], tuple]  # the training batch (tensors)
    textbook: Callable[[], tuple]  # -> (step function, its networks)
    ganpaint: Callable[..., keras.Model]  # (jit_compile, spe, **options) -> model
    task_flops: Callable[..., int]  # (*networks) -> FLOPs of a textbook step
    options: dict = None  # label -> model options: ganpaint rows beyond its defaults


def _images(shape, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, shape), tf.float32)


def _labels(n, classes=10):
    return tf.constant(np.arange(n) % classes, tf.int32)


def _gan_flops(g, d, batch, keras_io):
    """keras-io: G without a tape, D on 2B, then G and D differentiated (4G + 9D per example);
    the TF DCGAN tutorial: G, D(real), D(fake), all differentiated (3G + 6D)."""
    g, d = flops.forward_flops(g), flops.forward_flops(d)
    return batch * ((4 * g + 9 * d) if keras_io else (3 * g + 6 * d))


def dcgan28_case(batch=64):
    latent = 128

    def ganpaint(xla, spe, **options):
        g, d = textbook.keras_io_mnist_networks(latent)
        model = gans.GAN(g, d, seed=0)
        model.compile(jit_compile=xla, steps_per_execution=spe)
        return model

    def make_textbook():
        g, d = textbook.keras_io_mnist_networks(latent)
        return textbook.keras_io_gan_step(g, d, latent), (g, d)

    return Case(
        f"DCGAN 28px b{batch} (keras-io networks)",
        batch,
        20,
        SMALL_VARIANTS,
        lambda: (_images((batch, 28, 28, 1)),),
        make_textbook,
        ganpaint,
        lambda g, d: _gan_flops(g, d, batch, True),
    )


def _recipe_case(
    label,
    recipe_name,
    size,
    batch,
    window,
    variants,
    make_step,
    flops_fn,
    make_batch,
    options=None,
    **overrides,
):
    """A case on a recipe's networks: ganpaint's model from `recipes.build_model`, the
    textbook step on a second build of the same networks."""
    overrides = dict(image_size=size, **overrides)

    def ganpaint(xla, spe, **options):  # options: more recipe fields (simultaneous=True)
        return recipes.build_model(
            recipe_name, jit_compile=xla, steps_per_execution=spe, **overrides, **options
        )

    def make_textbook():
        networks = _networks(recipes.build_model(recipe_name, **overrides))
        return make_step(recipe, *networks), networks

    recipe = recipes.get(recipe_name, **overrides)
    images_per_example = families.family(recipe.model).domains  # CycleGAN: an image per domain
    return Case(
        label,
        batch * images_per_example,
        window,
        variants,
        lambda: make_batch(recipe, batch),
        make_textbook,
        ganpaint,
        flops_fn,
        options,
    )


def _networks(model):
    if isinstance(model, gans.CycleGAN):
        return model.g_ab, model.g_ba, model.d_a, model.d_b
    return model.generator, model.discriminator


def _image_batch(recipe, batch):
    return (_images((batch, recipe.image_size, recipe.image_size, recipe.channels)),)


def _labelled_batch(recipe, batch):
    return _image_batch(recipe, batch) + (_labels(batch, recipe.num_classes),)


def _pair_batch(recipe, batch):
    shape = (batch, recipe.image_size, recipe.image_size, recipe.channels)
    return _images(shape, 0), _images(shape, 1)


def dcgan64_case(batch=64):
    return _recipe_case(
        f"DCGAN 64px b{batch} (dogs_dcgan)",
        "dogs_dcgan",
        64,
        batch,
        6,
        SMALL_VARIANTS,
        lambda r, g, d: textbook.dcgan_step(g, d, r.latent_dim),
        lambda g, d: _gan_flops(g, d, batch, False),
        _image_batch,
        options={"simultaneous": {"simultaneous": True}},  # the tutorial's rule
        label_smoothing=None,
    )


def cgan32_case(batch=64):
    return _recipe_case(
        f"ConditionalGAN 32px b{batch} (cifar10_cgan)",
        "cifar10_cgan",
        32,
        batch,
        10,
        SMALL_VARIANTS,
        lambda r, g, d: textbook.keras_io_gan_step(g, d, r.latent_dim, labels=True),
        lambda g, d: _gan_flops(g, d, batch, True),
        _labelled_batch,
    )


def acgan28_case(batch=64):
    return _recipe_case(
        f"ACGAN 28px b{batch} (mnist_acgan)",
        "mnist_acgan",
        28,
        batch,
        20,
        SMALL_VARIANTS,
        lambda r, g, d: textbook.keras_io_gan_step(
            g, d, r.latent_dim, labels=True, aux_classifier=True
        ),
        lambda g, d: _gan_flops(g, d, batch, True),
        _labelled_batch,
        optimizer="adam",
    )  # the textbook step's optimizer


def pix2pix_case(size, batch=1):
    def task_flops(g, d):  # the tutorial: G, D(real pair), D(fake pair), all differentiated
        return batch * (3 * flops.forward_flops(g) + 6 * flops.forward_flops(d))

    return _recipe_case(
        f"Pix2Pix {size}px b{batch} (maps_pix2pix)",
        "maps_pix2pix",
        size,
        batch,
        8 if size <= 128 else 4,
        LARGE_VARIANTS,
        lambda r, g, d: textbook.pix2pix_step(g, d),
        task_flops,
        _pair_batch,
    )


def cyclegan_networks(size):
    """The CycleGAN tutorial's networks: U-Net generators with instance norm, 70x70 PatchGAN."""
    return common.family_networks(
        "cyclegan",
        0,
        image_size=size,
        generator="unet",
        norm="instance",
        dropout=0.0,
        receptive_field=70,
    )


def cyclegan_case(size, batch=1):
    def ganpaint(xla, spe, **options):  # the shipped default preset unless `options` say
        model = gans.CycleGAN(*cyclegan_networks(size), seed=0, **options)
        model.compile(jit_compile=xla, steps_per_execution=spe)
        return model

    def task_flops(g, f, d_x, d_y):  # the tutorial: six G and four D calls, differentiated
        return batch * 3 * (6 * flops.forward_flops(g) + 4 * flops.forward_flops(d_x))

    def make_textbook():
        networks = cyclegan_networks(size)
        return textbook.cyclegan_step(*networks), networks

    shape = (batch, size, size, 3)
    return Case(
        f"CycleGAN {size}px b{batch} (TF tutorial networks)",
        2 * batch,
        4 if size <= 128 else 2,
        LARGE_VARIANTS if size <= 128 else NO_XLA,
        lambda: (_images(shape, 0), _images(shape, 1)),
        make_textbook,
        ganpaint,
        task_flops,
        options={
            "the tutorial's objective": {"preset": "paper", "loss": "bce", "pool_size": 0},
            "ema": {"ema": 0.999},
        },
    )


CASES = {
    "dcgan28": dcgan28_case,
    "dcgan64": dcgan64_case,
    "cgan32": cgan32_case,
    "acgan28": acgan28_case,
    "pix2pix128": lambda: pix2pix_case(128),
    "pix2pix256": lambda: pix2pix_case(256),
    "cyclegan128": lambda: cyclegan_case(128),
    "cyclegan256": lambda: cyclegan_case(256),
}


def run_case(case: Case, peak_flops) -> list[dict]:
    batch = case.batch()
    nominal = None  # counted from the first textbook build's networks
    fit_data = tf.data.Dataset.from_tensors(batch if len(batch) > 1 else batch[0]).repeat()
    rows = []

    def row(impl, precision, xla, spe, rates):
        rate = statistics.median(rates)
        r = {
            "case": case.name,
            "implementation": impl,
            "precision": precision,
            "jit_compile": xla,
            "steps_per_execution": spe,
            "steps_per_s": round(rate, 3),
            "images_per_s": round(rate * case.images_per_step, 2),
            "gflop_per_step": round(nominal / 1e9, 2),
            "fraction_of_peak": round(nominal * rate / peak_flops[precision], 3),
            "windows": len(rates),
        }
        print(r, flush=True)
        return r

    for precision in ("float32", "bfloat16"):
        policy = "float32" if precision == "float32" else "mixed_bfloat16"
        step, networks = _with_policy(policy, case.textbook)
        if nominal is None:
            nominal = case.task_flops(*networks)
        step(*batch)  # trace + warm up
        step(*batch)
        textbook_rates, ganpaint_rows = [], []
        runs = [("ganpaint", xla, spe, {}) for xla, spe in case.variants]
        runs += [
            (f"ganpaint ({label})", False, 1, opts) for label, opts in (case.options or {}).items()
        ]
        for impl, xla, spe, opts in runs:
            model = _with_policy(policy, lambda: case.ganpaint(xla, spe, **opts))
            model.fit(fit_data, steps_per_epoch=2 * spe, epochs=1, verbose=0)  # trace, warm up
            rates = []
            for _ in range(WINDOWS):
                textbook_rates.append(textbook_window(step, batch, case.window_steps))
                rates.append(ganpaint_window(model, fit_data, case.window_steps, spe))
            ganpaint_rows.append(row(impl, precision, xla, spe, rates))
            del model
        rows += [row("textbook", precision, False, 1, textbook_rates)] + ganpaint_rows
    return rows


def run(cases=None, on_case=None) -> dict:
    """All cases (or `cases`); `on_case(result so far)` is called after each case."""
    unknown = sorted(set(cases or ()) - set(CASES))
    if unknown:
        raise ValueError(f"Unknown throughput cases {unknown}. Cases: {', '.join(CASES)}")
    peaks = peak.measure()
    peak_flops = {
        "float32": peaks["float32_gflops"] * 1e9,
        "bfloat16": peaks["bfloat16_gflops"] * 1e9,
    }
    result = {
        "benchmark": "throughput",
        "peak": peaks,
        "rows": [],
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
    }
    for name in cases or CASES:
        # A fresh process per case: memory that one case's models leave behind (TF keeps
        # some) would otherwise add up to more than this machine's 24 GiB by the 256 px cases.
        with concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            result["rows"] += pool.submit(_run_named_case, name, peak_flops).result()
        if on_case is not None:
            on_case(result)
    return result


def _run_named_case(name, peak_flops):
    return run_case(CASES[name](), peak_flops)
