"""ganpaint: GAN recipes for Keras 3 on TensorFlow.

Example:
>>> import ganpaint as gp
>>> ds = gp.data.image_dataset("photos/", image_size=64, batch_size=32, augment="flip")

`import ganpaint` imports every submodule, which registers the Keras classes that `.keras`
files name. The `ganpaint` command is the exception: it imports only what a subcommand needs,
so `ganpaint --help` answers at once, without TensorFlow (`GANPAINT_LAZY_IMPORT=1` asks for
the same anywhere).
"""
import importlib
import os
import sys

__version__ = "0.1.0"

_SUBMODULES = ("augment", "callbacks", "data", "discriminators", "distribute", "gans",
               "generators", "inspection", "layers", "losses", "metrics", "optimizers",
               "plotting", "recipes", "submission")
__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"ganpaint.{name}")
    raise AttributeError(f"module 'ganpaint' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))


def _lazy() -> bool:
    """True in the `ganpaint` command (the console script, or `python -m ganpaint`)."""
    command = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    original = list(getattr(sys, "orig_argv", []))
    as_module = "-m" in original[:-1] and original[original.index("-m") + 1] == "ganpaint"
    return (command in ("ganpaint", "ganpaint.exe") or as_module
            or os.environ.get("GANPAINT_LAZY_IMPORT") == "1")


def import_all() -> None:
    """Import every submodule (what `import ganpaint` does outside the command): `.keras`
    files name ganpaint's classes, which are registered when their modules are imported."""
    for name in _SUBMODULES:
        importlib.import_module(f"ganpaint.{name}")


if not _lazy():
    import_all()
