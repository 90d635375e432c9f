"""Two machines, as two worker processes on localhost under one TF_CONFIG: every model kind
trains through `recipes.build(...).fit()` under MultiWorkerMirroredStrategy into one shared
out_dir, which then holds one run, the chief's; both workers are killed and resumed; and
workers whose newest checkpoints are a step apart agree on one, or stop with one line.
Each launch is two real processes (TensorFlow's start-up each), so the cases share launches."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import free_ports as _free_ports
from replica_checks import EACH_KIND

TESTS = os.path.dirname(os.path.abspath(__file__))
RUN = ("run.json", "model.keras", "backup", "grids", "history", "tensorboard")


def launch(root, recipes, *options, timeout=600):
    """Both workers of a fresh cluster; returns [(returncode, records, stderr)] by task."""
    cluster = {"worker": [f"localhost:{p}" for p in _free_ports(2)]}
    procs = []
    for index in range(2):
        env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="3",
            CUDA_VISIBLE_DEVICES="",
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    os.path.join(TESTS, "worker_run.py"),
                    str(root),
                    recipes,
                    *options,
                ],
                env=env,
                text=True,
                cwd=TESTS,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        results.append((proc.returncode, records, err))
    return results


def _scratch_left():
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), "ganpaint-worker-scratch")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    before = _scratch_left()
    return root, launch(root, ",".join(EACH_KIND)), before


def test_every_model_kind_trains_on_two_workers_into_one_shared_folder(every_kind):
    root, results, scratch_before = every_kind
    for code, records, err in results:
        assert code == 0, err[-3000:]
        assert [r["recipe"] for r in records] == list(EACH_KIND)
    chief, other = (records for _, records, _ in results)
    for a, b in zip(chief, other):
        assert a["chief"] and not b["chief"]
        assert a["steps"] == b["steps"] == 6  # 2 epochs of 3 steps, in step
        # One training, not two: the same weights on both machines, batch norm's moving
        # statistics included (synchronised, so the saved model does not depend on who saved)
        assert a["checksum"] == pytest.approx(b["checksum"], rel=1e-6)
        assert a["moving"] == pytest.approx(b["moving"], rel=1e-6)
    for name in EACH_KIND:  # the shared folder holds the chief's run and nothing else
        entries = set(os.listdir(root / name))
        assert set(RUN) <= entries, entries
        assert not [e for e in entries if "worker" in e or "partial" in e], entries
    assert _scratch_left() == scratch_before  # each worker deleted its scratch folder


def test_both_workers_killed_resume_together_from_the_chiefs_checkpoint(tmp_path):
    killed = launch(tmp_path, "mnist_acgan", "--epochs", "4", "--kill-at", "5")
    assert all(code == -9 for code, _, _ in killed), [e[-2000:] for _, _, e in killed]
    backup = tmp_path / "mnist_acgan" / "backup"
    assert sorted(f for f in os.listdir(backup) if f.endswith(".json"))[-1] == "step_000000004.json"
    resumed = launch(tmp_path, "mnist_acgan", "--epochs", "4")
    for code, records, err in resumed:
        assert code == 0, err[-3000:]
        assert records[0]["steps"] == 12
    (_, (a,), _), (_, (b,), _) = resumed
    assert a["checksum"] == pytest.approx(b["checksum"], rel=1e-6)
    # Every step once in the history, across the kill.
    import csv

    with open(tmp_path / "mnist_acgan" / "history" / "batches.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == list(range(1, 13))


def test_workers_a_step_apart_agree_on_the_newest_checkpoint_both_have(every_kind, tmp_path):
    # Each worker its own copy of a run (worker 0: checkpoints 4 and 6; worker 1 lost step 6,
    # as a kill between the two workers' writes of step 6 would leave it).
    root, _, _ = every_kind
    for task in (0, 1):
        shutil.copytree(root / "mnist_acgan", tmp_path / f"w{task}" / "mnist_acgan")
    for name in ("step_000000006.json", "step_000000006.weights.h5"):
        os.remove(tmp_path / "w1" / "mnist_acgan" / "backup" / name)
    results = launch(tmp_path / "w{task}", "mnist_acgan", "--epochs", "3")
    for code, records, err in results:
        assert code == 0, err[-3000:]
        assert (records[0]["start"], records[0]["steps"]) == (4, 9)  # both from step 4


def test_workers_with_no_checkpoint_in_common_stop_with_one_line(every_kind, tmp_path):
    root, _, _ = every_kind
    for task in (0, 1):
        shutil.copytree(root / "mnist_acgan", tmp_path / f"w{task}" / "mnist_acgan")
    shutil.rmtree(tmp_path / "w1" / "mnist_acgan" / "backup")
    results = launch(tmp_path / "w{task}", "mnist_acgan", "--epochs", "3")
    for code, records, err in results:
        assert code == 3, err[-3000:]
        assert "no checkpoint in common" in records[0]["error"]
        assert len(records[0]["error"].splitlines()) == 1
