"""Bounding-box crops from Pascal VOC annotations: the Stanford Dogs / Kaggle "Generative Dog
Images" layout, where the strong notebooks train on the dogs cut from their boxes rather than
on whole photos full of people and sofas.

    Images/n02085620-Chihuahua/n02085620_10074.jpg
    Annotation/n02085620-Chihuahua/n02085620_10074      (VOC XML, no extension)

Each `<object>` of an image's XML file (`<name>` and `<bndbox>` xmin/ymin/xmax/ymax) becomes
one training image: the box, widened by `margin`, made square (`square="expand"` grows the box
over the photo, `"pad"` pads the crop with black), and resized. An image can hold several
dogs; labels are the objects' names (the breed).

>>> ds = image_dataset("all-dogs/", annotations="Annotation/", image_size=64, batch_size=32)
>>> images_to_npz("Images/", "dogs64.npz", 64, annotations="Annotation/", labels=True)
"""

from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ElementTree

import numpy as np

from ganpaint import fs
from ganpaint.errors import UserError, arg

SKIP = "on_error='skip'"

SQUARE = ("expand", "pad")


def read_voc(path) -> dict:
    """One Pascal VOC annotation file as {"file", "width", "height", "objects": [{"name",
    "box": (xmin, ymin, xmax, ymax)}]}. A malformed file is a `ValueError` naming it."""
    path = os.fspath(path)
    try:
        root = ElementTree.fromstring(fs.read_bytes(path))
    except (ElementTree.ParseError, OSError) as exc:
        raise ValueError(f"{path} is not a readable VOC annotation (XML: {exc})") from None
    objects = []
    for index, element in enumerate(root.iter("object")):
        box = element.find("bndbox")
        name = (element.findtext("name") or "").strip()
        try:
            coords = tuple(float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            raise ValueError(
                f"{path}: object {index} has no readable <bndbox> (xmin, ymin, xmax, ymax)"
            ) from None
        if not name:
            raise ValueError(f"{path}: object {index} has no <name>")
        objects.append({"name": name, "box": coords})
    if not objects:
        raise ValueError(f"{path} holds no <object> with a <bndbox>")

    def size(key):
        text = root.findtext(f"size/{key}")
        return int(float(text)) if text else None

    return {
        "file": root.findtext("filename"),
        "width": size("width"),
        "height": size("height"),
        "objects": objects,
    }


def annotation_index(folder) -> dict[str, str]:
    """Annotation files under `folder` by the stem of the image they describe (the Stanford
    layout names them after the image, without extension; `.xml` files are taken too)."""
    folder = os.fspath(folder)
    if not fs.isdir(folder):
        raise UserError(
            f"{arg('annotations')} must be a folder of VOC XML files. Received: {folder}"
        )
    index = {}
    for root, dirs, names in fs.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            stem, ext = os.path.splitext(name)
            if name.startswith(".") or ext.lower() not in ("", ".xml"):
                continue
            index.setdefault(stem, os.path.join(root, name))
    if not index:
        raise UserError(
            f"No annotation files in {folder} (expected VOC XML files named after "
            "their images, as Stanford Dogs' Annotation/<breed>/<image id>)."
        )
    return index


def square_box(box, width: int, height: int, margin: float = 0.0, square: str = "expand"):
    """The crop window (left, top, right, bottom), in whole pixels inside the image, of a box
    widened by `margin` (a fraction of its size on each side); with "expand" the shorter side
    grows to the longer, shifted to stay inside the image where it fits. None when the box
    lies outside the image."""
    if square not in SQUARE:
        raise ValueError(f"`square` must be one of {SQUARE}. Received: square={square!r}")
    xmin, ymin, xmax, ymax = box
    if min(xmax, width) - max(xmin, 0) < 2 or min(ymax, height) - max(ymin, 0) < 2:
        return None  # outside the image (or empty): no dog to crop
    w, h = xmax - xmin, ymax - ymin
    xmin, xmax = xmin - margin * w, xmax + margin * w
    ymin, ymax = ymin - margin * h, ymax + margin * h
    if square == "expand":
        side = max(xmax - xmin, ymax - ymin)
        side = min(side, max(width, height))
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        xmin, xmax = cx - side / 2, cx + side / 2
        ymin, ymax = cy - side / 2, cy + side / 2
        # Shift back inside the image where the window fits (never past both edges).
        shift_x = max(0.0, -xmin) - max(0.0, xmax - width)
        shift_y = max(0.0, -ymin) - max(0.0, ymax - height)
        if xmax - xmin <= width:
            xmin, xmax = xmin + shift_x, xmax + shift_x
        if ymax - ymin <= height:
            ymin, ymax = ymin + shift_y, ymax + shift_y
    left, top = max(0, int(round(xmin))), max(0, int(round(ymin)))
    right, bottom = min(width, int(round(xmax))), min(height, int(round(ymax)))
    if right - left < 2 or bottom - top < 2:
        return None
    return left, top, right, bottom


def _to_square(crop: np.ndarray) -> np.ndarray:
    """Pad a crop with black to a square, centred."""
    h, w = crop.shape[:2]
    side = max(h, w)
    out = np.zeros((side, side, crop.shape[2]), crop.dtype)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = crop
    return out


def box_crops(
    files,
    annotations,
    image_size,
    *,
    margin: float = 0.0,
    square: str = "expand",
    channels: int = 3,
    on_error: str = "raise",
    root=None,
) -> dict:
    """One uint8 image per annotated object of each image file, cropped, squared and resized.

    Args:
        files: image paths.
        annotations: a folder of VOC files (`annotation_index`).
        image_size: (height, width) of the crops.
        margin: float >= 0. Widen each box by this fraction of its size on each side.
        square: "expand" (grow the box over the photo) or "pad" (pad the crop with black).
        on_error: "raise" names the first image whose annotation is missing or malformed, or
            whose box lies outside it; "skip" leaves those out and warns with their names.
        root: folder the names are relative to.

    Returns:
        {"images", "labels" (int32, by object name), "class_names", "names" (file#k),
        "skipped": [(file, reason)]}.
    """
    from PIL import Image, ImageOps

    if margin < 0:
        raise ValueError(f"`margin` must be >= 0. Received: margin={margin!r}")
    if square not in SQUARE:
        raise ValueError(f"`square` must be one of {SQUARE}. Received: square={square!r}")
    index = annotation_index(annotations)
    height, width = image_size
    images, names, breeds, skipped = [], [], [], []

    def bad(path, reason):
        if on_error == "raise":
            raise UserError(
                f"{path}: {reason}. Fix the annotation, or pass {arg(SKIP)} to leave such "
                "images out."
            )
        skipped.append((path, reason))

    for path in files:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem not in index:
            bad(path, f"no annotation named {stem} under {annotations}")
            continue
        try:
            record = read_voc(index[stem])
        except ValueError as exc:
            bad(path, str(exc))
            continue
        with fs.open(path, "rb") as f, Image.open(f) as picture:
            picture = ImageOps.exif_transpose(picture).convert("RGB" if channels == 3 else "L")
            pixels = np.asarray(picture)
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        kept = 0
        for k, obj in enumerate(record["objects"]):
            window = square_box(obj["box"], pixels.shape[1], pixels.shape[0], margin, square)
            if window is None:
                bad(
                    path,
                    f"object {k} ({obj['name']}) has its box {obj['box']} outside the "
                    f"{pixels.shape[1]}x{pixels.shape[0]} image",
                )
                continue
            left, top, right, bottom = window
            crop = pixels[top:bottom, left:right]
            if crop.shape[0] != crop.shape[1]:
                crop = _to_square(crop)
            resized = Image.fromarray(crop.squeeze(-1) if channels == 1 else crop).resize(
                (width, height), Image.BICUBIC
            )
            array = np.asarray(resized)
            images.append(array[..., None] if array.ndim == 2 else array)
            rel = os.path.relpath(path, root) if root else os.path.basename(path)
            names.append(f"{rel}#{k}")
            breeds.append(obj["name"])
            kept += 1
    if skipped:
        listing = "\n".join(f"  {p}: {r}" for p, r in skipped[:10])
        warnings.warn(
            f"Skipped {len(skipped)} annotated object(s) or image(s):\n{listing}", stacklevel=3
        )
    if not images:
        raise ValueError(
            f"No annotated object could be cropped from the {len(files)} images "
            f"with the annotations in {annotations}."
        )
    class_names = sorted(set(breeds))
    lookup = {c: i for i, c in enumerate(class_names)}
    return {
        "images": np.stack(images).astype(np.uint8),
        "labels": np.array([lookup[b] for b in breeds], np.int32),
        "class_names": class_names,
        "names": names,
        "skipped": skipped,
    }
