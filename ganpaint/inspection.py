"""Looking inside networks: intermediate feature maps and receptive fields."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

_NORM_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.GroupNormalization,
    keras.layers.LayerNormalization,
    keras.layers.Dropout,
)


def receptive_field(model: keras.Model, input_size: int | None = None) -> int:
    """Measures a discriminator's receptive field, in pixels, from its gradients.

    Takes the gradient of one output logit (the centre of the output map) with respect to the
    input, on a copy of the model with normalization and dropout removed and every weight set
    to a positive constant, on a constant input, so no path can cancel out; the receptive
    field is the extent of the non-zero gradient. Works on any fully convolutional model with
    one image input (for a conditional model, the first input).

    Args:
        model: a Keras model whose output is a spatial map `[B, H', W', C]`.
        input_size: int. Square input side to probe with. Defaults to the model's own input
            size, or 512 when that is not fixed.

    Example:
    >>> receptive_field(patchgan_discriminator((256, 256, 3), receptive_field=70))
    70
    """

    def without_norm(layer):
        # Normalization pools statistics over the whole image, which would make every field
        # global; the receptive field is a property of the convolution geometry.
        if isinstance(layer, _NORM_LAYERS):
            return keras.layers.Identity(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    probe = keras.models.clone_model(model, clone_function=without_norm)
    for weight in probe.weights:
        weight.assign(np.full(weight.shape, 0.01, dtype="float32"))
    inputs = probe.inputs
    shapes = [tuple(i.shape[1:]) for i in inputs]
    size = input_size or shapes[0][0] or 512
    xs = [tf.ones((1, size, size, s[-1])) for s in shapes]
    with tf.GradientTape() as tape:
        tape.watch(xs[0])
        out = probe(xs if len(xs) > 1 else xs[0], training=False)
        out = out[0] if isinstance(out, (list, tuple)) else out
        if len(out.shape) != 4:
            raise ValueError(
                f"`model` must output a spatial map [B, H, W, C]; its output has shape {out.shape}"
            )
        h, w = out.shape[1] // 2, out.shape[2] // 2
        target = tf.reduce_sum(out[0, h, w])
    grad = tape.gradient(target, xs[0])
    nonzero = np.argwhere(np.abs(grad.numpy()[0]).sum(-1) > 0)
    if len(nonzero) == 0:
        raise ValueError("No input pixel reaches the output; is the model fully convolutional?")
    rows = nonzero[:, 0].max() - nonzero[:, 0].min() + 1
    cols = nonzero[:, 1].max() - nonzero[:, 1].min() + 1
    if rows >= size or cols >= size:
        raise ValueError(
            f"The receptive field fills the whole {size}x{size} probe; pass a larger `input_size`."
        )
    return int(max(rows, cols))


def _model_inputs(model):
    """The model's inputs in the structure it is called with (one tensor or a list)."""
    inputs = model.inputs if isinstance(model.inputs, (list, tuple)) else [model.inputs]
    return inputs[0] if len(inputs) == 1 else list(inputs)


def layer_paths(model: keras.Model, prefix: str = "") -> list[str]:
    """Every layer name of `model`, nested models' layers as "outer/inner" (recursively)."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        names.append(prefix + layer.name)
        if isinstance(layer, keras.Model):
            names += layer_paths(layer, prefix + layer.name + "/")
    return names


def _resolve(model, name):
    """The layer path [outer, ..., layer] for "a/b" or a bare name found at any depth."""
    parts = name.split("/")
    top = {l.name: l for l in model.layers}
    if parts[0] in top:
        layer = top[parts[0]]
        if len(parts) == 1:
            return [layer]
        if isinstance(layer, keras.Model):
            rest = _resolve(layer, "/".join(parts[1:]))
            if rest is not None:
                return [layer] + rest
        return None
    if len(parts) == 1:
        found = []
        for layer in model.layers:
            if isinstance(layer, keras.Model):
                sub = _resolve(layer, name)
                if sub is not None:
                    found.append([layer] + sub)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(
                f"Layer name {name!r} is in several nested models; write it as "
                f"{', '.join('/'.join(l.name for l in p) for p in found)}."
            )
    return None


def _nested_inputs(model, nested, x):
    """The tensors `model` feeds into its nested model `nested` for input x."""
    node = nested._inbound_nodes[-1]
    feeds = keras.Model(_model_inputs(model), list(node.input_tensors))
    out = feeds(x, training=False)
    return out if len(node.input_tensors) > 1 else (out[0] if isinstance(out, list) else out)


def feature_maps(model: keras.Model, x, layer_names: list[str] | None = None) -> dict:
    """What each intermediate layer outputs for an input: the Keras FAQ feature-extraction
    recipe, extended to nested models (e.g. the EfficientNet encoder inside
    `efficientnet_generator`, whose layers are named "encoder/<layer>").

    Args:
        model: a functional keras.Model.
        x: its input (a batch, or a list of batches for several inputs).
        layer_names: names of layers, "outer/inner" for nested ones (a bare name is also found
            inside a nested model when it is unique). Defaults to every top-level layer.

    Returns:
        {name: numpy array} in the order asked (a layer with several outputs gives a list).

    Example:
    >>> maps = feature_maps(g, images, ["encoder/block2a_expand_conv", "up1_conv"])
    >>> {k: v.shape for k, v in maps.items()}
    """
    if layer_names is None:
        layer_names = [l.name for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    if isinstance(layer_names, str):
        layer_names = [layer_names]
    paths, unknown = {}, []
    for name in layer_names:
        path = _resolve(model, name)
        if path is None:
            unknown.append(name)
        else:
            paths[name] = path
    if unknown:
        raise ValueError(
            f"No layer named {', '.join(map(repr, unknown))} in `{model.name}`. "
            f"Valid names: {', '.join(layer_paths(model))}"
        )
    results = {}
    direct = [n for n, p in paths.items() if len(p) == 1]
    if direct:
        flat, spans = [], {}
        for n in direct:  # a layer with several outputs (a nested encoder) gives a list
            layer = paths[n][0]
            # A nested model's own `.output` is inside its graph; its call in ours is a node.
            out = (
                list(layer._inbound_nodes[-1].output_tensors)
                if isinstance(layer, keras.Model)
                else layer.output
            )
            out = list(out) if isinstance(out, (list, tuple)) else [out]
            spans[n] = (len(flat), len(out), len(out) > 1)
            flat += out
        outputs = keras.Model(_model_inputs(model), flat)(x, training=False)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        for n, (start, count, several) in spans.items():
            values = [_numpy(o) for o in outputs[start : start + count]]
            results[n] = values if several else values[0]
    by_nested: dict[str, list[str]] = {}
    for n, p in paths.items():
        if len(p) > 1:
            by_nested.setdefault(p[0].name, []).append(n)
    for nested_name, names in by_nested.items():
        nested = model.get_layer(nested_name)
        inner = feature_maps(
            nested,
            _nested_inputs(model, nested, x),
            ["/".join(l.name for l in paths[n][1:]) for n in names],
        )
        results.update(dict(zip(names, inner.values())))
    return {n: results[n] for n in layer_names}


def _numpy(value):
    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value)).astype("float32")


def plot_feature_maps(maps: dict, path=None, channels: int = 8, index: int = 0):
    """One row per layer: the first `channels` channels of image `index`'s feature maps
    (dense outputs are shown as a strip). Returns the matplotlib Figure; saves it to `path`."""
    from ganpaint.plotting import finish_figure, pyplot

    plt = pyplot(path)

    if not maps:
        raise ValueError("`maps` is empty.")
    fig, axes = plt.subplots(
        len(maps), channels, figsize=(1.6 * channels, 1.7 * len(maps)), squeeze=False
    )
    for row, (name, value) in zip(axes, maps.items()):
        value = np.asarray(value[0] if isinstance(value, list) else value)[index]
        if value.ndim == 1:
            value = value[None, :, None]
        for c, ax in enumerate(row):
            ax.axis("off")
            if value.ndim == 3 and c < value.shape[-1]:
                ax.imshow(value[..., c], cmap="viridis", aspect="auto")
        row[0].set_title(f"{name} {tuple(value.shape)}", fontsize=7, loc="left")
    return finish_figure(fig, path)
