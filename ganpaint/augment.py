"""Differentiable augmentation for small-data GANs: DiffAugment and ADA's adaptive probability.

`diff_augment(images, policy, seed)` is DiffAugment (Zhao et al. 2020), transcribed from the
authors' `DiffAugment_tf.py` (mit-han-lab/data-efficient-gans): the same random transform
family on every image the discriminator sees, real or fake, so the discriminator cannot
memorise the few real images and the generator still gets a gradient through the transform.

| policy        | what each image gets (drawn per image)                                          |
|---------------|----------------------------------------------------------------------------------|
| `color`       | brightness + U(-0.5, 0.5); saturation x U(0, 2); contrast x U(0.5, 1.5)          |
| `translation` | an integer shift of up to 1/8 of the side on each axis, zero fill                |
| `cutout`      | a zeroed square of half the side, at a random centre                             |

Differences from the reference, all on purpose:
- each transform is applied to each image with probability `probability` (ADA's p; Karras et
  al. 2020), so p = 0 is exactly the identity and p = 1 is the reference DiffAugment;
- the draws are stateless (`tf.random.stateless_*` from a seed tensor), so a resumed run draws
  the same transforms, and each replica takes its slice of one draw for the global batch, so a
  step on N replicas equals a step on one device;
- an image condition (pix2pix's input) gets the same translation and cutout as its image;
- translation and cutout are written with comparisons and gathers that XLA compiles.

`AdaptiveAugment` holds p as a variable and steers it towards a target of the overfitting
signal r_t = E[sign(D(real))] (StyleGAN2-ADA's `ada_target`, 0.6), every `interval` steps, by
a step that would take p from 0 to 1 in `kimg` thousand images.

Example:
>>> x = keras.random.uniform((4, 32, 32, 3), -1, 1)
>>> diff_augment(x, "color,translation,cutout", seed=0).shape
TensorShape([4, 32, 32, 3])
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ganpaint import distribute
from ganpaint.layers import RNG_ALG

POLICIES = ("color", "translation", "cutout")
DEFAULT_POLICY = "color,translation,cutout"


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """`"color,translation"` -> ("color", "translation"); None or "" -> (). Unknown names are
    refused with a `ValueError` that names them."""
    if policy is None or policy == "":
        return ()
    if not isinstance(policy, str):
        raise ValueError(
            f"`policy` must be a comma-separated string of {', '.join(POLICIES)}. "
            f"Received: policy={policy!r}"
        )
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [n for n in names if n not in POLICIES]
    if unknown or len(set(names)) != len(names):
        raise ValueError(
            f"`policy` must name each of {', '.join(POLICIES)} at most once. "
            f"Received: policy={policy!r}"
        )
    return names


def _seed_tensor(seed):
    if seed is None:
        return tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32)
    if isinstance(seed, int):
        return tf.constant([seed, 0], tf.int32)
    return tf.cast(seed, tf.int32)


class _Draws:
    """Uniform draws for this replica's images: its slice of one draw for the global batch
    (`distribute.global_slice`), so the transform an image gets does not depend on how the
    batch is split."""

    def __init__(self, seed, batch):
        # Philox named, not "auto_select": under XLA on the CPU the default generator is
        # far slower (`ganpaint.layers.RNG_ALG`).
        self.seeds = iter(tf.unstack(tf.random.experimental.stateless_split(seed, 12, RNG_ALG)))
        self.batch = batch

    def uniform(self, tail=(), minval=0.0, maxval=1.0, dtype=tf.float32):
        seed = next(self.seeds)
        return distribute.global_slice(
            lambda n: tf.random.stateless_uniform(
                tf.concat([[n], tf.constant(tail, tf.int32)], 0),
                seed,
                minval,
                maxval,
                dtype=dtype,
                alg=RNG_ALG,
            ),
            self.batch,
        )


def _broadcast(mask, x):
    return tf.reshape(mask, [-1] + [1] * (len(x.shape) - 1))


def _maybe(x, augmented, applied):
    """`augmented` where `applied` (one bool per image), else `x`: gradients reach both."""
    return tf.where(_broadcast(applied, x), augmented, x)


def _color(x, draws, probability):
    for transform in ("brightness", "saturation", "contrast"):
        magnitude = draws.uniform([1, 1, 1])
        applied = draws.uniform() < probability
        if transform == "brightness":
            y = x + (magnitude - 0.5)
        elif transform == "saturation":
            mean = tf.reduce_mean(x, axis=3, keepdims=True)
            y = (x - mean) * (magnitude * 2.0) + mean
        else:
            mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
            y = (x - mean) * (magnitude + 0.5) + mean
        x = _maybe(x, y, applied)
    return x


def _shift_axis(x, shift, axis):
    """Shift each image along `axis` (1 rows, 2 columns) by its integer `shift` [B], filling
    with zeros: a gather from the image padded with one zero line on each side, as the
    reference code does."""
    size = x.shape[axis] if x.shape[axis] is not None else tf.shape(x)[axis]
    pad = [[0, 0]] * len(x.shape)
    pad[axis] = [1, 1]
    padded = tf.pad(x, pad)
    index = tf.clip_by_value(tf.range(size)[None, :] - shift[:, None] + 1, 0, size + 1)
    return tf.gather(padded, index, axis=axis, batch_dims=1)


def _translation(xs, draws, probability, ratio):
    height, width = xs[0].shape[1], xs[0].shape[2]
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = draws.uniform((), -shift_h, shift_h + 1, tf.int32)
    dx = draws.uniform((), -shift_w, shift_w + 1, tf.int32)
    applied = draws.uniform() < probability
    dy, dx = tf.where(applied, dy, 0), tf.where(applied, dx, 0)
    return [_shift_axis(_shift_axis(x, dy, 1), dx, 2) for x in xs]


def _cutout(xs, draws, probability, ratio):
    height, width = xs[0].shape[1], xs[0].shape[2]
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    # The reference's offsets: centres in [0, size + (1 - cut % 2)), square from centre - cut//2.
    cy = draws.uniform((), 0, height + (1 - cut_h % 2), tf.int32)
    cx = draws.uniform((), 0, width + (1 - cut_w % 2), tf.int32)
    applied = draws.uniform() < probability
    rows = tf.range(height)[None, :] - (cy - cut_h // 2)[:, None]
    cols = tf.range(width)[None, :] - (cx - cut_w // 2)[:, None]
    inside = ((rows >= 0) & (rows < cut_h))[:, :, None] & ((cols >= 0) & (cols < cut_w))[:, None, :]
    inside = inside & applied[:, None, None]
    keep = 1.0 - tf.cast(inside, tf.float32)[..., None]
    return [x * tf.cast(keep, x.dtype) for x in xs]


def diff_augment(
    images,
    policy: str | None = DEFAULT_POLICY,
    seed=None,
    probability=1.0,
    condition=None,
    *,
    translation_ratio: float = 0.125,
    cutout_ratio: float = 0.5,
):
    """DiffAugment: differentiable random transforms, drawn per image.

    Args:
        images: float tensor [B, H, W, C] in [-1, 1].
        policy: str. Comma-separated transforms: "color", "translation", "cutout".
            Defaults to all three, the paper's choice for small data. None or "" is the
            identity.
        seed: int or a stateless seed tensor of shape [2] (what the models pass). None draws
            a fresh one.
        probability: float or scalar tensor/variable in [0, 1]. Each transform is applied to
            each image with this probability (ADA's p). Defaults to 1: always, as DiffAugment.
        condition: optional tensor [B, H, W, C'] (pix2pix's input image) that gets the same
            translation and cutout as `images`, and no colour change.
        translation_ratio: float. Largest shift as a fraction of the side (1/8).
        cutout_ratio: float. Side of the cutout square as a fraction of the side (1/2).

    Returns:
        The augmented images, or `(images, condition)` when a condition is given.
    """
    names = parse_policy(policy)
    images = tf.convert_to_tensor(images)
    if len(images.shape) != 4:
        raise ValueError(f"`images` must be a batch [B, H, W, C]. Received: shape {images.shape}")
    if condition is not None:
        condition = tf.convert_to_tensor(condition)
        if tuple(condition.shape[1:3]) != tuple(images.shape[1:3]):
            raise ValueError(
                f"`condition` must have the images' height and width "
                f"{tuple(images.shape[1:3])}. Received: shape {condition.shape}"
            )
    if not names:
        return images if condition is None else (images, condition)
    dtype = images.dtype
    draws = _Draws(_seed_tensor(seed), tf.shape(images)[0])
    probability = tf.cast(probability, tf.float32)
    x = tf.cast(images, tf.float32)
    xs = [x] if condition is None else [x, tf.cast(condition, tf.float32)]
    for name in POLICIES:  # the reference's order, whatever order the policy names them in
        if name not in names:
            continue
        if name == "color":
            xs[0] = _color(xs[0], draws, probability)
        elif name == "translation":
            xs = _translation(xs, draws, probability, translation_ratio)
        else:
            xs = _cutout(xs, draws, probability, cutout_ratio)
    out = tf.cast(xs[0], dtype)
    if condition is None:
        return out
    return out, tf.cast(xs[1], condition.dtype)


@keras.saving.register_keras_serializable(package="ganpaint")
class AdaptiveAugment(keras.layers.Layer):
    """The augmentation probability p, fixed or steered by ADA (Karras et al. 2020).

    With `target` set, the discriminator's outputs on real images are accumulated, and every
    `interval` steps p moves by `sign(r_t - target) * batch * interval / (kimg * 1000)`, where
    r_t = E[sign(D(real))] over those steps (+1: D is sure every real image is real, the mark
    of memorising). p, r_t and the accumulators are weights, so checkpoints keep them.

    Args:
        policy: str. The DiffAugment transforms p applies to.
        probability: float. The fixed p, or the starting p under ADA (0, as the paper).
        target: float or None. ADA's target for r_t (0.6 in the paper). None keeps p fixed.
        interval: int. Steps between p updates (4, as StyleGAN2-ADA).
        kimg: float. Thousands of images over which p could rise from 0 to 1 (StyleGAN2-ADA:
            500, for runs of tens of millions of images; small budgets need a faster p).
    """

    def __init__(
        self,
        policy: str = DEFAULT_POLICY,
        probability: float = 1.0,
        target: float | None = None,
        interval: int = 4,
        kimg: float = 20.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.policy = ",".join(parse_policy(policy))
        if not self.policy:
            raise ValueError(
                f"`policy` must name at least one transform. Received: policy={policy!r}"
            )
        if (
            isinstance(probability, bool)
            or not isinstance(probability, (int, float))
            or not 0.0 <= probability <= 1.0
        ):
            raise ValueError(
                f"`augment_p` must be a number in [0, 1]. Received: augment_p={probability!r}"
            )
        if target is not None and (
            isinstance(target, bool)
            or not isinstance(target, (int, float))
            or not -1.0 < target < 1.0
        ):
            raise ValueError(
                f"`ada_target` must be None or a number in (-1, 1). Received: ada_target={target!r}"
            )
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise ValueError(
                f"`ada_interval` must be an int >= 1. Received: ada_interval={interval!r}"
            )
        if isinstance(kimg, bool) or not isinstance(kimg, (int, float)) or kimg <= 0:
            raise ValueError(f"`ada_kimg` must be a number > 0. Received: ada_kimg={kimg!r}")
        self.probability, self.target = float(probability), target
        self.interval, self.kimg = interval, float(kimg)
        sync = dict(trainable=False, aggregation="only_first_replica")
        self.p = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(probability), name="p", **sync
        )
        self.rt = self.add_weight(shape=(), initializer="zeros", name="rt", **sync)
        self.sign_sum = self.add_weight(shape=(), initializer="zeros", name="sign_sum", **sync)
        self.sign_count = self.add_weight(shape=(), initializer="zeros", name="sign_count", **sync)
        self.steps = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", name="steps", **sync
        )
        self.built = True

    @property
    def adaptive(self) -> bool:
        return self.target is not None

    def augment(self, images, seed, condition=None):
        """`diff_augment` with this policy and the current p."""
        return diff_augment(images, self.policy, seed, self.p.value, condition)

    def observe(self, real_logits, batch_size):
        """Accumulate sign(D(real)) (over all replicas) and, every `interval` calls, move p.
        Call once per discriminator update with its logits on the (augmented) real images."""
        if not self.adaptive:
            return
        logits = tf.cast(real_logits, tf.float32)
        signs = tf.reduce_sum(tf.sign(logits))
        count = tf.cast(tf.size(logits), tf.float32)
        images = tf.cast(batch_size, tf.float32)
        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            signs, count, images = context.all_reduce(
                tf.distribute.ReduceOp.SUM, [signs, count, images]
            )
        total, n = self.sign_sum.value + signs, self.sign_count.value + count
        steps = self.steps.value + 1
        due = tf.equal(steps % self.interval, 0)
        rt = total / tf.maximum(n, 1.0)
        adjust = tf.sign(rt - self.target) * images * self.interval / (self.kimg * 1000.0)
        self.p.assign(
            tf.where(due, tf.clip_by_value(self.p.value + adjust, 0.0, 1.0), self.p.value)
        )
        self.rt.assign(tf.where(due, rt, self.rt.value))
        self.sign_sum.assign(tf.where(due, 0.0, total))
        self.sign_count.assign(tf.where(due, 0.0, n))
        self.steps.assign(steps)

    def get_config(self):
        return {
            **super().get_config(),
            "policy": self.policy,
            "probability": self.probability,
            "target": self.target,
            "interval": self.interval,
            "kimg": self.kimg,
        }


def nearest_distances(generated, training) -> np.ndarray:
    """For each generated image, the root-mean-square pixel distance to its nearest training
    image (both in [-1, 1]): copies of training images show as distances near 0.

    Returns:
        float64 array [N].
    """
    g = np.asarray(generated, "float64").reshape(len(generated), -1)
    t = np.asarray(training, "float64").reshape(len(training), -1)
    t_sq = (t * t).sum(axis=1)
    out = np.empty(len(g))
    for i in range(0, len(g), 512):
        chunk = g[i : i + 512]
        squared = (chunk * chunk).sum(axis=1)[:, None] + t_sq[None, :] - 2.0 * chunk @ t.T
        out[i : i + 512] = np.sqrt(np.maximum(squared.min(axis=1), 0.0) / g.shape[1])
    return out
