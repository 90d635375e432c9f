"""Every source yields float32 batches in [-1, 1] of the requested shape, with labels that
follow."""

import numpy as np
import pytest
from conftest import batches, write_image

from ganpaint import data


def check_batch(x, shape):
    assert x.dtype == np.float32
    assert x.shape == shape
    assert x.min() >= -1.0 and x.max() <= 1.0


@pytest.fixture
def small_images(rng):
    return rng.integers(0, 256, (6, 20, 24, 3), dtype=np.uint8)


def test_numpy_array_uint8(small_images):
    ds = data.image_dataset(small_images, image_size=16, batch_size=3, seed=0)
    out = batches(ds)
    assert len(out) == 2
    for b in out:
        check_batch(b, (3, 16, 16, 3))


@pytest.mark.parametrize("scale", ["unit", "tanh", "byte"])
def test_numpy_float_ranges_are_read_by_value(small_images, scale):
    floats = small_images.astype(np.float32)
    floats = {"unit": floats / 255.0, "tanh": floats / 127.5 - 1.0, "byte": floats}[scale]
    ds = data.image_dataset(floats, image_size=(20, 24), batch_size=6, shuffle=False)
    (x,) = batches(ds)
    np.testing.assert_array_equal(data.to_uint8(x), small_images)


def test_npz_images_key_with_labels(tmp_path, small_images):
    path = tmp_path / "set.npz"
    np.savez(path, images=small_images, labels=np.arange(6) % 2)
    ds = data.image_dataset(path, image_size=32, batch_size=2, labels=True, seed=1)
    for x, y in batches(ds):
        check_batch(x, (2, 32, 32, 3))
        assert y.dtype == np.int32 and set(y) <= {0, 1}


def test_npz_arr_0_as_np_savez_writes(tmp_path, small_images):
    path = tmp_path / "plain.npz"
    np.savez(path, small_images)
    (x,) = batches(data.image_dataset(path, image_size=(20, 24), batch_size=6, shuffle=False))
    np.testing.assert_array_equal(data.to_uint8(x), small_images)


def test_npz_of_separate_same_shape_arrays_is_stacked(tmp_path, small_images):
    path = tmp_path / "list.npz"
    np.savez(path, *small_images)  # arr_0 ... arr_5
    (x,) = batches(data.image_dataset(path, image_size=(20, 24), batch_size=6, shuffle=False))
    np.testing.assert_array_equal(data.to_uint8(x), small_images)


def test_folder_recursive_with_class_labels(tmp_path, rng):
    for cls, value in [("cat", 30), ("dog", 220)]:
        for i in range(3):
            image = np.full((30, 40, 3), value, np.uint8)
            write_image(tmp_path / cls / ("sub" if i == 2 else "") / f"{i}.png", image)
    ds = data.image_dataset(tmp_path, image_size=16, batch_size=2, labels=True, seed=0)
    assert ds.class_names == ["cat", "dog"]
    assert ds.num_images == 6
    seen = []
    for x, y in batches(ds):
        check_batch(x, (2, 16, 16, 3))
        for image, label in zip(x, y):
            # cat images are dark, dog images bright: each label travels with its image.
            assert (image.mean() > 0) == (label == 1)
            seen.append(label)
    assert sorted(seen) == [0, 0, 0, 1, 1, 1]


def test_folder_without_labels_mixes_depths(tmp_path, rng):
    write_image(tmp_path / "a.jpg", rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))
    write_image(
        tmp_path / "deep" / "er" / "b.png", rng.integers(0, 256, (10, 30, 3), dtype=np.uint8)
    )
    ds = data.image_dataset(tmp_path, image_size=8, batch_size=2)
    (x,) = batches(ds)
    check_batch(x, (2, 8, 8, 3))


def test_tfrecord_file_glob_list_and_folder(tmp_path, small_images):
    files = data.write_tfrecords(small_images, tmp_path / "rec" / "photo.tfrec", shards=2)
    assert [f.split("/")[-1] for f in files] == ["photo00-3.tfrec", "photo01-3.tfrec"]
    for source in [files[0], str(tmp_path / "rec" / "*.tfrec"), files, tmp_path / "rec"]:
        ds = data.image_dataset(source, image_size=16, batch_size=3, seed=0)
        out = batches(ds)
        assert len(out) == (1 if source == files[0] else 2)
        for b in out:
            check_batch(b, (3, 16, 16, 3))


def test_digit_recognizer_csv(tmp_path, rng):
    digits = rng.integers(0, 256, (5, 28, 28))
    labels = np.array([3, 1, 4, 1, 5])
    path = tmp_path / "train.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = [",".join(map(str, [l, *d.reshape(-1)])) for l, d in zip(labels, digits)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    ds = data.image_dataset(
        path, image_size=28, channels=1, batch_size=5, labels=True, shuffle=False
    )
    ((x, y),) = batches(ds)
    check_batch(x, (5, 28, 28, 1))
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(data.to_uint8(x)[..., 0], digits)

    # The test.csv layout has no label column.
    test_path = tmp_path / "test.csv"
    test_path.write_text(
        ",".join(f"pixel{i}" for i in range(784))
        + "\n"
        + "\n".join(",".join(map(str, d.reshape(-1))) for d in digits)
        + "\n"
    )
    (x,) = batches(data.image_dataset(test_path, image_size=14, channels=1, batch_size=5))
    check_batch(x, (5, 14, 14, 1))


def test_grayscale_and_rgba_files_become_requested_channels(tmp_path):
    gray = np.full((8, 8, 1), 100, np.uint8)
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :4, 3] = 255  # left half opaque red, right half fully transparent
    write_image(tmp_path / "g.png", gray)
    write_image(tmp_path / "r.png", rgba)
    ds = data.image_dataset(tmp_path, image_size=8, batch_size=2, shuffle=False)
    ((g, r),) = [data.to_uint8(b) for b in batches(ds)]
    np.testing.assert_array_equal(g, np.full((8, 8, 3), 100))
    np.testing.assert_array_equal(r[:, :4], np.broadcast_to([200, 0, 0], (8, 4, 3)))
    np.testing.assert_array_equal(r[:, 4:], np.full((8, 4, 3), 255))  # composited on white
    ds1 = data.image_dataset(tmp_path, image_size=8, batch_size=2, channels=1, shuffle=False)
    ((g1, r1),) = [data.to_uint8(b) for b in batches(ds1)]
    assert g1.shape == (8, 8, 1) and (g1 == 100).all()
    assert r1[0, 0, 0] == round(200 * 0.2989)


def test_labels_array_for_a_source_without_labels(small_images):
    labels = np.arange(6)
    images = np.repeat(labels * 40, 20 * 24 * 3).reshape(6, 20, 24, 3).astype(np.uint8)
    ds = data.image_dataset(
        images, labels=labels, image_size=(20, 24), batch_size=2, seed=3, augment="flip"
    )
    for x, y in batches(ds):
        np.testing.assert_array_equal(data.to_uint8(x)[:, 0, 0, 0], y * 40)


def test_labels_follow_tfrecords(tmp_path):
    labels = np.arange(8) % 4
    images = np.repeat(labels * 60, 12 * 12 * 3).reshape(8, 12, 12, 3).astype(np.uint8)
    data.write_tfrecords(
        images, tmp_path / "l.tfrec", labels=labels.tolist(), shards=3, image_format="png"
    )
    ds = data.image_dataset(tmp_path, image_size=12, batch_size=4, labels=True, seed=5)
    seen = 0
    for x, y in batches(ds):
        np.testing.assert_array_equal(data.to_uint8(x)[:, 0, 0, 0], y * 60)
        seen += len(y)
    assert seen == 8


def test_bundled_samples_load():
    digits = data.image_dataset(
        data.sample_path("mnist"), image_size=28, channels=1, batch_size=500, labels=True, seed=0
    )
    assert digits.num_images == 5000
    x, y = next(iter(digits))
    check_batch(x.numpy(), (500, 28, 28, 1))
    assert len(set(y.numpy())) == 10  # the class-sorted file is fully shuffled
    cyc = data.unpaired_dataset(
        data.sample_path("photo"), data.sample_path("monet"), image_size=64, batch_size=2, seed=0
    )
    assert cyc.num_images == (30, 30)
    a, b = next(iter(cyc))
    check_batch(a.numpy(), (2, 64, 64, 3))
    check_batch(b.numpy(), (2, 64, 64, 3))
    pairs = data.paired_dataset(data.sample_path("pairs"), image_size=64, batch_size=3)
    assert pairs.num_images == 12
    x, y = next(iter(pairs))
    check_batch(x.numpy(), (3, 64, 64, 3))
    check_batch(y.numpy(), (3, 64, 64, 3))
