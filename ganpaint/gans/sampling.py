"""Sampling and export, one entry for every caller (callbacks, the guard, submissions, the CLI,
notebooks): `Sampling`, a base class of `ganpaint.gans.AdversarialModel`.

What a model provides: noise models override `sample` (and set `latent_dim`, `num_classes`
when labelled); translators set `takes_inputs = True` and `directions`, and override
`translator(direction, use_ema)`. `sampling_network` (the EMA copy when the model keeps one)
comes from `ganpaint.gans.small_data.SmallData`. Everything here runs eagerly, in batches, in
Keras' inference mode (`inference_function`, which Pix2Pix overrides for its per-image rule).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from ganpaint.data.preprocess import unit_images
from ganpaint.gans.helpers import input_shape_of


class Sampling:
    """`sample`, `sample_grid`, `translate_with` and `export_generator` (module docstring)."""

    takes_inputs = False  # translators take images; noise models draw noise
    num_classes = None  # labelled models: the number of classes
    directions = ()  # translators: the directions `sample(direction=...)` takes

    def sample(
        self,
        n: int | None = None,
        *,
        inputs=None,
        labels=None,
        noise=None,
        seed: int | None = None,
        direction: str = "AtoB",
        use_ema: bool = True,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Images from this model, float32 in [-1, 1], whatever kind it is: noise models
        generate `n` (or one per row of `noise`; labelled ones every class in turn unless
        `labels` are given); translators translate `inputs` (the first `n` of them). With the
        EMA generator when the model keeps one and `use_ema`.

        Args:
            n: int. How many images.
            inputs: images in [-1, 1] to translate (translators only).
            labels: int array, the class of each image (labelled models).
            noise: array [N, latent_dim] (noise models); else drawn (from `seed` if given).
            seed: int. Draw the noise from this seed, so that calls repeat.
            direction: "AtoB" or "BtoA" (CycleGAN).
        """
        if not self.takes_inputs:
            raise NotImplementedError  # the noise models override this
        if inputs is None:
            raise ValueError(f"{type(self).__name__} translates images: give the `inputs`.")
        if labels is not None or noise is not None:
            raise ValueError(
                f"{type(self).__name__} translates images; `labels` and `noise` "
                "are for noise models."
            )
        if direction not in self.directions:
            raise ValueError(
                f"`direction` must be one of {self.directions} for "
                f"{type(self).__name__}. Received: direction={direction!r}"
            )
        inputs = unit_images(inputs, "inputs")
        inputs = inputs[:n] if n else inputs
        return self.translate_with(self.translator(direction, use_ema), inputs, batch_size or 8)

    def sample_grid(
        self, n: int = 16, *, inputs=None, seed: int = 0, classes=None, use_ema: bool = True
    ) -> tuple[np.ndarray, int | None]:
        """The images of a sample grid and its number of columns: each input beside its
        translation (translators), one row per class with the same noise in every row
        (labelled models), or `n` samples of fixed noise."""
        if self.takes_inputs:
            if inputs is None:
                raise ValueError(
                    f"A sample grid of a {type(self).__name__} needs `inputs` "
                    "(images to translate)."
                )
            inputs = unit_images(inputs, "inputs")[:n]
            outputs = self.sample(inputs=inputs, use_ema=use_ema)
            pairs = np.stack([inputs, outputs], axis=1).reshape(-1, *inputs.shape[1:])
            return pairs, 2 * min(4, len(inputs))
        rng = np.random.default_rng(seed)
        noise = rng.normal(size=(n, self.latent_dim)).astype("float32")
        if self.num_classes is None:
            return self.sample(noise=noise, use_ema=use_ema), None
        classes = classes or self.num_classes
        labels = np.repeat(np.arange(classes), n)  # the same noise in every row
        return self.sample(noise=np.tile(noise, (classes, 1)), labels=labels, use_ema=use_ema), n

    def class_labels(self, n: int, start: int = 0) -> np.ndarray | None:
        """Every class in turn for images `start .. start + n` (None for unlabelled models):
        the labels of a sample that covers the classes equally."""
        if self.num_classes is None:
            return None
        return (np.arange(start, start + n) % self.num_classes).astype("int32")

    def translator(self, direction: str = "AtoB", use_ema: bool = True) -> keras.Model:
        """The network that translates in `direction` (translators only)."""
        raise ValueError(f"{type(self).__name__} generates from noise; it has no translator.")

    def export_generator(
        self,
        path,
        format: str | None = None,
        use_ema: bool = True,
        direction: str = "AtoB",
        overwrite: bool = False,
    ) -> str:
        """Write only the generator (its EMA copy by default) as a SavedModel folder or a
        `.tflite` file, with uint8 serving signatures: images in and out for translators,
        noise (and labels) in for generators. See `ganpaint.export.export_generator`."""
        from ganpaint.export import export_generator

        return export_generator(
            self, path, format=format, use_ema=use_ema, direction=direction, overwrite=overwrite
        )

    def inference_function(self, net: keras.Model):
        """The function that `net` (a generator or its EMA copy) translates or generates with,
        here and in exported models: Keras' inference mode (batch norm on its moving averages,
        dropout off). Pix2Pix may override it (`inference="per_image"`)."""
        return lambda x: net(x, training=False)

    def translate_with(self, net: keras.Model, images, batch_size: int) -> np.ndarray:
        """`images` (one, or a batch) translated by `net` as the model infers, in batches."""
        images = unit_images(images, "images")
        expected = input_shape_of(net)
        if images.ndim == len(expected):
            images = images[None]
        if tuple(images.shape[1:]) != expected:
            raise ValueError(
                f"`images` must have shape [N, {', '.join(map(str, expected))}] "
                f"for `{net.name}`. Received: shape {images.shape}"
            )
        return self.run_in_batches(self.inference_function(net), [images], batch_size)

    def run_in_batches(self, fn, inputs: Sequence, batch_size: int) -> np.ndarray:
        """`fn` over `inputs` (arrays of equal length) `batch_size` rows at a time, the
        results concatenated."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(
                f"`batch_size` must be a positive int. Received: batch_size={batch_size!r}"
            )
        n = len(inputs[0])
        out = [
            np.asarray(fn(*[tf.convert_to_tensor(x[i : i + batch_size]) for x in inputs]))
            for i in range(0, n, batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0,), "float32")
