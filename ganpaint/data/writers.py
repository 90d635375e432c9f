"""Writers: an image folder to `.npz` (the "create dataset" step) and Kaggle-layout TFRecords."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from ganpaint.data import preprocess, sources
from ganpaint.errors import refuse_existing


def load_images(
    source: Any,
    image_size: int | tuple[int, int],
    *,
    channels: int = 3,
    labels: bool | None = None,
    resize_mode: str = "stretch",
    on_error: str = "raise",
    annotations: str | None = None,
    box_margin: float = 0.0,
    square: str = "expand",
) -> dict:
    """Every image of any source `image_dataset` reads, as uint8 arrays with what names them.

    Returns a dict: `images` (uint8 `[N, H, W, C]`), `labels` (int32 or None), `names` (one
    per image: a folder's relative paths, an npz's `names`, TFRecords' `image_name`; else
    "0", "1", ...), `class_names` (or None) and `skipped` ([(file, reason)]).

    Args:
        labels: True requires labels, False drops them, None (default) keeps any the source
            holds (class subfolders, an npz's `labels`, a CSV's `label`, TFRecords' `label`).
        annotations, box_margin, square: one image per annotated object, cropped from its box
            (as `image_dataset` takes them); the objects' names are the labels.
    """
    from ganpaint.data.pipeline import image_dataset, load_box_crops, size_pair

    size = size_pair(image_size, "image_size")
    if annotations is not None:
        found = load_box_crops(
            source, annotations, size, None, None, channels, on_error, box_margin, square
        )
        if labels is False:
            found["labels"], found["class_names"] = None, None
        return found
    if isinstance(source, (str, os.PathLike)) and tf.io.gfile.isdir(os.fspath(source)):
        src = sources.resolve(source, channels=channels, labels=False, on_error=on_error)
        if src.files is not None:
            return _folder_images(
                os.fspath(source), src, size, channels, labels, resize_mode, on_error
            )
    if labels is None:
        try:
            src = sources.resolve(source, channels=channels, labels=True, on_error=on_error)
        except ValueError as err:
            if "holds no labels" not in str(err) and "label` feature" not in str(err):
                raise
            src = sources.resolve(source, channels=channels, labels=False, on_error=on_error)
    else:
        src = sources.resolve(source, channels=channels, labels=bool(labels), on_error=on_error)
    labelled = src.labels is not None or src.has_label_feature
    ds = image_dataset(
        source,
        image_size=size,
        batch_size=256,
        labels=labelled,
        channels=channels,
        resize_mode=resize_mode,
        shuffle=False,
        cache=False,
        drop_remainder=False,
        on_error=on_error,
    )
    images, found = [], []
    for element in ds:
        batch = element[0] if labelled else element
        images.append(preprocess.to_uint8(batch))
        if labelled:
            found.append(np.asarray(element[1]))
    names = src.names or sources.record_names(src)
    if names is None and src.files is not None:
        names = [os.path.basename(f) for f in src.files]
    images = np.concatenate(images)
    return {
        "images": images,
        "labels": np.concatenate(found).astype(np.int32) if labelled else None,
        "names": names or [str(i) for i in range(len(images))],
        "class_names": src.class_names,
        "skipped": list(src.skipped),
    }


def _folder_images(folder, src, size, channels, labels, resize_mode, on_error) -> dict:
    files = src.files
    rel = [os.path.relpath(f, folder) for f in files]
    in_subfolders = all(os.sep in r for r in rel)
    if labels is True and not in_subfolders:
        raise ValueError(
            f"labels=True needs every image of {folder} inside a class subfolder; "
            f"{next(r for r in rel if os.sep not in r)} is not"
        )
    use_labels = in_subfolders if labels is None else bool(labels)

    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def load(file_path):
        image = preprocess.decode_image(tf.io.read_file(file_path), channels)
        return preprocess.resize(image, size, resize_mode)

    images, kept, skipped = [], [], list(src.skipped)
    for file_path, name in zip(files, rel):
        try:
            images.append(load(tf.constant(file_path)).numpy())
            kept.append(name)
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as err:
            reason = err.message.splitlines()[0]
            if on_error == "raise":
                raise ValueError(f"Cannot decode {file_path}: {reason}") from None
            skipped.append((file_path, reason))
    if not images:
        raise ValueError(f"No image in {folder} could be decoded")
    if len(skipped) > len(src.skipped):
        names = "\n".join(f"  {f}: {r}" for f, r in skipped[len(src.skipped) :][:10])
        warnings.warn(
            f"Skipped {len(skipped) - len(src.skipped)} undecodable file(s):\n{names}", stacklevel=3
        )
    result = {
        "images": np.stack(images),
        "labels": None,
        "names": kept,
        "class_names": None,
        "skipped": skipped,
    }
    if use_labels:
        top = [k.split(os.sep)[0] for k in kept]
        result["class_names"] = sorted(set(top))
        index = {c: i for i, c in enumerate(result["class_names"])}
        result["labels"] = np.array([index[t] for t in top], np.int32)
    return result


def images_to_npz(
    source: Any,
    path: str | os.PathLike,
    image_size: int | tuple[int, int],
    *,
    channels: int = 3,
    labels: bool | None = None,
    resize_mode: str = "stretch",
    on_error: str = "raise",
    compress: bool = False,
    verbose: bool = True,
    overwrite: bool = False,
    annotations: str | None = None,
    box_margin: float = 0.0,
    square: str = "expand",
) -> dict:
    """Decodes and resizes every image of `source` into one `.npz` file.

    The file holds `images` (uint8 `[N, H, W, C]`), `names` (a folder's relative paths, an
    npz's names, TFRecords' `image_name`) and, when the source has them, `labels` (int32) and
    `class_names` (a folder's class subfolders). `image_dataset(path, ...)` reads it back.

    Args:
        source: a folder of images (searched recursively), or anything else `image_dataset`
            reads: TFRecords, a `.npz`, a digit-recognizer `.csv`.
        path: output file; `.npz` is appended if missing, parent folders are created. It is
            written under a temporary name and renamed when complete.
        image_size: int or (height, width).
        channels: 1 or 3.
        labels: True requires labels (a folder's class subfolders, ...), False ignores them,
            None (default) keeps them when the source has them.
        resize_mode: "stretch" or "center_crop".
        on_error: "raise" names the first file that cannot be decoded; "skip" leaves such files
            out and warns with their names.
        compress: bool. `np.savez_compressed` instead of `np.savez`.
        verbose: bool. Accepted for compatibility (reading is not shown).
        overwrite: bool. Replace an existing `path`; refused otherwise.
        annotations: a folder of Pascal VOC files (Stanford Dogs' `Annotation/`): one image
            per annotated object, cropped from its box and made square (`square`: "expand"
            or "pad"; `box_margin` widens each box), labelled by the object's name.

    Returns:
        dict with `path`, `num_images`, `class_names`, `labelled` and `skipped`
        ([(file, reason)]).

    Example:
    >>> images_to_npz("cans/", "cans_128.npz", image_size=128)
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    if not overwrite:
        refuse_existing(path, "file")
    if (
        isinstance(source, (str, os.PathLike))
        and not tf.io.gfile.exists(os.fspath(source))
        and not any(c in os.fspath(source) for c in "*?[")
    ):
        raise ValueError(f"No such file or folder: {os.fspath(source)}")
    found = load_images(
        source,
        image_size,
        channels=channels,
        labels=labels,
        resize_mode=resize_mode,
        on_error=on_error,
        annotations=annotations,
        box_margin=box_margin,
        square=square,
    )
    arrays = {"images": found["images"], "names": np.array(found["names"])}
    if found["labels"] is not None:
        arrays["labels"] = found["labels"]
    if found["class_names"]:
        arrays["class_names"] = np.array(found["class_names"])
    from ganpaint import fs

    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    fs.write_atomically(path, buffer.getvalue())
    return {
        "path": path,
        "num_images": len(found["images"]),
        "class_names": found["class_names"],
        "labelled": found["labels"] is not None,
        "skipped": found["skipped"],
    }


def write_tfrecords(
    images: Any,
    path: str | os.PathLike,
    names: Sequence[str] | None = None,
    labels: Sequence[Any] | None = None,
    *,
    shards: int = 1,
    image_format: str = "jpeg",
    quality: int = 95,
    class_names: Sequence[str] | None = None,
    overwrite: bool = False,
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
        class_names: names of integer labels, written as each record's `target` (else the
            label's number).
        overwrite: bool. Replace existing files; refused otherwise (before anything is written).

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
        raise ValueError(
            f"`shards` must be an int in 1..{n} (the number of images). Received: shards={shards!r}"
        )

    def encode(image):
        if image_format == "png":
            return tf.io.encode_png(image).numpy()
        return tf.io.encode_jpeg(image, quality=int(quality), chroma_downsampling=False).numpy()

    def bytes_feature(value: bytes):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    stem, ext = os.path.splitext(path)
    bounds = np.linspace(0, n, shards + 1).astype(int)
    shard_paths = [
        path
        if shards == 1
        else f"{stem}{shard:02d}-{bounds[shard + 1] - bounds[shard]}{ext or '.tfrec'}"
        for shard in range(shards)
    ]
    if not overwrite:
        for shard_path in shard_paths:
            refuse_existing(shard_path, "TFRecord file")
    from ganpaint import fs

    fs.makedirs(fs.dirname(path))

    def target(i):
        if labels is None:
            return b""
        if class_names is not None and isinstance(labels[i], (int, np.integer)):
            return str(class_names[int(labels[i])]).encode()
        return str(labels[i]).encode()

    written = []
    for shard, shard_path in enumerate(shard_paths):
        lo, hi = bounds[shard], bounds[shard + 1]
        partial = f"{shard_path}.partial"  # renamed when whole: a kill leaves no half shard
        with tf.io.TFRecordWriter(partial) as writer:
            for i in range(lo, hi):
                feature = {
                    "image_name": bytes_feature(str(names[i]).encode()),
                    "image": bytes_feature(encode(array[i])),
                    "target": bytes_feature(target(i)),
                }
                if labels is not None and isinstance(labels[i], (int, np.integer)):
                    feature["label"] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(labels[i])])
                    )
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
        fs.rename(partial, shard_path, overwrite=True)
        written.append(shard_path)
    return written
