"""The `ganpaint` console script: each subcommand on small real files, and bad arguments."""

import json
import os
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
            write_image(
                tmp_path / "cans" / cls / f"{i}.jpg",
                rng.integers(0, 256, (24, 20, 3), dtype=np.uint8),
            )
    return tmp_path / "cans"


def test_make_npz(folder, tmp_path, capsys):
    assert (
        cli.main(["make-npz", str(folder), str(tmp_path / "cans.npz"), "--image-size", "16"]) == 0
    )
    assert "wrote 4 images, 2 classes" in capsys.readouterr().out
    with np.load(tmp_path / "cans.npz") as npz:
        assert npz["images"].shape == (4, 16, 16, 3)


def test_make_tfrecords_from_npz(folder, tmp_path, capsys):
    cli.main(["make-npz", str(folder), str(tmp_path / "cans.npz"), "--image-size", "16x12"])
    assert (
        cli.main(
            [
                "make-tfrecords",
                str(tmp_path / "cans.npz"),
                str(tmp_path / "r" / "c.tfrec"),
                "--image-size",
                "16x12",
                "--shards",
                "2",
                "--format",
                "png",
            ]
        )
        == 0
    )
    assert "wrote 4 images (names and labels kept) to 2 file(s)" in capsys.readouterr().out
    ds = data.image_dataset(tmp_path / "r", image_size=(16, 12), batch_size=4, labels=True)
    assert ds.num_images == 4


def test_make_npz_without_a_size_uses_the_default_and_says_so(folder, tmp_path, capsys):
    assert cli.main(["make-npz", str(folder), str(tmp_path / "d.npz")]) == 0
    out = capsys.readouterr().out
    assert (
        f"--image-size not given: resizing to {cli.DEFAULT_NPZ_SIZE}x{cli.DEFAULT_NPZ_SIZE}" in out
    )
    with np.load(tmp_path / "d.npz") as f:
        assert f["images"].shape[1:3] == (cli.DEFAULT_NPZ_SIZE, cli.DEFAULT_NPZ_SIZE)


def test_fid_without_internet_names_the_weights_file_in_one_line(folder, capsys, monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):  # what keras raises when the download fails
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None")

    monkeypatch.setattr(file_utils, "get_file", offline)
    assert cli.main(["fid", str(folder), str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--weights FILE" in err and "Traceback" not in err
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in err


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert (
        cli.main(
            ["make-npz", str(tmp_path / "empty"), str(tmp_path / "o.npz"), "--image-size", "8"]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("ganpaint make-npz: error: Folder") and "holds no images" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["make-npz", "a", "b", "--image-size", "big"], "expected an int or HxW, got 'big'"),
        (["make-npz", "a", "b", "--image-size", "0"], "expected a positive int or HxW"),
        (
            ["make-tfrecords", "a", "b", "--image-size", "8", "--shards", "0"],
            "expected a positive int, got '0'",
        ),
        (["make-tfrecords", "a", "b", "--image-size", "8", "--format", "gif"], "invalid choice"),
        (["paint"], "invalid choice: 'paint'"),
    ],
)
def test_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_demo_writes_samples_losses_and_scores_into_the_folder_it_names(tmp_path, capsys):
    """The demo as `make demo` runs it, at 12 of its 50 epochs (the suite's time; at 12 the
    GAN already makes the asked-for digit 95 % of the time): also the guard's false-alarm check
    over a healthy run, and the GAN's training digits are apart from the 1,000 that score it;
    then another seed in the same folder, refused, and with --fresh, moved aside."""
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "ganpaint", "demo", "--out", str(out), "--epochs", "12"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"to {out}" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert {"samples.png", "scores.json", "history", "model.keras"} <= names
    assert (out / "history" / "losses.png").exists()
    scores = json.loads((out / "scores.json").read_text())
    assert scores["epochs"] == 12 and np.isfinite(scores["generated"]["fid"])
    assert (scores["gan_training_digits"], scores["held_out_digits"]) == (4000, 1000)
    assert scores["guard_trips"] == 0 and not (out / "guard.jsonl").exists()
    assert set(scores["final_losses"]) >= {"d_loss", "g_loss"}
    assert scores["generated"]["class_accuracy"] > 0.8  # it learned labels (0.957 measured)
    assert set(scores["generated"]["class_accuracy_per_class"]) == {str(c) for c in range(10)}
    assert scores["classifier_accuracy_held_out"] > 0.8  # the scorer itself works
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # nothing else in the cwd

    # Another seed into the same folder would write its scores under the wrong settings:
    # refused, with the fix on each interface; --fresh moves the whole demo aside.
    from helpers import one_line_error, snapshot

    from ganpaint import demo
    from ganpaint.errors import UserError

    before = snapshot(out)
    assert cli.main(["demo", "--out", str(out), "--seed", "1", "--epochs", "12"]) == 2
    one_line_error(capsys, str(out), "(seed 0), not this one (seed 1)", "--fresh")
    with pytest.raises(UserError, match=r"\(epochs 12\), not this one \(epochs 1\).*resume=False"):
        demo.run(str(out), epochs=1, verbose=0)
    assert snapshot(out) == before
    assert cli.main(["demo", "--out", str(out), "--seed", "1", "--epochs", "1", "--fresh"]) == 0
    aside = [p for p in out.iterdir() if p.name.startswith("replaced-")]
    assert len(aside) == 1 and snapshot(aside[0]) == before  # pictures and scores included
    first = json.loads((out / "scores.json").read_text())
    assert first["command"].endswith("--seed 1")
    # The same command again finds the run finished and scores it again, losses included.
    assert cli.main(["demo", "--out", str(out), "--seed", "1", "--epochs", "1"]) == 0
    again = json.loads((out / "scores.json").read_text())
    assert again["final_losses"] == first["final_losses"] != {}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`ganpaint train` in smoke mode for an unconditional, a labelled and a CycleGAN recipe."""
    root = tmp_path_factory.mktemp("train")
    out = {}
    for recipe in ("dogs_dcgan", "mnist_acgan", "monet_cyclegan", "dogs_sngan"):
        out[recipe] = root / recipe
        assert (
            cli.main(["train", recipe, "--smoke", "--epochs", "1", "--out", str(out[recipe])]) == 0
        )
    return out


def test_train_writes_model_grids_and_history(trained):
    for folder in trained.values():
        assert (folder / "model.keras").exists()
        assert list((folder / "grids").glob("epoch_*.png"))
        assert (folder / "history" / "epochs.csv").exists()


def test_train_resume_continues_an_interrupted_run(tmp_path, capsys):
    import keras

    from ganpaint import recipes

    out = tmp_path / "run"

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    setup = recipes.build("dogs_dcgan", smoke=True, out_dir=str(out), epochs=3)
    setup.callbacks.append(Interrupt())
    with pytest.raises(KeyboardInterrupt):
        setup.fit(verbose=0)
    assert (out / "backup").exists()
    assert (
        cli.main(["train", "dogs_dcgan", "--smoke", "--epochs", "3", "--out", str(out), "--resume"])
        == 0
    )
    import ganpaint.gans  # noqa: F401

    model = keras.saving.load_model(out / "model.keras")
    assert int(model.g_optimizer.iterations) == 9  # 3 epochs of 3 steps, not 2 + 3
    epochs = (out / "history" / "epochs.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in epochs[1:]] == ["1", "2", "3"]  # history kept
    steps = (out / "history" / "batches.csv").read_text().splitlines()[1:]
    assert len(steps) == 9
    # A finished run keeps its last state: the same command again has nothing to do.
    assert sorted((out / "backup").glob("*.json"))[-1].name == "step_000000009.json"
    assert cli.main(["train", "dogs_dcgan", "--smoke", "--epochs", "3", "--out", str(out)]) == 0
    assert (
        "is complete (9 steps); nothing to do (to start again: --fresh" in capsys.readouterr().out
    )
    # Fewer epochs than it has trained: still this run, and the message says how far it went.
    assert cli.main(["train", "dogs_dcgan", "--smoke", "--epochs", "2", "--out", str(out)]) == 0
    assert "is complete (9 steps, more than the 6 asked for)" in capsys.readouterr().out


def test_sample_from_unconditional_and_labelled_models(trained, tmp_path, capsys):
    from PIL import Image

    assert (
        cli.main(
            [
                "sample",
                str(trained["dogs_dcgan"] / "model.keras"),
                "--out",
                str(tmp_path / "dogs.png"),
                "--n",
                "9",
                "--npz",
            ]
        )
        == 0
    )
    assert Image.open(tmp_path / "dogs.png").size == (3 * 32 + 4, 3 * 32 + 4)
    with np.load(tmp_path / "dogs.npz") as f:
        assert f["images"].shape == (9, 32, 32, 3) and f["images"].dtype == np.uint8
    assert (
        cli.main(
            [
                "sample",
                str(trained["mnist_acgan"] / "model.keras"),
                "--out",
                str(tmp_path / "digits.png"),
                "--n",
                "4",
                "--labels",
                "7",
                "--npz",
            ]
        )
        == 0
    )
    with np.load(tmp_path / "digits.npz") as f:
        assert f["labels"].tolist() == [7, 7, 7, 7]


def test_sample_uses_the_ema_generator_unless_told_not_to(trained, tmp_path, capsys):
    import keras

    # The recipe keeps an EMA generator; after a smoke run it is close to the raw one, so make
    # it visibly different (white images) before sampling through the CLI.
    model = keras.saving.load_model(trained["dogs_sngan"] / "model.keras")
    bias = model.ema_generator.get_layer("to_image").bias
    bias.assign(bias.value + 5.0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    for flag in ([], ["--no-ema"]):
        assert (
            cli.main(
                [
                    "sample",
                    path,
                    "--out",
                    str(tmp_path / f"s{len(flag)}.png"),
                    "--n",
                    "4",
                    "--npz",
                    *flag,
                ]
            )
            == 0
        )
    with np.load(tmp_path / "s0.npz") as ema, np.load(tmp_path / "s1.npz") as raw:
        assert ema["images"].min() > 250  # the moving average's images
        assert raw["images"].max() < 200  # the trained generator's


def test_the_command_loads_a_model_in_a_fresh_process(trained, tmp_path):
    # The command imports lazily: loading must still find every ganpaint class (instance
    # norm, reflection padding, the CycleGAN) that the file names.
    command = os.path.join(os.path.dirname(sys.executable), "ganpaint")
    out = tmp_path / "monet"
    proc = subprocess.run(
        [
            command,
            "translate",
            str(trained["monet_cyclegan"] / "model.keras"),
            data.sample_path("photo"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list(out.glob("*.png"))) == 30


def test_translate_writes_one_png_per_input(trained, tmp_path, capsys):
    out = tmp_path / "monet"
    assert (
        cli.main(
            [
                "translate",
                str(trained["monet_cyclegan"] / "model.keras"),
                data.sample_path("photo"),
                str(out),
                "--batch-size",
                "7",
            ]
        )
        == 0
    )
    assert len(list(out.glob("*.png"))) == 30


def test_fid_between_two_folders(folder, tmp_path, capsys):
    assert (
        cli.main(
            [
                "fid",
                str(folder / "coke"),
                str(folder / "pepsi"),
                "--weights",
                "pixels",
                "--image-size",
                "16",
                "--kid",
                "--json",
                str(tmp_path / "fid.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "\nFID " in out and "real: 2 images, fake: 2" in out and "KID" in out
    record = json.loads((tmp_path / "fid.json").read_text())
    assert record["fid"] > 0 and "kid" in record
    assert record["provenance"] == {
        "extractor": "pixels_16",
        "dtype": "float64",
        "input_size": 16,
        "resize_filter": "bilinear, antialiased",
        "n_real": 2,
        "n_fake": 2,
    }


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "mnist_gan"], "invalid choice: 'mnist_gan'"),
        (["train", "dogs_dcgan", "--epochs", "0"], "expected a positive int, got '0'"),
    ],
)
def test_bad_train_arguments(argv, message, capsys):
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "monet_cyclegan", "--data", "photos/"], "two domains: give --data A B"),
        (
            ["train", "dogs_dcgan", "--data", "no/such/dogs"],
            "--data path does not exist: no/such/dogs",
        ),
        (["train", "dogs_dcgan"], "needs --data PATH"),
        (["sample", "missing.keras", "--out", "x.png"], "model file not found: missing.keras"),
        (["sample", "model.h5", "--out", "x.png"], "model file not found"),
        (["fid", "no/real", "no/fake", "--weights", "pixels"], "no/real"),
        (["fid", "a", "b", "--weights", "missing.h5"], "weights"),
    ],
)
def test_bad_values_are_one_clear_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_sample_and_translate_refuse_the_wrong_kind_of_model(trained, tmp_path, capsys):
    assert (
        cli.main(
            [
                "sample",
                str(trained["monet_cyclegan"] / "model.keras"),
                "--out",
                str(tmp_path / "x.png"),
            ]
        )
        == 2
    )
    assert "use `ganpaint translate`" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "translate",
                str(trained["dogs_dcgan"] / "model.keras"),
                data.sample_path("photo"),
                str(tmp_path / "t"),
            ]
        )
        == 2
    )
    assert "use `ganpaint sample`" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "sample",
                str(trained["mnist_acgan"] / "model.keras"),
                "--out",
                str(tmp_path / "x.png"),
                "--labels",
                "12",
            ]
        )
        == 2
    )
    assert "classes 0..9" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["train", "--help"],
        ["sample", "--help"],
        ["make-npz", "--help"],
        ["fid", "--help"],
    ],
)
def test_help_needs_no_tensorflow(argv, tmp_path):
    # A `tensorflow` that cannot be imported, first on the path: help must still print.
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('tensorflow is not to be imported')\n")
    command = os.path.join(os.path.dirname(sys.executable), "ganpaint")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "fake"))
    proc = subprocess.run(
        [command, *argv], capture_output=True, text=True, timeout=120, env=env, cwd=str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: ganpaint")
    if argv[0] == "train":
        assert "dogs_sngan" in proc.stdout  # the recipes, listed without TensorFlow


def test_the_command_prints_no_tensorflow_log_lines_unless_verbose(tmp_path):
    command = os.path.join(os.path.dirname(sys.executable), "ganpaint")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    runs = {}
    for flags in ([], ["--verbose"]):
        proc = subprocess.run(
            [command, *flags, "make-npz", str(tmp_path / "none"), str(tmp_path / "x.npz")],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        runs[bool(flags)] = proc.stderr
    quiet = runs[False].strip().splitlines()
    assert len(quiet) == 1 and quiet[0].startswith("ganpaint make-npz: error:"), quiet
    assert "I0000" in runs[True] or "WARNING" in runs[True]  # --verbose lets them through


def test_an_unwritable_output_is_one_line(folder, tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    assert cli.main(["make-npz", str(folder), str(blocked / "out.npz"), "--image-size", "8"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ganpaint make-npz: error:") and err.count("\n") == 1


def test_importing_the_package_and_its_command_needs_no_tensorflow(tmp_path):
    script = (
        "import sys, ganpaint, ganpaint.cli\n"
        "ganpaint.cli.build_parser()\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


def test_load_model_finds_every_ganpaint_class_in_a_fresh_process(trained, tmp_path):
    script = (
        "import ganpaint as gp\n"
        f"m = gp.load_model({str(trained['monet_cyclegan'] / 'model.keras')!r})\n"
        "print(type(m).__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "CycleGAN"
