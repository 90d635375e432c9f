"""The base of every ganpaint training model (`AdversarialModel`): its training core.

Its other concerns live beside it, each a base class with its own interface:
`ganpaint.gans.small_data.SmallData` (DiffAugment / ADA, EMA, R1),
`ganpaint.gans.sampling.Sampling` (sampling, translation in batches, export), and the helpers
the families share (`ganpaint.gans.helpers`, re-exported here).

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
  `keras.callbacks.BackupAndRestore` keep them and training resumes exactly where it stopped;
- the small-data tools, on every model: `diff_augment` (DiffAugment on every image any
  discriminator sees, real and fake, in both updates), `augment_p` / `ada_target` (a fixed or
  adaptive probability of each transform), `ema` (a moving average of each generator, used for
  every sample and translation) and `r1_weight` (the R1 penalty on real images, optionally lazy).
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf

from ganpaint import distribute
from ganpaint.data.preprocess import unit_images
from ganpaint.gans.helpers import (
    as_pair,
    check_class_labels,
    check_meet,
    has_batch_norm,
    has_layer,
    images_of,
    input_shape_of,
    mean_l1,
    mean_l2,
    non_negative,
    output_shape_of,
)
from ganpaint.gans.sampling import Sampling
from ganpaint.gans.small_data import LastValue, SmallData
from ganpaint.layers import RNG_ALG, prepare_for_replicas
from ganpaint.losses import AdversarialLoss, gradient_penalty
from ganpaint.optimizers import FusedAdam

# The helpers the families import from here (docs/adding_a_family.md).
__all__ = [
    "AdversarialModel",
    "OneGenerator",
    "as_pair",
    "check_class_labels",
    "check_meet",
    "check_model",
    "default_optimizer",
    "has_batch_norm",
    "has_layer",
    "images_of",
    "input_shape_of",
    "mean_l1",
    "mean_l2",
    "non_negative",
    "output_shape_of",
    "resolve_preset",
]

log = logging.getLogger(__name__)
_LOGGED: dict = {}  # what was logged once per process


def default_optimizer(
    learning_rate: float = 2e-4, beta_1: float = 0.5, beta_2: float = 0.999
) -> keras.optimizers.Optimizer:
    """Adam(2e-4, beta_1=0.5): the DCGAN, pix2pix and CycleGAN papers' optimizer, as
    `ganpaint.optimizers.FusedAdam` (Keras' Adam arithmetic in one kernel per variable)."""
    return FusedAdam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


def _optimizer(value, name, defaults=None):
    if value is None:
        return default_optimizer(**(defaults or {}))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return default_optimizer(float(value))
    try:
        return keras.optimizers.get(value)
    except ValueError as exc:
        raise ValueError(
            f"`{name}` must be a keras optimizer, its name, or a learning rate. "
            f"Received: {name}={value!r}"
        ) from exc


def _uses_float16(models) -> bool:
    policies = [keras.config.dtype_policy()] + [m.dtype_policy for m in models]
    policies += [layer.dtype_policy for m in models for layer in m.layers]
    return any(p.compute_dtype == "float16" for p in policies)


def check_model(model, what: str = "`model`") -> None:
    """Refuse anything that is not a ganpaint model (a plain Keras model has no generator to
    sample or export), naming `what` it was given as."""
    if not isinstance(model, AdversarialModel):
        kind = (
            f"a Keras {type(model).__name__}"
            if isinstance(model, keras.Model)
            else f"a {type(model).__name__}"
        )
        raise ValueError(
            f"{what} is {kind}, not a ganpaint model (GAN, ConditionalGAN, ACGAN, "
            "CycleGAN or Pix2Pix): give the model.keras that `ganpaint train` "
            "writes, or a ganpaint model saved with `model.save`."
        )


def resolve_preset(cls, preset, given: dict) -> dict:
    """The values of `cls.PRESETS[preset]`, with each argument the caller gave (not None) in
    place of the preset's."""
    if preset not in cls.PRESETS:
        raise ValueError(
            f"`preset` must be one of {', '.join(map(repr, cls.PRESETS))}. "
            f"Received: preset={preset!r}"
        )
    values = dict(cls.PRESETS[preset])
    values.update({k: v for k, v in given.items() if v is not None})
    return values


class AdversarialModel(SmallData, Sampling, keras.Model):
    """Base of the ganpaint models: optimizers, loss averaging, seeds, trackers, saving; the
    small-data tools (`SmallData`) and sampling and export (`Sampling`).

    Subclasses set `_networks` (attribute names of the networks, for `get_config`),
    `_generators` (those that `ema` averages), `_metric_names`, implement `train_step`,
    `generator_variables` and `discriminator_variables`, and call `init_small_data()` once
    their networks are set. The step API a `train_step` calls, in order
    (docs/adding_a_family.md has a template): `begin_step`, `augment`, `generator_loss`,
    `discriminator_loss`, `apply_loss`, `observe_real`, `update_ema`, `report` (with
    `draw_noise`, `replica_seed` and `small_data_report` where needed).

    Small-data arguments (keyword arguments of every model; `get_config` keeps them):
        diff_augment: str or None. DiffAugment policy ("color,translation,cutout", or any
            comma-separated subset; `ganpaint.augment`) applied to every image that a
            discriminator sees, real and fake, in the discriminator and the generator update.
            Pix2Pix's input image gets the same translation and cutout as its target.
        augment_p: float or None. The probability of each transform for each image. Defaults
            to 1 with `diff_augment` (the paper) and to a start of 0 with `ada_target`.
        ada_target: float or None. Adaptive augmentation (ADA): p is steered so that
            r_t = E[sign(D(real))] stays near this target (0.6 in the paper). Uses the
            `diff_augment` policy, or all three transforms when that is None.
        ada_interval: int. Steps between p updates (4).
        ada_kimg: float. Thousands of images for p to go from 0 to 1 (20; StyleGAN2-ADA's 500
            is for runs of tens of millions of images).
        ema: float or None. Keep an exponential moving average of each generator with this
            decay (0.999 is common); `generate`, `translate` and every callback use it.
        ema_rampup: float or None. StyleGAN2's ramp-up: the EMA's half-life is at most this
            fraction of the steps so far (0.05). None: the fixed decay from the first step.
        r1_weight: float. Gamma of the R1 penalty gamma/2 * E|grad D(real)|^2 on the (augmented)
            real images (Mescheder et al. 2018). 0 turns it off.
        r1_every: int. Lazy regularisation (StyleGAN2): the penalty, times `r1_every`, every
            `r1_every` discriminator updates.
    """

    _networks: tuple[str, ...] = ()
    # The reported losses that are a discriminator's adversarial loss (what `TrainingGuard`
    # watches for a collapsed discriminator).
    discriminator_losses: tuple[str, ...] = ("d_loss",)
    _generators: tuple[str, ...] = ()
    # Adam's settings when `compile()` is given no optimizer, and what a recipe's unset
    # `optimizer.*` fields take: the DCGAN paper's. A model with measured ones declares its
    # own (ConditionalGAN; CycleGAN and Pix2Pix from their preset).
    preset_optimizer = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}
    _metric_names: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        loss: str = "bce",
        label_smoothing=None,
        gp_weight: float = 10.0,
        seed: int | None = None,
        diff_augment: str | None = None,
        augment_p: float | None = None,
        ada_target: float | None = None,
        ada_interval: int = 4,
        ada_kimg: float = 20.0,
        ema: float | None = None,
        ema_rampup: float | None = 0.05,
        r1_weight: float = 0.0,
        r1_every: int = 1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.adversarial = AdversarialLoss(loss, label_smoothing)
        self.gp_weight = non_negative(gp_weight, "gp_weight")
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        names = list(self._metric_names)
        names += self.set_small_data(
            diff_augment,
            augment_p,
            ada_target,
            ada_interval,
            ada_kimg,
            ema,
            ema_rampup,
            r1_weight,
            r1_every,
        )
        self.trackers = [
            self._make_tracker(n)
            for n in names
            if n != "gradient_penalty" or self.adversarial.objective.penalty
        ]
        # This step's value of each tracker (the trackers hold running means over the epoch):
        # what `last_step_values` reads. Out of Keras' tracking, as `gradient_norms`, so
        # checkpoints hold what they held.
        object.__setattr__(
            self,
            "_step_values",
            keras.Variable(
                np.zeros(len(self.trackers), "float32"),
                trainable=False,
                aggregation="only_first_replica",
                name="step_values",
            ),
        )
        self.g_optimizer = self.d_optimizer = None
        self.gradient_norms = None

    @property
    def networks(self) -> dict:
        """The trained networks by role, e.g. {"generator": ..., "discriminator": ...} or
        CycleGAN's {"g_ab", "g_ba", "d_a", "d_b"} (EMA copies are `sampling_network`'s)."""
        return {name: getattr(self, name) for name in self._networks}

    # The parts of each optimizer's running rate, `base x factor x scale`, which only
    # `ganpaint.rates.set_learning_rates` writes: the schedule's factor (`LinearDecay`) and the
    # guard's scale (`TrainingGuard` lowers it after a trip); the base is read when first needed.
    learning_rate_base = None
    learning_rate_factor = 1.0
    learning_rate_scale = 1.0

    def _maybe_symbolic_build(self, *args, **kwargs):
        # Keras' TensorFlow trainer draws a batch from the training iterator before the first
        # step, to build what is unbuilt, and then starts the iterator again. A ganpaint model
        # is built when constructed, and that draw cost two things under a strategy: a dataset
        # that reshuffles each iteration started on its second order (another data order than
        # one device), and under MultiWorkerMirroredStrategy it failed on (images, labels)
        # batches (Keras reduces the whole structure at once). Nothing to build: no draw.
        if self.built and all(layer.built for layer in self._flatten_layers()):
            return None
        return super()._maybe_symbolic_build(*args, **kwargs)

    # -- compile --------------------------------------------------------------------------

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, with array data checked where it comes in: uint8 images are read
        as [0, 255] and scaled to [-1, 1] (`ganpaint.data.unit_images`), float images must be
        in [-1, 1], labels must be classes of the model; a dataset must yield float images."""
        x, y = self._checked_data(x, "x"), self._checked_data(y, "y")
        return super().fit(x, y, *args, **kwargs)

    def _checked_data(self, data, name):
        """Arrays (numpy, eager tensors) and datasets are checked; anything else Keras takes
        (generators, `PyDataset`s) goes through as it is."""
        if isinstance(data, tf.data.Dataset):
            spec = data.element_spec
            first = spec[0] if isinstance(spec, (tuple, list)) else spec
            dtype = getattr(first, "dtype", None)
            if dtype is not None and not dtype.is_floating:
                raise ValueError(
                    f"`{name}` yields {dtype.name} images; {type(self).__name__} trains on "
                    "floats in [-1, 1]: map them with `ganpaint.data.scale_to_unit`, or build "
                    "the dataset with `ganpaint.data.image_dataset`."
                )
            return data
        if isinstance(data, (tuple, list)):
            return type(data)(
                self._checked_data(part, f"{name}[{i}]")
                if i == 0 or self.num_classes is None
                else check_class_labels(part, self.num_classes, f"{name}[{i}]")
                for i, part in enumerate(data)
            )
        if not (isinstance(data, np.ndarray) or (tf.is_tensor(data) and tf.executing_eagerly())):
            return data
        if name == "y" and self.num_classes is not None:
            return check_class_labels(data, self.num_classes, "y")
        images = unit_images(data, name)
        if images.ndim == 3:
            raise ValueError(
                f"`{name}` has shape {images.shape}: images without a channel "
                f"axis (the keras.datasets MNIST habit); pass `{name}[..., None]`."
            )
        return images

    def save(self, filepath, overwrite=True, **kwargs):
        """`keras.Model.save`, to a `.keras` file. Keras' legacy `.h5` format cannot hold
        these models (two players' optimizers, seeds, image pools): refused by name."""
        name = str(filepath).lower()
        if name.endswith((".h5", ".hdf5")):
            raise ValueError(
                f"ganpaint models save as .keras files; {filepath} is Keras' legacy "
                f"HDF5 format, which cannot hold them: use "
                f"{str(filepath).rsplit('.', 1)[0]}.keras (or `save_weights` to a "
                "`.weights.h5` file for the weights alone)."
            )
        return super().save(filepath, overwrite=overwrite, **kwargs)

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        *,
        jit_compile="auto",
        steps_per_execution: int = 1,
        run_eagerly: bool = False,
        **kwargs,
    ):
        """Set the optimizers and how the step runs.

        Args:
            g_optimizer, d_optimizer: keras optimizers, their names, or a learning rate (for
                Adam with beta_1 0.5). Default to `default_optimizer()`: Adam(2e-4, beta_1=0.5),
                at the model's measured rate where it has one (CycleGAN's and Pix2Pix's
                presets, ConditionalGAN's 4e-4).
                CycleGAN's generator optimizer updates both generators, its discriminator
                optimizer both discriminators (Adam's state is per weight, so this equals one
                optimizer per network).
            jit_compile: bool or "auto". XLA-compile the step ("auto": on GPU/TPU).
            steps_per_execution: int. Steps per call of the compiled function.
            run_eagerly: bool. Debug the step eagerly.
        """
        if kwargs:
            raise ValueError(
                f"{type(self).__name__}.compile() got unexpected arguments "
                f"{sorted(kwargs)}. It takes g_optimizer, d_optimizer, jit_compile, "
                "steps_per_execution and run_eagerly; losses are set in the "
                "constructor."
            )
        resolved_jit = self._resolve_jit(jit_compile)
        defaults = self.preset_optimizer
        g_opt = _optimizer(g_optimizer, "g_optimizer", defaults)
        d_opt = _optimizer(d_optimizer, "d_optimizer", defaults)
        if g_opt is d_opt:
            raise ValueError(
                "`g_optimizer` and `d_optimizer` must be two optimizer objects: one "
                "optimizer cannot hold the state of both players."
            )
        # Kept out of Keras' attribute tracking, so checkpoints hold each optimizer once.
        object.__setattr__(
            self,
            "_compile_args",
            dict(
                jit_compile=jit_compile,
                steps_per_execution=steps_per_execution,
                run_eagerly=run_eagerly,
            ),
        )
        object.__setattr__(self, "_user_optimizers", (g_opt, d_opt))
        if _uses_float16([getattr(self, n) for n in self._networks]):
            g_opt = keras.optimizers.LossScaleOptimizer(g_opt, name="g_loss_scale_optimizer")
            d_opt = keras.optimizers.LossScaleOptimizer(d_opt, name="d_loss_scale_optimizer")
        super().compile(
            optimizer=None,
            jit_compile=resolved_jit,
            steps_per_execution=steps_per_execution,
            run_eagerly=run_eagerly,
        )
        self.g_optimizer, self.d_optimizer = g_opt, d_opt
        with self.distribute_strategy.scope():
            g_opt.build(self.generator_variables)
            d_opt.build(self.discriminator_variables)

    def _resolve_jit(self, jit_compile):
        """`jit_compile` under a strategy of several GPUs or CPUs: "auto" keeps XLA off there
        (logged once, with the reason); True over several CPU devices is refused, since
        TensorFlow cannot run it. A TPU compiles every step whatever this says."""
        strategy = self.distribute_strategy
        if strategy.num_replicas_in_sync == 1 or distribute.is_tpu(strategy):
            return jit_compile
        if jit_compile == "auto":
            if not _LOGGED.get("jit"):
                _LOGGED["jit"] = True
                log.info(
                    "ganpaint: jit_compile='auto' leaves XLA off under %s: Keras 3 "
                    "compiles no step under tf.distribute, and over CPU devices a "
                    "compiled step cannot reach the other replicas' variables. Pass "
                    "jit_compile=True to try it on GPUs.",
                    type(strategy).__name__,
                )
            return False
        devices = list(getattr(strategy.extended, "worker_devices", ()))
        if jit_compile and devices and all("CPU" in d.upper() for d in devices):
            raise ValueError(
                f"jit_compile=True under {type(strategy).__name__} over CPU devices "
                f"({', '.join(devices)}) is not supported by TensorFlow (a compiled "
                "step cannot reach the other replicas' variables). Pass "
                "jit_compile='auto' or False."
            )
        return jit_compile

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
        if name in self.last_value_metrics:
            return LastValue(name)
        return keras.metrics.Mean(name=name)

    @property
    def generator_variables(self) -> list:
        raise NotImplementedError

    @property
    def discriminator_variables(self) -> list:
        raise NotImplementedError

    # -- helpers for train steps ----------------------------------------------------------

    def begin_step(self, images):
        """What every train step calls first, with a batch of its images: under a strategy,
        the networks' batch norm and dropout set to act on the global batch
        (`layers.prepare_for_replicas`) and this replica's place in the global batch recorded
        (`distribute.begin_step`), for `apply_loss` and the global draws."""
        if distribute.num_replicas() > 1:
            prepare_for_replicas(*[getattr(self, n) for n in self._networks])
        distribute.begin_step(tf.shape(images)[0])

    def apply_loss(self, optimizer, tape, loss, variables):
        """Apply the gradient of a per-replica mean loss, as its share of the global mean:
        weighted by this replica's share of the global batch (`distribute.batch_share`), so
        every example counts 1 / global batch, a partial last batch included."""
        share = distribute.step_share()  # per replica thread, not on the shared model
        with tape:  # the scaling must be on the tape
            scaled = optimizer.scale_loss(loss * tf.cast(share, loss.dtype))
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
                    role: keras.Variable(
                        np.zeros(len(variables), "float32"),
                        trainable=False,
                        aggregation="only_first_replica",
                        name=f"{role}_gradient_norms",
                    )
                    for role, variables in (
                        ("generator", self.generator_variables),
                        ("discriminator", self.discriminator_variables),
                    )
                }
            # Not through Keras' attribute tracking: monitoring state stays out of checkpoints.
            object.__setattr__(self, "gradient_norms", norms)
            self.train_function = None

    def _record_norms(self, store, optimizer, grads):
        norms = tf.stack(
            [tf.norm(tf.cast(g, tf.float32)) if g is not None else tf.constant(0.0) for g in grads]
        )
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            norms = norms / tf.cast(optimizer.dynamic_scale, tf.float32)
        store.assign(norms * distribute.num_replicas())

    def draw_noise(self, batch, dim):
        """Normal noise [batch, dim] for this replica: its rows of one draw for the global
        batch (`distribute.global_slice`), so N replicas draw what one device draws."""
        seed = self.seed_generator.next()
        return distribute.global_slice(
            lambda n: tf.random.stateless_normal([n, dim], seed, alg=RNG_ALG), batch
        )

    def replica_seed(self):
        """A fresh stateless seed, different on each replica (for state each replica keeps
        apart, as CycleGAN's image pools)."""
        seed = self.seed_generator.next()
        if distribute.num_replicas() == 1:
            return seed
        return tf.random.experimental.stateless_fold_in(seed, distribute.replica_id(), alg=RNG_ALG)

    def discriminator_loss(self, real_logits, fake_logits, critic=None, real=None, fake=None):
        """The adversarial discriminator loss, plus the gradient penalty for `wgan-gp` and the
        R1 penalty when `r1_weight` is set (`critic`, `real` and `fake` are what the
        discriminator saw, augmented).

        Returns (total, adversarial, gradient penalty or None, R1 penalty or None).
        """
        # Shared seeds: the losses draw for the global batch and take this replica's rows.
        seed = self.seed_generator.next() if self.adversarial.needs_seed else None
        loss = self.adversarial.discriminator(
            real_logits, fake_logits, seed=seed, batch_mean=distribute.global_batch_mean
        )
        total, penalty, r1 = loss, None, None
        if self.adversarial.objective.penalty == "gradient_penalty" and critic is not None:
            penalty = gradient_penalty(critic, real, fake, seed=self.seed_generator.next())
            total = total + self.gp_weight * penalty
        if critic is not None:
            r1 = self.r1_term(critic, real)
            if r1 is not None:
                total = total + r1
        return total, loss, penalty, r1

    def generator_loss(self, real_logits, fake_logits):
        """The adversarial generator loss of the model's `loss`, with global-batch means."""
        return self.adversarial.generator(
            real_logits, fake_logits, batch_mean=distribute.global_batch_mean
        )

    def report(self, **values):
        """Update the trackers with the step's values (by `_metric_names`) and return what
        `fit` shows; the last line of every `train_step`."""
        # Each replica's mean counts by its share of the global batch (the metrics' totals
        # and counts are summed over replicas), so a partial last batch reports what one
        # device would; `LastValue` values are the same on every replica.
        share = distribute.step_share()
        for tracker in self.trackers:
            if tracker.name in values and values[tracker.name] is not None:
                if isinstance(tracker, LastValue):
                    tracker.update_state(values[tracker.name])
                else:
                    tracker.update_state(values[tracker.name], sample_weight=share)
        self._record_step_values(values, share)
        results = {t.name: t.result() for t in self.trackers}
        if distribute.is_multi_worker(self.distribute_strategy):
            # Keras 3 reduces a step's outputs across workers with `reduce(MEAN, axis=0)`,
            # which fails on scalars (tensorflow/tensorflow#72388); a [1] vector reduces to one.
            results = {k: tf.reshape(v, [1]) for k, v in results.items()}
        return results

    def _record_step_values(self, values, share):
        # The global batch's value, as one device computes it: each replica's share, summed.
        # A value this step did not report keeps the last one.
        if not self.trackers:
            return
        last = tf.unstack(tf.convert_to_tensor(self._step_values.value))
        step = []
        for i, tracker in enumerate(self.trackers):
            value = values.get(tracker.name)
            value = last[i] if value is None else tf.reduce_mean(tf.cast(value, tf.float32))
            step.append(value * tf.cast(share, tf.float32))
        step = tf.stack(step)
        if distribute.num_replicas() > 1:
            context = tf.distribute.get_replica_context()
            step = context.all_reduce(tf.distribute.ReduceOp.SUM, step)
        self._step_values.assign(step)

    def last_step_values(self) -> dict[str, float]:
        """Each reported value (`metrics`) at the last train step, over the global batch.

        `fit`'s logs are Keras' running means over the epoch; these are the step's own values,
        what `TrainingGuard` and `callbacks.LossHistory` read. With `steps_per_execution` > 1
        they are the last step's of each block. A metric reset (`reset_metrics`, a guard's
        rollback) does not clear them.
        """
        values = keras.ops.convert_to_numpy(self._step_values)
        return {t.name: float(v) for t, v in zip(self.trackers, values)}

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
        config.update(
            loss=self.adversarial.name,
            label_smoothing=self.adversarial.label_smoothing,
            gp_weight=self.gp_weight,
            seed=self.seed,
            **self.small_data_config(),
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls._networks:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        if isinstance(config.get("label_smoothing"), list):
            config["label_smoothing"] = tuple(tuple(r) for r in config["label_smoothing"])
        return cls(**config)


class OneGenerator(AdversarialModel):
    """A model with one `generator` and one `discriminator` (GAN family, Pix2Pix; the base of
    a new family of that shape: docs/adding_a_family.md)."""

    _networks = ("generator", "discriminator")
    _generators = ("generator",)

    @property
    def generator_variables(self):
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self):
        return self.discriminator.trainable_variables

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)
