"""Contest submissions and their audit, on smoke-trained models: exactly N images of the size
asked, in RGB; an overwrite refused; the contests' rules warned about; a copied training image
flagged, with MiFID = FID / d when d < 0.1."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from ganpaint import cli, data, metrics, recipes, submission


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    trained = {}
    for name in ("monet_cyclegan", "dogs_dcgan", "mnist_acgan"):
        setup = recipes.build(
            name, smoke=True, out_dir=str(tmp_path_factory.mktemp(name)), epochs=1
        )
        setup.model.fit(setup.dataset, epochs=1, steps_per_epoch=2, verbose=0)
        trained[name] = setup.model
    return trained


def _zip_images(path):
    with zipfile.ZipFile(path) as archive:
        return [(name, Image.open(io.BytesIO(archive.read(name)))) for name in archive.namelist()]


def test_a_cyclegan_translates_straight_into_a_zip_of_n_rgb_jpegs(models, tmp_path):
    out = tmp_path / "images.zip"
    result = submission.submit(
        models["monet_cyclegan"],
        str(out),
        data.sample_path("photo"),
        count=45,
        size=40,
        verbose=False,
    )  # 45 > the 30 photos
    images = _zip_images(out)
    assert result["count"] == len(images) == 45
    assert all(im.format == "JPEG" and im.mode == "RGB" and im.size == (40, 40) for _, im in images)
    assert not (tmp_path / "images.zip.partial").exists()
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        submission.submit(
            models["monet_cyclegan"], str(out), data.sample_path("photo"), count=3, verbose=False
        )
    submission.submit(
        models["monet_cyclegan"],
        str(out),
        data.sample_path("photo"),
        count=3,
        overwrite=True,
        verbose=False,
    )
    assert len(_zip_images(out)) == 3


def test_gans_generate_into_pngs_and_labelled_ones_cycle_through_classes(models, tmp_path):
    out = tmp_path / "dogs.zip"
    result = submission.submit(
        models["dogs_dcgan"], str(out), count=10, fmt="png", batch_size=4, verbose=False
    )
    images = _zip_images(out)
    assert result["size"] == [32, 32] and len(images) == 10
    assert all(im.format == "PNG" and im.mode == "RGB" for _, im in images)
    digits = submission.submit(
        models["mnist_acgan"], str(tmp_path / "d.zip"), count=12, verbose=False
    )
    assert digits["count"] == 12  # grayscale models are written as RGB
    assert all(im.mode == "RGB" for _, im in _zip_images(tmp_path / "d.zip"))


def test_the_contest_rules_are_warned_about(models, tmp_path):
    with pytest.warns(UserWarning, match="the dogs contest wants 10,000-10,000"):
        result = submission.submit(
            models["dogs_dcgan"],
            str(tmp_path / "a.zip"),
            count=5,
            contest="dogs",
            fmt="png",
            verbose=False,
        )
    assert result["size"] == [64, 64]  # the contest's size by default
    assert len(result["warnings"]) == 1
    with pytest.warns(UserWarning, match="format jpg; the dogs contest wants png"):
        result = submission.submit(
            models["dogs_dcgan"],
            str(tmp_path / "b.zip"),
            count=5,
            contest="dogs",
            fmt="jpg",
            verbose=False,
        )
    assert len(result["warnings"]) == 2  # the count and the format
    with pytest.raises(ValueError, match="`contest` must be one of"):
        submission.submit(
            models["dogs_dcgan"], str(tmp_path / "c.zip"), count=1, contest="cats", verbose=False
        )
    with pytest.raises(ValueError, match="give the `inputs`"):
        submission.submit(models["monet_cyclegan"], str(tmp_path / "d.zip"), verbose=False)
    with pytest.raises(ValueError, match="Give `count`"):
        submission.submit(models["dogs_dcgan"], str(tmp_path / "e.zip"), verbose=False)


def _write_zip(path, images, fmt="PNG"):
    with zipfile.ZipFile(path, "w") as archive:
        for i, image in enumerate(images):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format=fmt)
            archive.writestr(f"{i:03d}.png", buffer.getvalue())


def test_the_audit_flags_a_copied_training_image_and_computes_kaggles_mifid(tmp_path):
    rng = np.random.default_rng(0)
    training = rng.integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)
    generated = rng.integers(0, 256, (20, 16, 16, 3), dtype=np.uint8)
    generated[7] = training[12]  # a copy
    _write_zip(tmp_path / "images.zip", generated)
    report = submission.audit(
        str(tmp_path / "images.zip"),
        training,
        out_dir=str(tmp_path),
        extractor=metrics.PixelFeatures(16),
        verbose=False,
    )
    assert report["flagged"] == ["007.png"]
    assert report["nearest"][0] == {
        "generated": "007.png",
        "training_index": 12,
        "distance": pytest.approx(0.0, abs=1e-9),
    }
    # One copy among unrelated images: d is far above 0.1, so MiFID is the FID itself.
    assert report["memorization_distance"] > 0.1
    assert report["mifid"] == pytest.approx(report["fid"])
    assert report["checks"]["count"] == 20 and report["checks"]["modes"] == ["RGB"]
    assert report["provenance"]["extractor"] == "pixels_16"
    assert report["provenance"]["n_fake"] == 20 and report["provenance"]["n_real"] == 40
    assert report["provenance"]["input_size"] == 16
    assert json.loads((tmp_path / "audit.json").read_text())["flagged"] == ["007.png"]
    assert Image.open(tmp_path / "nearest.png").size[0] > 8 * 16


def test_near_copies_bring_d_under_epsilon_and_mifid_is_fid_over_d(tmp_path):
    rng = np.random.default_rng(2)
    training = rng.integers(30, 226, (30, 16, 16, 3), dtype=np.uint8)
    noise = rng.integers(-20, 21, (30, 16, 16, 3))
    near = np.clip(training.astype(int) + noise, 0, 255).astype(np.uint8)  # lightly changed
    _write_zip(tmp_path / "near.zip", near)
    report = submission.audit(
        str(tmp_path / "near.zip"),
        training,
        out_dir=str(tmp_path),
        extractor=metrics.PixelFeatures(16),
        verbose=False,
    )
    d = report["memorization_distance"]
    assert 0 < d < 0.1
    assert report["mifid"] == pytest.approx(report["fid"] / d, rel=1e-6)
    assert len(report["flagged"]) == 30


def test_the_audit_reports_bad_zips_and_rule_breaks(tmp_path):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3)]
    images.append(rng.integers(0, 256, (16, 16), dtype=np.uint8))  # grayscale
    _write_zip(tmp_path / "s.zip", images)
    with zipfile.ZipFile(tmp_path / "s.zip", "a") as archive:
        archive.writestr("notes.txt", b"not an image")
    report = submission.audit(
        str(tmp_path / "s.zip"),
        np.stack(images[:3]),
        contest="monet",
        extractor=metrics.PixelFeatures(8),
        verbose=False,
    )
    problems = " | ".join(report["checks"]["problems"])
    assert "1 files are not images" in problems and "image modes ['L', 'RGB']" in problems
    assert "the monet contest wants 7,000-10,000" in problems and "256x256" in problems
    (tmp_path / "bad.zip").write_bytes(b"nope")
    with pytest.raises(ValueError, match="is not a zip file"):
        submission.audit(str(tmp_path / "bad.zip"), np.stack(images[:3]))


def test_the_command_line_submits_and_audits(models, tmp_path, capsys):
    model_path = tmp_path / "dogs.keras"
    models["dogs_dcgan"].save(model_path)
    out = tmp_path / "images.zip"
    assert (
        cli.main(
            ["submit", str(model_path), "--out", str(out), "--count", "6", "--contest", "dogs"]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "wrote 6 png images of 64x64" in captured.out
    assert "warning: 6 images; the dogs contest wants" in captured.err
    assert cli.main(["submit", str(model_path), "--out", str(out), "--count", "6"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "audit",
                str(out),
                data.sample_path("photo"),
                "--weights",
                "pixels",
                "--out",
                str(tmp_path / "audit"),
            ]
        )
        == 0
    )
    assert "MiFID" in capsys.readouterr().out
    assert (tmp_path / "audit" / "audit.json").exists()
