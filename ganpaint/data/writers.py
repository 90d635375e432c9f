"""Writers: an image folder to `.npz` (the "create dataset" step) and Kaggle-layout TFRecords."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ganpaint.data import preprocess, sources


def images_to_npz(
    folder: str | os.PathLike,
    path: str | os.PathLike,
    image_size: int | tuple[int, int],
    *,
    channels: int = 3,
    labels: bool | None = None,
    resize_mode: str = "stretch",
    on_error: str = "raise",
    compress: bool = False,
    verbose: bool = True,
) -> dict:
    """Decodes and resizes every image under `folder` into one `.npz` file.

    The file holds `images` (uint8 `[N, H, W, C]`), `names` (paths relative to `folder`) and,
    when the folder has one subfolder per class, `labels` (int32) and `class_names`.
    `image_dataset(path, ...)` reads it back.

    Args:
        folder: a folder of images, searched recursively.
        path: output file; `.npz` is appended if missing, parent folders are created.
        image_size: int or (height, width).
        channels: 1 or 3.
        labels: True requires class subfolders, False ignores them, None (default) uses them
            when every image is inside one.
        resize_mode: "stretch" or "center_crop".
        on_error: "raise" names the first file that cannot be decoded; "skip" leaves such files
            out and warns with their names.
        compress: bool. `np.savez_compressed` instead of `np.savez`.
        verbose: bool. Show a progress bar.

    Returns:
        dict with `path`, `num_images`, `class_names` and `skipped` ([(file, reason)]).

    Example:
    >>> images_to_npz("cans/", "cans_128.npz", image_size=128)
    """
    from ganpaint.data.pipeline import _size_pair  # one validation for every size argument

    size = _size_pair(image_size, "image_size")
    folder = os.fspath(folder)
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    if not tf.io.gfile.isdir(folder):
        raise ValueError(f"`folder` must be a folder of images. Received: {folder}")
    src = sources.resolve(folder, channels=channels, labels=False, on_error=on_error)
    files = src.files
    rel = [os.path.relpath(f, folder) for f in files]
    in_subfolders = all(os.sep in r for r in rel)
    if labels is True and not in_subfolders:
        raise ValueError(f"labels=True needs every image of {folder} inside a class subfolder; "
                         f"{next(r for r in rel if os.sep not in r)} is not")
    use_labels = in_subfolders if labels is None else bool(labels)

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def load(file_path):
        image = preprocess.decode_image(tf.io.read_file(file_path), channels)
        return preprocess.resize(image, size, resize_mode)

    images, kept, skipped = [], [], list(src.skipped)
    bar = keras.utils.Progbar(len(files), unit_name="image") if verbose else None
    for i, (file_path, name) in enumerate(zip(files, rel)):
        try:
            images.append(load(tf.constant(file_path)).numpy())
            kept.append(name)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as err:
            reason = err.message.splitlines()[0]
            if on_error == "raise":
                raise ValueError(f"Cannot decode {file_path}: {reason}") from None
            skipped.append((file_path, reason))
        if bar is not None:
            bar.update(i + 1)
    if not images:
        raise ValueError(f"No image in {folder} could be decoded")
    if len(skipped) > len(src.skipped):
        names = "\n".join(f"  {f}: {r}" for f, r in skipped[len(src.skipped):][:10])
        warnings.warn(f"Skipped {len(skipped) - len(src.skipped)} undecodable file(s):\n{names}",
                      stacklevel=2)

    arrays = {"images": np.stack(images), "names": np.array(kept)}
    class_names = None
    if use_labels:
        top = [k.split(os.sep)[0] for k in kept]
        class_names = sorted(set(top))
        index = {c: i for i, c in enumerate(class_names)}
        arrays["labels"] = np.array([index[t] for t in top], np.int32)
        arrays["class_names"] = np.array(class_names)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    (np.savez_compressed if compress else np.savez)(path, **arrays)
    return {"path": path, "num_images": len(images), "class_names": class_names,
            "skipped": skipped}


def write_tfrecords(
    images: Any,
    path: str | os.PathLike,
    names: Sequence[str] | None = None,
    labels: Sequence[Any] | None = None,
    *,
    shards: int = 1,
    image_format: str = "jpeg",
    quality: int = 95,
) -> list[str]:
    """Writes images as TFRecords in the Kaggle "I'm Something of a Painter" layout.

    Each record is a `tf.train.Example` with `image_name` (bytes), `image` (encoded image bytes)
    and `target` (bytes: the label as text, empty without labels). Integer labels are also
    written as an int64 `label` feature, which `image_dataset(..., labels=True)` reads.

    Args:
        images: uint8 `[N, H, W, C]` (or float in [0, 1] / [-1, 1]), as `image_dataset` takes.
        path: output file. With `shards > 1`, files are named like Kaggle's:
            `monet.tfrec` -> `monet00-150.tfrec`, `monet01-150.tfrec`, ... (index-count).
        names: one name per image. Defaults to "0", "1", ...
        labels: one label per image: integers, or strings such as "monet".
        shards: int. Number of files.
        image_format: "jpeg" (what Kaggle ships, lossy) or "png" (lossless).
        quality: int. JPEG quality, 1-100.

    Returns:
        The list of files written.

    Example:
    >>> write_tfrecords(photos, "out/photo.tfrec", shards=4)
    """
    path = os.fspath(path)
    if image_format not in ("jpeg", "png"):
        raise ValueError(f"`image_format` must be 'jpeg' or 'png'. Received: {image_format!r}")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"`quality` must be in 1..100. Received: quality={quality}")
    array = np.asarray(images)
    channels = 1 if array.ndim == 3 or (array.ndim == 4 and array.shape[-1] == 1) else 3
    array = sources.array_to_uint8(array, "`images`", channels)
    n = len(array)
    if names is None:
        names = [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"`names` has {len(names)} entries for {n} images")
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` has {len(labels)} entries for {n} images")
    if not isinstance(shards, int) or not 1 <= shards <= n:
        raise ValueError(f"`shards` must be an int in 1..{n} (the number of images). "
                         f"Received: shards={shards!r}")

    def encode(image):
        if image_format == "png":
            return tf.io.encode_png(image).numpy()
        return tf.io.encode_jpeg(image, quality=int(quality), chroma_downsampling=False).numpy()

    def bytes_feature(value: bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    parent = os.path.dirname(path)
    if parent:
        tf.io.gfile.makedirs(parent)
    stem, ext = os.path.splitext(path)
    bounds = np.linspace(0, n, shards + 1).astype(int)
    written = []
    for shard in range(shards):
        lo, hi = bounds[shard], bounds[shard + 1]
        shard_path = path if shards == 1 else f"{stem}{shard:02d}-{hi - lo}{ext or '.tfrec'}"
        with tf.io.TFRecordWriter(shard_path) as writer:
            for i in range(lo, hi):
                feature = {
                    "image_name": bytes_feature(str(names[i]).encode()),
                    "image": bytes_feature(encode(array[i])),
                    "target": bytes_feature(b"" if labels is None else str(labels[i]).encode()),
                }
                if labels is not None and isinstance(labels[i], (int, np.integer)):
                    feature["label"] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(labels[i])]))
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
        written.append(shard_path)
    return written
