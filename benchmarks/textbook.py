"""The textbook train steps the benchmarks compare against, written the way the well-known
tutorials write them, as `tf.function`s over the same networks ganpaint trains:

- `cyclegan_step`: the TF CycleGAN tutorial (tensorflow.org/tutorials/generative/cyclegan):
  six generator and four discriminator calls under one persistent tape, four gradient calls,
  four optimizers;
- `pix2pix_step`: the TF pix2pix tutorial (tensorflow.org/tutorials/generative/pix2pix):
  two tapes, the generator once, the discriminator on the real and on the generated pair;
- `dcgan_step`: the TF DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan): two tapes,
  the generator once, the discriminator on the real and on the fake batch;
- `keras_io_gan_step`: keras-io's `GAN.train_step` (keras.io/examples/generative/
  dcgan_overriding_train_step, and conditional_gan with labels): fakes generated without a
  tape, concatenated with the real batch for one discriminator update, new noise, one
  generator update through the discriminator; with `labels` the networks take
  `[x, labels]`; with `aux_classifier` the discriminator also returns class logits, trained
  with sparse cross-entropy on both halves (the usual AC-GAN notebook step). keras-io calls
  its networks without `training=True`, which is the same thing for its networks (no batch
  norm, no dropout); here the calls pass `training=True`, so that networks with batch norm or
  dropout (the recipes') train as they must.

All in float32 unless the networks were built under a mixed policy, no XLA, Keras' Adam.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def adam(learning_rate=2e-4, beta_1=0.5):
    """The tutorials' Adam: the papers' 2e-4 and beta_1 0.5 unless a tutorial says other."""
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1)


def _apply(tape, optimizer, loss, net):
    grads = tape.gradient(loss, net.trainable_variables)
    optimizer.apply_gradients(zip(grads, net.trainable_variables))


def _discriminator_loss(real, generated):
    """The tutorials' `discriminator_loss`: BCE of real logits to 1 plus fakes' to 0."""
    return _BCE(tf.ones_like(real), real) + _BCE(tf.zeros_like(generated), generated)


def _generator_loss(generated):
    """The tutorials' `generator_loss` (non-saturating): BCE of the fakes' logits to 1."""
    return _BCE(tf.ones_like(generated), generated)


def cyclegan_step(g, f, d_x, d_y, lam=10.0):
    """The TF CycleGAN tutorial's `train_step(real_x, real_y)`."""
    opts = [adam() for _ in range(4)]

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
            total_g = _generator_loss(disc_fake_y) + total_cycle + identity_loss(real_y, same_y)
            total_f = _generator_loss(disc_fake_x) + total_cycle + identity_loss(real_x, same_x)
            d_x_loss = 0.5 * _discriminator_loss(disc_real_x, disc_fake_x)
            d_y_loss = 0.5 * _discriminator_loss(disc_real_y, disc_fake_y)
        for opt, loss, net in zip(opts, (total_g, total_f, d_x_loss, d_y_loss), (g, f, d_x, d_y)):
            _apply(tape, opt, loss, net)
        return total_g

    return step


def pix2pix_step(generator, discriminator, l1_weight=100.0):
    """The TF pix2pix tutorial's `train_step(input_image, target)`."""
    g_opt, d_opt = adam(), adam()

    @tf.function
    def step(input_image, target):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)
            disc_real_output = discriminator([input_image, target], training=True)
            disc_generated_output = discriminator([input_image, gen_output], training=True)
            l1_loss = tf.reduce_mean(tf.abs(target - gen_output))
            gen_total_loss = _generator_loss(disc_generated_output) + l1_weight * l1_loss
            disc_loss = _discriminator_loss(disc_real_output, disc_generated_output)
        _apply(gen_tape, g_opt, gen_total_loss, generator)
        _apply(disc_tape, d_opt, disc_loss, discriminator)
        return gen_total_loss

    return step


def dcgan_step(generator, discriminator, latent_dim):
    """The TF DCGAN tutorial's `train_step(images)` (Adam 1e-4 as there)."""
    g_opt, d_opt = adam(1e-4, 0.9), adam(1e-4, 0.9)

    @tf.function
    def step(images):
        noise = tf.random.normal([tf.shape(images)[0], latent_dim])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = _generator_loss(fake_output)
            disc_loss = _discriminator_loss(real_output, fake_output)
        _apply(gen_tape, g_opt, gen_loss, generator)
        _apply(disc_tape, d_opt, disc_loss, discriminator)
        return disc_loss

    return step


def keras_io_gan_step(
    generator, discriminator, latent_dim, labels=False, aux_classifier=False, learning_rate=1e-4
):
    """keras-io's `GAN.train_step`: `step(real_images)`, or `step(real_images, labels)`."""
    d_opt, g_opt = adam(learning_rate, 0.9), adam(learning_rate, 0.9)
    class_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    seed = keras.random.SeedGenerator(1337)

    def generate(z, y):
        return generator([z, tf.reshape(y, (-1, 1))] if labels else z, training=True)

    def judge(images, y):
        conditional = labels and not aux_classifier
        out = discriminator(
            [images, tf.reshape(y, (-1, 1))] if conditional else images, training=True
        )
        return out if aux_classifier else (out, None)

    @tf.function
    def step(real_images, y=None):
        batch = tf.shape(real_images)[0]
        z = keras.random.normal((batch, latent_dim), seed=seed)
        generated = generate(z, y)
        combined = tf.concat([generated, real_images], axis=0)
        both_y = None if y is None else tf.concat([y, y], axis=0)
        targets = tf.concat([tf.ones((batch, 1)), tf.zeros((batch, 1))], axis=0)
        targets += 0.05 * tf.random.uniform(tf.shape(targets))
        with tf.GradientTape() as tape:
            logits, classes = judge(combined, both_y)
            d_loss = _BCE(targets, logits)
            if aux_classifier:
                d_loss += class_loss(both_y, classes)
        _apply(tape, d_opt, d_loss, discriminator)
        z = keras.random.normal((batch, latent_dim), seed=seed)
        with tf.GradientTape() as tape:
            logits, classes = judge(generate(z, y), y)
            g_loss = _BCE(tf.zeros((batch, 1)), logits)
            if aux_classifier:
                g_loss += class_loss(y, classes)
        _apply(tape, g_opt, g_loss, generator)
        return d_loss

    return step


def keras_io_mnist_networks(latent_dim=128):
    """The 28 px networks of keras-io's MNIST GAN examples: 128-filter layers, logits out."""
    generator = keras.Sequential(
        [
            keras.Input((latent_dim,)),
            keras.layers.Dense(7 * 7 * 128),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Reshape((7, 7, 128)),
            keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(1, 7, padding="same", activation="tanh", dtype="float32"),
        ],
        name="generator",
    )
    discriminator = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(64, 3, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(128, 3, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(1, dtype="float32"),
        ],
        name="discriminator",
    )
    return generator, discriminator
