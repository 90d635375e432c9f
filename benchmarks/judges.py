"""The benchmarks' judges, trained once and stored, so that scores from two runs compare.

A judge is a network that scores generated images: the digit classifier behind the digits'
FID and "right class" rates. Retraining it in every process gave each run its own judge
(same seed, but not the same weights across machines and TensorFlow builds), so figures from
two runs did not compare. Now it is trained once, stored under `benchmarks/judges/` with its
SHA-256 in `judges.json`, and every record names the file and its hash (`record()`).

    python benchmarks/judges.py            # check the stored judges (hash, held-out accuracy)
    python benchmarks/judges.py --retrain  # train them again and rewrite judges.json
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
# How the digit judge is trained: the demo's classifier on the first 4,000 bundled digits (in
# `demo._load_digits`' fixed order), seed 0; the last 1,000 are its held-out set.
DIGIT_TRAINING = {"digits": "bundled MNIST, demo._load_digits() order, first 4,000",
                  "held_out": "the last 1,000", "epochs": 4, "seed": 0}


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


def digit_judge():
    """The stored digit classifier, after checking its hash against `judges.json`."""
    import keras

    path = os.path.join(JUDGES, DIGIT)
    entry = _manifest().get(DIGIT)
    if entry is None or not os.path.exists(path):
        raise FileNotFoundError(f"No stored digit judge at {path}. Train it once with "
                                "`python benchmarks/judges.py --retrain`.")
    found = sha256(path)
    if found != entry["sha256"]:
        raise ValueError(f"{path} has SHA-256 {found}, but {MANIFEST} records "
                         f"{entry['sha256']}: the judge changed, so its scores would not compare "
                         "with the stored ones. Restore the file (git checkout) or retrain and "
                         "re-run every table it scored (`--retrain`).")
    return keras.saving.load_model(path)


def retrain_digit_judge() -> dict:
    """Train the digit judge as `DIGIT_TRAINING` says, store it and return its manifest entry."""
    import keras

    from ganpaint import demo

    images, labels = demo._load_digits()
    model = demo.digit_classifier(images[:4000], labels[:4000],
                                  epochs=DIGIT_TRAINING["epochs"], seed=DIGIT_TRAINING["seed"])
    os.makedirs(JUDGES, exist_ok=True)
    path = os.path.join(JUDGES, DIGIT)
    judge = keras.Model.from_config(model.get_config())  # the weights, without Adam's state
    judge.set_weights(model.get_weights())
    judge.save(path)
    return {"sha256": sha256(path), "held_out_accuracy": round(_held_out_accuracy(judge), 4),
            "training": DIGIT_TRAINING}


def _held_out_accuracy(classifier) -> float:
    """Accuracy on the 1,000 digits the judge was not trained on."""
    from ganpaint import demo

    images, labels = demo._load_digits()
    predicted = classifier.predict(images[4000:], batch_size=256, verbose=0).argmax(1)
    return float(np.mean(predicted == labels[4000:]))


def check_digit_judge() -> float:
    """The stored judge's accuracy on the 1,000 held-out digits (after the hash check)."""
    return _held_out_accuracy(digit_judge())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true",
                        help="train the judges again and rewrite judges.json")
    args = parser.parse_args(argv)
    if args.retrain:
        manifest = {**_manifest(), DIGIT: retrain_digit_judge()}
        with open(MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1)
    print(f"{DIGIT}: sha256 {_manifest()[DIGIT]['sha256']}, held-out accuracy "
          f"{check_digit_judge():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
