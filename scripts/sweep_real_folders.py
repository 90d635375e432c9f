"""The sweep's second part (issue 39): real folders, full disks and Keras habits.

Cases of the kinds a second sweep found (phone JPEGs, file systems, compressed and raw
TFRecords, full disks, photos of any aspect, uint8 arrays, labels, two trainings in one
folder, other Keras files, bad numbers) and more of the same spirit. `real_folder_cases` adds
them to `sweep_user_path.py`'s list; each runs in whatever `ganpaint` is importable.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
import threading
import time

import numpy as np


def _jpeg(image, quality=95) -> bytes:
    import tensorflow as tf

    return tf.io.encode_jpeg(image, quality=quality).numpy()


def _blocks(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return np.kron(rng.integers(0, 256, (h // 8, w // 8, 3)), np.ones((8, 8, 1))).astype("uint8")


def _with_exif(jpeg: bytes, orientation: int) -> bytes:
    tiff = (
        b"II"
        + (42).to_bytes(2, "little")
        + (8).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (0x0112).to_bytes(2, "little")
        + (3).to_bytes(2, "little")
        + (1).to_bytes(4, "little")
        + orientation.to_bytes(2, "little")
        + b"\0\0"
        + (0).to_bytes(4, "little")
    )
    body = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(body) + 2).to_bytes(2, "big") + body + jpeg[2:]


def _folder(root, name, files: dict) -> str:
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    for file_name, content in files.items():
        with open(os.path.join(folder, file_name), "wb") as f:
            f.write(content)
    return folder


def _images_in(path) -> int:
    return len(np.load(path)["images"]) if os.path.exists(path) else -1


def real_folder_cases(root, add, fresh, models, cli):
    from ganpaint import data, testing

    rng = np.random.default_rng(1)
    photos = {f"{i}.jpg": _jpeg(_blocks(32, 32, i)) for i in range(3)}

    # -- full disks ----------------------------------------------------------------------------
    add(
        "train with a 300 KB file-size limit (ulimit -f)",
        group="disk",
        proc=(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--epochs",
                "2",
                "--checkpoint-every",
                "1",
                "--out",
                fresh("full"),
            ],
            300 * 1024,
        ),
        check_error=lambda line: "full" in line and "limit" in line,
    )
    source = _folder(root, "disk_photos", {f"{i}.png": _png(_blocks(64, 64, i)) for i in range(4)})

    npz = fresh("full.npz")
    add(
        "make-npz on a full disk (4 KB file-size limit)",
        ["make-npz", source, npz, "--image-size", "64"],
        group="disk",
        fsize=4096,
        check_error=lambda line, p=npz: p in line,
    )
    zip_path = fresh("full.zip")
    add(
        "submit on a full disk (4 KB file-size limit)",
        ["submit", models["gan"], "--count", "64", "--format", "png", "--out", zip_path],
        group="disk",
        fsize=4096,
        check_error=lambda line, p=zip_path: p in line,
    )

    # -- what a folder holds -------------------------------------------------------------------
    wide = _folder(root, "wide_photos", {f"{i}.jpg": _jpeg(_blocks(72, 128, i)) for i in range(2)})
    add(
        "translate a CycleGAN on 16:9 photos",
        ["translate", models["cyclegan"], wide, fresh("wide")],
        expect="ok",
        group="folders",
        check=lambda out, w: "pairs" not in out and "left halves" not in out,
    )
    add(
        "submit a CycleGAN on 16:9 photos",
        ["submit", models["cyclegan"], wide, "--out", fresh("wide.zip")],
        expect="ok",
        group="folders",
        check=lambda out, w: "pairs" not in out,
    )
    square = _folder(
        root, "square_photos", {f"{i}.jpg": _jpeg(_blocks(64, 64, i)) for i in range(4)}
    )
    add(
        "train maps_pix2pix on square single photos",
        ["train", "maps_pix2pix", "--smoke", "--data", square, "--out", fresh("p2p")],
        group="folders",
    )

    # -- cameras and file systems --------------------------------------------------------------
    portrait = _folder(root, "phone", {"p.jpg": _with_exif(_jpeg(_blocks(48, 80)), 6)})

    def portrait_shape():
        ds = data.image_dataset(
            portrait, image_size=(80, 48), batch_size=1, augment=None, shuffle=False
        )
        image = next(iter(ds))[0].numpy()
        import tensorflow as tf

        stored = tf.io.decode_jpeg(_jpeg(_blocks(48, 80))).numpy()
        return float(np.abs(image - (np.rot90(stored, -1) / 127.5 - 1)).max())

    add(
        "Python: a phone JPEG turned by EXIF (orientation 6)",
        group="cameras",
        expect="ok",
        call=portrait_shape,
        check=lambda diff, w: diff < 0.05,
    )
    trailer = _folder(
        root,
        "trailer",
        {**photos, "t.jpg": _jpeg(_blocks(32, 32, 9)) + b"\0" * 9000 + b"phone data"},
    )
    out = fresh("trailer.npz")
    add(
        "make-npz on a JPEG with bytes after its end",
        ["make-npz", trailer, out, "--image-size", "16"],
        expect="ok",
        group="cameras",
        check=lambda o, w, p=out: _images_in(p) == 4,
    )
    loop = _folder(root, "loop", photos)
    os.makedirs(os.path.join(loop, "sub"), exist_ok=True)
    os.symlink(loop, os.path.join(loop, "sub", "back"))
    out = fresh("loop.npz")
    add(
        "make-npz --skip-bad on a folder with a symlink loop",
        ["make-npz", loop, out, "--image-size", "16", "--skip-bad"],
        expect="ok",
        group="cameras",
        check=lambda o, w, p=out: _images_in(p) == 3,
    )
    fifo = _folder(root, "fifo", photos)
    os.mkfifo(os.path.join(fifo, "a.png"))
    out = fresh("fifo.npz")

    def make_npz_with_fifo(out=out):
        # Unblocks a reader stuck on the FIFO after the sweep's 120 s, so that a hang is
        # counted and the sweep goes on.
        def writer():
            time.sleep(125)
            with contextlib.suppress(OSError):
                os.close(os.open(os.path.join(fifo, "a.png"), os.O_WRONLY | os.O_NONBLOCK))

        threading.Thread(target=writer, daemon=True).start()
        return cli.main(["make-npz", fifo, out, "--image-size", "16"])

    add(
        "make-npz on a folder holding a FIFO named a.png",
        group="cameras",
        expect="ok",
        call=make_npz_with_fifo,
        check=lambda code, w, p=out: code == 0 and _images_in(p) == 3,
    )
    mixed = _folder(root, "mixed_folder", photos)
    data.write_tfrecords(np.zeros((2, 16, 16, 3), np.uint8), os.path.join(mixed, "a.tfrec"))
    add(
        "make-npz on a folder of JPEGs and a .tfrec",
        ["make-npz", mixed, fresh("m.npz"), "--image-size", "16"],
        group="cameras",
    )
    plain = os.path.join(root, "plain.tfrec")
    data.write_tfrecords(rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8), plain)
    packed = os.path.join(root, "packed.tfrec")
    with open(plain, "rb") as f, open(packed, "wb") as g:
        g.write(gzip.compress(f.read()))
    out = fresh("gz.npz")
    add(
        "make-npz from GZIP-compressed TFRecords",
        ["make-npz", packed, out, "--image-size", "16"],
        expect="ok",
        group="cameras",
        check=lambda o, w, p=out: _images_in(p) == 3,
    )
    raw = os.path.join(root, "raw.tfrec")
    _raw_tfrecord(raw)
    add(
        "make-npz from TFRecords of raw pixel bytes",
        ["make-npz", raw, fresh("r.npz"), "--image-size", "16"],
        group="cameras",
        check_error=lambda line, p=raw: p in line or "raw" in line,
    )

    # -- Keras habits ----------------------------------------------------------------------------
    def fit_uint8_like_floats():
        import keras

        x = rng.integers(0, 256, (8, 16, 16, 1), dtype=np.uint8)
        final = []
        for images in (x, x / 127.5 - 1):
            gan = testing.model("gan")
            gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
            gan.fit(images, batch_size=4, epochs=1, verbose=0, shuffle=False)
            final.append(testing.weights(gan))
        return max(float(np.abs(a - b).max()) for a, b in zip(*final))

    add(
        "Python: GAN.fit on a uint8 array in [0, 255]",
        group="habits",
        expect="ok",
        call=fit_uint8_like_floats,
        check=lambda diff, w: diff < 1e-5,
    )
    add(
        "Python: GAN.fit on (N, 28, 28) without a channel axis",
        group="habits",
        call=lambda: _compiled("gan").fit(np.zeros((4, 16, 16), np.uint8), verbose=0),
    )
    cycle = testing.model("cyclegan")
    photos_u8 = rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    add(
        "Python: CycleGAN.translate on uint8 photos",
        group="habits",
        expect="ok",
        call=lambda: float(
            np.abs(cycle.translate(photos_u8) - cycle.translate(photos_u8 / 127.5 - 1)).max()
        ),
        check=lambda diff, w: diff < 1e-5,
    )
    add(
        "Python: CycleGAN.sample(inputs=floats in [0, 255])",
        group="habits",
        call=lambda: cycle.sample(inputs=photos_u8.astype("float32")),
    )
    add(
        "Python: Pix2Pix.translate on floats in [0, 255]",
        group="habits",
        call=lambda: testing.model("pix2pix").translate(photos_u8.astype("float32")),
    )
    add(
        "Python: to_uint8 on NaN",
        group="habits",
        call=lambda: data.to_uint8(np.array([np.nan, 0.0, 1.0])),
    )
    cgan = testing.model("cgan")
    add(
        "Python: ConditionalGAN.sample(labels=[0.5, 1.7])",
        group="labels",
        call=lambda: cgan.sample(2, labels=[0.5, 1.7]),
    )
    add(
        "Python: ConditionalGAN.sample with class 7 of 3",
        group="labels",
        call=lambda: cgan.sample(4, labels=[0, 1, 2, 7]),
    )
    add(
        "Python: ConditionalGAN.fit with labels 0-5 for 3 classes",
        group="labels",
        call=lambda: _compiled("cgan").fit(
            np.zeros((6, 16, 16, 1), "float32"), np.arange(6), batch_size=3, verbose=0
        ),
    )
    twelve = os.path.join(root, "twelve.npz")
    np.savez(
        twelve,
        images=rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8),
        labels=np.arange(24) % 12,
    )
    add(
        "train cifar10_cgan on labels 0-11",
        [
            "train",
            "cifar10_cgan",
            "--smoke",
            "--data",
            twelve,
            "--epochs",
            "1",
            "--out",
            fresh("c12"),
        ],
        group="labels",
        check_error=lambda line: "11" in line and "class" in line,
    )

    # -- two trainings in one folder -----------------------------------------------------------
    busy = fresh("busy")

    def second_training():
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
                busy,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
        try:
            deadline = time.time() + 100
            backup = os.path.join(busy, "backup")
            while not (
                os.path.isdir(backup) and any(n.endswith(".json") for n in os.listdir(backup))
            ):
                if first.poll() is not None or time.time() > deadline:
                    return "the first training did not start"
                time.sleep(0.5)
            code = cli.main(["train", "dogs_dcgan", "--smoke", "--out", busy])
        finally:
            first.kill()
            first.wait()
        if code == 2:
            raise ValueError("refused")
        return code

    add("a second training into a folder in use", group="runs", call=second_training)

    # -- wrong kinds of file ----------------------------------------------------------------------
    import keras

    plain_keras = os.path.join(root, "plain.keras")
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(plain_keras)
    for command, argv in (
        ("sample", ["sample", plain_keras, "--out", fresh("g.png")]),
        ("translate", ["translate", plain_keras, wide, fresh("t")]),
        ("export", ["export", plain_keras, "--out", fresh("e")]),
    ):
        add(
            f"{command} a plain Keras .keras model",
            argv,
            group="files",
            check_error=lambda line, p=plain_keras: p in line,
        )
    add(
        "Python: GAN.save('gan.h5')",
        group="files",
        call=lambda: testing.model("gan").save(fresh("gan.h5")),
    )
    tfl = fresh("gen.tflite")
    add(
        "export --out gen.tflite without --format",
        ["export", models["gan"], "--out", tfl],
        expect="ok",
        group="files",
        check=lambda o, w, p=tfl: os.path.isfile(p),
    )
    add(
        "export --format savedmodel --out x.tflite",
        ["export", models["gan"], "--out", fresh("x.tflite"), "--format", "savedmodel"],
        group="files",
    )

    # -- bad numbers ----------------------------------------------------------------------------
    run_dir = fresh("norun")
    for value in ("0", "-2", "nan", "inf"):
        add(
            f"animate --fps {value}",
            ["animate", run_dir, "--out", fresh("a.gif"), "--fps", value],
            group="numbers",
            check_error=lambda line: "--fps" in line,
        )
    for command, argv in (
        ("sample", ["sample", models["gan"], "--out", fresh("s.png")]),
        ("submit", ["submit", models["gan"], "--count", "2", "--out", fresh("s.zip")]),
        ("train", ["train", "dogs_dcgan", "--smoke", "--out", fresh("s")]),
    ):
        add(
            f"{command} --seed -5",
            argv + ["--seed", "-5"],
            group="numbers",
            check_error=lambda line: "--seed" in line,
        )
    for value in ("0", "101"):
        add(
            f"make-tfrecords --quality {value}",
            ["make-tfrecords", square, fresh("q.tfrec"), "--image-size", "16", "--quality", value],
            group="numbers",
            check_error=lambda line: "--quality" in line,
        )
    add(
        "make-npz --box-margin -1",
        ["make-npz", square, fresh("b.npz"), "--box-margin", "-1"],
        group="numbers",
        check_error=lambda line: "--box-margin" in line,
    )

    # -- more of the same spirit -----------------------------------------------------------------
    odd = _folder(
        root,
        "odd formats",
        {
            "a.JPG": _jpeg(_blocks(16, 16, 1)),
            "b.jpeg": _jpeg(_blocks(16, 16, 2)),
            "c.png": _png(_blocks(16, 16, 3), alpha=True),
            "d.png": _png(np.full((16, 16, 3), 40000, np.uint16)),
            "é ü.jpg": _jpeg(_blocks(16, 16, 4)),
        },
    )
    out = fresh("odd.npz")
    add(
        "make-npz on upper-case, RGBA, 16-bit and unicode-named files in a spaced folder",
        ["make-npz", odd, out, "--image-size", "16"],
        expect="ok",
        group="cameras",
        check=lambda o, w, p=out: _images_in(p) == 5,
    )


def _compiled(kind):
    from ganpaint import testing

    model = testing.model(kind)
    model.compile()
    return model


def _png(image, alpha=False) -> bytes:
    import tensorflow as tf

    if alpha:
        image = np.concatenate([image, np.full(image.shape[:2] + (1,), 128, image.dtype)], -1)
    return tf.io.encode_png(image).numpy()


def _raw_tfrecord(path):
    import tensorflow as tf

    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "image": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[np.zeros((16, 16, 3), np.uint8).tobytes()])
                )
            }
        )
    )
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(example.SerializeToString())
