"""A trained generator for use outside Python: a SavedModel or a TFLite file that holds only
the generator (its EMA copy by default) and speaks uint8 images.

>>> export_generator(cyclegan, "monet_savedmodel")                 # photos in, paintings out
>>> export_generator(gan, "dogs.tflite", format="tflite")          # noise in, images out
>>> served = tf.saved_model.load("monet_savedmodel")
>>> paintings = served.signatures["serving_default"](images=photos_uint8)["images"]

Signatures:
- translators (CycleGAN, pix2pix): `serving_default(images: uint8 [N, H, W, C]) -> images:
  uint8 [N, H, W, C]`; any input size is resized to the network's, and the output is at the
  network's size (antialiased in a SavedModel, plain bilinear in TFLite, which lacks the
  antialiased kernel);
- noise models (GAN, ConditionalGAN, ACGAN): `serving_default(noise: float32 [N, latent]
  [, labels: int32 [N]]) -> images: uint8`; the SavedModel also has `from_seed(seed: int64,
  count: int32 [, labels]) -> images`, which draws the noise itself (stateless, so a seed
  always gives the same images). TFLite files carry `serving_default` only, with the same
  inputs and the images as their one output (named `output_0` there).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from ganpaint.errors import UserError, arg, refuse_existing

FORMATS = ("savedmodel", "tflite")


def _to_uint8(images):
    images = tf.cast(images, tf.float32)
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


class _Translator(tf.Module):
    def __init__(self, net, infer, antialias: bool = True):
        super().__init__()
        # `infer`: how the model translates with `net` (Pix2Pix: per image, as the paper).
        self.net, self.infer, self.antialias = net, infer, antialias
        h, w, c = net.inputs[0].shape[1:]
        self.size, self.channels = (h, w), c
        self.serve = tf.function(
            self._serve,
            input_signature=[tf.TensorSpec([None, None, None, c], tf.uint8, name="images")],
        )

    def _serve(self, images):
        x = tf.cast(images, tf.float32) / 127.5 - 1.0
        x = tf.image.resize(x, self.size, method="bilinear", antialias=self.antialias)
        return {"images": _to_uint8(self.infer(x))}


class _Generator(tf.Module):
    def __init__(self, net, latent_dim, labelled):
        super().__init__()
        self.net, self.latent_dim, self.labelled = net, latent_dim, labelled
        noise = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
        labels = tf.TensorSpec([None], tf.int32, name="labels")
        seed = tf.TensorSpec([], tf.int64, name="seed")
        count = tf.TensorSpec([], tf.int32, name="count")
        if labelled:
            self.serve = tf.function(self._serve, input_signature=[noise, labels])
            self.from_seed = tf.function(self._from_seed, input_signature=[seed, count, labels])
        else:
            self.serve = tf.function(lambda noise: self._serve(noise), input_signature=[noise])
            self.from_seed = tf.function(
                lambda seed, count: self._from_seed(seed, count), input_signature=[seed, count]
            )

    def _serve(self, noise, labels=None):
        inputs = noise if labels is None else [noise, labels]
        return {"images": _to_uint8(self.net(inputs, training=False))}

    def _from_seed(self, seed, count, labels=None):
        noise = tf.random.stateless_normal(
            tf.stack([count, self.latent_dim]), seed=tf.stack([seed, tf.constant(0, tf.int64)])
        )
        return self._serve(noise, labels)


def _module(model, use_ema: bool, direction: str, antialias: bool = True):
    if model.takes_inputs:
        net = model.translator(direction, use_ema)
        return _Translator(net, model.inference_function(net), antialias)
    return _Generator(
        model.sampling_network("generator", use_ema),
        model.latent_dim,
        model.num_classes is not None,
    )


def export_generator(
    model,
    path,
    format: str | None = None,
    use_ema: bool = True,
    direction: str = "AtoB",
    overwrite: bool = False,
) -> str:
    """Write `model`'s generator (only) with uint8 serving signatures.

    Args:
        model: a trained ganpaint model (`GAN`, `ConditionalGAN`, `ACGAN`, `CycleGAN`,
            `Pix2Pix`).
        path: a folder (SavedModel) or a `.tflite` file.
        format: "savedmodel" or "tflite"; None (default) follows `path`: a `.tflite` file is
            TFLite, anything else a SavedModel folder.
        use_ema: bool. Export the moving-average generator when the model keeps one.
        direction: CycleGAN only: "AtoB" (G_AB) or "BtoA" (G_BA).
        overwrite: bool. Replace an existing `path`; refused otherwise.

    Returns:
        The path written.
    """
    from ganpaint.gans.base import check_model

    check_model(model)
    path = os.fspath(path)
    tflite_name = path.lower().endswith(".tflite")
    if format is None:
        format = "tflite" if tflite_name else "savedmodel"
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {FORMATS}. Received: format={format!r}")
    tflite, savedmodel = arg("format='tflite'"), arg("format='savedmodel'")
    if format == "savedmodel" and tflite_name:
        raise UserError(
            f"A SavedModel is a folder, and {arg('path')} {path} is named as a TFLite file: "
            f"pass {tflite} (or drop {savedmodel}: the "
            "extension picks TFLite), or a folder name."
        )
    if not overwrite:
        refuse_existing(path, "export")
    # TFLite has no antialiased resize: its inputs are resized (when their size differs) with
    # plain bilinear filtering.
    module = _module(model, use_ema, direction, antialias=format == "savedmodel")
    if format == "savedmodel":
        signatures = {"serving_default": module.serve}
        if isinstance(module, _Generator):
            signatures["from_seed"] = module.from_seed
        from ganpaint import fs

        with fs.local_target(path) as local:  # on a bucket: written locally, then copied
            tf.saved_model.save(module, local, signatures=signatures)
        return path
    if not path.endswith(".tflite"):
        raise UserError(
            f"{arg('path')} for {tflite} must be one file ending in .tflite. Received: {path}"
        )
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # The weights frozen into the graph as constants first: converted as they are, Keras 3's
    # variables stay resource variables in the file, which nothing initialises (the outputs
    # come out as zeros).
    frozen = convert_variables_to_constants_v2(module.serve.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    flat = converter.convert()
    from ganpaint import fs

    return fs.write_atomically(path, flat)


def run_tflite(path, **inputs) -> np.ndarray:
    """Run an exported `.tflite` file once (for checks): inputs by name, returns the images."""
    from ganpaint import fs

    interpreter = tf.lite.Interpreter(model_content=fs.read_bytes(path))
    runner = interpreter.get_signature_runner()
    outputs = runner(**{k: np.asarray(v) for k, v in inputs.items()})
    return next(iter(outputs.values()))  # the only output (freezing names it `output_0`)
