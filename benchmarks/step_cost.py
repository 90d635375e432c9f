"""What each of issue 23's step changes buys, measured in one process against the step
without it (alternating windows, float32, no XLA; `small_data_cost`'s method):

- CycleGAN's shared forward pass (`CycleGAN.shares_forward`: the discriminators' update reuses
  the logits of the generators' update when no pool, augmentation, batch norm or dropout makes
  a second pass differ), on the default preset at 128 px;
- the one-pass EMA (`ganpaint.gans.ema.update_ema`: one XLA-fused pass per variable) against
  the plain blend it replaced, with `ema=0.999` on the same model;
- issue 25's new default, the ResNet generator's residual output (`residual=None`: an
  identity start), against the plain tanh output, on the builders' ResNet generators (6
  blocks, as the paper at 128 px) and 70 px PatchGANs, default preset.

    python -m benchmarks --only step_cost
"""

from __future__ import annotations

import os
from unittest import mock

import keras
import tensorflow as tf

from benchmarks import common, small_data_cost, throughput
from ganpaint import gans
from ganpaint.gans import ema as ema_lib


def _cyclegan128(options):
    options = dict(options)
    shares, plain_ema = options.pop("shares_forward", True), options.pop("plain_ema", False)
    keras.utils.set_random_seed(0)
    model = gans.CycleGAN(*throughput.cyclegan_networks(128), seed=0, **options)
    model.shares_forward = shares and model.shares_forward
    model.compile()
    if plain_ema:  # the step is traced with the old update (the patch holds while tracing)
        update = model.update_ema

        def update_with_plain_blend():
            with mock.patch.object(ema_lib, "update_ema", ema_lib.blend_ema):
                update()

        model.update_ema = update_with_plain_blend
    return model


def _resnet128(options):
    networks = common.family_networks(
        "cyclegan",
        0,
        image_size=128,
        generator="resnet",
        norm="instance",
        receptive_field=70,
        generator_options={"n_blocks": 6, "residual": options["residual"]},
    )
    model = gans.CycleGAN(*networks, seed=0)
    model.compile()
    return model


VARIANTS = {
    "two forward passes (before)": {"shares_forward": False},
    "shared forward pass (default)": {},
    "ema 0.999, plain blend (before)": {"ema": 0.999, "plain_ema": True},
    "ema 0.999, one-pass update (default)": {"ema": 0.999},
}

RESIDUAL_VARIANTS = {
    "plain tanh output (residual=False, before)": {"residual": False},
    "residual output (default)": {"residual": None},
}


def _pair_128():
    return throughput._images((1, 128, 128, 3), 0), throughput._images((1, 128, 128, 3), 1)


# case -> (builder, batch, steps per window, variants)
CASES = {
    "CycleGAN 128px b1 (TF tutorial networks), default preset": (
        _cyclegan128,
        _pair_128,
        4,
        VARIANTS,
    ),
    "CycleGAN 128px b1 (ResNet 6 blocks, PatchGAN 70), default preset": (
        _resnet128,
        _pair_128,
        4,
        RESIDUAL_VARIANTS,
    ),
}


def run() -> dict:
    rows = []
    for name in CASES:
        build, batch, window, variants = CASES[name]
        rows += small_data_cost.run_case(name, {name: (build, batch, window)}, variants)
    return {
        "benchmark": "step_cost",
        "rows": rows,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
    }
