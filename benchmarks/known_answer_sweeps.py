"""The known-answer searches of docs/defaults.md (issues 25 and 38) re-run as sweeps over a
recipe, beside their published rows.

`known_answer.py` trains hand-assembled models; here each task is a recipe with the
known-answer networks and budget said as settings, `monet_cyclegan` (ResNet generators of 3
blocks and 16 filters, 16 px PatchGANs of 32, instance norm) or `maps_pix2pix` (a U-Net of 32
to 128 filters with batch norm and dropout 0.5, a 16 px PatchGAN of 32 with instance norm),
batch 1, jitter and flip, no decay, trained on the task's data written to .npz files (the two
domains, or the pairs side by side), and scored by `run.val_pairs`
(`callbacks.PairedL1`: L1 of the translated held-out photos to their true targets, the
known-answer score). Each known-answer setting that a recipe can say is one variant
(`recipe_settings`), and so are the TF CycleGAN tutorial's step and the blend head, which a
recipe says another way (`settings.CYCLE_RECIPE_EQUIVALENTS`); the pix2pix tutorial's step,
the update orders, the other output candidates and the "dropout on" scoring are not recipe
settings and are left out by name.

A row agrees with the published one when their means are within twice the larger of their
standard deviations over seeds (the rule of docs/defaults.md).

    python -m benchmarks.known_answer_sweeps --suite held_out --setting default --setting paper
    python -m benchmarks.known_answer_sweeps --family pix2pix --suite held_out \
        --setting default --setting paper

`--networks recipe` measures a recipe's own networks instead, as its users train them (issue
38: the monet U-Net, the EfficientNet generator of `cans_efficientnet_cyclegan`, the ResNet
option), with the task's size and budget: each setting of `settings.RECIPE_SETTINGS` is one
change from the recipe (the EfficientNet's backbone starts from random weights here, as
ImageNet's cannot be downloaded). At the tasks' 32 px the recipes' 70 px PatchGAN is larger
than the image, so the settings that measure the networks fairly there use the 16 px one
("recipe, 16 px D", ...); a sweep of other settings on the same tasks needs its own `--out`:

    python -m benchmarks.known_answer_sweeps --networks recipe --recipe monet_cyclegan \
        --setting "recipe, 16 px D" --out benchmarks/results/known_answer_sweeps/unet16 \
        --threads 1

Runs go to benchmarks/results/known_answer_sweeps/FAMILY/SIZEpx/TASK (a stopped sweep continues
when run again), rows to benchmarks/results/known_answer_sweeps.json.
"""

from __future__ import annotations

import argparse
import csv
import glob
import io
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks import common, known_answer
from benchmarks.common import limit_threads
from benchmarks.settings import (
    CYCLE_RECIPE_EQUIVALENTS,
    CYCLE_SETTINGS,
    PIX_SETTINGS,
    RECIPE_SETTINGS,
)
from ganpaint import data, fs, sweeps
from ganpaint.checkpoints import CHECKPOINT_FOLDER

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
PUBLISHED = os.path.join(os.path.dirname(HERE), "docs", "benchmarks", "known_answer_{family}.json")
EPOCHS = 6  # the score is the last epoch's
RECIPES = {"cyclegan": "monet_cyclegan", "pix2pix": "maps_pix2pix"}


def task_overrides(size: int, steps: int, width: int = 16, family: str = "cyclegan") -> dict:
    """What `known_answer.cyclegan_networks` / `pix2pix_networks` and their training are, as
    recipe fields."""
    run = dict(
        common.sweep_run_fields(size, steps, EPOCHS), receptive_field=16, augment="jitter+flip"
    )
    if family == "pix2pix":  # a U-Net (batch norm, dropout) and a PatchGAN (instance norm)
        return dict(
            run,
            generator="unet",
            base_filters=2 * width,
            max_filters=8 * width,
            dropout=0.5,
            norm="batch",
            d_norm="instance",
        )
    return dict(
        run,
        generator="resnet",
        base_filters=width,
        norm="instance",
        generator_options={"n_blocks": 3},
        discriminator_options={"filters": 2 * width},
    )


def run_overrides(
    family: str, size: int, steps: int, smoke: bool = False, networks: str = "known_answer"
) -> dict:
    """The recipe fields every run of a family's sweep takes (two steps in smoke mode).
    `networks="recipe"` keeps the recipe's own networks, augmentation and preset (as its users
    train them) and sets only the task's size and budget; the EfficientNet backbone starts
    from random weights (`backbone_weights=None`: ImageNet's cannot be downloaded here)."""
    if networks == "recipe":
        fields = common.sweep_run_fields(size, steps, EPOCHS)
        fields["backbone_weights"] = None
    else:
        fields = task_overrides(size, steps, family=family)
    if smoke:
        fields.update(steps_per_epoch=1, epochs=2)
    return fields


# A known-answer setting's keys that are not the model's, as recipe settings.
_NETWORK_KEYS = {
    "residual": ("networks.generator.residual",),
    "input_skip": ("networks.generator.input_skip",),
    "content_gradient": ("networks.generator.content_gradient",),
    "affine": ("networks.generator.affine_norm", "networks.discriminator.affine_norm"),
    "learning_rate": ("optimizer.g_learning_rate", "optimizer.d_learning_rate"),
    "dropout": ("networks.dropout",),
    "norm": ("networks.norm", "networks.d_norm"),  # pix2pix: both networks' norm
}
_NOT_RECIPE = ("step", "order", "output", "fade_steps", "score")


def _settings(family, networks="known_answer"):
    if networks == "recipe":
        return RECIPE_SETTINGS
    return CYCLE_SETTINGS if family == "cyclegan" else PIX_SETTINGS


def recipe_settings(name: str, family: str = "cyclegan", networks="known_answer") -> dict | None:
    """The known-answer setting `name` as "SECTION.KEY" settings of a recipe, or None when it
    is not one (the pix2pix tutorial's step, an update order, an output candidate, a scoring
    rule)."""
    if networks == "recipe":
        return dict(RECIPE_SETTINGS[name])
    if family == "cyclegan" and name in CYCLE_RECIPE_EQUIVALENTS:  # said another way
        return dict(CYCLE_RECIPE_EQUIVALENTS[name])
    setting = _settings(family)[name]
    if any(k in setting for k in _NOT_RECIPE):
        return None
    out = {}
    for key, value in setting.items():
        for target in _NETWORK_KEYS.get(key, (f"model.{key}",)):
            out[target] = value
    return out


def write_task(name: str, size: int, folder: str, family: str = "cyclegan") -> tuple:
    """The task's training data as .npz files (CycleGAN: the two domains; pix2pix: the pairs
    side by side) and its held-out pairs (photo | truth side by side): (data, pairs)."""
    fs.makedirs(folder)
    pairs = os.path.join(folder, "val_pairs.npz")
    if family == "pix2pix":
        task = known_answer.paired_task(name, size)
        train = os.path.join(folder, "pairs.npz")
        np.savez(train, images=task["pairs"])
    else:
        task = known_answer.translation_task(name, size)
        train = []
        for key in ("a", "b"):
            train.append(os.path.join(folder, f"{key}.npz"))
            np.savez(train[-1], images=data.to_uint8(task[key]))
        train = tuple(train)
    side = np.concatenate([data.to_uint8(task["test"]), data.to_uint8(task["truth"])], axis=2)
    np.savez(pairs, images=side)
    return train, pairs


def published_rows(size: int, steps: int, family: str = "cyclegan") -> dict:
    """{(task, setting): row} of the published known-answer rows, the latest round's where a
    setting was measured in several."""
    with open(PUBLISHED.format(family=family)) as f:
        rows = json.load(f)["rows"]
    found = {}
    for r in rows:
        if r["size"] == size and r["steps"] == steps and r.get("width", "small") == "small":
            key = (r["task"], r["setting"])
            if key not in found or r.get("round"):
                found[key] = r
    return found


def run(
    tasks,
    settings,
    size=32,
    steps=600,
    seeds=(0, 1, 2),
    parallel=1,
    out=None,
    smoke=False,
    family="cyclegan",
    networks="known_answer",
    recipe=None,
):
    """Sweep each task over the settings; one row per (task, setting) with the published one
    beside it (`networks="known_answer"`), or of `recipe`'s own networks (`"recipe"`)."""
    recipe = recipe or RECIPES[family]
    variants, names = [], []
    for name in settings:
        variant = recipe_settings(name, family, networks)
        if variant is None:
            print(f"{name!r}: not a recipe setting (a step, order or output candidate); left out")
            continue
        variants.append(variant)
        names.append(name)
    if smoke:  # two steps, to check the path
        steps = 2
    where = family if networks == "known_answer" else recipe
    root = out or os.path.join(RESULTS, "known_answer_sweeps", where, f"{size}px")
    published = published_rows(size, steps, family) if networks == "known_answer" else {}
    rows = []
    for task_name in tasks:
        folder = os.path.join(root, task_name)
        train, pairs = write_task(task_name, size, os.path.join(folder, "task"), family)
        sweeps.sweep(
            recipe,
            variants,
            seeds=list(seeds),
            out_dir=os.path.join(folder, "sweep"),
            data=train,
            parallel=parallel,
            val_pairs=pairs,
            **run_overrides(family, size, steps, smoke, networks),
        )
        drop_weights(os.path.join(folder, "sweep"))
        text = fs.read_text(os.path.join(folder, "sweep", "runs.csv"))
        runs = list(csv.DictReader(io.StringIO(text)))
        for name, variant in zip(names, variants):
            label = sweeps.variant_label(variant)
            mine = sorted((r for r in runs if r["variant"] == label), key=lambda r: int(r["seed"]))
            per_seed = [
                {"seed": r["seed"], "l1": float(r["final_val_l1"]), "seconds": float(r["seconds"])}
                for r in mine
            ]
            row = {
                "family": family,
                "recipe": recipe,
                "networks": networks,
                "task": task_name,
                "setting": name,
                "variant": variant,
                "size": size,
                **common.summary(task_name, name, steps, per_seed),
            }
            then = published.get((task_name, name))
            if then is not None:
                row["published"] = then["l1_to_truth"]
                row["published_std"] = then["l1_to_truth_std"]
                spread = 2 * max(row["l1_std"], row["published_std"])
                row["agrees"] = abs(row["l1"] - row["published"]) <= spread
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def drop_weights(sweep_dir: str) -> None:
    """Delete the finished runs' weights (`model.keras`, their checkpoints) under `sweep_dir`: a
    search needs their scores, which stay; a recipe's run of the monet U-Net keeps 1.1 GB."""
    for done in glob.glob(os.path.join(sweep_dir, "*", "seed_*", sweeps.DONE)):
        run_dir = os.path.dirname(done)
        shutil.rmtree(os.path.join(run_dir, CHECKPOINT_FOLDER), ignore_errors=True)
        model = os.path.join(run_dir, "model.keras")
        if os.path.exists(model):
            os.remove(model)


def _key(row):
    return (
        row.get("family", "cyclegan"),
        row.get("recipe", RECIPES[row.get("family", "cyclegan")]),
        row.get("networks", "known_answer"),
        row["task"],
        row["setting"],
        row["size"],
        row["steps"],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=tuple(RECIPES), default="cyclegan")
    parser.add_argument("--suite", choices=("tuning", "held_out"), default="held_out")
    parser.add_argument("--task", action="append", help="tasks (default: the suite's)")
    parser.add_argument(
        "--networks",
        choices=("known_answer", "recipe"),
        default="known_answer",
        help="the known-answer networks (beside the published rows), or the recipe's own",
    )
    parser.add_argument(
        "--recipe",
        default=None,
        help="a recipe of the family (default: "
        f"{', '.join(f'{k}: {v}' for k, v in RECIPES.items())})",
    )
    parser.add_argument(
        "--setting",
        action="append",
        help="settings (default: default, paper; with --networks recipe: recipe, "
        "recipe, paper preset)",
    )
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument(
        "--out",
        default=None,
        help="folder of the task folders (default: results/known_answer_sweeps/FAMILY/SIZEpx;"
        " a sweep of other settings needs its own, as a folder holds one sweep)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="TensorFlow threads (1: run two processes side by side)",
    )
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    if args.recipe is not None:
        from ganpaint.recipe_presets import RECIPES as ALL

        if args.recipe not in ALL or ALL[args.recipe].model != args.family:
            mine = sorted(n for n, r in ALL.items() if r.model == args.family)
            parser.error(
                f"--recipe {args.recipe!r} is not a {args.family} recipe; choose from "
                f"{', '.join(mine)}"
            )
    known = _settings(args.family, args.networks)
    unknown = [s for s in args.setting or () if s not in known]
    if unknown:
        parser.error(
            f"--setting {unknown[0]!r} is not a known-answer {args.family} setting; choose "
            f"from {', '.join(map(repr, known))}"
        )
    suites = (
        known_answer.TRANSLATION_SUITES if args.family == "cyclegan" else known_answer.PAIRED_SUITES
    )
    rows = run(
        args.task or suites[args.suite],
        args.setting
        or (
            ("recipe", "recipe, paper preset")
            if args.networks == "recipe"
            else ("default", "paper")
        ),
        args.size,
        args.steps,
        range(args.seeds),
        args.parallel,
        family=args.family,
        networks=args.networks,
        recipe=args.recipe,
        out=args.out,
    )
    path = os.path.join(RESULTS, "known_answer_sweeps.json")
    common.merge_rows(path, rows, _key, "known_answer_sweeps")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
