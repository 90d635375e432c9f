"""Why XLA (`jit_compile=True`) is slower than graph mode on a CPU: the convolution kernels.

On x86, TensorFlow's graph mode runs convolutions with oneDNN; XLA's CPU backend compiles its
own (Eigen's). So the same work is timed, graph mode against compiled in alternating windows,
under three process-wide settings (each in its own process: TensorFlow reads them at start-up):

- "oneDNN on": TensorFlow's default;
- "oneDNN off" (`TF_ENABLE_ONEDNN_OPTS=0`): graph mode on TensorFlow's Eigen kernels, so both
  sides run Eigen's convolutions and the difference left is what XLA itself buys;
- "XLA asked for oneDNN" (`XLA_FLAGS=--xla_cpu_use_onednn=true`): the flag this TensorFlow's
  XLA knows for oneDNN on CPU.

The work: one 3x3 convolution (64 -> 64 channels, a 128 px map, batch 1) forward with both
gradients; the CycleGAN 128 px default step and the AC-GAN 28 px b64 step of `throughput.py`.

    python -m benchmarks --only xla_cpu
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

CONFIGURATIONS = {
    "oneDNN on": {},
    "oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "XLA asked for oneDNN": {"XLA_FLAGS": "--xla_cpu_use_onednn=true"},
}
SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS")
CONVOLUTION = "one 3x3 convolution, 64 channels, 128px b1"
CASES = (CONVOLUTION, "cyclegan128", "acgan28")  # and throughput's cases by their names
WINDOWS = 4


def _conv_fns():
    """(the case's name, {jit_compile: a timed window of the convolution step})."""
    import tensorflow as tf

    x = tf.random.stateless_normal((1, 128, 128, 64), (0, 0))
    w = tf.Variable(tf.random.stateless_normal((3, 3, 64, 64), (0, 1)) * 0.05)

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, w, 1, "SAME")
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [w, x])

    def window(fn, steps=20):
        start = time.perf_counter()
        for _ in range(steps):
            out = fn(x)
        float(tf.reduce_sum(out[0]))
        return steps / (time.perf_counter() - start)

    return CONVOLUTION, {
        xla: (lambda f=tf.function(step, jit_compile=xla): window(f))  # noqa: B008
        for xla in (False, True)
    }


def _model_fns(name):
    """(the case's name, {jit_compile: a timed window of `throughput.CASES[name]`'s model})."""
    import tensorflow as tf

    from benchmarks import throughput

    case = throughput.CASES[name]()
    batch = case.batch()
    data = tf.data.Dataset.from_tensors(batch if len(batch) > 1 else batch[0]).repeat()
    fns = {}
    for xla in (False, True):
        model = case.ganpaint(xla, 1)
        model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace, compile, warm up
        fns[xla] = lambda m=model: throughput.ganpaint_window(m, data, case.window_steps, 1)
    return case.name, fns


def measure(configuration) -> list[dict]:
    """This process's rows: each case in graph mode and compiled, alternating windows."""
    rows = []
    for case in CASES:
        name, fns = _conv_fns() if case == CONVOLUTION else _model_fns(case)
        rates = {False: [], True: []}
        for _ in range(WINDOWS):
            for xla in (False, True):
                rates[xla].append(fns[xla]())
        graph, xla = statistics.median(rates[False]), statistics.median(rates[True])
        rows.append(
            {
                "configuration": configuration,
                "case": name,
                "graph_steps_per_s": round(graph, 3),
                "xla_steps_per_s": round(xla, 3),
                "xla_vs_graph": round(xla / graph, 3),
                "windows": WINDOWS,
            }
        )
    return rows


def run() -> dict:
    import tensorflow as tf

    rows = []
    inherited = {k: v for k, v in os.environ.items() if k not in SETTINGS}  # each names its own
    for name, env in CONFIGURATIONS.items():
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.xla_cpu", name],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # the repository
            env={**inherited, **env},
            capture_output=True,
            text=True,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode or not lines:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            rows.append({"configuration": name, "case": "-", "error": tail[:200]})
            continue
        rows += json.loads(lines[-1])
    return {
        "benchmark": "xla_cpu",
        "rows": rows,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
        "environments": CONFIGURATIONS,
    }


if __name__ == "__main__":  # one configuration, in the process `run` started for it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(json.dumps(measure(sys.argv[1])), flush=True)
