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


def test_plot_history_from_a_keras_history_dict_and_csv(tmp_path):
    from ganpaint.plotting import plot_history

    history = {"d_loss": [1.0, 0.8, 0.7], "g_loss": [0.7, 0.9, 1.1], "fid": [90.0, 70.0, 60.0]}
    fig = plot_history(history, path=tmp_path / "h.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["discriminator", "generator", "other"]
    assert [list(line.get_ydata()) for line in fig.axes[0].lines] == [[1.0, 0.8, 0.7]]
    assert (tmp_path / "h.png").stat().st_size > 1000
    csv_path = tmp_path / "epochs.csv"
    csv_path.write_text("epoch,d_loss\n1,0.5\n2,0.25\n")
    fig = plot_history(str(csv_path))
    assert list(fig.axes[0].lines[0].get_ydata()) == [0.5, 0.25]
    with pytest.raises(ValueError, match="history"):
        plot_history(42)


def test_plot_gradient_norms_from_the_callbacks_csv(tmp_path):
    from ganpaint.plotting import plot_gradient_norms

    path = tmp_path / "gradient_norms.csv"
    path.write_text("epoch,step,network,layer,norm\n1,1,generator,g/up1_conv,0.5\n"
                    "1,2,generator,g/up1_conv,0.25\n1,1,discriminator,d/logit,2.0\n")
    fig = plot_gradient_norms(str(path), tmp_path / "g.png")
    assert len(fig.axes) == 2 and (tmp_path / "g.png").stat().st_size > 1000
    assert list(fig.axes[1].lines[0].get_ydata()) == [0.5, 0.25]  # generator panel, sorted
