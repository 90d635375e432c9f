"""Sweeps: every variant of a recipe, over seeds, as ordinary resumable runs, and the table.

>>> table = sweep("monet_cyclegan", {"model.cycle_weight": [5, 10]}, seeds=3, out_dir="sweeps/cw",
...               data=("photo_tfrec/", "monet_tfrec/"))

Each variant x seed trains in `out_dir/VARIANT/seed_S` through `Setup.fit`, so a sweep that is
stopped (a kill, a notebook's time limit) continues where it stopped when called again: runs
that finished are read back, the one cut short resumes from its checkpoint. It writes:
- `sweep.csv`: one row per variant: its settings, the seeds that finished, and the mean and
  standard deviation over seeds of each score's final and best value and of the time;
- `runs.csv`: one row per run;
- `sweep.png`: each score's final value per variant (mean, with the standard deviation);
- `hparams/`: TensorBoard's HParams dashboard (`%tensorboard --logdir OUT/hparams`).
`parallel=N` trains N runs side by side, in N processes.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import time
from dataclasses import dataclass

from ganpaint import fs
from ganpaint.errors import UserError, arg
from ganpaint.recipe_presets import Recipe, get

# What FIDCheckpoint logs, PairedL1 (`run.val_pairs`) and ClassJudge (`run.judge`). Lower is
# better for each but those in HIGHER_IS_BETTER: a run's "best" is its lowest, or highest.
SCORES = ("fid", "kid", "mifid", "val_l1", "right_class", "judge_fid")
HIGHER_IS_BETTER = frozenset({"right_class"})
RECORD = "sweep.json"  # what sweep a folder holds
DONE = "sweep_run.json"  # in a run's folder once it finished: its scores and time


@dataclass(frozen=True)
class Run:
    variant: str
    settings: dict  # the variant's {"SECTION.KEY": value}
    seed: int
    out_dir: str


def split_values(text: str) -> list:
    """`"5,10"` or `"(0.7, 1.2),none"` as values: commas inside brackets do not split."""
    from ganpaint.settings import parse_value

    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if any(not p.strip() for p in parts):
        raise UserError(f"--grid values must be comma-separated, none empty. Received: {text!r}")
    return [parse_value(p) for p in parts]


def parse_grid(items) -> dict:
    """`["model.cycle_weight=5,10", ...]` (the command line's --grid) as a grid."""
    grid = {}
    for item in items or ():
        key, eq, values = item.partition("=")
        if not eq or not key.strip():
            raise UserError(
                f"--grid takes SECTION.KEY=V1,V2 (e.g. model.cycle_weight=5,10). Received: {item!r}"
            )
        grid[key.strip()] = split_values(values)
    return grid


def parse_variants(items) -> list[dict]:
    """`["model.loss=ralsgan model.pool_size=0", ...]` (the command line's --variant, each
    one variant's settings separated by spaces) as a list of variants."""
    import shlex

    from ganpaint.settings import parse_value

    variants = []
    for item in items or ():
        variant = {}
        for part in shlex.split(item):
            key, eq, value = part.partition("=")
            if not eq or not key.strip():
                raise UserError(
                    "--variant takes SECTION.KEY=VALUE settings separated by spaces (e.g. "
                    f"'model.loss=ralsgan model.pool_size=0'). Received: {item!r}"
                )
            variant[key.strip()] = parse_value(value)
        variants.append(variant)
    return variants


def variant_label(settings: dict) -> str:
    """A variant's name (its folder in the sweep): what it sets, `base` for nothing."""
    if not settings:
        return "base"
    text = ",".join(f"{k.partition('.')[2]}={_show(v)}" for k, v in settings.items())
    return "".join(c if c.isalnum() or c in "._=,+-" else "_" for c in text)


def _show(value) -> str:
    return repr(value) if isinstance(value, (tuple, list)) else str(value)


def variants_of(grid) -> list[dict]:
    """The variants a grid names: a dict {"SECTION.KEY": [values]} gives every combination of
    the values (in order); a list of dicts gives those variants (a coordinate search's rows,
    each naming only what it changes)."""
    if isinstance(grid, (list, tuple)):
        if not grid or not all(isinstance(v, dict) for v in grid):
            raise UserError(
                "`grid` as a list must hold one or more dicts of settings, one per "
                f"variant. Received: {grid!r}"
            )
        labels = [variant_label(v) for v in grid]
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            raise UserError(
                f"The variants {', '.join(twice)} are named more than once; each variant "
                "trains once per seed, so name each once."
            )
        return [dict(v) for v in grid]
    keys = list(grid)
    for key, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise UserError(f"grid[{key!r}] must be a non-empty list of values.")
    return [dict(zip(keys, c)) for c in itertools.product(*(grid[k] for k in keys))]


def grid_keys(grid) -> list[str]:
    """Every setting a grid varies, in order of appearance."""
    return list(dict.fromkeys(k for v in variants_of(grid) for k in v))


def plan(recipe: Recipe, grid, seeds, out_dir: str) -> list[Run]:
    """The runs of a sweep: each variant of `grid` (`variants_of`), for each seed."""
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds:
        raise UserError(f"{arg('seeds')} must be at least 1.")
    runs = []
    for settings in variants_of(grid):
        label = variant_label(settings)
        runs += [
            Run(label, settings, seed, fs.join(out_dir, label, f"seed_{seed}")) for seed in seeds
        ]
    return runs


def _check_folder(out_dir, record, fresh):
    path = fs.join(out_dir, RECORD)
    if fs.exists(path):
        held = fs.read_json(path)
        if held != record and not fresh:
            changed = sorted(k for k in set(held) | set(record) if held.get(k) != record.get(k))
            what = (
                f"{out_dir} holds another sweep (its {', '.join(changed)} differ); "
                "continuing it here would mix two sweeps' runs. "
            )
            raise UserError(
                what + f"Choose another {arg('out_dir')}, or pass {arg('fresh=True')} to start "
                "this one (the other's runs stay; ones of the same name are moved aside)."
            )
    fs.makedirs(out_dir)
    fs.write_json(path, record, indent=2)


def sweep(
    recipe: str | Recipe,
    grid: dict | None = None,
    seeds=3,
    *,
    out_dir: str,
    data=None,
    smoke: bool = False,
    settings: dict | None = None,
    epochs: int | None = None,
    parallel: int = 1,
    fresh: bool = False,
    verbose=0,
    **overrides,
) -> list[dict]:
    """Train every variant of `recipe` (`grid`) for each seed.

    Args:
        recipe: a recipe's name, a `Recipe`, or a recipe file.
        grid: dict of "SECTION.KEY" -> list of values; the variants are every combination.
            Or a list of dicts of "SECTION.KEY": value, one per variant (the rows of a
            coordinate search). None or {}: the recipe alone (a seed study).
        seeds: int (seeds 0..n-1) or a list of seeds.
        out_dir: the sweep's folder (each run in VARIANT/seed_S).
        data, smoke, settings, overrides: as in `ganpaint.recipes.build`, for every run.
        epochs: int. Each run's epochs. Defaults to the recipe's.
        parallel: int. Runs trained side by side, each in its own process.
        fresh: bool. Start each run again (earlier runs moved aside, nothing deleted).
        verbose: passed to `model.fit`.

    Returns:
        The rows of `sweep.csv` (one per variant) as dicts.
    """
    base = get(recipe, smoke=smoke, settings=settings, **overrides)
    grid = list(grid) if isinstance(grid, (list, tuple)) else dict(grid or {})
    for variant in variants_of(grid):  # each variant checked before anything trains
        get(base, settings=variant)
    runs = plan(base, grid, seeds, out_dir)
    record = {
        "recipe": base.name,
        "grid": (
            [{k: _show(v) for k, v in variant.items()} for variant in grid]
            if isinstance(grid, list)
            else {k: [_show(v) for v in vs] for k, vs in grid.items()}
        ),
        "smoke": smoke,
        "settings": {k: _show(v) for k, v in (settings or {}).items()},
        "overrides": {k: _show(v) for k, v in overrides.items()},
        "epochs": epochs,
    }
    _check_folder(out_dir, record, fresh)
    if data is None:  # each run reads what `build` would (a smoke run: the bundled sample)
        from ganpaint import recipes

        data = recipes.default_data(base, smoke)
    job = dict(recipe=base, data=data, epochs=epochs, fresh=fresh, verbose=verbose)
    if not isinstance(parallel, int) or parallel < 1:
        raise UserError(f"{arg('parallel')} must be an int >= 1. Received: {parallel!r}")
    todo = [r for r in runs if fresh or not fs.exists(fs.join(r.out_dir, DONE))]
    if parallel > 1 and len(todo) > 1:
        _train_in_processes(job, todo, parallel)
    else:
        for run in todo:
            train_run(job, run)
    return write_table(out_dir, runs, grid_keys(grid))


def train_run(job: dict, run: Run) -> dict:
    """Train one run of a sweep (resuming it when it was cut short) and record its result."""
    from ganpaint import recipes

    setup = recipes.build(
        job["recipe"], data=job["data"], out_dir=run.out_dir, seed=run.seed, settings=run.settings
    )
    started, spent = time.monotonic(), _spent(run.out_dir)
    try:
        setup.fit(
            epochs=job["epochs"], resume=False if job["fresh"] else "auto", verbose=job["verbose"]
        )
    finally:  # time spent so far counts, also for a run cut short and resumed later
        fs.write_json(
            fs.join(run.out_dir, "sweep_time.json"), {"seconds": spent + time.monotonic() - started}
        )
    result = {
        "variant": run.variant,
        "seed": run.seed,
        **{k: _show(v) for k, v in run.settings.items()},
        "seconds": _spent(run.out_dir),
        **scores_of(run.out_dir),
    }
    fs.write_json(fs.join(run.out_dir, DONE), result, indent=2)
    return result


def _spent(out_dir) -> float:
    path = fs.join(out_dir, "sweep_time.json")
    return float(fs.read_json(path)["seconds"]) if fs.exists(path) else 0.0


def scores_of(out_dir: str) -> dict:
    """A finished run's scores from its `history/epochs.csv`: the final and the best value
    (the lowest, the highest of those `HIGHER_IS_BETTER`) of each score it took (`SCORES`)."""
    path = fs.join(out_dir, "history", "epochs.csv")
    if not fs.exists(path):
        return {}
    rows = list(csv.DictReader(io.StringIO(fs.read_text(path))))
    found = {}
    for score in SCORES:
        values = [float(r[score]) for r in rows if r.get(score) not in (None, "")]
        if values:
            found[f"final_{score}"] = values[-1]
            found[f"best_{score}"] = (max if score in HIGHER_IS_BETTER else min)(values)
    return found


def _mean_sd(values):
    if not values:
        return None, None
    mean = sum(values) / len(values)
    sd = (
        math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        if len(values) > 1
        else float("nan")
    )
    return mean, sd


def write_table(out_dir: str, runs: list[Run], keys: list[str]) -> list[dict]:
    """sweep.csv, runs.csv, sweep.png and hparams/ from the finished runs' records."""
    results = [
        fs.read_json(fs.join(r.out_dir, DONE)) for r in runs if fs.exists(fs.join(r.out_dir, DONE))
    ]
    measures = ["seconds"] + [
        m for s in SCORES for m in (f"final_{s}", f"best_{s}") if any(m in r for r in results)
    ]
    rows = []
    for variant in dict.fromkeys(r.variant for r in runs):
        mine = [r for r in results if r["variant"] == variant]
        first = next(r for r in runs if r.variant == variant)
        row = {
            "variant": variant,
            **{k: _show(first.settings[k]) if k in first.settings else "" for k in keys},
            "seeds": len(mine),
            "of": sum(r.variant == variant for r in runs),
        }
        for measure in measures:
            mean, sd = _mean_sd([r[measure] for r in mine if measure in r])
            row[f"{measure}_mean"], row[f"{measure}_sd"] = mean, sd
        rows.append(row)
    _write_csv(fs.join(out_dir, "sweep.csv"), rows)
    _write_csv(fs.join(out_dir, "runs.csv"), results)
    if results:
        _plot(fs.join(out_dir, "sweep.png"), rows, measures)
        _hparams(fs.join(out_dir, "hparams"), results, keys, measures)
    return rows


def format_table(rows: list[dict], measures=None) -> str:
    """The sweep's table as Markdown, each measure as mean ± sd (what docs/ tables show)."""
    if not rows:
        return ""
    measures = measures or [k[:-5] for k in rows[0] if k.endswith("_mean")]
    head = [k for k in rows[0] if not k.endswith(("_mean", "_sd")) and k != "of"]
    lines = ["| " + " | ".join(head + measures) + " |", "|" + "---|" * (len(head) + len(measures))]
    for row in rows:
        cells = [str(row[k]) for k in head]
        for m in measures:
            mean, sd = row.get(f"{m}_mean"), row.get(f"{m}_sd")
            cells.append(
                ""
                if mean is None
                else f"{mean:.4g}"
                if sd is None or sd != sd
                else f"{mean:.4g} ± {sd:.2g}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def read_table(out_dir: str) -> list[dict]:
    """sweep.csv as dicts (numbers as floats)."""
    rows = list(csv.DictReader(io.StringIO(fs.read_text(fs.join(out_dir, "sweep.csv")))))
    for row in rows:
        for key, value in row.items():
            try:
                row[key] = float(value) if value != "" else None
            except ValueError:
                pass
    return rows


def _write_csv(path, rows):
    names = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    fs.write_atomically(path, out.getvalue())


def _plot(path, rows, measures):
    from ganpaint import plotting

    shown = [m for m in measures if m.startswith("final_")] or ["seconds"]
    plt = plotting.pyplot(path)
    fig, axes = plt.subplots(1, len(shown), figsize=(4 + 1.2 * len(rows), 3.5), squeeze=False)
    for ax, measure in zip(axes[0], shown):
        means = [r[f"{measure}_mean"] or 0.0 for r in rows]
        sds = [
            0.0
            if r[f"{measure}_sd"] is None or r[f"{measure}_sd"] != r[f"{measure}_sd"]
            else r[f"{measure}_sd"]
            for r in rows
        ]
        ax.bar(range(len(rows)), means, yerr=sds, capsize=4, color="#4c72b0")
        ax.set_xticks(
            range(len(rows)), [r["variant"] for r in rows], rotation=30, ha="right", fontsize=8
        )
        ax.set_title(f"{measure} (mean ± sd over seeds)", fontsize=9)
    plotting.finish_figure(fig, path)


def _hparams(folder, results, keys, measures):
    """One TensorBoard run per sweep run, with its settings and scores (HParams plugin)."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(folder).as_default():
        hp.hparams_config(
            hparams=[hp.HParam(k) for k in keys] + [hp.HParam("seed")],
            metrics=[hp.Metric(m) for m in measures],
        )
    for result in results:
        run_folder = fs.join(folder, result["variant"], f"seed_{result['seed']}")
        if fs.exists(run_folder):
            fs.rmtree(run_folder)  # rewritten whole: one event file per run
        with tf.summary.create_file_writer(run_folder).as_default():
            hp.hparams(
                {**{k: result.get(k, "") for k in keys}, "seed": result["seed"]},
                trial_id=f"{result['variant']}/seed_{result['seed']}",
            )
            for measure in measures:
                if measure in result:
                    tf.summary.scalar(measure, result[measure], step=0)


# -- several processes ---------------------------------------------------------------------------


def _train_in_processes(job, todo, parallel):
    """Train `todo` in `parallel` processes (spawned: each starts its own TensorFlow)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # the processes share a GPU
    with context.Pool(min(parallel, len(todo))) as pool:
        for _ in pool.imap_unordered(_train_one, [(job, run) for run in todo]):
            pass


def _train_one(args):
    job, run = args
    return train_run(job, run)
