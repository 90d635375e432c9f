"""ganpaint: GAN recipes for Keras 3 on TensorFlow.

Example:
>>> import ganpaint as gp
>>> ds = gp.data.image_dataset("photos/", image_size=64, batch_size=32, augment="flip")

Submodules are imported on first use (`gp.gans`, `from ganpaint import metrics`), so
`import ganpaint` and the `ganpaint` command start without TensorFlow; `ganpaint --help`
answers at once. A module registers its Keras classes when it is imported, so load `.keras`
files with `gp.load_model(path)`, which imports them all first (or after any `gp.*` use that
built the model). When Keras is already imported, `import ganpaint` imports everything.
"""

import importlib
import sys

__version__ = "0.1.0"

_SUBMODULES = (
    "augment",
    "board",
    "callbacks",
    "checkpoints",
    "data",
    "discriminators",
    "distribute",
    "errors",
    "export",
    "families",
    "fs",
    "gans",
    "generators",
    "guard",
    "inspection",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "plotting",
    "recipes",
    "runs",
    "sessions",
    "settings",
    "submission",
    "sweeps",
)
__all__ = ["__version__", "import_all", "load_model", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"ganpaint.{name}")
    raise AttributeError(f"module 'ganpaint' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))


def import_all() -> None:
    """Import every submodule: registers every Keras class that a `.keras` file may name."""
    for name in _SUBMODULES:
        importlib.import_module(f"ganpaint.{name}")


def load_model(path, **kwargs):
    """`keras.saving.load_model` for ganpaint models and layers (any `.keras` file).

    A missing, truncated or corrupt file is a `ValueError` that says which of these it is."""
    import io
    import os
    import zipfile

    from ganpaint import fs

    path = os.fspath(path)
    if not fs.exists(path):
        raise ValueError(f"model file not found: {path}")
    if fs.isdir(path) or not path.endswith(".keras"):
        raise ValueError(
            f"expected a .keras model file (as `ganpaint train` writes). Received: {path}"
        )
    data = fs.read_bytes(path)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ValueError(
            f"{path} is not a readable .keras file (a .keras file is a zip "
            f"archive; this one is truncated or corrupt: {len(data):,} "
            "bytes). Copy it again, or use the run's backup/ checkpoint."
        )
    import_all()
    import keras

    try:
        with fs.local_copy(path) as local:  # on a bucket, read through a local copy
            return keras.saving.load_model(local, **kwargs)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{path} could not be loaded as a ganpaint model ({type(exc).__name__}: "
            f"{reason}). Is it a .keras file written by ganpaint, complete and "
            "from this version?"
        ) from None


if "keras" in sys.modules:  # Keras is loaded anyway: make its files loadable at once
    import_all()
