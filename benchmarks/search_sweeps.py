"""The searches of docs/defaults.md re-run as sweeps over recipes, beside their published rows.

The defaults search (`defaults_search.py`) trains hand-built models; here each search's task is
a recipe, and its rows are the variants of one `ganpaint.sweeps.sweep` (what a user runs with
`ganpaint sweep RECIPE --variant ...`), scored by `run.val_pairs` (`callbacks.PairedL1`, L1
of the translated held-out inputs to their true targets, in `history/epochs.csv`):

- CycleGAN, photo -> painting 64 px: `monet_cyclegan` with the search's small U-Nets (filters
  32, at most 128, no dropout) and 16x16 PatchGANs, batch 1, jitter and flip, 600 steps, on
  the bundled photos and paintings; scored against `data.painterly` of each photo.
- pix2pix, photo -> map 64 px: `maps_pix2pix` with the search's networks (filters 32, at most
  128, dropout 0.5, 16x16 PatchGAN), batch 1, jitter and flip, 600 steps, on 24 pairs made by
  `data.map_like`; scored on the 6 held out.
- Labelled GANs, the optimizer search (`conditional.py`'s "obvious three lines"):
  `cifar10_cgan` with the builders' defaults (its soft labels, dropout and flips off: the same
  networks, weights and all, as `dcgan_generator(128, (28, 28, 1), num_classes=10)` and
  `dcgan_discriminator`), batch 64, 600 steps on the 4,000 training digits; scored by
  `run.judge`, the stored digit judge (`callbacks.ClassJudge`): the share of 1,000 drawn
  digits (100 a class) it names as requested, `right_class`, published as `class_accuracy`.

Each CycleGAN and pix2pix variant names only what it changes from the paper's preset, as the
search's rows do; the default is `model.preset=ganpaint`. Each labelled variant names its
Adam. A row agrees with the published one when their means are within twice the larger of
their standard deviations over seeds (the rule of docs/defaults.md).

    python -m benchmarks.search_sweeps --family cyclegan --parallel 2
    python -m benchmarks.search_sweeps --family pix2pix --parallel 2
    python -m benchmarks.search_sweeps --family conditional

Runs go to benchmarks/results/search_sweeps/FAMILY (a stopped sweep continues when run again;
`--augment none` and `--data folders` are the ablations that explain the CycleGAN rows);
the rows to benchmarks/results/search_sweeps.json, which `report.py` renders.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks import common, defaults_search, judges
from benchmarks.settings import CONDITIONAL_OPTIMIZERS
from ganpaint import data, fs, sweeps

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
PUBLISHED = os.path.join(os.path.dirname(HERE), "docs", "benchmarks")
SEEDS = (0, 1, 2)
SIZE, STEPS, EPOCHS = 64, 600, 6  # 6 epochs of 100 steps: the score is the last epoch's

# What the search's networks, data and budget are as recipe settings (beside each recipe's).
_RUN = dict(
    common.sweep_run_fields(SIZE, STEPS, EPOCHS),
    base_filters=32,
    max_filters=128,
    receptive_field=16,
    preset="paper",
)
TASKS = {
    "cyclegan": dict(
        recipe="monet_cyclegan",
        # jitter and flip: the search's data (`unpaired_dataset`'s default) and the recipe's
        overrides=dict(_RUN, norm="instance", dropout=0.0, augment="jitter+flip"),
        published="defaults_search_cyclegan",
        metric="l1_to_true_painting",
        score="val_l1",
        # (the published row's name, the variant's settings)
        rows=[
            ("paper setting", {}),
            ("loss=hinge", {"model.loss": "hinge"}),
            ("loss=ralsgan, pool_size=0", {"model.loss": "ralsgan", "model.pool_size": 0}),
            (
                "cycle_weight=5.0, loss=ralsgan, pool_size=0",
                {"model.loss": "ralsgan", "model.pool_size": 0, "model.cycle_weight": 5.0},
            ),
            (
                "cycle_weight=5.0, loss=ralsgan, lr_d=0.0004, lr_g=0.0004, pool_size=0",
                {"model.preset": "ganpaint"},
            ),
            ("loss=bce, pool_size=0", {"model.loss": "bce", "model.pool_size": 0}),
        ],
    ),
    "pix2pix": dict(
        recipe="maps_pix2pix",
        overrides=dict(_RUN, norm="batch", dropout=0.5, augment="jitter+flip"),
        published="defaults_search_pix2pix",
        metric="l1_to_true_map",
        score="val_l1",
        rows=[
            ("paper setting", {}),
            ("lr_d=0.0004, lr_g=0.0004", {"model.preset": "ganpaint"}),
            (
                "dropout=0.0, lr_d=0.0004, lr_g=0.0004",
                {"model.preset": "ganpaint", "networks.dropout": 0.0},
            ),
        ],
    ),
}


def _adam_settings(value) -> dict:
    """A `settings.CONDITIONAL_OPTIMIZERS` value (one Adam, or G's and D's) as recipe settings."""
    g, d = value if isinstance(value, tuple) else (value, value)
    if (g["beta_1"], g["beta_2"]) != (d["beta_1"], d["beta_2"]):
        raise ValueError(f"a recipe gives both players one Adam's betas; {value} does not")
    return {
        "optimizer.g_learning_rate": g["learning_rate"],
        "optimizer.d_learning_rate": d["learning_rate"],
        "optimizer.beta_1": g["beta_1"],
        "optimizer.beta_2": g["beta_2"],
    }


CONDITIONAL_TASK = "conditional digits 28px, obvious build, 600 steps"
TASKS["conditional"] = dict(
    recipe="cifar10_cgan",
    # The builders' defaults: the recipe's soft labels, dropout, flips and gradient norms off.
    overrides=dict(
        common.sweep_run_fields(28, STEPS, EPOCHS),
        channels=1,
        batch_size=64,
        augment=None,
        dropout=0.0,
        label_smoothing=None,
        gradient_norms=False,
        judge=judges.path(judges.DIGIT),
    ),
    published="quality",
    published_task=CONDITIONAL_TASK,
    metric="class_accuracy",
    score="right_class",
    rows=[(name, _adam_settings(value)) for name, value in CONDITIONAL_OPTIMIZERS.items()],
)


def _side_by_side(a, b):
    return {"images": np.concatenate([data.to_uint8(a), data.to_uint8(b)], axis=2)}


def write_task_data(family, folder, source="search") -> tuple:
    """The task's files, from the search's own arrays (`common.photos_and_paintings`,
    `defaults_search.photo_to_map_pairs`): (training data as `build` takes it, the held-out
    pairs' .npz). `source` "search": the photos and paintings as the search read them,
    resized to 64 px first (then jittered from 64 px); "folders": the bundled folders, which
    the pipeline resizes straight from full size (an ablation)."""
    if family == "conditional":  # the judge's training digits, with their labels
        return judges.data(judges.DIGIT, "train"), None
    fs.makedirs(folder)
    pairs = os.path.join(folder, "val_pairs.npz")
    if family == "cyclegan":
        photos, paintings, truth = common.photos_and_paintings(SIZE)
        np.savez(pairs, **_side_by_side(photos, truth))
        if source == "folders":
            return (data.sample_path("photo"), data.sample_path("monet")), pairs
        domains = []
        for name, images in (("photos", photos), ("paintings", paintings)):
            domains.append(os.path.join(folder, f"{name}.npz"))
            np.savez(domains[-1], images=data.to_uint8(images))
        return tuple(domains), pairs
    train_pairs, held_out, truth = defaults_search.photo_to_map_pairs(SIZE)
    train = os.path.join(folder, "train_pairs.npz")
    np.savez(train, images=train_pairs)
    np.savez(pairs, **_side_by_side(held_out, truth))
    return train, pairs


def published_rows(task) -> dict:
    with open(os.path.join(PUBLISHED, f"{task['published']}.json")) as f:
        rows = json.load(f)["rows"]
    return {
        r["implementation"]: r
        for r in rows
        if r["steps"] == STEPS and r["task"] == task.get("published_task", r["task"])
    }


def run(family, parallel=1, seeds=SEEDS, out=None, augment="recipe", source="search"):
    """Sweep one family's rows. `augment` other than "recipe" replaces the task's, and
    `source="folders"` trains on the bundled folders (ablations: their rows are labelled
    `FAMILY, augment=...` / `FAMILY, data=folders`)."""
    task = dict(TASKS[family])
    label, folder = family, family
    if source != "search":
        label, folder = f"{label}, data={source}", f"{folder}_{source}"
    if augment != "recipe":
        task["overrides"] = dict(task["overrides"], augment=augment)
        label, folder = f"{label}, augment={augment}", f"{folder}_augment_{augment}"
    root = os.path.join(RESULTS, "search_sweeps")
    out = out or os.path.join(root, folder)
    train, pairs = write_task_data(family, os.path.join(root, f"task_{family}"), source)
    variants = [settings for _, settings in task["rows"]]
    sweeps.sweep(
        task["recipe"],
        variants,
        seeds=list(seeds),
        out_dir=out,
        data=train,
        parallel=parallel,
        **({} if pairs is None else {"val_pairs": pairs}),
        **task["overrides"],
    )
    runs = list(csv.DictReader(io.StringIO(fs.read_text(os.path.join(out, "runs.csv")))))
    published = published_rows(task)
    measure = "l1" if task["score"] == "val_l1" else task["score"]  # the rows' key
    rows = []
    for name, settings in task["rows"]:
        variant = sweeps.variant_label(settings)
        mine = sorted((r for r in runs if r["variant"] == variant), key=lambda r: int(r["seed"]))
        per_seed = [
            {
                "seed": r["seed"],
                measure: float(r[f"final_{task['score']}"]),
                **({"judge_fid": float(r["final_judge_fid"])} if "final_judge_fid" in r else {}),
                "seconds": float(r["seconds"]),
            }
            for r in mine
        ]
        then = published.get(name)
        row = {
            "family": label,
            "setting": name,
            "variant": settings,
            "measure": measure,
            **common.summary(task["recipe"], name, STEPS, per_seed),
        }
        if "judge" in task["overrides"]:
            row.update(judges.record(judges.DIGIT))
        if then is not None:
            row["published"] = then[task["metric"]]
            row["published_std"] = then[f"{task['metric']}_std"]
            spread = 2 * max(row[f"{measure}_std"], row["published_std"])
            row["agrees"] = abs(row[measure] - row["published"]) <= spread
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=sorted(TASKS), action="append")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    parser.add_argument(
        "--augment",
        default="recipe",
        help="the training data's augmentation: 'recipe' (the task's), or another "
        "(e.g. none) as an ablation",
    )
    parser.add_argument(
        "--data",
        choices=("search", "folders"),
        default="search",
        help="CycleGAN's training images: as the search read them (64 px arrays), or the "
        "bundled folders (an ablation)",
    )
    args = parser.parse_args(argv)
    augment = None if args.augment.lower() == "none" else args.augment
    path = os.path.join(RESULTS, "search_sweeps.json")
    for family in args.family or sorted(TASKS):
        rows = run(family, args.parallel, range(args.seeds), augment=augment, source=args.data)
        # a family's rows (with its data and augmentation) replace that family's
        common.merge_rows(path, rows, lambda r: r["family"], "search_sweeps")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
