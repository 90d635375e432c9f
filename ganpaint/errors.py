"""Errors a user can act on, each with the fix on the interface in use (pure Python).

A `UserError` is a `ValueError` whose message names the Python argument that fixes it; its
`cli` text names the command-line flag instead, and the `ganpaint` command prints that one.
So a notebook user is told `overwrite=True` and a shell user `--overwrite`, never an option
their interface does not have.

Each message is written once, with the fixes it names marked by `arg(...)`:

>>> raise UserError(f"{out} holds another run. Pass {arg('resume=False')} to move it aside, "
...                 f"or choose another {arg('out_dir')}.")

`str(err)` reads "Pass resume=False ... another out_dir", `err.cli` "Pass --fresh ... another
--out": the flag comes from `FLAGS`, the one table of Python arguments and the flags that do
the same.
"""

from __future__ import annotations

import os
import re

# Python arguments (as a fix names them) -> the `ganpaint` flag that does the same.
FLAGS = {
    "overwrite=True": "--overwrite",
    "resume=False": "--fresh",
    "resume=True": "--resume",
    "fresh=True": "--fresh",
    "out_dir": "--out",
    "on_error='skip'": "--skip-bad",
    "num_classes": "--num-classes",
    "weights=FILE": "--weights FILE",
    'weights="pixels"': "--weights pixels",
    "fid_weights=FILE": "--fid-weights FILE",
    'fid_features="pixels"': "--fid pixels",
    'fid_features="off"': "--fid off",
    "backbone_weights=FILE": "--backbone-weights FILE",
    "backbone_weights=None": "--backbone-weights none",
    "annotations": "--annotations",
    "devices": "--devices",
    "smoke=True": "--smoke",
    "data": "--data PATH",
    "jit_compile": "--jit-compile",
    "parallel": "--parallel",
    "seeds": "--seeds",
    "settings": "--set",
    "val_pairs": "run.val_pairs",
    "judge": "run.judge",
    "path": "--out",  # export's and sample's output
    "format='tflite'": "--format tflite",
    "format='savedmodel'": "--format savedmodel",
}
_MARK = re.compile("\x00([^\x00\x01]*)(?:\x01([^\x00]*))?\x00")


def arg(name: str, value=None) -> str:
    """A fix named in a message: the Python argument `name` (with `value`: `name=value`),
    which `UserError` renders as its flag (`FLAGS[name]`, then the value) for the CLI."""
    if name not in FLAGS:
        raise KeyError(f"no flag for {name!r}: add it to ganpaint.errors.FLAGS")
    return f"\x00{name}\x00" if value is None else f"\x00{name}\x01{value}\x00"


def _render(message: str, cli: bool) -> str:
    def one(match):
        name, value = match.group(1), match.group(2)
        if cli:
            return FLAGS[name] if value is None else f"{FLAGS[name]} {value}"
        if value is not None:
            return f"{name}={value}"
        return name if "=" in name else f"`{name}`"

    return _MARK.sub(one, message)


class UserError(ValueError):
    """Bad input, with its fix: `str(err)` for Python, `err.cli` for the command line.

    The fixes are marked in the message with `arg(...)`; `cli` is for the few messages whose
    command-line wording differs beyond the flags."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(_render(message, cli=False))
        self.cli = _render(cli or message, cli=True)


class WeightsUnavailable(UserError):
    """Network weights that cannot be had here (no internet, no local file)."""


def refuse_existing(path, what: str = "file", fix: str = "overwrite=True") -> None:
    """Raise a `UserError` when `path` exists: nothing a user made is replaced silently."""
    from ganpaint import fs

    path = os.fspath(path)
    if fs.lexists(path):
        raise UserError(
            f"{path} already exists; pass {arg(fix)} to replace it (a {what}), or choose "
            "another path."
        )


def refuse_non_empty(folder, fix: str = "overwrite=True") -> None:
    """Raise a `UserError` when `folder` holds anything (a mixed folder is two runs' output)."""
    from ganpaint import fs

    folder = os.fspath(folder)
    entries = fs.listdir(folder) if fs.isdir(folder) else []
    if entries:
        raise UserError(
            f"{folder} is not empty ({len(entries)} entries); choose an empty "
            f"or new folder, or pass {arg(fix)} to write into it anyway."
        )
    if fs.exists(folder) and not fs.isdir(folder):
        raise UserError(f"{folder} is a file, not a folder; choose a folder path.")
