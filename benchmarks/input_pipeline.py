"""Input-pipeline throughput: TFRecord -> decode -> jitter -> flip -> batch at 256 px.

Writes 256 px JPEG TFRecords in the Kaggle layout (crops of the bundled photographs, quality 95
as Kaggle ships them), then measures images/s of:
- ganpaint, cache=False: every image decoded every epoch (datasets too big for memory);
- ganpaint, cache=True: decoded once, then only crop + flip + scale (the default);
- a textbook pipeline as Kaggle CycleGAN notebooks write it (decode, cast, scale, resize to
  286, random_crop, random_flip, all per image every epoch) for reference.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from ganpaint import data

IMAGE_SIZE = 256
NUM_IMAGES = 256


def make_tfrecords(folder: str) -> list[str]:
    photos = []
    source = data.image_dataset(
        data.sample_path("photo"),
        image_size=IMAGE_SIZE,
        batch_size=1,
        augment="jitter+flip",
        seed=0,
        repeat=True,
    )
    for batch in source.take(NUM_IMAGES):
        photos.append(data.to_uint8(batch[0]))
    return data.write_tfrecords(
        np.stack(photos), os.path.join(folder, "photo.tfrec"), shards=8, quality=95
    )


def textbook_pipeline(files: list[str], batch_size: int) -> tf.data.Dataset:
    """The per-image pipeline of the popular Kaggle/TF-tutorial CycleGAN notebooks."""
    spec = {
        "image_name": tf.io.FixedLenFeature([], tf.string),
        "image": tf.io.FixedLenFeature([], tf.string),
        "target": tf.io.FixedLenFeature([], tf.string),
    }

    def read(record):
        example = tf.io.parse_single_example(record, spec)
        image = tf.image.decode_jpeg(example["image"], channels=3)
        image = (tf.cast(image, tf.float32) / 127.5) - 1
        return tf.reshape(image, [IMAGE_SIZE, IMAGE_SIZE, 3])

    def jitter(image):
        image = tf.image.resize(image, [286, 286], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
        image = tf.image.random_crop(image, size=[IMAGE_SIZE, IMAGE_SIZE, 3])
        return tf.image.random_flip_left_right(image)

    ds = tf.data.TFRecordDataset(files).map(read, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(jitter, num_parallel_calls=tf.data.AUTOTUNE).shuffle(256)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def images_per_second(ds: tf.data.Dataset, epochs: int = 5) -> float:
    """Median over epochs of images/s, after one warm-up epoch (which fills any cache)."""
    for _ in ds:
        pass
    rates = []
    for _ in range(epochs):
        count, start = 0, time.perf_counter()
        for batch in ds:
            count += int((batch[0] if isinstance(batch, tuple) else batch).shape[0])
        rates.append(count / (time.perf_counter() - start))
    return float(np.median(rates))


def run(batch_sizes=(1, 8)) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        files = make_tfrecords(folder)
        for batch_size in batch_sizes:
            common = dict(
                image_size=IMAGE_SIZE, batch_size=batch_size, augment="jitter+flip", seed=0
            )
            for name, ds in [
                ("ganpaint cache=False", data.image_dataset(files, cache=False, **common)),
                ("ganpaint cache=True", data.image_dataset(files, cache=True, **common)),
                ("textbook (no cache)", textbook_pipeline(files, batch_size)),
            ]:
                rows.append(
                    {
                        "pipeline": name,
                        "batch_size": batch_size,
                        "images_per_s": round(images_per_second(ds), 1),
                    }
                )
    return {
        "benchmark": "input_pipeline",
        "image_size": IMAGE_SIZE,
        "num_images": NUM_IMAGES,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
        "rows": rows,
    }
