"""The user's real path: offline training with FID to its end, runs and files that are never
replaced, every command on every model kind, and no silent garbage.

Commands run in-process through `cli.main(argv)`; a few run as real subprocesses to show that
what a shell user sees is one line, not a traceback.
"""

import json
import os
import socket
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from helpers import model_files, one_line_error, snapshot

from ganpaint import callbacks, cli, data, metrics, recipes, testing
from ganpaint.errors import UserError, WeightsUnavailable
from ganpaint.testing import synthetic_inception_graph

# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch, tmp_path_factory):
    """Every download fails (no socket connects, no name resolves), Keras' cache is empty and
    nothing is attached under /kaggle/input: Kaggle's contest notebooks with the internet off."""

    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("empty_keras_home")))
    monkeypatch.delenv(metrics.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(metrics, "WEIGHTS_SEARCH_ROOTS", [str(tmp_path_factory.mktemp("kaggle"))])


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / metrics.GRAPH_FILE
    synthetic_inception_graph(str(path))
    return str(path)


# -- offline ---------------------------------------------------------------------------------


def test_a_recipe_trains_offline_with_training_time_fid_from_a_local_file_to_its_end(
    offline, graph_file, tmp_path, capsys
):
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "dogs_dcgan",
                "--smoke",
                "--fid",
                "inception",
                "--fid-weights",
                graph_file,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    record = json.loads((out / "best" / "best.json").read_text())
    assert record["provenance"]["extractor"] == "inception_2015_pool_3"
    assert record["provenance"]["weights_file"] == graph_file
    shown = capsys.readouterr().out
    assert shown.count("Epoch 2/2") and shown.count("- fid: ") >= 2  # both epochs scored
    markers = sorted(p.name for p in (out / "backup").glob("step_*.json"))
    assert markers[-1] == "step_000000006.json"  # 2 epochs of 3 steps
    assert (out / "model.keras").exists()


def test_training_finds_weights_attached_under_the_kaggle_input_folder(
    offline, graph_file, tmp_path, monkeypatch
):
    attached = tmp_path / "input" / "inception-2015"
    attached.mkdir(parents=True)
    (attached / metrics.GRAPH_FILE).write_bytes(open(graph_file, "rb").read())
    monkeypatch.setattr(metrics, "WEIGHTS_SEARCH_ROOTS", [str(tmp_path / "input")])
    assert metrics.find_fid_weights() == str(attached / metrics.GRAPH_FILE)
    monkeypatch.setenv(metrics.WEIGHTS_ENV, graph_file)  # the variable comes first
    assert metrics.find_fid_weights() == graph_file
    assert metrics.find_fid_weights("pixels") == "pixels"
    monkeypatch.setenv(metrics.WEIGHTS_ENV, str(tmp_path / "missing.pb"))
    with pytest.raises(UserError, match=r"\$GANPAINT_FID_WEIGHTS=.*missing.pb is not a file"):
        metrics.find_fid_weights()


def test_missing_weights_are_reported_before_the_first_step(offline, tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        cli.main(["train", "dogs_dcgan", "--smoke", "--fid", "inception", "--out", str(out)]) == 2
    )
    one_line_error(
        capsys, "could not be downloaded", "--fid-weights FILE", "--fid pixels", "--fid off"
    )
    assert not list((out / "backup").glob("step_*")) if (out / "backup").exists() else True
    # In Python, the same stop names the arguments instead.
    setup = recipes.build(
        "dogs_dcgan", smoke=True, out_dir=str(tmp_path / "py"), fid_features="inception"
    )
    with pytest.raises(WeightsUnavailable, match='fid_weights=FILE.*fid_features="pixels"'):
        setup.fit(verbose=0)
    assert int(setup.model.g_optimizer.iterations) == 0
    # The named fixes exist: `--fid off` trains without a score.
    assert (
        cli.main(["train", "dogs_dcgan", "--smoke", "--fid", "off", "--out", str(tmp_path / "off")])
        == 0
    )
    assert not (tmp_path / "off" / "best").exists()


def test_a_score_that_fails_mid_run_is_one_line_and_the_run_goes_on(tmp_path, capsys):
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=str(tmp_path))
    fid = next(c for c in setup.callbacks if isinstance(c, callbacks.FIDCheckpoint))

    def broken(model):
        raise RuntimeError("the scorer fell over")

    fid.score_fn = broken
    setup.fit(verbose=0)
    assert int(setup.model.g_optimizer.iterations) == 6  # both epochs ran
    assert fid.failures == [
        (1, "RuntimeError: the scorer fell over"),
        (2, "RuntimeError: the scorer fell over"),
    ]
    assert (
        "the fid score failed (RuntimeError: the scorer fell over); training goes on"
        in capsys.readouterr().out
    )


def test_a_recipe_that_downloads_its_data_says_so_offline(offline, tmp_path, capsys):
    assert cli.main(["train", "cifar10_cgan", "--out", str(tmp_path / "c")]) == 2
    one_line_error(capsys, "downloads CIFAR10", "--data PATH", "--smoke")


# -- runs are never replaced -----------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "acgan"
    assert cli.main(["train", "mnist_acgan", "--smoke", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "dogs_dcgan", "--smoke"],  # another recipe
        ["train", "mnist_acgan", "--smoke", "--image-size", "32"],  # another shape
        ["train", "mnist_acgan", "--smoke", "--seed", "1"],  # another seed
    ],
)
def test_train_refuses_a_folder_that_holds_another_run(finished_run, argv, capsys):
    before = snapshot(finished_run)
    assert cli.main(argv + ["--out", str(finished_run)]) == 2
    one_line_error(capsys, str(finished_run), "it holds another run", "--fresh")
    assert snapshot(finished_run) == before


def test_a_run_from_before_run_records_is_not_replaced_either(finished_run, tmp_path, capsys):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(finished_run, old)
    (old / "run.json").unlink()  # as an earlier ganpaint left it
    before = snapshot(old)
    assert cli.main(["train", "dogs_dcgan", "--smoke", "--out", str(old)]) == 2
    one_line_error(capsys, "holds files of an earlier run", "--fresh")
    assert snapshot(old) == before


def test_a_run_recorded_before_seeds_were_is_still_this_run(finished_run, tmp_path, capsys):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(finished_run, old)
    record = json.loads((old / "run.json").read_text())
    assert record["seed"] == 0
    del record["seed"]  # as an earlier ganpaint wrote it
    (old / "run.json").write_text(json.dumps(record))
    assert cli.main(["train", "mnist_acgan", "--smoke", "--out", str(old)]) == 0
    assert "is complete" in capsys.readouterr().out


def test_the_same_run_again_is_complete_and_changes_nothing(finished_run, capsys):
    before = {k: v for k, v in snapshot(finished_run).items() if k != "model.keras"}
    assert cli.main(["train", "mnist_acgan", "--smoke", "--out", str(finished_run)]) == 0
    assert "is complete" in capsys.readouterr().out
    after = {k: v for k, v in snapshot(finished_run).items() if k != "model.keras"}
    assert after == before


def test_fresh_moves_the_whole_earlier_run_aside_and_the_new_run_owns_its_best(
    finished_run, tmp_path, capsys
):
    import shutil

    out = tmp_path / "r"
    shutil.copytree(finished_run, out)
    before = snapshot(out)
    assert cli.main(["train", "dogs_dcgan", "--smoke", "--fresh", "--out", str(out)]) == 0
    aside = [p for p in out.iterdir() if p.name.startswith("replaced-")]
    assert len(aside) == 1 and snapshot(aside[0]) == before  # byte for byte, nothing deleted
    assert "was moved to" in capsys.readouterr().out
    assert json.loads((out / "run.json").read_text())["recipe"] == "dogs_dcgan"
    best = json.loads((out / "best" / "best.json").read_text())
    assert best["epoch"] in (1, 2)  # written by this run, whatever the old run's score was


# -- every writer refuses an existing target ---------------------------------------------------


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    """A .keras file of every model kind the commands name, and inputs for the translators."""
    return model_files(tmp_path_factory.mktemp("kinds"))


GENERATORS, TRANSLATORS = ("gan", "cgan", "acgan"), ("cyclegan", "pix2pix")


def _command(command, model, target, kinds, kind):
    """argv for `command` on `model` writing to `target`."""
    if command == "sample":
        return ["sample", model, "--out", target, "--n", "4"]
    if command == "translate":
        return ["translate", model, kinds["singles"], target]
    inputs = [kinds["singles"]] if kind in TRANSLATORS else ["--count", "4"]
    return ["submit", model, *inputs, "--out", target]


@pytest.mark.parametrize("command", ["sample", "translate", "submit"])
@pytest.mark.parametrize("kind", list(testing.MODELS))
def test_every_command_on_every_model_kind_into_new_and_used_targets(
    command, kind, kinds, tmp_path, capsys
):
    model = kinds["models"][kind]
    suffix = {"sample": "grid.png", "translate": "out", "submit": "images.zip"}[command]
    target = str(tmp_path / suffix)
    wrong_kind = (command == "sample" and kind in TRANSLATORS) or (
        command == "translate" and kind in GENERATORS
    )
    code = cli.main(_command(command, model, target, kinds, kind))
    if wrong_kind:
        assert code == 2
        one_line_error(
            capsys, "use `ganpaint " + ("translate" if command == "sample" else "sample")
        )
        return
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    before = snapshot(tmp_path)
    # The target exists now: refused, and intact.
    assert cli.main(_command(command, model, target, kinds, kind)) == 2
    one_line_error(capsys, target, "--overwrite")
    assert snapshot(tmp_path) == before
    assert cli.main(_command(command, model, target, kinds, kind) + ["--overwrite"]) == 0
    # A damaged model file: one line, naming it.
    for broken in (kinds["bad"], kinds["truncated"]):
        assert cli.main(_command(command, broken, str(tmp_path / ("x" + suffix)), kinds, kind)) == 2
        one_line_error(capsys, broken, "not a readable .keras file")


def test_pix2pix_reads_pairs_when_told_and_whole_images_otherwise(kinds, tmp_path, capsys):
    # What a folder holds is the user's to say (a 16:9 photo is as wide as a pair of
    # squares); pairs-shaped images without --pairs get a hint, not a guess.
    model = kinds["models"]["pix2pix"]
    assert cli.main(["translate", model, kinds["pairs"], str(tmp_path / "p"), "--pairs"]) == 0
    assert "side-by-side pairs (32x16): the left halves (AtoB)" in capsys.readouterr().out
    assert cli.main(["translate", model, kinds["pairs"], str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert "whole images (32x16)" in out and "add --pairs" in out
    assert cli.main(["translate", model, kinds["singles"], str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "whole images (16x16)" in out and "--pairs" not in out
    # The left halves are what a pair's translation sees, not the squashed pair.
    pairs = np.load(kinds["pairs"])["images"]
    left = data.translation_dataset(pairs, image_size=16, batch_size=3, pairs=True)
    assert next(iter(left)).shape == (3, 16, 16, 3)
    np.testing.assert_allclose(next(iter(left)).numpy(), pairs[:, :, :16] / 127.5 - 1, atol=1e-5)
    assert (
        cli.main(["submit", model, kinds["pairs"], "--pairs", "--out", str(tmp_path / "z.zip")])
        == 0
    )
    assert "side-by-side pairs" in capsys.readouterr().out


@pytest.fixture(scope="module")
def labelled_npz(tmp_path_factory):
    root = tmp_path_factory.mktemp("npz")
    rng = np.random.default_rng(2)
    path = root / "digits.npz"
    np.savez(
        path,
        images=rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8),
        labels=np.array([0, 1, 2, 0, 1, 2]),
        names=np.array([f"d{i}.png" for i in range(6)]),
        class_names=np.array(["a", "b", "c"]),
    )
    return path


def test_conversions_keep_labels_and_names_both_ways(labelled_npz, tmp_path, capsys):
    records = tmp_path / "rec" / "d.tfrec"
    assert (
        cli.main(
            [
                "make-tfrecords",
                str(labelled_npz),
                str(records),
                "--image-size",
                "8",
                "--format",
                "png",
            ]
        )
        == 0
    )
    ds = data.image_dataset(str(records), image_size=8, batch_size=6, labels=True, shuffle=False)
    np.testing.assert_array_equal(next(iter(ds))[1].numpy(), [0, 1, 2, 0, 1, 2])
    back = tmp_path / "back.npz"
    assert cli.main(["make-npz", str(records.parent), str(back), "--image-size", "8"]) == 0
    with np.load(back) as f:
        np.testing.assert_array_equal(f["labels"], [0, 1, 2, 0, 1, 2])
        assert list(f["names"]) == [f"d{i}.png" for i in range(6)]
        original = np.load(labelled_npz)["images"]
        np.testing.assert_array_equal(f["images"], original)  # PNG: lossless
    capsys.readouterr()


@pytest.mark.parametrize("command", ["make-npz", "make-tfrecords", "fid", "sample-npz", "audit"])
def test_every_writer_refuses_an_existing_target(command, labelled_npz, kinds, tmp_path, capsys):
    target = tmp_path / "target"
    if command == "make-npz":
        target = tmp_path / "t.npz"
        argv = ["make-npz", str(labelled_npz), str(target), "--image-size", "8"]
    elif command == "make-tfrecords":
        target = tmp_path / "t.tfrec"
        argv = ["make-tfrecords", str(labelled_npz), str(target), "--image-size", "8"]
    elif command == "fid":
        target = tmp_path / "t.json"
        argv = [
            "fid",
            str(labelled_npz),
            str(labelled_npz),
            "--weights",
            "pixels",
            "--image-size",
            "8",
            "--json",
            str(target),
        ]
    elif command == "sample-npz":
        target = tmp_path / "grid.npz"
        argv = [
            "sample",
            kinds["models"]["gan"],
            "--out",
            str(tmp_path / "grid.png"),
            "--n",
            "2",
            "--npz",
        ]
    else:
        zip_path = tmp_path / "s.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            import io

            from PIL import Image

            for i in range(4):
                buffer = io.BytesIO()
                Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(buffer, "PNG")
                archive.writestr(f"{i}.png", buffer.getvalue())
        target = tmp_path / "audit.json"
        argv = ["audit", str(zip_path), str(labelled_npz), "--weights", "pixels"]
    target.write_bytes(b"the user's own file")
    assert cli.main(argv) == 2
    one_line_error(capsys, str(target), "--overwrite")
    assert target.read_bytes() == b"the user's own file"
    assert cli.main(argv + ["--overwrite"]) == 0
    assert target.read_bytes() != b"the user's own file"


def test_translate_refuses_a_folder_that_is_not_empty(kinds, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "00000.png").write_bytes(b"an earlier translation")
    assert cli.main(["translate", kinds["models"]["cyclegan"], kinds["singles"], str(out)]) == 2
    one_line_error(capsys, "is not empty", "--overwrite")
    assert (out / "00000.png").read_bytes() == b"an earlier translation"


def test_python_writers_name_their_argument_not_a_flag(labelled_npz, tmp_path):
    target = tmp_path / "t.npz"
    target.write_bytes(b"mine")
    with pytest.raises(UserError, match="pass overwrite=True"):
        data.images_to_npz(str(labelled_npz), str(target), 8)
    with pytest.raises(UserError, match="pass overwrite=True"):
        data.write_tfrecords(np.zeros((2, 4, 4, 3), np.uint8), str(target))
    assert target.read_bytes() == b"mine"


# -- no silent garbage -----------------------------------------------------------------------


def test_scores_convert_uint8_and_refuse_other_ranges():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    fake = rng.integers(0, 200, (20, 8, 8, 3), dtype=np.uint8)
    unit = lambda x: x.astype("float32") / 127.5 - 1
    features = metrics.PixelFeatures(4)
    expected = metrics.fid(unit(real), unit(fake), extractor=features, verbose=False)
    with pytest.warns(UserWarning, match=r"uint8 images: converted"):
        got = metrics.fid(real, fake, extractor=features, verbose=False)
    assert float(got) == pytest.approx(float(expected))
    with pytest.raises(ValueError, match=r"must be floats in \[-1, 1\].*\[0, 255\]"):
        metrics.fid(
            real.astype("float32"), fake.astype("float32"), extractor=features, verbose=False
        )


def test_small_samples_warn():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
    with pytest.warns(UserWarning, match="the std over subsets is 0"):
        _, std = metrics.kid_from_features(a, b, subsets=5, subset_size=1000)
    assert std == pytest.approx(0, abs=1e-12)
    with pytest.warns(UserWarning, match="fewer images than dimensions"):
        metrics.fid(
            np.zeros((4, 8, 8, 3), "float32") + rng.uniform(-1, 1, (4, 8, 8, 3)),
            rng.uniform(-1, 1, (4, 8, 8, 3)),
            extractor=metrics.PixelFeatures(4),
            verbose=False,
        )


# -- the command line itself -------------------------------------------------------------------


def test_version_and_verbose_after_the_subcommand(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and "ganpaint 0." in capsys.readouterr().out
    assert cli.main(["samples", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert data.sample_path("mnist") in out and data.sample_path("pairs") in out


def test_a_shell_user_sees_one_line_not_a_traceback(kinds, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for argv in (
        ["translate", kinds["truncated"], kinds["singles"], str(tmp_path / "a")],
        ["translate", kinds["models"]["pix2pix"], kinds["pairs"], str(tmp_path / "b")],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "ganpaint", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0 and len(os.listdir(tmp_path / "b")) == 3
