"""Where mixed bfloat16 time goes on this CPU: forward + backward of each layer type of the
CycleGAN networks at batch 1 and at batch 2 (what ganpaint's fused calls run), float32 vs
mixed_bfloat16, in milliseconds."""

from __future__ import annotations

import time

import keras
import tensorflow as tf

from ganpaint.layers import InstanceNormalization

CASES = {
    "Conv2D 4x4/2 64->128 @64": (
        lambda: keras.layers.Conv2D(128, 4, 2, padding="same"),
        (64, 64, 64),
    ),
    "Conv2DTranspose 4x4/2 256->64 @32": (
        lambda: keras.layers.Conv2DTranspose(64, 4, 2, padding="same"),
        (32, 32, 256),
    ),
    "Conv2D 4x4/1 256->512 @16 (PatchGAN)": (
        lambda: keras.layers.Conv2D(512, 4, 1, padding="same"),
        (16, 16, 256),
    ),
    "InstanceNormalization 128ch @32": (lambda: InstanceNormalization(), (32, 32, 128)),
    "LeakyReLU 128ch @32": (lambda: keras.layers.LeakyReLU(0.2), (32, 32, 128)),
}


def _ms(make, shape, policy, repeats=20):
    keras.config.set_dtype_policy(policy)
    try:
        layer = make()
        x = tf.random.normal(shape)
        layer(x)

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.cast(layer(x, training=True), tf.float32)
                loss = tf.reduce_sum(y * y)
            return loss, tape.gradient(loss, [x] + layer.trainable_variables)

        step(x)
        step(x)
        start = time.perf_counter()
        for _ in range(repeats):
            out = step(x)
        float(out[0])
        return (time.perf_counter() - start) / repeats * 1000
    finally:
        keras.config.set_dtype_policy("float32")


def run() -> dict:
    rows = []
    for name, (make, shape) in CASES.items():
        for batch in (1, 2):
            f32 = _ms(make, (batch, *shape), "float32")
            bf16 = _ms(make, (batch, *shape), "mixed_bfloat16")
            rows.append(
                {
                    "layer": name,
                    "batch": batch,
                    "float32_ms": round(f32, 2),
                    "bfloat16_ms": round(bf16, 2),
                    "speedup": round(f32 / bf16, 2),
                }
            )
            print(rows[-1], flush=True)
    return {
        "benchmark": "bf16_layers",
        "rows": rows,
        "tensorflow": tf.__version__,
        "cpu_count": __import__("os").cpu_count(),
    }
