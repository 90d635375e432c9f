"""Bad input gets a clear error naming the file, argument or shape (or is skipped and reported)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import batches, write_image

from ganpaint import data


@pytest.fixture
def folder_with_one_good_image(tmp_path, rng):
    write_image(tmp_path / "imgs" / "good.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    return tmp_path / "imgs"


def truncated_jpeg(path, rng):
    write_image(path, rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    content = open(path, "rb").read()
    open(path, "wb").write(content[: len(content) // 2])


def test_corrupt_jpeg_is_named(folder_with_one_good_image, rng):
    bad = folder_with_one_good_image / "broken.jpg"
    truncated_jpeg(bad, rng)
    with pytest.raises(ValueError, match=r"broken\.jpg: is a truncated JPEG"):
        data.image_dataset(folder_with_one_good_image, image_size=8, batch_size=1)


def test_garbage_with_image_extension_is_named(folder_with_one_good_image):
    (folder_with_one_good_image / "fake.jpg").write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ValueError, match=r"fake\.jpg: is not a JPEG, PNG"):
        data.image_dataset(folder_with_one_good_image, image_size=8, batch_size=1)


def test_non_image_file_in_folder_is_named(folder_with_one_good_image):
    (folder_with_one_good_image / "labels.txt").write_text("cat\n")
    with pytest.raises(ValueError, match=r"labels\.txt: not an image file"):
        data.image_dataset(folder_with_one_good_image, image_size=8, batch_size=1)


def test_hidden_files_are_ignored(folder_with_one_good_image):
    (folder_with_one_good_image / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    ds = data.image_dataset(folder_with_one_good_image, image_size=8, batch_size=1)
    assert ds.num_images == 1


def test_skip_mode_leaves_bad_files_out_and_reports_them(folder_with_one_good_image, rng):
    truncated_jpeg(folder_with_one_good_image / "broken.jpg", rng)
    (folder_with_one_good_image / "notes.txt").write_text("hi")
    with pytest.warns(UserWarning, match=r"Skipped 2 bad file\(s\)") as record:
        ds = data.image_dataset(
            folder_with_one_good_image, image_size=8, batch_size=1, on_error="skip"
        )
    message = str(record[0].message)
    assert "broken.jpg" in message and "notes.txt" in message
    assert sorted(os.path.basename(p) for p in ds.skipped_files) == ["broken.jpg", "notes.txt"]
    assert len(batches(ds)) == 1


def test_empty_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"Folder .*empty holds no images"):
        data.image_dataset(tmp_path / "empty", image_size=8, batch_size=1)


def test_folder_of_only_bad_files_says_so(tmp_path, rng):
    truncated_jpeg(tmp_path / "only" / "a.jpg", rng)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="no readable images"):
        data.image_dataset(tmp_path / "only", image_size=8, batch_size=1, on_error="skip")


def test_npz_whose_labels_do_not_match_its_images(tmp_path, rng):
    path = tmp_path / "bad.npz"
    np.savez(path, images=rng.integers(0, 256, (5, 8, 8), dtype=np.uint8), labels=np.arange(4))
    with pytest.raises(ValueError, match=r"`labels` in .*bad\.npz has 4 labels for 5 images"):
        data.image_dataset(path, image_size=8, batch_size=1, labels=True)


def test_npz_with_mixed_shapes_is_named(tmp_path, rng):
    path = tmp_path / "mixed.npz"
    np.savez(path, np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8))
    with pytest.raises(
        ValueError,
        match=r"mixed\.npz holds images of mixed shapes .*arr_1: "
        r"\(9, 8, 3\)",
    ):
        data.image_dataset(path, image_size=8, batch_size=1)


def test_npz_without_images_lists_its_keys(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, pictures=np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(
        ValueError,
        match=r"x\.npz has no `images` or `arr_0` array; it holds "
        r"\['pictures'\]",
    ):
        data.image_dataset(path, image_size=8, batch_size=1)


def test_tfrecord_without_image_feature_is_named(tmp_path):
    path = str(tmp_path / "wrong.tfrec")
    with tf.io.TFRecordWriter(path) as writer:
        feature = {"img": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"]))}
        writer.write(
            tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
        )
    with pytest.raises(
        ValueError,
        match=r"wrong\.tfrec: has no `image` bytes feature .*"
        r"found \['img'\]",
    ):
        data.image_dataset(path, image_size=8, batch_size=1)


def test_file_that_is_not_a_tfrecord_is_named(tmp_path):
    path = tmp_path / "junk.tfrec"
    path.write_bytes(b"this is not a tfrecord file at all, just text" * 3)
    with pytest.raises(ValueError, match=r"junk\.tfrec: is not a readable TFRecord"):
        data.image_dataset(path, image_size=8, batch_size=1)


def test_glob_matching_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"No files match .*nothing\*\.tfrec"):
        data.image_dataset(str(tmp_path / "nothing*.tfrec"), image_size=8, batch_size=1)


def test_missing_path(tmp_path):
    with pytest.raises(ValueError, match=r"No such file or folder: .*nope"):
        data.image_dataset(tmp_path / "nope", image_size=8, batch_size=1)


def test_labels_requested_from_a_source_without_labels(rng):
    with pytest.raises(ValueError, match="labels=True but numpy array holds no labels"):
        data.image_dataset(
            rng.integers(0, 256, (2, 8, 8), dtype=np.uint8), image_size=8, batch_size=1, labels=True
        )


def test_labels_array_of_wrong_length(rng):
    with pytest.raises(ValueError, match="labels has 3 labels for 2 images"):
        data.image_dataset(
            rng.integers(0, 256, (2, 8, 8), dtype=np.uint8),
            image_size=8,
            batch_size=1,
            labels=[0, 1, 2],
        )


def test_folder_mixing_loose_images_and_class_folders(tmp_path, rng):
    write_image(tmp_path / "loose.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    write_image(tmp_path / "cls" / "a.png", rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"mixes images at its top level \(e\.g\. loose\.png\)"):
        data.image_dataset(tmp_path, image_size=8, batch_size=1, labels=True)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((2, 8), np.uint8), r"shape \[N, H, W\] or \[N, H, W, C\].*\(2, 8\)"),
        (np.zeros((2, 8, 8, 5), np.uint8), r"\(2, 8, 8, 5\)"),
        (np.full((2, 8, 8), 300.0), r"values in \[300.0, 300.0\]"),
        (np.full((2, 8, 8), -3.0), r"values in \[-3.0, -3.0\]"),
        (np.full((2, 8, 8), np.nan), "NaN"),
        (np.zeros((0, 8, 8), np.uint8), "holds no images"),
    ],
)
def test_bad_arrays(array, message):
    with pytest.raises(ValueError, match=message):
        data.image_dataset(array, image_size=8, batch_size=1, drop_remainder=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(image_size=0), r"`image_size` must be positive. Received: image_size=0"),
        (dict(image_size="big"), r"`image_size` must be an int or a \(height, width\) pair"),
        (dict(batch_size=0), r"`batch_size` must be a positive int. Received: batch_size=0"),
        (dict(augment="rotate"), r"Unknown augmentation 'rotate'"),
        (dict(augment="jitter", jitter_size=4), r"`jitter_size` must be at least `image_size`"),
        (dict(channels=2), r"`channels` must be 1 or 3. Received: channels=2"),
        (dict(on_error="ignore"), r"`on_error` must be 'raise' or 'skip'"),
        (dict(batch_size=5), r"holds 3 images, fewer than batch_size=5"),
        (
            dict(resize_mode="fit", image_size=6),
            r"`resize_mode` must be 'stretch' or 'center_crop'",
        ),
    ],
)
def test_bad_arguments_are_named(rng, kwargs, message):
    args = dict(image_size=8, batch_size=1) | kwargs
    with pytest.raises(ValueError, match=message):
        data.image_dataset(rng.integers(0, 256, (3, 8, 8), dtype=np.uint8), **args)


def test_bad_paired_direction(rng):
    with pytest.raises(
        ValueError,
        match=r"`direction` must be 'AtoB' or 'BtoA'. Received: "
        r"direction='AB'",
    ):
        data.paired_dataset(
            rng.integers(0, 256, (2, 8, 16, 3), dtype=np.uint8),
            image_size=8,
            batch_size=1,
            direction="AB",
        )


def test_unknown_source_type():
    with pytest.raises(ValueError, match="`source` must be a path .* Received: dict"):
        data.image_dataset({"a": 1}, image_size=8, batch_size=1)


def test_images_to_npz_names_an_undecodable_file(tmp_path, rng):
    # Header and end marker intact, body destroyed: only a full decode finds it.
    path = write_image(
        tmp_path / "imgs" / "bad.jpg", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    )
    content = open(path, "rb").read()
    open(path, "wb").write(content[:20] + b"\x00" * 8 + b"\xff\xd9")
    write_image(tmp_path / "imgs" / "ok.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"Cannot decode .*bad\.jpg"):
        data.images_to_npz(tmp_path / "imgs", tmp_path / "o.npz", 8, verbose=False)
    with pytest.warns(UserWarning, match=r"bad\.jpg"):
        summary = data.images_to_npz(
            tmp_path / "imgs", tmp_path / "o.npz", 8, verbose=False, on_error="skip"
        )
    assert summary["num_images"] == 1
