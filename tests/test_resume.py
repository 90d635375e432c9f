"""Full-state resume: 4 epochs straight equal 2 epochs + checkpoint + a new model restored from
it + 2 more, weight for weight, with op determinism on (in a subprocess, since determinism is a
process-wide switch)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    import numpy as np, tensorflow as tf, keras
    tf.config.experimental.enable_op_determinism()
    from tiny_models import dataset, model, weights

    def compiled(kind, seed):
        m = model(kind, seed=seed, **({{"pool_size": 6}} if kind == "cyclegan" else {{}}))
        # A schedule that depends on the step, so its position must be restored too.
        schedule = keras.optimizers.schedules.PolynomialDecay(1e-3, 8, 1e-4)
        m.compile(keras.optimizers.Adam(schedule, beta_1=0.5), keras.optimizers.Adam(2e-4))
        return m

    results = {{}}
    for kind in ("gan", "cyclegan"):
        data = dataset(kind, batch=2, n=4)  # 2 steps an epoch, the same batches each epoch
        straight = compiled(kind, seed=1)
        straight.fit(data, epochs=4, verbose=0)

        backup = {tmp!r} + "/" + kind
        first = compiled(kind, seed=1)
        first.fit(data, epochs=2, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
        resumed = compiled(kind, seed=99)  # another noise seed: the checkpoint must restore it
        for v in resumed.generator_variables:  # and other weights
            v.assign(tf.random.normal(v.shape) * 0.1)
        history = resumed.fit(data, epochs=4, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(backup)])
        diffs = [float(np.abs(a - b).max()) for a, b in zip(weights(straight), weights(resumed))]
        results[kind] = {{
            "max_diff": max(diffs),
            "epochs_run_after_resume": len(history.history[next(iter(history.history))]),
            "g_steps": [int(straight.g_optimizer.iterations), int(resumed.g_optimizer.iterations)],
            "lr": [float(straight.g_optimizer.learning_rate), float(resumed.g_optimizer.learning_rate)],
            "moved": float(sum(np.abs(a).sum() for a in weights(straight))),
        }}
        if kind == "cyclegan":
            results[kind]["pool_equal"] = bool(np.array_equal(
                straight.pool_b.images.value, resumed.pool_b.images.value))
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def resume_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    script = tmp / "resume.py"
    tests = os.path.dirname(os.path.abspath(__file__))
    script.write_text(SCRIPT.format(tests=tests, tmp=str(tmp)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["gan", "cyclegan"])
def test_resumed_training_equals_straight_training(resume_results, kind):
    r = resume_results[kind]
    assert r["epochs_run_after_resume"] == 2  # fit picked up at epoch 2 of 4
    assert r["g_steps"] == [8, 8]
    assert r["lr"][0] == pytest.approx(r["lr"][1])  # the schedule's position came back
    assert r["max_diff"] == 0.0, r


def test_resume_restores_the_image_pool(resume_results):
    assert resume_results["cyclegan"]["pool_equal"]
