"""Run survival, in process: durations, atomic and verified checkpoints with fallback, the
early checks of the output folder, the resumable fit (mid-epoch), and the training guard
against NaN and both collapses. The kill-at-any-moment tests, each a real subprocess, are in
test_fault_injection.py."""

import csv
import json
import os

import keras
import numpy as np
import pytest
from helpers import read_only_folder

from ganpaint import callbacks, fs, recipes, runs, sessions
from ganpaint.runs import CheckpointStore
from ganpaint.testing import dataset, model

# -- durations and session limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("8h", 28800),
        ("90m", 5400),
        ("1h30m", 5400),
        ("45s", 45),
        ("3600", 3600),
        (12.5, 12.5),
        ("1d", 86400),
        ("11h 30m", 41400),
    ],
)
def test_durations_parse(text, seconds):
    assert sessions.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "8x", "-1h", "0", "1h30", "soon", None, True])
def test_bad_durations_are_refused_with_the_value(bad):
    with pytest.raises(ValueError, match="duration"):
        sessions.parse_duration(bad)


def test_kaggle_session_limit_counts_from_the_process_start(monkeypatch):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    monkeypatch.delenv("TPU_NAME", raising=False)
    monkeypatch.delenv("TPU_ACCELERATOR_TYPE", raising=False)
    import time

    left = sessions.session_seconds_left(started=time.time() - 3600)
    assert 11 * 3600 - 5 < left <= 11 * 3600
    monkeypatch.setenv("TPU_NAME", "local")
    assert sessions.session_seconds_left(started=time.time() - 3600) <= 8 * 3600
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE")
    monkeypatch.delenv("TPU_NAME")
    assert sessions.session_seconds_left() is None  # no platform limit: none
    assert sessions.session_seconds_left("2h", started=time.time()) == pytest.approx(7200, abs=5)
    assert sessions._process_start() <= time.time()


# -- checkpoints ---------------------------------------------------------------------------------


def _gan(seed=1):
    m = model("gan", seed=seed)
    m.compile()
    return m


def _first_weight(m):
    return keras.ops.convert_to_numpy(m.generator.weights[0])


def test_store_keeps_the_newest_two_complete_checkpoints(tmp_path):
    store, m = CheckpointStore(tmp_path / "backup"), _gan()
    for step in (2, 4, 6):
        store.save(m, step)
    assert [mk["step"] for mk in store.markers()] == [6, 4]
    assert sorted(os.listdir(tmp_path / "backup")) == [
        "step_000000004.json",
        "step_000000004.weights.h5",
        "step_000000006.json",
        "step_000000006.weights.h5",
    ]
    marker = store.markers()[0]
    assert marker["bytes"] == os.path.getsize(tmp_path / "backup" / marker["file"])
    assert len(marker["sha256"]) == 64


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "marker"])
def test_a_damaged_checkpoint_is_named_and_the_previous_one_used(tmp_path, capsys, damage):
    store, m = CheckpointStore(tmp_path), _gan()
    store.save(m, 2)
    good = _first_weight(m)
    for v in m.generator.weights:
        v.assign(v + 1.0)
    store.save(m, 4)
    path = tmp_path / "step_000000004.weights.h5"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "flip":  # same size, one byte changed: only the hash tells
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "delete":
        path.unlink()
    else:
        (tmp_path / "step_000000004.json").write_text("{ cut sho")
    fresh = _gan(seed=5)
    marker = store.restore(fresh)
    assert marker["step"] == 2
    np.testing.assert_array_equal(_first_weight(fresh), good)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "step_000000004.weights.h5" in out[0] and "unusable" in out[0]
    reason = {
        "truncate": "truncated: 1,000 of",
        "flip": "SHA-256",
        "delete": "missing",
        "marker": "unreadable marker",
    }[damage]
    assert reason in out[0]


def test_no_usable_checkpoint_restores_nothing(tmp_path, capsys):
    store = CheckpointStore(tmp_path)
    assert store.restore(_gan()) is None
    assert capsys.readouterr().out == ""


def test_left_over_partial_files_are_ignored_and_cleaned(tmp_path):
    store, m = CheckpointStore(tmp_path), _gan()
    (tmp_path / "partial_000000009.weights.h5").write_bytes(b"half a file")
    (tmp_path / "step_000000009.weights.h5").write_bytes(b"renamed, marker never written")
    store.save(m, 2)
    assert store.restore(_gan(seed=3))["step"] == 2
    assert not (tmp_path / "partial_000000009.weights.h5").exists()


def test_nan_weights_are_never_saved(tmp_path, capsys):
    m = _gan()
    saver = runs.StepCheckpoint(CheckpointStore(tmp_path), every=1)
    saver.set_model(m)
    m.generator.weights[0].assign(np.full(m.generator.weights[0].shape, np.nan, "float32"))
    assert not saver.save()
    assert os.listdir(tmp_path) == []
    assert "NaN or Inf" in capsys.readouterr().out


# -- early checks --------------------------------------------------------------------------------


def test_a_read_only_output_folder_fails_before_the_first_step(tmp_path):
    folder = read_only_folder(tmp_path)
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=str(folder))
    before = [keras.ops.convert_to_numpy(v) for v in setup.model.weights]
    with pytest.raises(OSError, match=r"Cannot write to the output folder .*read_only|sys/kernel"):
        setup.fit(verbose=0)
    assert int(setup.model.g_optimizer.iterations) == 0
    assert all(
        np.array_equal(a, keras.ops.convert_to_numpy(b))
        for a, b in zip(before, setup.model.weights)
    )


def test_an_unwritable_folder_under_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="Cannot write to the output folder"):
        runs.check_writable(tmp_path / "file" / "run")


def test_too_little_disk_for_two_checkpoints_fails_before_training(tmp_path, monkeypatch):
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=str(tmp_path / "run"))
    monkeypatch.setattr(fs, "free_bytes", lambda folder: 1000)
    need = 2 * runs.state_bytes(setup.model)
    with pytest.raises(OSError, match=r"Not enough disk space .*0\.0 MB free.*two checkpoints"):
        setup.fit(verbose=0)
    assert int(setup.model.g_optimizer.iterations) == 0 and need > 1000


# -- the resumable fit ---------------------------------------------------------------------------


def test_a_stop_mid_epoch_resumes_mid_epoch_with_each_step_recorded_once(tmp_path, capsys):
    out = str(tmp_path / "run")
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=out, epochs=3)

    class StopAt(keras.callbacks.Callback):  # a stop at step 5 (epoch 2, batch 2 of 3)
        stopped = False

        def on_train_batch_end(self, batch, logs=None):
            if (
                self.params
                and batch == 1
                and not self.stopped
                and int(self.model.g_optimizer.iterations) == 5
            ):
                self.stopped = True
                self.model.stop_training = True

    setup.callbacks.append(StopAt())
    setup.fit(verbose=0)
    store = CheckpointStore(os.path.join(out, "backup"))
    assert store.latest_step() == 5
    resumed = recipes.build("mnist_acgan", smoke=True, out_dir=out, epochs=3)
    history = resumed.fit(verbose=0)
    assert "resuming from step 5 of 9" in capsys.readouterr().out
    assert int(resumed.model.g_optimizer.iterations) == 9
    assert len(history.history["g_loss"]) == 2  # the rest of epoch 2, then epoch 3
    with open(os.path.join(out, "history", "batches.csv")) as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == list(range(1, 10))
    with open(os.path.join(out, "history", "epochs.csv")) as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2, 3]


def test_resume_true_without_a_checkpoint_is_an_error(tmp_path):
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="no usable checkpoint"):
        setup.fit(verbose=0, resume=True)


def test_resume_false_moves_the_old_run_aside(tmp_path, capsys):
    recipes.build("mnist_acgan", smoke=True, out_dir=str(tmp_path)).fit(verbose=0)
    again = recipes.build("mnist_acgan", smoke=True, out_dir=str(tmp_path))
    again.fit(verbose=0, resume=False)
    assert "moved to" in capsys.readouterr().out
    assert int(again.model.g_optimizer.iterations) == 6
    aside = [p for p in os.listdir(tmp_path) if p.startswith("replaced-")]
    assert len(aside) == 1  # the whole earlier run, its checkpoints among it
    assert {"backup", "best", "history", "run.json"} <= set(os.listdir(tmp_path / aside[0]))


def test_an_infinite_dataset_needs_steps_per_epoch(tmp_path):
    m = _gan()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        runs.resumable_fit(m, dataset("gan").repeat(), out_dir=str(tmp_path), epochs=1)


def test_time_limit_stops_with_the_state_saved(tmp_path, capsys):
    out = str(tmp_path / "run")
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=out, epochs=50)
    # Any limit below margin + 3 steps stops after the first step.
    setup.fit(verbose=0, time_limit=callbacks.TimeLimit(1000, margin=999.5))
    printed = capsys.readouterr().out
    assert "time limit: stopping after batch 1" in printed
    store = CheckpointStore(os.path.join(out, "backup"))
    assert store.latest_step() == 1
    assert os.path.exists(os.path.join(out, "model.keras"))


def test_time_limit_arguments_are_checked():
    with pytest.raises(ValueError, match="exactly one"):
        callbacks.TimeLimit()
    with pytest.raises(ValueError, match="duration"):
        callbacks.TimeLimit("eight hours")
    assert callbacks.TimeLimit("8h").margin == 120
    assert callbacks.TimeLimit("60s").margin == 6


# -- the guard --------------------------------------------------------------------------------


def _guarded_fit(tmp_path, kind="gan", g_lr=2e-4, d_lr=2e-4, epochs=3, **guard_kwargs):
    m = model(kind, seed=1)
    m.compile(keras.optimizers.Adam(g_lr, beta_1=0.5), keras.optimizers.Adam(d_lr, beta_1=0.5))
    guard = callbacks.TrainingGuard(str(tmp_path), **guard_kwargs)
    data = dataset(kind, batch=4, n=32)
    runs.resumable_fit(
        m,
        data,
        out_dir=str(tmp_path),
        epochs=epochs,
        callbacks=[guard],
        checkpoint_every=4,
        verbose=0,
    )
    return m, guard


def _log(tmp_path):
    with open(tmp_path / "guard.jsonl") as f:
        return [json.loads(line) for line in f]


def test_a_diverging_gan_trips_the_guard_and_saved_weights_stay_finite(tmp_path, capsys):
    m, guard = _guarded_fit(tmp_path, g_lr=1e9, d_lr=1e9, epochs=4)
    trips = _log(tmp_path)
    assert trips and trips[0]["symptom"] == "non-finite loss"
    printed = capsys.readouterr().out
    assert f"step {trips[0]['step']} (epoch {trips[0]['epoch']}): non-finite loss" in printed
    assert guard.stopped and trips[-1]["action"].endswith("stopped")  # after max_trips
    assert [t["lr_scale"] for t in trips[:2]] == [0.5, 0.25]
    assert runs.all_finite(m)
    store = CheckpointStore(tmp_path / "backup")
    for marker in store.markers():
        restored = model("gan", seed=3)
        restored.compile()
        restored.load_weights(tmp_path / "backup" / marker["file"])
        assert runs.all_finite(restored)


def test_on_trip_stop_stops_at_the_first_nan(tmp_path):
    m, guard = _guarded_fit(tmp_path, g_lr=1e9, d_lr=1e9, on_trip="stop")
    trips = _log(tmp_path)
    assert len(trips) == 1 and guard.stopped and runs.all_finite(m)


def test_a_forced_discriminator_collapse_trips_the_collapse_check(tmp_path):
    # A frozen generator (learning rate 0) and a fast discriminator: D wins outright.
    m, guard = _guarded_fit(
        tmp_path, g_lr=0.0, d_lr=1e-2, epochs=60, collapse_steps=20, d_loss_floor=1e-2, max_trips=1
    )
    trips = _log(tmp_path)
    assert trips[0]["symptom"] == "discriminator collapse"
    assert "below 0.01 for 20 steps" in trips[0]["detail"]
    assert (
        trips[0]["rolled_back_to"] <= trips[0]["step"] - 20 + 1 or trips[0]["rolled_back_to"] == 0
    )


def test_a_generator_whose_samples_are_all_alike_trips_the_diversity_check(tmp_path):
    m = model("gan", seed=1)
    out_conv = m.generator.layers[-2]  # the layer before tanh: zero it, and G is constant
    for v in out_conv.weights:
        v.assign(np.zeros(v.shape, "float32"))
    m.compile(keras.optimizers.Adam(0.0), keras.optimizers.Adam(2e-4))
    guard = callbacks.TrainingGuard(
        str(tmp_path), warmup=0, diversity_every=1, patience=2, max_trips=1
    )
    runs.resumable_fit(
        m,
        dataset("gan", batch=4, n=16),
        out_dir=str(tmp_path),
        epochs=2,
        callbacks=[guard],
        verbose=0,
    )
    trips = _log(tmp_path)
    assert trips[0]["symptom"] == "generator collapse" and trips[0]["step"] == 2


def test_a_healthy_smoke_run_of_every_recipe_never_trips(tmp_path):
    for name in ("mnist_acgan", "monet_cyclegan", "maps_pix2pix"):
        out = tmp_path / name
        recipes.build(name, smoke=True, out_dir=str(out)).fit(verbose=0)
        assert not (out / "guard.jsonl").exists(), name


def test_the_guard_log_restores_its_learning_rate_scale_on_resume(tmp_path):
    (tmp_path / "guard.jsonl").write_text(
        json.dumps({"step": 3, "lr_scale": 0.5})
        + "\n"
        + json.dumps({"step": 9, "lr_scale": 0.25})
        + "\n{cut sh"
    )
    guard = callbacks.TrainingGuard(str(tmp_path))
    guard.resume_at(5)
    assert guard.lr_scale == 0.5 and len(guard.trips) == 1


def test_guard_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="on_trip"):
        callbacks.TrainingGuard(tmp_path, on_trip="ignore")
    with pytest.raises(ValueError, match="lr_factor"):
        callbacks.TrainingGuard(tmp_path, lr_factor=2)
    with pytest.raises(ValueError, match="collapse_steps"):
        callbacks.TrainingGuard(tmp_path, collapse_steps=0)


def test_every_recipe_setup_has_a_guard_first(tmp_path):
    setup = recipes.build("mnist_acgan", smoke=True, out_dir=str(tmp_path))
    assert isinstance(setup.callbacks[0], callbacks.TrainingGuard)
