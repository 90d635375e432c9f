"""Per-image preprocessing as TensorFlow ops: decode, channels, resize, jitter, flip, scaling.

Everything here works on uint8 images until `scale_to_unit`, so pipelines can cache compact
uint8 tensors and pay for float conversion only after augmentation.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# ITU-R 601 luma, the weights tf.image.rgb_to_grayscale and PIL's "L" mode use.
_LUMA = (0.2989, 0.5870, 0.1140)


def orient(image: tf.Tensor, orientation) -> tf.Tensor:
    """`image` as a viewer shows it, given its EXIF orientation (1-8; 1 and anything else:
    as stored): the transposition PIL's `ImageOps.exif_transpose` applies. A phone's JPEGs
    store the sensor's pixels with the camera's turn in this tag."""
    transpose = lambda x: tf.transpose(x, [1, 0, 2])
    branches = [
        lambda: image,  # 0, unused
        lambda: image,  # 1: as stored
        lambda: tf.image.flip_left_right(image),  # 2
        lambda: tf.image.rot90(image, 2),  # 3
        lambda: tf.image.flip_up_down(image),  # 4
        lambda: transpose(image),  # 5
        lambda: tf.image.rot90(image, 3),  # 6: turned 90° clockwise
        lambda: tf.image.rot90(transpose(image), 2),  # 7
        lambda: tf.image.rot90(image, 1),
    ]  # 8
    index = tf.clip_by_value(tf.cast(orientation, tf.int32), 0, 8)
    return tf.switch_case(index, branches)


_EXIF_SPAN = 65536  # an APP1 segment is at most 64 KB, and it comes first


def exif_orientation(data: tf.Tensor) -> tf.Tensor:
    """The EXIF orientation (1-8) of JPEG bytes, 1 where there is none: found in graph ops
    (the `Exif\0\0` header in the first 64 KB, the TIFF byte order, IFD0's 0x0112 entry), so
    it runs inside tf.data on any device's host, TFRecords included."""
    head = tf.io.decode_raw(tf.strings.substr(data, 0, _EXIF_SPAN), tf.uint8)
    size = tf.shape(head)[0]
    b = tf.cast(tf.pad(head, [[0, _EXIF_SPAN + 64 - size]]), tf.int32)
    marker = tf.ones([_EXIF_SPAN], tf.bool)
    for k, byte in enumerate(b"Exif\0\0"):
        marker &= tf.equal(b[k : k + _EXIF_SPAN], byte)
    found = tf.reduce_any(marker)
    tiff = tf.cast(tf.argmax(tf.cast(marker, tf.int32)), tf.int32) + 6
    little = tf.equal(b[tiff], 0x49)  # "II": Intel order; "MM": Motorola

    def at(offset):
        return tf.gather(b, tf.clip_by_value(offset, 0, _EXIF_SPAN + 63))

    def u16(offset):
        return tf.where(
            little, at(offset) + 256 * at(offset + 1), 256 * at(offset) + at(offset + 1)
        )

    def u32(offset):
        return tf.where(
            little, u16(offset) + 65536 * u16(offset + 2), 65536 * u16(offset) + u16(offset + 2)
        )

    ifd = tiff + u32(tiff + 4)
    count = tf.minimum(u16(ifd), 64)
    entries = ifd + 2 + 12 * tf.range(64)
    tags = u16(entries)
    hit = (tf.range(64) < count) & tf.equal(tags, 0x0112) & (entries + 12 <= size)
    value = tf.reduce_max(tf.where(hit, u16(entries + 8), 0))
    ok = found & (tiff + 8 <= size) & (value >= 1) & (value <= 8)
    return tf.where(ok, value, 1)


def decode_image(data: tf.Tensor, channels: int = 3) -> tf.Tensor:
    """Decodes JPEG, PNG, GIF (first frame) or BMP bytes to a uint8 `[H, W, channels]` image,
    turned as its EXIF orientation says (JPEG).

    Grayscale becomes RGB by repetition, RGB becomes grayscale by luma, and an alpha channel is
    composited over white (transparent product shots then get a clean background instead of
    whatever colour the transparent pixels happen to hold).

    Args:
        data: string scalar tensor. Encoded image bytes.
        channels: int. 1 or 3. Defaults to 3.
    """

    def any_format():
        image = tf.io.decode_image(data, channels=0, expand_animations=False, dtype=tf.uint8)
        # Files that already have the wanted channels skip the float conversion.
        same = tf.equal(tf.shape(image)[-1], channels)
        return tf.cond(
            same, lambda: image[..., :channels], lambda: convert_channels(image, channels)
        )

    # JPEG has no alpha, and libjpeg converts gray <-> RGB itself, fastest of all.
    # Phones store the sensor's pixels and the camera's turn in EXIF: applied, as viewers do.
    is_jpeg = tf.equal(tf.strings.substr(data, 0, 3), b"\xff\xd8\xff")
    out = tf.cond(
        is_jpeg,
        lambda: orient(tf.io.decode_jpeg(data, channels=channels), exif_orientation(data)),
        any_format,
    )
    return tf.ensure_shape(out, [None, None, channels])


def convert_channels(image: tf.Tensor, channels: int = 3) -> tf.Tensor:
    """Converts uint8 images `[..., C]` with C in {1, 2, 3, 4} to `channels` (1 or 3)."""
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: channels={channels}")
    static_c = image.shape[-1]
    if static_c == channels:
        return image
    x = tf.cast(image, tf.float32)
    opaque = lambda: tf.fill(tf.concat([tf.shape(x)[:-1], [1]], 0), 255.0)
    branches = [
        lambda: (tf.repeat(x[..., :1], 3, axis=-1), opaque()),  # gray
        lambda: (tf.repeat(x[..., :1], 3, axis=-1), x[..., 1:2]),  # gray + alpha
        lambda: (x[..., :3], opaque()),  # RGB
        lambda: (x[..., :3], x[..., 3:4]),  # RGBA
    ]
    if static_c is not None:
        if static_c not in (1, 2, 3, 4):
            raise ValueError(f"Images must have 1 to 4 channels. Received shape {image.shape}")
        rgb, alpha = branches[static_c - 1]()
    else:
        c = tf.shape(image)[-1]
        tf.debugging.assert_less_equal(c, 4, message="Images must have 1 to 4 channels")
        rgb, alpha = tf.switch_case(c - 1, branches)
    alpha = alpha / 255.0
    rgb = rgb * alpha + 255.0 * (1.0 - alpha)
    if channels == 1:
        rgb = tf.reduce_sum(rgb * tf.constant(_LUMA), axis=-1, keepdims=True)
    else:
        rgb = tf.ensure_shape(rgb, [None] * (len(image.shape) - 1) + [3])
    return tf.cast(tf.clip_by_value(tf.round(rgb), 0.0, 255.0), tf.uint8)


def resize(image: tf.Tensor, size: tuple[int, int], mode: str = "stretch") -> tf.Tensor:
    """Resizes a uint8 `[H, W, C]` image to `size`, antialiased bilinear, uint8 out.

    An image already at `size` passes through untouched (pixel-exact).

    Args:
        size: (height, width).
        mode: "stretch" resizes the whole image (the aspect ratio may change); "center_crop"
            first cuts the largest centred window with the target aspect ratio.
    """
    if mode not in ("stretch", "center_crop"):
        raise ValueError(f"`resize_mode` must be 'stretch' or 'center_crop'. Received: {mode!r}")
    height, width = int(size[0]), int(size[1])
    if mode == "center_crop":
        image = _center_crop_to_aspect(image, height / width)
    shape = tf.shape(image)

    def _resize(antialias):
        out = tf.image.resize(image, (height, width), method="bilinear", antialias=antialias)
        return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)

    # Antialiasing only changes a downscale; upscaling (286 px jitter) takes the fast kernel.
    shrinks = tf.logical_or(shape[0] > height, shape[1] > width)

    same = tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width))
    out = tf.cond(
        same, lambda: image, lambda: tf.cond(shrinks, lambda: _resize(True), lambda: _resize(False))
    )
    return tf.ensure_shape(out, [height, width, image.shape[-1]])


def _center_crop_to_aspect(image: tf.Tensor, aspect: float) -> tf.Tensor:
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    h, w = shape[0], shape[1]
    crop_h = tf.minimum(h, w * aspect)
    crop_w = tf.minimum(w, h / aspect)
    top = tf.cast((h - crop_h) // 2, tf.int32)
    left = tf.cast((w - crop_w) // 2, tf.int32)
    return tf.image.crop_to_bounding_box(
        image, top, left, tf.cast(crop_h, tf.int32), tf.cast(crop_w, tf.int32)
    )


def random_crop(image: tf.Tensor, size: tuple[int, int], seed: tf.Tensor) -> tf.Tensor:
    """Crops a random `size` window from `[H, W, C]`, stateless: the same seed, the same crop."""
    crop_shape = [int(size[0]), int(size[1]), image.shape[-1]]
    return tf.image.stateless_random_crop(image, crop_shape, seed=seed)


def random_flip(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Flips `[H, W, C]` left-right with probability 1/2, stateless."""
    return tf.image.stateless_random_flip_left_right(image, seed=seed)


def scale_to_unit(image: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] to float32 [-1, 1], the range of a tanh generator."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def unit_images(images, name: str = "images") -> np.ndarray:
    """Images as float32 in [-1, 1], the range ganpaint's models take and give.

    uint8 (the `keras.datasets` habit) is read as [0, 255] and scaled the way `scale_to_unit`
    does; floats must be finite and in [-1, 1] already; other integer types are refused, as
    are floats outside the range (a [0, 255] float array would train or translate on numbers
    255 times too large). `name` is the argument the error names.
    """
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 127.5 - 1.0
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number):
        raise ValueError(
            f"`{name}` must be images: uint8 in [0, 255] or floats in [-1, 1]. "
            f"Received dtype {x.dtype}"
        )
    if np.issubdtype(x.dtype, np.integer):
        raise ValueError(
            f"`{name}` has integer dtype {x.dtype}; give uint8 [0, 255] "
            f"(`{name}.astype('uint8')`) or floats in [-1, 1]."
        )
    x = x.astype(np.float32, copy=False)
    if x.size:
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise ValueError(
                f"`{name}` holds {bad} NaN or infinite value(s); give finite images in [-1, 1]."
            )
        lo, hi = float(np.min(x)), float(np.max(x))
        if lo < -1.01 or hi > 1.01:
            raise ValueError(
                f"`{name}` must be floats in [-1, 1] (or uint8 in [0, 255]); "
                f"received values in [{lo:.4g}, {hi:.4g}]. From [0, 255]: "
                f"`{name} / 127.5 - 1` or `{name}.astype('uint8')`; from [0, 1]: "
                f"`2 * {name} - 1`."
            )
    return x


def to_uint8(images) -> np.ndarray:
    """Inverts `scale_to_unit`: float images in [-1, 1] to uint8 [0, 255] (clipped, rounded).

    Accepts numpy arrays, tensors and anything `np.asarray` takes. uint8 images are returned
    as they are; floats outside [-1, 1] are refused.

    Example:
    >>> to_uint8(np.array([-1.0, 0.0, 1.0]))
    array([  0, 128, 255], dtype=uint8)
    """
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x  # already [0, 255]: converting again would whiten almost every pixel
    if np.issubdtype(x.dtype, np.integer):
        raise ValueError(
            f"`to_uint8` takes float images in [-1, 1]; received integer dtype "
            f"{x.dtype}. For [0, 255] integers use `x.astype('uint8')`."
        )
    x = x.astype(np.float32)
    if x.size:
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        if bad:
            raise ValueError(
                f"`to_uint8` received {bad} NaN or infinite value(s) (a diverged "
                "generator?): they have no colour; check the model, or replace "
                "them with `np.nan_to_num(x)` on purpose."
            )
        lo, hi = float(np.min(x)), float(np.max(x))
        if lo < -1.01 or hi > 1.01:
            raise ValueError(
                f"`to_uint8` takes float images in [-1, 1]; received values in "
                f"[{lo:.4g}, {hi:.4g}]. From [0, 255] floats: "
                "`x.round().astype('uint8')`; from [0, 1]: `to_uint8(2 * x - 1)`."
            )
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)
