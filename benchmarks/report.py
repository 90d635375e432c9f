"""Markdown tables for the README from the JSON that `make bench` writes, and its figures.

python -m benchmarks.report [--results benchmarks/results] [--figures docs]
"""

from __future__ import annotations

import argparse
import json
import os
import re

from benchmarks.settings import CONDITIONAL_BASE, CONDITIONAL_OPTIMIZERS, CONDITIONAL_SETTINGS


def _load(folder, name):
    path = os.path.join(folder, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def throughput_table(result) -> str:
    rows = result["rows"]
    base = {
        r["case"]: r["steps_per_s"]
        for r in rows
        if r["implementation"] == "textbook" and r["precision"] == "float32"
    }
    lines = [
        "| case | implementation | precision | XLA | steps/exec | steps/s | images/s | "
        "× textbook fp32 | GFLOP/step | of measured peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['implementation']} | {r['precision']} | "
            f"{'yes' if r['jit_compile'] else 'no'} | {r['steps_per_execution']} | "
            f"{r['steps_per_s']:.2f} | {r['images_per_s']:.1f} | "
            f"{r['steps_per_s'] / base[r['case']]:.2f}× | {r['gflop_per_step']} | "
            f"{100 * r['fraction_of_peak']:.0f} % |"
        )
    p = result["peak"]
    lines.append("")
    lines.append(
        f"Measured peak in the same process: float32 {p['float32_conv_gflops']:.0f} "
        f"GFLOP/s (conv), {p['float32_matmul_gflops']:.0f} (matmul); bfloat16 "
        f"{p['bfloat16_conv_gflops']:.0f} (conv), {p['bfloat16_matmul_gflops']:.0f} "
        "(matmul)."
    )
    return "\n".join(lines)


def throughput_summary(result) -> str:
    """One line per case (and ganpaint option): each rate as a multiple of the textbook
    float32 step, and the achieved fraction of the measured peak."""
    rows = result["rows"]
    cases = list(dict.fromkeys(r["case"] for r in rows))
    lines = [
        "| case | textbook fp32 steps/s | textbook bf16 | ganpaint fp32 | ganpaint bf16 | "
        "ganpaint XLA (best) | of peak: textbook fp32 / ganpaint fp32 / ganpaint bf16 |",
        "|---|---|---|---|---|---|---|",
    ]

    def pick(case, impl, precision, xla=False, spe=1):
        return next(
            (
                r
                for r in rows
                if r["case"] == case
                and r["implementation"] == impl
                and r["precision"] == precision
                and r["jit_compile"] == xla
                and r["steps_per_execution"] == spe
            ),
            None,
        )

    for case in cases:
        base = pick(case, "textbook", "float32")
        tb16 = pick(case, "textbook", "bfloat16")
        impls = [
            i
            for i in dict.fromkeys(r["implementation"] for r in rows if r["case"] == case)
            if i != "textbook"
        ]
        for impl in impls:
            f32, b16 = pick(case, impl, "float32"), pick(case, impl, "bfloat16")
            xla = [
                r
                for r in rows
                if r["case"] == case and r["implementation"] == impl and r["jit_compile"]
            ]
            best = max(xla, key=lambda r: r["steps_per_s"]) if xla else None

            def x(r):
                return f"{r['steps_per_s'] / base['steps_per_s']:.2f}×" if r else "–"

            short = {"float32": "fp32", "bfloat16": "bf16"}
            xla_text = (
                f"{x(best)} ({short[best['precision']]}, steps/exec {best['steps_per_execution']})"
                if best
                else "–"
            )
            peak = " / ".join(
                f"{100 * r['fraction_of_peak']:.0f} %" if r else "–" for r in (base, f32, b16)
            )
            label = case if impl == "ganpaint" else f"{case}, {impl}"
            lines.append(
                f"| {label} | {base['steps_per_s']:.2f} | {x(tb16)} | **{x(f32)}** | "
                f"**{x(b16)}** | {xla_text} | {peak} |"
            )
    return "\n".join(lines)


def bf16_table(result) -> str:
    lines = [
        "| layer (forward + backward) | batch | float32 ms | bfloat16 ms | bf16 speed-up |",
        "|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['layer']} | {r['batch']} | {r['float32_ms']} | {r['bfloat16_ms']} | "
            f"{r['speedup']}× |"
        )
    return "\n".join(lines)


def _mean_std(row, key, scale=1.0, places=3):
    mean, std = scale * row[key], scale * row.get(f"{key}_std", 0.0)
    return (
        f"{mean:.{places}f} ± {std:.{places}f}" if row.get("seeds", 1) > 1 else f"{mean:.{places}f}"
    )


def _few_shot(row) -> bool:
    return row["task"].startswith("few-shot")


def _conditional(row, labelled_set="digits") -> bool:
    return row["task"].startswith(f"conditional {labelled_set} ")


def few_shot_table(result) -> str:
    """The few-shot digits rows: FID (and its ratio to plain's), the overfitting gap, the
    distance to the nearest training digit, and ADA's final p."""
    rows = [r for r in result["rows"] if _few_shot(r)]
    plain = {r["task"]: r for r in rows if r["implementation"].startswith("plain")}
    lines = [
        "| training digits, steps | setting | FID (classifier) | × plain | overfitting gap | "
        "nearest training digit (held-out real: ref.) | final p | per seed FID / gap | "
        "s/run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = plain.get(r["task"])
        ratio = f"{r['fid_classifier'] / base['fid_classifier']:.2f}×" if base else "–"
        digits = r["task"].split(", ")[1].split()[0]
        per_seed = ", ".join(
            f"{f:.1f} / {g:.2f}"
            for f, g in zip(r["fid_classifier_per_seed"], r["overfit_gap_per_seed"])
        )
        lines.append(
            f"| {digits}, {r['steps']:,} | {r['implementation']} | "
            f"{_mean_std(r, 'fid_classifier', places=1)} | {ratio} | "
            f"{_mean_std(r, 'overfit_gap', places=3)} | "
            f"{r['nearest_train_distance']:.3f} ({r['held_out_nearest_train_distance']:.3f})"
            f" | {r['final_p']:.2f} | {per_seed} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def conditional_table(result, obvious=False, labelled_set="digits") -> str:
    """The conditional rows of one labelled set ("digits" or "textures"); with `obvious`, the
    rows of the obvious build (builder defaults, `conditional.conditional_defaults`) instead
    of the conditioning study's."""
    rows = [
        r
        for r in result["rows"]
        if _conditional(r, labelled_set) and ("obvious build" in r["task"]) == obvious
    ]
    lines = [
        "| networks, loss | steps | right class | FID (classifier) | per seed class / FID |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        per_seed = ", ".join(
            f"{100 * a:.0f} % / {f:.1f}"
            for a, f in zip(r["class_accuracy_per_seed"], r["fid_classifier_per_seed"])
        )
        lines.append(
            f"| {r['implementation']} | {r['steps']:,} | "
            f"{_mean_std(r, 'class_accuracy', 100, 1)} % | "
            f"{_mean_std(r, 'fid_classifier', places=1)} | {per_seed} |"
        )
    return "\n".join(lines)


def few_shot_curves(result, path) -> str | None:
    """FID over steps (mean over seeds) of every few-shot row, one panel per training-set
    size, written to `path`."""
    rows = [r for r in result["rows"] if _few_shot(r) and "fid_curve" in r]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for r in (r for r in rows if r["task"] == task):
            ax.plot(r["fid_curve"]["steps"], r["fid_curve"]["mean"], label=r["implementation"])
        ax.set(title=task, xlabel="step", ylabel="FID (classifier features)", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def small_data_cost_table(result) -> str:
    lines = ["| case | variant | steps/s | step time × plain |", "|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(
            f"| {r['case']} | {r['variant']} | {r['steps_per_s']:.3f} | "
            f"{r['step_time_vs_plain']:.2f}× |"
        )
    return "\n".join(lines)


def quality_table(result) -> str:
    lines = [
        "| task | implementation | steps | seeds | score (mean ± sd over seeds) | "
        "per seed | seconds per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if _few_shot(r) or _conditional(r) or _conditional(r, "textures"):
            continue  # their own tables
        if "l1_to_true_painting" in r:
            score = f"L1 to the true painting {_mean_std(r, 'l1_to_true_painting')}"
            per_seed = ", ".join(f"{v:.3f}" for v in r.get("l1_to_true_painting_per_seed", []))
        else:
            score = (
                f"FID (classifier features) {_mean_std(r, 'fid_classifier', places=1)}, "
                f"right class {_mean_std(r, 'class_accuracy', 100, 1)} %"
            )
            per_seed = ", ".join(
                f"{f:.1f} / {100 * a:.0f} %"
                for f, a in zip(
                    r.get("fid_classifier_per_seed", []), r.get("class_accuracy_per_seed", [])
                )
            )
        lines.append(
            f"| {r['task']} | {r['implementation']} | {r['steps']} | "
            f"{r.get('seeds', 1)} | {score} | {per_seed} | {r['seconds']} |"
        )
    return "\n".join(lines)


# -- the defaults search (`defaults_search.py`) -------------------------------------------------

SEARCH_METRICS = {
    "cyclegan": ("l1_to_true_painting", "L1 to the true painting"),
    "pix2pix": ("l1_to_true_map", "L1 to the true map (held out)"),
}
_PRESET_KEYS = {
    "cyclegan": ("loss", "pool_size", "cycle_weight", "identity_weight"),
    "pix2pix": ("loss", "l1_weight"),
}
_NETWORK_KEYS = ("residual", "norm", "dropout", "receptive_field", "spectral_norm")


def search_winner(family, rows):
    """The chosen setting: the best mean score at the longest budget where two or more
    settings were measured (the short budget favours fast starters), else at the shortest;
    but the paper's setting stays unless the best beats it by more than twice the larger of
    their two standard deviations over seeds (a change of default must be clear)."""
    metric = SEARCH_METRICS[family][0]
    rows = [r for r in rows if not r["setting"].get("tutorial")]
    budgets = sorted({r["steps"] for r in rows})
    long = [b for b in budgets if sum(r["steps"] == b for r in rows) >= 2]
    steps = long[-1] if long else budgets[0]
    at = [r for r in rows if r["steps"] == steps]
    best = min(at, key=lambda r: r[metric])
    paper = next((r for r in at if r["implementation"] == "paper setting"), None)
    if paper is not None:
        spread = max(best.get(f"{metric}_std", 0.0), paper.get(f"{metric}_std", 0.0))
        if paper[metric] - best[metric] <= 2 * spread:
            return paper
    return best


def _as_preset(family, setting):
    if setting["lr_g"] != setting["lr_d"]:
        raise ValueError(f"the {family} winner uses two learning rates; the presets take one")
    preset = {k: setting[k] for k in _PRESET_KEYS[family]}
    preset.update(learning_rate=setting["lr_g"], beta_1=setting["beta_1"], beta_2=setting["beta_2"])
    return preset


def conditional_optimizer(quality: dict, base: str = CONDITIONAL_BASE):
    """The labelled models' Adam, by the rule: candidates ranked by their right-class rate on
    the digits at 600 steps (the tuning set); the first that is also no worse than `base` on
    the textures at 600 steps (held out) and on the digits at 2,400 steps (a longer budget) is
    adopted. Returns (its `CONDITIONAL_OPTIMIZERS` value, why)."""

    def at(task):
        return {
            r["implementation"]: r["class_accuracy"]
            for r in quality["rows"]
            if r["task"] == task and r["implementation"] in CONDITIONAL_OPTIMIZERS
        }

    tuning = at("conditional digits 28px, obvious build, 600 steps")
    checks = {
        "textures, 600 steps": at("conditional textures 32px, obvious build, 600 steps"),
        "digits, 2,400 steps": at("conditional digits 28px, obvious build, 2400 steps"),
    }
    current = CONDITIONAL_OPTIMIZERS[base]
    if base not in tuning:
        return current, "not measured"
    for name in sorted(tuning, key=lambda n: -tuning[n]):
        if name == base:
            return current, "no candidate beat it on the digits at 600 steps"
        missing = [c for c, rows in checks.items() if name not in rows or base not in rows]
        if missing:
            continue
        if all(rows[name] >= rows[base] for rows in checks.values()):
            return (
                CONDITIONAL_OPTIMIZERS[name],
                "best right-class rate on the digits at 600 steps, and no worse on the "
                "textures (held out) and at 2,400 steps",
            )
    return current, "no candidate that beat it on the digits also held on the checks"


def adam_pair(settings) -> tuple[dict, dict]:
    """(G's, D's) Adam settings of a `CONDITIONAL_OPTIMIZERS` value (a pair reads back from
    JSON as a list)."""
    return tuple(settings) if isinstance(settings, (tuple, list)) else (settings, settings)


def _adam(settings) -> str:
    """Adam's settings as the README's table says them."""
    g, d = adam_pair(settings)
    if g != d:
        return "; ".join(f"{who} {_adam(s)}" for who, s in (("G", g), ("D", d)))
    return f"Adam {g['learning_rate']:g}, betas {g['beta_1']:g} / {g['beta_2']:g}"


def defaults_record(searches: dict, quality: dict | None) -> dict:
    """What `docs/benchmarks/defaults.json` holds: per family, the chosen preset (from the
    search's winner), the paper's (the search's base row), the networks the winner used, and
    the rows behind the choice; for the labelled builders, the conditional benchmark's winner
    at 600 steps."""
    record = {}
    for family, result in searches.items():
        rows = result["rows"]
        winner = search_winner(family, rows)
        paper = next(r for r in rows if r["implementation"] == "paper setting")
        record[family] = {
            "chosen": winner["implementation"],
            "chosen_at_steps": winner["steps"],
            "ganpaint": _as_preset(family, winner["setting"]),
            "paper": _as_preset(family, paper["setting"]),
            "networks": {k: winner["setting"][k] for k in _NETWORK_KEYS if k in winner["setting"]},
            "rows": rows,
        }
    if quality is not None:
        rows = [
            r
            for r in quality["rows"]
            if r["task"] == "conditional digits 28px, 600 steps"
            and r["implementation"] in CONDITIONAL_SETTINGS
        ]
        if rows:
            winner = max(rows, key=lambda r: r["class_accuracy"])
            chosen = dict(CONDITIONAL_SETTINGS[winner["implementation"]])
            chosen["d_norm"] = None if chosen["spectral_norm"] else "batch"
            chosen.setdefault("loss", "bce")
            optimizer, why = conditional_optimizer(quality)
            record["conditional"] = {
                "chosen": winner["implementation"],
                "ganpaint": chosen,
                "optimizer": optimizer,
                "optimizer_chosen_by": why,
                "paper": dict(
                    CONDITIONAL_SETTINGS["label map (G and D), bce"], d_norm="batch", loss="bce"
                ),
                "paper_optimizer": CONDITIONAL_OPTIMIZERS[CONDITIONAL_BASE],
                "rows": rows + [r for r in quality["rows"] if "obvious build" in r["task"]],
            }
    return record


def search_table(family, result) -> str:
    metric, label = SEARCH_METRICS[family]
    rows = sorted(result["rows"], key=lambda r: (r["steps"], r[metric]))
    lines = [
        f"| steps | setting (what it changes from the paper's) | {label}, mean ± sd | "
        "per seed | s/run |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        per_seed = ", ".join(f"{v:.3f}" for v in r[f"{metric}_per_seed"])
        lines.append(
            f"| {r['steps']:,} | {r['implementation']} | {_mean_std(r, metric)} | "
            f"{per_seed} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def _sweep_cells(r) -> str:
    """A sweep row's cells beside the published row: the variant, mean ± sd, each seed, the
    published mean ± sd, and whether they agree."""
    measure = r.get("measure", "l1")  # L1 to the truth, or the judge's right-class share
    per_seed = ", ".join(f"{v:.3f}" for v in r[f"{measure}_per_seed"])
    published = f"{r['published']:.3f} ± {r['published_std']:.3f}" if "published" in r else "-"
    agrees = {True: "yes", False: "**no**"}.get(r.get("agrees"), "-")
    variant = " ".join(f"`{k}={v}`" for k, v in r["variant"].items()) or "(none)"
    return f"{variant} | {_mean_std(r, measure)} | {per_seed} | {published} | {agrees}"


def search_sweeps_table(result) -> str:
    """The searches' rows re-run as sweeps over recipes, beside the published rows."""
    lines = [
        "| family | steps | score | setting (what it changes from the paper's) | the sweep's "
        "variant | as a sweep, mean ± sd | per seed | published, mean ± sd | within 2 sd |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    scores = {"l1": "L1 to the truth", "right_class": "right class (judge)"}
    for r in result["rows"]:
        score = scores[r.get("measure", "l1")]
        lines.append(
            f"| {r['family']} | {r['steps']:,} | {score} | {r['setting']} | {_sweep_cells(r)} |"
        )
    return "\n".join(lines)


def known_answer_sweeps_table(result) -> str:
    """The known-answer rows re-run as sweeps over the monet_cyclegan recipe, beside the
    published rows of the same task, setting, size and budget."""
    lines = [
        "| family | task | size | steps | setting | the sweep's variant | as a sweep, mean ± sd "
        "| per seed | published, mean ± sd | within 2 sd |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [r for r in result["rows"] if r.get("networks", "known_answer") == "known_answer"]
    for r in rows:
        lines.append(
            f"| {r.get('family', 'cyclegan')} | {r['task']} | {r['size']} | {r['steps']:,} | "
            f"{r['setting']} | {_sweep_cells(r)} |"
        )
    agreed = [r["agrees"] for r in rows if "agrees" in r]
    if agreed:
        lines.append(f"| **agree** | | | | | | | | | {sum(agreed)} of {len(agreed)} |")
    return "\n".join(lines)


def _far(result, suite) -> set:
    """The tasks of `suite` far from identity (issue 38), as its rows say."""
    return {r["task"] for r in result["rows"] if r["suite"] == suite and not r["near_identity"]}


def sweep_rows_as_known_answer(sweeps_result, known_result) -> dict:
    """The known-answer networks' sweep rows (`known_answer_sweeps`, recipe runs) in the shape
    of `known_answer.py`'s rows, each with its task's suite, unchanged input and nearness
    from the published rows, so that `known_answer_table` renders them as it renders those."""
    tasks = {(r["task"], r["size"]): r for r in known_result["rows"]}
    rows = []
    for r in sweeps_result["rows"]:
        task = tasks.get((r["task"], r["size"]))
        mine = r.get("networks", "known_answer") == "known_answer"
        if not mine or r.get("family", "cyclegan") != "cyclegan" or task is None:
            continue
        rows.append(
            {
                "task": r["task"],
                "setting": r["setting"],
                "steps": r["steps"],
                "size": r["size"],
                "width": "small",
                "l1_to_truth": r["l1"],
                "l1_to_truth_std": r["l1_std"],
                "seeds": r["seeds"],
                **{k: task[k] for k in ("suite", "near_identity", "unchanged_l1")},
            }
        )
    return {"rows": rows}


def recipe_networks_table(sweeps_result, known_result, size=32, steps=600) -> str:
    """Recipes' own networks on the held-out known-answer tasks (`known_answer_sweeps
    --networks recipe`), beside the builders' default (the blend) and the tutorial's step of
    issue 38's round: L1 to the truth, mean ± sd over seeds (bold: the best), then each
    column's mean over the tasks ("-" where it lacks one)."""
    held_out = {r["task"] for r in known_result["rows"] if r["suite"] == "held_out"}
    rows = [
        r
        for r in sweeps_result["rows"]
        if r.get("networks") == "recipe"
        and r["size"] == size
        and r["steps"] == steps
        and r["task"] in held_out
    ]
    known = {
        (r["task"], r["setting"]): r
        for r in known_result["rows"]
        if r["size"] == size
        and r["steps"] == steps
        and r.get("round") == "issue 38"
        and r["width"] == "small"
    }
    columns = list(dict.fromkeys(f"{r['recipe']}: {r['setting']}" for r in rows))
    head = ["task", "unchanged input", *columns, "builders' default (blend)", "tutorial"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    measured = {r["task"] for r in rows}  # in the suites' order, as the known-answer rows
    order = [t for t in dict.fromkeys(r["task"] for r in known_result["rows"]) if t in measured]
    order += sorted(measured - set(order))
    per_column = [[] for _ in range(len(columns) + 2)]
    for task in order:
        mine = {f"{r['recipe']}: {r['setting']}": r for r in rows if r["task"] == task}
        blend, tutorial = known.get((task, "blend")), known.get((task, "tutorial"))
        scored = [(mine.get(c), "l1") for c in columns]
        scored += [(blend, "l1_to_truth"), (tutorial, "l1_to_truth")]
        values = [r[key] if r else None for r, key in scored]
        best = min(v for v in values if v is not None)
        cells = [
            "-" if r is None else _bold_if(_mean_std(r, key), r[key] == best) for r, key in scored
        ]
        for column, value in zip(per_column, values):
            column.append(value)
        unchanged = f"{blend['unchanged_l1']:.3f}" if blend else "-"
        near = " (near identity)" if blend and blend.get("near_identity") else ""
        lines.append(f"| {task}{near} | {unchanged} | " + " | ".join(cells) + " |")
    if len(order) > 1:  # over every task; "-" for a column that lacks one
        mean = " | ".join(
            "-" if None in column else f"{sum(column) / len(column):.3f}" for column in per_column
        )
        lines.append(f"| **mean** | | {mean} |")
    return "\n".join(lines)


def _bold_if(cell: str, bold: bool) -> str:
    return f"**{cell}**" if bold else cell


def defaults_table(record) -> str:
    """The README's table of the defaults: each family's default and the paper's setting."""

    def fmt(values):
        return ", ".join(f"{k}={v}" for k, v in values.items())

    lines = [
        '| family | default (`preset="ganpaint"`) | the paper\'s (`preset="paper"`) | chosen by |',
        "|---|---|---|---|",
    ]
    for family in ("cyclegan", "pix2pix"):
        if family in record:
            r = record[family]
            why = (
                f"kept: no setting beat it by more than 2 sd at {r['chosen_at_steps']:,} steps"
                if r["chosen"] == "paper setting"
                else f"best of the search at {r['chosen_at_steps']:,} steps: {r['chosen']}"
            )
            lines.append(f"| {family} | {fmt(r['ganpaint'])} | {fmt(r['paper'])} | {why} |")
    if "conditional" in record:
        r = record["conditional"]
        lines.append(
            f"| labelled `dcgan_generator` / `dcgan_discriminator`; `ConditionalGAN` | "
            f"{fmt(r['ganpaint'])}; {_adam(r['optimizer'])} | {fmt(r['paper'])}; "
            f'{_adam(r["paper_optimizer"])} (`conditioning="label_map"`, '
            f"`compile(2e-4, 2e-4)`) | best right-class rate at 600 steps: "
            f"{r['chosen']}; {_adam(r['optimizer'])} (`ConditionalGAN.compile()`): "
            f"{r.get('optimizer_chosen_by', 'not searched')} |"
        )
    return "\n".join(lines)


def side_by_side_table(record, quality) -> str:
    """Photo -> painting: the default, the paper preset and the tutorials at each budget (the
    quality task's rows, and at 2,400 steps the search's rows for default and paper)."""
    lines = [
        "| steps | implementation | L1 to the true painting, mean ± sd | per seed | s/run |",
        "|---|---|---|---|---|",
    ]
    metric = "l1_to_true_painting"

    def line(steps, name, r):
        per_seed = ", ".join(f"{v:.3f}" for v in r.get(f"{metric}_per_seed", [r[metric]]))
        lines.append(
            f"| {steps:,} | {name} | {_mean_std(r, metric)} | {per_seed} | {r['seconds']:.0f} |"
        )

    rows = [r for r in (quality or {}).get("rows", []) if metric in r]
    search = record.get("cyclegan", {}).get("rows", [])

    def pick(found, name, steps):
        return next((r for r in found if r["implementation"] == name and r["steps"] == steps), None)

    photo = next((r for r in rows if r["implementation"] == "(no model: the photo itself)"), None)
    for steps in (600, 2400):
        default = pick(rows, "ganpaint CycleGAN (default preset)", steps) or pick(
            search, record["cyclegan"]["chosen"], steps
        )
        paper = pick(rows, 'ganpaint CycleGAN (preset="paper": LSGAN, pool 50)', steps) or pick(
            search, "paper setting", steps
        )
        for name, r in (
            ("ganpaint CycleGAN (default preset)", default),
            ('ganpaint CycleGAN (preset="paper": LSGAN, pool 50)', paper),
            (
                "ganpaint CycleGAN, paper with the tutorial's objective (BCE, no pool)",
                pick(search, "loss=bce, pool_size=0", steps),
            ),
            ("TF tutorial CycleGAN step", pick(rows, "TF tutorial CycleGAN step", steps)),
        ):
            if r is not None:
                line(steps, name, r)
    if photo is not None:
        line(0, photo["implementation"], photo)
    return "\n".join(lines)


def profile_table(result) -> str:
    categories = ("convolution", "optimizer", "cast", "normalization", "activation", "other")
    lines = [
        "| case | implementation | precision | wall ms/step | op ms/step (all threads) | "
        + " | ".join(categories)
        + " |",
        "|---" * (5 + len(categories)) + "|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['case']} | {r['implementation']} | {r['precision']} | "
            f"{r['wall_ms_per_step']} | "
            f"{r['op_ms_per_step']} | " + " | ".join(f"{r[c + '_ms']}" for c in categories) + " |"
        )
    return "\n".join(lines)


def xla_cpu_table(result) -> str:
    lines = [
        "| case | setting | graph mode steps/s | XLA steps/s | XLA ÷ graph mode |",
        "|---|---|---|---|---|",
    ]
    order = list(dict.fromkeys(r["case"] for r in result["rows"]))
    for r in sorted(result["rows"], key=lambda r: order.index(r["case"])):  # case by case
        if "error" in r:
            lines.append(f"| {r['case']} | {r['configuration']} | failed: {r['error']} | | |")
            continue
        lines.append(
            f"| {r['case']} | {r['configuration']} | {r['graph_steps_per_s']:.2f} | "
            f"{r['xla_steps_per_s']:.2f} | {r['xla_vs_graph']:.2f}× |"
        )
    return "\n".join(lines)


# -- the docs' tables, rendered from the JSON beside them ---------------------------------------

# A table in README.md or docs/*.md between `<!-- table: NAME -->` and `<!-- /table -->` is
# this rendering of docs/benchmarks/*.json: `report.py --docs .` rewrites each one, and
# tests/test_defaults.py fails when one differs, so no figure drifts from its measurement.
DOC_TABLES = {
    "defaults": lambda j: defaults_table(j("defaults")),
    "defaults_search_cyclegan": lambda j: search_table("cyclegan", j("defaults_search_cyclegan")),
    "defaults_search_pix2pix": lambda j: search_table("pix2pix", j("defaults_search_pix2pix")),
    "defaults_cost": lambda j: small_data_cost_table(j("defaults_cost")),
    "search_sweeps": lambda j: search_sweeps_table(j("search_sweeps")),
    "known_answer_sweeps": lambda j: known_answer_sweeps_table(j("known_answer_sweeps")),
    # Why the blend loses abstraction at 64 px / 2,400 steps (issue 38's fifth round).
    "known_answer_abstraction_2400_64px": lambda j: known_answer_table(
        j("known_answer_cyclegan"),
        "held_out",
        2400,
        ["blend", "previous default", "blend, paper preset", "paper", "tutorial"],
        64,
        tasks=("abstraction",),
        round_name=ISSUE_38,
    ),
    # The seventh round's candidate on the far held-out tasks at 64 px, both budgets.
    **{
        f"known_answer_open_start_far_{steps}_64px": (
            lambda j, steps=steps: known_answer_table(
                j("known_answer_cyclegan"),
                "held_out",
                steps,
                ["blend full, open start", "blend", "blend, full content gradient", "tutorial"],
                64,
                tasks=_far(j("known_answer_cyclegan"), "held_out"),
                round_name=ISSUE_38,
            )
        )
        for steps in (600, 2400)
    },
    # The README's held-out table, from recipe runs (`known_answer_sweeps`, issue 37).
    "known_answer_sweeps_held_out_600": lambda j: known_answer_table(
        sweep_rows_as_known_answer(j("known_answer_sweeps"), j("known_answer_cyclegan")),
        "held_out",
        600,
        ["blend", "input skip", "paper", "tutorial"],
    ),
    "known_answer_recipe_networks": lambda j: recipe_networks_table(
        j("known_answer_sweeps"), j("known_answer_cyclegan")
    ),
    "side_by_side": lambda j: side_by_side_table(j("defaults"), j("quality")),
    "conditional_defaults": lambda j: conditional_table(j("quality"), obvious=True),
    "conditional_textures": lambda j: conditional_table(
        j("quality"), obvious=True, labelled_set="textures"
    ),
    "conditional_digits": lambda j: conditional_table(j("quality")),
    "small_data_cost": lambda j: small_data_cost_table(j("small_data_cost")),
    "few_shot": lambda j: few_shot_table(j("quality")),
    "quality": lambda j: quality_table(j("quality")),
    "user_path_sweep": lambda j: user_path_table(j("user_path_sweep")),
    "step_cost": lambda j: small_data_cost_table(j("step_cost")),
    "profile": lambda j: profile_table(j("profile")),
    "throughput": lambda j: throughput_summary(j("throughput")),
    "xla_cpu": lambda j: xla_cpu_table(j("xla_cpu")),
}
_MARKED = re.compile(r"(<!-- table: ([a-z0-9_]+) -->)(.*?)(<!-- /table -->)", re.S)


# The settings of `settings.CYCLE_SETTINGS` in the order the tables show them.
KNOWN_ANSWER_SETTINGS = [
    "identity start",
    "previous default",
    "paper",
    "tutorial",
    "paper, no pool",
    "paper objective, bce, no pool",
    "paper, no pool, residual output",
]
# The second search's candidates (do no harm), beside the default.
KNOWN_ANSWER_CANDIDATES = [
    "identity start",
    "default, cycle 10",
    "default, cycle 20",
    "default, cycle 10, ema",
    "default, ema",
    "default, lr 2e-4",
    "default, identity 1",
]
# The third search's candidates (the update order), beside the default.
KNOWN_ANSWER_STEP_SETTINGS = ["identity start", "default, fresh fakes", "default, d first"]
# The fourth search's candidates (less or no identity loss), beside the default re-run.
KNOWN_ANSWER_IDENTITY_SETTINGS = [
    "identity start, re-run",
    "default, no identity",
    "default, cycle 10, no identity",
    "default, identity 0.25",
    "default, cycle 10, identity 0.25",
]
# Issue 38's search: the generator's output (`output_forms`), beside the identity start.
KNOWN_ANSWER_OUTPUT_SETTINGS = [
    "identity start, re-run",
    "identity start, gate",
    "identity start, skip",
    "identity start, residual skip",
    "identity start, gated skip",
    "identity start, fade 200",
    "identity start, fade 400",
]
# The settings of `settings.PIX_SETTINGS` in the order the tables show them.
KNOWN_ANSWER_PIX2PIX_SETTINGS = [
    "default",
    "default, no dropout",
    "tutorial",
    "paper",
    "paper, moving averages",
    "paper, dropout on at inference",
    "paper, no dropout",
    "paper, instance norm",
    "paper, ema",
    "paper, lsgan",
    "paper, l1 weight 200",
    "paper, residual output",
]
# The known-answer tables of the docs: name -> (family, suite, steps, settings shown[, size
# (default 32)[, width (default "small")]]).
KNOWN_ANSWER_TABLES = {
    "known_answer_tuning_600": ("cyclegan", "tuning", 600, KNOWN_ANSWER_SETTINGS),
    "known_answer_candidates_600": ("cyclegan", "tuning", 600, KNOWN_ANSWER_CANDIDATES),
    "known_answer_held_out_600": (
        "cyclegan",
        "held_out",
        600,
        KNOWN_ANSWER_SETTINGS[:4] + ["default, cycle 10"],
    ),
    "known_answer_held_out_2400": (
        "cyclegan",
        "held_out",
        2400,
        ["identity start", "paper", "tutorial", "default, cycle 10"],
    ),
    # The same held-out tasks at 64 px (the builders' networks at that size).
    "known_answer_held_out_600_64px": (
        "cyclegan",
        "held_out",
        600,
        ["identity start", "paper", "tutorial", "default, cycle 10"],
        64,
    ),
    "known_answer_held_out_2400_64px": (
        "cyclegan",
        "held_out",
        2400,
        ["identity start", "paper", "tutorial"],
        64,
    ),
    # ... and at 32 px with the medium width (32 filters in the generators, 64 in the
    # discriminators' first layer: twice the small networks').
    "known_answer_held_out_600_medium": (
        "cyclegan",
        "held_out",
        600,
        ["identity start", "paper", "tutorial", "default, cycle 10"],
        32,
        "medium",
    ),
    # The third search: the step itself (`step_variants.ORDERS`).
    "known_answer_step_tuning_600": ("cyclegan", "tuning", 600, KNOWN_ANSWER_STEP_SETTINGS),
    "known_answer_step_held_out_600": ("cyclegan", "held_out", 600, KNOWN_ANSWER_STEP_SETTINGS),
    # The fourth search: without the identity loss.
    "known_answer_identity_tuning_600": ("cyclegan", "tuning", 600, KNOWN_ANSWER_IDENTITY_SETTINGS),
    "known_answer_identity_held_out_600": (
        "cyclegan",
        "held_out",
        600,
        ["identity start", "tutorial", "default, no identity", "default, cycle 10, no identity"],
    ),
    # Issue 38: the generator's output, on the balanced suites (near and far tasks).
    "known_answer_output_tuning_600": ("cyclegan", "tuning", 600, KNOWN_ANSWER_OUTPUT_SETTINGS),
    "known_answer_balanced_held_out_600": (
        "cyclegan",
        "held_out",
        600,
        ["input skip", "identity start", "paper", "tutorial"],
    ),
    "known_answer_balanced_held_out_2400": (
        "cyclegan",
        "held_out",
        2400,
        ["input skip", "paper", "tutorial"],
    ),
    "known_answer_balanced_held_out_600_64px": (
        "cyclegan",
        "held_out",
        600,
        ["input skip", "paper", "tutorial"],
        64,
    ),
    "known_answer_balanced_held_out_2400_64px": (
        "cyclegan",
        "held_out",
        2400,
        ["input skip", "tutorial"],
        64,
    ),
    # Issue 38's second round: the identity loss again, on the input-skip default.
    "known_answer_identity_skip_tuning_600": (
        "cyclegan",
        "tuning",
        600,
        ["input skip", "input skip, no identity", "input skip, cycle 10, identity 0.25"],
    ),
    "known_answer_identity_skip_held_out_600": (
        "cyclegan",
        "held_out",
        600,
        ["input skip", "input skip, cycle 10, identity 0.25", "tutorial"],
    ),
    # Issue 38's third round: the paper's preset, a piece at a time, on the input-skip default.
    "known_answer_preset_pieces_tuning_600": (
        "cyclegan",
        "tuning",
        600,
        [
            "input skip",
            "input skip, paper preset",
            "input skip, lsgan",
            "input skip, lr 2e-4",
            "input skip, pool 50",
        ],
    ),
    # Issue 38's fourth round: a per-pixel blend of the photo and a plain output.
    "known_answer_blend_tuning_600": (
        "cyclegan",
        "tuning",
        600,
        ["input skip", "blend"],
    ),
    "known_answer_blend_held_out_600": (
        "cyclegan",
        "held_out",
        600,
        ["blend", "input skip", "paper", "tutorial"],
    ),
    "known_answer_blend_held_out_2400": (
        "cyclegan",
        "held_out",
        2400,
        ["blend", "input skip", "paper", "tutorial"],
    ),
    "known_answer_blend_held_out_600_64px": (
        "cyclegan",
        "held_out",
        600,
        ["blend", "input skip", "paper", "tutorial"],
        64,
    ),
    "known_answer_blend_held_out_2400_64px": (
        "cyclegan",
        "held_out",
        2400,
        ["blend", "input skip", "paper", "tutorial"],
        64,
    ),
    # Issue 38's sixth round: the blend's new picture trained by the output's whole gradient.
    "known_answer_content_gradient_tuning_600": (
        "cyclegan",
        "tuning",
        600,
        ["blend", "blend, re-run", "blend, full content gradient"],
    ),
    **{
        f"known_answer_content_gradient_held_out_{steps}{suffix}": (
            "cyclegan",
            "held_out",
            steps,
            ["blend, full content gradient", "blend", "paper", "tutorial"],
            size,
        )
        for steps in (600, 2400)
        for size, suffix in ((32, ""), (64, "_64px"))
    },
    # Issue 38's seventh round: the mask starting half open, on the full content gradient.
    "known_answer_open_start_tuning_600": (
        "cyclegan",
        "tuning",
        600,
        ["blend, re-run", "blend, full content gradient", "blend full, open start"],
    ),
    **{
        f"known_answer_open_start_held_out_{steps}": (
            "cyclegan",
            "held_out",
            steps,
            ["blend full, open start", "blend", "blend, full content gradient", "tutorial"],
        )
        for steps in (600, 2400)
    },
    "known_answer_pix2pix_tuning_600": ("pix2pix", "tuning", 600, KNOWN_ANSWER_PIX2PIX_SETTINGS),
    "known_answer_pix2pix_tuning_2400": (
        "pix2pix",
        "tuning",
        2400,
        KNOWN_ANSWER_PIX2PIX_SETTINGS[:7],
    ),
    "known_answer_pix2pix_held_out_600": (
        "pix2pix",
        "held_out",
        600,
        KNOWN_ANSWER_PIX2PIX_SETTINGS[:8],
    ),
    "known_answer_pix2pix_held_out_2400": (
        "pix2pix",
        "held_out",
        2400,
        KNOWN_ANSWER_PIX2PIX_SETTINGS[:7],
    ),
}
# Issue 38's tables: the second round of measurements (rows with "round": "issue 38", which
# sit beside the first round's rows of the same settings), on every task of the balanced
# suites. The earlier tables show issue 25's tasks alone (their settings were not run on the
# others).
ISSUE_38 = "issue 38"
ISSUE_38_TABLES = {
    "known_answer_output_tuning_600",
    "known_answer_balanced_held_out_600",
    "known_answer_balanced_held_out_2400",
    "known_answer_balanced_held_out_600_64px",
    "known_answer_balanced_held_out_2400_64px",
    "known_answer_identity_skip_tuning_600",
    "known_answer_identity_skip_held_out_600",
    "known_answer_preset_pieces_tuning_600",
    "known_answer_blend_tuning_600",
    "known_answer_content_gradient_tuning_600",
    "known_answer_content_gradient_held_out_600",
    "known_answer_content_gradient_held_out_2400",
    "known_answer_content_gradient_held_out_600_64px",
    "known_answer_content_gradient_held_out_2400_64px",
    "known_answer_open_start_tuning_600",
    "known_answer_open_start_held_out_600",
    "known_answer_open_start_held_out_2400",
    "known_answer_blend_held_out_600",
    "known_answer_blend_held_out_2400",
    "known_answer_blend_held_out_600_64px",
    "known_answer_blend_held_out_2400_64px",
}
ISSUE_25_TASKS = {
    "tuning": ("warm", "gamma", "sepia", "blur", "sketch"),
    "held_out": ("cool", "contrast", "swap_rb", "sharpen", "painterly"),
}


def _known_answer_doc_table(name, score="l1_to_truth"):
    family, suite, steps, settings, *shape = KNOWN_ANSWER_TABLES[name]
    if name in ISSUE_38_TABLES:
        where = {"round_name": ISSUE_38}
    else:
        where = {"tasks": ISSUE_25_TASKS[suite]} if family == "cyclegan" else {}
    return lambda j: known_answer_table(
        j(f"known_answer_{family}"), suite, steps, settings, *shape, score=score, **where
    )


DOC_TABLES.update({name: _known_answer_doc_table(name) for name in KNOWN_ANSWER_TABLES})
# ... and issue 38's held-out tables by the judge's KID, the distribution distance for styles
# without a known answer.
DOC_TABLES.update(
    {
        f"{name}_kid": _known_answer_doc_table(name, score="judge_kid")
        for name in (
            "known_answer_balanced_held_out_600",
            "known_answer_balanced_held_out_2400",
            "known_answer_balanced_held_out_600_64px",
            "known_answer_balanced_held_out_2400_64px",
            "known_answer_blend_held_out_600",
            "known_answer_blend_held_out_2400",
            "known_answer_blend_held_out_600_64px",
            "known_answer_blend_held_out_2400_64px",
            "known_answer_content_gradient_held_out_2400_64px",
        )
    }
)


def known_answer_table(
    result,
    suite,
    steps,
    settings=None,
    size=32,
    width="small",
    tasks=None,
    score="l1_to_truth",
    round_name=None,
) -> str:
    """One line per task of `suite` (or of `tasks`) at `steps`: the unchanged input's L1 to
    the truth, then each setting's mean ± sd over seeds (bold: the best); then each setting's
    mean L1 and its mean rank among the settings shown (1: closest to the truth; the search's
    rule). `score="judge_kid"`: the same for the judge's KID (issue 38), x 100. Only the rows
    of `round_name` (None: those of the first round, before rounds were named)."""
    key, unchanged_key, places = (
        ("judge_kid", "unchanged_judge_kid", 1)
        if score == "judge_kid"
        else ("l1_to_truth", "unchanged_l1", 3)
    )
    measured = [
        r
        for r in result["rows"]
        if r["suite"] == suite
        and r["steps"] == steps
        and r["size"] == size
        and r["width"] == width
        and (tasks is None or r["task"] in tasks)
    ]
    rows = [r for r in measured if r.get("round") == round_name]
    settings = settings or list(dict.fromkeys(r["setting"] for r in rows))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    head = ["task", "unchanged input"] + settings
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    means, ranks = {s: [] for s in settings}, {s: [] for s in settings}
    for task in tasks:
        by_setting = {r["setting"]: r for r in rows if r["task"] == task}
        unchanged = next(iter(by_setting.values()))[unchanged_key]
        best = min(r[key] for s, r in by_setting.items() if s in settings)
        cells = []
        for s in settings:
            r = by_setting.get(s)
            if r is None:
                cells.append("–")
                continue
            means[s].append(r[key])
            ranks[s].append(
                1 + sum(o[key] < r[key] for t, o in by_setting.items() if t in settings)
            )
            cell = _mean_std(r, key, places=places)
            cells.append(f"**{cell}**" if r[key] == best else cell)
        near = " (near identity)" if next(iter(by_setting.values()))["near_identity"] else ""
        lines.append(f"| {task}{near} | {unchanged:.{places}f} | " + " | ".join(cells) + " |")
    if len(tasks) > 1:
        complete = [s for s in settings if len(means[s]) == len(tasks)]
        for label, values, form in (
            ("mean", means, f"{{:.{places}f}}"),
            ("mean rank", ranks, "{:.1f}"),
        ):
            lines.append(
                f"| **{label}** | | "
                + " | ".join(
                    form.format(sum(values[s]) / len(tasks)) if s in complete else "–"
                    for s in settings
                )
                + " |"
            )
    return "\n".join(lines)


def user_path_table(result) -> str:
    """Outcomes of `scripts/sweep_user_path.py`, before and after each part's work: the
    first sweep (issue 21) and, where the JSON has it, the second (issue 39)."""
    parts = [("first sweep", result)] + (
        [("second sweep", result["second"])] if "second" in result else []
    )
    outcomes = sorted(
        {o for _, part in parts for o in (*part["before"], *part["after"])},
        key=lambda o: (-sum(part["before"].get(o, 0) for _, part in parts), o),
    )
    if len(parts) == 1:
        head = ["| outcome | before | after |", "|---|---|---|"]
    else:
        head = [
            "| outcome | "
            + " | ".join(
                f"{name}: before ({part['cases_before']} cases, `{part['before_commit']}`)"
                f" | {name}: after ({part['cases_after']})"
                for name, part in parts
            )
            + " |",
            "|---" * (1 + 2 * len(parts)) + "|",
        ]
    rows = [
        "| "
        + o
        + " | "
        + " | ".join(f"{part['before'].get(o, 0)} | {part['after'].get(o, 0)}" for _, part in parts)
        + " |"
        for o in outcomes
    ]
    return "\n".join([*head, *rows])


def rendered(name, json_folder) -> str:
    def load(stem):
        with open(os.path.join(json_folder, f"{stem}.json")) as f:
            return json.load(f)

    if name not in DOC_TABLES:
        raise ValueError(f"Unknown table {name!r} in the docs. Tables: {', '.join(DOC_TABLES)}")
    return DOC_TABLES[name](load).strip()


def marked_tables(text) -> list[tuple[str, str]]:
    """(name, content) of every marked table in a Markdown text."""
    return [(m.group(2), m.group(3).strip()) for m in _MARKED.finditer(text)]


def render_docs(root, json_folder=None) -> list[str]:
    """Rewrite every marked table of README.md and docs/*.md under `root`; returns the files
    changed."""
    json_folder = json_folder or os.path.join(root, "docs", "benchmarks")
    pages = [os.path.join(root, "README.md")] + sorted(
        os.path.join(root, "docs", p)
        for p in os.listdir(os.path.join(root, "docs"))
        if p.endswith(".md")
    )
    changed = []
    for page in pages:
        with open(page) as f:
            text = f.read()
        new = _MARKED.sub(
            lambda m: f"{m.group(1)}\n{rendered(m.group(2), json_folder)}\n{m.group(4)}", text
        )
        if new != text:
            with open(page, "w") as f:
                f.write(new)
            changed.append(page)
    return changed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join("benchmarks", "results"))
    parser.add_argument("--figures", help="folder for the figures (the README's: docs)")
    parser.add_argument(
        "--docs",
        metavar="ROOT",
        help="rewrite the marked tables of "
        "ROOT/README.md and ROOT/docs/*.md from ROOT/docs/benchmarks/*.json",
    )
    args = parser.parse_args()
    if args.docs:
        for page in render_docs(args.docs):
            print(f"rewrote the tables of {page}")
        return
    for name, table in (
        ("throughput", throughput_summary),
        ("throughput", throughput_table),
        ("profile", profile_table),
        ("bf16_layers", bf16_table),
        ("quality", quality_table),
        ("quality", few_shot_table),
        ("quality", conditional_table),
        ("quality", lambda result: conditional_table(result, obvious=True)),
        ("small_data_cost", small_data_cost_table),
    ):
        result = _load(args.results, name)
        if result is not None:
            print(f"### {name} ({table.__name__})\n\n{table(result)}\n")
    searches = {
        family: result
        for family in SEARCH_METRICS
        if (result := _load(args.results, f"defaults_search_{family}")) is not None
    }
    for family, result in searches.items():
        print(f"### defaults search: {family}\n\n{search_table(family, result)}\n")
    cost = _load(args.results, "defaults_cost")
    if cost is not None:
        print(f"### defaults_cost\n\n{small_data_cost_table(cost)}\n")
    quality = _load(args.results, "quality")
    if searches:
        record = defaults_record(searches, quality)
        print(f"### defaults\n\n{defaults_table(record)}\n")
        if "cyclegan" in record:
            print(f"### photo -> painting, side by side\n\n{side_by_side_table(record, quality)}\n")
        if args.figures:
            path = os.path.join(args.figures, "benchmarks", "defaults.json")
            with open(path, "w") as f:
                json.dump(record, f, indent=1)
            print(f"wrote {path}")
    if args.figures and quality is not None:
        written = few_shot_curves(quality, os.path.join(args.figures, "few_shot_fid_curves.png"))
        if written:
            print(f"figure: {written}")


if __name__ == "__main__":
    main()
