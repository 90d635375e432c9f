"""tf.data input for GANs: sources, augmentation, writers and bundled samples.

Example:
>>> import ganpaint as gp
>>> ds = gp.data.image_dataset(gp.data.sample_path("mnist"), image_size=28, channels=1,
...                            batch_size=64, labels=True, seed=0)
"""

from ganpaint.data.pipeline import (
    image_dataset,
    paired_dataset,
    translation_dataset,
    unpaired_dataset,
)
from ganpaint.data.preprocess import decode_image, resize, scale_to_unit, to_uint8, unit_images
from ganpaint.data.samples import map_like, painterly, sample_path
from ganpaint.data.sources import IMAGE_EXTENSIONS, TFRECORD_EXTENSIONS
from ganpaint.data.writers import images_to_npz, load_images, write_tfrecords

__all__ = [
    "IMAGE_EXTENSIONS",
    "TFRECORD_EXTENSIONS",
    "decode_image",
    "image_dataset",
    "images_to_npz",
    "load_images",
    "map_like",
    "paired_dataset",
    "painterly",
    "resize",
    "sample_path",
    "scale_to_unit",
    "to_uint8",
    "translation_dataset",
    "unit_images",
    "unpaired_dataset",
    "write_tfrecords",
]
