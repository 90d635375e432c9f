import numpy as np
import pytest
from PIL import Image

from ganpaint import plotting
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
    path.write_text(
        "epoch,step,network,layer,norm\n1,1,generator,g/up1_conv,0.5\n"
        "1,2,generator,g/up1_conv,0.25\n1,1,discriminator,d/logit,2.0\n"
    )
    fig = plot_gradient_norms(str(path), tmp_path / "g.png")
    assert len(fig.axes) == 2 and (tmp_path / "g.png").stat().st_size > 1000
    assert list(fig.axes[1].lines[0].get_ydata()) == [0.5, 0.25]  # generator panel, sorted


# -- animations ------------------------------------------------------------------------------


def test_a_run_becomes_a_gif_with_one_labelled_frame_per_grid(tmp_path, capsys):
    from PIL import Image

    from ganpaint import cli

    grids = tmp_path / "run" / "grids"
    for epoch in (1, 2, 5):
        plotting.save_image(
            grids / f"epoch_{epoch:04d}.png", np.full((20, 30, 3), 40 * epoch, np.uint8)
        )
    out = tmp_path / "progress.gif"
    assert cli.main(["animate", str(tmp_path / "run"), "--out", str(out)]) == 0
    gif = Image.open(out)
    assert gif.n_frames == 3 and "wrote 3 frames" in capsys.readouterr().out
    gif.seek(0)
    assert gif.size[0] == 30 and gif.size[1] > 20  # the grid under its epoch label
    before = out.read_bytes()
    assert cli.main(["animate", str(tmp_path / "run"), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_bytes() == before
    assert cli.main(["animate", str(tmp_path), "--out", str(tmp_path / "x.gif")]) == 2
    assert "No sample grids" in capsys.readouterr().err


def test_slerp_keeps_the_ends_and_the_norm_of_orthogonal_unit_vectors():
    a, b = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    path = plotting.slerp(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0, 0], [1, 0], atol=1e-6)
    np.testing.assert_allclose(path[-1, 0], [0, 1], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path[:, 0], axis=-1), 1.0, atol=1e-6)
    same = plotting.slerp(a, a, [0.5])  # parallel: the straight line, no division by zero
    np.testing.assert_allclose(same[0, 0], [1, 0])


def test_interpolation_rows_for_noise_models_and_one_row_per_class(tmp_path):
    from ganpaint import testing

    gan = testing.model("gan")
    images = plotting.interpolation(gan, tmp_path / "walk.png", steps=5, rows=3)
    assert images.shape == (3, 5, 16, 16, 1) and (tmp_path / "walk.png").exists()
    acgan = testing.model("acgan")
    walk = plotting.interpolation(acgan, tmp_path / "walk.gif", steps=4)
    assert walk.shape[:2] == (testing.CLASSES, 4)
    from PIL import Image

    assert Image.open(tmp_path / "walk.gif").n_frames == 4
    with pytest.raises(ValueError, match="translates images"):
        plotting.interpolation(testing.model("pix2pix"))
