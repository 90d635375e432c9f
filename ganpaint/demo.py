"""`make demo`: an AC-GAN trained on 4,000 of the bundled real MNIST digits, scored offline.

The score needs no download: a small digit classifier is trained on the same 4,000 digits, and
the other 1,000, which neither network sees, measure both. The classifier's penultimate layer
gives the features for FID and KID (as many MNIST papers do), and its predictions say whether
each generated digit is the class asked for.
Outputs, in the folder named at the end:
- `samples.png`: one row per class, 10 digits each (fixed noise);
- `history/losses.png` (+ CSVs): the losses over training;
- `grids/`: the sample grid every 5 epochs;
- `scores.json`: FID and KID against held-out real digits, the per-class accuracy of the
  classifier on generated digits, the same figures for real digits as the reference, and how
  often the `TrainingGuard` tripped (`guard.jsonl` holds its log if it did).
"""

from __future__ import annotations

import time

import keras
import numpy as np

from ganpaint import data, fs, metrics, plotting, recipes, runs
from ganpaint.guard import TrainingGuard

DEMO_OVERRIDES = dict(
    # The recipe's RMSprop 5e-5 needs far more than a few CPU minutes; Adam 2e-4 with a
    # lighter network and a batch-norm-free, dropout discriminator gets there in ~50 epochs.
    optimizer="adam",
    g_learning_rate=2e-4,
    d_learning_rate=2e-4,
    latent_dim=64,
    base_filters=32,
    max_filters=128,
    d_norm=None,
    dropout=0.3,
    fid_every=0,
    sample_every=5,
)
# 50 epochs of the 4,000 training digits at batch 64: 3,100 steps.
DEMO_EPOCHS = 50
DEMO_FILES = ("samples.png", "scores.json")  # written beside the run's own entries
TRAIN, HELD_OUT = slice(0, 4000), slice(4000, 5000)  # of the 5,000, in _load_digits' order
# (`digits(split)` gives them)


def digit_classifier(images, labels, epochs: int = 4, seed: int = 0) -> keras.Model:
    """A small CNN on [-1, 1] digits; its "features" layer feeds FID/KID."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu", name="features")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="digit_classifier")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images, labels, epochs=epochs, batch_size=64, verbose=0)
    return model


def _load_digits():
    with np.load(data.sample_path("mnist")) as f:
        images, labels = f["images"], f["labels"].astype("int32")
    images = (images.astype("float32") / 127.5 - 1.0)[..., None]
    order = np.random.default_rng(0).permutation(len(images))
    return images[order], labels[order]


def digits(split: str):
    """(images in [-1, 1], labels) of the demo's "train" (4,000) or "held_out" (1,000) digits."""
    images, labels = _load_digits()
    part = {"train": TRAIN, "held_out": HELD_OUT}[split]
    return images[part], labels[part]


def scores(classifier, real, fakes, fake_labels=None) -> dict:
    """FID and KID on the classifier's features; with `fake_labels`, how often the classifier
    sees the requested class."""
    features = metrics.LayerFeatures(classifier, "features")
    real_f = metrics.compute_features(real, features, verbose=False)
    fake_f = metrics.compute_features(fakes, features, verbose=False)
    kid_mean, kid_std = metrics.kid_from_features(real_f, fake_f, subsets=50, subset_size=500)
    result = {"fid": metrics.fid_from_features(real_f, fake_f), "kid": kid_mean, "kid_std": kid_std}
    if fake_labels is not None:
        accuracy = metrics.per_class_accuracy(classifier, fakes, fake_labels)
        result["class_accuracy"] = float(np.mean(list(accuracy.values())))
        result["class_accuracy_per_class"] = accuracy
    return result


def _last_epoch_losses(out_dir) -> dict:
    rows = plotting.history_rows(fs.join(out_dir, "history", "epochs.csv"))
    return {k: v for k, v in rows[-1].items() if k != "epoch"} if rows else {}


def run(
    out_dir: str = "outputs/demo",
    epochs: int = DEMO_EPOCHS,
    seed: int = 0,
    verbose=1,
    resume: bool | str = "auto",
) -> dict:
    """Train, draw and score; returns the scores (also written to `out_dir/scores.json`).

    A folder that holds the demo of another seed or number of epochs is refused, since its
    scores would be written under this call's settings; `resume=False` moves that run aside
    with the demo's pictures and scores (nothing deleted), as `Setup.fit`'s does. The same
    call again continues an interrupted run, or re-scores a finished one."""
    out_dir = fs.absolute(out_dir)
    fs.makedirs(out_dir)
    start = time.perf_counter()
    train, train_labels = digits("train")
    held_out, held_out_labels = digits("held_out")

    # The GAN trains on the classifier's 4,000 digits: the 1,000 that FID compares with stay
    # unseen (before, it trained on all 5,000, so its FID was partly against its own data).
    # It trains first, so that a folder holding another run is refused before any work.
    setup = recipes.build(
        "mnist_acgan",
        data=(train, train_labels),
        out_dir=out_dir,
        seed=seed,
        epochs=epochs,
        **DEMO_OVERRIDES,
    )
    print(
        f"Training an AC-GAN for {epochs} epochs on {len(train):,} bundled MNIST digits "
        f"({setup.model.generator.count_params():,} + "
        f"{setup.model.discriminator.count_params():,} parameters)...",
        flush=True,
    )
    if resume is False:  # what the demo wrote beside the run goes aside too (`fit` then
        runs.move_run_aside(out_dir, also=DEMO_FILES)  # finds nothing left to move)
    fit_start = time.perf_counter()
    setup.fit(verbose=verbose, resume=resume, run_info={"epochs": epochs})
    gan_seconds = time.perf_counter() - fit_start

    print("Training the scoring classifier on the same 4,000 digits...", flush=True)
    classifier = digit_classifier(train, train_labels, seed=seed)
    _, real_accuracy = classifier.evaluate(held_out, held_out_labels, verbose=0)

    rng = np.random.default_rng(seed)
    fake_labels = np.repeat(np.arange(10), 100).astype("int32")
    noise = rng.normal(size=(1000, setup.recipe.latent_dim)).astype("float32")
    fakes = setup.model.generate(noise=noise, labels=fake_labels)
    grid = fakes.reshape(10, 100, 28, 28, 1)[:, :10].reshape(100, 28, 28, 1)
    plotting.save_image(fs.join(out_dir, "samples.png"), plotting.image_grid(grid, cols=10))

    result = {
        "command": f"ganpaint demo --epochs {epochs} --seed {seed}",
        "epochs": epochs,
        "seconds": round(time.perf_counter() - start, 1),
        "gan_training_digits": len(train),
        "held_out_digits": len(held_out),
        "gan_training_seconds": round(gan_seconds, 1),
        "generated": scores(classifier, held_out, fakes, fake_labels),
        "real_reference": scores(classifier, held_out, train[:1000]),
        "classifier_accuracy_held_out": float(real_accuracy),
        # The TrainingGuard's trips (NaN, collapse): none in a healthy run.
        "guard_trips": sum(len(c.trips) for c in setup.callbacks if isinstance(c, TrainingGuard)),
        # The run's last epoch, also when this call resumed it or found it finished.
        "final_losses": _last_epoch_losses(out_dir),
    }
    fs.write_json(fs.join(out_dir, "scores.json"), result, indent=2)
    g, r = result["generated"], result["real_reference"]
    print(
        f"\nFID on classifier features: generated {g['fid']:.2f} (real digits vs held-out: "
        f"{r['fid']:.2f}); KID {g['kid']:.4f} (real {r['kid']:.4f})"
    )
    print(
        f"Classifier agrees with the requested class on {100 * g['class_accuracy']:.1f}% of "
        f"generated digits (on real held-out digits: {100 * real_accuracy:.1f}%)"
    )
    print(
        f"Wrote samples.png, history/losses.png, grids/ and scores.json to {out_dir}, "
        "beside the run itself (model.keras, and backup/, its checkpoints)"
    )
    return result
