"""Full-state resume: 4 epochs straight equal 2 epochs + checkpoint + a new model restored from
it + 2 more, weight for weight, with op determinism on (in a subprocess, since determinism is a
process-wide switch). With DiffAugment, ADA, EMA and lazy R1 on, every weight of the model
(the EMA generator and ADA's p included) comes back bit for bit."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, tensorflow as tf, keras
    tf.config.experimental.enable_op_determinism()
    from ganpaint.testing import dataset, model, weights

    CASES = {{
        "gan": ("gan", {{}}),
        "cyclegan": ("cyclegan", {{"pool_size": 6}}),
        # ada_target -0.9: r_t is above it from the first steps, so p moves every step.
        "gan_small_data": ("gan", dict(diff_augment="color,translation,cutout", ada_target=-0.9,
                                       ada_interval=1, ada_kimg=0.5, ema=0.9, r1_weight=1.0,
                                       r1_every=2)),
        "pix2pix_small_data": ("pix2pix", dict(diff_augment="color,translation,cutout",
                                               ema=0.9, ada_target=0.6, ada_interval=1)),
    }}

    def compiled(case, seed):
        kind, kwargs = CASES[case]
        m = model(kind, seed=seed, **kwargs)
        # A schedule that depends on the step, so its position must be restored too.
        schedule = keras.optimizers.schedules.PolynomialDecay(1e-3, 8, 1e-4)
        m.compile(keras.optimizers.Adam(schedule, beta_1=0.5), keras.optimizers.Adam(2e-4))
        return m

    results = {{}}
    for case, (kind, _) in CASES.items():
        data = dataset(kind, batch=2, n=4)  # 2 steps an epoch, the same batches each epoch
        straight = compiled(case, seed=1)
        straight.fit(data, epochs=4, verbose=0)

        backup = {tmp!r} + "/" + case
        first = compiled(case, seed=1)
        first.fit(data, epochs=2, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
        resumed = compiled(case, seed=99)  # another noise seed: the checkpoint must restore it
        for v in resumed.generator_variables:  # and other weights
            v.assign(tf.random.normal(v.shape) * 0.1)
        history = resumed.fit(data, epochs=4, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(backup)])
        diffs = [float(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64")).max())
                 for a, b in zip(straight.weights, resumed.weights)]
        results[case] = {{
            "max_diff": max(diffs),
            "epochs_run_after_resume": len(history.history[next(iter(history.history))]),
            "g_steps": [int(straight.g_optimizer.iterations), int(resumed.g_optimizer.iterations)],
            "lr": [
                float(straight.g_optimizer.learning_rate),
                float(resumed.g_optimizer.learning_rate),
            ],
            "moved": float(sum(np.abs(a).sum() for a in weights(straight))),
        }}
        if straight.augmenter is not None:
            results[case]["p"] = [float(straight.augmenter.p.value),
                                  float(resumed.augmenter.p.value)]
        if kind == "cyclegan":
            results[case]["pool_equal"] = bool(np.array_equal(
                straight.pool_b.images.value, resumed.pool_b.images.value))
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def resume_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    script = tmp / "resume.py"
    script.write_text(SCRIPT.format(tmp=str(tmp)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["gan", "cyclegan", "gan_small_data", "pix2pix_small_data"])
def test_resumed_training_equals_straight_training(resume_results, case):
    r = resume_results[case]
    assert r["epochs_run_after_resume"] == 2  # fit picked up at epoch 2 of 4
    assert r["g_steps"] == [8, 8]
    assert r["lr"][0] == pytest.approx(r["lr"][1])  # the schedule's position came back
    assert r["max_diff"] == 0.0, r


def test_resume_restores_the_image_pool(resume_results):
    assert resume_results["cyclegan"]["pool_equal"]


def test_resume_restores_ada_p_after_it_moved(resume_results):
    p_straight, p_resumed = resume_results["gan_small_data"]["p"]
    assert p_straight == p_resumed and p_straight != 0.0
