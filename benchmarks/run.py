"""Runs the benchmarks, prints a table and writes JSON: `make bench`.

    python -m benchmarks [--out benchmarks/results] [--only throughput] [--case pix2pix256]
                             [--task digits]

Throughput rows replace the same cases' rows in the existing JSON, case by case as they finish,
so `--case` re-runs a few cases and an interrupted run keeps what it measured; profile rows
likewise by case (`--only profile --case dcgan64`), quality rows by task (`--task
photo_to_painting`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import (
    bf16_layers,
    defaults_cost,
    input_pipeline,
    op_profile,
    quality,
    small_data_cost,
    step_cost,
    throughput,
    xla_cpu,
)

BENCHMARKS = {
    "input_pipeline": input_pipeline.run,
    "throughput": throughput.run,
    "profile": op_profile.run,
    "bf16_layers": bf16_layers.run,
    "quality": quality.run,
    "small_data_cost": small_data_cost.run,
    "defaults_cost": defaults_cost.run,
    "step_cost": step_cost.run,
    "xla_cpu": xla_cpu.run,
}


def print_table(result: dict) -> None:
    rows = result["rows"]
    columns = []
    for r in rows:  # rows of one table may have different fields (quality's two tasks)
        columns += [c for c in r if c not in columns]
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print(f"\n{result['benchmark']}  ({result['cpu_count']} CPUs, TF {result['tensorflow']})")
    if "peak" in result:
        print("measured peak:", result["peak"])
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths)))


def _write(path, result, merge_key=None):
    result = _merge(path, result, merge_key) if merge_key else dict(result)
    result["machine"] = platform.processor() or platform.machine()
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    return result


def _merge(path, result, key):
    """`result`'s rows in place of the rows of the JSON at `path` with the same `key` (a
    throughput case, a quality task), in their first order."""
    if not os.path.exists(path):
        return result
    with open(path) as f:
        old = json.load(f)
    new_keys = {r[key] for r in result["rows"]}
    rows = [r for r in old["rows"] if r[key] not in new_keys] + result["rows"]
    order = {
        k: i
        for i, k in enumerate(
            dict.fromkeys([r[key] for r in old["rows"]] + [r[key] for r in result["rows"]])
        )
    }
    kept = {k: v for k, v in old.items() if k not in result}  # e.g. a note on the old rows
    merged = {**kept, **result, "rows": sorted(rows, key=lambda r: order[r[key]])}
    for name, value in result.items():  # per-case tables beside the rows (a profile's top ops)
        if isinstance(value, dict) and isinstance(old.get(name), dict) and name != "peak":
            merged[name] = {**old[name], **value}
    if "peak" in result:  # each row's share of peak is against the peak of its own run
        before = old.get("peak_by_case", {})
        merged["peak_by_case"] = {
            r[key]: result["peak"] if r[key] in new_keys else before.get(r[key], old.get("peak"))
            for r in merged["rows"]
        }
    return merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument(
        "--case",
        choices=sorted(throughput.CASES),
        action="append",
        help="throughput cases to run (default: all), or with --only profile "
        f"the cases to trace (default: {', '.join(op_profile.CASES)})",
    )
    parser.add_argument(
        "--task",
        choices=sorted(quality.TASKS),
        action="append",
        help="quality tasks to run (default: all)",
    )
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    selected = (["throughput"] if args.case else []) + (["quality"] if args.task else [])
    for name in args.only or selected or BENCHMARKS:
        path = os.path.join(args.out, f"{name}.json")
        if name == "throughput":  # written after each case: a long run keeps what it measured
            written = {}
            throughput.run(
                args.case, on_case=lambda r: written.update(result=_write(path, r, "case"))
            )
            result = written["result"]
        elif name == "profile":  # rows replace the same cases' rows
            result = _write(path, op_profile.run(tuple(args.case or op_profile.CASES)), "case")
        elif name == "quality":
            result = _write(path, quality.run(args.task), "task")
        else:
            result = _write(path, BENCHMARKS[name]())
        print_table(result)
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
