"""Training throughput of ganpaint's models against the textbook train steps, side by side.

For each case the same networks (same builders, same sizes, same data) are trained by
- ganpaint's model (`model.fit` on a repeated batch; float32 or mixed bfloat16; with and
  without XLA; `steps_per_execution`), and
- the textbook step, written the way the well-known tutorials write it:
  - CycleGAN: the TF tutorial's step: six generator calls and four discriminator calls under
    one persistent tape, four gradient calls, four optimizers, float32, no XLA;
  - DCGAN: keras-io's `GAN.train_step`: fakes generated, concatenated with the real batch,
    one discriminator update, new noise, one generator update.
Each figure is the median of timed windows after a warm-up, in the same process. FLOPs per
step are counted from the layers (`flops.py`) as 3x the forward FLOPs of every network call a
step makes (forward + backward), the usual model-FLOPs convention; the achieved fraction is
against this process's measured peak (`peak.py`).
"""
from __future__ import annotations

import os
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from ganpaint import discriminators, gans, generators

import flops
import peak

WINDOW_STEPS = {"cyclegan": 4, "pix2pix": 4, "dcgan": 20}
WINDOWS = 3


# -- textbook steps ---------------------------------------------------------------------------

def textbook_cyclegan_step(g, f, d_x, d_y):
    """The TF CycleGAN tutorial's train_step (tensorflow.org/tutorials/generative/cyclegan)."""
    loss_obj = keras.losses.BinaryCrossentropy(from_logits=True)
    opts = [keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(4)]
    lam = 10.0

    def disc_loss(real, generated):
        return (loss_obj(tf.ones_like(real), real) + loss_obj(tf.zeros_like(generated),
                                                                generated)) * 0.5

    def gen_loss(generated):
        return loss_obj(tf.ones_like(generated), generated)

    def cycle_loss(real, cycled):
        return lam * tf.reduce_mean(tf.abs(real - cycled))

    def identity_loss(real, same):
        return lam * 0.5 * tf.reduce_mean(tf.abs(real - same))

    @tf.function
    def step(real_x, real_y):
        with tf.GradientTape(persistent=True) as tape:
            fake_y = g(real_x, training=True)
            cycled_x = f(fake_y, training=True)
            fake_x = f(real_y, training=True)
            cycled_y = g(fake_x, training=True)
            same_x = f(real_x, training=True)
            same_y = g(real_y, training=True)
            disc_real_x = d_x(real_x, training=True)
            disc_real_y = d_y(real_y, training=True)
            disc_fake_x = d_x(fake_x, training=True)
            disc_fake_y = d_y(fake_y, training=True)
            total_cycle = cycle_loss(real_x, cycled_x) + cycle_loss(real_y, cycled_y)
            total_g = gen_loss(disc_fake_y) + total_cycle + identity_loss(real_y, same_y)
            total_f = gen_loss(disc_fake_x) + total_cycle + identity_loss(real_x, same_x)
            d_x_loss = disc_loss(disc_real_x, disc_fake_x)
            d_y_loss = disc_loss(disc_real_y, disc_fake_y)
        for opt, loss, net in zip(opts, (total_g, total_f, d_x_loss, d_y_loss), (g, f, d_x, d_y)):
            grads = tape.gradient(loss, net.trainable_variables)
            opt.apply_gradients(zip(grads, net.trainable_variables))
        return total_g

    return step


def textbook_dcgan_step(generator, discriminator, latent_dim):
    """keras-io's DCGAN `train_step` (keras.io/examples/generative/dcgan_overriding_train_step)."""
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)  # D outputs logits in both
    d_opt, g_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    seed = keras.random.SeedGenerator(1337)

    @tf.function
    def step(real_images):
        batch = tf.shape(real_images)[0]
        z = keras.random.normal((batch, latent_dim), seed=seed)
        generated = generator(z)
        combined = tf.concat([generated, real_images], axis=0)
        labels = tf.concat([tf.ones((batch, 1)), tf.zeros((batch, 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))
        with tf.GradientTape() as tape:
            d_loss = loss_fn(labels, discriminator(combined))
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_weights))
        z = keras.random.normal((batch, latent_dim), seed=seed)
        with tf.GradientTape() as tape:
            g_loss = loss_fn(tf.zeros((batch, 1)), discriminator(generator(z)))
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_opt.apply_gradients(zip(grads, generator.trainable_weights))
        return d_loss

    return step


# -- networks -----------------------------------------------------------------------------------

def keras_io_mnist_networks(latent_dim=128):
    """The 28 px networks of keras-io's MNIST GAN examples: 128-filter layers, sigmoid D."""
    generator = keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(7 * 7 * 128), keras.layers.LeakyReLU(0.2),
        keras.layers.Reshape((7, 7, 128)),
        keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
        keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2D(1, 7, padding="same", activation="tanh", dtype="float32"),
    ], name="generator")
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(64, 3, strides=2, padding="same"), keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2D(128, 3, strides=2, padding="same"), keras.layers.LeakyReLU(0.2),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(1, dtype="float32"),
    ], name="discriminator")
    return generator, discriminator


def cyclegan_networks(size):
    """The CycleGAN tutorial's networks: U-Net generators with instance norm, 70x70 PatchGAN."""
    shape = (size, size, 3)
    return (generators.unet_generator(shape, norm="instance", dropout=0.0, name="g"),
            generators.unet_generator(shape, norm="instance", dropout=0.0, name="f"),
            discriminators.patchgan_discriminator(shape, 70, name="d_x"),
            discriminators.patchgan_discriminator(shape, 70, name="d_y"))


# -- timing ---------------------------------------------------------------------------------------

def _median_rate(run_window, steps):
    rates = []
    for _ in range(WINDOWS):
        start = time.perf_counter()
        run_window()
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


def time_textbook(step, args, steps):
    step(*args)  # trace + warm up
    step(*args)

    def window():
        for _ in range(steps):
            out = step(*args)
        float(out)

    return _median_rate(window, steps)


class _StepClock(keras.callbacks.Callback):
    """Timestamps at batch ends inside one `fit`, so the rate excludes fit's start-up."""

    def __init__(self):
        super().__init__()
        self.marks = []

    def on_train_batch_end(self, batch, logs=None):
        self.marks.append((batch + 1, time.perf_counter()))


def time_model(model, batch, steps, steps_per_execution):
    """Steady-state steps/s of `model.fit`: one fit call, warm-up steps dropped, the median
    of `WINDOWS` windows of at least `steps` steps."""
    window = max(steps, steps_per_execution)
    window = -(-window // steps_per_execution) * steps_per_execution
    warmup = 2 * steps_per_execution
    data = tf.data.Dataset.from_tensors(batch).repeat()
    clock = _StepClock()
    model.fit(data, steps_per_epoch=warmup + WINDOWS * window, epochs=1, verbose=0,
              shuffle=False, callbacks=[clock])
    marks = dict(clock.marks)
    rates = []
    for w in range(WINDOWS):
        start, end = warmup + w * window, warmup + (w + 1) * window
        rates.append((end - start) / (marks[end] - marks[start]))
    return statistics.median(rates)


def _with_policy(policy, build):
    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        return build()
    finally:
        keras.config.set_dtype_policy("float32")


def cyclegan_case(size, peak_flops):
    rng = np.random.default_rng(0)
    a = tf.constant(rng.uniform(-1, 1, (1, size, size, 3)), tf.float32)
    b = tf.constant(rng.uniform(-1, 1, (1, size, size, 3)), tf.float32)
    g, f, d_x, d_y = cyclegan_networks(size)
    g_flops, d_flops = flops.forward_flops(g), flops.forward_flops(d_x)
    nominal = 3 * (6 * g_flops + 4 * d_flops)  # the tutorial step's network calls
    steps = WINDOW_STEPS["cyclegan"]
    rows = []

    def add(impl, precision, xla, spe, rate):
        rows.append({"case": f"CycleGAN {size}px b1", "implementation": impl,
                     "precision": precision, "jit_compile": xla, "steps_per_execution": spe,
                     "steps_per_s": round(rate, 3), "images_per_s": round(rate * 2, 3),
                     "gflop_per_step": round(nominal / 1e9, 1),
                     "fraction_of_peak": round(nominal * rate / peak_flops[precision], 3)})
        print(rows[-1], flush=True)

    for precision in ("float32", "bfloat16"):
        policy = "float32" if precision == "float32" else "mixed_bfloat16"
        nets = _with_policy(policy, lambda: cyclegan_networks(size))
        add("textbook", precision, False, 1,
            time_textbook(textbook_cyclegan_step(*nets), (a, b), steps))
        for xla in (False, True):
            nets = _with_policy(policy, lambda: cyclegan_networks(size))
            model = gans.CycleGAN(*nets, loss="bce", seed=0)
            model.compile(jit_compile=xla)
            add("ganpaint", precision, xla, 1, time_model(model, (a, b), steps, 1))
    return rows


def dcgan_case(peak_flops, batch_size=64):
    rng = np.random.default_rng(0)
    real = tf.constant(rng.uniform(-1, 1, (batch_size, 28, 28, 1)), tf.float32)
    g, d = keras_io_mnist_networks()
    g_flops, d_flops = flops.forward_flops(g), flops.forward_flops(d)
    # keras-io: G once outside a tape, D on 2B, then G and D with gradients.
    nominal = batch_size * (3 * (g_flops + 2 * d_flops) + g_flops + d_flops)
    steps = WINDOW_STEPS["dcgan"]
    rows = []

    def add(impl, precision, xla, spe, rate):
        rows.append({"case": f"DCGAN 28px b{batch_size}", "implementation": impl,
                     "precision": precision, "jit_compile": xla, "steps_per_execution": spe,
                     "steps_per_s": round(rate, 3), "images_per_s": round(rate * batch_size, 1),
                     "gflop_per_step": round(nominal / 1e9, 2),
                     "fraction_of_peak": round(nominal * rate / peak_flops[precision], 3)})
        print(rows[-1], flush=True)

    for precision in ("float32", "bfloat16"):
        policy = "float32" if precision == "float32" else "mixed_bfloat16"
        g, d = _with_policy(policy, keras_io_mnist_networks)
        add("textbook", precision, False, 1, time_textbook(textbook_dcgan_step(g, d, 128), (real,),
                                                           steps))
        for xla, spe in ((False, 1), (True, 1), (True, 8)):
            g, d = _with_policy(policy, keras_io_mnist_networks)
            model = gans.GAN(g, d, seed=0)
            model.compile(jit_compile=xla, steps_per_execution=spe)
            add("ganpaint", precision, xla, spe, time_model(model, real, steps, spe))
    return rows


def run(sizes=(128,)) -> dict:
    peaks = peak.measure()
    peak_flops = {"float32": peaks["float32_gflops"] * 1e9, "bfloat16": peaks["bfloat16_gflops"] * 1e9}
    rows = dcgan_case(peak_flops)
    for size in sizes:
        rows += cyclegan_case(size, peak_flops)
    return {"benchmark": "throughput", "peak": peaks, "rows": rows,
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__}
