"""What real folders, full disks and Keras habits bring, each met where it first enters
ganpaint: phone JPEGs (EXIF turns, bytes after the image), file systems (symlink loops,
FIFOs, mixed folders), TFRecords (compressed, raw pixels), full disks, photos of any aspect,
uint8 arrays and labels, two trainings in one folder, other Keras files and bad numbers."""

import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import model_files, one_line_error

from ganpaint import cli, data, testing
from ganpaint.checkpoints import CheckpointStore
from ganpaint.data import preprocess, sources

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    """A .keras file of every model kind, and inputs for the translators."""
    return model_files(tmp_path_factory.mktemp("kinds"))


def blocks(h=48, w=80, seed=0):
    """An RGB image of flat 8x8 blocks: JPEG keeps it almost exactly, any turn shows."""
    rng = np.random.default_rng(seed)
    return np.kron(rng.integers(0, 256, (h // 8, w // 8, 3)), np.ones((8, 8, 1))).astype("uint8")


def with_exif(jpeg: bytes, orientation: int, order: str = "II") -> bytes:
    """JPEG bytes with an APP1 EXIF segment holding one IFD0 entry: the orientation."""
    big = order == "MM"
    u16 = lambda v: v.to_bytes(2, "big" if big else "little")
    u32 = lambda v: v.to_bytes(4, "big" if big else "little")
    value = u16(orientation) + b"\0\0"
    tiff = (
        order.encode() + u16(42) + u32(8) + u16(1) + u16(0x0112) + u16(3) + u32(1) + value + u32(0)
    )
    body = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body + jpeg[2:]


# What a viewer shows for each EXIF orientation, from the stored pixels (PIL's exif_transpose).
SHOWN = {
    1: lambda x: x,
    2: np.fliplr,
    3: lambda x: np.rot90(x, 2),
    4: np.flipud,
    5: lambda x: np.transpose(x, (1, 0, 2)),
    6: lambda x: np.rot90(x, -1),
    7: lambda x: np.rot90(np.transpose(x, (1, 0, 2)), 2),
    8: lambda x: np.rot90(x, 1),
}


@pytest.mark.parametrize("order", ["II", "MM"])
def test_jpegs_are_turned_as_their_exif_orientation_says(order, tmp_path):
    plain = tf.io.encode_jpeg(blocks(), quality=98).numpy()
    stored = tf.io.decode_jpeg(plain).numpy()
    for orientation, shown in SHOWN.items():
        data_ = with_exif(plain, orientation, order)
        assert int(preprocess.exif_orientation(tf.constant(data_))) == orientation
        np.testing.assert_array_equal(
            preprocess.decode_image(tf.constant(data_)).numpy(), shown(stored)
        )
    # Through a folder, as training reads it: a portrait phone photo comes out portrait.
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "portrait.jpg").write_bytes(with_exif(plain, 6, order))
    src = sources.resolve(str(folder))
    assert sources.first_image_shape(src) == (80, 48)
    batch = next(
        iter(
            data.image_dataset(
                str(folder), image_size=(80, 48), batch_size=1, shuffle=False, augment=None
            )
        )
    )
    np.testing.assert_allclose(batch[0].numpy(), shown_unit(SHOWN[6](stored)), atol=1e-5)


def shown_unit(image):
    return image.astype("float32") / 127.5 - 1


def test_the_exif_reading_agrees_with_pil():
    from PIL import Image, ImageOps

    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        buffer = io.BytesIO()
        Image.fromarray(blocks()).save(buffer, "JPEG", quality=98, exif=exif)
        jpeg = buffer.getvalue()
        # PIL's turn of its own pixels is the table's; ours of TensorFlow's pixels is too
        # (the two decoders upsample colour differently, so pixels are compared within one).
        stored = np.asarray(Image.open(io.BytesIO(jpeg)))
        shown = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(jpeg))))
        np.testing.assert_array_equal(shown, SHOWN[orientation](stored))
        np.testing.assert_array_equal(
            preprocess.decode_image(tf.constant(jpeg)).numpy(),
            SHOWN[orientation](tf.io.decode_jpeg(jpeg).numpy()),
        )


def test_jpegs_with_bytes_after_the_image_are_read_and_truncated_ones_refused(tmp_path):
    image = blocks(seed=1)
    jpeg = tf.io.encode_jpeg(image, quality=98).numpy()
    folder = tmp_path / "phone"
    folder.mkdir()
    # A phone's trailer after the end marker, longer than the tail the quick check reads,
    # behind an EXIF header whose thumbnail has markers of its own.
    thumb = tf.io.encode_jpeg(blocks(16, 16)).numpy()
    (folder / "trailer.jpg").write_bytes(with_exif(jpeg, 1) + b"\0" * 9000 + thumb[:-2])
    assert sources.check_image_file(str(folder / "trailer.jpg")) is None
    got = next(
        iter(data.image_dataset(str(folder), image_size=(48, 80), batch_size=1, augment=None))
    )[0].numpy()
    np.testing.assert_allclose(got, shown_unit(tf.io.decode_jpeg(jpeg).numpy()), atol=1e-5)
    (folder / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    assert "truncated JPEG" in sources.check_image_file(str(folder / "cut.jpg"))


def test_symlink_loops_and_fifos_are_left_out_with_a_line(tmp_path, capsys):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for i in range(3):
        tf.io.write_file(str(folder / f"{i}.jpg"), tf.io.encode_jpeg(blocks(16, 16, i)))
    os.symlink(folder, folder / "sub" / "back")  # a loop
    os.mkfifo(folder / "a.png")  # opening it would wait forever
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        src = sources.resolve(str(folder))
    assert src.num_images == 3  # once each, not once per trip round the loop
    (message,) = [str(w.message) for w in caught]
    assert "a.png is not a regular file" in message and "sub/back leads back to" in message
    out = tmp_path / "x.npz"
    assert cli.main(["make-npz", str(folder), str(out), "--image-size", "16"]) == 0
    assert len(np.load(out)["images"]) == 3


def test_a_folder_of_tfrecords_and_images_is_refused_in_one_line(tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    data.write_tfrecords(blocks(16, 16)[None], str(folder / "a.tfrec"))
    tf.io.write_file(str(folder / "b.jpg"), tf.io.encode_jpeg(blocks(16, 16)))
    assert cli.main(["make-npz", str(folder), str(tmp_path / "x.npz"), "--image-size", "16"]) == 2
    one_line_error(
        capsys, str(folder), "both TFRecord files (1, e.g. a.tfrec) and images", "*.tfrec"
    )


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_compressed_tfrecords_are_read_as_they_are(compression, tmp_path):
    images = np.stack([blocks(16, 16, i) for i in range(4)])
    plain = tmp_path / "plain.tfrec"
    data.write_tfrecords(images, str(plain))
    packed = tmp_path / "packed.tfrec"
    raw = plain.read_bytes()
    if compression == "GZIP":
        import gzip

        packed.write_bytes(gzip.compress(raw))
    else:
        packed.write_bytes(zlib.compress(raw))
    src = sources.resolve(str(packed))
    assert (src.num_images, src.compression) == (4, compression)
    read = lambda p: np.concatenate(
        [
            b.numpy()
            for b in data.image_dataset(
                str(p), image_size=16, batch_size=2, shuffle=False, augment=None
            )
        ]
    )
    np.testing.assert_array_equal(read(packed), read(plain))


def test_tfrecords_of_raw_pixels_are_named_with_the_cause(tmp_path, capsys):
    path = tmp_path / "raw.tfrec"
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "image": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[blocks(16, 16).tobytes()])
                )
            }
        )
    )
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(example.SerializeToString())
    assert cli.main(["make-npz", str(path), str(tmp_path / "x.npz"), "--image-size", "16"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "not an encoded JPEG, PNG" in err and "raw pixels" in err


# -- full disks ------------------------------------------------------------------------------


def test_a_file_size_limit_stops_training_in_one_line(tmp_path):
    # `ulimit -f`: every write past the limit fails with EFBIG (Python ignores SIGXFSZ).
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f"ulimit -f 300; exec {sys.executable} -m ganpaint train dogs_dcgan "
            f"--smoke --epochs 3 --checkpoint-every 1 --out {out}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ganpaint train: error: Could not write " + str(out)), last
    assert "file-size limit" in last and "Traceback" not in proc.stderr


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode:
        why = done.stderr.decode().strip()[:80] or "refused"
        pytest.skip(reason=f"mounting a tmpfs needs root and a kernel that allows it: {why}")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_stops_training_in_one_line_and_keeps_the_last_checkpoint(
    small_disk, tmp_path, capsys
):
    out = small_disk / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ganpaint",
            "train",
            "dogs_dcgan",
            "--smoke",
            "--epochs",
            "3",
            "--checkpoint-every",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert "the disk is full" in last and str(out) in last and "Traceback" not in proc.stderr
    kept = CheckpointStore(str(out / "backup")).usable_steps()
    assert kept, os.listdir(out / "backup")
    # On a disk with room, the same command continues from that checkpoint.
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    capsys.readouterr()
    assert (
        cli.main(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--epochs",
                "3",
                "--checkpoint-every",
                "1",
                "--out",
                str(moved),
            ]
        )
        == 0
    )
    assert f"resuming from step {max(kept)}" in capsys.readouterr().out


class file_size_limit:
    """RLIMIT_FSIZE in this process for a block: writes past it fail with EFBIG."""

    def __init__(self, limit):
        self.limit = limit

    def __enter__(self):
        self.saved = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self.saved[1]))

    def __exit__(self, *exc):
        resource.setrlimit(resource.RLIMIT_FSIZE, self.saved)


def test_make_npz_and_submit_on_a_full_disk_name_the_path(kinds, tmp_path, capsys):
    assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN  # Python's own setting
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        tf.io.write_file(str(folder / f"{i}.png"), tf.io.encode_png(blocks(64, 64, i)))
    npz, zip_ = tmp_path / "out.npz", tmp_path / "images.zip"
    with file_size_limit(4096):
        code_npz = cli.main(["make-npz", str(folder), str(npz), "--image-size", "64"])
        err_npz = capsys.readouterr().err
        code_zip = cli.main(
            [
                "submit",
                kinds["models"]["gan"],
                "--count",
                "64",
                "--format",
                "png",
                "--out",
                str(zip_),
            ]
        )
        err_zip = capsys.readouterr().err
    for code, err, path in ((code_npz, err_npz, npz), (code_zip, err_zip, zip_)):
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert str(path) in err and "file-size limit" in err, err
    assert not npz.exists() and not zip_.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "photos"] == []  # no leftovers


# -- what a folder holds: the user says ------------------------------------------------------


def test_a_cyclegan_translates_wide_photos_whole(kinds, tmp_path, capsys):
    folder = tmp_path / "wide"
    folder.mkdir()
    for i in range(2):  # 16:9, nearer a pair of squares than a square by width
        tf.io.write_file(str(folder / f"{i}.jpg"), tf.io.encode_jpeg(blocks(72, 128, i)))
    assert (
        cli.main(["translate", kinds["models"]["cyclegan"], str(folder), str(tmp_path / "out")])
        == 0
    )
    out = capsys.readouterr().out
    assert "whole images (128x72)" in out and "pairs" not in out
    assert sorted(os.listdir(tmp_path / "out")) == ["00000.png", "00001.png"]


def test_pix2pix_training_on_single_photos_is_refused(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        tf.io.write_file(str(folder / f"{i}.jpg"), tf.io.encode_jpeg(blocks(64, 64, i)))
    assert (
        cli.main(
            [
                "train",
                "maps_pix2pix",
                "--smoke",
                "--data",
                str(folder),
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 2
    )
    one_line_error(capsys, "side-by-side pairs", "64x64, a single image")


# -- Keras habits: uint8 arrays, ranges, labels ----------------------------------------------


def test_uint8_arrays_train_and_translate_as_their_scaled_floats():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 16, 16, 1), dtype=np.uint8)
    results = []
    for images in (x, x / 127.5 - 1):
        gan = testing.model("gan")
        gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
        gan.fit(images, batch_size=4, epochs=1, verbose=0, shuffle=False)
        results.append(testing.weights(gan))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-6)
    cycle = testing.model("cyclegan")
    photos = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        cycle.translate(photos), cycle.translate(photos / 127.5 - 1), atol=1e-6
    )
    np.testing.assert_allclose(
        cycle.sample(inputs=photos), cycle.sample(inputs=photos / 127.5 - 1), atol=1e-6
    )


@pytest.mark.parametrize(
    "call, needle",
    [
        (
            lambda m: m.fit(np.full((4, 16, 16, 1), 200.0, "float32"), batch_size=2, verbose=0),
            "`x` must be floats in [-1, 1] (or uint8 in [0, 255]); received values in [200, 200]",
        ),
        (
            lambda m: m.fit(
                tf.data.Dataset.from_tensor_slices(np.zeros((4, 16, 16, 1), "uint8")).batch(2),
                verbose=0,
            ),
            "`x` yields uint8 images",
        ),
        (
            lambda m: m.fit(np.zeros((4, 16, 16, 1), "int64"), verbose=0),
            "`x` has integer dtype int64",
        ),
    ],
)
def test_arrays_outside_the_range_are_refused_with_the_fix(call, needle):
    gan = testing.model("gan")
    gan.compile()
    with pytest.raises(ValueError) as info:
        call(gan)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_translators_refuse_floats_in_0_255_and_to_uint8_refuses_nan():
    cycle = testing.model("cyclegan")
    with pytest.raises(ValueError, match=r"`images` must be floats in \[-1, 1\].*/ 127.5 - 1"):
        cycle.translate(np.full((1, 16, 16, 3), 255.0))
    with pytest.raises(ValueError, match=r"`inputs` must be floats"):
        cycle.sample(inputs=np.full((1, 16, 16, 3), 255.0))
    with pytest.raises(ValueError, match=r"1 NaN or infinite value"):
        data.to_uint8(np.array([np.nan, 0.0, 1.0]))


def test_labels_must_be_whole_classes_of_the_model(tmp_path, capsys):
    cgan = testing.model("cgan")  # 3 classes
    cgan.compile()
    with pytest.raises(ValueError, match=r"whole class numbers; received 0.5"):
        cgan.sample(2, labels=[0.5, 1.7])
    with pytest.raises(ValueError, match=r"class 7, outside the model's 3 classes"):
        cgan.sample(4, labels=[0, 1, 2, 7])
    images = np.zeros((6, 16, 16, 1), "float32")
    with pytest.raises(ValueError, match=r"`y` holds class 5.*num_classes=6"):
        cgan.fit(images, np.arange(6), batch_size=3, verbose=0)
    assert cgan.sample(3, labels=[0, 1, 2]).shape == (3, 16, 16, 1)


def test_a_recipe_refuses_labels_beyond_its_classes_and_takes_num_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    npz = tmp_path / "twelve.npz"
    np.savez(
        npz, images=rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8), labels=np.arange(24) % 12
    )
    argv = ["train", "cifar10_cgan", "--smoke", "--data", str(npz), "--epochs", "1"]
    assert cli.main(argv + ["--out", str(tmp_path / "a")]) == 2
    one_line_error(capsys, "labels up to 11 (12 classes)", "10 classes", "--num-classes 12")
    assert cli.main(argv + ["--num-classes", "12", "--out", str(tmp_path / "b")]) == 0
    assert (
        cli.main(
            ["train", "dogs_dcgan", "--smoke", "--num-classes", "3", "--out", str(tmp_path / "c")]
        )
        == 2
    )
    one_line_error(capsys, "--num-classes applies to labelled recipes")


# -- two trainings, one folder ---------------------------------------------------------------


def test_a_second_training_in_a_folder_in_use_is_refused_and_a_dead_ones_lock_taken(
    tmp_path, capsys
):
    out = tmp_path / "run"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganpaint",
            "train",
            "dogs_dcgan",
            "--smoke",
            "--epochs",
            "500",
            "--checkpoint-every",
            "2",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    try:
        lock = out / "run.lock"
        deadline = time.time() + 300
        while not (lock.exists() and list((out / "backup").glob("*.json"))):
            assert first.poll() is None and time.time() < deadline, "the first run never began"
            time.sleep(0.5)
        holder = json.loads(lock.read_text())
        assert holder["pid"] == first.pid
        for extra in ([], ["--fresh"]):
            assert cli.main(["train", "dogs_dcgan", "--smoke", "--out", str(out)] + extra) == 2
            one_line_error(
                capsys,
                f"{out} is in use by another training: process {first.pid}",
                "--fresh does not override this",
            )
    finally:
        first.kill()
        first.wait()
    assert lock.exists()  # a SIGKILL gives nothing back
    assert cli.main(["train", "dogs_dcgan", "--smoke", "--epochs", "1", "--out", str(out)]) == 0
    out_text = capsys.readouterr().out
    assert (
        f"taking over the lock of process {first.pid}" in out_text and "which has ended" in out_text
    )
    assert not lock.exists()  # given back at the end


# -- wrong kinds of file, bad numbers --------------------------------------------------------


def test_a_plain_keras_model_is_named_as_not_ganpaints(tmp_path, capsys):
    path = str(tmp_path / "plain.keras")
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(path)
    for argv in (
        ["sample", path, "--out", str(tmp_path / "g.png")],
        ["translate", path, str(tmp_path), str(tmp_path / "t")],
        ["export", path, "--out", str(tmp_path / "e")],
        ["submit", path, "--out", str(tmp_path / "z.zip")],
    ):
        assert cli.main(argv) == 2, argv
        one_line_error(capsys, path, "is a Keras Sequential, not a ganpaint model")


def test_saving_to_h5_is_refused_with_the_keras_name(tmp_path):
    gan = testing.model("gan")
    with pytest.raises(ValueError, match=r"save as \.keras files.*gan\.keras"):
        gan.save(str(tmp_path / "gan.h5"))
    assert not (tmp_path / "gan.h5").exists()


def test_the_export_format_follows_the_extension(kinds, tmp_path, capsys):
    path = tmp_path / "gen.tflite"
    assert cli.main(["export", kinds["models"]["gan"], "--out", str(path)]) == 0
    assert path.is_file() and "(tflite;" in capsys.readouterr().out
    assert (
        cli.main(
            [
                "export",
                kinds["models"]["gan"],
                "--out",
                str(tmp_path / "b.tflite"),
                "--format",
                "savedmodel",
            ]
        )
        == 2
    )
    one_line_error(capsys, "A SavedModel is a folder", "drop --format savedmodel")
    assert not (tmp_path / "b.tflite").exists()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (
            ["animate", "RUN", "--out", "a.gif", "--fps", "0"],
            "argument --fps: expected a number in (0, 120], got '0'",
        ),
        (["animate", "RUN", "--out", "a.gif", "--fps", "-2"], "argument --fps"),
        (["animate", "RUN", "--out", "a.gif", "--fps", "nan"], "argument --fps"),
        (
            ["sample", "M", "--out", "g.png", "--seed", "-5"],
            "argument --seed: expected a whole number from 0",
        ),
        (
            ["make-tfrecords", "S", "o.tfrec", "--image-size", "8", "--quality", "0"],
            "argument --quality",
        ),
        (["make-npz", "S", "o.npz", "--box-margin", "-1"], "argument --box-margin"),
        (["train", "dogs_dcgan", "--num-classes", "0"], "argument --num-classes"),
    ],
)
def test_numeric_flags_are_range_checked_by_name(argv, needle, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert needle in capsys.readouterr().err


def test_a_lock_in_a_bucket_from_another_machine_holds_until_it_goes_stale(monkeypatch):
    # ram:// stands in for gs://: no atomic create, so the lock is written and read back; a
    # holder on another machine is judged by its last refresh, not by its process.
    from ganpaint import fs, runlock
    from ganpaint.errors import UserError

    out = "ram://locks/run"
    fs.makedirs(out)
    other = {
        "pid": 4242,
        "host": "another-machine",
        "token": "theirs",
        "started_at": "2026-12-06 10:00:00",
        "alive": time.time(),
    }
    fs.write_json(fs.join(out, runlock.LOCK_NAME), other)
    with pytest.raises(
        UserError,
        match=r"in use by another training: process 4242 on "
        r"another-machine",
    ):
        runlock.RunLock(out).acquire()
    other["alive"] = time.time() - runlock.STALE_AFTER - 60  # its session ended long ago
    fs.write_json(fs.join(out, runlock.LOCK_NAME), other)
    lock = runlock.RunLock(out).acquire()
    held = fs.read_json(fs.join(out, runlock.LOCK_NAME))
    assert held["token"] == lock.token and held["pid"] == os.getpid()
    monkeypatch.setattr(runlock, "REFRESH", 0.0)
    before = held["alive"]
    time.sleep(0.01)
    lock.refresh()
    assert fs.read_json(fs.join(out, runlock.LOCK_NAME))["alive"] > before
    lock.release()
    assert not fs.exists(fs.join(out, runlock.LOCK_NAME))


def test_train_on_two_cpu_devices_from_the_command_line(tmp_path, capsys):
    # --devices cpu:0,cpu:1: the path a user without a GPU has to several replicas (this
    # process's CPU is split in two by conftest, as --devices does in a fresh process).
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--epochs",
                "1",
                "--devices",
                "cpu:0,cpu:1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (out / "model.keras").exists()
    assert (
        cli.main(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--devices",
                "cpu:0,cpu:7",
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 2
    )
    one_line_error(
        capsys, "--devices names 'cpu:7', which this process does not have", "--devices cpu:0,cpu:1"
    )
