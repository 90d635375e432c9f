"""Runs the benchmarks, prints a table and writes JSON: `make bench`.

    python benchmarks/run.py [--out benchmarks/results] [--only input_pipeline]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bf16_layers  # noqa: E402
import input_pipeline  # noqa: E402
import quality  # noqa: E402
import throughput  # noqa: E402

BENCHMARKS = {"input_pipeline": input_pipeline.run, "throughput": throughput.run,
              "bf16_layers": bf16_layers.run, "quality": quality.run}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or BENCHMARKS:
        result = BENCHMARKS[name]()
        result["machine"] = platform.processor() or platform.machine()
        print_table(result)
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
