"""One recipe of each kind (noise, labelled, auxiliary, CycleGAN, pix2pix) over 8 logical
CPUs, the TPU's replica count, through `recipes.build(...).fit()` with its default callbacks:
the same weights as one device with the same global batch. A per-replica batch of 1, where
unsynchronised batch norm would normalise each image alone. One subprocess with one strategy
in it; a file of its own, so that the test runner can give it a worker of its own."""

import json
import os
import subprocess
import sys

from replica_checks import EACH_KIND, acceptable

TESTS = os.path.dirname(os.path.abspath(__file__))


def test_one_recipe_of_each_kind_trains_on_8_replicas_as_on_one_device():
    # A per-replica batch of 1: unsynchronised batch norm would normalise each image alone.
    proc = subprocess.run(
        [sys.executable, os.path.join(TESTS, "replica_checks.py"), "8"],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=TESTS,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [r["recipe"] for r in records] == list(EACH_KIND)
    for record in records:
        assert record["replicas"] == 8 and record["global_batch"] == 8
        assert acceptable(record) is None, acceptable(record)
