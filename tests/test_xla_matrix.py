"""Every model still trains under XLA with `steps_per_execution=2` in both half precisions:
plain in float16 (a GPU's, with loss scaling) and with every small-data tool on in bfloat16
(the TPU path), so no speed-up breaks it. float32 under XLA: tests/test_gans.py. (The other
two corners of the square add no code path: the tools do not depend on the precision.)"""

import keras
import numpy as np
import pytest

from ganpaint.testing import dataset, model, weights

TOOLS = dict(
    diff_augment="color,translation,cutout",
    ada_target=0.6,
    ada_interval=1,
    ema=0.99,
    r1_weight=1.0,
    r1_every=2,
)


@pytest.mark.parametrize(
    "tools, precision",
    [(False, "mixed_float16"), (True, "mixed_bfloat16")],
    ids=["plain-mixed_float16", "tools-mixed_bfloat16"],
)
@pytest.mark.parametrize("kind", ["gan", "cgan", "acgan", "cyclegan", "pix2pix"])
def test_every_model_trains_under_xla_with_steps_per_execution(kind, tools, precision):
    keras.config.set_dtype_policy(precision)
    try:
        m = model(kind, **(TOOLS if tools else {}))
        before = weights(m)
        m.compile(jit_compile=True, steps_per_execution=2)
        history = m.fit(dataset(kind, batch=2, n=4), epochs=1, verbose=0).history
    finally:
        keras.config.set_dtype_policy("float32")
    assert m.jit_compile is True and m.steps_per_execution == 2
    assert all(np.isfinite(values[-1]) for values in history.values()), history
    after = weights(m)
    assert all(np.isfinite(w).all() for w in after)
    assert sum(float(np.abs(a - b).sum()) for a, b in zip(after, before)) > 0  # it trained


@pytest.mark.parametrize("kind", ["gan", "cgan", "acgan", "cyclegan", "pix2pix"])
def test_every_random_draw_of_a_compiled_step_names_its_generator(kind):
    """No draw in a train step is left to TensorFlow's "auto_select": compiled by XLA on the
    CPU, its seed hashing (StatelessRandomGetKeyCounter) lands in every element's loop and a
    dropout mask measured 40x slower (`ganpaint.layers.RNG_ALG`). Keras' own Dropout fails
    this test."""
    import tensorflow as tf

    from ganpaint.testing import MODELS, networks

    extra = {"cyclegan": dict(pool_size=4), "pix2pix": {}}.get(
        kind, dict(label_smoothing=((0.7, 1.2), (0.0, 0.3)))
    )  # soft labels are drawn
    # Dropout wherever the networks take it.
    m = MODELS[kind](*networks(kind, dropout=0.3), seed=11, **TOOLS, **extra)
    m.compile()
    batch = next(iter(dataset(kind, batch=2, n=2)))
    hlo = tf.function(m.train_step, jit_compile=True).experimental_get_compiler_ir(batch)(
        stage="hlo"
    )
    assert "rng-bit-generator" in hlo  # the step does draw: dropout, noise, augmentation
    assert "StatelessRandomGetKeyCounter" not in hlo
