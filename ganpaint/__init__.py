"""ganpaint: GAN recipes for Keras 3 on TensorFlow.

Example:
>>> import ganpaint as gp
>>> ds = gp.data.image_dataset("photos/", image_size=64, batch_size=32, augment="flip")
"""

__version__ = "0.1.0"

from ganpaint import (  # noqa: E402
    callbacks,
    data,
    discriminators,
    distribute,
    gans,
    generators,
    inspection,
    layers,
    losses,
    metrics,
    optimizers,
    plotting,
    recipes,
)

__all__ = ["__version__", "callbacks", "data", "discriminators", "distribute", "gans",
           "generators", "inspection", "layers", "losses", "metrics", "optimizers",
           "plotting", "recipes"]
