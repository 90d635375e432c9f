"""Pictures: image grids (and, later, training curves)."""

from __future__ import annotations

import math
import os

import numpy as np

from ganpaint.data.preprocess import to_uint8


def image_grid(images, cols: int | None = None, padding: int = 2,
               pad_value: int = 255) -> np.ndarray:
    """Tiles a batch of images into one uint8 picture `[H', W', C]`.

    Args:
        images: `[N, H, W, C]` (or `[N, H, W]`): float in [-1, 1] as generators output them, or
            uint8.
        cols: int. Images per row. Defaults to ceil(sqrt(N)).
        padding: int. Pixels between tiles.
        pad_value: int. Colour of the padding, 0-255.

    Example:
    >>> grid = image_grid(generator(noise))   # then plt.imshow(grid) or save_image(...)
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or len(array) == 0:
        raise ValueError(f"`images` must be a non-empty batch [N, H, W(, C)]. Received shape "
                         f"{array.shape}")
    if array.dtype != np.uint8:
        array = to_uint8(array)
    n, h, w, c = array.shape
    cols = cols or math.ceil(math.sqrt(n))
    if not isinstance(cols, int) or cols < 1:
        raise ValueError(f"`cols` must be a positive int. Received: cols={cols!r}")
    rows = math.ceil(n / cols)
    grid = np.full((rows * h + (rows - 1) * padding, cols * w + (cols - 1) * padding, c),
                   pad_value, np.uint8)
    for i, image in enumerate(array):
        r, k = divmod(i, cols)
        grid[r * (h + padding):r * (h + padding) + h, k * (w + padding):k * (w + padding) + w] = image
    return grid


def save_image(path: str | os.PathLike, image: np.ndarray) -> str:
    """Writes a uint8 `[H, W, C]` (C = 1 or 3) picture as PNG, creating parent folders."""
    from PIL import Image

    path = os.fspath(path)
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = to_uint8(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(image).save(path)
    return path
