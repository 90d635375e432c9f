"""Code metrics for the refactor issues: the longest functions in ganpaint/ and the pairs of
modules that import each other (ganpaint/ and benchmarks/).

    python scripts/code_metrics.py .
"""

import ast
import collections
import os
import sys

root = sys.argv[1]
longest = []
imports = collections.defaultdict(set)
for base, pkg in (("ganpaint", "ganpaint"), ("benchmarks", "benchmarks")):
    for dp, _, fs in os.walk(os.path.join(root, base)):
        for f in fs:
            if not f.endswith(".py"):
                continue
            p = os.path.join(dp, f)
            mod = os.path.relpath(p, root)[:-3].replace("/", ".").replace(".__init__", "")
            tree = ast.parse(open(p).read())
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    longest.append(
                        (
                            node.end_lineno - node.lineno + 1,
                            f"{os.path.relpath(p, root)}:{node.name}",
                        )
                    )
                if isinstance(node, ast.ImportFrom) and node.module:
                    m = node.module
                    if m.startswith(pkg):
                        imports[mod].add(m)
                        for a in node.names:
                            if os.path.exists(
                                os.path.join(root, *f"{m}.{a.name}".split(".")) + ".py"
                            ):
                                imports[mod].add(f"{m}.{a.name}")
                    elif base == "benchmarks" and os.path.exists(
                        os.path.join(root, "benchmarks", m + ".py")
                    ):
                        imports[mod].add("benchmarks." + m)
                if isinstance(node, ast.Import):
                    for a in node.names:
                        if a.name.startswith(pkg):
                            imports[mod].add(a.name)
                        elif base == "benchmarks" and os.path.exists(
                            os.path.join(root, "benchmarks", a.name + ".py")
                        ):
                            imports[mod].add("benchmarks." + a.name)
longest.sort(reverse=True)
print("longest functions (ganpaint):", [x for x in longest if x[1].startswith("ganpaint")][:3])
cycles = set()
for a, bs in imports.items():
    for b in bs:
        if a in imports.get(b, ()) and a != b:
            cycles.add(tuple(sorted((a, b))))
print("2-cycles:", sorted(cycles))
