"""The wheel carries the bundled samples: built, installed with --no-deps into a folder of its
own, and imported from another directory, it finds every sample (what Kaggle's offline
notebooks do with an attached wheel)."""

import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: the build must not need the network (setuptools and wheel are in
    # the test environment already).
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            ROOT,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    import ganpaint

    found = glob.glob(str(out / f"ganpaint-{ganpaint.__version__}-py3-none-any.whl"))
    assert len(found) == 1, os.listdir(out)
    return found[0]


def test_the_installed_wheel_resolves_every_bundled_sample(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            wheel,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import os, ganpaint\n"
        "from ganpaint.data import samples\n"
        "print(ganpaint.__file__)\n"
        "for name in sorted(samples.SAMPLES):\n"
        "    path = samples.sample_path(name)\n"
        "    assert os.path.exists(path), path\n"
        "    assert os.path.isfile(path) or len(os.listdir(path)) >= 2, path\n"
        "    print(name, path)\n"
        "import numpy as np\n"
        "with np.load(samples.sample_path('mnist')) as f:\n"
        "    print('digits', f['images'].shape)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GANPAINT_DATA_DIR")}
    env.update(PYTHONPATH=str(target), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(elsewhere),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(str(target))  # the installed copy, not the repository's
    assert all(str(target) in line for line in lines[1:5])
    assert lines[-1] == "digits (5000, 28, 28)"
