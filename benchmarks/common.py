"""What the benchmark files share (one home, no private names across files): the row
summary over seeds, and the photo -> painting task's data, networks and score."""

from __future__ import annotations

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf

from ganpaint import data


def limit_threads(threads: int | None) -> None:
    """TensorFlow's intra- and inter-op threads (1: two benchmark processes side by side on
    this project's 2-core CPU); None leaves TensorFlow's choice."""
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def merge_rows(path: str, rows: list, key, benchmark: str) -> list:
    """`rows` in place of the rows of the JSON at `path` with the same `key(row)`, the others
    kept in their order; under a lock and written whole (a temporary file, then a rename),
    so processes run side by side that end at once keep each other's rows. The merged rows.
    The lock is a file of the system's temporary folder named after `path`, so that none is
    left beside the JSON (docs/benchmarks)."""
    import fcntl
    import hashlib
    import tempfile

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    name = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:16]
    with open(os.path.join(tempfile.gettempdir(), f"ganpaint-rows-{name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = []
        if os.path.exists(path):
            with open(path) as f:
                old = json.load(f)["rows"]
        new = {key(r) for r in rows}
        merged = [r for r in old if key(r) not in new] + list(rows)
        with open(path + ".tmp", "w") as f:
            json.dump({"benchmark": benchmark, "rows": merged}, f, indent=1)
        os.replace(path + ".tmp", path)
    return merged


def summary(task, name, steps, runs):
    """One row: the mean and standard deviation over seeds of each score, and each seed's."""
    row = {"task": task, "implementation": name, "steps": steps, "seeds": len(runs)}
    for key in runs[0]:
        if key == "seed":
            continue
        values = np.array([r[key] for r in runs], dtype="float64")
        places = 1 if key == "seconds" else 4
        row[key] = round(float(values.mean()), places)
        if key != "seconds":
            row[f"{key}_std"] = round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, places)
            row[f"{key}_per_seed"] = [round(float(v), places) for v in values]
    return row


# -- photo -> painting (the quality task and the defaults search) --------------------------


def photos_and_paintings(size):
    photos = np.concatenate(
        [
            b.numpy()
            for b in data.image_dataset(
                data.sample_path("photo"), image_size=size, batch_size=30, shuffle=False
            )
        ]
    )
    paintings = np.concatenate(
        [
            b.numpy()
            for b in data.image_dataset(
                data.sample_path("monet"), image_size=size, batch_size=30, shuffle=False
            )
        ]
    )
    truth = data.painterly(data.to_uint8(photos)).astype("float32") / 127.5 - 1.0
    return photos, paintings, truth


def sweep_run_fields(image_size: int, steps: int, epochs: int) -> dict:
    """The recipe fields of a search re-run as a sweep: batch 1, `steps` in `epochs` epochs
    (the score is the last epoch's), no decay, no FID, one sample grid, one checkpoint."""
    return dict(
        image_size=image_size,
        batch_size=1,
        epochs=epochs,
        steps_per_epoch=steps // epochs,
        decay_epochs=0,
        fid_every=0,
        sample_every=epochs,
        tensorboard=False,
        checkpoint_every=steps,
    )


def family_networks(model: str, seed: int, names=None, **fields) -> tuple:
    """A family's networks built by its one network factory (`ganpaint.families`) from a
    recipe with these `fields` (what a user's recipe would say), with weights from `seed`;
    in the model's order, or the order of `names`."""
    from ganpaint import families
    from ganpaint.recipe_presets import Recipe

    keras.utils.set_random_seed(seed)
    recipe = Recipe(name=f"benchmark_{model}", summary="benchmarks", model=model, **fields)
    built = families.family(model).networks(recipe)
    return tuple(built[n] for n in names) if names else tuple(built.values())


def small_cyclegan_networks(
    size, seed, residual=False, norm="instance", receptive_field=16, spectral_norm=False
):
    """The task's small U-Nets and PatchGANs (the defaults search varies the options)."""
    return family_networks(
        "cyclegan",
        seed,
        image_size=size,
        generator="unet",
        base_filters=32,
        max_filters=128,
        norm=norm,
        d_norm="same",
        dropout=0.0,
        receptive_field=receptive_field,
        spectral_norm=spectral_norm,
        generator_options={"residual": residual},
    )


def l1_to_truth(translated, truth):
    return float(np.mean(np.abs(translated - truth)))


# -- training with scores along the way (few-shot and conditional benchmarks) ------------


def batches(images, seed, labels=None, batch=32):
    """Shuffled, repeated batches of `images` (and `labels`), the benchmarks' input."""
    items = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(items)
    # Repeat before batching: 30 digits make less than one batch of 32.
    return ds.shuffle(len(images), seed=seed).repeat().batch(batch, drop_remainder=True)


class _Every(keras.callbacks.Callback):
    """Calls `score(steps_done)` at the end of each epoch (of `steps_per_epoch` steps) and
    keeps the results; the time it takes is kept apart from the training time."""

    def __init__(self, steps_per_epoch, score):
        super().__init__()
        self.steps_per_epoch, self.score = steps_per_epoch, score
        self.results, self.eval_seconds = [], 0.0

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        result = self.score((epoch + 1) * self.steps_per_epoch)
        if result is not None:
            self.results.append(result)
        self.eval_seconds += time.perf_counter() - start


def fit_scoring(model, ds, steps, every, score):
    """One `fit` over `steps` (one data iterator), scoring every `every` steps. Returns
    (scores, training seconds)."""
    callback = _Every(every, score)
    start = time.perf_counter()
    model.fit(
        ds,
        steps_per_epoch=every,
        epochs=steps // every,
        verbose=0,
        shuffle=False,
        callbacks=[callback],
    )
    return callback.results, time.perf_counter() - start - callback.eval_seconds
