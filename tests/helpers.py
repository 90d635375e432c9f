"""Helpers several test files share (not tests): file snapshots, one-line errors, a Keras
round trip, a read-only folder, free ports, a saved model of every kind."""

import hashlib
import os
import socket
import stat

import keras
import numpy as np

from ganpaint import testing


def snapshot(folder) -> dict:
    """Every file under `folder` by relative path, with its SHA-256: what "intact" means."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return found


def one_line_error(capsys, *needles):
    """The command's error: one line, no traceback, holding every needle."""
    err = capsys.readouterr().err.strip()
    first = err.splitlines()[0] if err else ""
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in first, first
    return first


def round_trip(model, tmp_path, x):
    """Save to .keras and load back: the same outputs."""
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    return loaded


def cannot_write(folder):
    try:
        with open(os.path.join(folder, ".ganpaint-probe"), "w"):
            pass
    except OSError:
        return True
    os.remove(os.path.join(folder, ".ganpaint-probe"))
    return False


def read_only_folder(tmp_path):
    """A folder this process cannot write: chmod 555; as root, who ignores modes, sysfs; and
    where neither holds, a folder under a plain file (no folder can be made there)."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        (folder / "probe").write_text("x")
    except OSError:
        return folder
    (folder / "probe").unlink()
    if os.path.isdir("/sys/kernel") and cannot_write("/sys/kernel"):
        return "/sys/kernel"
    (tmp_path / "a_file").write_text("x")
    return tmp_path / "a_file" / "read_only"


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def model_files(root) -> dict:
    """A .keras file of every model kind the commands name, and inputs for the translators."""
    paths = {}
    for kind in testing.MODELS:
        model = testing.model(kind)
        model.compile()
        paths[kind] = str(root / f"{kind}.keras")
        model.save(paths[kind])
    rng = np.random.default_rng(0)
    np.savez(root / "singles.npz", images=rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8))
    np.savez(root / "pairs.npz", images=rng.integers(0, 256, (3, 16, 32, 3), dtype=np.uint8))
    bad = root / "bad.keras"
    bad.write_bytes(b"\x00not a keras file" * 64)
    truncated = root / "truncated.keras"
    with open(paths["gan"], "rb") as f:
        truncated.write_bytes(f.read()[:4000])
    return {
        "models": paths,
        "singles": str(root / "singles.npz"),
        "pairs": str(root / "pairs.npz"),
        "bad": str(bad),
        "truncated": str(truncated),
    }
