"""The known-answer searches of docs/defaults.md (issues 25 and 38) re-run as sweeps over a
recipe, beside their published rows.

`known_answer.py` trains hand-assembled models; here each task is the `monet_cyclegan`
recipe with the known-answer networks and budget said as settings (ResNet generators of 3
blocks and 16 filters, 16 px PatchGANs of 32, instance norm, batch 1, jitter and flip, no
decay), trained on the task's domains written to .npz files, and scored by `run.val_pairs`
(`callbacks.PairedL1`: L1 of the translated held-out photos to their true targets, the
known-answer score). Each setting of `known_answer.CYCLE_SETTINGS` that a recipe can say is
one variant (`recipe_settings`); the tutorial's step, the update orders and the output
candidates are not recipe settings and are left out by name.

A row agrees with the published one when their means are within twice the larger of their
standard deviations over seeds (the rule of docs/defaults.md).

    python -m benchmarks.known_answer_sweeps --suite held_out --setting default \
        --setting "identity start" --setting paper --parallel 2

Runs go to benchmarks/results/known_answer_sweeps/SIZEpx/TASK (a stopped sweep continues
when run again), rows to benchmarks/results/known_answer_sweeps.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks import common, known_answer
from ganpaint import data, fs, sweeps

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
PUBLISHED = os.path.join(os.path.dirname(HERE), "docs", "benchmarks", "known_answer_cyclegan.json")
EPOCHS = 6  # the score is the last epoch's


def task_overrides(size: int, steps: int, width: int = 16) -> dict:
    """What `known_answer.cyclegan_networks` and `train_cyclegan` are, as recipe fields."""
    return dict(
        image_size=size,
        batch_size=1,
        epochs=EPOCHS,
        steps_per_epoch=steps // EPOCHS,
        decay_epochs=0,
        generator="resnet",
        base_filters=width,
        norm="instance",
        receptive_field=16,
        augment="jitter+flip",
        generator_options={"n_blocks": 3},
        discriminator_options={"filters": 2 * width},
        fid_every=0,
        sample_every=EPOCHS,
        tensorboard=False,
        checkpoint_every=steps,
    )


# A known-answer setting's keys that are not the model's, as recipe settings.
_NETWORK_KEYS = {
    "residual": "networks.generator.residual",
    "input_skip": "networks.generator.input_skip",
}
_NOT_RECIPE = ("step", "order", "output", "fade_steps")


def recipe_settings(name: str) -> dict | None:
    """`known_answer.CYCLE_SETTINGS[name]` as "SECTION.KEY" settings of a recipe, or None
    when the setting is not one (the tutorial's step, an update order, an output candidate)."""
    setting = known_answer.CYCLE_SETTINGS[name]
    if any(k in setting for k in _NOT_RECIPE):
        return None
    out = {}
    for key, value in setting.items():
        if key in _NETWORK_KEYS:
            out[_NETWORK_KEYS[key]] = value
        elif key == "affine":
            out["networks.generator.affine_norm"] = value
            out["networks.discriminator.affine_norm"] = value
        elif key == "learning_rate":
            out["optimizer.g_learning_rate"] = out["optimizer.d_learning_rate"] = value
        else:
            out[f"model.{key}"] = value
    return out


def write_task(name: str, size: int, folder: str) -> tuple:
    """The task's domains as .npz files and its held-out pairs (photo | truth side by side):
    ((domain A, domain B), pairs)."""
    task = known_answer.translation_task(name, size)
    fs.makedirs(folder)
    domains = []
    for key in ("a", "b"):
        domains.append(os.path.join(folder, f"{key}.npz"))
        np.savez(domains[-1], images=data.to_uint8(task[key]))
    pairs = os.path.join(folder, "val_pairs.npz")
    side = np.concatenate([data.to_uint8(task["test"]), data.to_uint8(task["truth"])], axis=2)
    np.savez(pairs, images=side)
    return tuple(domains), pairs


def published_rows(size: int, steps: int) -> dict:
    """{(task, setting): row} of the published known-answer rows, the latest round's where a
    setting was measured in several."""
    with open(PUBLISHED) as f:
        rows = json.load(f)["rows"]
    found = {}
    for r in rows:
        if r["size"] == size and r["steps"] == steps and r.get("width", "small") == "small":
            key = (r["task"], r["setting"])
            if key not in found or r.get("round"):
                found[key] = r
    return found


def run(tasks, settings, size=32, steps=600, seeds=(0, 1, 2), parallel=1, out=None, smoke=False):
    """Sweep each task over the settings; one row per (task, setting) with the published one
    beside it."""
    variants, names = [], []
    for name in settings:
        variant = recipe_settings(name)
        if variant is None:
            print(f"{name!r}: not a recipe setting (a step, order or output candidate); left out")
            continue
        variants.append(variant)
        names.append(name)
    if smoke:  # two steps, to check the path
        steps = 2
    root = out or os.path.join(RESULTS, "known_answer_sweeps", f"{size}px")
    published = published_rows(size, steps)
    rows = []
    for task_name in tasks:
        folder = os.path.join(root, task_name)
        domains, pairs = write_task(task_name, size, os.path.join(folder, "task"))
        sweeps.sweep(
            "monet_cyclegan",
            variants,
            seeds=list(seeds),
            out_dir=os.path.join(folder, "sweep"),
            data=domains,
            parallel=parallel,
            val_pairs=pairs,
            **{
                **task_overrides(size, steps),
                **(dict(steps_per_epoch=1, epochs=2) if smoke else {}),
            },
        )
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--suite", choices=tuple(known_answer.TRANSLATION_SUITES), default="held_out"
    )
    parser.add_argument("--task", action="append", help="tasks (default: the suite's)")
    parser.add_argument("--setting", action="append", help="settings (default: default, paper)")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args(argv)
    unknown = [s for s in args.setting or () if s not in known_answer.CYCLE_SETTINGS]
    if unknown:
        parser.error(
            f"--setting {unknown[0]!r} is not a known-answer setting; choose from "
            f"{', '.join(map(repr, known_answer.CYCLE_SETTINGS))}"
        )
    tasks = args.task or known_answer.TRANSLATION_SUITES[args.suite]
    rows = run(
        tasks,
        args.setting or ("default", "paper"),
        args.size,
        args.steps,
        range(args.seeds),
        args.parallel,
    )
    path = os.path.join(RESULTS, "known_answer_sweeps.json")
    kept = []
    if os.path.exists(path):
        with open(path) as f:
            kept = json.load(f)["rows"]
    new = {(r["task"], r["setting"], r["size"], r["steps"]) for r in rows}
    kept = [r for r in kept if (r["task"], r["setting"], r["size"], r["steps"]) not in new]
    os.makedirs(RESULTS, exist_ok=True)
    with open(path, "w") as f:
        json.dump({"benchmark": "known_answer_sweeps", "rows": kept + rows}, f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
