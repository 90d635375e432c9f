"""The search behind the models' defaults: settings tried on the bundled tasks, over seeds.

Each stage changes one thing from the previous stage's winner (a coordinate search, not a
grid: the grid of every setting would take days on a CPU), so a row names only what it
changes from `base`. Every row is trained with each seed of `SEEDS` and reports mean, sd and
each seed's score, as the quality benchmark does (the same task, networks and score).

- CycleGAN, photo -> painting 64 px (`quality.photo_to_painting`'s task: L1 to the true
  painting of each photo), 600 steps of batch 1; the winners at 2,400 steps too.
- pix2pix, photo -> map 64 px: pairs made by a fixed transform (`ganpaint.data.map_like`) of
  the 30 bundled photos; trained on 24, scored by L1 to the true map of the 6 held out;
  600 steps of batch 1 (the TF tutorial's batch), jitter and flip as the paper.

    python -m benchmarks.defaults_search --family cyclegan [--stage loss] [--steps 600]
    python -m benchmarks.defaults_search --family pix2pix
    python -m benchmarks.defaults_search --family cyclegan --steps 2400 --setting '{"loss": "bce"}'

The README's tables were made with the stages at 600 steps, then `--setting` at 2,400 steps
for the 600-step winner, the paper's setting and the tutorial's objective (pix2pix: the
winner, the paper's and the TF tutorial's step); `report.py --figures docs` then writes
`docs/benchmarks/defaults.json`, the record the tests pin the code's defaults to.

Rows go to `benchmarks/results/defaults_search_<family>.json`, merged by (steps, setting), so
a stage can be rerun alone; `report.py` prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks import common, quality, textbook
from benchmarks.settings import CYCLE_PAPER, CYCLE_STAGES, PIX_PAPER, PIX_STAGES
from ganpaint import data, gans
from ganpaint.gans.base import default_optimizer

SEEDS = (0, 1, 2)
RESULTS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "results", "defaults_search_{family}.json"
)

# -- CycleGAN -----------------------------------------------------------------------------------


def train_cyclegan(setting, photos, ds, steps, seed, size):
    s = {**CYCLE_PAPER, **setting}
    nets = common.small_cyclegan_networks(
        size, seed, s["residual"], s["norm"], s["receptive_field"], s["spectral_norm"]
    )
    tools = {k: s[k] for k in ("diff_augment", "ema") if k in s}
    model = gans.CycleGAN(
        *nets,
        loss=s["loss"],
        pool_size=s["pool_size"],
        cycle_weight=s["cycle_weight"],
        identity_weight=s["identity_weight"],
        seed=seed,
        **tools,
    )
    model.compile(
        default_optimizer(s["lr_g"], s["beta_1"], s["beta_2"]),
        default_optimizer(s["lr_d"], s["beta_1"], s["beta_2"]),
    )
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return model.translate(photos)


def seeded_rows(family, task, paper, metric, settings, steps, seeds, score):
    """A row per setting: `score(setting, seed)` for each seed, summarised as the quality
    benchmark's rows are, with the full setting recorded."""
    rows = []
    for name, setting in settings.items():
        runs = []
        for seed in seeds:
            start = time.perf_counter()
            runs.append(
                {"seed": seed, metric: score(setting, seed), "seconds": time.perf_counter() - start}
            )
            print(name, runs[-1], flush=True)
        row = common.summary(task, name, steps, runs)
        rows.append({"family": family, "setting": {**paper, **setting}, **row})
    return rows


def cyclegan_rows(settings, steps, seeds=SEEDS, size=quality.CYCLE_SIZE):
    photos, paintings, truth = common.photos_and_paintings(size)

    def score(setting, seed):
        ds = data.unpaired_dataset(
            photos, paintings, image_size=size, batch_size=1, seed=seed, repeat=True
        )
        return common.l1_to_truth(train_cyclegan(setting, photos, ds, steps, seed, size), truth)

    return seeded_rows(
        "cyclegan",
        f"photo->painting {size}px",
        CYCLE_PAPER,
        "l1_to_true_painting",
        settings,
        steps,
        seeds,
        score,
    )


# -- pix2pix -------------------------------------------------------------------------------------

PIX_TRAIN = 24  # photos trained on; the rest are held out and scored


def photo_to_map_pairs(size=quality.CYCLE_SIZE):
    """(training pairs side by side as uint8 [N, size, 2 * size, 3], held-out photos in
    [-1, 1], their true maps in [-1, 1])."""
    photos = data.to_uint8(common.photos_and_paintings(size)[0])
    maps = data.map_like(photos)
    pairs = np.concatenate([photos, maps], axis=2)[:PIX_TRAIN]
    scale = lambda x: x.astype("float32") / 127.5 - 1.0
    return pairs, scale(photos[PIX_TRAIN:]), scale(maps[PIX_TRAIN:])


def pix2pix_networks(size, seed, norm, dropout, receptive_field, spectral_norm):
    return common.family_networks(
        "pix2pix",
        seed,
        image_size=size,
        generator="unet",
        base_filters=32,
        max_filters=128,
        norm=norm,
        d_norm="same",
        dropout=dropout,
        receptive_field=receptive_field,
        spectral_norm=spectral_norm,
    )


def train_pix2pix(setting, ds, steps, seed, size, held_out):
    s = {**PIX_PAPER, **setting}
    g, d = pix2pix_networks(
        size, seed, s["norm"], s["dropout"], s["receptive_field"], s["spectral_norm"]
    )
    if s.get("tutorial"):
        step = textbook.pix2pix_step(g, d, s["l1_weight"])
        for a, b in ds.take(steps):
            step(a, b)
        return g(held_out, training=True).numpy()  # the tutorial translates with training=True
    tools = {k: s[k] for k in ("diff_augment", "ema") if k in s}
    model = gans.Pix2Pix(
        g, d, loss=s["loss"], l1_weight=s["l1_weight"], inference=s["inference"], seed=seed, **tools
    )
    model.compile(
        default_optimizer(s["lr_g"], s["beta_1"], s["beta_2"]),
        default_optimizer(s["lr_d"], s["beta_1"], s["beta_2"]),
    )
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return model.translate(held_out)


def pix2pix_rows(settings, steps, seeds=SEEDS, size=quality.CYCLE_SIZE):
    pairs, held_out, truth = photo_to_map_pairs(size)

    def score(setting, seed):
        ds = data.paired_dataset(
            pairs, image_size=size, batch_size=1, seed=seed, augment=("jitter", "flip"), repeat=True
        )
        return common.l1_to_truth(train_pix2pix(setting, ds, steps, seed, size, held_out), truth)

    return seeded_rows(
        "pix2pix",
        f"photo->map {size}px, {len(truth)} held out",
        PIX_PAPER,
        "l1_to_true_map",
        settings,
        steps,
        seeds,
        score,
    )


FAMILIES = {
    "cyclegan": dict(
        paper=CYCLE_PAPER, stages=CYCLE_STAGES, metric="l1_to_true_painting", rows=cyclegan_rows
    ),
    "pix2pix": dict(paper=PIX_PAPER, stages=PIX_STAGES, metric="l1_to_true_map", rows=pix2pix_rows),
}


def best(rows, metric="l1_to_true_painting"):
    return min(rows, key=lambda r: r[metric])


# -- results ------------------------------------------------------------------------------------


def load(family) -> list:
    path = RESULTS.format(family=family)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["rows"]


def save(family, rows):
    """Merge `rows` into the family's JSON by (steps, implementation): several runs (one
    budget each) may finish at once."""
    common.merge_rows(
        RESULTS.format(family=family),
        rows,
        lambda r: (r["steps"], r["implementation"]),
        "defaults_search",
    )


def search(family, stages, steps, seeds):
    """Run `stages` of `family` in order; each starts from the best setting found so far at
    `steps` (the tutorial's row never counts as a base)."""
    spec = FAMILIES[family]
    for stage in spec["stages"]:
        if stage not in stages:
            continue
        done = [r for r in load(family) if r["steps"] == steps and not r["setting"].get("tutorial")]
        base = {}
        if done:
            winner = best(done, spec["metric"])
            base = {k: v for k, v in winner["setting"].items() if spec["paper"].get(k) != v}
        print(f"{family} stage {stage}: from {base or 'the paper setting'}", flush=True)
        settings = {
            _describe(spec["paper"], {**base, **change}): {**base, **change}
            for change in spec["stages"][stage].values()
        }
        if family == "pix2pix" and stage == "loss":
            settings["TF tutorial pix2pix step"] = {"tutorial": True}
        save(family, spec["rows"](settings, steps, seeds))


def _describe(paper, setting):
    """A row's name: what it changes from the paper setting."""
    changed = {k: v for k, v in setting.items() if paper.get(k) != v}
    return ", ".join(f"{k}={v}" for k, v in sorted(changed.items())) or "paper setting"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", default="cyclegan", choices=tuple(FAMILIES))
    parser.add_argument("--stage", action="append")
    parser.add_argument("--steps", type=int, default=quality.CYCLE_STEPS)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument(
        "--setting",
        help="one setting as JSON (e.g. the winners at more steps), instead of the stages",
    )
    args = parser.parse_args(argv)
    if args.setting:
        setting = json.loads(args.setting)
        name = (
            "TF tutorial pix2pix step"
            if setting.get("tutorial")
            else _describe(FAMILIES[args.family]["paper"], setting)
        )
        save(
            args.family,
            FAMILIES[args.family]["rows"]({name: setting}, args.steps, tuple(args.seeds)),
        )
        return
    search(
        args.family,
        args.stage or tuple(FAMILIES[args.family]["stages"]),
        args.steps,
        tuple(args.seeds),
    )


if __name__ == "__main__":
    main()
