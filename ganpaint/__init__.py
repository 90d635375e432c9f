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

_SUBMODULES = ("augment", "callbacks", "data", "discriminators", "distribute", "gans",
               "generators", "guard", "inspection", "layers", "losses", "metrics",
               "optimizers", "plotting", "recipes", "runs", "sessions", "submission")
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
    """`keras.saving.load_model` for ganpaint models and layers (any `.keras` file)."""
    import_all()
    import keras

    return keras.saving.load_model(path, **kwargs)


if "keras" in sys.modules:  # Keras is loaded anyway: make its files loadable at once
    import_all()
