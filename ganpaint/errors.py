"""Errors a user can act on, each with the fix on the interface in use (pure Python).

A `UserError` is a `ValueError` whose message names the Python argument that fixes it; its
`cli` text names the command-line flag instead, and the `ganpaint` command prints that one.
So a notebook user is told `overwrite=True` and a shell user `--overwrite`, never an option
their interface does not have.
"""
from __future__ import annotations

import os


class UserError(ValueError):
    """Bad input, with its fix: `str(err)` for Python, `err.cli` for the command line."""

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli or message


class WeightsUnavailable(UserError):
    """Network weights that cannot be had here (no internet, no local file)."""


def refuse_existing(path, what: str = "file", python_fix: str = "overwrite=True",
                    cli_fix: str = "--overwrite") -> None:
    """Raise a `UserError` when `path` exists: nothing a user made is replaced silently."""
    from ganpaint import fs

    path = os.fspath(path)
    if fs.lexists(path):
        message = (f"{path} already exists; pass {{}} to replace it (a {what}), or choose "
                   "another path.")
        raise UserError(message.format(python_fix), cli=message.format(cli_fix))


def refuse_non_empty(folder, python_fix: str = "overwrite=True",
                     cli_fix: str = "--overwrite") -> None:
    """Raise a `UserError` when `folder` holds anything (a mixed folder is two runs' output)."""
    from ganpaint import fs

    folder = os.fspath(folder)
    entries = fs.listdir(folder) if fs.isdir(folder) else []
    if entries:
        message = (f"{folder} is not empty ({len(entries)} entries); choose an empty "
                   "or new folder, or pass {} to write into it anyway.")
        raise UserError(message.format(python_fix), cli=message.format(cli_fix))
    if fs.exists(folder) and not fs.isdir(folder):
        raise UserError(f"{folder} is a file, not a folder; choose a folder path.")
