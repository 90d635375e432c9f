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
- The checkpoints are `ganpaint.checkpoints`' (`CheckpointStore`: atomic, verified, the
  previous one kept until the new one is complete; a truncated or corrupt file is named in
  one line and the previous checkpoint used).
- A run that stops mid-epoch resumes mid-epoch: the rest of that epoch is one `fit`, then the
  remaining epochs another, with callbacks told the step (`resume_at`; the protocol is in
  `ganpaint.callbacks`).
- A run owns its folder: `run.json` records the model, its weight shapes and the recipe, and
  another run is refused there (`claim_run_folder`); `resume=False` moves the earlier run
  aside to `out_dir/replaced-<time>/` and deletes nothing. While it trains, `run.lock`
  keeps a second training out of the folder (`ganpaint.runlock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import time

import keras
import tensorflow as tf

from ganpaint import distribute, fs
from ganpaint.checkpoints import (  # noqa: F401 (public here too, as before the split)
    CHECKPOINT_FOLDER,
    CheckpointStore,
    StepCheckpoint,
    _write_json_atomically,
    all_finite,
    check_writable,
    optimizers_of,
    say,
    state_bytes,
    training_state,
    write_atomically,
)
from ganpaint.errors import UserError, arg
from ganpaint.guard import TimeLimit, TrainingGuard
from ganpaint.runlock import LockRefresh, RunLock

# The fix for a folder that holds another run, on either interface.
MOVE_ASIDE = (
    f"Pass {arg('resume=False')} to move that run aside (nothing is deleted), or choose "
    f"another {arg('out_dir')}."
)
RUN_RECORD = "run.json"  # what run a folder holds: its model, network shapes, recipe, seed
# What a run writes into its folder: `resume=False` (`--fresh`) moves these aside together.
RUN_ENTRIES = (
    RUN_RECORD,
    "model.keras",
    CHECKPOINT_FOLDER,
    "best",
    "history",
    "grids",
    "gradients",
    "guard.jsonl",
    "tensorboard",
    "audit",
)
_SHAPE_KEYS = ("model", "weights", "recipe")  # always compared; the rest where both have it


# -- who owns the folder ------------------------------------------------------------------------


def run_identity(model, **info) -> dict:
    """What makes two runs the same run: the model's class, the shapes and dtypes of its
    weights (another recipe, image size or width changes them) and `info` (e.g. the recipe's
    name). Layer names are left out: they depend on what else the process built."""
    shapes = json.dumps([[list(v.shape), str(v.dtype)] for v in model.weights])
    return {
        "model": type(model).__name__,
        "weights": hashlib.sha256(shapes.encode()).hexdigest()[:16],
        "weight_count": len(model.weights),
        **info,
    }


def _describe(identity: dict) -> str:
    recipe = f"recipe {identity['recipe']}, " if identity.get("recipe") else ""
    return f"{recipe}model {identity.get('model', '?')}"


def settings_differing(held: dict, identity: dict) -> list[str]:
    """What else identifies a run (`run_info`: a seed, a demo's epochs) and differs between
    the two records; a key only one of them has (a record from before it was kept) does not,
    nor a setting of `identity["recorded_defaults"]` that the held record lacks (a run from
    before that builder default was recorded: its weights' shapes decide)."""
    derived = _SHAPE_KEYS + ("weight_count", "created", "token", "recipe_settings")
    derived += ("recorded_defaults",)
    return [
        k
        for k in identity
        if k not in derived and k in held and _setting_lines(held[k], identity[k], identity)
    ]


def _is_sections(value) -> bool:
    return isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())


def _setting_lines(held, current, identity) -> list[str]:
    """How one entry of two run records differs: `SECTION.KEY held -> current` lines for
    sections of settings (the resolved recipe), else one line, or none when they agree."""
    if not (_is_sections(held) and _is_sections(current)):
        return [] if held == current else [f"{held!r} -> {current!r}"]
    from ganpaint.settings import differences

    optional = []
    for key in identity.get("recorded_defaults", ()):
        section, _, name = key.partition(".")
        if name not in held.get(section, {}):
            optional.append(key)
    return differences(held, current, optional=optional)


def _difference(held: dict, identity: dict) -> str:
    """How the run in a folder differs from this one, in words."""
    if held.get("recipe") != identity.get("recipe") or held.get("model") != identity.get("model"):
        return f"it holds another run ({_describe(held)}), not this one ({_describe(identity)})"
    if held.get("weights") != identity.get("weights"):
        return (
            f"it holds another run of {_describe(held)} whose networks have other shapes "
            "(another image size, width or option)"
        )
    keys = settings_differing(held, identity)
    nested = [k for k in keys if isinstance(identity[k], dict)]
    if nested:  # sections of settings (the resolved recipe): name the entries that differ
        changed = [line for k in nested for line in _setting_lines(held[k], identity[k], identity)]
        more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        return (
            f"it holds another run of {_describe(held)} with other settings "
            f"({'; '.join(changed[:4])}{more})"
        )
    return (
        f"it holds another run of {_describe(held)} "
        f"({', '.join(f'{k} {held[k]}' for k in keys)}), not this one "
        f"({', '.join(f'{k} {identity[k]}' for k in keys)})"
    )


def move_run_aside(out_dir: str, also: tuple[str, ...] = ()) -> str | None:
    """Move every entry a run wrote in `out_dir` (`RUN_ENTRIES`, and the entries `also` names,
    such as the demo's scores) into `out_dir/replaced-<time>/`; returns that folder (None when
    there was nothing). Nothing is deleted; files that are not a run's stay where they are.
    On a bucket a move is a copy and a delete of each object (`ganpaint.fs.rename`)."""
    present = [e for e in RUN_ENTRIES + tuple(also) if fs.lexists(fs.join(out_dir, e))]
    if not present:
        return None
    aside = fs.join(out_dir, f"replaced-{time.strftime('%Y%m%d-%H%M%S')}")
    base, n = aside, 1
    while fs.lexists(aside):
        n += 1
        aside = f"{base}-{n}"
    fs.makedirs(aside)
    for entry in present:
        fs.rename(fs.join(out_dir, entry), fs.join(aside, entry))
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
    record_path = fs.join(out_dir, RUN_RECORD)
    if resume is False:
        move_run_aside(out_dir)
    held = read_run_record(out_dir)
    if held is not None and (
        any(held.get(k) != identity.get(k) for k in _SHAPE_KEYS)
        or settings_differing(held, identity)
    ):
        what = (
            f"{out_dir}: {_difference(held, identity)}; training here would replace "
            "its model, checkpoints, best weights and histories. "
        )
        raise UserError(what + MOVE_ASIDE)
    if held is None:
        _write_json_atomically(
            record_path,
            {**identity, "created": time.strftime("%Y-%m-%d %H:%M:%S"), "token": _new_token()},
        )
    return held is not None


def read_run_record(out_dir: str) -> dict | None:
    """The run record of `out_dir` (`run.json`), None when there is none; an unreadable one is
    a one-line error with the fix."""
    record_path = fs.join(out_dir, RUN_RECORD)
    if not fs.exists(record_path):
        return None
    try:
        return fs.read_json(record_path)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{record_path} is unreadable ({exc}); the folder's run cannot be identified. "
            + MOVE_ASIDE
        ) from None


def _new_token() -> int:
    return secrets.randbits(62) + 1  # > 0: 0 means "none" between workers


def _run_token(out_dir: str, add: bool = False) -> int:
    """The token of the run record in `out_dir` (0 without one). With `add`, a record from
    before tokens gets one."""
    held = read_run_record(out_dir)
    if held is None:
        return 0
    if not held.get("token") and add:
        held["token"] = _new_token()
        _write_json_atomically(fs.join(out_dir, RUN_RECORD), held)
    return int(held.get("token") or 0)


def _refuse_unknown_run(out_dir: str) -> None:
    present = [e for e in RUN_ENTRIES if e != RUN_RECORD and fs.lexists(fs.join(out_dir, e))]
    if not present:
        return
    fs.remove(fs.join(out_dir, RUN_RECORD))  # written by this call: not a run of ours
    what = (
        f"{out_dir} holds files of an earlier run ({', '.join(present)}) whose checkpoints "
        "do not load into this model: another recipe, model or size. "
    )
    raise UserError(what + MOVE_ASIDE)


# -- several workers ----------------------------------------------------------------------------

_KEPT_STEPS = 8  # checkpoint steps each worker reports (a store keeps 2-3)


class _Start:
    """How this process joins a run: whether the folder held it, the checkpoint restored, and
    (a non-chief worker on a shared folder) the scratch folder its writes go to."""

    def __init__(self, known=False, marker=None, scratch=None, lock=None):
        self.known, self.marker, self.scratch, self.lock = known, marker, scratch, lock


def _agree(strategy, error, *values, width=None):
    """One collective: every worker's (ok, *values). Raises this worker's `error`, or says
    which worker stopped, when any failed; else returns the rows of values."""
    rows = distribute.gather_ints(
        [int(error is None), *values], strategy, width=(width or len(values)) + 1
    )
    if error is not None:
        raise error
    failed = [i for i, row in enumerate(rows) if not row[0]]
    if failed:
        raise UserError(
            f"Another worker of this cluster (replica {failed[0]}) stopped before "
            "training; its output says why. Fix that and start every worker again."
        )
    return rows[:, 1:]


def _start_on_workers(model, out_dir, identity, resume, store) -> _Start:
    """The start of a multi-worker run, the same on every worker (each step a collective):

    1. the chief checks and claims `out_dir` (writing `run.json` and its token);
    2. every other worker reads the token there: the same token means the folder is shared
       (a bucket, NFS), and the worker writes to a scratch folder of its own; another (or
       none) means each worker has a folder of its own, and it claims its own;
    3. each worker lists the complete checkpoints it sees; all restore the newest step that
       every one of them has, or all stop with one line when they have none in common.
    """
    locks = []  # the one this worker takes (the chief, or a worker on a folder of its own)
    try:
        start = _join_run(model, out_dir, identity, resume, store, locks)
    except BaseException:
        for lock in locks:
            lock.release()
        raise
    start.lock = locks[0] if locks else None
    return start


def _join_run(model, out_dir, identity, resume, store, locks):
    strategy = model.distribute_strategy
    chief = distribute.is_chief(strategy)
    error, token, known = None, 0, False
    if chief:
        try:
            check_writable(out_dir, 2 * state_bytes(model))
            locks.append(RunLock(out_dir).acquire())
            known = claim_run_folder(out_dir, identity, resume)
            token = _run_token(out_dir, add=True)
        except Exception as exc:
            error = exc
    rows = _agree(strategy, error, int(chief), token)
    chief_token = int(next(row[1] for row in rows if row[0]))

    scratch = None
    if not chief:
        try:
            if _run_token(out_dir) == chief_token:
                scratch = distribute.scratch_folder(out_dir, strategy)
                held = read_run_record(out_dir)
                known = held is not None and "created" in held and resume is not False
            else:
                check_writable(out_dir, 2 * state_bytes(model))
                locks.append(RunLock(out_dir).acquire())
                known = claim_run_folder(out_dir, identity, resume)
        except Exception as exc:
            error = exc
    steps = store.usable_steps()[:_KEPT_STEPS] if resume is not False and error is None else []
    rows = _agree(strategy, error, *steps, width=_KEPT_STEPS)
    seen = [sorted({int(s) for s in row if s >= 0}, reverse=True) for row in rows]
    common = set(seen[0]).intersection(*seen[1:]) if seen else set()
    marker = None
    if common:
        marker = store.restore(model, step=max(common))
    elif any(seen):
        newest = ", ".join(f"step {s[0]:,}" if s else "none" for s in seen)
        raise UserError(
            f"The workers see no checkpoint in common in {store.folder} (their newest: "
            f"{newest}), so they cannot resume together. Give every worker the same "
            f"{arg('out_dir')} on storage they share (a gs:// bucket, an NFS folder), or pass "
            f"{arg('resume=False')} to start again (the earlier run is moved aside).",
        )
    restored = _agree(strategy, None, marker["step"] if marker else -1)
    if len({int(r[0]) for r in restored}) > 1:
        raise UserError(
            f"The workers restored different checkpoints from {store.folder} "
            f"(steps {sorted({int(r[0]) for r in restored})}); a checkpoint must "
            "have changed while they read it. Start every worker again."
        )
    return _Start(known, marker, scratch)


# -- the resumable fit -------------------------------------------------------------------------


def steps_in(dataset) -> int | None:
    """Batches in one pass of a finite dataset, if tf.data knows; None if infinite/unknown."""
    n = (
        int(tf.data.experimental.cardinality(dataset))
        if isinstance(dataset, tf.data.Dataset)
        else -2
    )
    return n if n > 0 else None


def resumable_fit(
    model,
    dataset,
    *,
    out_dir: str,
    epochs: int,
    steps_per_epoch: int | None = None,
    callbacks=(),
    checkpoint_every: int = 500,
    time_limit=None,
    resume: bool | str = "auto",
    keep: int = 2,
    verbose="auto",
    run_info: dict | None = None,
    save_model: str | None = None,
    **fit_kwargs,
):
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
        run_info: dict. What else identifies the run (e.g. {"recipe": name, "seed": 0}),
            recorded in `out_dir/run.json` with the model's class and weight shapes. A folder
            that holds another run is refused (`claim_run_folder`), so nothing of it is
            replaced.
        keep: int. Checkpoints kept (at least 2 keeps the previous one while a new one is
            written).
        save_model: str. A file name in `out_dir` to save the trained model to (a `.keras`
            file) when the run ends or stops, e.g. "model.keras".
        verbose, fit_kwargs: passed to `model.fit`.

    Several workers (`MultiWorkerMirroredStrategy`): the chief writes the run; the other
    workers run the same steps and callbacks but write into scratch folders they delete, as
    Keras' multi-worker checkpointing does, so one shared `out_dir` holds one run. On a
    resume they all restore the newest checkpoint that each of them sees, or all stop with one
    line (`_start_on_workers`). Workers whose `out_dir`s are not shared each keep a copy.

    Returns a `keras.callbacks.History` of the epochs this call ran.
    """
    fit_kwargs.setdefault("shuffle", False)  # a tf.data pipeline shuffles itself
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received: epochs={epochs!r}")
    make_dataset = dataset if callable(dataset) else (lambda: dataset)
    dataset = make_dataset()
    steps_per_epoch = steps_per_epoch or steps_in(dataset)
    if not steps_per_epoch:
        raise ValueError(
            "`steps_per_epoch` is needed: the dataset is infinite or of unknown length."
        )
    _fit_steps_per_execution(model, steps_per_epoch)
    out_dir = os.fspath(out_dir)
    folder = fs.join(out_dir, CHECKPOINT_FOLDER)
    identity = run_identity(model, **dict(run_info or {}))
    store = CheckpointStore(folder, keep=keep)
    strategy = getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()
    if distribute.is_multi_worker(strategy):
        start = _start_on_workers(model, out_dir, identity, resume, store)
    else:
        check_writable(out_dir, 2 * state_bytes(model))
        start = _Start(lock=RunLock(out_dir).acquire())  # one training per folder
        try:
            start.known = claim_run_folder(out_dir, identity, resume)
            start.marker = store.restore(model) if resume is not False else None
            if start.marker is None and not start.known and resume is not False:
                _refuse_unknown_run(out_dir)
        except BaseException:
            start.lock.release()
            raise
    marker = start.marker
    try:
        if resume is True and marker is None:
            raise UserError(f"{arg('resume=True')} but there is no usable checkpoint in {folder}")
        if start.lock is not None:
            callbacks = [*callbacks, LockRefresh(start.lock)]
        redirect = (
            fs.redirect_writes(out_dir, start.scratch)
            if start.scratch
            else contextlib.nullcontext()
        )
        with redirect:
            return _fit_from(
                model,
                make_dataset,
                dataset,
                out_dir,
                store,
                marker,
                epochs,
                steps_per_epoch,
                callbacks,
                checkpoint_every,
                time_limit,
                verbose,
                save_model,
                fit_kwargs,
            )
    finally:
        distribute.remove_scratch(start.scratch)
        if start.lock is not None:
            start.lock.release()


def _fit_steps_per_execution(model, steps_per_epoch: int) -> None:
    """Keras runs `steps_per_execution` steps per call whatever is left of the epoch, so on a
    run's endless stream an epoch whose length it does not divide runs past its end. Use the
    largest count that divides the epoch (one line says so); every call, checkpoint and
    resume then falls on a multiple of it."""
    wanted = int(getattr(model, "steps_per_execution", 1) or 1)
    if wanted > 1 and steps_per_epoch % wanted:
        fitted = max(d for d in range(1, wanted + 1) if steps_per_epoch % d == 0)
        say(
            f"steps_per_execution {wanted} does not divide the {steps_per_epoch:,} steps of an "
            f"epoch, so each epoch would run past its end; using {fitted}. (A count that "
            "divides it, or a steps_per_epoch that it divides, keeps yours.)"
        )
        model.steps_per_execution = fitted
        model.train_function = None


def _fit_from(
    model,
    make_dataset,
    dataset,
    out_dir,
    store,
    marker,
    epochs,
    steps_per_epoch,
    callbacks,
    checkpoint_every,
    time_limit,
    verbose,
    save_model,
    fit_kwargs,
):
    """`resumable_fit` once the run is claimed and its checkpoint (if any) restored."""
    step = marker["step"] if marker else 0
    total = epochs * steps_per_epoch
    if marker:
        say(f"resuming from step {step:,} of {total:,} ({fs.join(store.folder, marker['file'])})")

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
    saver = StepCheckpoint(
        store,
        checkpoint_every,
        step,
        [cb.flush for cb in callbacks if hasattr(cb, "flush")],
        restored=marker is not None,
    )
    saver.info = {"steps_per_epoch": steps_per_epoch, "epochs": epochs}
    # Stop callbacks and the guard act first; the saver last sees the state they leave.
    callbacks.append(saver)

    if step >= total:
        done = (
            f"{total:,} steps"
            if step == total
            else f"{step:,} steps, more than the {total:,} asked for"
        )
        say(
            f"the run in {out_dir} is complete ({done}); nothing to do (to start again: --fresh "
            "on the command line, resume=False in Python)."
        )
        if save_model and not fs.exists(fs.join(out_dir, save_model)):
            save_keras_model(model, fs.join(out_dir, save_model))
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
        run = model.fit(
            stream(position),
            initial_epoch=first_epoch,
            epochs=last,
            steps_per_epoch=steps,
            callbacks=callbacks,
            verbose=verbose,
            **fit_kwargs,
        )
        for key, values in run.history.items():
            history.history.setdefault(key, []).extend(values)
        position = saver.step
        if any(getattr(cb, "stopped", False) for cb in callbacks):
            break
    history.set_model(model)
    if save_model:
        save_keras_model(model, fs.join(out_dir, save_model))
    return history


def save_keras_model(model, path) -> str:
    """`model.save(path)` (a `.keras` file) written atomically through `ganpaint.fs`: on any
    storage, and a full disk is one `StorageError` naming `path` with the previous file
    kept. Every worker of a cluster calls it (reading a model's state is a collective); a
    non-chief one writes into its scratch folder."""
    buffer = io.BytesIO()
    try:
        keras.saving.save_model(model, buffer)
        data = buffer.getvalue()
    except (TypeError, ValueError):  # a Keras that saves to paths only
        import tempfile

        with tempfile.TemporaryDirectory(prefix="ganpaint-") as tmp:
            local = os.path.join(tmp, "model.keras")
            model.save(local)
            with open(local, "rb") as f:
                data = f.read()
    return fs.write_atomically(path, data)
