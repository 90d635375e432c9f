"""Callbacks write what they claim, with values a test can check."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from ganpaint import callbacks
from ganpaint.testing import arrays, dataset, model


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class ScriptedScores:
    def __init__(self, scores):
        self.scores, self.calls = list(scores), 0

    def __call__(self, m):
        self.calls += 1
        return self.scores.pop(0)


def test_fid_checkpoint_keeps_the_best_of_a_scripted_sequence(tmp_path):
    m = model("gan")
    m.compile()
    scores = ScriptedScores([50.0, 30.0, 40.0, 20.0, 25.0])
    saved = {}

    class Snapshot(keras.callbacks.Callback):  # the weights at each epoch's end
        def on_epoch_end(self, epoch, logs=None):
            saved[epoch + 1] = [np.array(w) for w in self.model.generator.get_weights()]

    check = callbacks.FIDCheckpoint(tmp_path / "best", score_fn=scores, every=1)
    history = m.fit(dataset("gan"), epochs=5, verbose=0, callbacks=[Snapshot(), check])
    assert history.history["fid"] == [50.0, 30.0, 40.0, 20.0, 25.0]
    assert (check.best, check.best_epoch) == (20.0, 4)
    assert json.load(open(tmp_path / "best" / "best.json")) == {"epoch": 4, "fid": 20.0}
    restored = model("gan")
    restored.compile()
    restored.load_weights(check.path)
    for a, b in zip(restored.generator.get_weights(), saved[4]):
        np.testing.assert_array_equal(a, b)


def test_fid_checkpoint_resumed_in_the_same_folder_keeps_the_better_old_best(tmp_path):
    m = model("gan")
    m.compile()
    m.fit(
        dataset("gan"),
        epochs=2,
        verbose=0,
        callbacks=[callbacks.FIDCheckpoint(tmp_path, score_fn=ScriptedScores([30.0, 10.0]))],
    )
    first = (tmp_path / "best.weights.h5").read_bytes()
    again = callbacks.FIDCheckpoint(tmp_path, score_fn=ScriptedScores([15.0, 12.0]))
    m.fit(dataset("gan"), epochs=4, initial_epoch=2, verbose=0, callbacks=[again])
    # Epochs 3 and 4 (15, 12) were worse than the old best (10): nothing was overwritten.
    assert again.scores == [(3, 15.0), (4, 12.0)]
    assert json.load(open(tmp_path / "best.json")) == {"epoch": 2, "fid": 10.0}
    assert (tmp_path / "best.weights.h5").read_bytes() == first
    later = callbacks.FIDCheckpoint(tmp_path, score_fn=ScriptedScores([5.0]))
    m.fit(dataset("gan"), epochs=5, initial_epoch=4, verbose=0, callbacks=[later])
    assert json.load(open(tmp_path / "best.json")) == {"epoch": 5, "fid": 5.0}


def test_fid_checkpoint_scores_every_n_epochs_with_real_features(tmp_path):
    m = model("gan")
    m.compile()
    real = arrays("gan", 20)[0]
    flatten = lambda x: np.asarray(x).reshape(len(x), -1)
    check = callbacks.FIDCheckpoint(
        tmp_path, real=real, every=2, extractor=flatten, n_samples=20, verbose=False
    )
    m.fit(dataset("gan"), epochs=4, verbose=0, callbacks=[check])
    assert [e for e, _ in check.scores] == [2, 4]
    assert all(np.isfinite(s) and s > 0 for _, s in check.scores)
    assert os.path.exists(check.path)
    record = json.load(open(tmp_path / "best.json"))
    assert record["provenance"]["n_real"] == 20 and record["provenance"]["n_fake"] == 20
    assert record["provenance"]["dtype"] == "float64" and "extractor" in record["provenance"]
    with pytest.raises(ValueError, match="metric"):
        callbacks.FIDCheckpoint(tmp_path, real=real, metric="is")
    with pytest.raises(ValueError, match="needs `real`"):
        callbacks.FIDCheckpoint(tmp_path)
    with pytest.raises(ValueError, match="out_dir"):
        callbacks.FIDCheckpoint("", real=real)


def expected_rate(lr, epoch, constant, decay):
    return lr * (1.0 - max(0, epoch + 1 - constant) / (decay + 1))


def test_linear_decay_gives_the_exact_schedule_and_resumes(tmp_path):
    m = model("cyclegan")
    m.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(1e-4))
    seen = []

    class Rates(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(
                (
                    float(self.model.g_optimizer.learning_rate),
                    float(self.model.d_optimizer.learning_rate),
                )
            )

    decay = callbacks.LinearDecay(constant_epochs=2, decay_epochs=3)
    m.fit(dataset("cyclegan", batch=4, n=4), epochs=5, verbose=0, callbacks=[decay, Rates()])
    for epoch, (g, d) in enumerate(seen):
        assert g == pytest.approx(expected_rate(2e-4, epoch, 2, 3))
        assert d == pytest.approx(expected_rate(1e-4, epoch, 2, 3))
    assert [round(g / 2e-4, 4) for g, _ in seen] == [1.0, 1.0, 0.75, 0.5, 0.25]

    # A new model resumed at epoch 3 continues the schedule from the original rates.
    resumed = model("cyclegan")
    resumed.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(1e-4))
    seen.clear()
    resumed.fit(
        dataset("cyclegan", batch=4, n=4),
        epochs=5,
        initial_epoch=3,
        verbose=0,
        callbacks=[callbacks.LinearDecay(2, 3), Rates()],
    )
    assert [round(g / 2e-4, 4) for g, _ in seen] == [0.5, 0.25]


def test_linear_decay_rejects_schedules_and_bad_arguments():
    m = model("gan")
    m.compile(keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.9)))
    with pytest.raises(ValueError, match="constant learning rate"):
        m.fit(dataset("gan"), epochs=1, verbose=0, callbacks=[callbacks.LinearDecay(1, 1)])
    with pytest.raises(ValueError, match="decay_epochs"):
        callbacks.LinearDecay(1, -1)


def test_loss_history_records_per_batch_values_and_writes_files(tmp_path):
    m = model("gan")
    m.compile()
    history = callbacks.LossHistory(tmp_path / "history")
    fit = m.fit(dataset("gan", batch=2, n=8), epochs=2, verbose=0, callbacks=[history])
    batches = rows(tmp_path / "history" / "batches.csv")
    epochs = rows(tmp_path / "history" / "epochs.csv")
    assert len(batches) == 8 and [int(r["step"]) for r in batches] == list(range(1, 9))
    assert len(epochs) == 2
    for e in (1, 2):  # the mean of an epoch's batch values is the epoch's logged loss
        values = [float(r["d_loss"]) for r in batches if int(r["epoch"]) == e]
        assert np.mean(values) == pytest.approx(fit.history["d_loss"][e - 1], rel=1e-5)
        assert float(epochs[e - 1]["d_loss"]) == pytest.approx(fit.history["d_loss"][e - 1])
    assert len({round(float(r["g_loss"]), 6) for r in batches}) > 1  # really per batch
    assert os.path.getsize(tmp_path / "history" / "losses.png") > 1000


def test_the_models_step_values_are_each_steps_own_and_survive_a_metric_reset(tmp_path):
    # `fit`'s logs are running means; `last_step_values` is each step's value, what the guard
    # and LossHistory read. A metric reset (a guard's rollback does one) must not bend the
    # rows after it, as recovering values from the running means did.
    m = model("gan")
    m.compile()
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((dict(logs), self.model.last_step_values()))
            if batch == 1:
                self.model.reset_metrics()

    history = callbacks.LossHistory(tmp_path / "history", plot=False)
    m.fit(dataset("gan", batch=2, n=8), epochs=1, verbose=0, callbacks=[Record(), history])
    logs = [{k: float(np.asarray(v).reshape(-1)[0]) for k, v in l.items()} for l, _ in seen]
    steps = [s for _, s in seen]
    assert set(steps[0]) == {t.name for t in m.metrics} == set(logs[0])
    # Before the reset, the running mean of steps 1..k is the mean of their step values.
    for k in (0, 1):
        assert logs[k]["d_loss"] == pytest.approx(np.mean([s["d_loss"] for s in steps[: k + 1]]))
    # After it, step 3's mean is its own value, step 4's the mean of steps 3 and 4.
    assert steps[2]["g_loss"] == pytest.approx(logs[2]["g_loss"], rel=1e-6)
    assert logs[3]["g_loss"] == pytest.approx((steps[2]["g_loss"] + steps[3]["g_loss"]) / 2)
    rows_ = history.batches
    assert [r["g_loss"] for r in rows_] == pytest.approx([s["g_loss"] for s in steps])
    # Not a checkpoint variable: the weights a run saves are what they were.
    assert not any("step_values" in v.path for v in m.variables)


def test_gradient_norms_records_each_layer_and_matches_the_sgd_update(tmp_path):
    m = model("gan")
    lr = 100.0  # large, so each float32 weight change is resolved exactly enough
    m.compile(keras.optimizers.SGD(lr), keras.optimizers.SGD(lr))
    before = {
        v.path: np.asarray(v.value) for v in m.generator_variables + m.discriminator_variables
    }
    norms = callbacks.GradientNorms(tmp_path / "grads", every=1)
    m.fit(dataset("gan", batch=4, n=4), epochs=1, verbose=0, callbacks=[norms])  # one step
    recorded = rows(tmp_path / "grads" / "gradient_norms.csv")
    assert {r["network"] for r in recorded} == {"generator", "discriminator"}
    assert os.path.getsize(tmp_path / "grads" / "gradient_norms.png") > 1000
    # One SGD step moves each weight by lr * gradient, so each layer's recorded norm must be
    # |change of its weights| / lr.
    for r in recorded:
        change = [
            np.asarray(v.value) - before[v.path]
            for v in m.generator_variables + m.discriminator_variables
            if v.path.rsplit("/", 1)[0] == r["layer"]
        ]
        assert change, r["layer"]
        expected = np.sqrt(sum(float(np.sum(c**2)) for c in change)) / lr
        # abs: a layer whose gradient is ~1e-9 moves its weights by less than float32 resolves
        assert float(r["norm"]) == pytest.approx(expected, rel=1e-3, abs=1e-8), r["layer"]
    g_layers = {r["layer"] for r in recorded if r["network"] == "generator"}
    assert any("project" in l for l in g_layers) and any("to_image" in l for l in g_layers)
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    plain.compile("sgd", "mse")
    with pytest.raises(ValueError, match="ganpaint.gans model"):
        plain.fit(
            np.zeros((2, 2)),
            np.zeros((2, 1)),
            verbose=0,
            callbacks=[callbacks.GradientNorms(tmp_path)],
        )


def test_gradient_norms_leave_checkpoints_unchanged(tmp_path):
    m = model("gan")
    m.compile()
    m.save_weights(tmp_path / "before.weights.h5")
    m.fit(
        dataset("gan"),
        epochs=1,
        verbose=0,
        callbacks=[callbacks.GradientNorms(tmp_path / "g", every=1)],
    )
    m.save_weights(tmp_path / "after.weights.h5")
    fresh = model("gan")
    fresh.compile()
    fresh.load_weights(tmp_path / "after.weights.h5")  # no extra variables to trip over


@pytest.mark.parametrize("kind", ["gan", "acgan", "cyclegan"])
def test_sample_grid_writes_pngs_every_n_epochs(kind, tmp_path):
    m = model(kind)
    m.compile()
    inputs = arrays(kind, 3)[0] if kind == "cyclegan" else None
    grid = callbacks.SampleGrid(tmp_path / "grids", every=2, n=4, inputs=inputs, show=False)
    m.fit(dataset(kind), epochs=4, verbose=0, callbacks=[grid])
    assert sorted(os.listdir(tmp_path / "grids")) == ["epoch_0002.png", "epoch_0004.png"]
    from PIL import Image

    picture = np.asarray(Image.open(grid.paths[0]))
    if kind == "acgan":  # one row of 4 per class (3 classes)
        assert picture.shape[0] == 3 * 16 + 2 * 2 and picture.shape[1] == 4 * 16 + 3 * 2
    if kind == "cyclegan":  # input beside translation
        assert picture.shape[1] == 6 * 16 + 5 * 2


def test_sample_grid_for_translation_needs_inputs(tmp_path):
    m = model("pix2pix")
    m.compile()
    with pytest.raises(ValueError, match="needs `inputs`"):
        m.fit(
            dataset("pix2pix"),
            epochs=1,
            verbose=0,
            callbacks=[callbacks.SampleGrid(tmp_path, show=False)],
        )


def test_callbacks_acting_every_n_steps_act_when_a_call_runs_several_steps(tmp_path, capsys):
    # steps_per_execution=2 (what a TPU runs, at 32): calls end at steps 2, 4 | 6, 8; each
    # callback acts at the first call end at or past its multiple.
    from ganpaint import checkpoints, recipes

    setup = recipes.build(
        "cifar10_cgan",
        smoke=True,
        out_dir=str(tmp_path / "a"),
        steps_per_execution=2,
        steps_per_epoch=4,
        checkpoint_every=3,
        gradient_norms_every=3,
    )
    assert setup.model.steps_per_execution == 2
    setup.fit(verbose=0)
    store = checkpoints.CheckpointStore(str(tmp_path / "a" / "backup"))
    assert [m["step"] for m in store.markers()] == [8, 6]  # past 3 at 4, 6, and the end
    with open(tmp_path / "a" / "gradients" / "gradient_norms.csv") as f:
        assert sorted({int(r["step"]) for r in csv.DictReader(f)}) == [4, 6]  # past 3, 6
    with open(tmp_path / "a" / "history" / "batches.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [2, 4, 6, 8]
    # A count that does not divide the epoch would run each epoch past its end (Keras runs
    # whole calls): the largest one that divides it is used, with one line.
    setup = recipes.build(
        "cifar10_cgan",
        smoke=True,
        out_dir=str(tmp_path / "b"),
        steps_per_execution=3,
        steps_per_epoch=4,
    )
    setup.fit(verbose=0)
    assert (
        "steps_per_execution 3 does not divide the 4 steps of an epoch" in capsys.readouterr().out
    )
    assert setup.model.steps_per_execution == 2
    assert int(keras.ops.convert_to_numpy(setup.model.g_optimizer.iterations)) == 8


class _Shift:
    """A translator whose output is its input plus `shift`: its L1 to any target is known."""

    stop_training = False
    takes_inputs = True

    def __init__(self, shift):
        self.shift = shift

    def sample(self, *, inputs):
        return np.clip(inputs + self.shift, -1, 1)


def test_paired_l1_logs_the_known_distance_every_n_epochs():
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-0.5, 0.5, (5, 8, 8, 3)).astype("float32")
    targets = rng.uniform(-1, 1, (5, 8, 8, 3)).astype("float32")
    score = callbacks.PairedL1(inputs, targets, every=2)
    score.set_model(_Shift(0.25))
    score.on_train_begin()
    logs = [{}, {}, {}, {}]
    for epoch, epoch_logs in enumerate(logs):
        score.on_epoch_end(epoch, epoch_logs)
    expected = float(np.mean(np.abs(inputs + 0.25 - targets)))
    assert [("val_l1" in x) for x in logs] == [False, True, False, True]
    assert logs[1]["val_l1"] == pytest.approx(expected, rel=1e-6)
    assert score.scores == [(2, logs[1]["val_l1"]), (4, logs[3]["val_l1"])]

    with pytest.raises(ValueError, match=r"one shape \[N, H, W, C\].*\(5, 8, 8, 3\) and \(4, 8"):
        callbacks.PairedL1(inputs, targets[:4])
    noise_model = callbacks.PairedL1(inputs, targets)
    noise_model.set_model(model("gan"))
    with pytest.raises(ValueError, match="PairedL1 scores translators.*GAN does not translate"):
        noise_model.on_train_begin()


def test_one_writer_composes_the_schedule_and_the_guards_scale():
    from ganpaint import rates

    m = model("gan")
    m.compile(keras.optimizers.Adam(2e-4), keras.optimizers.Adam(1e-4))
    held = lambda: [float(o.learning_rate) for o in (m.g_optimizer, m.d_optimizer)]
    assert rates.set_learning_rates(m, factor=0.5) == pytest.approx([1e-4, 5e-5])
    assert rates.set_learning_rates(m, scale=0.5) == pytest.approx([5e-5, 2.5e-5])  # a trip
    assert rates.set_learning_rates(m, factor=1.0) == pytest.approx([1e-4, 5e-5])  # next epoch
    assert held() == pytest.approx([1e-4, 5e-5])
    # A resumed model: its optimizers hold the scaled rates, the guard's log the scale.
    resumed = model("gan")
    resumed.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(5e-5))
    resumed.learning_rate_scale = 0.5
    assert rates.set_learning_rates(resumed, scale=0.25) == pytest.approx([5e-5, 2.5e-5])
    with pytest.raises(ValueError, match="`base` has 1 learning rates for 2 optimizers"):
        rates.set_learning_rates(m, base=[1e-3])


class _Labelled:
    """A labelled model that draws class c as an image whose channel c is bright (a judge
    that averages the channels names it), except `wrong` classes, drawn as class 0."""

    stop_training = False
    num_classes, latent_dim = 3, 2

    def __init__(self, wrong=()):
        self.wrong = set(wrong)
        noise = keras.Input((self.latent_dim,))
        self.generator = keras.Model(
            noise,
            keras.layers.UpSampling2D(8)(
                keras.layers.Dense(3)(keras.layers.Reshape((1, 1, 2))(noise))
            ),
        )

    def sample(self, *, labels, noise):
        drawn = np.array([0 if c in self.wrong else c for c in labels])
        images = np.full((len(labels), 8, 8, 3), -0.9, "float32")
        images[np.arange(len(labels)), :, :, drawn] = 0.9
        return images + 0.05 * np.tanh(noise[:, :1, None, None])


def _channel_judge(classes=3, channels=3):
    inputs = keras.Input((8, 8, channels))
    features = keras.layers.GlobalAveragePooling2D(name="features")(inputs)
    return keras.Model(inputs, keras.layers.Dense(classes, name="scores")(features), name="judge")


def test_the_class_judge_logs_the_share_of_right_classes_and_fid_on_its_features(tmp_path):
    judge = _channel_judge()
    judge.get_layer("scores").set_weights([np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    real = _Labelled().sample(labels=np.repeat(np.arange(3), 20), noise=np.zeros((60, 2)))
    scores = {}
    for wrong in ((), (2,)):
        score = callbacks.ClassJudge(judge, 3, real=real, per_class=10, every=2)
        score.set_model(_Labelled(wrong))
        score.on_train_begin()
        logs = [{}, {}]
        for epoch, epoch_logs in enumerate(logs):
            score.on_epoch_end(epoch, epoch_logs)
        assert logs[0] == {}
        scores[wrong] = logs[1]
    assert scores[()]["right_class"] == 1.0
    assert scores[(2,)]["right_class"] == pytest.approx(2 / 3)  # class 2 drawn as class 0
    assert scores[()]["judge_fid"] < 0.01 < scores[(2,)]["judge_fid"]
    # Saved and loaded by path (a bucket's too), and refused where it cannot judge.
    judge.save(tmp_path / "judge.keras")
    loaded = callbacks.ClassJudge(str(tmp_path / "judge.keras"), per_class=1)
    loaded.set_model(_Labelled())
    loaded.on_train_begin()
    # A judge of another image size sees the drawn images resized to its own.
    inputs = keras.Input((16, 16, 3))
    big = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(inputs))
    bigger = keras.Model(inputs, big)
    bigger.layers[-1].set_weights([np.eye(3, dtype="float32"), np.zeros(3, "float32")])
    resized = callbacks.ClassJudge(bigger, 3, per_class=4)
    resized.set_model(_Labelled())
    resized.on_train_begin()
    logs = {}
    resized.on_epoch_end(0, logs)
    assert logs == {"right_class": 1.0}
    with pytest.raises(ValueError, match="gives 3 class scores; the model has 10 classes"):
        callbacks.ClassJudge(judge, 10)
    gray = callbacks.ClassJudge(_channel_judge(channels=1))
    gray.set_model(_Labelled())
    with pytest.raises(ValueError, match=r"takes images of shape \(8, 8, 1\); the model draws"):
        gray.on_train_begin()
    unlabelled = callbacks.ClassJudge(judge)
    unlabelled.set_model(model("gan"))
    with pytest.raises(ValueError, match="ClassJudge scores labelled models.*GAN draws no"):
        unlabelled.on_train_begin()
    with pytest.raises(FileNotFoundError, match="No judge at"):
        callbacks.ClassJudge(str(tmp_path / "missing.keras"))
