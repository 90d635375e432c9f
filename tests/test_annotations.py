"""Bounding-box crops from Pascal VOC files (Stanford Dogs' Annotation/ layout)."""

import numpy as np
import pytest
from conftest import write_image

from ganpaint import cli, data
from ganpaint.data import annotations as voc
from ganpaint.errors import UserError


def voc_file(path, objects, size=(60, 40)):
    """A VOC file: objects as (name, xmin, ymin, xmax, ymax); size (width, height)."""
    parts = [
        f"<annotation><filename>{path.name}</filename><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height><depth>3</depth></size>"
    ]
    for name, *box in objects:
        parts.append(
            f"<object><name>{name}</name><bndbox><xmin>{box[0]}</xmin>"
            f"<ymin>{box[1]}</ymin><xmax>{box[2]}</xmax><ymax>{box[3]}</ymax>"
            "</bndbox></object>"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts) + "</annotation>")


@pytest.fixture
def dogs(tmp_path):
    """Two breeds; the first photo holds two dogs (left half red, right half blue), the
    second one dog whose box runs past the photo's right edge."""
    photo = np.zeros((40, 60, 3), np.uint8)
    photo[:, :30, 0] = 255
    photo[:, 30:, 2] = 255
    write_image(tmp_path / "Images" / "n1-Pug" / "n1_1.png", photo)
    write_image(tmp_path / "Images" / "n2-Akita" / "n2_1.png", photo)
    voc_file(
        tmp_path / "Annotation" / "n1-Pug" / "n1_1",
        [("Pug", 2, 5, 22, 35), ("Pug", 35, 10, 55, 30)],
    )
    voc_file(tmp_path / "Annotation" / "n2-Akita" / "n2_1", [("Akita", 40, 0, 90, 40)])
    return tmp_path


def test_one_image_per_object_cropped_from_its_box_and_labelled_by_breed(dogs):
    ds = data.image_dataset(
        dogs / "Images",
        annotations=dogs / "Annotation",
        image_size=16,
        batch_size=3,
        labels=True,
        shuffle=False,
    )
    images, labels = (x.numpy() for x in next(iter(ds)))
    assert images.shape == (3, 16, 16, 3) and ds.num_images == 3
    assert ds.class_names == ["Akita", "Pug"]
    np.testing.assert_array_equal(labels, [1, 1, 0])
    # The first dog's box lies in the red half, the second's in the blue half.
    assert images[0, ..., 0].mean() > 0.9 and images[0, ..., 2].mean() < -0.9
    assert images[1, ..., 2].mean() > 0.9 and images[1, ..., 0].mean() < -0.9


def test_square_windows_expand_or_pad_and_boxes_past_the_edge_are_clipped():
    # A 20x30 box grows to 30x30, shifted to stay inside a 60x40 image.
    assert voc.square_box((2, 5, 22, 35), 60, 40) == (0, 5, 30, 35)
    assert voc.square_box((2, 5, 22, 35), 60, 40, square="pad") == (2, 5, 22, 35)
    assert voc.square_box((2, 5, 22, 35), 60, 40, margin=0.1, square="pad") == (0, 2, 24, 38)
    # A box past the right edge keeps the part inside; one wholly outside is refused.
    assert voc.square_box((40, 0, 90, 40), 60, 40, square="pad") == (40, 0, 60, 40)
    assert voc.square_box((70, 0, 90, 40), 60, 40) is None


def test_a_malformed_or_missing_annotation_names_the_file_and_can_be_skipped(dogs, capsys):
    (dogs / "Annotation" / "n2-Akita" / "n2_1").write_text("<annotation><object>")
    with pytest.raises(UserError, match=r"n2_1.png: .*n2_1 is not a readable VOC annotation"):
        data.image_dataset(
            dogs / "Images", annotations=dogs / "Annotation", image_size=16, batch_size=1
        )
    with pytest.warns(UserWarning, match="Skipped 1"):
        ds = data.image_dataset(
            dogs / "Images",
            annotations=dogs / "Annotation",
            image_size=16,
            batch_size=1,
            on_error="skip",
        )
    assert ds.num_images == 2
    voc_file(dogs / "Annotation" / "n2-Akita" / "n2_1", [("Akita", 70, 0, 90, 40)])
    with pytest.raises(UserError, match="outside the 60x40 image"):
        data.image_dataset(
            dogs / "Images", annotations=dogs / "Annotation", image_size=16, batch_size=1
        )
    with pytest.raises(UserError, match="must be a folder of VOC"):
        data.image_dataset(
            dogs / "Images", annotations=dogs / "nowhere", image_size=16, batch_size=1
        )


def test_make_npz_and_train_take_annotations(dogs, tmp_path, capsys):
    out = tmp_path / "dogs.npz"
    assert (
        cli.main(
            [
                "make-npz",
                str(dogs / "Images"),
                str(out),
                "--image-size",
                "16",
                "--annotations",
                str(dogs / "Annotation"),
                "--square",
                "pad",
            ]
        )
        == 0
    )
    assert "wrote 3 images, 2 classes" in capsys.readouterr().out
    with np.load(out) as f:
        assert list(f["names"]) == ["n1-Pug/n1_1.png#0", "n1-Pug/n1_1.png#1", "n2-Akita/n2_1.png#0"]
        np.testing.assert_array_equal(f["labels"], [1, 1, 0])
    assert (
        cli.main(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--data",
                str(dogs / "Images"),
                "--annotations",
                str(dogs / "Annotation"),
                "--batch-size",
                "2",
                "--fid",
                "off",
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                "train",
                "monet_cyclegan",
                "--smoke",
                "--annotations",
                str(dogs / "Annotation"),
                "--out",
                str(tmp_path / "c"),
            ]
        )
        == 2
    )
    assert "--annotations applies to GAN recipes" in capsys.readouterr().err
