"""A run that lives in a bucket. TensorFlow's `ram://` file system goes through the same
`tf.io.gfile` layer as `gs://`, so a run whose data, weights file and out_dir are all on
`ram://` is a Colab or Kaggle TPU user's run in a gs:// bucket: it trains, is killed, resumes
and is scored there, and every command reads and writes there. Nothing may land in a local
folder named after the scheme (`ram:`), which each test checks in an empty working folder.
ram:// lives in this process's memory, so the kill is a crash inside it, not a SIGKILL."""

import csv
import io
import os
import uuid

import keras
import numpy as np
import pytest

import ganpaint as gp
from ganpaint import cli, data, fs, metrics, recipes, sweeps
from ganpaint.testing import synthetic_inception_graph

RUN = {"run.json", "model.keras", "backup", "grids", "history", "tensorboard", "best"}


@pytest.fixture(autouse=True)
def empty_working_folder(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield
    assert os.listdir(cwd) == []  # no local `ram:` folder, nothing written beside the user


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    """A bucket holding the training digits and an Inception graph file."""
    root = f"ram://bucket-{uuid.uuid4().hex[:8]}"
    fs.copy(str(data.sample_path("mnist")), f"{root}/data/mnist.npz")
    local = tmp_path_factory.mktemp("graph") / metrics.GRAPH_FILE
    synthetic_inception_graph(str(local))
    fs.copy(str(local), f"{root}/weights/{metrics.GRAPH_FILE}")
    return root


class Crash(keras.callbacks.Callback):
    """A crash after step `at`'s callbacks that come before it (the run's saver comes after)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.step = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step == self.at:
            raise RuntimeError("killed")


@pytest.fixture(scope="module")
def run_in_bucket(bucket):
    """mnist_acgan trained in the bucket with training-time FID from the bucket's graph file:
    crashed at step 5 of 9, then resumed to the end."""
    out = f"{bucket}/runs/acgan"
    settings = dict(
        data=f"{bucket}/data/mnist.npz",
        smoke=True,
        out_dir=out,
        epochs=3,
        fid_features="inception",
        fid_weights=f"{bucket}/weights/{metrics.GRAPH_FILE}",
    )
    first = recipes.build("mnist_acgan", **settings)
    first.callbacks.append(Crash(5))
    with pytest.raises(RuntimeError, match="killed"):
        first.fit(verbose=0)
    markers = checkpoint_steps(out)
    resumed = recipes.build("mnist_acgan", **settings)
    resumed.fit(verbose=0)
    return out, markers, resumed


def checkpoint_steps(out):
    return sorted(int(name[5:14]) for name in fs.listdir(f"{out}/backup") if name.endswith(".json"))


def test_a_run_in_a_bucket_trains_is_killed_resumes_and_is_scored(run_in_bucket, bucket):
    out, after_crash, resumed = run_in_bucket
    assert after_crash[-1] == 4  # the newest checkpoint before the crash
    assert int(keras.ops.convert_to_numpy(resumed.model.g_optimizer.iterations)) == 9
    assert RUN <= set(fs.listdir(out))
    rows = list(csv.DictReader(io.StringIO(fs.read_text(f"{out}/history/batches.csv"))))
    assert [int(r["step"]) for r in rows] == list(range(1, 10))  # each step once
    best = fs.read_json(f"{out}/best/best.json")
    assert best["provenance"]["weights_file"] == f"{bucket}/weights/{metrics.GRAPH_FILE}"
    assert np.isfinite(best["fid"])
    model = gp.load_model(f"{out}/model.keras")
    assert model.sample(4).shape == (4, 28, 28, 1)
    extractor = metrics.feature_extractor(f"{bucket}/weights/{metrics.GRAPH_FILE}")
    real = resumed.real[:16]
    assert np.isfinite(metrics.fid(real, model.sample(16), extractor=extractor))


def test_a_fresh_run_moves_the_bucket_run_aside(run_in_bucket, bucket):
    out = f"{bucket}/runs/fresh"
    for resume in ("auto", False):
        setup = recipes.build(
            "dogs_dcgan", smoke=True, out_dir=out, epochs=1, fid_features="pixels"
        )
        setup.fit(verbose=0, resume=resume)
    aside = [e for e in fs.listdir(out) if e.startswith("replaced-")]
    assert len(aside) == 1
    assert {"run.json", "model.keras", "backup"} <= set(fs.listdir(f"{out}/{aside[0]}"))
    assert checkpoint_steps(f"{out}/{aside[0]}")  # the moved run's checkpoints came along


def test_every_command_reads_and_writes_the_bucket(run_in_bucket, bucket, tmp_path, capsys):
    out, _, _ = run_in_bucket
    model, weights = f"{out}/model.keras", f"{bucket}/weights/{metrics.GRAPH_FILE}"
    photos = tmp_path / "photos"
    for i in range(4):
        gp.plotting.save_image(
            str(photos / f"{i}.png"),
            np.random.default_rng(i).integers(0, 255, (20, 20, 3), "uint8"),
        )
    dest = f"{bucket}/commands"
    commands = [
        ["make-npz", str(photos), f"{dest}/photos.npz", "--image-size", "16"],
        ["make-tfrecords", f"{dest}/photos.npz", f"{dest}/photos.tfrec", "--image-size", "16"],
        ["sample", model, "--out", f"{dest}/grid.png", "--n", "4", "--npz"],
        ["export", model, "--out", f"{dest}/gen.tflite", "--format", "tflite"],
        ["animate", out, "--out", f"{dest}/progress.gif"],
        ["submit", model, "--out", f"{dest}/images.zip", "--count", "8"],
        [
            "audit",
            f"{dest}/images.zip",
            f"{dest}/grid.npz",
            "--weights",
            weights,
            "--out",
            f"{dest}/audit",
        ],
        [
            "fid",
            f"{dest}/grid.npz",
            f"{bucket}/data/mnist.npz",
            "--weights",
            weights,
            "--image-size",
            "28",
            "--json",
            f"{dest}/fid.json",
        ],
    ]
    for argv in commands:
        assert cli.main(argv) == 0, (argv, capsys.readouterr().err)
    for name in (
        "photos.npz",
        "photos.tfrec",
        "grid.png",
        "grid.npz",
        "gen.tflite",
        "progress.gif",
        "images.zip",
        "fid.json",
    ):
        assert fs.size(f"{dest}/{name}") > 0, name
    assert {"audit.json", "nearest.png"} <= set(fs.listdir(f"{dest}/audit"))
    assert gp.data.image_dataset(f"{dest}/photos.npz", image_size=16, batch_size=2).num_images == 4
    assert gp.export.run_tflite(
        f"{dest}/gen.tflite", noise=np.zeros((1, 16), "float32"), labels=np.zeros((1,), "int32")
    ).shape[1:] == (28, 28, 1)
    # Writers refuse what is already in the bucket, as they refuse a local file.
    capsys.readouterr()
    for argv in commands[:4]:
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "already exists" in err and "--overwrite" in err and len(err.splitlines()) == 1
    with pytest.raises(ValueError, match="already exists"):
        gp.data.write_tfrecords(np.zeros((2, 8, 8, 3), "uint8"), f"{dest}/photos.tfrec")


def test_sources_of_every_kind_read_from_the_bucket(bucket):
    # CSV (the digit-recognizer layout), VOC annotations and an image folder (npz, TFRecords
    # and weights files: above).
    root = f"{bucket}/sources"
    rows = "label," + ",".join(f"pixel{i}" for i in range(16)) + "\n"
    rows += "".join(f"{k}," + ",".join(["7"] * 16) + "\n" for k in range(3))
    fs.write_atomically(f"{root}/digits.csv", rows)
    ds = gp.data.image_dataset(
        f"{root}/digits.csv", image_size=4, channels=1, batch_size=3, labels=True
    )
    assert ds.num_images == 3
    picture = np.random.default_rng(0).integers(0, 255, (40, 60, 3), "uint8")
    gp.plotting.save_image(f"{root}/dogs/n01/dog1.png", picture)
    fs.write_atomically(
        f"{root}/annotation/n01/dog1",
        (
            "<annotation><size><width>60</width><height>40</height></size><object><name>pug"
            "</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>35</xmax><ymax>30</ymax></bndbox>"
            "</object></annotation>"
        ),
    )
    crops = gp.data.images_to_npz(
        f"{root}/dogs", f"{root}/dogs.npz", image_size=16, annotations=f"{root}/annotation"
    )
    assert crops["num_images"] == 1 and crops["class_names"] == ["pug"]
    folder = gp.data.image_dataset(f"{root}/dogs", image_size=16, batch_size=1)
    assert folder.num_images == 1


def test_train_and_translate_from_the_command_line_in_the_bucket(bucket, capsys):
    out = f"{bucket}/runs/pix2pix"
    # Held-out pairs in the bucket, scored each epoch (run.val_pairs), as a sweep reads them.
    buffer = io.BytesIO()
    np.savez(buffer, images=np.random.default_rng(0).integers(0, 256, (3, 32, 64, 3), "uint8"))
    fs.write_atomically(f"{bucket}/val_pairs.npz", buffer.getvalue())
    argv = ["train", "maps_pix2pix", "--smoke", "--epochs", "1", "--fid", "pixels", "--out", out]
    argv += ["--set", f"run.val_pairs={bucket}/val_pairs.npz"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert f"written to {out}" in capsys.readouterr().out  # the bucket path, not /cwd/ram:/...
    assert {"run.json", "model.keras", "backup"} <= set(fs.listdir(out))
    scores = sweeps.scores_of(out)  # what a sweep reads: history/epochs.csv's val_l1
    assert 0 < scores["final_val_l1"] < 2 and scores["best_val_l1"] <= scores["final_val_l1"]
    pairs = str(data.sample_path("pairs"))
    assert cli.main(["translate", f"{out}/model.keras", pairs, f"{bucket}/translated"]) == 0
    assert len(fs.listdir(f"{bucket}/translated")) == 12
    assert cli.main(["translate", f"{out}/model.keras", pairs, f"{bucket}/translated"]) == 2
    assert "is not empty" in capsys.readouterr().err  # refused: it holds an earlier result


def test_a_labelled_run_is_judged_by_a_classifier_in_the_bucket(bucket, capsys):
    """`run.judge`: a classifier of the digits, kept in the bucket, scores each epoch how often
    the generator draws the class asked for; a sweep reads it as its best (highest) value."""
    inputs = keras.Input((28, 28, 1))
    features = keras.layers.GlobalAveragePooling2D(name="features")(inputs)
    judge = keras.Model(inputs, keras.layers.Dense(10, "softmax")(features), name="digits")
    local = os.path.join(os.path.dirname(os.getcwd()), "judge.keras")
    judge.save(local)
    fs.copy(local, f"{bucket}/judge.keras")
    out = f"{bucket}/runs/judged"
    argv = ["train", "mnist_acgan", "--smoke", "--epochs", "2", "--fid", "off", "--out", out]
    assert cli.main([*argv, "--set", f"run.judge={bucket}/judge.keras"]) == 0, capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(fs.read_text(f"{out}/history/epochs.csv"))))
    shares = [float(r["right_class"]) for r in rows]
    assert len(shares) == 2 and all(0 <= s <= 1 for s in shares)
    assert all(float(r["judge_fid"]) >= 0 for r in rows)
    scores = sweeps.scores_of(out)
    assert scores["final_right_class"] == shares[-1] and scores["best_right_class"] == max(shares)
