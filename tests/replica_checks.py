"""The check that N replicas train as one device, through the path users take: a recipe's
`recipes.build(...).fit()` with all its default callbacks (grids, histories, scores, guard,
TensorBoard, checkpoints), once on one device with a global batch of B and once on a
`MirroredStrategy` of N replicas with B / N each, then every final weight compared.

Used in process for 2 replicas (test_replicas.py) and by `python replica_checks.py N` in a
subprocess for 8 replicas (one strategy per process). SGD replaces each recipe's Adam: Adam
divides by the gradient's own size, so for a weight whose true gradient is zero (a bias
before instance norm) it turns round-off into steps of +-lr; and a small rate keeps GAN
training in its tame regime, where a round-off difference stays round-off (at SGD 0.01
RaLSGAN's loss grows 50x in six steps and amplifies 1e-7 into 1e-3).
"""

import json
import os
import sys
import tempfile

# One recipe of every kind (noise, labelled, auxiliary, CycleGAN, pix2pix); the labelled one
# has dropout, random soft labels and gradient norms, the auxiliary one batch norm and dropout.
EACH_KIND = ("dogs_dcgan", "cifar10_cgan", "mnist_acgan", "monet_cyclegan", "maps_pix2pix")
LEARNING_RATE = 1e-3
# pix2pix's smoke setting turns dropout off; the check wants the U-Net's dropout on.
OVERRIDES = {"maps_pix2pix": {"dropout": 0.5}}
RUN_FILES = ("run.json", "model.keras", "backup", "grids", "history", "tensorboard")


EPOCHS = None  # None: the smoke recipe's 2 (`main` sets 1 for 8 replicas, to save time)


def train_once(name, strategy, out_dir, global_batch, seed=0, perturb=0.0):
    """A smoke run of recipe `name` under `strategy` at `global_batch`: the model, its weights
    before training, and the names in its run folder. `perturb` multiplies every float
    weight by (1 + perturb * noise) first: the control run."""
    import keras
    import numpy as np

    from ganpaint import recipes

    per_replica = global_batch // strategy.num_replicas_in_sync
    overrides = dict(OVERRIDES.get(name, {}), **({"epochs": EPOCHS} if EPOCHS else {}))
    setup = recipes.build(
        name,
        smoke=True,
        strategy=strategy,
        out_dir=out_dir,
        seed=seed,
        batch_size=per_replica,
        **overrides,
    )
    with strategy.scope():
        setup.model.compile(
            keras.optimizers.SGD(LEARNING_RATE), keras.optimizers.SGD(LEARNING_RATE)
        )
    if perturb:
        rng = np.random.default_rng(0)
        for v in setup.model.weights:
            if "float" in str(v.dtype):
                value = np.asarray(keras.ops.convert_to_numpy(v))
                v.assign(
                    value * (1 + perturb * rng.standard_normal(value.shape)).astype(value.dtype)
                )
    before = [np.array(keras.ops.convert_to_numpy(v)) for v in setup.model.weights]
    setup.fit(verbose=0)
    return setup.model, before, sorted(os.listdir(out_dir))


def compare(name, strategy, root, global_batch=None):
    """Train `name` on one device and on `strategy`; returns a JSON-able record: the largest
    difference between the two runs' final weights, how far training moved the weights, the
    replica count, and the files of the distributed run's folder."""
    import keras
    import numpy as np
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    global_batch = global_batch or replicas * (1 if replicas > 2 else 2)
    single, before, _ = train_once(
        name, tf.distribute.get_strategy(), os.path.join(root, f"{name}-1"), global_batch
    )
    spread, _, files = train_once(
        name, strategy, os.path.join(root, f"{name}-{replicas}"), global_batch
    )
    worst, where, moved = _gap(single, spread, before)
    control = None
    if worst > FLOOR:  # how far one device goes from itself, its weights moved by round-off
        perturbed, _, _ = train_once(
            name,
            tf.distribute.get_strategy(),
            os.path.join(root, f"{name}-control"),
            global_batch,
            perturb=1e-7,
        )
        control = _gap(single, perturbed, before)[0]
    iterations = [
        int(np.asarray(keras.ops.convert_to_numpy(o.iterations)))
        for o in (single.g_optimizer, spread.g_optimizer)
    ]
    return {
        "recipe": name,
        "replicas": replicas,
        "global_batch": global_batch,
        "worst": worst,
        "where": where,
        "moved": moved,
        "control": control,
        "steps": iterations,
        "files": files,
    }


def _gap(a, b, before):
    """The largest difference between two models' float weights, where, and how far `a`
    moved from `before`."""
    import keras
    import numpy as np

    worst, where, moved = 0.0, "", 0.0
    for variable, start, x, y in zip(a.weights, before, a.weights, b.weights):
        if "int" in str(variable.dtype) or "seed" in variable.path:
            continue
        x, y = (np.asarray(keras.ops.convert_to_numpy(v)) for v in (x, y))
        moved = max(moved, float(np.max(np.abs(x - start))))
        gap = float(np.max(np.abs(x - y)))
        if gap > worst:
            worst, where = gap, variable.path
    return worst, where, moved


FLOOR = 1e-4  # a gap below this is round-off, whatever the recipe


def acceptable(record) -> str | None:
    """Why a comparison fails, or None. The gap must be round-off: below `FLOOR` and small
    beside what training moved (a wrong loss scale, per-replica batch norm or shared dropout
    masks change the step itself), or, where a recipe's smoke networks amplify round-off
    (the EfficientNet recipe: batch norm over 4 values on 1x1 maps), of the control's order
    (within 3x): one device against itself with every weight moved by a relative 1e-7."""
    if record["steps"][0] != record["steps"][1] or record["steps"][0] < 1:
        return f"step counts differ or are zero: {record['steps']}"
    limit = max(FLOOR, 3 * (record["control"] or 0.0))  # one control run is one sample
    if record["worst"] > limit or record["worst"] > 0.2 * record["moved"]:
        return (
            f"{record['recipe']} on {record['replicas']} replicas differs from one device "
            f"by {record['worst']:.3g} at {record['where']} (training moved the weights by "
            f"{record['moved']:.3g}; one device against itself, perturbed by 1e-7: "
            f"{record['control']})"
        )
    missing = [f for f in RUN_FILES if f not in record["files"]]
    if missing:
        return f"the run folder lacks {missing}: {record['files']}"
    return None


def main(argv):
    """`python replica_checks.py N [recipe ...]`: one JSON line per recipe on N replicas (one
    epoch of 3 steps each above 2 replicas, where the 8 replica threads' tracing is slow)."""
    global EPOCHS
    replicas = int(argv[0])
    names = argv[1:] or EACH_KIND
    EPOCHS = 1 if replicas > 2 else None
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
    )
    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(replicas)])
    root = tempfile.mkdtemp(prefix="replica-checks-")
    for name in names:
        print(json.dumps(compare(name, strategy, root)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
