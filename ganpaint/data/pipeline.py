"""tf.data pipelines: `image_dataset`, `paired_dataset` (pix2pix) and `unpaired_dataset` (CycleGAN).

Order of work, chosen so each epoch repeats as little as possible:

    source -> decode -> resize to the load size -> cache (uint8) -> shuffle -> repeat
           -> random crop / flip (stateless, seeded per element) -> [-1, 1] float32
           -> batch (drop_remainder) -> prefetch

Randomness comes from `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)` feeding
stateless image ops: the same seed gives the same crops, flips and order in every run, and
every epoch draws new ones.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from ganpaint.data import preprocess, sources

AUTOTUNE = tf.data.AUTOTUNE
_AUGMENTS = ("jitter", "flip")
_DEFAULT_SHUFFLE_BUFFER = 2048
# pix2pix/CycleGAN jitter: 256 px images are resized to 286 and randomly cropped back.
_JITTER_RATIO = 286 / 256


def image_dataset(
    source: Any,
    *,
    image_size: int | tuple[int, int],
    batch_size: int,
    labels: bool | Sequence[int] | np.ndarray = False,
    channels: int = 3,
    augment: str | Sequence[str] | None = None,
    jitter_size: int | tuple[int, int] | None = None,
    resize_mode: str = "stretch",
    shuffle: bool = True,
    shuffle_buffer: int | None = None,
    seed: int | None = None,
    repeat: bool = False,
    cache: bool | str = True,
    drop_remainder: bool = True,
    on_error: str = "raise",
    annotations: str | None = None,
    box_margin: float = 0.0,
    square: str = "expand",
) -> tf.data.Dataset:
    """Batches of float32 images in [-1, 1] from any source ganpaint reads.

    Args:
        source: a `.npz` (`images` or `arr_0`, optional `labels`), a folder of images (searched
            recursively; with `labels=True` each subfolder is a class), Kaggle-layout TFRecord
            files (a path, a glob such as `"monet_tfrec/*.tfrec"`, or a list), a Kaggle
            digit-recognizer `.csv`, or a numpy array `[N, H, W(, C)]`.
        image_size: int or (height, width). Size of the images yielded.
        batch_size: int. Global batch size (split across replicas under `tf.distribute`).
        labels: bool or array. `True` yields `(images, labels)` with the source's labels; an
            array gives labels for a source that holds none. Defaults to `False`.
        channels: int. 1 (grayscale) or 3 (RGB); other channel counts are converted.
        augment: None, "flip", "jitter", "jitter+flip" or a list of those. "jitter" resizes to
            `jitter_size` and crops a random `image_size` window; "flip" mirrors half the
            images left-right. Defaults to None (no augmentation: flipping digits or text
            would be wrong).
        jitter_size: int or (height, width). Load size before random cropping. Defaults to
            `image_size * 286 / 256`, the pix2pix/CycleGAN recipe (286 for 256).
        resize_mode: "stretch" (default) or "center_crop" (keep the aspect ratio).
        shuffle: bool. Shuffle every epoch. Arrays get a full permutation; file sources shuffle
            the file order and then use a buffer of `shuffle_buffer` decoded images.
        shuffle_buffer: int. Defaults to min(number of images, 2048).
        seed: int. Makes order and augmentation reproducible. Defaults to None.
        repeat: bool. Repeat forever (then pass `steps_per_epoch` to `fit`).
        cache: bool or str. Cache decoded, resized uint8 images in memory (`True`) or in a file
            (a path). Defaults to True.
        drop_remainder: bool. Keep every batch the same static shape, as TPUs require.
        on_error: "raise" or "skip" bad files (skipped files are warned about and listed in
            the dataset's `skipped_files`).
        annotations: a folder of Pascal VOC files (Stanford Dogs' `Annotation/`): one image
            per annotated object, cropped from its box (`ganpaint.data.annotations`); with
            `labels=True` the labels are the objects' names (the breeds). `source` must then
            be images (a folder or a list of files).
        box_margin: float. Widen each box by this fraction of its size on each side.
        square: "expand" (grow each box to a square over the photo) or "pad" (pad the crop
            with black), as the dog notebooks do.

    Returns:
        A `tf.data.Dataset` of images `[B, H, W, C]` (or `(images, labels)`), with attributes
        `num_images`, `class_names` (folders and npz files that hold them) and `skipped_files`.

    Example:
    >>> ds = image_dataset(images, image_size=64, batch_size=32, augment="flip", seed=0)
    """
    crops = None
    if annotations is not None:
        crops = load_box_crops(
            source,
            annotations,
            image_size,
            augment,
            jitter_size,
            channels,
            on_error,
            box_margin,
            square,
        )
        source = crops["images"]
        labels = crops["labels"] if labels is True else labels
    size, tokens, load_size, src = _setup(
        source,
        image_size,
        batch_size,
        augment,
        jitter_size,
        channels,
        labels,
        on_error,
        drop_remainder,
        repeat,
    )
    if crops is not None:
        src.description, src.class_names = f"box crops ({annotations})", crops["class_names"]
        src.skipped = crops["skipped"]

    load = lambda image: preprocess.resize(image, load_size, resize_mode)
    base = _base_dataset(
        src,
        load,
        shuffle=shuffle,
        shuffle_buffer=shuffle_buffer,
        seed=seed,
        repeat=repeat,
        cache=cache,
    )

    def finish(image, seed_pair):
        return preprocess.scale_to_unit(_augment(image, size, tokens, seed_pair))

    ds = _with_seeds(base, seed)
    if src.labels is not None or src.has_label_feature:
        ds = ds.map(lambda x, s: (finish(x[0], s), x[1]), num_parallel_calls=AUTOTUNE)
    else:
        ds = ds.map(lambda x, s: finish(x[0], s), num_parallel_calls=AUTOTUNE)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
    return _annotate(ds, src)


def paired_dataset(
    source: Any,
    *,
    image_size: int | tuple[int, int],
    batch_size: int,
    direction: str = "AtoB",
    channels: int = 3,
    augment: str | Sequence[str] | None = ("jitter", "flip"),
    jitter_size: int | tuple[int, int] | None = None,
    shuffle: bool = True,
    shuffle_buffer: int | None = None,
    seed: int | None = None,
    repeat: bool = False,
    cache: bool | str = True,
    drop_remainder: bool = True,
    on_error: str = "raise",
) -> tf.data.Dataset:
    """Batches of `(input, target)` pairs from side-by-side images, as pix2pix datasets store them.

    Each source image holds A in its left half and B in its right half (for the maps dataset:
    aerial photo | map, 600x600 each). Both halves are resized to the load size and get the
    *same* random crop and flip, so input and target stay pixel-aligned.

    Args:
        direction: "AtoB" yields (left, right); "BtoA" yields (right, left).
        augment: as `image_dataset`; defaults to ("jitter", "flip"), the pix2pix paper's.
        Other arguments: as `image_dataset`.

    Example:
    >>> ds = paired_dataset("maps/train", image_size=256, batch_size=1, seed=0)
    """
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"`direction` must be 'AtoB' or 'BtoA'. Received: direction={direction!r}")
    size, tokens, load_size, src = _setup(
        source,
        image_size,
        batch_size,
        augment,
        jitter_size,
        channels,
        False,
        on_error,
        drop_remainder,
        repeat,
    )
    first_h, first_w = sources.first_image_shape(src)
    if first_w < 1.5 * first_h:
        raise ValueError(
            f"paired_dataset reads side-by-side pairs (input | target, about twice as wide as "
            f"tall); the first image of {src.description} is {first_w}x{first_h}, a single "
            "image. Give images that hold both halves (data/README.md: the maps dataset), or "
            "train a CycleGAN on unpaired single images."
        )

    def load(image):
        half = tf.shape(image)[1] // 2
        left = preprocess.resize(image[:, :half], load_size)
        right = preprocess.resize(image[:, half : 2 * half], load_size)
        return tf.concat([left, right], axis=-1)  # one tensor, so one crop and one flip

    base = _base_dataset(
        src,
        load,
        shuffle=shuffle,
        shuffle_buffer=shuffle_buffer,
        seed=seed,
        repeat=repeat,
        cache=cache,
    )

    def finish(x, seed_pair):
        both = preprocess.scale_to_unit(_augment(x[0], size, tokens, seed_pair))
        a, b = both[..., :channels], both[..., channels:]
        return (a, b) if direction == "AtoB" else (b, a)

    ds = _with_seeds(base, seed).map(finish, num_parallel_calls=AUTOTUNE)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
    return _annotate(ds, src)


def translation_dataset(
    source: Any,
    *,
    image_size: int | tuple[int, int],
    batch_size: int,
    channels: int = 3,
    direction: str = "AtoB",
    pairs: bool = False,
    on_error: str = "raise",
) -> tf.data.Dataset:
    """The images a translator is given, in order, unshuffled: whole images of any aspect, or
    with `pairs=True` the input halves of side-by-side pairs (pix2pix's layout) without
    squashing a pair into one input. What the images are is the caller's to say: a 16:9 photo
    and a pair of squares look alike by their widths.

    Args:
        source: anything `image_dataset` reads.
        image_size: int or (height, width). The translator's input size.
        direction: "AtoB" takes the left half of each pair, "BtoA" the right half.
        pairs: bool. The images are side-by-side pairs (default False: whole images).

    Returns:
        A dataset of image batches with `num_images` and `layout` (what was read, in words).
    """
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"`direction` must be 'AtoB' or 'BtoA'. Received: direction={direction!r}")
    h, w = size_pair(image_size, "image_size")
    src = sources.resolve(source, channels=channels, on_error=on_error)
    first_h, first_w = sources.first_image_shape(src)
    if pairs not in (True, False):
        raise ValueError(f"`pairs` must be True or False. Received: pairs={pairs!r}")
    common = dict(
        batch_size=batch_size,
        channels=channels,
        shuffle=False,
        drop_remainder=False,
        cache=False,
        on_error=on_error,
    )
    if not pairs:
        ds = image_dataset(source, image_size=(h, w), **common)
        ds.layout = f"whole images ({first_w}x{first_h})"
        ds.looks_paired = _looks_paired(first_h, first_w, h, w)
        return ds
    whole = image_dataset(source, image_size=(h, 2 * w), **common)
    start = 0 if direction == "AtoB" else w
    ds = whole.map(lambda x: x[:, :, start : start + w], num_parallel_calls=AUTOTUNE)
    ds.num_images, ds.class_names, ds.skipped_files = (
        whole.num_images,
        whole.class_names,
        whole.skipped_files,
    )
    ds.layout = (
        f"side-by-side pairs ({first_w}x{first_h}): the "
        f"{'left' if direction == 'AtoB' else 'right'} halves ({direction})"
    )
    ds.looks_paired = True
    return ds


def _looks_paired(height, width, input_h, input_w) -> bool:
    """Whether an image's width to height is nearer twice the input's than the input's: a
    hint worth a line, never a decision."""
    aspect = width / height
    return abs(aspect - 2 * input_w / input_h) < abs(aspect - input_w / input_h)


def unpaired_dataset(
    a: Any,
    b: Any,
    *,
    image_size: int | tuple[int, int],
    batch_size: int,
    channels: int = 3,
    augment: str | Sequence[str] | None = ("jitter", "flip"),
    jitter_size: int | tuple[int, int] | None = None,
    shuffle: bool = True,
    shuffle_buffer: int | None = None,
    seed: int | None = None,
    repeat: bool = False,
    cache: bool | str = True,
    on_error: str = "raise",
) -> tf.data.Dataset:
    """Batches of `(a, b)` from two unpaired domains of any sizes (CycleGAN).

    An epoch is `ceil(max(len(a), len(b)) / batch_size)` batches: every image of the larger
    domain is seen once, and the smaller domain is cycled (reshuffled on each pass) to keep
    up. Zipping two finite datasets would instead cut the larger one down to the smaller.

    Args:
        a, b: sources, as `image_dataset` takes.
        augment: defaults to ("jitter", "flip"), the CycleGAN paper's.
        repeat: bool. Repeat forever instead of yielding finite epochs.
        Other arguments: as `image_dataset`.

    Example:
    >>> ds = unpaired_dataset("photo_tfrec/*.tfrec", "monet_tfrec/*.tfrec", image_size=256,
    ...                       batch_size=1, seed=0)
    """
    common = dict(
        image_size=image_size,
        batch_size=batch_size,
        channels=channels,
        augment=augment,
        jitter_size=jitter_size,
        shuffle=shuffle,
        shuffle_buffer=shuffle_buffer,
        repeat=True,
        cache=cache,
        on_error=on_error,
    )
    ds_a = image_dataset(a, seed=seed, **common)
    ds_b = image_dataset(b, seed=None if seed is None else seed + 7919, **common)
    num_a, num_b = ds_a.num_images, ds_b.num_images
    ds = tf.data.Dataset.zip((ds_a, ds_b))
    if not repeat:
        ds = ds.take(math.ceil(max(num_a, num_b) / batch_size))
    ds = _by_global_batch(ds.prefetch(AUTOTUNE))
    ds.num_images = (num_a, num_b)
    ds.class_names = None
    ds.skipped_files = ds_a.skipped_files + ds_b.skipped_files
    return ds


# ---------------------------------------------------------------------------------------------


def load_box_crops(
    source, annotations, image_size, augment, jitter_size, channels, on_error, margin, square
) -> dict:
    """The annotated objects of an image source, cropped at the pipeline's load size."""
    from ganpaint.data.annotations import box_crops

    size = size_pair(image_size, "image_size")
    load_size = _jitter_size(size, jitter_size) if "jitter" in _augment_tokens(augment) else size
    src = sources.resolve(source, channels=channels, on_error=on_error)
    if src.files is None:
        raise ValueError(
            f"`annotations` crop image files; {src.description} holds no files "
            "(give the folder of photos the annotations describe)."
        )
    root = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    return box_crops(
        src.files,
        annotations,
        load_size,
        margin=margin,
        square=square,
        channels=channels,
        on_error=on_error,
        root=root,
    )


def _setup(
    source,
    image_size,
    batch_size,
    augment,
    jitter_size,
    channels,
    labels,
    on_error,
    drop_remainder,
    repeat,
):
    """Validates the arguments every pipeline shares, then resolves the source."""
    size = size_pair(image_size, "image_size")
    _check_batch_size(batch_size)
    tokens = _augment_tokens(augment)
    load_size = _jitter_size(size, jitter_size) if "jitter" in tokens else size
    src = sources.resolve(source, channels=channels, labels=labels, on_error=on_error)
    _check_enough(src, batch_size, drop_remainder, repeat)
    return size, tokens, load_size, src


def _base_dataset(
    src: sources.Source,
    load: Callable[[tf.Tensor], tf.Tensor],
    *,
    shuffle: bool,
    shuffle_buffer: int | None,
    seed: int | None,
    repeat: bool,
    cache: bool | str,
) -> tf.data.Dataset:
    """A dataset of `(uint8 image at load size, label or -1)`, shuffled and repeated."""
    seeds = [None] * 3 if seed is None else [seed, seed + 1, seed + 2]
    n = src.num_images
    has_labels = src.labels is not None
    labels = src.labels if has_labels else np.full((n,), -1, np.int32)

    if src.images is not None:
        # In memory: resize once, then shuffle indices, a full permutation per epoch with no
        # copy of the images in a shuffle buffer.
        images = _map_array(src.images, load)
        images_t, labels_t = tf.constant(images), tf.constant(labels)
        ds = tf.data.Dataset.range(n)
        if shuffle:
            ds = ds.shuffle(n, seed=seeds[0], reshuffle_each_iteration=True)
        if repeat:
            ds = ds.repeat()
        return ds.map(
            lambda i: (tf.gather(images_t, i), tf.gather(labels_t, i)), num_parallel_calls=AUTOTUNE
        )

    def decode(encoded, label):
        return load(preprocess.decode_image(encoded, src.channels)), tf.cast(label, tf.int32)

    if src.files is not None:
        ds = tf.data.Dataset.from_tensor_slices((src.files, labels))
        if shuffle:
            # File order is shuffled once before caching so class-sorted folders mix well.
            ds = ds.shuffle(n, seed=seeds[0], reshuffle_each_iteration=True)
        ds = ds.map(
            lambda path, label: decode(tf.io.read_file(path), label), num_parallel_calls=AUTOTUNE
        )
    else:
        records = _tfrecord_dataset(src, shuffle and not has_labels, seeds[0])
        if has_labels:  # labels given as an array follow the records in file order
            ds = tf.data.Dataset.zip((records, tf.data.Dataset.from_tensor_slices(labels)))
            ds = ds.map(lambda ex, label: decode(ex["image"], label), num_parallel_calls=AUTOTUNE)
        else:
            ds = records.map(
                lambda ex: decode(ex["image"], ex.get("label", -1)), num_parallel_calls=AUTOTUNE
            )
        ds = ds.apply(tf.data.experimental.assert_cardinality(n))
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        ds = ds.shuffle(
            min(n, shuffle_buffer or _DEFAULT_SHUFFLE_BUFFER),
            seed=seeds[1],
            reshuffle_each_iteration=True,
        )
    if repeat:
        ds = ds.repeat()
    return ds


def _tfrecord_dataset(src: sources.Source, shuffle_files: bool, seed: int | None):
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    if src.has_label_feature:
        spec["label"] = tf.io.FixedLenFeature([], tf.int64)
    if shuffle_files:
        # Shuffled file order, then records interleaved from several files at once.
        files = tf.data.Dataset.from_tensor_slices(src.tfrecords)
        files = files.shuffle(len(src.tfrecords), seed=seed, reshuffle_each_iteration=True)
        records = files.interleave(
            lambda f: sources.tfrecord_dataset(f, src.compression),
            cycle_length=min(len(src.tfrecords), 16),
            num_parallel_calls=AUTOTUNE,
            deterministic=True,
        )
    else:
        # Unshuffled means file order, record order: labels given as an array rely on it.
        records = sources.tfrecord_dataset(src.tfrecords, src.compression, buffer_size=8 << 20)
    return records.map(lambda r: tf.io.parse_single_example(r, spec), num_parallel_calls=AUTOTUNE)


def _map_array(images: np.ndarray, load: Callable[[tf.Tensor], tf.Tensor]) -> np.ndarray:
    """Applies the per-image `load` to an in-memory array once (a no-op when sizes match)."""
    out = load(tf.constant(images[0]))
    if tuple(out.shape) == images.shape[1:]:
        return images
    ds = tf.data.Dataset.from_tensor_slices(images).map(load, num_parallel_calls=AUTOTUNE)
    return np.concatenate([batch.numpy() for batch in ds.batch(256)])


def _with_seeds(ds: tf.data.Dataset, seed: int | None) -> tf.data.Dataset:
    """Pairs every element with a fresh stateless seed [2], re-drawn each epoch."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return tf.data.Dataset.zip((ds, seeds))


def _augment(image: tf.Tensor, size: tuple[int, int], tokens: frozenset, seed: tf.Tensor):
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    if "jitter" in tokens:
        image = preprocess.random_crop(image, size, crop_seed)
    if "flip" in tokens:
        image = preprocess.random_flip(image, flip_seed)
    return image


def _by_global_batch(ds: tf.data.Dataset) -> tf.data.Dataset:
    """Under several workers, each reads the whole pipeline and takes its rows of each global
    batch (tf.data's DATA sharding), so the order is one device's; AUTO would give each worker
    other TFRecord files, another order, and fail where files are fewer than workers."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _annotate(ds: tf.data.Dataset, src: sources.Source) -> tf.data.Dataset:
    ds = _by_global_batch(ds)
    ds.num_images = src.num_images
    ds.class_names = src.class_names
    ds.skipped_files = [path for path, _ in src.skipped]
    # The classes the labels need (1 + the largest), where known before reading: labels in
    # an array, an npz or class folders (TFRecords' label features are read while training).
    ds.label_classes = (
        int(src.labels.max()) + 1 if src.labels is not None and len(src.labels) else None
    )
    return ds


def size_pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        pair = (int(size), int(size))
    elif (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size)
    ):
        pair = (int(size[0]), int(size[1]))
    else:
        raise ValueError(
            f"`{name}` must be an int or a (height, width) pair of ints. Received: {name}={size!r}"
        )
    if min(pair) < 1:
        raise ValueError(f"`{name}` must be positive. Received: {name}={size!r}")
    return pair


def _jitter_size(size: tuple[int, int], jitter_size: Any) -> tuple[int, int]:
    if jitter_size is None:
        return (round(size[0] * _JITTER_RATIO), round(size[1] * _JITTER_RATIO))
    pair = size_pair(jitter_size, "jitter_size")
    if pair[0] < size[0] or pair[1] < size[1]:
        raise ValueError(
            f"`jitter_size` must be at least `image_size`={size}. "
            f"Received: jitter_size={jitter_size!r}"
        )
    return pair


def _augment_tokens(augment: Any) -> frozenset:
    if augment is None or augment is False:
        return frozenset()
    if isinstance(augment, str):
        tokens = [t.strip() for t in augment.split("+") if t.strip()]
    elif isinstance(augment, (list, tuple, set, frozenset)):
        tokens = list(augment)
    else:
        raise ValueError(
            f"`augment` must be None, a string such as 'jitter+flip', or a list of "
            f"{_AUGMENTS}. Received: augment={augment!r}"
        )
    unknown = [t for t in tokens if t not in _AUGMENTS]
    if unknown:
        raise ValueError(
            f"Unknown augmentation {unknown[0]!r} in `augment`; choose from "
            f"{_AUGMENTS}. Received: augment={augment!r}"
        )
    return frozenset(tokens)


def _check_batch_size(batch_size: Any) -> None:
    if (
        not isinstance(batch_size, (int, np.integer))
        or isinstance(batch_size, bool)
        or batch_size < 1
    ):
        raise ValueError(
            f"`batch_size` must be a positive int. Received: batch_size={batch_size!r}"
        )


def _check_enough(src: sources.Source, batch_size: int, drop_remainder: bool, repeat: bool):
    if drop_remainder and not repeat and src.num_images < batch_size:
        raise ValueError(
            f"{src.description} holds {src.num_images} images, fewer than "
            f"batch_size={batch_size}: with drop_remainder=True an epoch would be "
            "empty. Lower `batch_size`, or pass drop_remainder=False."
        )
