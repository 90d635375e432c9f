"""TensorBoard for GAN runs: losses and metrics per window of steps, scores, learning rates,
ADA's p, gradient norms and the sample grid, as `%tensorboard --logdir OUT/tensorboard` shows
them on Colab and Kaggle.

>>> model.fit(ds, callbacks=[SampleGrid("out/grids"), TensorBoardLog("out/tensorboard")])

Steps are the global training step (the optimizer's iteration count), so a resumed run
continues the same curves. A run killed between two checkpoints has written a few steps that
the resumed run trains again: `resume_at` removes those points from the event files
(`truncate_events`), so each step is there once.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from ganpaint import distribute, fs
from ganpaint.checkpoints import check_writable, optimizers_of


class TensorBoardLog(keras.callbacks.Callback):
    """Writes a ganpaint run to TensorBoard event files under `out_dir`.

    Every `every` steps: the mean of each reported loss and metric over those steps (Keras
    hands callbacks running means over the epoch; the window's mean is recovered from them
    exactly), the learning rate of each optimizer (`lr/generator`, `lr/discriminator`),
    `augment_p` when ADA runs, and the generators' and discriminators' global gradient norms
    when `GradientNorms` measures them. At each epoch's end: the epoch's values and the scores
    callbacks put in the logs (`fid`, `kid`, ...) under `epoch/`, and the sample grid that
    `sample_grid` (a `SampleGrid`) wrote this epoch, as an image.

    Args:
        out_dir: folder for the event files (`OUT/tensorboard` in recipes).
        every: int. Steps per window. Defaults to 10.
        sample_grid: a `SampleGrid` whose pictures to show. Put this callback after it (and
            after `FIDCheckpoint`) in the list, so both have run when the epoch ends.
    """

    def __init__(self, out_dir, every: int = 10, sample_grid=None):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be a positive int. Received: every={every!r}")
        self.out_dir, self.every, self.sample_grid = os.fspath(out_dir), every, sample_grid
        self._writer = None
        self._mark = (0, {})  # (batches, running means) at the last window's end
        self._grids_written = 0

    # -- the protocol of `ganpaint.runs.resumable_fit` -------------------------------------------
    def resume_at(self, step, steps_per_epoch):
        """A run resumed at global `step`: points written after it (by a run killed before its
        next checkpoint) are taken out of the event files, since they are trained again."""
        self._grids_written = len(getattr(self.sample_grid, "paths", []))
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        truncate_events(self.out_dir, step)

    def flush(self, step=None):
        if self._writer is not None:
            self._writer.flush()

    # -- Keras ------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        check_writable(self.out_dir, what="TensorBoard folder")
        if self._writer is None:
            try:
                import tensorboard  # noqa: F401 - tf.summary needs it since TF 2.21
            except ImportError:
                raise ImportError(
                    "TensorBoardLog needs the `tensorboard` package: pip install "
                    "tensorboard (ganpaint's requirements include it)."
                ) from None
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(fs.writing_path(self.out_dir))

    def _step(self) -> int:
        optimizers = optimizers_of(self.model)
        return int(distribute.value(optimizers[0].iterations)) if optimizers else 0

    def on_epoch_begin(self, epoch, logs=None):
        self._mark = (0, {})

    def on_train_batch_end(self, batch, logs=None):
        count = batch + 1  # with steps_per_execution > 1, counts advance by several
        if count // self.every == self._mark[0] // self.every and count != self.params.get("steps"):
            return
        seen, previous = self._mark
        values = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in (logs or {}).items()}
        window = {
            k: (count * v - seen * previous.get(k, 0.0)) / (count - seen) for k, v in values.items()
        }
        self._mark = (count, values)
        self._scalars(window, self._step())

    def _scalars(self, values: dict, step: int, prefix: str = ""):
        import tensorflow as tf

        with self._writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(prefix + name, value)
            if not prefix:
                roles = ("generator", "discriminator")
                for role, optimizer in zip(roles, optimizers_of(self.model)):
                    tf.summary.scalar(f"lr/{role}", distribute.value(optimizer.learning_rate))
                for role, norms in (getattr(self.model, "gradient_norms", None) or {}).items():
                    norms = np.asarray(distribute.value(norms))
                    tf.summary.scalar(f"gradient_norm/{role}", float(np.sqrt(np.sum(norms**2))))

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        step = self._step()
        values = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in (logs or {}).items()}
        self._scalars(values, step, prefix="epoch/")
        paths = getattr(self.sample_grid, "paths", [])
        if len(paths) > self._grids_written:
            from PIL import Image

            with fs.open(fs.writing_path(paths[-1]), "rb") as f:  # where this process wrote it
                grid = np.asarray(Image.open(f).convert("RGB"))
            with self._writer.as_default(step=step):
                tf.summary.image("samples", grid[None], step=step)
            self._grids_written = len(paths)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()


def truncate_events(folder, step: int) -> int:
    """Remove the points after global `step` from the TensorBoard event files in `folder`
    (each file is rewritten aside and renamed). Returns how many events were removed."""
    import tensorflow as tf

    removed = 0
    folder = fs.writing_path(folder)
    for path in fs.glob(fs.join(fs.glob_escape(folder), "events.out.tfevents.*")):
        if ".partial" in os.path.basename(path):
            continue
        events = [tf.compat.v1.Event.FromString(r.numpy()) for r in tf.data.TFRecordDataset([path])]
        kept = [e for e in events if e.step <= step]
        if len(kept) == len(events):
            continue
        removed += len(events) - len(kept)

        def write(partial):
            with tf.io.TFRecordWriter(partial) as writer:
                for event in kept:
                    writer.write(event.SerializeToString())

        fs.write_atomically(path, write)
    return removed
