"""GAN training models driven by `model.fit`: GAN, ConditionalGAN, ACGAN, CycleGAN, Pix2Pix.

One pattern for all (keras-io's Keras 3 DCGAN):

>>> gan = GAN(generator, discriminator, loss="bce")
>>> gan.compile()                       # Adam(2e-4, beta_1=0.5) for each network
>>> gan.fit(dataset, epochs=10, callbacks=[...])
>>> images = gan.generate(16)           # float32 in [-1, 1]

Shared behaviour (`AdversarialModel`):
- separate optimizers for the generator(s) and the discriminator(s), built in `compile` so a
  checkpoint can be restored before the first step;
- losses averaged over the *global* batch under `tf.distribute` (each replica's mean divided by
  the replica count; gradients are summed by the optimizer), so one step on N replicas equals
  one step on one device with the same global batch;
- noise drawn from a seeded `keras.random.SeedGenerator`: the noise for the whole global batch
  is drawn on every replica and each takes its slice, so replicas never share noise and the
  result does not depend on the replica count;
- mixed precision: with a `mixed_float16` policy the optimizers are wrapped in
  `LossScaleOptimizer`; `mixed_bfloat16` needs no scaling. Losses are computed in float32;
- `jit_compile` and `steps_per_execution` pass through `compile`;
- the optimizers, seed state and image pools are attributes, so `model.save_weights` and
  `keras.callbacks.BackupAndRestore` keep them and training resumes exactly where it stopped.
"""
from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganpaint import distribute
from ganpaint.losses import AdversarialLoss, gradient_penalty
from ganpaint.optimizers import FusedAdam


def default_optimizer(learning_rate: float = 2e-4, beta_1: float = 0.5) -> keras.optimizers.Optimizer:
    """Adam(2e-4, beta_1=0.5): the DCGAN, pix2pix and CycleGAN papers' optimizer, as
    `ganpaint.optimizers.FusedAdam` (Keras' Adam arithmetic in one kernel per variable)."""
    return FusedAdam(learning_rate=learning_rate, beta_1=beta_1)


def _optimizer(value, name):
    if value is None:
        return default_optimizer()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return default_optimizer(float(value))
    try:
        return keras.optimizers.get(value)
    except ValueError as exc:
        raise ValueError(f"`{name}` must be a keras optimizer, its name, or a learning rate. "
                         f"Received: {name}={value!r}") from exc


def _uses_float16(models) -> bool:
    policies = [keras.config.dtype_policy()] + [m.dtype_policy for m in models]
    policies += [layer.dtype_policy for m in models for layer in m.layers]
    return any(p.compute_dtype == "float16" for p in policies)


def _input_shape(model, index=0):
    inputs = model.inputs if isinstance(model.inputs, (list, tuple)) else [model.inputs]
    return tuple(inputs[index].shape[1:])


def _output_shape(model, index=0):
    outputs = model.outputs if isinstance(model.outputs, (list, tuple)) else [model.outputs]
    return tuple(outputs[index].shape[1:])


def _check_meet(source, source_shape, target, target_shape, what):
    if source_shape != target_shape:
        raise ValueError(f"{what}: `{source.name}` outputs images of shape {source_shape} but "
                         f"`{target.name}` takes {target_shape}.")


def _has_batch_norm(model) -> bool:
    return any(isinstance(layer, keras.layers.BatchNormalization)
               or (isinstance(layer, keras.Model) and _has_batch_norm(layer))
               for layer in model.layers)


def _non_negative(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def _multi_worker(strategy) -> bool:
    extended = getattr(strategy, "extended", None)
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and bool(getattr(extended, "_in_multi_worker_mode", lambda: False)()))


def _l1(a, b):
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


def _as_pair(data, model_name, what):
    if isinstance(data, (tuple, list)) and len(data) >= 2:
        return data[0], data[1]
    raise ValueError(f"{model_name} trains on a dataset of ({what}) pairs. Received an element "
                     f"of type {type(data).__name__}.")


def _images_of(data):
    """The images of a dataset element: a batch, or the first item of (images, labels)."""
    return data[0] if isinstance(data, (tuple, list)) else data


class ImagePool(keras.layers.Layer):
    """The image history buffer of Shrivastava et al., as CycleGAN uses it (pool_size 50).

    `query(fakes)` returns a batch for the discriminator: while the pool fills, the new fakes
    themselves; once full, each fake is, with probability 1/2, swapped for a random stored one
    (which is returned) or passed through. Queries are vectorized per batch; swap slots within
    a batch are distinct. Each replica keeps its own pool under `tf.distribute`. The pool is
    part of the model's weights, so a checkpoint keeps it.

    Args:
        pool_size: int. Number of images kept; 0 turns the pool off.
    """

    def __init__(self, pool_size: int = 50, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_size, int) or pool_size < 0:
            raise ValueError(f"`pool_size` must be an int >= 0. Received: pool_size={pool_size!r}")
        self.pool_size = pool_size

    def build(self, image_shape):
        if self.pool_size:
            shape = (self.pool_size, *image_shape[1:])
            sync = dict(trainable=False, synchronization="on_read",
                        aggregation="only_first_replica")
            self.images = keras.Variable(np.zeros(shape, "float32"), name="images", **sync)
            self.count = keras.Variable(np.int32(0), dtype="int32", name="count", **sync)

    def query(self, fakes, seed):
        fakes = ops.stop_gradient(ops.cast(fakes, "float32"))
        if not self.pool_size:
            return fakes
        batch = fakes.shape[0]
        if batch is not None and batch > self.pool_size:
            raise ValueError(f"The image pool holds {self.pool_size} images but the per-replica "
                             f"batch is {batch}. Raise `pool_size` or set it to 0.")
        n = tf.shape(fakes)[0]
        pool, count = tf.convert_to_tensor(self.images.value), tf.convert_to_tensor(self.count.value)
        seed_draw, seed_perm = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        fill_slot = count + tf.range(n)
        filling = fill_slot < self.pool_size
        swapping = tf.logical_and(tf.logical_not(filling),
                                  tf.random.stateless_uniform([n], seed_draw) < 0.5)
        distinct = tf.argsort(tf.random.stateless_uniform([self.pool_size], seed_perm))[:n]
        slot = tf.where(filling, fill_slot, tf.cast(distinct, tf.int32))

        slot_hot = tf.one_hot(slot, self.pool_size)
        fill_hot = slot_hot * tf.cast(filling, tf.float32)[:, None]
        swap_hot = slot_hot * tf.cast(swapping, tf.float32)[:, None]

        def write(pool, hot):  # put each marked fake into its slot
            keep = 1.0 - tf.reduce_sum(hot, axis=0)
            keep = tf.reshape(keep, [-1] + [1] * (len(pool.shape) - 1))
            return pool * keep + tf.tensordot(tf.transpose(hot), fakes, axes=1)

        pool = write(pool, fill_hot)
        returned = tf.tensordot(swap_hot, pool, axes=1)  # read before the swap overwrites
        pool = write(pool, swap_hot)
        self.images.assign(pool)
        self.count.assign(tf.minimum(count + n, self.pool_size))
        mask = tf.reshape(swapping, [-1] + [1] * (len(fakes.shape) - 1))
        return tf.where(mask, returned, fakes)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


class AdversarialModel(keras.Model):
    """Base of the ganpaint models: optimizers, loss averaging, seeds, trackers and saving.

    Subclasses set `_networks` (attribute names of the networks, for `get_config`),
    `_metric_names`, and implement `train_step`, `generator_variables` and
    `discriminator_variables`.
    """

    _networks: tuple[str, ...] = ()
    _metric_names: tuple[str, ...] = ()

    def __init__(self, *, loss: str = "bce", label_smoothing=None, gp_weight: float = 10.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.adversarial = AdversarialLoss(loss, label_smoothing)
        self.gp_weight = _non_negative(gp_weight, "gp_weight")
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.trackers = [self._make_tracker(n) for n in self._metric_names
                         if n != "gradient_penalty" or loss == "wgan-gp"]
        self.g_optimizer = self.d_optimizer = None
        self.gradient_norms = None

    # -- compile --------------------------------------------------------------------------

    def compile(self, g_optimizer=None, d_optimizer=None, *, jit_compile="auto",
                steps_per_execution: int = 1, run_eagerly: bool = False, **kwargs):
        """Set the optimizers and how the step runs.

        Args:
            g_optimizer, d_optimizer: keras optimizers, their names, or a learning rate (for
                Adam with beta_1 0.5). Default to `default_optimizer()`: Adam(2e-4, beta_1=0.5).
                CycleGAN's generator optimizer updates both generators, its discriminator
                optimizer both discriminators (Adam's state is per weight, so this equals one
                optimizer per network).
            jit_compile: bool or "auto". XLA-compile the step ("auto": on GPU/TPU).
            steps_per_execution: int. Steps per call of the compiled function.
            run_eagerly: bool. Debug the step eagerly.
        """
        if kwargs:
            raise ValueError(f"{type(self).__name__}.compile() got unexpected arguments "
                             f"{sorted(kwargs)}. It takes g_optimizer, d_optimizer, jit_compile, "
                             "steps_per_execution and run_eagerly; losses are set in the "
                             "constructor.")
        g_opt, d_opt = _optimizer(g_optimizer, "g_optimizer"), _optimizer(d_optimizer, "d_optimizer")
        if g_opt is d_opt:
            raise ValueError("`g_optimizer` and `d_optimizer` must be two optimizer objects: one "
                             "optimizer cannot hold the state of both players.")
        # Kept out of Keras' attribute tracking, so checkpoints hold each optimizer once.
        object.__setattr__(self, "_compile_args", dict(
            jit_compile=jit_compile, steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly))
        object.__setattr__(self, "_user_optimizers", (g_opt, d_opt))
        if _uses_float16([getattr(self, n) for n in self._networks]):
            g_opt = keras.optimizers.LossScaleOptimizer(g_opt, name="g_loss_scale_optimizer")
            d_opt = keras.optimizers.LossScaleOptimizer(d_opt, name="d_loss_scale_optimizer")
        super().compile(optimizer=None, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, run_eagerly=run_eagerly)
        self.g_optimizer, self.d_optimizer = g_opt, d_opt
        with self.distribute_strategy.scope():
            g_opt.build(self.generator_variables)
            d_opt.build(self.discriminator_variables)

    def get_compile_config(self):
        if getattr(self, "_compile_args", None) is None:
            return None
        args = dict(self._compile_args)
        g_opt, d_opt = self._user_optimizers
        args["g_optimizer"] = keras.optimizers.serialize(g_opt)
        args["d_optimizer"] = keras.optimizers.serialize(d_opt)
        return args

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("g_optimizer", "d_optimizer"):
            if isinstance(config.get(key), dict):
                config[key] = keras.optimizers.deserialize(config[key])
        self.compile(**config)

    @property
    def metrics(self):
        return list(self.trackers)

    def _make_tracker(self, name):
        return keras.metrics.Mean(name=name)

    @property
    def generator_variables(self) -> list:
        raise NotImplementedError

    @property
    def discriminator_variables(self) -> list:
        raise NotImplementedError

    # -- helpers for train steps ----------------------------------------------------------

    def _apply(self, optimizer, tape, loss, variables):
        """Apply the gradient of a per-replica mean loss, as a share of the global mean."""
        with tape:  # the scaling must be on the tape
            scaled = optimizer.scale_loss(loss / distribute.num_replicas())
        grads = tape.gradient(scaled, variables)
        role = "generator" if optimizer is self.g_optimizer else "discriminator"
        if self.gradient_norms is not None:
            self._record_norms(self.gradient_norms[role], optimizer, grads)
        optimizer.apply_gradients(zip(grads, variables))
        return grads

    def track_gradient_norms(self):
        """Record the gradient norm of every trainable variable at each update (what
        `ganpaint.callbacks.GradientNorms` reads), in `self.gradient_norms`:
        {"generator": Variable[n], "discriminator": Variable[m]} in the order of
        `generator_variables` / `discriminator_variables`. Norms are per replica, of the
        unscaled loss. The next `fit` retraces its step to include this."""
        if self.gradient_norms is None:
            with self.distribute_strategy.scope():
                norms = {
                    role: keras.Variable(np.zeros(len(variables), "float32"), trainable=False,
                                         aggregation="only_first_replica",
                                         name=f"{role}_gradient_norms")
                    for role, variables in (("generator", self.generator_variables),
                                            ("discriminator", self.discriminator_variables))}
            # Not through Keras' attribute tracking: monitoring state stays out of checkpoints.
            object.__setattr__(self, "gradient_norms", norms)
            self.train_function = None

    def _record_norms(self, store, optimizer, grads):
        norms = tf.stack([tf.norm(tf.cast(g, tf.float32)) if g is not None else tf.constant(0.0)
                          for g in grads])
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            norms = norms / tf.cast(optimizer.dynamic_scale, tf.float32)
        store.assign(norms * distribute.num_replicas())

    def _noise(self, batch, dim):
        """Normal noise [batch, dim] for this replica: its slice of one global draw."""
        replicas = distribute.num_replicas()
        z = tf.random.stateless_normal([batch * replicas, dim], self.seed_generator.next())
        if replicas == 1:
            return z
        return tf.slice(z, [distribute.replica_id() * batch, 0], [batch, dim])

    def _replica_seed(self):
        """A fresh stateless seed, different on each replica (soft labels, penalty mixing)."""
        seed = self.seed_generator.next()
        if distribute.num_replicas() == 1:
            return seed
        return tf.random.experimental.stateless_fold_in(seed, distribute.replica_id())

    def _discriminator_loss(self, real_logits, fake_logits, critic=None, real=None, fake=None):
        """The adversarial discriminator loss, plus the gradient penalty for `wgan-gp`.

        Returns (total, adversarial, penalty or None).
        """
        seed = self._replica_seed() if self.adversarial.needs_seed else None
        loss = self.adversarial.discriminator(real_logits, fake_logits, seed=seed,
                                              batch_mean=distribute.global_batch_mean)
        if self.adversarial.name != "wgan-gp" or critic is None:
            return loss, loss, None
        penalty = gradient_penalty(critic, real, fake, seed=self._replica_seed())
        return loss + self.gp_weight * penalty, loss, penalty

    def _generator_loss(self, real_logits, fake_logits):
        return self.adversarial.generator(real_logits, fake_logits,
                                          batch_mean=distribute.global_batch_mean)

    def _report(self, **values):
        for tracker in self.trackers:
            if tracker.name in values and values[tracker.name] is not None:
                tracker.update_state(values[tracker.name])
        results = {t.name: t.result() for t in self.trackers}
        if _multi_worker(self.distribute_strategy):
            # Keras 3 reduces a step's outputs across workers with `reduce(MEAN, axis=0)`,
            # which fails on scalars (tensorflow/tensorflow#72388); a [1] vector reduces to one.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    # -- saving ---------------------------------------------------------------------------

    _SEED_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        # Keras saves no SeedGenerator state; without it a resumed run would draw new noise.
        super().save_own_variables(store)
        store[self._SEED_KEY] = np.asarray(self.seed_generator.state.numpy())

    def load_own_variables(self, store):
        keys = list(store.keys())
        if self._SEED_KEY in keys:
            self.seed_generator.state.assign(np.asarray(store[self._SEED_KEY]))
        super().load_own_variables({k: store[k] for k in keys if k != self._SEED_KEY})

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for key in self._networks:
            config[key] = keras.saving.serialize_keras_object(getattr(self, key))
        config.update(loss=self.adversarial.name, label_smoothing=self.adversarial.label_smoothing,
                      gp_weight=self.gp_weight, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls._networks:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        if isinstance(config.get("label_smoothing"), list):
            config["label_smoothing"] = tuple(tuple(r) for r in config["label_smoothing"])
        return cls(**config)

    def _run_in_batches(self, fn, inputs: Sequence, batch_size: int):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int. Received: batch_size={batch_size!r}")
        n = len(inputs[0])
        out = [np.asarray(fn(*[tf.convert_to_tensor(x[i:i + batch_size]) for x in inputs]))
               for i in range(0, n, batch_size)]
        return np.concatenate(out) if out else np.zeros((0,), "float32")


class _OneGenerator(AdversarialModel):
    """A model with one `generator` and one `discriminator` (GAN family, Pix2Pix)."""

    _networks = ("generator", "discriminator")

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)


@keras.saving.register_keras_serializable(package="ganpaint")
class GAN(_OneGenerator):
    """An unconditional GAN (DCGAN and friends) with any loss of `ganpaint.losses`.

    Each step: `d_steps` discriminator updates (the last one on the fakes the generator step
    then reuses, as the PyTorch DCGAN example does), then one generator update, judged by the
    updated discriminator. With `simultaneous=True` both networks' gradients are instead
    taken at the current weights from one generator pass and one discriminator pass, as the
    TF DCGAN and pix2pix tutorials do (one discriminator pass fewer per step). A
    discriminator without batch norm judges real and fake images in one call (`fuse_critic`);
    with batch norm they stay separate batches, as DCGAN prescribes.

    Args:
        generator: keras.Model mapping noise `[B, latent_dim]` to images.
        discriminator: keras.Model mapping images to logits (any shape: vector or patch map).
        latent_dim: int. Noise size. Defaults to the generator's input size.
        loss: "bce" (non-saturating, default), "minimax", "lsgan", "hinge", "wgan-gp",
            "rsgan", "rasgan" or "ralsgan".
        d_steps: int. Discriminator updates per generator update (5 for WGAN-GP).
        simultaneous: bool. Update both networks from gradients at the same weights (needs
            `d_steps=1`). Defaults to False: the generator sees the updated discriminator.
        label_smoothing: None, a float (real target 1 - s) or ranges ((0.7, 1.2), (0.0, 0.3)).
        gp_weight: float. Gradient-penalty weight for "wgan-gp". Defaults to 10.
        seed: int. Seed of the noise. Defaults to a random one.

    Example:
    >>> gan = GAN(dcgan_generator(64, (28, 28, 1)), dcgan_discriminator((28, 28, 1)), seed=0)
    >>> gan.compile()
    >>> gan.fit(image_dataset(data, image_size=28, batch_size=64), epochs=5)
    """

    _metric_names = ("d_loss", "g_loss", "gradient_penalty")

    def __init__(self, generator: keras.Model, discriminator: keras.Model,
                 latent_dim: int | None = None, *, loss: str = "bce", d_steps: int = 1,
                 simultaneous: bool = False, label_smoothing=None, gp_weight: float = 10.0,
                 seed: int | None = None, **kwargs):
        self._check_networks(generator, discriminator, latent_dim)
        super().__init__(loss=loss, label_smoothing=label_smoothing, gp_weight=gp_weight,
                         seed=seed, **kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(latent_dim or _input_shape(generator)[0])
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"`d_steps` must be an int >= 1. Received: d_steps={d_steps!r}")
        self.d_steps = d_steps
        if not isinstance(simultaneous, bool) or (simultaneous and d_steps != 1):
            raise ValueError(f"`simultaneous` must be a bool, and True only with d_steps=1. "
                             f"Received: simultaneous={simultaneous!r}, d_steps={d_steps!r}")
        self.simultaneous = simultaneous
        self.fuse_critic = not _has_batch_norm(discriminator)
        self.built = True

    def _check_networks(self, generator, discriminator, latent_dim):
        for net, name in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(net, keras.Model):
                raise ValueError(f"`{name}` must be a keras.Model. Received: {name}={net!r}")
        noise_shape = _input_shape(generator)
        if len(noise_shape) != 1 or (latent_dim is not None and noise_shape[0] != latent_dim):
            raise ValueError(f"The generator's noise input has shape {noise_shape}; expected "
                             f"({latent_dim or 'latent_dim'},). Received: latent_dim={latent_dim!r}")
        _check_meet(generator, _output_shape(generator), discriminator, _input_shape(discriminator),
                    "generator output vs discriminator input")

    # Hooks the conditional models override.
    def _split(self, data):
        return _images_of(data), None

    def _generate(self, noise, labels, training=True):
        return self.generator(noise, training=training)

    def _critic(self, images, labels, training=True):
        """(adversarial logits, class logits or None)."""
        return self.discriminator(images, training=training), None

    def _class_loss(self, class_logits, labels):
        return None

    def _critic_both(self, real, fake, labels):
        """The critic on real and on fake images. Without batch norm in the discriminator,
        each example's logit depends on that example only, so one call on the concatenated
        batch gives the same logits as two calls, with bigger, faster kernels."""
        if not self.fuse_critic:
            return self._critic(real, labels), self._critic(fake, labels)
        n = tf.shape(real)[0]
        both_labels = None if labels is None else tf.concat([labels, labels], axis=0)
        logits, classes = self._critic(tf.concat([real, fake], axis=0), both_labels)
        split = lambda x: (None, None) if x is None else (x[:n], x[n:])  # noqa: E731
        (real_logits, fake_logits), (real_classes, fake_classes) = split(logits), split(classes)
        return (real_logits, real_classes), (fake_logits, fake_classes)

    def _discriminator_total(self, real_logits, fake_logits, real_classes, fake_classes,
                             labels, critic, real, fake):
        """The discriminator's loss (adversarial + penalty + class terms), its adversarial
        part, the penalty, and the class loss on real images (or None)."""
        d_loss, d_adv, penalty = self._discriminator_loss(real_logits, fake_logits, critic,
                                                          real, fake)
        real_class_loss = self._class_loss(real_classes, labels)
        if real_class_loss is not None:
            d_loss += self.class_weight * (real_class_loss
                                           + self._class_loss(fake_classes, labels))
        return d_loss, d_adv, penalty, real_class_loss

    def _generator_total(self, real_logits, fake_logits, fake_classes, labels):
        g_loss = self._generator_loss(real_logits, fake_logits)
        fake_class_loss = self._class_loss(fake_classes, labels)
        if fake_class_loss is not None:
            g_loss += self.class_weight * fake_class_loss
        return g_loss

    def train_step(self, data):
        real, labels = self._split(data)
        batch = tf.shape(real)[0]
        critic = lambda x: self._critic(x, labels)[0]  # noqa: E731 (the penalty's critic)
        if self.simultaneous:
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = self._generate(self._noise(batch, self.latent_dim), labels)
                (real_logits, real_classes), (fake_logits, fake_classes) = \
                    self._critic_both(real, fake, labels)
                d_loss, d_adv, penalty, real_class_loss = self._discriminator_total(
                    real_logits, fake_logits, real_classes, fake_classes, labels, critic, real,
                    ops.stop_gradient(fake))
                g_loss = self._generator_total(real_logits, fake_logits, fake_classes, labels)
            self._apply(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
        else:
            for step in range(self.d_steps):
                noise = self._noise(batch, self.latent_dim)
                if step == self.d_steps - 1:  # the generator update reuses these fakes
                    with tf.GradientTape() as g_tape:
                        fake = self._generate(noise, labels)
                else:
                    fake = self._generate(noise, labels)
                detached = ops.stop_gradient(fake)
                with tf.GradientTape() as d_tape:
                    (real_logits, real_classes), (fake_logits, fake_classes) = \
                        self._critic_both(real, detached, labels)
                    d_loss, d_adv, penalty, real_class_loss = self._discriminator_total(
                        real_logits, fake_logits, real_classes, fake_classes, labels, critic,
                        real, detached)
                self._apply(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
            with g_tape:  # judged by the updated discriminator
                fake_logits, fake_classes = self._critic(fake, labels)
                real_logits = (self._critic(real, labels)[0]
                               if self.adversarial.needs_real_for_generator else None)
                g_loss = self._generator_total(real_logits, fake_logits, fake_classes, labels)
        self._apply(self.g_optimizer, g_tape, g_loss, self.generator_variables)
        return self._report(d_loss=d_adv, g_loss=g_loss, gradient_penalty=penalty,
                            **self._class_report(real_classes, labels, real_class_loss))

    def _class_report(self, real_classes, labels, class_loss):
        return {}

    def generate(self, n: int | None = None, noise=None, labels=None,
                 batch_size: int = 256) -> np.ndarray:
        """Generate images (float32 in [-1, 1]) in batches, for any number of images.

        Args:
            n: int. Number of images, with fresh noise (a stream seeded by `seed`, apart from the
                training noise).
            noise: array [N, latent_dim]. Use this noise instead (e.g. fixed noise for grids).
            labels: int array [N] (conditional models): the class of each image.
            batch_size: int. Images per generator call.
        """
        if noise is None:
            if not isinstance(n, int) or n < 1:
                raise ValueError(f"Give `n` (a positive int) or `noise`. Received: n={n!r}")
            # Its own stream: sampling during training (callbacks) leaves the training noise,
            # and so a resumed run, unchanged.
            if getattr(self, "_sampling_rng", None) is None:
                object.__setattr__(self, "_sampling_rng", np.random.default_rng(self.seed))
            noise = self._sampling_rng.standard_normal((n, self.latent_dim), dtype=np.float32)
        noise = np.asarray(noise, "float32")
        if noise.ndim != 2 or noise.shape[1] != self.latent_dim:
            raise ValueError(f"`noise` must have shape [N, {self.latent_dim}]. "
                             f"Received: shape {noise.shape}")
        labels = self._check_labels(labels, len(noise))
        if labels is None:
            return self._run_in_batches(lambda z: self._generate(z, None, training=False),
                                        [noise], batch_size)
        return self._run_in_batches(lambda z, y: self._generate(z, y, training=False),
                                    [noise, labels], batch_size)

    def _check_labels(self, labels, n):
        if labels is not None:
            raise ValueError(f"{type(self).__name__} is unconditional; `labels` must be None.")
        return None

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "d_steps": self.d_steps,
                "simultaneous": self.simultaneous}


def _labels_column(labels):
    return ops.reshape(ops.cast(labels, "int32"), (-1, 1))


class _LabelledGAN(GAN):
    """A GAN whose dataset yields (images, labels) and whose generator takes [noise, labels]."""

    def _check_networks(self, generator, discriminator, latent_dim):
        inputs = generator.inputs if isinstance(generator.inputs, list) else [generator.inputs]
        if len(inputs) != 2:
            raise ValueError(f"{type(self).__name__} needs a generator taking [noise, labels] "
                             f"(e.g. dcgan_generator(num_classes=...)); `{generator.name}` has "
                             f"{len(inputs)} input(s).")
        _check_meet(generator, _output_shape(generator), discriminator, _input_shape(discriminator),
                    "generator output vs discriminator input")

    def _split(self, data):
        images, labels = _as_pair(data, type(self).__name__, "images, labels")
        return images, _labels_column(labels)

    def _generate(self, noise, labels, training=True):
        return self.generator([noise, _labels_column(labels)], training=training)

    @property
    def num_classes(self) -> int:
        """The number of classes: the size of the generator's label embedding."""
        for layer in self.generator.layers:
            if isinstance(layer, keras.layers.Embedding):
                return layer.input_dim
        raise ValueError(f"`{self.generator.name}` has no label Embedding to read the number of "
                         "classes from.")

    def _check_labels(self, labels, n):
        if labels is None:
            raise ValueError(f"{type(self).__name__}.generate needs `labels`, one per image.")
        labels = np.asarray(labels).reshape(-1).astype("int32")
        if len(labels) == 1:
            labels = np.repeat(labels, n)
        if len(labels) != n:
            raise ValueError(f"`labels` has {len(labels)} entries for {n} images.")
        return labels

    def generate(self, n=None, noise=None, labels=None, batch_size=256):
        if n is None and noise is None and labels is not None:
            n = len(np.asarray(labels).reshape(-1))
        return super().generate(n, noise, labels, batch_size)


@keras.saving.register_keras_serializable(package="ganpaint")
class ConditionalGAN(_LabelledGAN):
    """A label-conditioned GAN (Mirza & Osindero): both networks see the label.

    The dataset yields (images, labels); the generator takes [noise, labels] and the
    discriminator [images, labels] (`dcgan_generator(num_classes=...)`,
    `dcgan_discriminator(num_classes=...)`). Fakes are generated for the batch's own labels.
    Arguments as `GAN`.
    """

    def _check_networks(self, generator, discriminator, latent_dim):
        super()._check_networks(generator, discriminator, latent_dim)
        inputs = discriminator.inputs if isinstance(discriminator.inputs, list) else [discriminator.inputs]
        if len(inputs) != 2:
            raise ValueError("ConditionalGAN needs a discriminator taking [images, labels] (e.g. "
                             f"dcgan_discriminator(num_classes=...)); `{discriminator.name}` has "
                             f"{len(inputs)} input(s).")

    def _critic(self, images, labels, training=True):
        return self.discriminator([images, labels], training=training), None


@keras.saving.register_keras_serializable(package="ganpaint")
class ACGAN(_LabelledGAN):
    """The auxiliary-classifier GAN (Odena et al.): the discriminator also classifies.

    The discriminator takes images and returns `[logit, class_logits]`
    (`dcgan_discriminator(num_classes=..., aux_classifier=True)`). Both players add
    `class_weight` times the sparse cross-entropy of the class head: the discriminator on real
    and fake images, the generator on its fakes. `d_class_accuracy` is the head's accuracy on
    the real images. Other arguments as `GAN`.
    """

    _metric_names = ("d_loss", "g_loss", "d_class_loss", "d_class_accuracy")

    def __init__(self, generator, discriminator, latent_dim=None, *, class_weight: float = 1.0,
                 **kwargs):
        outputs = discriminator.outputs if isinstance(discriminator.outputs, list) else [discriminator.outputs]
        if len(outputs) != 2:
            raise ValueError("ACGAN needs a discriminator returning [logit, class_logits] (e.g. "
                             "dcgan_discriminator(num_classes=..., aux_classifier=True)); "
                             f"`{discriminator.name}` has {len(outputs)} output(s).")
        super().__init__(generator, discriminator, latent_dim, **kwargs)
        self.class_weight = _non_negative(class_weight, "class_weight")

    def _make_tracker(self, name):
        if name == "d_class_accuracy":
            return keras.metrics.SparseCategoricalAccuracy(name=name)
        return super()._make_tracker(name)

    def _critic(self, images, labels, training=True):
        logit, classes = self.discriminator(images, training=training)
        return logit, classes

    def _class_loss(self, class_logits, labels):
        return ops.mean(keras.losses.sparse_categorical_crossentropy(
            ops.reshape(labels, (-1,)), ops.cast(class_logits, "float32"), from_logits=True))

    def _class_report(self, real_classes, labels, class_loss):
        accuracy = next(t for t in self.trackers if t.name == "d_class_accuracy")
        accuracy.update_state(ops.reshape(labels, (-1,)), real_classes)
        return {"d_class_loss": class_loss}

    def get_config(self):
        return {**super().get_config(), "class_weight": self.class_weight}


@keras.saving.register_keras_serializable(package="ganpaint")
class CycleGAN(AdversarialModel):
    """CycleGAN (Zhu et al. 2017): two generators, two discriminators, unpaired domains.

    Generator loss: adversarial(D_B(G_AB(a))) + adversarial(D_A(G_BA(b)))
    + cycle_weight * (|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|)
    + cycle_weight * identity_weight * (|G_BA(a) - a| + |G_AB(b) - b|),
    minimised over *both* generators together, so each cycle loss trains both generators.
    Each discriminator minimises half its adversarial loss on real images and on fakes drawn
    from an image pool of `pool_size`, as the reference code does.

    Args:
        g_ab, g_ba: generators A->B and B->A (e.g. `resnet_generator`, `unet_generator`).
        d_a, d_b: discriminators of domains A and B (e.g. `patchgan_discriminator`).
        cycle_weight: float. Lambda of the cycle losses. Defaults to 10.
        identity_weight: float. Identity loss weight relative to `cycle_weight` (0.5 as the
            paper's photo->painting runs; 0 turns it off).
        loss: adversarial loss; "lsgan" by default, as the paper.
        pool_size: int. Image history per discriminator. Defaults to 50; 0 turns it off.
        seed: int. Seed of the pool's draws.

    The dataset yields (a, b) batches (`ganpaint.data.unpaired_dataset`).
    """

    _networks = ("g_ab", "g_ba", "d_a", "d_b")
    _metric_names = ("g_loss", "g_ab_loss", "g_ba_loss", "cycle_loss", "identity_loss",
                     "d_a_loss", "d_b_loss")

    def __init__(self, g_ab: keras.Model, g_ba: keras.Model, d_a: keras.Model, d_b: keras.Model,
                 *, cycle_weight: float = 10.0, identity_weight: float = 0.5,
                 loss: str = "lsgan", pool_size: int = 50, label_smoothing=None,
                 gp_weight: float = 10.0, seed: int | None = None, **kwargs):
        super().__init__(loss=loss, label_smoothing=label_smoothing, gp_weight=gp_weight,
                         seed=seed, **kwargs)
        shape_a, shape_b = _input_shape(g_ab), _input_shape(g_ba)
        _check_meet(g_ab, _output_shape(g_ab), d_b, _input_shape(d_b), "G_AB output vs D_B input")
        _check_meet(g_ba, _output_shape(g_ba), d_a, _input_shape(d_a), "G_BA output vs D_A input")
        _check_meet(g_ab, _output_shape(g_ab), g_ba, shape_b, "G_AB output vs G_BA input")
        _check_meet(g_ba, _output_shape(g_ba), g_ab, shape_a, "G_BA output vs G_AB input")
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.cycle_weight = _non_negative(cycle_weight, "cycle_weight")
        self.identity_weight = _non_negative(identity_weight, "identity_weight")
        self.pool_size = pool_size
        self.pool_a = ImagePool(pool_size, name="pool_a")
        self.pool_b = ImagePool(pool_size, name="pool_b")
        self.pool_a.build((None, *shape_a))
        self.pool_b.build((None, *shape_b))
        self.fuse_calls = not any(_has_batch_norm(n) for n in (g_ab, g_ba, d_a, d_b))
        self.built = True

    @property
    def generator_variables(self):
        return self.g_ab.trainable_variables + self.g_ba.trainable_variables

    @property
    def discriminator_variables(self):
        return self.d_a.trainable_variables + self.d_b.trainable_variables

    def call(self, inputs, training=False):
        return self.g_ab(inputs, training=training)

    def _calls(self, net, inputs: list, training) -> list:
        """`net` on each input; in one call on the concatenated batch when no network has
        batch norm (each example's output then depends on that example only)."""
        if len(inputs) == 1 or not self.fuse_calls:
            return [net(x, training=training) for x in inputs]
        outputs = net(tf.concat(inputs, axis=0), training=training)
        return tf.split(outputs, [tf.shape(x)[0] for x in inputs], axis=0)

    def generator_losses(self, real_a, real_b, training: bool = True) -> dict:
        """Every term of the generators' objective, and the fakes the discriminators judge.

        Returns a dict with `g_ab_loss`, `g_ba_loss` (adversarial), `cycle_a_loss`
        (|G_BA(G_AB(a)) - a|), `cycle_b_loss`, `identity_loss` (None when off), `g_loss` (the
        weighted total both generators minimise), and `fake_a`, `fake_b`.
        """
        needs_real = self.adversarial.needs_real_for_generator
        identity = bool(self.identity_weight)
        # Calls that do not depend on each other go through each network together.
        fake_b, *same_b = self._calls(self.g_ab, [real_a] + [real_b] * identity, training)
        fake_a, *same_a = self._calls(self.g_ba, [real_b] + [real_a] * identity, training)
        cycle_a_loss = _l1(self.g_ba(fake_b, training=training), real_a)
        cycle_b_loss = _l1(self.g_ab(fake_a, training=training), real_b)
        *real_b_logits, fake_b_logits = self._calls(self.d_b, [real_b] * needs_real + [fake_b],
                                                    training)
        *real_a_logits, fake_a_logits = self._calls(self.d_a, [real_a] * needs_real + [fake_a],
                                                    training)
        g_ab_loss = self._generator_loss((real_b_logits or [None])[0], fake_b_logits)
        g_ba_loss = self._generator_loss((real_a_logits or [None])[0], fake_a_logits)
        g_loss = g_ab_loss + g_ba_loss + self.cycle_weight * (cycle_a_loss + cycle_b_loss)
        identity_loss = None
        if identity:
            identity_loss = _l1(same_a[0], real_a) + _l1(same_b[0], real_b)
            g_loss += self.cycle_weight * self.identity_weight * identity_loss
        return dict(g_ab_loss=g_ab_loss, g_ba_loss=g_ba_loss, cycle_a_loss=cycle_a_loss,
                    cycle_b_loss=cycle_b_loss, identity_loss=identity_loss, g_loss=g_loss,
                    fake_a=fake_a, fake_b=fake_b)

    def train_step(self, data):
        real_a, real_b = _as_pair(data, "CycleGAN", "domain A, domain B")
        with tf.GradientTape() as g_tape:
            terms = self.generator_losses(real_a, real_b)
            g_loss = terms["g_loss"]
        fake_a, fake_b = terms["fake_a"], terms["fake_b"]
        self._apply(self.g_optimizer, g_tape, g_loss, self.generator_variables)

        pool_seed_a, pool_seed_b = tf.unstack(
            tf.random.experimental.stateless_split(self._replica_seed(), 2))
        pooled_b = self.pool_b.query(fake_b, pool_seed_b)
        pooled_a = self.pool_a.query(fake_a, pool_seed_a)
        with tf.GradientTape() as d_tape:
            d_a_loss = 0.5 * self._discriminator_loss(
                *self._calls(self.d_a, [real_a, pooled_a], True),
                lambda x: self.d_a(x, training=True), real_a, pooled_a)[0]
            d_b_loss = 0.5 * self._discriminator_loss(
                *self._calls(self.d_b, [real_b, pooled_b], True),
                lambda x: self.d_b(x, training=True), real_b, pooled_b)[0]
            d_loss = d_a_loss + d_b_loss
        self._apply(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
        return self._report(g_loss=g_loss, g_ab_loss=terms["g_ab_loss"],
                            g_ba_loss=terms["g_ba_loss"],
                            cycle_loss=terms["cycle_a_loss"] + terms["cycle_b_loss"],
                            identity_loss=terms["identity_loss"], d_a_loss=d_a_loss,
                            d_b_loss=d_b_loss)

    def translate(self, images, direction: str = "AtoB", batch_size: int = 8) -> np.ndarray:
        """Translate images in [-1, 1] with G_AB ("AtoB") or G_BA ("BtoA"), in batches."""
        if direction not in ("AtoB", "BtoA"):
            raise ValueError(f"`direction` must be 'AtoB' or 'BtoA'. Received: direction={direction!r}")
        net = self.g_ab if direction == "AtoB" else self.g_ba
        return _translate(net, images, batch_size, self._run_in_batches)

    def get_config(self):
        return {**super().get_config(), "cycle_weight": self.cycle_weight,
                "identity_weight": self.identity_weight, "pool_size": self.pool_size}


def _translate(net, images, batch_size, run):
    images = np.asarray(images, "float32")
    expected = _input_shape(net)
    if images.ndim == len(expected):
        images = images[None]
    if tuple(images.shape[1:]) != expected:
        raise ValueError(f"`images` must have shape [N, {', '.join(map(str, expected))}] for "
                         f"`{net.name}`. Received: shape {images.shape}")
    return run(lambda x: net(x, training=False), [images], batch_size)


@keras.saving.register_keras_serializable(package="ganpaint")
class Pix2Pix(_OneGenerator):
    """pix2pix (Isola et al. 2017): a conditional GAN on paired images with an L1 term.

    Generator loss: adversarial(D([x, G(x)])) + l1_weight * |G(x) - y|. The discriminator, a
    conditional PatchGAN taking [input, target], minimises half its loss on (x, y) and
    (x, G(x)), as the paper does. The generator pass is shared by both updates, which both use
    the discriminator from before the step (the TF tutorial's two-tape step).

    Args:
        generator: image-to-image model (e.g. `unet_generator`).
        discriminator: `patchgan_discriminator(..., conditional=True)`.
        l1_weight: float. Lambda of the L1 term. Defaults to 100.
        loss: adversarial loss; "bce" by default, as the paper.

    The dataset yields (input, target) batches (`ganpaint.data.paired_dataset`).
    """

    _metric_names = ("g_loss", "g_gan_loss", "g_l1_loss", "d_loss")

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *,
                 l1_weight: float = 100.0, loss: str = "bce", label_smoothing=None,
                 gp_weight: float = 10.0, seed: int | None = None, **kwargs):
        super().__init__(loss=loss, label_smoothing=label_smoothing, gp_weight=gp_weight,
                         seed=seed, **kwargs)
        inputs = discriminator.inputs if isinstance(discriminator.inputs, list) else [discriminator.inputs]
        if len(inputs) != 2:
            raise ValueError("Pix2Pix needs a conditional discriminator taking [input, target] "
                             "(patchgan_discriminator(..., conditional=True)); "
                             f"`{discriminator.name}` has {len(inputs)} input(s).")
        _check_meet(generator, _input_shape(generator), discriminator, _input_shape(discriminator, 0),
                    "generator input vs discriminator input")
        _check_meet(generator, _output_shape(generator), discriminator, _input_shape(discriminator, 1),
                    "generator output vs discriminator target")
        self.generator, self.discriminator = generator, discriminator
        self.l1_weight = _non_negative(l1_weight, "l1_weight")
        self.built = True

    def train_step(self, data):
        source, target = _as_pair(data, "Pix2Pix", "input, target")
        needs_real = self.adversarial.needs_real_for_generator
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(source, training=True)
            real_logits = self.discriminator([source, target], training=True)
            fake_logits = self.discriminator([source, fake], training=True)
            gan_loss = self._generator_loss(real_logits if needs_real else None, fake_logits)
            l1_loss = _l1(fake, target)
            g_loss = gan_loss + self.l1_weight * l1_loss
            d_loss = 0.5 * self._discriminator_loss(
                real_logits, fake_logits,
                lambda x: self.discriminator([source, x], training=True), target, fake)[0]
        self._apply(self.g_optimizer, g_tape, g_loss, self.generator_variables)
        self._apply(self.d_optimizer, d_tape, d_loss, self.discriminator_variables)
        return self._report(g_loss=g_loss, g_gan_loss=gan_loss, g_l1_loss=l1_loss, d_loss=d_loss)

    def translate(self, images, batch_size: int = 8) -> np.ndarray:
        """Translate input images in [-1, 1] to targets, in batches."""
        return _translate(self.generator, images, batch_size, self._run_in_batches)

    def get_config(self):
        return {**super().get_config(), "l1_weight": self.l1_weight}
