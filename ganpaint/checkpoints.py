"""Checkpoints: the whole training state written atomically and verified, and the one
helper every writer of the package uses to write aside and rename.

- `write_atomically(path, content)` (`ganpaint.fs`): the file is written under a temporary
  name beside `path`, flushed to disk and renamed over it: a kill at any moment leaves the old
  file or the new one, never half of one. Checkpoints, best weights, histories, feature
  caches, exports, submissions and conversions all go through it, on a local disk or a bucket.
- `CheckpointStore` writes `step_<N>.weights.h5` that way, then the marker `step_<N>.json`
  (the file's size and SHA-256, the layers' seed states): the marker is the commit. On
  restore a truncated or corrupt file is named in one line and the previous one is used.
  The weights are serialised in memory first (`weights_bytes`), so a full disk is a Python
  `OSError` naming the file, never a failure inside h5py's C layer.
- `StepCheckpoint` saves to a store every N steps (a Keras callback); `ganpaint.runs` builds
  the resumable fit on top of both.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from ganpaint import fs
from ganpaint.fs import StorageError, write_atomically  # noqa: F401 (public here)

CHECKPOINT_FOLDER = "backup"
_NAME = re.compile(r"^step_(\d{9})\.json$")


def say(message: str) -> None:
    """One line to the user (the notebooks and the CLI both show stdout)."""
    print(f"ganpaint: {message}", flush=True)


# -- the output folder --------------------------------------------------------------------------


def check_writable(folder: str, need_bytes: int = 0, what: str = "output folder") -> str:
    """Create `folder` if needed and check, before any training, that a file can be written in
    it and (on a local disk) that the disk has `need_bytes` free. Raises a one-line `OSError`
    naming the folder. A folder on a bucket (`gs://...`) is checked by writing a small object."""
    folder = os.fspath(folder)
    probe = fs.join(folder, f".ganpaint-write-test-{os.getpid()}-{time.time_ns()}")
    try:
        fs.makedirs(folder)
        fs.write_atomically(probe, b"")
        fs.remove(probe)
    except OSError as exc:
        fs.remove_quietly(probe)
        reason = str(exc) if isinstance(exc, StorageError) else (exc.strerror or exc)
        raise StorageError(
            f"Cannot write to the {what} {folder!r} ({reason}). Choose "
            "a writable folder (on Kaggle: /kaggle/working; on Colab: /content "
            "or a mounted Drive; or a gs:// bucket you can write to)."
        ) from None
    free = fs.free_bytes(folder) if need_bytes else None
    if free is not None and free < need_bytes:
        raise StorageError(
            f"Not enough disk space in {folder!r}: {_mb(free)} free, and two "
            f"checkpoints of this model need {_mb(need_bytes)}. Free some space "
            "or choose another folder."
        )
    return folder


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def optimizers_of(model) -> list:
    """The optimizers of a ganpaint model (G, D), or a plain Keras model's one, unwrapped
    from loss scaling: the ones whose learning rate a schedule or the guard sets."""
    found = [getattr(model, n, None) for n in ("g_optimizer", "d_optimizer")]
    found = [o for o in found if o is not None] or [getattr(model, "optimizer", None)]
    return [getattr(o, "inner_optimizer", o) for o in found if o is not None]


def training_state(model) -> list:
    """Every variable a checkpoint holds: the model's weights and its optimizers' state."""
    variables = {id(v): v for v in model.weights}
    for opt in optimizers_of(model):
        for v in opt.variables:
            variables.setdefault(id(v), v)
    return list(variables.values())


def state_bytes(model) -> int:
    """Bytes of a checkpoint of `model` (before the file format's overhead)."""
    return int(sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in training_state(model)))


def weights_bytes(model) -> bytes:
    """The bytes of `model.save_weights(path)` (a `.weights.h5` file), made in memory.

    h5py then writes to a Python buffer that cannot fail, and the bytes reach the disk or
    the bucket through `fs`, where a full disk is an `OSError` with a path: written straight
    to a full disk, h5py fails inside its C layer and can take the process down. On a Keras
    that cannot write weights to a buffer, a local temporary file is used instead.
    """
    try:
        from keras.src.saving import saving_lib

        buffer = io.BytesIO()
        store = saving_lib.H5IOStore(buffer, mode="w")
        saving_lib._save_state(
            model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set()
        )
        store.close()
        return buffer.getvalue()
    except (ImportError, AttributeError, TypeError):
        with tempfile.TemporaryDirectory(prefix="ganpaint-") as tmp:
            path = os.path.join(tmp, "state.weights.h5")
            model.save_weights(path, overwrite=True)
            with open(path, "rb") as f:
                return f.read()


def save_weights(model, path) -> str:
    """`model.save_weights(path)`, written atomically through `ganpaint.fs` (any storage; a
    full disk is one `StorageError` naming `path`, and the previous file stays)."""
    return fs.write_atomically(path, weights_bytes(model))


def load_weights(model, path) -> None:
    """`model.load_weights(path)` for a local or remote `.weights.h5` file."""
    with fs.local_copy(path) as local:
        model.load_weights(local)


# -- checkpoints ----------------------------------------------------------------------------------


class CheckpointStore:
    """Atomic, verified checkpoints of a model's whole training state in one folder.

    `save(model, step)` writes `step_<step>.weights.h5` (what Keras' `save_weights` writes:
    every weight, the optimizers, seed generators, image pools, EMA copies and ADA's p) to a
    temporary name, flushes it to disk and renames it; then it writes the marker
    `step_<step>.json` with the file's size and SHA-256 the same way. Only then are checkpoints
    beyond the newest `keep` removed, so a kill at any moment leaves at least one complete
    checkpoint. The folder may be on a bucket (`gs://...`; `ganpaint.fs`).

    `restore(model)` loads the newest checkpoint whose file matches its marker, saying in one
    line which ones it skipped and why, and returns its marker (None if there is none).
    `protect_before` (set by `TrainingGuard`) also keeps the newest checkpoint older than
    that step.

    A full or failing disk during `save` is one `StorageError` naming the file; the previous
    checkpoints stay as they were.
    """

    def __init__(self, folder: str, keep: int = 2):
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"`keep` must be an int >= 1. Received: keep={keep!r}")
        self.folder, self.keep = os.fspath(folder), keep
        # While a `TrainingGuard` watches a symptom that began at this step, the newest
        # checkpoint from before it is kept too, so there is a good state to roll back to.
        self.protect_before: int | None = None

    def _paths(self, step):
        stem = fs.join(self.folder, f"step_{step:09d}")
        return stem + ".weights.h5", stem + ".json"

    def markers(self) -> list[dict]:
        """The markers found, newest first (unreadable ones as {"step", "error"})."""
        found = []
        for path in fs.glob(fs.join(fs.glob_escape(self.folder), "step_*.json")):
            match = _NAME.match(os.path.basename(path))
            if not match:
                continue
            try:
                marker = fs.read_json(path)
                marker["step"] = int(marker["step"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                marker = {"step": int(match.group(1)), "error": f"unreadable marker ({exc})"}
            found.append(marker)
        return sorted(found, key=lambda m: m["step"], reverse=True)

    def save(self, model, step: int, **info) -> str:
        weights, marker_path = self._paths(step)
        data = weights_bytes(model)  # read before anything is written: a failure changes nothing
        fs.makedirs(self.folder)
        fs.write_atomically(weights, data)
        marker = {
            "step": int(step),
            "file": os.path.basename(weights),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "seed_states": [np.asarray(v).tolist() for v in _seed_states(model)],
            "time": time.time(),
            **info,
        }
        _write_json_atomically(marker_path, marker)
        fs.fsync_folder(self.folder)
        self._prune()
        return weights

    def _prune(self):
        markers = self.markers()
        kept = markers[: self.keep]
        if self.protect_before is not None:
            kept += [m for m in markers if m["step"] < self.protect_before][:1]
        for marker in (m for m in markers if m not in kept):
            for path in reversed(self._paths(marker["step"])):  # the marker goes first
                fs.remove_quietly(path)
        folder = fs.glob_escape(self.folder)
        for pattern in ("partial_*", "*.partial*"):
            for path in fs.glob(fs.join(folder, pattern)):
                fs.remove_quietly(path)  # left by a kill during a write

    def verify(self, marker: dict) -> str | None:
        """Why the checkpoint of `marker` cannot be used, or None if it is complete."""
        if "error" in marker:
            return marker["error"]
        path = self._paths(marker["step"])[0]
        if not fs.exists(path):
            return "its weights file is missing"
        size = fs.size(path)
        if size != marker.get("bytes"):
            return f"truncated: {size:,} of {marker.get('bytes', 0):,} bytes"
        if _sha256(path) != marker.get("sha256"):
            return "corrupt: its SHA-256 does not match the one recorded when it was written"
        return None

    def usable_steps(self) -> list[int]:
        """The steps of the complete checkpoints, newest first."""
        return [m["step"] for m in self.markers() if self.verify(m) is None]

    def restore(
        self, model, before_step: int | None = None, step: int | None = None
    ) -> dict | None:
        """Load the newest complete checkpoint (older than `before_step`, or exactly `step`,
        if given) into `model`; returns its marker, or None when there is none."""
        for marker in self.markers():
            if before_step is not None and marker["step"] >= before_step:
                continue
            if step is not None and marker["step"] != step:
                continue
            path = self._paths(marker["step"])[0]
            problem = self.verify(marker)
            if problem is None:
                try:
                    load_weights(model, path)
                    _restore_seed_states(model, marker.get("seed_states"))
                    return marker
                except Exception as exc:
                    problem = f"it does not load into this model ({type(exc).__name__}: {exc})"
            say(f"checkpoint {path} is unusable ({problem}); trying the previous one.")
        return None

    def latest_step(self) -> int | None:
        good = self.usable_steps()
        return good[0] if good else None


def _seed_states(model) -> list:
    """The states of the layers' own seed generators (Dropout's, for one), which
    `save_weights` leaves out: without them a resumed run draws other dropout masks."""
    saved = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in saved and "seed_generator" in v.path]


def _restore_seed_states(model, states):
    variables = _seed_states(model)
    if states is None:
        return
    if len(states) != len(variables):
        raise ValueError(
            f"the checkpoint has {len(states)} seed states and the model {len(variables)}"
        )
    for variable, value in zip(variables, states):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json_atomically(path, value):
    fs.write_json(path, value)


def all_finite(model) -> bool:
    """Whether every float weight of the model is finite (one reduction per weight)."""
    checks = [
        tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(v)))
        for v in model.weights
        if v.dtype.startswith("float")
    ]
    return bool(tf.reduce_all(tf.stack(checks))) if checks else True


class StepCheckpoint(keras.callbacks.Callback):
    """Saves the whole training state to a `CheckpointStore` every `every` steps, at the start
    (step 0, so a rollback always has a state) and when training ends or stops. A state with a
    NaN or Inf weight is never saved.

    `resumable_fit` restores what this saves; on its own with `model.fit` it keeps the
    checkpoints and `resumable_fit(..., resume=True)` picks them up.

    Args:
        store: a `CheckpointStore`, or a folder for one.
        every: int. Steps between checkpoints.
        initial_step: int. The step training starts at (set by `resumable_fit`).
        before_save: callables run before each save (the loss history flushes its rows, so
            a checkpoint never runs ahead of the history on disk).
    """

    def __init__(
        self,
        store,
        every: int = 500,
        initial_step: int = 0,
        before_save=(),
        restored: bool | None = None,
    ):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"`checkpoint_every` must be a positive int. Received: {every!r}")
        self.store = store if isinstance(store, CheckpointStore) else CheckpointStore(store)
        self.every, self.step, self.before_save = every, initial_step, list(before_save)
        self.saved_step = initial_step  # the state training starts from is on disk (or step 0)
        self._epoch_base = initial_step
        # Whether training starts from a checkpoint of the store (`resumable_fit` knows; on
        # its own, any marker there counts). Without one, step 0 is saved first.
        self._restored = restored
        self.info: dict = {}

    def on_train_begin(self, logs=None):
        if self._restored is None:  # the first fit only
            check_writable(self.store.folder, 2 * state_bytes(self.model), "checkpoint folder")
            self._restored = bool(self.store.markers())
        if not self._restored:
            self._restored = self.save()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_base = self.step

    def on_train_batch_end(self, batch, logs=None):
        self.step = self._epoch_base + batch + 1
        # At every multiple of `every` (also when steps_per_execution steps over one).
        if self.step // self.every > self.saved_step // self.every:
            self.save()

    def on_train_end(self, logs=None):
        if self.saved_step != self.step:
            self.save()

    def save(self) -> bool:
        if not all_finite(self.model):
            say(
                f"step {self.step}: the weights hold NaN or Inf; not saving them (the previous "
                "checkpoint stays the newest)."
            )
            return False
        for fn in self.before_save:
            fn(self.step)
        self.store.save(self.model, self.step, **self.info)
        self.saved_step = self.step
        return True
