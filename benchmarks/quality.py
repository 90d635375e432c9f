"""Quality at a fixed budget: ganpaint against the textbook step, same data, steps and seed.

- Digits: the demo's AC-GAN (`ganpaint demo` settings) against keras-io's conditional GAN
  (one-hot label channels, its networks and train step), both for the same number of steps
  on the bundled 5,000 MNIST digits, scored like the demo: FID on a digit classifier's
  features against 1,000 held-out digits, and how often the classifier sees the requested
  class.
- Photo -> painting: CycleGAN (ganpaint's step: LSGAN, image pool, joint generator update)
  against the TF tutorial's step (BCE, no pool, four gradient calls) on the bundled unpaired
  sample at 64 px, same U-Net and PatchGAN networks, same steps. The sample's paintings are
  the photos through a known transform (`ganpaint.data.painterly`), so each translation is
  scored by its L1 distance to the true painting of that photo.
"""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from ganpaint import data, demo, discriminators, gans, generators, recipes

import throughput

DIGIT_EPOCHS = 40  # the demo's budget: 40 x 78 = 3,120 steps at batch 64
CYCLE_STEPS = 600
CYCLE_SIZE = 64


# -- digits -----------------------------------------------------------------------------------

def keras_io_conditional_gan(num_classes=10, latent_dim=128):
    """keras-io's conditional GAN (keras.io/examples/generative/conditional_gan), with tanh
    output in [-1, 1] (the data range here) and logits out of the discriminator."""
    generator = keras.Sequential([
        keras.Input((latent_dim + num_classes,)),
        keras.layers.Dense(7 * 7 * (latent_dim + num_classes)), keras.layers.LeakyReLU(0.2),
        keras.layers.Reshape((7, 7, latent_dim + num_classes)),
        keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"), keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"), keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2D(1, 7, padding="same", activation="tanh")], name="generator")
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1 + num_classes)),
        keras.layers.Conv2D(64, 3, strides=2, padding="same"), keras.layers.LeakyReLU(0.2),
        keras.layers.Conv2D(128, 3, strides=2, padding="same"), keras.layers.LeakyReLU(0.2),
        keras.layers.GlobalMaxPooling2D(), keras.layers.Dense(1)], name="discriminator")
    return generator, discriminator


def train_keras_io_cgan(images, labels, epochs, seed, batch_size=64, latent_dim=128):
    keras.utils.set_random_seed(seed)
    generator, discriminator = keras_io_conditional_gan(latent_dim=latent_dim)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt, d_opt = keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4)

    @tf.function
    def step(real, one_hot):
        batch = tf.shape(real)[0]
        z = tf.random.normal((batch, latent_dim))
        fake = generator(tf.concat([z, one_hot], 1))
        label_maps = tf.tile(one_hot[:, None, None, :], [1, 28, 28, 1])
        combined = tf.concat([tf.concat([fake, label_maps], -1), tf.concat([real, label_maps], -1)], 0)
        targets = tf.concat([tf.ones((batch, 1)), tf.zeros((batch, 1))], 0)
        with tf.GradientTape() as tape:
            d_loss = loss_fn(targets, discriminator(combined))
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_weights))
        z = tf.random.normal((batch, latent_dim))
        with tf.GradientTape() as tape:
            fake = generator(tf.concat([z, one_hot], 1))
            g_loss = loss_fn(tf.zeros((batch, 1)),
                             discriminator(tf.concat([fake, label_maps], -1)))
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_opt.apply_gradients(zip(grads, generator.trainable_weights))
        return d_loss

    ds = tf.data.Dataset.from_tensor_slices((images, tf.one_hot(labels, 10)))
    ds = ds.shuffle(len(images), seed=seed).batch(batch_size, drop_remainder=True)
    for _ in range(epochs):
        for real, one_hot in ds:
            step(real, one_hot)

    def generate(noise_labels):
        z, y = noise_labels
        return generator(tf.concat([tf.random.normal((len(y), latent_dim), seed=seed),
                                    tf.one_hot(y, 10)], 1)).numpy()
    return generate


def digits(seed=0, epochs=DIGIT_EPOCHS):
    images, labels = demo._load_digits()
    train, held_out = slice(0, 4000), slice(4000, 5000)
    classifier = demo.digit_classifier(images[train], labels[train], seed=seed)
    fake_labels = np.repeat(np.arange(10), 100).astype("int32")
    rows = []

    start = time.perf_counter()
    setup = recipes.build("mnist_acgan", data=(images, labels), out_dir="/tmp/ganpaint_bench_q",
                          seed=seed, epochs=epochs, **demo.DEMO_OVERRIDES)
    setup.callbacks = []  # no pictures: the same work as the baseline
    setup.model.fit(setup.dataset, epochs=epochs, verbose=0, shuffle=False)
    noise = np.random.default_rng(seed).normal(size=(1000, setup.recipe.latent_dim)).astype("float32")
    fakes = setup.model.generate(noise=noise, labels=fake_labels)
    steps = epochs * (5000 // 64)
    rows.append(_digit_row("ganpaint AC-GAN (demo settings)", classifier, images[held_out],
                           fakes, fake_labels, steps, time.perf_counter() - start))

    start = time.perf_counter()
    generate = train_keras_io_cgan(images, labels, epochs, seed)
    fakes = generate((None, fake_labels))
    rows.append(_digit_row("keras-io conditional GAN", classifier, images[held_out], fakes,
                           fake_labels, steps, time.perf_counter() - start))
    return rows


def _digit_row(name, classifier, real, fakes, labels, steps, seconds):
    s = demo.scores(classifier, real, fakes, labels)
    return {"task": "digits 28px", "implementation": name, "steps": steps,
            "fid_classifier": round(s["fid"], 2), "class_accuracy": round(s["class_accuracy"], 3),
            "seconds": round(seconds, 1)}


# -- photo -> painting --------------------------------------------------------------------------

def _photos_and_paintings(size):
    photos = np.concatenate([b.numpy() for b in data.image_dataset(
        data.sample_path("photo"), image_size=size, batch_size=30, shuffle=False)])
    paintings = np.concatenate([b.numpy() for b in data.image_dataset(
        data.sample_path("monet"), image_size=size, batch_size=30, shuffle=False)])
    truth = data.painterly(data.to_uint8(photos)).astype("float32") / 127.5 - 1.0
    return photos, paintings, truth


def _small_cyclegan_networks(size):
    shape = (size, size, 3)
    keras.utils.set_random_seed(0)
    return (generators.unet_generator(shape, filters=32, max_filters=128, norm="instance",
                                      dropout=0.0, name="g"),
            generators.unet_generator(shape, filters=32, max_filters=128, norm="instance",
                                      dropout=0.0, name="f"),
            discriminators.patchgan_discriminator(shape, 16, filters=32, name="d_x"),
            discriminators.patchgan_discriminator(shape, 16, filters=32, name="d_y"))


def photo_to_painting(seed=0, steps=CYCLE_STEPS, size=CYCLE_SIZE):
    photos, paintings, truth = _photos_and_paintings(size)
    ds = data.unpaired_dataset(photos, paintings, image_size=size, batch_size=1, seed=seed,
                               repeat=True)
    rows = []

    for name, kwargs in (("ganpaint CycleGAN (paper: LSGAN, pool 50)", {}),
                         ("ganpaint CycleGAN (tutorial's objective: BCE, no pool)",
                          dict(loss="bce", pool_size=0))):
        start = time.perf_counter()
        model = gans.CycleGAN(*_small_cyclegan_networks(size), seed=seed, **kwargs)
        model.compile()
        model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
        rows.append(_cycle_row(name, model.translate(photos), truth, steps,
                               time.perf_counter() - start))

    start = time.perf_counter()
    g, f, d_x, d_y = _small_cyclegan_networks(size)
    step = throughput.textbook_cyclegan_step(g, f, d_x, d_y)
    for a, b in ds.take(steps):
        step(a, b)
    translated = np.concatenate([g(photos[i:i + 8], training=False).numpy()
                                 for i in range(0, len(photos), 8)])
    rows.append(_cycle_row("TF tutorial CycleGAN step", translated, truth, steps,
                           time.perf_counter() - start))
    identity = _cycle_row("(no model: the photo itself)", photos, truth, 0, 0.0)
    return rows + [identity]


def _cycle_row(name, translated, truth, steps, seconds):
    return {"task": f"photo->painting {CYCLE_SIZE}px", "implementation": name, "steps": steps,
            "l1_to_true_painting": round(float(np.mean(np.abs(translated - truth))), 4),
            "seconds": round(seconds, 1)}


def run() -> dict:
    rows = photo_to_painting() + digits()
    for r in rows:
        print(r, flush=True)
    return {"benchmark": "quality", "rows": rows, "tensorflow": tf.__version__,
            "cpu_count": __import__("os").cpu_count()}
