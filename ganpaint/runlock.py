"""One training at a time in a run folder: `out_dir/run.lock`.

Two trainings into one folder would write the same checkpoints and histories over each other
(and one would crash on the other's half-written files). The first takes the lock; a second
is refused in one line naming the holder (its process, machine and start). The lock is given
back when the run ends, stops or fails; a lock left behind by a killed run is taken over:

- on the same machine, when its process is gone (a certain test);
- from another machine (a run folder in a bucket, a Colab session that ended), when it has
  not been refreshed for `STALE_AFTER` seconds: the holder rewrites it every `REFRESH`
  seconds while it trains.

On a local disk the lock is created atomically (`O_CREAT | O_EXCL`): of two runs started at
the same instant exactly one gets it. A bucket has no such operation: the lock is written
and read back, which catches all but two starts within the same second or so. Each
run's holder token tells it the lock is still its own.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time

import keras

from ganpaint import fs
from ganpaint.checkpoints import say
from ganpaint.errors import UserError, arg

LOCK_NAME = "run.lock"
REFRESH = 60.0  # seconds between the holder's rewrites of the lock
STALE_AFTER = 600.0  # a lock from another machine unrefreshed this long is a dead run's


class RunLock:
    """The lock of one run folder, held by this process while it trains there."""

    def __init__(self, out_dir: str):
        self.out_dir = os.fspath(out_dir)
        self.path = fs.join(self.out_dir, LOCK_NAME)
        self.token = secrets.token_hex(8)
        self.refreshed = 0.0
        self.held = False

    def _record(self) -> dict:
        now = time.time()
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "token": self.token,
            "started": getattr(self, "_started", now),
            "alive": now,
            "started_at": time.strftime(
                "%Y-%m-%d %H:%M:%S", time.localtime(getattr(self, "_started", now))
            ),
        }

    def acquire(self) -> RunLock:
        """Take the lock, or raise a one-line `UserError` naming the run that holds it."""
        self._started = time.time()
        fs.makedirs(self.out_dir)
        for _ in range(3):
            if self._create():
                self.held, self.refreshed = True, time.time()
                return self
            held = self._read()
            if held is None:  # being written, or removed just now: look again
                time.sleep(0.2)
                continue
            gone = self._gone(held)
            if not gone:
                raise UserError(self._busy(held))
            say(
                f"{self.path}: taking over the lock of process {held.get('pid')} on "
                f"{held.get('host')}, {gone}"
            )
            fs.remove_quietly(self.path)
        raise UserError(
            f"{self.path} keeps changing: another run is starting in {self.out_dir} "
            "at the same moment. Start one run per folder."
        )

    def _busy(self, held: dict) -> str:
        return (
            f"{self.out_dir} is in use by another training: process {held.get('pid')} on "
            f"{held.get('host')}, started {held.get('started_at', '?')} ({self.path}). "
            f"Wait for it to end or stop it (a second training here would overwrite its "
            f"checkpoints; {arg('resume=False')} does not override this), or choose another "
            f"folder. If "
            f"that process is gone, delete {self.path}."
        )

    def _create(self) -> bool:
        data = json.dumps(self._record()).encode()
        if not fs.is_remote(self.path):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        if fs.exists(self.path):
            return False
        fs.write_atomically(self.path, data)
        held = self._read()
        return held is not None and held.get("token") == self.token

    def _read(self) -> dict | None:
        try:
            held = fs.read_json(self.path)
        except (OSError, ValueError):
            return None
        return held if isinstance(held, dict) else None

    def _gone(self, held: dict) -> str | None:
        """Why the holder of `held` is known to be gone, or None while it may be training."""
        if held.get("host") == socket.gethostname():
            pid = int(held.get("pid") or 0)
            if pid == os.getpid():
                return "this process, from a run that ended without giving it back"
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return "which has ended"
            except (PermissionError, OSError):
                return None
            return None
        quiet = time.time() - float(held.get("alive") or 0)
        if quiet > STALE_AFTER:
            return f"not refreshed for {quiet / 60:.0f} minutes"
        return None

    def refresh(self, force: bool = False) -> None:
        """Rewrite the lock's time (every `REFRESH` seconds), so that other machines see the
        holder alive. A lock taken over meanwhile is left to its new holder."""
        if not self.held or (not force and time.time() - self.refreshed < REFRESH):
            return
        self.refreshed = time.time()
        held = self._read()
        if held is not None and held.get("token") != self.token:
            self.held = False
            return
        fs.write_atomically(self.path, json.dumps(self._record()).encode())

    def release(self) -> None:
        """Give the lock back (only if it is still this run's)."""
        if not self.held:
            return
        self.held = False
        held = self._read()
        if held is None or held.get("token") == self.token:
            fs.remove_quietly(self.path)


class LockRefresh(keras.callbacks.Callback):
    """Keeps a `RunLock` fresh while `fit` runs (a time check per step, a write a minute)."""

    def __init__(self, lock: RunLock):
        super().__init__()
        self.lock = lock

    def on_train_batch_end(self, batch, logs=None):
        self.lock.refresh()
