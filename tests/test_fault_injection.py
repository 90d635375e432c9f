"""Fault injection, each a real subprocess of `ganpaint train`: SIGKILL at chosen and random
moments (two during a checkpoint write), a truncated checkpoint, a time limit. Every run is
resumed with the same command; with op determinism (`--deterministic`) the final weights
must equal an uninterrupted run's, and the loss history must hold every step exactly once.

The kills come from a launcher that wraps `ganpaint.cli.main` and sends SIGKILL to its own
process at the named moment (no cleanup, no `finally`: as a crash or an OOM kill):
- `batch:N`: after step N's callbacks (a checkpoint at N, if due, is written);
- `weights_write:N`: while writing the checkpoint of step N, half its weights on disk;
- `before_marker:N`: the weights of step N renamed into place, the marker not yet written;
- `timer:S`: S seconds after the first step, wherever the run then is.
"""

import csv
import os
import random
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

LAUNCHER = textwrap.dedent("""
    import os, signal, sys, threading
    from ganpaint import checkpoints as runs
    from ganpaint.cli import main

    kind, _, value = os.environ.get("GP_KILL", ":").partition(":")

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if kind == "batch":
        original = runs.StepCheckpoint.on_train_batch_end
        def on_train_batch_end(self, batch, logs=None):
            original(self, batch, logs)
            if self.step == int(value):
                die()
        runs.StepCheckpoint.on_train_batch_end = on_train_batch_end
    elif kind == "weights_write":
        original_save = runs.CheckpointStore.save
        def save(self, model, step, **info):
            if step == int(value):
                model.save_weights(os.path.join(self.folder, "whole.weights.h5"))
                data = open(os.path.join(self.folder, "whole.weights.h5"), "rb").read()
                with open(os.path.join(self.folder, f"partial_{step:09d}.weights.h5"), "wb") as f:
                    f.write(data[: len(data) // 2])
                os.remove(os.path.join(self.folder, "whole.weights.h5"))
                die()
            return original_save(self, model, step, **info)
        runs.CheckpointStore.save = save
    elif kind == "before_marker":
        original_write = runs._write_json_atomically
        def write(path, value_):
            if os.path.basename(path) == f"step_{int(value):09d}.json":
                die()
            original_write(path, value_)
        runs._write_json_atomically = write
    elif kind == "timer":
        original = runs.StepCheckpoint.on_train_batch_end
        def on_train_batch_end(self, batch, logs=None):
            if not getattr(runs, "_timer", None):
                runs._timer = threading.Timer(float(value), die)
                runs._timer.start()
            original(self, batch, logs)
        runs.StepCheckpoint.on_train_batch_end = on_train_batch_end
    sys.exit(main(sys.argv[1:]))
""")

EPOCHS, STEPS = 4, 3  # the smoke recipe: 3 steps an epoch; 12 steps, checkpoints every 2
COMMAND = [
    "train",
    "mnist_acgan",
    "--smoke",
    "--epochs",
    str(EPOCHS),
    "--checkpoint-every",
    "2",
    "--deterministic",
]


def _run(tmp_path, out, kill=None, extra=()):
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", GP_KILL=kill or ":")
    return subprocess.run(
        [sys.executable, str(launcher), *COMMAND, "--out", str(out), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _weights(out):
    """Every array of the newest checkpoint (weights, optimizers, seeds, trackers), by name."""
    folder = os.path.join(out, "backup")
    newest = sorted(f for f in os.listdir(folder) if f.startswith("step_") and f.endswith(".h5"))[
        -1
    ]
    found = {}
    with h5py.File(os.path.join(folder, newest)) as f:
        f.visititems(
            lambda name, obj: (
                found.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return newest, found


def _steps(out):
    with open(os.path.join(out, "history", "batches.csv")) as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("straight")
    proc = _run(tmp, tmp / "run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "run"


def test_killed_at_any_moment_and_rerun_ends_where_a_straight_run_ends(tmp_path, straight):
    out = tmp_path / "run"
    rng = random.Random(17)
    kills = [
        "batch:1",  # before the first mid-run checkpoint
        "weights_write:4",  # mid-epoch (epoch 2, batch 1), half the weights written
        "batch:7",  # mid-epoch, one step past a checkpoint
        "before_marker:10",  # weights of step 10 in place, its marker missing
        f"timer:{rng.uniform(0.05, 0.5):.2f}",
    ]  # wherever the run is then
    log = []
    for kill in kills:
        proc = _run(tmp_path, out, kill)
        log.append((kill, proc.returncode, proc.stdout[-400:]))
        if proc.returncode == 0:  # the timer came after the end: nothing left to kill
            break
        assert proc.returncode == -signal.SIGKILL, (kill, proc.stderr[-3000:])
    proc = _run(tmp_path, out)  # the same command, until it completes
    assert proc.returncode == 0, proc.stderr[-3000:]
    killed_runs = [k for k, rc, _ in log if rc == -signal.SIGKILL]
    assert len(killed_runs) >= 4, log
    assert "resuming from step" in proc.stdout or log[-1][1] == 0

    name, resumed = _weights(out)
    straight_name, expected = _weights(straight)
    assert name == straight_name == f"step_{EPOCHS * STEPS:09d}.weights.h5"
    assert resumed.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(resumed[key], expected[key], err_msg=key)
    assert _steps(out) == list(range(1, EPOCHS * STEPS + 1)) == _steps(straight)


def test_a_kill_during_a_write_leaves_the_previous_checkpoint_in_use(tmp_path):
    out = tmp_path / "run"
    proc = _run(tmp_path, out, "weights_write:4")
    assert proc.returncode == -signal.SIGKILL
    assert sorted(os.listdir(out / "backup"))[-1] == "step_000000002.weights.h5"
    proc = _run(tmp_path, out, "batch:5")
    assert "resuming from step 2 of 12" in proc.stdout


def test_a_truncated_checkpoint_is_detected_and_the_previous_one_used(tmp_path):
    out = tmp_path / "run"
    proc = _run(tmp_path, out, "batch:9")  # checkpoints at 6 and 8 kept
    assert proc.returncode == -signal.SIGKILL
    newest = out / "backup" / "step_000000008.weights.h5"
    newest.write_bytes(newest.read_bytes()[:4096])
    proc = _run(tmp_path, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    warning = [line for line in lines if "unusable" in line]
    assert len(warning) == 1 and "step_000000008.weights.h5" in warning[0]
    assert "truncated: 4,096 of" in warning[0]
    assert any("resuming from step 6 of 12" in line for line in lines)
    assert _steps(out) == list(range(1, 13))


def test_time_limit_stops_before_the_limit_with_state_saved_and_the_rerun_completes(tmp_path):
    out = tmp_path / "run"
    many = ["--epochs", "100000"]  # far more than fits in the limit
    command = COMMAND[:3] + ["--checkpoint-every", "50"]
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", GP_KILL=":")
    proc = subprocess.run(
        [sys.executable, str(launcher), *command, *many, "--out", str(out), "--time-limit", "15s"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "time limit: stopping after" in proc.stdout
    steps = _steps(out)
    stopped_at = steps[-1]
    assert steps == list(range(1, stopped_at + 1))
    markers = sorted(f for f in os.listdir(out / "backup") if f.endswith(".json"))
    assert markers[-1] == f"step_{stopped_at:09d}.json"  # saved where it stopped, off the 50s
    assert (out / "model.keras").exists()
    # The same command with the epochs that the run reached + 1: it resumes and completes.
    epochs = stopped_at // STEPS + 1
    proc = subprocess.run(
        [sys.executable, str(launcher), *command, "--epochs", str(epochs), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"resuming from step {stopped_at:,}" in proc.stdout
    assert _steps(out) == list(range(1, epochs * STEPS + 1))


def test_read_only_output_folder_fails_before_the_first_step_in_one_line(tmp_path):
    from helpers import read_only_folder as _read_only_folder

    folder = _read_only_folder(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "ganpaint", *COMMAND, "--out", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "Cannot write to the output folder" in proc.stderr
    assert "Epoch 1" not in proc.stdout
