"""What the measured defaults cost per step against the settings they replaced: CycleGAN's
"ganpaint" preset against preset="paper" (the previous default), and the labelled builders'
defaults (cbn G, projection + spectral-norm D) against the label map. (Pix2Pix's default is
the paper's setting: nothing to time.)
Same networks and batch, alternating windows, float32, no XLA (`small_data_cost`'s method).

    python -m benchmarks --only defaults_cost
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from benchmarks import small_data_cost, throughput
from ganpaint import discriminators, gans, generators

PRESETS = {"paper (the previous default)": {"preset": "paper"}, "ganpaint (default)": {}}
CONDITIONING = {
    "label map (the previous default)": {"conditioning": "label_map"},
    "cbn + projection + SN (default)": {},
}


def _cyclegan128(options):
    keras.utils.set_random_seed(0)
    model = gans.CycleGAN(*throughput.cyclegan_networks(128), seed=0, **options)
    model.compile()
    return model


def _conditional28(options):
    keras.utils.set_random_seed(0)
    d_options = dict(options, spectral_norm=False) if options else {}
    model = gans.ConditionalGAN(
        generators.dcgan_generator(128, (28, 28, 1), 10, **options),
        discriminators.dcgan_discriminator((28, 28, 1), 10, **d_options),
        seed=0,
    )
    model.compile()
    return model


def _digits_batch():
    rng = np.random.default_rng(0)
    return (
        tf.constant(rng.uniform(-1, 1, (64, 28, 28, 1)).astype("float32")),
        tf.constant(rng.integers(0, 10, 64).astype("int32")),
    )


def _pair(size):
    return lambda: (
        throughput._images((1, size, size, 3), 0),
        throughput._images((1, size, size, 3), 1),
    )


CASES = {
    "CycleGAN 128px b1 (TF tutorial networks)": ((_cyclegan128, _pair(128), 4), PRESETS),
    "ConditionalGAN 28px b64 (builder defaults)": (
        (_conditional28, _digits_batch, 10),
        CONDITIONING,
    ),
}


def run() -> dict:
    rows = []
    for name, (case, variants) in CASES.items():
        rows += small_data_cost.run_case(name, {name: case}, variants)
    return {
        "benchmark": "defaults_cost",
        "rows": rows,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
    }
