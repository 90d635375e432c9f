"""Callbacks that stop or repair a run: `TimeLimit` (a session deadline) and `TrainingGuard`
(NaN, a discriminator that wins outright, a generator whose outputs all look alike).

Both are exported by `ganpaint.callbacks`. With `ganpaint.runs.resumable_fit` (what
`Setup.fit` and `ganpaint train` use), a stop leaves the whole state saved and the same call
continues the run.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time

import keras
import numpy as np

from ganpaint import fs, rates
from ganpaint.checkpoints import CheckpointStore, all_finite, say, training_state
from ganpaint.sessions import parse_duration


def step_values(model, logs) -> dict[str, float]:
    """This step's value of each reported loss: what a ganpaint model declares
    (`last_step_values`), or for another model, `fit`'s logs (running means)."""
    if hasattr(model, "last_step_values"):
        return model.last_step_values()
    return {k: float(np.asarray(v).reshape(-1)[0]) for k, v in (logs or {}).items()}


class TimeLimit(keras.callbacks.Callback):
    """Stops training cleanly before a deadline, leaving time to save the state.

    After each step it compares the time left with `margin` plus three of the slowest recent
    steps; when too little is left it stops (`model.stop_training`), says so in one line and
    sets `stopped`. `resumable_fit` then saves a checkpoint, and the same call continues.

    Args:
        seconds: the time allowed from the start of training: seconds or a duration string
            ("8h", "11h30m", "90m").
        until: an absolute deadline instead: a `datetime` or a Unix time.
        margin: seconds kept in reserve for the final checkpoint and whatever follows training
            (saving `model.keras`, a submission). Defaults to 2 minutes, or a tenth of a
            shorter limit.
    """

    def __init__(self, seconds=None, *, until=None, margin: float | None = None):
        super().__init__()
        if (seconds is None) == (until is None):
            raise ValueError("TimeLimit needs exactly one of `seconds` and `until`.")
        self.seconds = None if seconds is None else parse_duration(seconds)
        if isinstance(until, _dt.datetime):
            until = until.timestamp()
        if until is not None and not isinstance(until, (int, float)):
            raise ValueError(f"`until` must be a datetime or a Unix time. Received: {until!r}")
        self.until = until
        if margin is None:
            total = self.seconds if self.seconds is not None else until - time.time()
            margin = min(120.0, max(0.0, 0.1 * total))
        if not isinstance(margin, (int, float)) or margin < 0:
            raise ValueError(f"`margin` must be seconds >= 0. Received: margin={margin!r}")
        self.margin = float(margin)
        self.deadline, self.stopped, self._last, self._slowest = None, False, None, 0.0

    def on_train_begin(self, logs=None):
        now = time.time()
        if self.deadline is None:  # the first fit of a run sets it; later parts keep it
            self.deadline = self.until if self.until is not None else now + self.seconds
        self._last, self.stopped = now, False

    def _check(self, where):
        now = time.time()
        self._slowest = max(self._slowest * 0.99, now - self._last)
        self._last = now
        left = self.deadline - now
        if left < self.margin + 3 * self._slowest and not self.stopped:
            self.stopped = True
            self.model.stop_training = True
            say(
                f"time limit: stopping {where} with {max(0, left):.0f} s left; the state is "
                "saved, and the same command continues the run."
            )

    def on_train_batch_end(self, batch, logs=None):
        self._check(f"after batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(f"after epoch {epoch + 1}")


class TrainingGuard(keras.callbacks.Callback):
    """Watches a GAN for the three ways runs die, and repairs or stops them.

    Symptoms, checked after every step:
    - **non-finite**: a loss (or, at each checkpoint, a weight) is NaN or Inf;
    - **discriminator collapse**: every discriminator loss stays below `d_loss_floor` for
      `collapse_steps` steps in a row (it wins outright; losses that can be negative, as the
      Wasserstein critic's, are not watched);
    - **generator collapse**: every `diversity_every` steps (from `warmup` on), a batch of 16
      samples from fixed noise (or the translations of `inputs`) is generated; if the spread
      of its pixels across the batch is below `diversity_floor` times that of `real` (or of
      `inputs`; in absolute [-1, 1] units without either) for `patience` checks in a row.

    On a trip it rolls the model back to the last good checkpoint (for a collapse, one from
    before it began, when kept), scales every learning rate by `lr_factor`, and goes on; after
    `max_trips` trips, or with `on_trip="stop"`, it rolls back and stops. It never continues on
    NaN. Each decision is one line on the screen and one JSON line in `out_dir/guard.jsonl`
    (step, epoch, symptom, detail, action); a resumed run reads it back (its learning-rate
    scale included).

    Args:
        out_dir: folder of the log (the run folder).
        on_trip: "rollback" (default) or "stop".
        lr_factor: float in (0, 1]. Learning-rate scale applied at each rollback.
        max_trips: int. Trips after which the run stops.
        store: a `ganpaint.runs.CheckpointStore` to roll back to; `resumable_fit` sets it.
            Without one, a copy of the weights is kept in memory every `snapshot_every` steps.
        inputs, real: images in [-1, 1] for the diversity check (see above).
    """

    def __init__(
        self,
        out_dir,
        *,
        on_trip: str = "rollback",
        lr_factor: float = 0.5,
        max_trips: int = 3,
        d_loss_floor: float = 1e-3,
        collapse_steps: int = 100,
        diversity_floor: float = 0.05,
        diversity_every: int = 100,
        warmup: int = 200,
        patience: int = 3,
        inputs=None,
        real=None,
        store: CheckpointStore | None = None,
        snapshot_every: int = 100,
    ):
        super().__init__()
        if on_trip not in ("rollback", "stop"):
            raise ValueError(f"`on_trip` must be 'rollback' or 'stop'. Received: {on_trip!r}")
        if not isinstance(lr_factor, (int, float)) or not 0 < lr_factor <= 1:
            raise ValueError(f"`lr_factor` must be in (0, 1]. Received: lr_factor={lr_factor!r}")
        for name, value in (
            ("max_trips", max_trips),
            ("collapse_steps", collapse_steps),
            ("diversity_every", diversity_every),
            ("patience", patience),
            ("snapshot_every", snapshot_every),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        self.out_dir, self.on_trip, self.lr_factor = os.fspath(out_dir), on_trip, lr_factor
        self.max_trips, self.d_loss_floor, self.collapse_steps = (
            max_trips,
            d_loss_floor,
            collapse_steps,
        )
        self.diversity_floor, self.diversity_every = diversity_floor, diversity_every
        self.warmup, self.patience, self.snapshot_every = warmup, patience, snapshot_every
        self.inputs = None if inputs is None else np.asarray(inputs)[:16]
        self.real = None if real is None else np.asarray(real)[:16]
        self.store, self.log_path = store, fs.join(self.out_dir, "guard.jsonl")
        self.trips: list[dict] = []
        self.stopped, self.lr_scale, self.step = False, 1.0, 0
        self._epoch = 0
        self._forget_symptoms()
        self._snapshot = None

    def _forget_symptoms(self):
        """Start the collapse counts afresh (after a trip)."""
        self._low_since, self._dull, self._dull_since = None, 0, None

    # -- lifecycle ----------------------------------------------------------------------------

    def resume_at(self, step, steps_per_epoch=None):
        """A resumed run: keep the log entries up to `step` and their learning-rate scale."""
        self.step = step
        self.trips = [t for t in _read_log(self.log_path) if t["step"] <= step]
        self.lr_scale = self.trips[-1]["lr_scale"] if self.trips else 1.0

    def on_train_begin(self, logs=None):
        fs.makedirs(self.out_dir)
        self.stopped = False
        # The scale of the rates a resumed run's optimizers hold (`ganpaint.rates`): the next
        # write (a schedule's, a trip's) keeps it.
        self.model.learning_rate_scale = self.lr_scale
        # A loss with no floor (a Wasserstein critic's) says nothing when it nears 0.
        adversarial = getattr(self.model, "adversarial", None)
        self._watch_d = adversarial is None or not adversarial.objective.can_be_negative
        if self._snapshot is None and self.store is None:
            self._take_snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._base = epoch, self.step

    def on_train_batch_end(self, batch, logs=None):
        previous, self.step = self.step, self._base + batch + 1  # may advance by several
        values = step_values(self.model, logs)
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            detail = ", ".join(f"{k}={v}" for k, v in bad.items())
            return self._trip("non-finite loss", detail, None)
        d = [values[k] for k in getattr(self.model, "discriminator_losses", ()) if k in values]
        if self._watch_d and d and max(d) < self.d_loss_floor:
            if self._low_since is None:
                self._low_since = self.step
            if self.step - self._low_since + 1 >= self.collapse_steps:
                return self._trip(
                    "discriminator collapse",
                    f"discriminator loss below {self.d_loss_floor:g} for "
                    f"{self.collapse_steps} steps (now {max(d):.2g})",
                    self._low_since,
                )
        else:
            self._low_since = None
        if (
            self.step >= self.warmup
            and self.step // self.diversity_every > previous // self.diversity_every
        ):
            spread = self._diversity()
            if spread is not None and spread < self.diversity_floor:
                self._dull += 1
                self._dull_since = self._dull_since or self.step
                if self._dull >= self.patience:
                    return self._trip(
                        "generator collapse",
                        f"samples' spread {spread:.3g} of the reference's, below "
                        f"{self.diversity_floor:g} in {self.patience} checks",
                        self._dull_since,
                    )
            else:
                self._dull, self._dull_since = 0, None
        if self.store is not None:  # keep a checkpoint from before a symptom that began
            onsets = [s for s in (self._low_since, self._dull_since) if s is not None]
            self.store.protect_before = min(onsets) if onsets else None
        if (
            self.store is None
            and self.step // self.snapshot_every > previous // self.snapshot_every
            and all_finite(self.model)
        ):
            self._take_snapshot()

    def _take_snapshot(self):
        """The in-memory good state, when there is no checkpoint store to roll back to."""
        self._snapshot = (
            self.step,
            [keras.ops.convert_to_numpy(v) for v in training_state(self.model)],
        )

    # -- checks -------------------------------------------------------------------------------

    def _diversity(self):
        model = self.model
        if not hasattr(model, "sample"):  # not a ganpaint model: nothing to judge
            return None
        if model.takes_inputs:
            if self.inputs is None:
                return None
            fakes, reference = model.sample(inputs=self.inputs, use_ema=False), self.inputs
        else:  # the same 16 draws at every check (every class in turn when labelled)
            fakes, reference = model.sample(16, seed=0, use_ema=False), self.real
        spread = float(np.mean(np.std(fakes, axis=0)))
        if reference is not None:
            spread /= max(float(np.mean(np.std(reference, axis=0))), 1e-8)
        return spread

    # -- actions ------------------------------------------------------------------------------

    def _rollback(self, before):
        """Load the last good state (from before step `before`, if given and kept); returns
        its step, or None if there is none."""
        if self.store is not None:
            marker = None
            if before is not None:  # a collapse: a state from before it began
                marker = self.store.restore(self.model, before_step=before)
            marker = marker or self.store.restore(self.model)
            self.store.protect_before = None
            return None if marker is None else marker["step"]
        if self._snapshot is None:
            return None
        step, values = self._snapshot
        for variable, value in zip(training_state(self.model), values):
            variable.assign(value)
        return step

    def _trip(self, symptom, detail, rollback_before):
        good = self._rollback(rollback_before)
        stop = self.on_trip == "stop" or len(self.trips) + 1 >= self.max_trips or good is None
        if not stop:
            self.lr_scale *= self.lr_factor
            rates.set_learning_rates(self.model, scale=self.lr_scale)
        for metric in self.model.metrics:
            metric.reset_state()
        self._forget_symptoms()
        where = f"rolled back to step {good}" if good is not None else "nothing to roll back to"
        if stop:
            action = f"{where} and stopped"
            self.stopped, self.model.stop_training = True, True
        else:
            action = f"{where} and scaled the learning rates by {self.lr_factor:g}"
        entry = {
            "step": self.step,
            "epoch": self._epoch + 1,
            "symptom": symptom,
            "detail": detail,
            "action": action,
            "rolled_back_to": good,
            "lr_scale": self.lr_scale,
            "time": time.time(),
        }
        self.trips.append(entry)
        fs.append_text(self.log_path, json.dumps(entry) + "\n")
        say(
            f"TrainingGuard: step {self.step} (epoch {self._epoch + 1}): {symptom} ({detail}); "
            f"{action} (trip {len(self.trips)} of at most {self.max_trips}). Log: {self.log_path}"
        )


def _read_log(path) -> list[dict]:
    if not fs.exists(path):
        return []
    entries = []
    for line in fs.read_text(path).splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a kill
    return entries
