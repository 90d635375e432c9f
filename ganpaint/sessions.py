"""Time budgets of notebook sessions: durations ("8h", "1h30m") and Kaggle's session limits.

Pure Python (no TensorFlow), so the CLI can check `--time-limit` before loading anything.
"""

from __future__ import annotations

import math
import os
import re
import time

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value) -> float:
    """Seconds from a number or a string such as "8h", "90m", "1h30m", "45s", "3600"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*(\d+(\.\d+)?\s*[dhms]?\s*)+", value):
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([dhms]?)", value)
        if len(parts) > 1 and any(not unit for _, unit in parts):
            raise ValueError(f"a duration needs a unit on every part. Received: {value!r}")
        seconds = sum(float(n) * _UNITS[unit or "s"] for n, unit in parts)
    else:
        raise ValueError(
            f"a duration must be seconds or a string like '8h', '90m', '1h30m'. Received: {value!r}"
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a duration must be positive. Received: {value!r}")
    return seconds


# Kaggle's session limits (kaggle.com/docs/notebooks): 12 h for CPU and GPU, 9 h for TPU.
KAGGLE_LIMITS = {"tpu": 9 * 3600, "gpu": 12 * 3600, "cpu": 12 * 3600}


def session_seconds_left(limit: float | None = None, started: float | None = None) -> float | None:
    """Seconds left in this notebook session: Kaggle's limit (by accelerator) counted from the
    start of this Python process, or `limit` seconds from it elsewhere (Colab has no fixed
    limit: pass one). None when neither applies."""
    if limit is None and "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
        tpu = any(
            k in os.environ
            for k in ("TPU_NAME", "TPU_ACCELERATOR_TYPE", "KAGGLE_TPU", "COLAB_TPU_ADDR")
        )
        limit = KAGGLE_LIMITS["tpu" if tpu else "gpu"]
    if limit is None:
        return None
    started = _process_start() if started is None else started
    return parse_duration(limit) - (time.time() - started)


def _process_start() -> float:
    """When this process started (Linux: /proc; elsewhere: now, the import time)."""
    try:
        with open("/proc/self/stat") as f:
            ticks = float(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _IMPORTED


_IMPORTED = time.time()
