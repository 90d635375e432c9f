import numpy as np
import pytest
from PIL import Image

from ganpaint.plotting import image_grid, save_image


def test_image_grid_tiles_in_order_with_padding():
    images = np.stack([np.full((4, 5, 3), v, np.uint8) for v in (10, 20, 30)])
    grid = image_grid(images, cols=2, padding=1)
    assert grid.shape == (4 * 2 + 1, 5 * 2 + 1, 3)
    assert grid[0, 0, 0] == 10 and grid[0, 6, 0] == 20 and grid[5, 0, 0] == 30
    assert grid[4, 0, 0] == 255 and grid[5, 6, 0] == 255  # padding and the empty slot


def test_image_grid_takes_generator_range():
    grid = image_grid(np.array([[[[-1.0]], [[1.0]]]]), padding=0)
    np.testing.assert_array_equal(grid[..., 0], [[0], [255]])


def test_image_grid_rejects_a_bad_shape():
    with pytest.raises(ValueError, match=r"non-empty batch .*\(4,\)"):
        image_grid(np.zeros(4))


def test_save_image_creates_folders(tmp_path):
    path = save_image(tmp_path / "a" / "b.png", np.zeros((3, 4, 1), np.uint8))
    assert Image.open(path).size == (4, 3)
