"""The search behind the models' defaults: settings tried on the bundled tasks, over seeds.

Each stage changes one thing from the previous stage's winner (a coordinate search, not a
grid: the grid of every setting would take days on a CPU), so a row names only what it
changes from `base`. Every row is trained with each seed of `SEEDS` and reports mean, sd and
each seed's score, as the quality benchmark does (the same task, networks and score).

- CycleGAN, photo -> painting 64 px (`quality.photo_to_painting`'s task: L1 to the true
  painting of each photo), 600 steps of batch 1; the winners at 2,400 steps too.

    python benchmarks/defaults_search.py --family cyclegan [--stage loss] [--steps 600]

Rows go to `benchmarks/results/defaults_search.json`, merged by (family, steps, setting), so
a stage can be rerun alone; `report.py` prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from ganpaint import data, discriminators, gans, generators  # noqa: E402
from ganpaint.gans.base import default_optimizer  # noqa: E402

import quality  # noqa: E402

SEEDS = (0, 1, 2)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                       "defaults_search.json")

# -- CycleGAN -----------------------------------------------------------------------------------

# What each setting may name: networks (residual, norm, receptive_field, spectral_norm), the
# objective (loss, pool_size, cycle_weight, identity_weight), the optimizers (lr_g, lr_d,
# beta_1, beta_2) and the small-data tools (diff_augment, ema).
CYCLE_PAPER = dict(loss="lsgan", pool_size=50, cycle_weight=10.0, identity_weight=0.5,
                   residual=False, norm="instance", receptive_field=16, spectral_norm=False,
                   lr_g=2e-4, lr_d=2e-4, beta_1=0.5, beta_2=0.999)

CYCLE_STAGES = {
    "loss": {f"loss={loss}, pool={pool}": dict(loss=loss, pool_size=pool)
             for loss in ("lsgan", "bce", "hinge", "ralsgan") for pool in (50, 0)},
    "output": {"residual output": dict(residual=True)},
    "weights": {f"cycle={c}, identity={i}": dict(cycle_weight=c, identity_weight=i)
                for c, i in ((10.0, 0.0), (10.0, 1.0), (5.0, 0.5), (20.0, 0.5))},
    "optimizer": {"lr 1e-4": dict(lr_g=1e-4, lr_d=1e-4), "lr 4e-4": dict(lr_g=4e-4, lr_d=4e-4),
                  "TTUR g 1e-4, d 4e-4": dict(lr_g=1e-4, lr_d=4e-4),
                  "betas 0, 0.9": dict(beta_1=0.0, beta_2=0.9)},
    "networks": {"group norm": dict(norm="group"), "spectral norm D": dict(spectral_norm=True),
                 "PatchGAN 70": dict(receptive_field=70), "PatchGAN 1 (PixelGAN)":
                 dict(receptive_field=1)},
    "small_data": {"diff_augment": dict(diff_augment="color,translation,cutout"),
                   "ema 0.999": dict(ema=0.999)},
}


def cyclegan_networks(size, seed, residual, norm, receptive_field, spectral_norm):
    """The quality benchmark's small U-Nets and PatchGANs, with the searched options."""
    shape = (size, size, 3)
    keras.utils.set_random_seed(seed)
    g = [generators.unet_generator(shape, filters=32, max_filters=128, norm=norm, dropout=0.0,
                                   residual=residual, name=name) for name in ("g", "f")]
    d = [discriminators.patchgan_discriminator(shape, receptive_field, filters=32, norm=norm,
                                               spectral_norm=spectral_norm, name=name)
         for name in ("d_x", "d_y")]
    return (*g, *d)


def train_cyclegan(setting, photos, ds, steps, seed, size):
    s = {**CYCLE_PAPER, **setting}
    nets = cyclegan_networks(size, seed, s["residual"], s["norm"], s["receptive_field"],
                             s["spectral_norm"])
    tools = {k: s[k] for k in ("diff_augment", "ema") if k in s}
    model = gans.CycleGAN(*nets, loss=s["loss"], pool_size=s["pool_size"],
                          cycle_weight=s["cycle_weight"], identity_weight=s["identity_weight"],
                          seed=seed, **tools)
    model.compile(default_optimizer(s["lr_g"], s["beta_1"], s["beta_2"]),
                  default_optimizer(s["lr_d"], s["beta_1"], s["beta_2"]))
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return model.translate(photos)


def cyclegan_rows(settings, base, steps, seeds=SEEDS, size=quality.CYCLE_SIZE):
    photos, paintings, truth = quality._photos_and_paintings(size)
    rows = []
    for name, change in settings.items():
        setting = {**base, **change}
        runs = []
        for seed in seeds:
            ds = data.unpaired_dataset(photos, paintings, image_size=size, batch_size=1,
                                       seed=seed, repeat=True)
            start = time.perf_counter()
            translated = train_cyclegan(setting, photos, ds, steps, seed, size)
            runs.append({"seed": seed, "l1_to_true_painting": quality._l1(translated, truth),
                         "seconds": time.perf_counter() - start})
            print(name, runs[-1], flush=True)
        row = quality._summary(f"photo->painting {size}px", name, steps, runs)
        rows.append({"family": "cyclegan", "setting": {**CYCLE_PAPER, **setting}, **row})
    return rows


def best(rows, metric="l1_to_true_painting"):
    return min(rows, key=lambda r: r[metric])


# -- results ------------------------------------------------------------------------------------

def load(path=RESULTS) -> list:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["rows"]


def save(rows, path=RESULTS):
    """Merge `rows` into the JSON at `path` by (family, steps, implementation)."""
    key = lambda r: (r["family"], r["steps"], r["implementation"])  # noqa: E731
    kept = {key(r): r for r in load(path)}
    kept.update({key(r): r for r in rows})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump({"benchmark": "defaults_search", "rows": list(kept.values())}, f, indent=2)
    os.replace(path + ".tmp", path)


def search_cyclegan(stages, steps, seeds):
    """Run `stages` in order; each starts from the best setting found so far at `steps`."""
    base = {}
    for stage in CYCLE_STAGES:
        done = [r for r in load() if r["family"] == "cyclegan" and r["steps"] == steps]
        if done:
            winner = best(done)
            base = {k: v for k, v in winner["setting"].items() if CYCLE_PAPER.get(k) != v}
        if stage not in stages:
            continue
        print(f"stage {stage}: from {base or 'the paper setting'}", flush=True)
        settings = {_describe({**base, **change}): {**base, **change}
                    for change in CYCLE_STAGES[stage].values()}
        save(cyclegan_rows(settings, {}, steps, seeds))


def _describe(setting):
    """A row's name: what it changes from the paper setting."""
    changed = {k: v for k, v in setting.items() if CYCLE_PAPER.get(k) != v}
    return ", ".join(f"{k}={v}" for k, v in sorted(changed.items())) or "paper setting"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", default="cyclegan", choices=("cyclegan",))
    parser.add_argument("--stage", action="append", choices=tuple(CYCLE_STAGES))
    parser.add_argument("--steps", type=int, default=quality.CYCLE_STEPS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    args = parser.parse_args(argv)
    search_cyclegan(args.stage or tuple(CYCLE_STAGES), args.steps, tuple(args.seeds))


if __name__ == "__main__":
    main()
