"""Runs that survive: checkpoints every N steps, written atomically and verified, an exact
resume (mid-epoch included), session deadlines, and checks of the output folder before the
first step.

>>> history = resumable_fit(model, dataset, out_dir="runs/monet", epochs=30,
...                         checkpoint_every=500, time_limit="8h")

Run the same call again after a kill, a session end or a `TimeLimit` stop and it continues
from the newest complete checkpoint; with op determinism on it ends where an uninterrupted run
ends, bit for bit. How:

- The data are one stream: the dataset, repeated. Its order is a function of the seed and
  the position only (the pipelines shuffle and augment from seeds), so a resumed run skips
  the batches already trained on (`Dataset.skip`, which still reads them: seconds per
  thousand small batches) and sees exactly the batches an uninterrupted run would see.
- `CheckpointStore` writes `step_<N>.weights.h5` under a temporary name, renames it, then
  writes `step_<N>.json` (size and SHA-256 of the weights): the marker is the commit. It keeps
  the previous checkpoint until the new one is complete. On resume a truncated or corrupt
  file is detected (one line says which) and the previous checkpoint is used.
- A run that stops mid-epoch resumes mid-epoch: the rest of that epoch is one `fit`, then the
  remaining epochs another, with callbacks told the step (`resume_at`).
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from ganpaint.errors import UserError

CHECKPOINT_FOLDER = "backup"
_NAME = re.compile(r"^step_(\d{9})\.json$")
RUN_RECORD = "run.json"  # what run a folder holds: its model, network shapes and recipe
# What a run writes into its folder: `resume=False` (`--fresh`) moves these aside together.
RUN_ENTRIES = (RUN_RECORD, "model.keras", CHECKPOINT_FOLDER, "best", "history", "grids",
               "gradients", "guard.jsonl", "tensorboard", "audit")


def say(message: str) -> None:
    """One line to the user (the notebooks and the CLI both show stdout)."""
    print(f"ganpaint: {message}", flush=True)


# -- the output folder --------------------------------------------------------------------------

def check_writable(folder: str, need_bytes: int = 0, what: str = "output folder") -> str:
    """Create `folder` if needed and check, before any training, that a file can be written in
    it and that the disk has `need_bytes` free. Raises a one-line `OSError` naming the folder."""
    folder = os.fspath(folder)
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ganpaint-write-test-"):
            pass
    except OSError as exc:
        raise OSError(f"Cannot write to the {what} {folder!r} ({exc.strerror or exc}). Choose "
                      "a writable folder (on Kaggle: /kaggle/working; on Colab: /content or "
                      "a mounted Drive).") from None
    if need_bytes:
        free = shutil.disk_usage(folder).free
        if free < need_bytes:
            raise OSError(f"Not enough disk space in {folder!r}: {_mb(free)} free, and two "
                          f"checkpoints of this model need {_mb(need_bytes)}. Free some space "
                          "or choose another folder.")
    return folder


def _mb(n: int) -> str:
    return f"{n / 2 ** 20:,.1f} MB"


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


# -- who owns the folder ------------------------------------------------------------------------

def run_identity(model, **info) -> dict:
    """What makes two runs the same run: the model's class, the shapes and dtypes of its
    weights (another recipe, image size or width changes them) and `info` (e.g. the recipe's
    name). Layer names are left out: they depend on what else the process built."""
    shapes = json.dumps([[list(v.shape), str(v.dtype)] for v in model.weights])
    return {"model": type(model).__name__,
            "weights": hashlib.sha256(shapes.encode()).hexdigest()[:16],
            "weight_count": len(model.weights), **info}


def _describe(identity: dict) -> str:
    recipe = f"recipe {identity['recipe']}, " if identity.get("recipe") else ""
    return f"{recipe}model {identity.get('model', '?')}"


def _difference(held: dict, identity: dict) -> str:
    """How the run in a folder differs from this one, in words."""
    if held.get("recipe") != identity.get("recipe") or held.get("model") != identity.get("model"):
        return f"it holds another run ({_describe(held)}), not this one ({_describe(identity)})"
    return (f"it holds another run of {_describe(held)} whose networks have other shapes "
            "(another image size, width or option)")


def move_run_aside(out_dir: str) -> str | None:
    """Move every entry a run wrote in `out_dir` (`RUN_ENTRIES`) into
    `out_dir/replaced-<time>/`; returns that folder (None when there was nothing). Nothing is
    deleted; files that are not a run's stay where they are."""
    present = [e for e in RUN_ENTRIES if os.path.lexists(os.path.join(out_dir, e))]
    if not present:
        return None
    aside = os.path.join(out_dir, f"replaced-{time.strftime('%Y%m%d-%H%M%S')}")
    base, n = aside, 1
    while os.path.lexists(aside):
        n += 1
        aside = f"{base}-{n}"
    os.makedirs(aside)
    for entry in present:
        os.replace(os.path.join(out_dir, entry), os.path.join(aside, entry))
    say(f"starting again; the earlier run ({', '.join(present)}) was moved to {aside}")
    return aside


def claim_run_folder(out_dir: str, identity: dict, resume: bool | str = "auto") -> bool:
    """Make `out_dir` this run's folder, or refuse: a folder that holds another run (another
    recipe, model, image size or width) is never trained into, since that would replace its
    model, checkpoints, best weights and histories. With `resume=False` the earlier run is
    moved aside (`move_run_aside`) instead. Returns whether the folder already held this run.

    A folder from before run records (it holds a run's files but no `run.json`) is adopted
    when its checkpoint loads into this model (`resumable_fit` checks), refused otherwise.
    """
    out_dir = os.fspath(out_dir)
    record_path = os.path.join(out_dir, RUN_RECORD)
    if resume is False:
        move_run_aside(out_dir)
    held = None
    if os.path.exists(record_path):
        try:
            with open(record_path) as f:
                held = json.load(f)
        except (OSError, ValueError) as exc:
            raise UserError(
                f"{record_path} is unreadable ({exc}); the folder's run cannot be identified. "
                "Pass resume=False to move that run aside (nothing is deleted), or choose "
                "another out_dir.",
                cli=f"{record_path} is unreadable ({exc}); the folder's run cannot be "
                "identified. Pass --fresh to move that run aside (nothing is deleted), or "
                "choose another --out.") from None
        keys = ("model", "weights", "recipe")
        if any(held.get(k) != identity.get(k) for k in keys):
            what = (f"{out_dir}: {_difference(held, identity)}; training here would replace "
                    "its model, checkpoints, best weights and histories. ")
            raise UserError(what + "Pass resume=False to move that run aside (nothing is "
                            "deleted), or choose another out_dir.",
                            cli=what + "Pass --fresh to move that run aside (nothing is "
                            "deleted), or choose another --out.")
    if held is None:
        _write_json_atomically(record_path, {**identity, "created": time.strftime(
            "%Y-%m-%d %H:%M:%S")})
    return held is not None


def _refuse_unknown_run(out_dir: str) -> None:
    present = [e for e in RUN_ENTRIES if e != RUN_RECORD
               and os.path.lexists(os.path.join(out_dir, e))]
    if not present:
        return
    os.remove(os.path.join(out_dir, RUN_RECORD))  # written by this call: not a run of ours
    what = (f"{out_dir} holds files of an earlier run ({', '.join(present)}) whose checkpoints "
            "do not load into this model: another recipe, model or size. ")
    raise UserError(what + "Pass resume=False to move that run aside (nothing is deleted), or "
                    "choose another out_dir.",
                    cli=what + "Pass --fresh to move that run aside (nothing is deleted), or "
                    "choose another --out.")


# -- checkpoints ----------------------------------------------------------------------------------

class CheckpointStore:
    """Atomic, verified checkpoints of a model's whole training state in one folder.

    `save(model, step)` writes `step_<step>.weights.h5` (Keras' `save_weights`: every weight,
    the optimizers, seed generators, image pools, EMA copies and ADA's p) to a temporary name,
    flushes it to disk and renames it; then it writes the marker `step_<step>.json` with the
    file's size and SHA-256 the same way. Only then are checkpoints beyond the newest `keep`
    removed, so a kill at any moment leaves at least one complete checkpoint.

    `restore(model)` loads the newest checkpoint whose file matches its marker, saying in one
    line which ones it skipped and why, and returns its marker (None if there is none).
    `protect_before` (set by `TrainingGuard`) also keeps the newest checkpoint older than
    that step.
    """

    def __init__(self, folder: str, keep: int = 2):
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"`keep` must be an int >= 1. Received: keep={keep!r}")
        self.folder, self.keep = os.fspath(folder), keep
        # While a `TrainingGuard` watches a symptom that began at this step, the newest
        # checkpoint from before it is kept too, so there is a good state to roll back to.
        self.protect_before: int | None = None

    def _paths(self, step):
        stem = os.path.join(self.folder, f"step_{step:09d}")
        return stem + ".weights.h5", stem + ".json"

    def markers(self) -> list[dict]:
        """The markers found, newest first (unreadable ones as {"step", "error"})."""
        found = []
        for path in glob.glob(os.path.join(glob.escape(self.folder), "step_*.json")):
            match = _NAME.match(os.path.basename(path))
            if not match:
                continue
            try:
                with open(path) as f:
                    marker = json.load(f)
                marker["step"] = int(marker["step"])
            except (OSError, ValueError, KeyError) as exc:
                marker = {"step": int(match.group(1)), "error": f"unreadable marker ({exc})"}
            found.append(marker)
        return sorted(found, key=lambda m: m["step"], reverse=True)

    def save(self, model, step: int, **info) -> str:
        os.makedirs(self.folder, exist_ok=True)
        weights, marker_path = self._paths(step)
        partial = os.path.join(self.folder, f"partial_{step:09d}.weights.h5")
        model.save_weights(partial, overwrite=True)
        _fsync(partial)
        os.replace(partial, weights)
        marker = {"step": int(step), "file": os.path.basename(weights),
                  "bytes": os.path.getsize(weights), "sha256": _sha256(weights),
                  "seed_states": [np.asarray(v).tolist() for v in _seed_states(model)],
                  "time": time.time(), **info}
        _write_json_atomically(marker_path, marker)
        _fsync_folder(self.folder)
        self._prune()
        return weights

    def _prune(self):
        markers = self.markers()
        kept = markers[:self.keep]
        if self.protect_before is not None:
            kept += [m for m in markers if m["step"] < self.protect_before][:1]
        for marker in (m for m in markers if m not in kept):
            for path in reversed(self._paths(marker["step"])):  # the marker goes first
                if os.path.exists(path):
                    os.remove(path)
        for path in glob.glob(os.path.join(glob.escape(self.folder), "partial_*")):
            os.remove(path)  # left by a kill during a write

    def verify(self, marker: dict) -> str | None:
        """Why the checkpoint of `marker` cannot be used, or None if it is complete."""
        if "error" in marker:
            return marker["error"]
        path = self._paths(marker["step"])[0]
        if not os.path.exists(path):
            return "its weights file is missing"
        size = os.path.getsize(path)
        if size != marker.get("bytes"):
            return f"truncated: {size:,} of {marker.get('bytes', 0):,} bytes"
        if _sha256(path) != marker.get("sha256"):
            return "corrupt: its SHA-256 does not match the one recorded when it was written"
        return None

    def restore(self, model, before_step: int | None = None) -> dict | None:
        """Load the newest complete checkpoint (older than `before_step` if given) into
        `model`; returns its marker, or None when there is none."""
        for marker in self.markers():
            if before_step is not None and marker["step"] >= before_step:
                continue
            name = os.path.basename(self._paths(marker["step"])[0])
            problem = self.verify(marker)
            if problem is None:
                try:
                    model.load_weights(self._paths(marker["step"])[0])
                    _restore_seed_states(model, marker.get("seed_states"))
                    return marker
                except Exception as exc:  # noqa: BLE001 - any failure means: use an older one
                    problem = f"it does not load into this model ({type(exc).__name__}: {exc})"
            say(f"checkpoint {os.path.join(self.folder, name)} is unusable ({problem}); "
                "trying the previous one.")
        return None

    def latest_step(self) -> int | None:
        good = [m for m in self.markers() if self.verify(m) is None]
        return good[0]["step"] if good else None


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
        raise ValueError(f"the checkpoint has {len(states)} seed states and the model "
                         f"{len(variables)}")
    for variable, value in zip(variables, states):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path):
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_json_atomically(path, value):
    partial = path + ".partial"
    with open(partial, "w") as f:
        json.dump(value, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)


def all_finite(model) -> bool:
    """Whether every float weight of the model is finite (one reduction per weight)."""
    checks = [tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(v)))
              for v in model.weights if v.dtype.startswith("float")]
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

    def __init__(self, store, every: int = 500, initial_step: int = 0, before_save=(),
                 restored: bool | None = None):
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
            say(f"step {self.step}: the weights hold NaN or Inf; not saving them (the previous "
                "checkpoint stays the newest).")
            return False
        for fn in self.before_save:
            fn(self.step)
        self.store.save(self.model, self.step, **self.info)
        self.saved_step = self.step
        return True


# -- the resumable fit -------------------------------------------------------------------------

def steps_in(dataset) -> int | None:
    """Batches in one pass of a finite dataset, if tf.data knows; None if infinite/unknown."""
    n = int(tf.data.experimental.cardinality(dataset)) if isinstance(dataset, tf.data.Dataset) \
        else -2
    return n if n > 0 else None


def resumable_fit(model, dataset, *, out_dir: str, epochs: int, steps_per_epoch: int | None = None,
                  callbacks=(), checkpoint_every: int = 500, time_limit=None,
                  resume: bool | str = "auto", keep: int = 2, verbose="auto",
                  run_info: dict | None = None, **fit_kwargs):
    """`model.fit` that can be killed at any moment and run again to continue.

    Args:
        model: a compiled ganpaint model (or any Keras model with built optimizers).
        dataset: a `tf.data.Dataset` whose order is a function of its seed (ganpaint's
            pipelines are); finite (one pass an epoch) or infinite (with `steps_per_epoch`).
            Better, a function that builds it: each `fit` then gets a new pipeline, as an
            uninterrupted run does. (A dataset object counts its iterations in its reshuffle
            seeds, so the second `fit` of a run resumed mid-epoch would see another order.)
        out_dir: the run folder; checkpoints go to `out_dir/backup`.
        epochs: int. Epochs of the whole run (not of this call).
        steps_per_epoch: int. Defaults to one pass of a finite dataset.
        callbacks: Keras callbacks. Those with `resume_at(step, steps_per_epoch)` are told the
            step a resumed run starts at; those with `flush(step)` write their records before
            each checkpoint.
        checkpoint_every: int. Steps between checkpoints; a kill loses at most this many.
        time_limit: seconds, a duration string ("8h", "90m", "1h30m"), or a
            `ganpaint.callbacks.TimeLimit`: stop cleanly, state saved, before it.
        resume: "auto" (continue from a checkpoint if there is one), True (require one) or
            False (start again; the earlier run's files are moved aside to
            `out_dir/replaced-<time>/`, nothing deleted).
        run_info: dict. What else identifies the run (e.g. {"recipe": name}), recorded in
            `out_dir/run.json` with the model's class and weight shapes. A folder that holds
            another run is refused (`claim_run_folder`), so nothing of it is replaced.
        keep: int. Checkpoints kept (at least 2 keeps the previous one while a new one is
            written).
        verbose, fit_kwargs: passed to `model.fit`.

    Returns a `keras.callbacks.History` of the epochs this call ran.
    """
    from ganpaint.guard import TimeLimit, TrainingGuard

    fit_kwargs.setdefault("shuffle", False)  # a tf.data pipeline shuffles itself
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received: epochs={epochs!r}")
    make_dataset = dataset if callable(dataset) else (lambda: dataset)
    dataset = make_dataset()
    steps_per_epoch = steps_per_epoch or steps_in(dataset)
    if not steps_per_epoch:
        raise ValueError("`steps_per_epoch` is needed: the dataset is infinite or of unknown "
                         "length.")
    folder = os.path.join(os.fspath(out_dir), CHECKPOINT_FOLDER)
    check_writable(out_dir, 2 * state_bytes(model))
    known = claim_run_folder(out_dir, run_identity(model, **dict(run_info or {})), resume)
    store = CheckpointStore(folder, keep=keep)

    marker = store.restore(model) if resume is not False else None
    if marker is None and not known and resume is not False:
        _refuse_unknown_run(os.fspath(out_dir))
    if resume is True and marker is None:
        raise UserError(f"resume=True but there is no usable checkpoint in {folder}",
                        cli=f"--resume but there is no usable checkpoint in {folder}")
    step = marker["step"] if marker else 0
    total = epochs * steps_per_epoch
    if marker:
        say(f"resuming from step {step:,} of {total:,} ({os.path.join(folder, marker['file'])})")

    callbacks = list(callbacks)
    if time_limit is not None and not isinstance(time_limit, TimeLimit):
        time_limit = TimeLimit(seconds=time_limit)
    if time_limit is not None:
        callbacks.append(time_limit)
    for cb in callbacks:
        if hasattr(cb, "resume_at"):
            cb.resume_at(step, steps_per_epoch)
        if isinstance(cb, TrainingGuard) and cb.store is None:
            cb.store = store
    saver = StepCheckpoint(store, checkpoint_every, step,
                           [cb.flush for cb in callbacks if hasattr(cb, "flush")],
                           restored=marker is not None)
    saver.info = {"steps_per_epoch": steps_per_epoch, "epochs": epochs}
    # Stop callbacks and the guard act first; the saver last sees the state they leave.
    callbacks.append(saver)

    if step >= total:
        say(f"the run in {out_dir} is complete ({total:,} steps); nothing to do (resume=False "
            "starts again).")
        return keras.callbacks.History()

    def stream(position):
        data = dataset if position == step else make_dataset()
        return (data if steps_in(data) is None else data.repeat()).skip(position)

    epoch, done = divmod(step, steps_per_epoch)
    parts = [(epoch, steps_per_epoch - done)] if done else []
    if epoch + bool(done) < epochs:
        parts.append((epoch + bool(done), steps_per_epoch))
    history = keras.callbacks.History()
    history.history = {}
    position = step
    for first_epoch, steps in parts:
        last = first_epoch + 1 if steps != steps_per_epoch else epochs
        run = model.fit(stream(position), initial_epoch=first_epoch, epochs=last,
                        steps_per_epoch=steps, callbacks=callbacks, verbose=verbose,
                        **fit_kwargs)
        for key, values in run.history.items():
            history.history.setdefault(key, []).extend(values)
        position = saver.step
        if any(getattr(cb, "stopped", False) for cb in callbacks):
            break
    history.set_model(model)
    return history
