"""Markdown tables for the README from the JSON that `make bench` writes, and its figures.

    python benchmarks/report.py [--results benchmarks/results] [--figures docs]
"""
from __future__ import annotations

import argparse
import json
import os


def _load(folder, name):
    path = os.path.join(folder, f"{name}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def throughput_table(result) -> str:
    rows = result["rows"]
    base = {r["case"]: r["steps_per_s"] for r in rows
            if r["implementation"] == "textbook" and r["precision"] == "float32"}
    lines = ["| case | implementation | precision | XLA | steps/exec | steps/s | images/s | "
             "× textbook fp32 | GFLOP/step | of measured peak |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['implementation']} | {r['precision']} | "
                     f"{'yes' if r['jit_compile'] else 'no'} | {r['steps_per_execution']} | "
                     f"{r['steps_per_s']:.2f} | {r['images_per_s']:.1f} | "
                     f"{r['steps_per_s'] / base[r['case']]:.2f}× | {r['gflop_per_step']} | "
                     f"{100 * r['fraction_of_peak']:.0f} % |")
    p = result["peak"]
    lines.append("")
    lines.append(f"Measured peak in the same process: float32 {p['float32_conv_gflops']:.0f} "
                 f"GFLOP/s (conv), {p['float32_matmul_gflops']:.0f} (matmul); bfloat16 "
                 f"{p['bfloat16_conv_gflops']:.0f} (conv), {p['bfloat16_matmul_gflops']:.0f} "
                 "(matmul).")
    return "\n".join(lines)


def throughput_summary(result) -> str:
    """One line per case (and ganpaint option): each rate as a multiple of the textbook
    float32 step, and the achieved fraction of the measured peak."""
    rows = result["rows"]
    cases = list(dict.fromkeys(r["case"] for r in rows))
    lines = ["| case | textbook fp32 steps/s | textbook bf16 | ganpaint fp32 | ganpaint bf16 | "
             "ganpaint XLA (best) | of peak: textbook fp32 / ganpaint fp32 / ganpaint bf16 |",
             "|---|---|---|---|---|---|---|"]

    def pick(case, impl, precision, xla=False, spe=1):
        return next((r for r in rows if r["case"] == case and r["implementation"] == impl
                     and r["precision"] == precision and r["jit_compile"] == xla
                     and r["steps_per_execution"] == spe), None)

    for case in cases:
        base = pick(case, "textbook", "float32")
        tb16 = pick(case, "textbook", "bfloat16")
        impls = [i for i in dict.fromkeys(r["implementation"] for r in rows if r["case"] == case)
                 if i != "textbook"]
        for impl in impls:
            f32, b16 = pick(case, impl, "float32"), pick(case, impl, "bfloat16")
            xla = [r for r in rows if r["case"] == case and r["implementation"] == impl
                   and r["jit_compile"]]
            best = max(xla, key=lambda r: r["steps_per_s"]) if xla else None

            def x(r):
                return f"{r['steps_per_s'] / base['steps_per_s']:.2f}×" if r else "–"

            short = {"float32": "fp32", "bfloat16": "bf16"}
            xla_text = (f"{x(best)} ({short[best['precision']]}, steps/exec "
                        f"{best['steps_per_execution']})" if best else "–")
            peak = " / ".join(f"{100 * r['fraction_of_peak']:.0f} %" if r else "–"
                              for r in (base, f32, b16))
            label = case if impl == "ganpaint" else f"{case}, {impl}"
            lines.append(f"| {label} | {base['steps_per_s']:.2f} | {x(tb16)} | **{x(f32)}** | "
                         f"**{x(b16)}** | {xla_text} | {peak} |")
    return "\n".join(lines)


def bf16_table(result) -> str:
    lines = ["| layer (forward + backward) | batch | float32 ms | bfloat16 ms | bf16 speed-up |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['layer']} | {r['batch']} | {r['float32_ms']} | {r['bfloat16_ms']} | "
                     f"{r['speedup']}× |")
    return "\n".join(lines)


def _mean_std(row, key, scale=1.0, places=3):
    mean, std = scale * row[key], scale * row.get(f"{key}_std", 0.0)
    return f"{mean:.{places}f} ± {std:.{places}f}" if row.get("seeds", 1) > 1 else \
        f"{mean:.{places}f}"


def _few_shot(row) -> bool:
    return row["task"].startswith("few-shot")


def _conditional(row) -> bool:
    return row["task"].startswith("conditional digits")


def few_shot_table(result) -> str:
    """The few-shot digits rows: FID (and its ratio to plain's), the overfitting gap, the
    distance to the nearest training digit, and ADA's final p."""
    rows = [r for r in result["rows"] if _few_shot(r)]
    plain = {r["task"]: r for r in rows if r["implementation"].startswith("plain")}
    lines = ["| training digits, steps | setting | FID (classifier) | × plain | overfitting gap | "
             "nearest training digit (held-out real: ref.) | final p | per seed FID / gap | "
             "s/run |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = plain.get(r["task"])
        ratio = f"{r['fid_classifier'] / base['fid_classifier']:.2f}×" if base else "–"
        digits = r["task"].split(", ")[1].split()[0]
        per_seed = ", ".join(f"{f:.1f} / {g:.2f}" for f, g in zip(
            r["fid_classifier_per_seed"], r["overfit_gap_per_seed"]))
        lines.append(f"| {digits}, {r['steps']:,} | {r['implementation']} | "
                     f"{_mean_std(r, 'fid_classifier', places=1)} | {ratio} | "
                     f"{_mean_std(r, 'overfit_gap', places=3)} | "
                     f"{r['nearest_train_distance']:.3f} ({r['held_out_nearest_train_distance']:.3f})"
                     f" | {r['final_p']:.2f} | {per_seed} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def conditional_table(result) -> str:
    rows = [r for r in result["rows"] if _conditional(r)]
    lines = ["| networks, loss | steps | right class | FID (classifier) | per seed class / FID |",
             "|---|---|---|---|---|"]
    for r in rows:
        per_seed = ", ".join(f"{100 * a:.0f} % / {f:.1f}" for a, f in zip(
            r["class_accuracy_per_seed"], r["fid_classifier_per_seed"]))
        lines.append(f"| {r['implementation']} | {r['steps']:,} | "
                     f"{_mean_std(r, 'class_accuracy', 100, 1)} % | "
                     f"{_mean_std(r, 'fid_classifier', places=1)} | {per_seed} |")
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
        lines.append(f"| {r['case']} | {r['variant']} | {r['steps_per_s']:.3f} | "
                     f"{r['step_time_vs_plain']:.2f}× |")
    return "\n".join(lines)


def quality_table(result) -> str:
    lines = ["| task | implementation | steps | seeds | score (mean ± sd over seeds) | "
             "per seed | seconds per run |", "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if _few_shot(r) or _conditional(r):
            continue  # their own tables
        if "l1_to_true_painting" in r:
            score = f"L1 to the true painting {_mean_std(r, 'l1_to_true_painting')}"
            per_seed = ", ".join(f"{v:.3f}" for v in r.get("l1_to_true_painting_per_seed", []))
        else:
            score = (f"FID (classifier features) {_mean_std(r, 'fid_classifier', places=1)}, "
                     f"right class {_mean_std(r, 'class_accuracy', 100, 1)} %")
            per_seed = ", ".join(f"{f:.1f} / {100 * a:.0f} %" for f, a in zip(
                r.get("fid_classifier_per_seed", []), r.get("class_accuracy_per_seed", [])))
        lines.append(f"| {r['task']} | {r['implementation']} | {r['steps']} | "
                     f"{r.get('seeds', 1)} | {score} | {per_seed} | {r['seconds']} |")
    return "\n".join(lines)


def profile_table(result) -> str:
    categories = ("convolution", "optimizer", "cast", "normalization", "activation", "other")
    lines = ["| case | implementation | precision | wall ms/step | op ms/step (all threads) | "
             + " | ".join(categories) + " |", "|---" * (5 + len(categories)) + "|"]
    for r in result["rows"]:
        lines.append(f"| {r['case']} | {r['implementation']} | {r['precision']} | "
                     f"{r['wall_ms_per_step']} | "
                     f"{r['op_ms_per_step']} | "
                     + " | ".join(f"{r[c + '_ms']}" for c in categories) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join("benchmarks", "results"))
    parser.add_argument("--figures", help="folder for the figures (the README's: docs)")
    args = parser.parse_args()
    for name, table in (("throughput", throughput_summary), ("throughput", throughput_table),
                        ("profile", profile_table),
                        ("bf16_layers", bf16_table), ("quality", quality_table),
                        ("quality", few_shot_table), ("quality", conditional_table),
                        ("small_data_cost", small_data_cost_table)):
        result = _load(args.results, name)
        if result is not None:
            print(f"### {name} ({table.__name__})\n\n{table(result)}\n")
    quality = _load(args.results, "quality")
    if args.figures and quality is not None:
        written = few_shot_curves(quality, os.path.join(args.figures, "few_shot_fid_curves.png"))
        if written:
            print(f"figure: {written}")


if __name__ == "__main__":
    main()
