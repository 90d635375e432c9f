"""Markdown tables for the README from the JSON that `make bench` writes.

    python benchmarks/report.py [--results benchmarks/results]
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


def bf16_table(result) -> str:
    lines = ["| layer (forward + backward) | batch | float32 ms | bfloat16 ms | bf16 speed-up |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['layer']} | {r['batch']} | {r['float32_ms']} | {r['bfloat16_ms']} | "
                     f"{r['speedup']}× |")
    return "\n".join(lines)


def quality_table(result) -> str:
    lines = ["| task | implementation | steps | score | seconds |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        if "l1_to_true_painting" in r:
            score = f"L1 to the true painting {r['l1_to_true_painting']:.4f}"
        else:
            score = (f"FID (classifier features) {r['fid_classifier']:.2f}, right class "
                     f"{100 * r['class_accuracy']:.1f} %")
        lines.append(f"| {r['task']} | {r['implementation']} | {r['steps']} | {score} | "
                     f"{r['seconds']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args()
    for name, table in (("throughput", throughput_table), ("bf16_layers", bf16_table),
                        ("quality", quality_table)):
        result = _load(args.results, name)
        if result is not None:
            print(f"### {name}\n\n{table(result)}\n")


if __name__ == "__main__":
    main()
