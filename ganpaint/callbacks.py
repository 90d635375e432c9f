"""Keras callbacks for GAN training: sample grids, the CycleGAN learning-rate schedule, a
best-FID checkpoint, a held-out L1 to known answers, a classifier's verdict on the classes a
labelled model draws, loss and gradient-norm histories, and
(from `ganpaint.guard`) the session deadline `TimeLimit` and the divergence watch
`TrainingGuard`.

Each takes the folder it writes to (created when needed, and checked writable before the
first step) and writes nowhere else. An epoch cut short by a stop (`TimeLimit`, the guard) is
not drawn or scored. They ask the model nothing about its kind: they call `model.sample` and
`model.sample_grid`, which every ganpaint model answers.

The resume protocol (`ganpaint.runs.resumable_fit` drives it; a callback of your own may join):
- `resume_at(step, steps_per_epoch)`: called once before training when a run continues from
  the checkpoint of global `step`: drop what was recorded after it (`LossHistory` its CSV rows,
  `TensorBoardLog` its event points), since those steps are trained again;
- `flush(step)`: called before every checkpoint is written: put on disk what a checkpoint at
  `step` must not run ahead of (rows, event files);
- `stopped`: an attribute that, when true after a `fit`, ends the run (`TimeLimit`, the guard).

>>> gan.fit(ds, epochs=200, callbacks=[
...     SampleGrid("out/grids", every=5),
...     LinearDecay(constant_epochs=100, decay_epochs=100),
...     FIDCheckpoint("out/best", real=real_images, every=10),
...     LossHistory("out/history")])
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from collections.abc import Callable

import keras
import numpy as np

from ganpaint import distribute, fs, plotting, rates
from ganpaint.board import TensorBoardLog  # noqa: F401 (public here)
from ganpaint.checkpoints import (  # noqa: F401
    StepCheckpoint,
    check_writable,
    optimizers_of,
    save_weights,
    say,
    write_atomically,
)
from ganpaint.errors import WeightsUnavailable, arg
from ganpaint.guard import TimeLimit, TrainingGuard, step_values  # noqa: F401 (public here)

log = logging.getLogger(__name__)


def _folder(out_dir, name="out_dir") -> str:
    if out_dir is None or not str(out_dir).strip():
        raise ValueError(f"`{name}` must name a folder to write into. Received: {name}={out_dir!r}")
    return os.fspath(out_dir)


def _every(every, name="every") -> int:
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={every!r}")
    return every


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class SampleGrid(keras.callbacks.Callback):
    """Saves a grid of samples every `every` epochs as `out_dir/epoch_0001.png`.

    Unconditional GANs use fixed noise (drawn once from `seed`), so grids show one set of faces
    evolving; labelled models (ConditionalGAN, ACGAN) draw one row per class; translation models
    (CycleGAN, Pix2Pix) show each fixed input beside its translation.

    Args:
        out_dir: folder for the PNGs.
        every: int. Epochs between grids.
        n: int. Number of samples (per class for labelled models).
        inputs: images in [-1, 1] to translate (CycleGAN, Pix2Pix); required for them.
        num_classes: int. Classes of a labelled model (defaults to the generator's label
            embedding size).
        seed: int. Seed of the fixed noise.
        show: bool or "auto". Also display the grid inline ("auto": in Jupyter).
    """

    def __init__(
        self,
        out_dir,
        every: int = 1,
        n: int = 16,
        inputs=None,
        num_classes: int | None = None,
        seed: int = 0,
        show="auto",
    ):
        super().__init__()
        self.out_dir, self.every = _folder(out_dir), _every(every)
        self.n, self.inputs, self.num_classes, self.seed = _every(n, "n"), inputs, num_classes, seed
        self.show = _in_notebook() if show == "auto" else bool(show)
        self.paths: list[str] = []

    def _grid(self):
        images, cols = self.model.sample_grid(
            self.n, inputs=self.inputs, seed=self.seed, classes=self.num_classes
        )
        return plotting.image_grid(images, cols=cols)

    def on_train_begin(self, logs=None):
        check_writable(self.out_dir, what="sample-grid folder")

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or self.model.stop_training:
            return
        grid = self._grid()
        path = plotting.save_image(fs.join(self.out_dir, f"epoch_{epoch + 1:04d}.png"), grid)
        self.paths.append(path)
        if self.show:
            from IPython.display import Image, display

            display(Image(data=fs.read_bytes(fs.writing_path(path))))


class LinearDecay(keras.callbacks.Callback):
    """The CycleGAN schedule: the initial learning rate for `constant_epochs`, then linear
    decay over `decay_epochs`, on every optimizer of the model.

    The factor for (0-based) epoch e is `1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1)`,
    the reference code's `lambda_rule`: 1 through epoch `constant_epochs - 1`, then falling by
    `1 / (decay_epochs + 1)` per epoch towards 0. It depends only on the epoch number, so a run
    resumed at epoch k (`initial_epoch`, `BackupAndRestore`) continues at the right rate.

    Args:
        constant_epochs, decay_epochs: ints (100 and 100 in the paper).
        initial_learning_rates: list of floats, one per optimizer (G, D). Defaults to the
            optimizers' rates when training starts (the first time). Give them for a run
            that may resume from a checkpoint, whose optimizers hold the decayed rates.

    It writes the rates through `ganpaint.rates.set_learning_rates` (its factor), so a
    `TrainingGuard` that lowered them (its scale) stays applied.
    """

    def __init__(
        self,
        constant_epochs: int,
        decay_epochs: int,
        initial_learning_rates: list[float] | None = None,
    ):
        super().__init__()
        for value, name in ((constant_epochs, "constant_epochs"), (decay_epochs, "decay_epochs")):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be an int >= 0. Received: {name}={value!r}")
        self.constant_epochs, self.decay_epochs = constant_epochs, decay_epochs
        self.initial_learning_rates = initial_learning_rates
        self.history: list[tuple[int, list[float]]] = []

    def factor(self, epoch: int) -> float:
        return 1.0 - max(0, epoch + 1 - self.constant_epochs) / (self.decay_epochs + 1)

    def on_train_begin(self, logs=None):
        optimizers = optimizers_of(self.model)
        for opt in optimizers:
            if isinstance(
                opt.learning_rate, keras.optimizers.schedules.LearningRateSchedule
            ) or callable(getattr(opt, "_learning_rate", None)):
                raise ValueError(
                    "LinearDecay sets the learning rate itself; give the optimizers "
                    "a constant learning rate, not a schedule."
                )
        if self.initial_learning_rates is not None:
            if len(self.initial_learning_rates) != len(optimizers):
                raise ValueError(
                    f"`initial_learning_rates` has {len(self.initial_learning_rates)} "
                    f"values for {len(optimizers)} optimizers."
                )
            rates.set_learning_rates(self.model, base=self.initial_learning_rates)

    def on_epoch_begin(self, epoch, logs=None):
        written = rates.set_learning_rates(self.model, factor=max(0.0, self.factor(epoch)))
        self.history.append((epoch, written))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.history[-1][1][0]


class FIDCheckpoint(keras.callbacks.Callback):
    """Every `every` epochs, scores the model against real images, logs the score and keeps the
    weights with the best one in `out_dir/best.weights.h5` (with `best.json`: epoch, score).

    Args:
        out_dir: folder for the checkpoint.
        real: real images in [-1, 1] (array or dataset) to compare with.
        every: int. Epochs between scores.
        metric: "fid", "kid" (its mean) or "mifid"; lower is better for each.
        extractor: feature extractor (`ganpaint.metrics.LayerFeatures(classifier, layer)`,
            `PixelFeatures()`, ...). Defaults to Inception's, with `fid_weights`.
        fid_weights: where the default extractor's Inception weights come from: a local
            `classify_image_graph_def.pb` or Keras' notop `.h5` file, "imagenet" (downloads),
            or None (default) to find one (`$GANPAINT_FID_WEIGHTS`, a file attached under
            /kaggle/input, Keras' cache) and else download. The network is built when
            training starts, so weights that cannot be had stop the run before its first step
            rather than at the first score.
        n_samples: int. Images to generate per score (defaults to the number of real images).
        inputs: images to translate (CycleGAN, Pix2Pix), instead of generating.
        labels: int array, the class of each generated image for labelled models. Defaults to
            every class equally often.
        score_fn: callable(model) -> float, replacing all of the above (custom scores, tests).

    A run resumed into the same `out_dir` starts from the best score recorded there, so it
    never replaces a better checkpoint with a worse one.
    """

    def __init__(
        self,
        out_dir,
        real=None,
        every: int = 1,
        metric: str = "fid",
        extractor: Callable | None = None,
        n_samples: int | None = None,
        inputs=None,
        score_fn: Callable | None = None,
        labels=None,
        verbose: bool = True,
        fid_weights: str | None = None,
    ):
        super().__init__()
        self.fid_weights = fid_weights
        self.failures = []  # (epoch, reason) of scores that failed; training went on
        self.labels = labels
        if metric not in ("fid", "kid", "mifid"):
            raise ValueError(
                f"`metric` must be 'fid', 'kid' or 'mifid'. Received: metric={metric!r}"
            )
        if score_fn is None and real is None:
            raise ValueError("FIDCheckpoint needs `real` images (or a `score_fn`).")
        self.out_dir, self.every, self.metric = _folder(out_dir), _every(every), metric
        self.real, self.extractor, self.n_samples, self.inputs = real, extractor, n_samples, inputs
        self.score_fn, self.verbose = score_fn, verbose
        self.best, self.best_epoch, self.scores = math.inf, None, []
        self._real_features = None
        self.path = fs.join(self.out_dir, "best.weights.h5")

    def on_train_begin(self, logs=None):
        check_writable(self.out_dir, what="best-checkpoint folder")
        if (
            self.score_fn is None
            and self.inputs is None
            and getattr(self.model, "takes_inputs", False)
        ):
            raise ValueError(
                f"FIDCheckpoint needs `inputs` (images to translate) for "
                f"{type(self.model).__name__}."
            )
        if self.score_fn is None and self.extractor is None:
            from ganpaint import metrics

            # Now, before the first step: missing weights must not end a run at its first score.
            try:
                self.extractor = metrics.feature_extractor(self.fid_weights, "fid_weights")
            except WeightsUnavailable:
                what = (
                    "Training-time FID needs Inception weights, and they could not be "
                    "downloaded (no internet?). "
                )
                raise WeightsUnavailable(
                    what
                    + metrics.weights_hint(
                        arg("fid_weights=FILE"),
                        arg('fid_features="pixels"'),
                        arg('fid_features="off"'),
                    )
                ) from None
        # A resumed run must not overwrite a better checkpoint from before the interruption.
        record = fs.join(self.out_dir, "best.json")
        if math.isinf(self.best) and fs.exists(record) and fs.exists(self.path):
            saved = fs.read_json(record)
            if self.metric in saved:
                self.best, self.best_epoch = float(saved[self.metric]), saved.get("epoch")

    def _score(self):
        if self.score_fn is not None:
            return float(self.score_fn(self.model))
        from ganpaint import metrics

        if self.extractor is None:
            self.extractor = metrics.feature_extractor(self.fid_weights)
        if self._real_features is None:
            self._real_features = metrics.compute_features(self.real, self.extractor, verbose=False)
        if self.inputs is not None:  # translators: every input, translated
            fakes = self.model.sample(inputs=self.inputs)
        else:  # labelled models: every class equally often unless `labels` say otherwise
            fakes = self.model.sample(
                self.n_samples or len(self._real_features), labels=self.labels
            )
        fake = metrics.compute_features(fakes, self.extractor, verbose=False)
        self._n_fake = len(fake)
        if self.metric == "fid":
            return metrics.fid_from_features(self._real_features, fake)
        if self.metric == "kid":
            return metrics.kid_from_features(self._real_features, fake)[0]
        return metrics.mifid_from_features(self._real_features, fake)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or self.model.stop_training:
            return
        try:
            score = self._score()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            self.failures.append((epoch + 1, reason))
            say(
                f"epoch {epoch + 1}: the {self.metric} score failed ({reason}); training goes on "
                "without it."
            )
            return
        self.scores.append((epoch + 1, score))
        if logs is not None:
            logs[self.metric] = score
        if score < self.best:
            self.best, self.best_epoch = score, epoch + 1
            # Written aside and renamed: a kill mid-write leaves the previous best intact.
            save_weights(self.model, self.path)
            record = {"epoch": epoch + 1, self.metric: score}
            if self.score_fn is None:
                from ganpaint import metrics

                record["provenance"] = metrics.provenance(
                    self.extractor, n_real=len(self._real_features), n_fake=self._n_fake
                )
            fs.write_json(fs.join(self.out_dir, "best.json"), record, indent=2)
        if self.verbose:
            log.info(
                "epoch %d: %s %.4g (best %.4g at epoch %s)",
                epoch + 1,
                self.metric,
                score,
                self.best,
                self.best_epoch,
            )


class PairedL1(keras.callbacks.Callback):
    """Every `every` epochs, translates held-out inputs and logs the mean absolute difference
    to their true targets as `val_l1` (lower is better), so it lands in `history/epochs.csv`,
    TensorBoard and a sweep's table beside FID.

    For translators with a known answer: pix2pix's validation pairs (the maps dataset's
    `val/`), or a CycleGAN task whose true translation is known. The model translates as it
    does for users (`model.sample(inputs=...)`: EMA weights when kept, pix2pix's per-image
    batch norm).

    Args:
        inputs: images in [-1, 1], [N, H, W, C], what the model translates.
        targets: images in [-1, 1] of the same shape, their true translations.
        every: int. Epochs between scores.
        name: str. The key it logs.
    """

    def __init__(self, inputs, targets, every: int = 1, name: str = "val_l1"):
        super().__init__()
        inputs, targets = np.asarray(inputs, "float32"), np.asarray(targets, "float32")
        if inputs.ndim != 4 or inputs.shape != targets.shape:
            raise ValueError(
                "`inputs` and `targets` must be image batches of one shape [N, H, W, C]. "
                f"Received: shapes {inputs.shape} and {targets.shape}"
            )
        self.inputs, self.targets = inputs, targets
        self.every, self.name = _every(every), name
        self.scores: list[tuple[int, float]] = []

    def on_train_begin(self, logs=None):
        if not self.model.takes_inputs:
            raise ValueError(
                f"PairedL1 scores translators (CycleGAN, Pix2Pix); {type(self.model).__name__} "
                "does not translate."
            )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or self.model.stop_training:
            return
        translated = self.model.sample(inputs=self.inputs)
        score = float(np.mean(np.abs(translated - self.targets)))
        self.scores.append((epoch + 1, score))
        if logs is not None:
            logs[self.name] = score


class ClassJudge(keras.callbacks.Callback):
    """Every `every` epochs, draws `per_class` images of each class from a labelled model
    (the same noise each time) and asks a classifier of those classes what they show. Logs
    `right_class`, the share it names as requested (the mean over classes; higher is better),
    and, when the classifier has a layer named "features" and `real` images are given,
    `judge_fid`, FID on that layer's features (lower is better): both land in
    `history/epochs.csv`, TensorBoard and a sweep's table.

    Inception knows no digits: on MNIST-like data a small classifier trained on the data is
    the judge that sees whether a conditional GAN draws the class it was asked for (the
    recipes' `run.judge`; `benchmarks/judges/` stores the benchmarks').

    Args:
        judge: a `keras.Model` taking images in [-1, 1] (the model's; resized to its input
            size when they differ) and giving one score per class, or the path of one saved
            with `model.save` (.keras; local, gs://).
        num_classes: int. The model's classes (checked now when given, else when training
            starts); the judge must give as many scores.
        real: images in [-1, 1] to compare the features with (optional).
        per_class: int. Images drawn of each class.
        every: int. Epochs between scores.
        seed: int. Seeds the noise.
    """

    def __init__(
        self,
        judge,
        num_classes: int | None = None,
        real=None,
        per_class: int = 100,
        every: int = 1,
        seed: int = 0,
    ):
        super().__init__()
        self.judge = load_judge(judge) if isinstance(judge, str | os.PathLike) else judge
        if num_classes is not None:
            self._check_classes(num_classes)
        self.per_class = int(per_class)
        self.real = None if real is None else np.asarray(real, "float32")
        self.every, self.seed = _every(every), seed
        self.labels = None
        self.features = None
        if self.real is not None and "features" in [l.name for l in self.judge.layers]:
            from ganpaint import metrics

            self.features = metrics.LayerFeatures(self.judge, "features")
        self.scores: list[tuple[int, dict]] = []
        self._real_features = None

    def _check_classes(self, num_classes):
        classes = self.judge.outputs[0].shape[-1]
        if classes != num_classes:
            raise ValueError(
                f"The judge `{self.judge.name}` gives {classes} class scores; the model has "
                f"{num_classes} classes. Pass a classifier of the model's classes."
            )

    def on_train_begin(self, logs=None):
        num_classes = getattr(self.model, "num_classes", None)
        if not num_classes:
            raise ValueError(
                f"ClassJudge scores labelled models (ConditionalGAN, ACGAN); "
                f"{type(self.model).__name__} draws no classes."
            )
        self._check_classes(num_classes)
        self.labels = np.repeat(np.arange(num_classes), self.per_class).astype("int32")
        drawn = tuple(self.model.generator.outputs[0].shape[1:])
        wanted = tuple(self.judge.inputs[0].shape[1:])
        if drawn[-1] != wanted[-1]:
            raise ValueError(
                f"The judge `{self.judge.name}` takes images of shape {wanted}; the model draws "
                f"{drawn}. Pass a classifier of images with the model's {drawn[-1]} channels."
            )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or self.model.stop_training:
            return
        from ganpaint import metrics

        rng = np.random.default_rng(self.seed)
        noise = rng.normal(size=(len(self.labels), self.model.latent_dim)).astype("float32")
        fakes = self.model.sample(labels=self.labels, noise=noise)
        accuracy = metrics.per_class_accuracy(self.judge, fakes, self.labels)
        score = {"right_class": float(np.mean(list(accuracy.values())))}
        if self.features is not None:
            if self._real_features is None:
                self._real_features = metrics.compute_features(
                    self.real, self.features, verbose=False
                )
            fake_features = metrics.compute_features(fakes, self.features, verbose=False)
            score["judge_fid"] = metrics.fid_from_features(self._real_features, fake_features)
        self.scores.append((epoch + 1, score))
        if logs is not None:
            logs.update(score)


def load_judge(path) -> keras.Model:
    """A classifier saved with `model.save` (.keras), from a local path or a bucket
    (`ganpaint.load_model`, which names a truncated or corrupt file)."""
    import ganpaint

    path = os.fspath(path)
    if not fs.exists(path):
        raise FileNotFoundError(f"No judge at {path}: pass a classifier saved as .keras.")
    return ganpaint.load_model(path, compile=False)


class LossHistory(keras.callbacks.Callback):
    """Records every reported loss per batch and per epoch, and writes `batches.csv`,
    `epochs.csv` and `losses.png` into `out_dir` at each epoch's end.

    Each batch row holds the step's own values, which a ganpaint model declares
    (`last_step_values`; `fit`'s logs are running means over the epoch), or with another
    model, its logs. With `steps_per_execution` > 1 a row is the last step of each block.
    `resumable_fit` calls `flush`
    before each checkpoint and `resume_at` on resume, so after any number of interruptions
    `batches.csv` holds every step once.
    """

    def __init__(self, out_dir, plot: bool = True):
        super().__init__()
        self.out_dir, self.plot = _folder(out_dir), plot
        self.batches: list[dict] = []
        self.epochs: list[dict] = []
        self._seen, self._epoch, self._step = 0, 0, 0
        self._started = False

    def resume_at(self, step, steps_per_epoch):
        """A run resumed at global `step`: keep the rows up to it (and the completed epochs)."""
        self._started = True
        self.batches = [
            r for r in _read_rows(fs.join(self.out_dir, "batches.csv")) if r.get("step", 0) <= step
        ]
        self.epochs = _read_rows(fs.join(self.out_dir, "epochs.csv"), step // steps_per_epoch)
        self._step = step

    def on_train_begin(self, logs=None):
        check_writable(self.out_dir, what="history folder")

    def on_epoch_begin(self, epoch, logs=None):
        if not self._started:
            self._started = True
            if epoch > 0:  # a resumed run: keep the rows of the epochs before it
                self.batches = _read_rows(fs.join(self.out_dir, "batches.csv"), epoch)
                self.epochs = _read_rows(fs.join(self.out_dir, "epochs.csv"), epoch)
                self._step = int(self.batches[-1]["step"]) if self.batches else 0
        self._seen, self._epoch = 0, epoch

    def flush(self, step=None):
        """Write the rows so far (before a checkpoint at `step`)."""
        _write_csv(fs.join(self.out_dir, "batches.csv"), self.batches)
        _write_csv(fs.join(self.out_dir, "epochs.csv"), self.epochs)

    def on_train_batch_end(self, batch, logs=None):
        count = batch + 1  # batches run so far this epoch (steps_per_execution may skip some)
        self._step += count - self._seen
        self._seen = count
        row = {"epoch": self._epoch + 1, "step": self._step}
        row.update(step_values(self.model, logs))
        self.batches.append(row)

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(np.asarray(v).reshape(-1)[0]) for k, v in (logs or {}).items()})
        if not self.model.stop_training:  # an epoch cut short gets no epoch row
            self.epochs.append(row)
        self.flush()
        if self.plot:
            plotting.plot_history(
                self.batches, path=fs.join(self.out_dir, "losses.png"), x="step", epochs=self.epochs
            )


def _read_rows(path, up_to_epoch: int | None = None) -> list[dict]:
    """Rows of a CSV this module wrote, for epochs 1..up_to_epoch (all if None); [] if there
    is none."""
    if not fs.exists(path):
        return []
    rows = plotting.history_rows(path)  # numbers as floats, names as text
    for row in rows:
        for key in ("epoch", "step"):
            if key in row:
                row[key] = int(row[key])
    return [r for r in rows if up_to_epoch is None or r.get("epoch", 0) <= up_to_epoch]


def _write_csv(path, rows):
    """Write aside and rename, so a kill mid-write leaves the previous file whole."""
    names = []
    for row in rows:
        names += [k for k in row if k not in names]

    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    fs.write_atomically(path, text.getvalue())


class GradientNorms(keras.callbacks.Callback):
    """Per-layer gradient norms of the generator(s) and discriminator(s) over training: the
    gradient-flow check of the CIFAR-10 study. Every `every` batches it reads the norms the
    model records (`AdversarialModel.track_gradient_norms`), combines each layer's variables
    (sqrt of the sum of squares), and at each epoch's end writes `gradient_norms.csv` (epoch,
    step, network, layer, norm) and `gradient_norms.png`. A resumed run keeps earlier rows.
    """

    def __init__(self, out_dir, every: int = 10, plot: bool = True):
        super().__init__()
        self.out_dir, self.every, self.plot = _folder(out_dir), _every(every), plot
        self.rows: list[dict] = []
        self._step, self._epoch, self._started, self._epoch_base = 0, 0, False, 0

    def resume_at(self, step, steps_per_epoch):
        """A run resumed at global `step`: keep the rows up to it."""
        self._started, self._step = True, step
        self.rows = [
            r
            for r in _read_rows(fs.join(self.out_dir, "gradient_norms.csv"))
            if r.get("step", 0) <= step
        ]

    def flush(self, step=None):
        if self.rows:
            _write_csv(fs.join(self.out_dir, "gradient_norms.csv"), self.rows)

    def on_epoch_begin(self, epoch, logs=None):
        if not self._started:
            self._started = True
            if epoch > 0:  # a resumed run: keep the rows of the epochs before it
                self.rows = _read_rows(fs.join(self.out_dir, "gradient_norms.csv"), epoch)
                self._step = max((int(r["step"]) for r in self.rows), default=0)
        self._epoch, self._epoch_base = epoch, self._step

    def set_model(self, model):
        super().set_model(model)
        if not hasattr(model, "track_gradient_norms"):
            raise ValueError(
                f"GradientNorms needs a ganpaint.gans model. Received {type(model).__name__}."
            )
        model.track_gradient_norms()
        self._layers = {
            role: _layer_of_each(getattr(model, f"{role}_variables"))
            for role in ("generator", "discriminator")
        }

    def on_train_batch_end(self, batch, logs=None):
        previous, self._step = self._step, self._epoch_base + batch + 1  # may advance by several
        if self._step // self.every == previous // self.every:
            return
        for role, store in self.model.gradient_norms.items():
            norms = np.asarray(distribute.value(store))
            per_layer: dict[str, float] = {}
            for layer, norm in zip(self._layers[role], norms):
                per_layer[layer] = per_layer.get(layer, 0.0) + float(norm) ** 2
            for layer, sq in per_layer.items():
                self.rows.append(
                    {
                        "epoch": self._epoch + 1,
                        "step": self._step,
                        "network": role,
                        "layer": layer,
                        "norm": math.sqrt(sq),
                    }
                )

    def on_epoch_end(self, epoch, logs=None):
        if not self.rows:
            return
        self.flush()
        if self.plot:
            plotting.plot_gradient_norms(self.rows, fs.join(self.out_dir, "gradient_norms.png"))


def _layer_of_each(variables) -> list[str]:
    """'g_ab/down1_conv' for a variable whose path is 'g_ab/down1_conv/kernel'."""
    return [v.path.rsplit("/", 1)[0] if "/" in v.path else v.path for v in variables]
