"""The `ganpaint` console script: each subcommand on small real files, and bad arguments."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import write_image
from ganpaint import cli, data


@pytest.fixture
def folder(tmp_path, rng):
    for cls in ["coke", "pepsi"]:
        for i in range(2):
            write_image(tmp_path / "cans" / cls / f"{i}.jpg",
                        rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    return tmp_path / "cans"


def test_make_npz(folder, tmp_path, capsys):
    assert cli.main(["make-npz", str(folder), str(tmp_path / "cans.npz"), "--image-size",
                     "16"]) == 0
    assert "wrote 4 images, 2 classes" in capsys.readouterr().out
    with np.load(tmp_path / "cans.npz") as npz:
        assert npz["images"].shape == (4, 16, 16, 3)


def test_make_tfrecords_from_npz(folder, tmp_path, capsys):
    cli.main(["make-npz", str(folder), str(tmp_path / "cans.npz"), "--image-size", "16x12"])
    assert cli.main(["make-tfrecords", str(tmp_path / "cans.npz"), str(tmp_path / "r" / "c.tfrec"),
                     "--image-size", "16x12", "--shards", "2", "--format", "png"]) == 0
    assert "wrote 4 images to 2 file(s)" in capsys.readouterr().out
    ds = data.image_dataset(tmp_path / "r", image_size=(16, 12), batch_size=4)
    assert ds.num_images == 4


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["make-npz", str(tmp_path / "empty"), str(tmp_path / "o.npz"),
                     "--image-size", "8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganpaint make-npz: error: Folder") and "holds no images" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["make-npz", "a", "b", "--image-size", "big"], "expected an int or HxW, got 'big'"),
    (["make-npz", "a", "b", "--image-size", "0"], "expected a positive int or HxW"),
    (["make-npz", "a", "b"], "the following arguments are required: --image-size"),
    (["make-tfrecords", "a", "b", "--image-size", "8", "--shards", "0"],
     "expected a positive int, got '0'"),
    (["make-tfrecords", "a", "b", "--image-size", "8", "--format", "gif"], "invalid choice"),
    (["paint"], "invalid choice: 'paint'"),
])
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_demo_writes_its_pictures_into_the_folder_it_names(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "ganpaint", "demo", "--out", str(out)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"written to {out}" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "mnist_batch.png", "pairs_batch.png", "photo_monet_batch.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # nothing else in the cwd
