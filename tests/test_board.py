"""TensorBoard logs: tags, images and steps read back from the event files, across a resume."""

import os

import keras
import pytest
from tensorboard.backend.event_processing import event_accumulator

from ganpaint import callbacks, cli, recipes


def read(folder):
    """What TensorBoard shows: scalars by tag as [(step, value)], and the images' steps."""
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"images": 0, "tensors": 0})
    acc.Reload()
    scalars = {
        tag: [
            (
                e.step,
                e.tensor_proto.float_val[0]
                if e.tensor_proto.float_val
                else float(e.tensor_proto.double_val[0])
                if e.tensor_proto.double_val
                else None,
            )
            for e in acc.Tensors(tag)
        ]
        for tag in acc.Tags()["tensors"]
        if tag != "samples"
    }
    images = [e.step for e in acc.Tensors("samples")] if "samples" in acc.Tags()["tensors"] else []
    return scalars, images


def test_a_recipe_writes_losses_scores_rates_and_grids(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "mnist_acgan", "--smoke", "--out", str(out)]) == 0
    scalars, images = read(out / "tensorboard")
    for tag in (
        "d_loss",
        "g_loss",
        "lr/generator",
        "lr/discriminator",
        "epoch/g_loss",
        "epoch/fid",
    ):
        assert tag in scalars, sorted(scalars)
    assert [s for s, _ in scalars["g_loss"]] == [3, 6]  # the end of each 3-step epoch
    assert [s for s, _ in scalars["epoch/fid"]] == [3, 6]
    assert images == [3, 6]  # one grid per epoch
    assert (
        cli.main(
            [
                "train",
                "mnist_acgan",
                "--smoke",
                "--no-tensorboard",
                "--out",
                str(tmp_path / "quiet"),
            ]
        )
        == 0
    )
    assert not (tmp_path / "quiet" / "tensorboard").exists()


def test_a_resumed_run_continues_the_same_curves_without_duplicate_steps(tmp_path):
    out = str(tmp_path)

    class StopAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.g_optimizer.iterations) == 5:
                self.model.stop_training = True

    setup = recipes.build("mnist_acgan", smoke=True, out_dir=out, epochs=3, checkpoint_every=4)
    board = next(c for c in setup.callbacks if isinstance(c, callbacks.TensorBoardLog))
    board.every = 1
    setup.callbacks.append(StopAt())
    setup.fit(verbose=0)
    # As if killed after step 5, before its checkpoint: the resumed run starts at step 4
    # and trains step 5 again, whose points are already in the event file.
    for name in os.listdir(os.path.join(out, "backup")):
        if name.startswith("step_000000005"):
            os.remove(os.path.join(out, "backup", name))
    resumed = recipes.build("mnist_acgan", smoke=True, out_dir=out, epochs=3, checkpoint_every=4)
    next(c for c in resumed.callbacks if isinstance(c, callbacks.TensorBoardLog)).every = 1
    resumed.fit(verbose=0)
    scalars, images = read(os.path.join(out, "tensorboard"))
    steps = [s for s, _ in scalars["g_loss"]]
    assert steps == list(range(1, 10)), steps  # every step once, the resumed ones included
    assert images == [3, 6, 9]


def test_the_window_mean_is_recovered_from_keras_running_means(tmp_path):
    board = callbacks.TensorBoardLog(tmp_path, every=2)
    written = []
    board._scalars = lambda values, step, prefix="": written.append(values)
    board.params = {"steps": 4}
    board.on_epoch_begin(0)
    losses = [1.0, 3.0, 5.0, 7.0]
    for i in range(4):
        running = sum(losses[: i + 1]) / (i + 1)
        board.on_train_batch_end(i, {"g_loss": running})
    assert written == [{"g_loss": pytest.approx(2.0)}, {"g_loss": pytest.approx(6.0)}]
