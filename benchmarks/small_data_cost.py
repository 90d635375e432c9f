"""What the small-data tools cost per step: DiffAugment and EMA on DCGAN 64 px and CycleGAN
128 px, against the same model without them.

Each case builds the model four ways (plain; `diff_augment="color,translation,cutout"`;
`ema=0.999`; both) on the same networks and batch, warms each up, then times them in
alternating windows (the shared CPU's speed drifts, as `throughput.py` explains) and reports
each variant's median steps/s and its cost relative to plain, float32, no XLA.

    python -m benchmarks --only small_data_cost
"""

from __future__ import annotations

import os
import statistics

import keras
import tensorflow as tf

from benchmarks import throughput
from ganpaint import gans, recipes

WINDOWS = 5
VARIANTS = {
    "plain": {},
    "diff_augment": {"diff_augment": "color,translation,cutout"},
    "ema": {"ema": 0.999},
    "diff_augment + ema": {"diff_augment": "color,translation,cutout", "ema": 0.999},
}


def _dcgan64(options):
    return recipes.build_model("dogs_dcgan", image_size=64, label_smoothing=None, **options)


def _cyclegan128(options):
    keras.utils.set_random_seed(0)
    model = gans.CycleGAN(*throughput.cyclegan_networks(128), seed=0, **options)  # default preset
    model.compile()
    return model


CASES = {
    "DCGAN 64px b64 (dogs_dcgan)": (_dcgan64, lambda: throughput._images((64, 64, 64, 3)), 6),
    "CycleGAN 128px b1 (TF tutorial networks), default preset": (
        _cyclegan128,
        lambda: (throughput._images((1, 128, 128, 3), 0), throughput._images((1, 128, 128, 3), 1)),
        4,
    ),
}


def run_case(name, cases=None, variants=None) -> list[dict]:
    """Time each of `variants` (label -> options for the case's builder; the first is the
    base) on case `name` of `cases`, in alternating windows."""
    cases, variants = cases or CASES, variants or VARIANTS
    build, make_batch, window = cases[name]
    batch = make_batch()
    data = tf.data.Dataset.from_tensors(batch).repeat()
    models = {}
    for label, options in variants.items():
        models[label] = build(options)
        models[label].fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace, warm up
    rates = {label: [] for label in variants}
    for _ in range(WINDOWS):
        for label, model in models.items():
            rates[label].append(throughput.ganpaint_window(model, data, window, 1))
    plain = statistics.median(rates[next(iter(variants))])
    rows = []
    for label in variants:
        rate = statistics.median(rates[label])
        rows.append(
            {
                "case": name,
                "variant": label,
                "steps_per_s": round(rate, 3),
                "step_time_vs_plain": round(plain / rate, 3),
                "windows": WINDOWS,
            }
        )
        print(rows[-1], flush=True)
    return rows


def run() -> dict:
    rows = [row for name in CASES for row in run_case(name)]
    return {
        "benchmark": "small_data_cost",
        "rows": rows,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
    }
