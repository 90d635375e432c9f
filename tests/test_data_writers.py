"""images_to_npz and write_tfrecords round trips."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import batches, write_image

from ganpaint import data


def read_back(source, size, **kwargs):
    ds = data.image_dataset(
        source, image_size=size, batch_size=1, shuffle=False, drop_remainder=False, **kwargs
    )
    return np.concatenate(
        [data.to_uint8(b if not isinstance(b, tuple) else b[0]) for b in batches(ds)]
    )


def test_png_tfrecords_read_back_pixel_exact(tmp_path, rng):
    images = rng.integers(0, 256, (5, 17, 23, 3), dtype=np.uint8)
    files = data.write_tfrecords(images, tmp_path / "x.tfrec", image_format="png", shards=2)
    np.testing.assert_array_equal(read_back(files, (17, 23)), images)


def test_jpeg_tfrecords_read_back_exactly_what_the_jpeg_decodes_to(tmp_path, rng):
    # JPEG is lossy: the reader must return the decoded JPEG pixels untouched (no resize
    # when the size already matches), and those must be close to the originals.
    smooth = np.stack(np.meshgrid(np.arange(32), np.arange(32)), -1).sum(-1) * 4
    images = np.stack([np.stack([smooth, 255 - smooth, smooth // 2], -1)] * 3).astype(np.uint8)
    (path,) = data.write_tfrecords(images, tmp_path / "x.tfrec", quality=95)
    back = read_back(path, 32)
    expected = []
    for record in tf.data.TFRecordDataset(path):
        example = tf.train.Example.FromString(record.numpy())
        expected.append(tf.io.decode_jpeg(example.features.feature["image"].bytes_list.value[0]))
    np.testing.assert_array_equal(back, np.stack(expected))
    assert np.abs(back.astype(int) - images).mean() < 2.0


def test_tfrecords_have_the_kaggle_layout(tmp_path, rng):
    images = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    (path,) = data.write_tfrecords(
        images, tmp_path / "m.tfrec", names=["a", "b"], labels=["monet", "monet"]
    )
    features = tf.train.Example.FromString(
        next(iter(tf.data.TFRecordDataset(path))).numpy()
    ).features.feature
    assert features["image_name"].bytes_list.value[0] == b"a"
    assert features["target"].bytes_list.value[0] == b"monet"
    assert features["image"].bytes_list.value[0][:3] == b"\xff\xd8\xff"  # JPEG
    assert "label" not in features  # string targets are not class indices


def test_grayscale_tfrecords_round_trip(tmp_path, rng):
    digits = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    files = data.write_tfrecords(
        digits, tmp_path / "d.tfrec", image_format="png", labels=[0, 1, 2, 3]
    )
    back = read_back(files, 28, channels=1)
    np.testing.assert_array_equal(back[..., 0], digits)
    ds = data.image_dataset(
        files, image_size=28, channels=1, batch_size=4, labels=True, shuffle=False
    )
    np.testing.assert_array_equal(batches(ds)[0][1], [0, 1, 2, 3])


def test_images_to_npz_with_class_subfolders(tmp_path, rng):
    for cls in ["coke", "pepsi"]:
        for i in range(2):
            write_image(
                tmp_path / "cans" / cls / f"{i}.png",
                rng.integers(0, 256, (30 + i, 20, 3), dtype=np.uint8),
            )
    summary = data.images_to_npz(tmp_path / "cans", tmp_path / "out" / "cans", 16, verbose=False)
    assert summary["path"].endswith("cans.npz")
    assert summary["num_images"] == 4 and summary["class_names"] == ["coke", "pepsi"]
    with np.load(summary["path"]) as npz:
        assert npz["images"].shape == (4, 16, 16, 3) and npz["images"].dtype == np.uint8
        np.testing.assert_array_equal(npz["labels"], [0, 0, 1, 1])
        assert list(npz["names"]) == ["coke/0.png", "coke/1.png", "pepsi/0.png", "pepsi/1.png"]
    ds = data.image_dataset(summary["path"], image_size=16, batch_size=4, labels=True)
    assert ds.class_names == ["coke", "pepsi"]
    x, y = batches(ds)[0]
    assert x.shape == (4, 16, 16, 3) and sorted(y) == [0, 0, 1, 1]


def test_images_to_npz_matches_the_pipeline_exactly(tmp_path, rng):
    for i in range(3):
        write_image(
            tmp_path / "imgs" / f"{i}.png", rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
        )
    summary = data.images_to_npz(tmp_path / "imgs", tmp_path / "a.npz", (20, 25), verbose=False)
    with np.load(summary["path"]) as npz:
        np.testing.assert_array_equal(npz["images"], read_back(tmp_path / "imgs", (20, 25)))
        assert "labels" not in npz


def test_write_tfrecords_rejects_mismatched_names(tmp_path, rng):
    images = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="`names` has 2 entries for 3 images"):
        data.write_tfrecords(images, tmp_path / "x.tfrec", names=["a", "b"])
    with pytest.raises(ValueError, match="`labels` has 1 entries for 3 images"):
        data.write_tfrecords(images, tmp_path / "x.tfrec", labels=[1])
    with pytest.raises(ValueError, match="`shards` must be an int in 1..3"):
        data.write_tfrecords(images, tmp_path / "x.tfrec", shards=4)
    with pytest.raises(ValueError, match="image_format"):
        data.write_tfrecords(images, tmp_path / "x.tfrec", image_format="gif")
