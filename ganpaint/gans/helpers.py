"""Helpers the model families share: shapes of networks, checks of arguments and data, and the
reconstruction distances. `ganpaint.gans.base` re-exports them for the families
(docs/adding_a_family.md).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def input_shape_of(model, index=0):
    inputs = model.inputs if isinstance(model.inputs, (list, tuple)) else [model.inputs]
    return tuple(inputs[index].shape[1:])


def output_shape_of(model, index=0):
    outputs = model.outputs if isinstance(model.outputs, (list, tuple)) else [model.outputs]
    return tuple(outputs[index].shape[1:])


def check_meet(source, source_shape, target, target_shape, what):
    if source_shape != target_shape:
        raise ValueError(
            f"{what}: `{source.name}` outputs images of shape {source_shape} but "
            f"`{target.name}` takes {target_shape}."
        )


def has_batch_norm(model) -> bool:
    return has_layer(model, keras.layers.BatchNormalization)


def has_layer(model, kinds) -> bool:
    return any(
        isinstance(layer, kinds) or (isinstance(layer, keras.Model) and has_layer(layer, kinds))
        for layer in model.layers
    )


def non_negative(value, name) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
    return float(value)


def mean_l1(a, b):
    """Mean absolute difference, in float32 (the translators' reconstruction terms)."""
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


def mean_l2(a, b):
    """Mean squared difference, in float32."""
    return ops.mean(ops.square(ops.cast(a, "float32") - ops.cast(b, "float32")))


def as_pair(data, model_name, what):
    if isinstance(data, (tuple, list)) and len(data) >= 2:
        return data[0], data[1]
    raise ValueError(
        f"{model_name} trains on a dataset of ({what}) pairs. Received an element "
        f"of type {type(data).__name__}."
    )


def images_of(data):
    """The images of a dataset element: a batch, or the first item of (images, labels)."""
    return data[0] if isinstance(data, (tuple, list)) else data


def check_class_labels(labels, num_classes: int, name: str = "labels") -> np.ndarray:
    """Labels as int32 [N], each a class of a model with `num_classes`: whole numbers (floats
    such as 0.5 are refused, not truncated) in [0, num_classes)."""
    raw = np.asarray(labels).reshape(-1)
    if raw.dtype == bool or not np.issubdtype(raw.dtype, np.number):
        raise ValueError(f"`{name}` must be integer class labels. Received dtype {raw.dtype}")
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        fraction = raw[~np.isfinite(raw) | (raw != np.round(raw))]
        if fraction.size:
            raise ValueError(
                f"`{name}` must be whole class numbers; received "
                f"{fraction[0].item()!r} (of {raw.dtype}). Round or cast them on "
                "purpose first."
            )
    if raw.size:
        lo, hi = int(raw.min()), int(raw.max())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"`{name}` holds class {bad}, outside the model's {num_classes} "
                f"classes (0 to {num_classes - 1}): build the model with "
                f"num_classes={hi + 1}, or relabel the data."
            )
    return raw.astype("int32")
