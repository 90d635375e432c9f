"""ganpaint's benchmarks and research: speed, quality, and the searches behind the defaults.

One entry point, from the repository's root:

    python -m benchmarks [--only throughput] [--out benchmarks/results]   # `make bench`
    python -m benchmarks.defaults_search --family cyclegan                # one study
    python -m benchmarks.report --docs .                                  # the docs' tables

Each study is a module with a `main`; what its tables show and how they were chosen is in its
docstring and in docs/defaults.md and docs/performance.md. Results go to benchmarks/results/
(not committed); the published ones are docs/benchmarks/*.json.
"""
