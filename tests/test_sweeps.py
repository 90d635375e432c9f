"""`ganpaint sweep`: variants x seeds as resumable runs; killed, resumed; table and HParams."""

import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from ganpaint import cli, sweeps
from ganpaint.errors import UserError

GRID = ["--grid", "model.d_steps=1,2"]
# Long enough epochs that a kill lands inside a run: 2 epochs of 6 steps, checkpoints every 2.
# fmt: off
ARGS = ["dogs_dcgan", "--smoke", *GRID, "--seeds", "2", "--epochs", "2",
        "--set", "run.steps_per_epoch=6", "--set", "run.checkpoint_every=2",
        "--set", "run.tensorboard=false"]
# fmt: on


def _done(out):
    return sorted(glob.glob(os.path.join(out, "*", "seed_*", sweeps.DONE)))


def _started_not_done(out):
    return [
        os.path.dirname(m)
        for m in glob.glob(os.path.join(out, "*", "seed_*", "run.json"))
        if not os.path.exists(os.path.join(os.path.dirname(m), sweeps.DONE))
    ]


def test_a_killed_sweep_continues_and_writes_its_table_and_hparams(tmp_path, capsys):
    out = str(tmp_path / "sweep")
    argv = ["sweep", *ARGS, "--out", out]
    # Two runs side by side, killed (the whole process group) once one run has finished and
    # another has a checkpoint.
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganpaint", *argv, "--parallel", "2"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if _done(out) and any(
            glob.glob(os.path.join(d, "backup", "*.json")) for d in _started_not_done(out)
        ):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {path: os.path.getmtime(path) for path in _done(out)}
    cut_short = [
        d for d in _started_not_done(out) if glob.glob(os.path.join(d, "backup", "*.json"))
    ]
    assert finished and len(finished) < 4, proc.stderr.read().decode()[-2000:]

    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert len(_done(out)) == 4
    # Runs that had finished were read back, not trained again; one cut short resumed.
    assert all(os.path.getmtime(p) == t for p, t in finished.items())
    if cut_short:
        assert "resuming from step" in captured.err + captured.out

    rows = sweeps.read_table(out)
    assert [r["variant"] for r in rows] == ["d_steps=1", "d_steps=2"]
    assert [r["model.d_steps"] for r in rows] == [1.0, 2.0]
    for row in rows:
        assert row["seeds"] == 2 and row["final_fid_mean"] > 0 and row["final_fid_sd"] >= 0
        assert row["best_fid_mean"] <= row["final_fid_mean"] and row["seconds_mean"] > 0
    assert os.path.getsize(os.path.join(out, "sweep.png")) > 0
    assert "| d_steps=1 | 1 | 2 |" in captured.out and " ± " in captured.out

    # TensorBoard's HParams: one run per variant x seed, with its settings and scores.
    from tensorboard.backend.event_processing import event_multiplexer

    mux = event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(os.path.join(out, "hparams"))
    mux.Reload()
    tagged = {run: tags for run, tags in mux.PluginRunToTagToContent("hparams").items()}
    assert "." in tagged and "_hparams_/experiment" in tagged["."]
    trials = sorted(r for r in tagged if r != ".")
    assert trials == [
        "d_steps=1/seed_0",
        "d_steps=1/seed_1",
        "d_steps=2/seed_0",
        "d_steps=2/seed_1",
    ]
    assert all("_hparams_/session_start_info" in tagged[t] for t in trials)
    scalars = mux.Tensors("d_steps=2/seed_1", "final_fid")
    assert len(scalars) == 1

    # The same sweep again trains nothing; another sweep in this folder is refused.
    assert cli.main(argv) == 0
    assert all(os.path.getmtime(p) == t for p, t in finished.items())
    assert (
        cli.main(
            [
                "sweep",
                "dogs_dcgan",
                "--smoke",
                "--grid",
                "model.d_steps=3",
                "--seeds",
                "1",
                "--out",
                out,
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "holds another sweep (its " in err and "grid" in err and "--fresh" in err


def test_grid_values_are_checked_before_anything_trains(tmp_path):
    with pytest.raises(UserError, match="Setting model.d_steps takes int"):
        sweeps.sweep(
            "dogs_dcgan",
            {"model.d_steps": [1, "two"]},
            seeds=1,
            smoke=True,
            out_dir=str(tmp_path / "s"),
        )
    assert not (tmp_path / "s").exists()
    assert sweeps.split_values("(0.7, 1.2),none,0.1") == [(0.7, 1.2), None, 0.1]
    with pytest.raises(UserError, match="--grid takes SECTION.KEY=V1,V2"):
        sweeps.parse_grid(["model.d_steps"])
    runs = sweeps.plan(
        sweeps.get("dogs_dcgan"), {"model.d_steps": [1, 2], "model.loss": ["bce", "hinge"]}, 2, "o"
    )
    assert len(runs) == 8 and runs[0].out_dir == "o/d_steps=1,loss=bce/seed_0"


def test_variants_name_the_rows_of_a_coordinate_search(tmp_path, capsys):
    variants = sweeps.parse_variants(["", "model.loss=hinge model.d_steps=2", "model.d_steps=3"])
    assert variants == [{}, {"model.loss": "hinge", "model.d_steps": 2}, {"model.d_steps": 3}]
    runs = sweeps.plan(sweeps.get("dogs_dcgan"), variants, [0, 1], "o")
    assert [r.out_dir for r in runs[::2]] == [
        "o/base/seed_0",
        "o/loss=hinge,d_steps=2/seed_0",
        "o/d_steps=3/seed_0",
    ]
    assert sweeps.grid_keys(variants) == ["model.loss", "model.d_steps"]
    with pytest.raises(UserError, match="--variant takes SECTION.KEY=VALUE settings"):
        sweeps.parse_variants(["model.loss"])
    with pytest.raises(UserError, match="The variants d_steps=3 are named more than once"):
        sweeps.variants_of([{"model.d_steps": 3}, {}, {"model.d_steps": 3}])
    with pytest.raises(UserError, match="as a list must hold one or more dicts"):
        sweeps.plan(sweeps.get("dogs_dcgan"), [], 1, "o")
    with pytest.raises(UserError, match="Setting model.d_steps takes int"):
        sweeps.sweep("dogs_dcgan", [{"model.d_steps": "x"}], 1, smoke=True, out_dir=str(tmp_path))
    argv = ["sweep", "dogs_dcgan", "--smoke", "--out", str(tmp_path / "s")]
    assert cli.main([*argv, "--grid", "model.d_steps=1,2", "--variant", "model.d_steps=3"]) == 2
    assert "--grid and --variant name the variants two ways" in capsys.readouterr().err


def test_held_out_pairs_that_cannot_be_read_are_one_line_naming_the_setting(tmp_path, capsys):
    argv = ["train", "maps_pix2pix", "--smoke", "--out", str(tmp_path / "run")]
    assert cli.main([*argv, "--set", f"run.val_pairs={tmp_path / 'missing'}"]) == 2
    err = capsys.readouterr().err
    assert f"run.val_pairs {tmp_path / 'missing'} could not be read as held-out pairs" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_a_judge_that_cannot_judge_the_recipe_is_one_line_naming_the_setting(tmp_path, capsys):
    import keras

    inputs = keras.Input((32, 32, 3))
    scores = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(inputs))
    keras.Model(inputs, scores).save(tmp_path / "colour.keras")
    for recipe, setting, message in (
        ("dogs_dcgan", "colour.keras", "Setting run.judge does not apply to recipe dogs_dcgan"),
        ("mnist_acgan", "colour.keras", "takes images of 3 channels; the recipe draws 1"),
        ("mnist_acgan", "missing.keras", "could not be loaded as a Keras classifier"),
    ):
        out = tmp_path / recipe
        argv = ["train", recipe, "--smoke", "--out", str(out)]
        assert cli.main([*argv, "--set", f"run.judge={tmp_path / setting}"]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()
    with pytest.raises(UserError, match="`judge` applies to labelled recipes"):  # in Python
        from ganpaint import recipes

        recipes.build("dogs_dcgan", smoke=True, out_dir=str(tmp_path / "p"), judge="x.keras")
