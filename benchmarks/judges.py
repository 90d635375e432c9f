"""The benchmarks' judges, trained once and stored, so that scores from two runs compare.

A judge is a network that scores generated images: the digit classifier behind the digits'
FID and "right class" rates, and the texture classifier behind the textures'
(`textures.py`). Retraining one in every process gave each run its own judge (same seed, but
not the same weights across machines and TensorFlow builds), so figures from two runs did not
compare. Now each is trained once, stored under `benchmarks/judges/` with its SHA-256 in
`judges.json`, and every record names the file and its hash (`record(name)`).

    python -m benchmarks.judges            # check the stored judges (hash, held-out accuracy)
    python -m benchmarks.judges --retrain texture_classifier.keras  # train one again
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
JUDGES = os.path.join(HERE, "judges")
MANIFEST = os.path.join(JUDGES, "judges.json")
DIGIT = "digit_classifier.keras"
TEXTURE = "texture_classifier.keras"
# How each judge is trained (seed 0 each):
# - digits: the demo's classifier on the first 4,000 bundled digits (in `demo._load_digits`'
#   fixed order); the last 1,000 are its held-out set;
# - textures: `textures.classifier` on the 4,000 training crops; the 1,000 held-out crops
#   (from blocks of each photograph that no training crop touches) are its held-out set.
DIGIT_TRAINING = {
    "digits": "bundled MNIST, demo._load_digits() order, first 4,000",
    "held_out": "the last 1,000",
    "epochs": 4,
    "seed": 0,
}
TEXTURE_TRAINING = {
    "images": "textures.load('train'): 10 classes x 400 crops of 32 px",
    "held_out": "textures.load('held_out'): 10 x 100",
    "epochs": 8,
    "seed": 0,
}


def _digits(split):
    from ganpaint import demo

    return demo.digits(split)  # the demo's split


def _train_digits(images, labels):
    from ganpaint import demo

    return demo.digit_classifier(
        images, labels, epochs=DIGIT_TRAINING["epochs"], seed=DIGIT_TRAINING["seed"]
    )


def _train_textures(images, labels):
    from benchmarks import textures

    return textures.classifier(
        images, labels, epochs=TEXTURE_TRAINING["epochs"], seed=TEXTURE_TRAINING["seed"]
    )


def _textures(split):
    from benchmarks import textures

    return textures.load(split)


# name -> (the data: split -> (images, labels), the trainer, how it is trained)
SPECS = {
    DIGIT: (_digits, _train_digits, DIGIT_TRAINING),
    TEXTURE: (_textures, _train_textures, TEXTURE_TRAINING),
}


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest() -> dict:
    if not os.path.exists(MANIFEST):
        return {}
    with open(MANIFEST) as f:
        return json.load(f)


def record(name: str = DIGIT) -> dict:
    """What every row scored by judge `name` carries: its file and SHA-256."""
    entry = _manifest()[name]
    return {"judge": f"benchmarks/judges/{name}", "judge_sha256": entry["sha256"]}


def judge(name: str):
    """The stored judge `name`, after checking its hash against `judges.json`."""
    import keras

    return keras.saving.load_model(path(name))


def path(name: str) -> str:
    """The stored judge `name`'s file, after checking its hash against `judges.json` (what a
    recipe's `run.judge` takes)."""
    path = os.path.join(JUDGES, name)
    entry = _manifest().get(name)
    if entry is None or not os.path.exists(path):
        raise FileNotFoundError(
            f"No stored judge at {path}. Train it once with "
            f"`python -m benchmarks.judges --retrain {name}`."
        )
    found = sha256(path)
    if found != entry["sha256"]:
        raise ValueError(
            f"{path} has SHA-256 {found}, but {MANIFEST} records "
            f"{entry['sha256']}: the judge changed, so its scores would not compare "
            "with the stored ones. Restore the file (git checkout) or retrain and "
            f"re-run every table it scored (`--retrain {name}`)."
        )
    return path


def digit_judge():
    """The stored digit classifier (hash checked)."""
    return judge(DIGIT)


def texture_judge():
    """The stored texture classifier (hash checked)."""
    return judge(TEXTURE)


def retrain(name: str) -> dict:
    """Train judge `name` as `SPECS` says, store it and return its manifest entry."""
    import keras

    _, train, training = SPECS[name]
    model = train(*data(name, "train"))
    os.makedirs(JUDGES, exist_ok=True)
    path = os.path.join(JUDGES, name)
    stored = keras.Model.from_config(model.get_config())  # the weights, without Adam's state
    stored.set_weights(model.get_weights())
    stored.save(path)
    return {
        "sha256": sha256(path),
        "held_out_accuracy": round(held_out_accuracy(name, stored), 4),
        "training": training,
    }


def held_out_accuracy(name: str, classifier=None) -> float:
    """Judge `name`'s accuracy on its held-out set (the stored judge, hash checked, unless
    `classifier` is given)."""
    images, labels = data(name, "held_out")
    classifier = classifier if classifier is not None else judge(name)
    predicted = classifier.predict(images, batch_size=256, verbose=0).argmax(1)
    return float(np.mean(predicted == labels))


def data(name: str, split: str):
    """(images, labels) of judge `name`'s "train" or "held_out" split: the data it was
    trained and checked on, and the sets the benchmarks it scores train on and compare with."""
    return SPECS[name][0](split)


def check_digit_judge() -> float:
    """The stored digit judge's accuracy on the 1,000 held-out digits (after the hash check)."""
    return held_out_accuracy(DIGIT)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--retrain",
        nargs="+",
        choices=tuple(SPECS),
        default=[],
        metavar="NAME",
        help="train these judges again and rewrite their "
        f"entries in judges.json (one of {', '.join(SPECS)}); every table "
        "they scored must then be re-run",
    )
    args = parser.parse_args(argv)
    for name in args.retrain:
        manifest = {**_manifest(), name: retrain(name)}
        with open(MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1)
    for name in SPECS:
        if name in _manifest():
            print(
                f"{name}: sha256 {_manifest()[name]['sha256']}, held-out accuracy "
                f"{held_out_accuracy(name):.4f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
