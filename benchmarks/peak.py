"""The machine's measured limit, in this process: large float32 and bfloat16 convolution and
matmul throughput (GFLOP/s), the best of a few runs."""

from __future__ import annotations

import time

import tensorflow as tf


def _best_rate(fn, flops, repeats=5):
    fn()  # trace and warm up
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        float(tf.reduce_sum(tf.cast(fn(), tf.float32)))
        best = max(best, flops / (time.perf_counter() - start))
    return best / 1e9


def measure() -> dict:
    result = {}
    for dtype in (tf.float32, tf.bfloat16):
        x = tf.random.normal((8, 64, 64, 256), dtype=tf.float32)
        w = tf.random.normal((3, 3, 256, 256), dtype=tf.float32) * 0.01
        a = tf.random.normal((2048, 2048), dtype=tf.float32)
        x, w, a = (tf.cast(t, dtype) for t in (x, w, a))
        conv = tf.function(lambda: tf.nn.conv2d(x, w, 1, "SAME"))
        matmul = tf.function(lambda: tf.matmul(a, a))
        conv_flops = 2 * 8 * 64 * 64 * 256 * 256 * 9
        matmul_flops = 2 * 2048**3
        name = dtype.name
        result[f"{name}_conv_gflops"] = round(_best_rate(conv, conv_flops), 1)
        result[f"{name}_matmul_gflops"] = round(_best_rate(matmul, matmul_flops), 1)
        result[f"{name}_gflops"] = max(
            result[f"{name}_conv_gflops"], result[f"{name}_matmul_gflops"]
        )
    return result


if __name__ == "__main__":
    print(measure())
