"""Every path ganpaint reads or writes goes through this module, so a run folder, a dataset
or a weights file can be a local path, a `gs://` bucket, or anything else `tf.io.gfile`
knows (`ram://` in the tests, `hdfs://`, `s3://` with tensorflow-io).

>>> fs.write_atomically("gs://bucket/run/history/epochs.csv", "epoch,g_loss\\n1,0.7\\n")
>>> with fs.open("gs://bucket/run/run.json") as f:
...     record = json.load(f)

Local paths keep what only a local disk gives: `write_atomically` flushes the file to disk
(`fsync`) before renaming it over the target, so a kill or a power cut leaves the old file or
the new one. On a bucket a rename is a copy and a delete, not atomic; but an object becomes
visible only when its upload completes, so a file is still never seen half-written: a kill
leaves the old object, or the new one, and perhaps a `*.partial*` object that the next write
or checkpoint removes. docs/distributed.md says what each storage guarantees.

Writers that need a real local file (PIL, matplotlib, h5py, zip archives) write into a local
temporary folder and the result is copied to the target (`write_atomically` does this for
them); readers that need one get a local copy (`local_copy`).

Errors of the storage itself (a full disk, a file too large, no permission, a bucket that is
not there) become one `OSError` naming the path (`StorageError`), never a raw TensorFlow or
h5py error.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import json
import os
import re
import shutil
import tempfile

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _gfile():
    import tensorflow as tf  # imported when a path is first touched: `--help` needs no TF

    return tf.io.gfile


def _tf_errors():
    import tensorflow as tf

    return tf.errors


class StorageError(OSError):
    """The storage failed (full disk, file too large, no permission, no such bucket): one
    line naming the path and what to do."""


def is_remote(path) -> bool:
    """Whether `path` names a file system by scheme (`gs://`, `ram://`, ...), not the local
    disk."""
    return bool(_SCHEME.match(os.fspath(path)))


def join(*parts) -> str:
    return os.path.join(*[os.fspath(p) for p in parts])


def dirname(path) -> str:
    """The parent folder; "" for a bucket's root (`os.path.dirname("gs://b")` is "gs:", which
    would otherwise become a local folder of that name)."""
    parent = os.path.dirname(os.fspath(path))
    return "" if re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*:/*", parent) else parent


def absolute(path) -> str:
    """The path as a user should see it in a message: absolute when local, as given when
    remote (`os.path.abspath` would turn `gs://b/x` into `/cwd/gs:/b/x`)."""
    path = os.fspath(path)
    return path if is_remote(path) else os.path.abspath(path)


def _storage_error(path, exc, doing: str) -> StorageError:
    """A one-line `StorageError` for an OS or TensorFlow file-system failure."""
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = "the disk is full: free some space or choose a folder on another disk"
    elif code == errno.EFBIG:
        fix = (
            "the file is larger than this system allows (a file-size limit, `ulimit -f`): "
            "raise the limit or choose another folder"
        )
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "no permission to write there: choose a writable folder"
    else:
        text = str(getattr(exc, "strerror", None) or getattr(exc, "message", None) or exc)
        fix = text.splitlines()[0][:200] if text else type(exc).__name__
    error = StorageError(f"Could not {doing} {path}: {fix}.")
    error.errno = code
    return error


@contextlib.contextmanager
def _storage(path, doing: str):
    """Turn the storage's failures into `StorageError`s naming `path`."""
    errors = _tf_errors()
    try:
        yield
    except StorageError:
        raise
    except (OSError, errors.OpError) as exc:
        if isinstance(exc, (FileNotFoundError, errors.NotFoundError)) and doing == "read":
            raise FileNotFoundError(
                errno.ENOENT, f"No such file: {path}", os.fspath(path)
            ) from None
        raise _storage_error(path, exc, doing) from None


# -- queries ------------------------------------------------------------------------------------


def exists(path) -> bool:
    path = os.fspath(path)
    if not is_remote(path):
        return os.path.exists(path)
    return _gfile().exists(path)


def lexists(path) -> bool:
    """`exists`, counting a broken local symlink as there (something a user made)."""
    path = os.fspath(path)
    return os.path.lexists(path) if not is_remote(path) else _gfile().exists(path)


def isdir(path) -> bool:
    path = os.fspath(path)
    return os.path.isdir(path) if not is_remote(path) else _gfile().isdir(path)


def isfile(path) -> bool:
    path = os.fspath(path)
    if not is_remote(path):
        return os.path.isfile(path)
    return _gfile().exists(path) and not _gfile().isdir(path)


def size(path) -> int:
    path = os.fspath(path)
    if not is_remote(path):
        return os.path.getsize(path)
    with _storage(path, "read"):
        return int(_gfile().stat(path).length)


def listdir(path) -> list[str]:
    """The names in a folder (no trailing slashes, which buckets add to folder names)."""
    path = os.fspath(path)
    if not is_remote(path):
        return os.listdir(path)
    return [name.rstrip("/") for name in _gfile().listdir(path)]


def glob(pattern) -> list[str]:
    """Paths matching `pattern` (`*`, `?`, `[...]` in the last parts), sorted."""
    return sorted(_gfile().glob(os.fspath(pattern)))


def glob_escape(path) -> str:
    """`path` with glob's special characters taken literally (for a folder in a pattern)."""
    return re.sub(r"([*?[])", r"[\1]", os.fspath(path))


def walk(top):
    return _gfile().walk(os.fspath(top))


def free_bytes(folder) -> int | None:
    """Free bytes on the disk of a local folder; None on a bucket (no such notion)."""
    folder = os.fspath(folder)
    if is_remote(folder):
        return None
    return shutil.disk_usage(folder).free


# -- where writes go -----------------------------------------------------------------------------

# (prefix, target) pairs: a write under `prefix` goes under `target` (`redirect_writes`).
_REDIRECTS: list[tuple[str, str]] = []


def _norm(path: str) -> str:
    path = os.fspath(path)
    return path.rstrip("/") if is_remote(path) else os.path.normpath(os.path.abspath(path))


@contextlib.contextmanager
def redirect_writes(prefix, target):
    """While inside: everything written under the folder `prefix` (files, folders, renames,
    removals) is written under `target` instead; reads still read `prefix`.

    A non-chief worker of a multi-worker run trains inside this, with its scratch folder as
    `target` (Keras' convention for multi-worker checkpoints): it runs every step and every
    callback as the chief does, but the run folder holds the chief's files only."""
    _REDIRECTS.append((_norm(prefix), os.fspath(target)))
    try:
        yield
    finally:
        _REDIRECTS.pop()


def writing_path(path) -> str:
    """Where a write to `path` goes: `path`, or its place under a redirect's target."""
    path = os.fspath(path)
    for prefix, target in reversed(_REDIRECTS):
        norm = _norm(path)
        if norm == prefix or norm.startswith(prefix + ("/" if not prefix.endswith("/") else "")):
            rest = norm[len(prefix) :].lstrip("/")
            return os.path.join(target, rest) if rest else target
    return path


# -- changes ------------------------------------------------------------------------------------


def makedirs(path) -> None:
    path = writing_path(path)
    if not path or re.fullmatch(r"[a-zA-Z][a-zA-Z0-9+.-]*:/*", path):
        return  # nothing, or a bucket's root
    with _storage(path, "create the folder"):
        if is_remote(path):
            _gfile().makedirs(path)
        else:
            os.makedirs(path, exist_ok=True)


def remove(path) -> None:
    path = writing_path(path)
    if is_remote(path):
        _gfile().remove(path)
    else:
        os.remove(path)


def remove_quietly(path) -> None:
    """Remove a file if it is there (a leftover partial write); never raise."""
    path = writing_path(path)
    try:
        if lexists(path):
            remove(path)
    except Exception:
        pass


def rmtree(path) -> None:
    path = writing_path(path)
    if is_remote(path):
        _gfile().rmtree(path)
    else:
        shutil.rmtree(path)


def rename(source, target, overwrite: bool = False) -> None:
    """Move a file or folder. On the local disk a rename is atomic; on a bucket it is a copy
    and a delete (a folder: of every object in it)."""
    source, target = writing_path(source), writing_path(target)
    if not is_remote(source) and not is_remote(target):
        if overwrite:
            os.replace(source, target)
        elif os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, f"{target} already exists", target)
        else:
            os.rename(source, target)
        return
    gfile = _gfile()
    if gfile.isdir(source):
        if gfile.exists(target) and not overwrite:
            raise FileExistsError(errno.EEXIST, f"{target} already exists", target)
        for root, _, names in gfile.walk(source):
            relative = os.path.relpath(root, source) if root != source else ""
            gfile.makedirs(os.path.join(target, relative))
            for name in names:
                gfile.copy(
                    os.path.join(root, name), os.path.join(target, relative, name), overwrite=True
                )
        gfile.rmtree(source)
    else:
        gfile.rename(source, target, overwrite=overwrite)


def copy(source, target, overwrite: bool = False) -> None:
    source, target = os.fspath(source), writing_path(target)
    with _storage(target, "write"):
        _gfile().copy(source, target, overwrite=overwrite)


# -- reading and writing ------------------------------------------------------------------------


def open(path, mode: str = "r"):
    """A file object for `path` (`tf.io.gfile.GFile`, seekable, for local and remote paths)."""
    return _gfile().GFile(os.fspath(path), mode)


def read_bytes(path) -> bytes:
    path = os.fspath(path)
    with _storage(path, "read"), open(path, "rb") as f:
        return f.read()


def read_text(path) -> str:
    return read_bytes(path).decode("utf-8")


def read_json(path):
    return json.loads(read_text(path))


def append_text(path, text: str) -> None:
    """Append a line or more to a text file (a log). A bucket has no append, so there the
    file is read and written again whole (logs are small)."""
    path = writing_path(path)
    makedirs(dirname(path))
    with _storage(path, "write"):
        if not is_remote(path):
            with builtins.open(path, "a") as f:
                f.write(text)
            return
        old = read_text(path) if exists(path) else ""
        with open(path, "w") as f:
            f.write(old + text)


def _fsync(path) -> None:
    with builtins.open(path, "rb+") as f:
        os.fsync(f.fileno())


def fsync_folder(folder) -> None:
    """Flush a local folder's entries (a rename) to disk; nothing to do on a bucket."""
    folder = os.fspath(folder)
    if is_remote(folder):
        return
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


def write_atomically(path, content, suffix: str = "") -> str:
    """Write `path` aside and rename it, so a kill mid-write leaves the old file or the new
    one, never half of one.

    `content` is the file's bytes or text, or a function `write(local_path)` that writes the
    whole file at a local path (ending in `suffix`, for writers that choose a format by
    extension: `.weights.h5`, `.png`). Locally it writes `path.partial<suffix>` beside the
    target, flushes it to disk and renames it over `path`; on a bucket a function writes into
    a local temporary folder, and the bytes are uploaded to `path.partial` and renamed.
    A storage failure is a `StorageError` naming `path`, and no partial file is left.
    Returns `path`.
    """
    path = writing_path(path)
    makedirs(dirname(path))
    partial = f"{path}.partial{suffix}"
    remote = is_remote(path)
    with _storage(path, "write"):
        try:
            if callable(content) and remote:
                with tempfile.TemporaryDirectory(prefix="ganpaint-") as tmp:
                    local = os.path.join(tmp, os.path.basename(path) + suffix)
                    content(local)
                    _gfile().copy(local, partial, overwrite=True)
            elif callable(content):
                content(partial)
            else:
                data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
                if remote:
                    with open(partial, "wb") as f:
                        f.write(data)
                else:
                    with builtins.open(partial, "wb") as f:
                        f.write(data)
            if remote:
                _gfile().rename(partial, path, overwrite=True)
            else:
                _fsync(partial)
                os.replace(partial, path)
        finally:
            remove_quietly(partial)
    return path


def write_json(path, value, indent: int = 1) -> str:
    return write_atomically(path, json.dumps(value, indent=indent))


@contextlib.contextmanager
def local_copy(path, suffix: str | None = None):
    """A local path with the content of `path`: the path itself when it is local, else a
    temporary copy (for readers that need a real file: h5py, zipfile, TFLite)."""
    path = os.fspath(path)
    if not is_remote(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ganpaint-") as tmp:
        local = os.path.join(tmp, os.path.basename(path.rstrip("/")) + (suffix or ""))
        with _storage(path, "read"):
            if _gfile().isdir(path):
                for root, _, names in _gfile().walk(path):
                    relative = os.path.relpath(root, path) if root != path else ""
                    os.makedirs(os.path.join(local, relative), exist_ok=True)
                    for name in names:
                        _gfile().copy(
                            os.path.join(root, name),
                            os.path.join(local, relative, name),
                            overwrite=True,
                        )
            else:
                _gfile().copy(path, local, overwrite=True)
        yield local


@contextlib.contextmanager
def local_target(path):
    """A local path to write a folder or file into (a SavedModel, a zip), copied to `path`
    when the block ends without error: `path` itself when it is local."""
    path = writing_path(path)
    if not is_remote(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="ganpaint-") as tmp:
        local = os.path.join(tmp, os.path.basename(path.rstrip("/")))
        yield local
        with _storage(path, "write"):
            if os.path.isdir(local):
                for root, _, names in os.walk(local):
                    relative = os.path.relpath(root, local) if root != local else ""
                    _gfile().makedirs(os.path.join(path, relative))
                    for name in names:
                        _gfile().copy(
                            os.path.join(root, name),
                            os.path.join(path, relative, name),
                            overwrite=True,
                        )
            else:
                _gfile().copy(local, path, overwrite=True)
