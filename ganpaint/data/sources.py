"""Image sources: everything `image_dataset` accepts, resolved into one uniform form.

A source resolves to either an in-memory uint8 array (npz, CSV, numpy) or a list of files read
inside tf.data (image folders, TFRecords). Files are checked when the source is resolved, so a
corrupt JPEG or a TFRecord without an `image` feature is reported by name before training
starts instead of surfacing as an anonymous TensorFlow error in the middle of an epoch.
"""

from __future__ import annotations

import dataclasses
import io
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from ganpaint.data import preprocess

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
TFRECORD_EXTENSIONS = (".tfrec", ".tfrecord", ".tfrecords")
_UNSUPPORTED_IMAGE_EXTENSIONS = (".webp", ".tif", ".tiff", ".heic", ".avif", ".ppm", ".jp2")
_GLOB_CHARS = "*?["


@dataclasses.dataclass
class Source:
    """A resolved source.

    Exactly one of `images` (uint8 `[N, H, W, C]`), `files` (image paths) or `tfrecords` is set.
    """

    description: str
    num_images: int
    images: np.ndarray | None = None
    files: list[str] | None = None
    tfrecords: list[str] | None = None
    labels: np.ndarray | None = None
    class_names: list[str] | None = None
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    has_label_feature: bool = False
    channels: int = 3
    names: list[str] | None = None  # one per image where the source names them (npz `names`)
    compression: str = ""  # TFRecords: "", "GZIP" or "ZLIB"


def resolve(
    source: Any,
    *,
    channels: int = 3,
    labels: bool | Sequence[int] | np.ndarray = False,
    on_error: str = "raise",
) -> Source:
    """Resolves `source` into a `Source`, validating files and labels.

    Args:
        source: a path to a `.npz`, a folder of images, a Kaggle digit-recognizer `.csv`, a
            TFRecord file, glob or list of TFRecord files, or a numpy array `[N, H, W(, C)]`.
        channels: int. 1 or 3.
        labels: bool, or an array of integer labels (one per image) to use instead of any
            labels the source holds.
        on_error: "raise" (default) stops at the first bad file with its name; "skip" leaves bad
            files out and warns once with their names (they are also in `Source.skipped`).
    """
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: channels={channels}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"`on_error` must be 'raise' or 'skip'. Received: on_error={on_error!r}")
    read_labels = labels is True  # labels from the source itself

    if isinstance(source, (np.ndarray, tf.Tensor)):
        resolved = Source(
            "numpy array", len(source), images=array_to_uint8(source, "array", channels)
        )
    elif isinstance(source, (str, os.PathLike)):
        resolved = _resolve_path(os.fspath(source), channels, read_labels, on_error)
    elif (
        isinstance(source, (list, tuple))
        and source
        and all(isinstance(s, (str, os.PathLike)) for s in source)
    ):
        paths = [os.fspath(s) for s in source]
        if all(p.lower().endswith(TFRECORD_EXTENSIONS) for p in paths):
            resolved = _tfrecord_source(paths, ", ".join(paths), read_labels, on_error)
        else:
            resolved = _file_list_source(paths, f"{len(paths)} image files", on_error)
    else:
        raise ValueError(
            "`source` must be a path (folder, .npz, .csv, TFRecord file or glob), a list of "
            f"paths, or a numpy array. Received: {type(source).__name__}"
        )

    if not isinstance(labels, bool):
        resolved.labels = _check_labels(np.asarray(labels), resolved.num_images, "labels")
    elif labels and resolved.labels is None and not resolved.has_label_feature:
        raise ValueError(
            f"labels=True but {resolved.description} holds no labels. Use an npz with a "
            "`labels` array, a folder with one subfolder per class, a CSV with a `label` "
            "column, TFRecords with an integer `label` feature, or pass `labels=` an array."
        )
    resolved.channels = channels
    if labels is False:
        resolved.labels = None
        resolved.has_label_feature = False
    return resolved


def record_names(src: Source) -> list[str] | None:
    """The `image_name` of every record of a TFRecord source (Kaggle's layout), in order."""
    if not src.tfrecords:
        return None
    names = []
    for record in tfrecord_dataset(src.tfrecords, src.compression):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        value = feature["image_name"].bytes_list.value if "image_name" in feature else []
        names.append(value[0].decode(errors="replace") if value else str(len(names)))
    return names


def first_image_shape(src: Source) -> tuple[int, int]:
    """(height, width) of the first image of a resolved source, decoding one image at most."""
    if src.images is not None:
        return int(src.images.shape[1]), int(src.images.shape[2])
    if src.files:
        data = tf.io.read_file(src.files[0])
    else:
        record = next(iter(tfrecord_dataset(src.tfrecords[:1], src.compression).take(1)))
        data = tf.train.Example.FromString(record.numpy()).features.feature["image"]
        data = tf.constant(data.bytes_list.value[0])
    shape = preprocess.decode_image(data).shape  # as viewers show it (EXIF turns)
    return int(shape[0]), int(shape[1])


def tfrecord_dataset(files, compression: str = "", **kwargs) -> tf.data.TFRecordDataset:
    """`tf.data.TFRecordDataset` over files of one compression ("", "GZIP" or "ZLIB")."""
    return tf.data.TFRecordDataset(files, compression_type=compression, **kwargs)


# ---------------------------------------------------------------------------------------------
# In-memory sources


def array_to_uint8(array: Any, name: str, channels: int = 3) -> np.ndarray:
    """Validates an image array and converts it to uint8 `[N, H, W, channels]`.

    uint8 is taken as [0, 255]. Other integer types must lie in [0, 255]. Float arrays are read
    by their values: any value above 1 means [0, 255]; otherwise any negative value means
    [-1, 1]; otherwise [0, 1].
    """
    array = np.asarray(array)
    if array.dtype == object:
        raise ValueError(
            f"{name} holds images of different shapes (an object array); resize "
            "them to one size first, as `images_to_npz` does."
        )
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            f"{name} must have shape [N, H, W] or [N, H, W, C] with C in 1..4. "
            f"Received shape {array.shape}"
        )
    if len(array) == 0:
        raise ValueError(f"{name} holds no images (shape {array.shape})")
    if array.dtype == np.uint8:
        out = array
    elif np.issubdtype(array.dtype, np.integer):
        lo, hi = array.min(), array.max()
        if lo < 0 or hi > 255:
            raise ValueError(f"{name} has integer values in [{lo}, {hi}]; expected [0, 255]")
        out = array.astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        lo, hi = float(array.min()), float(array.max())
        if hi > 1.0:
            if lo < 0 or hi > 255:
                raise ValueError(
                    f"{name} has values in [{lo}, {hi}], which fits none of the "
                    "ranges [0, 255], [0, 1] or [-1, 1]"
                )
            scaled = array
        elif lo < 0:
            if lo < -1:
                raise ValueError(
                    f"{name} has values in [{lo}, {hi}], which fits none of the "
                    "ranges [0, 255], [0, 1] or [-1, 1]"
                )
            scaled = (array + 1.0) * 127.5
        else:
            scaled = array * 255.0
        out = np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    else:
        raise ValueError(f"{name} has dtype {array.dtype}; expected uint8, integer or float")
    if out.shape[-1] != channels:
        # Chunks keep the float intermediate small for large arrays.
        out = np.concatenate(
            [
                preprocess.convert_channels(tf.constant(out[i : i + 512]), channels).numpy()
                for i in range(0, len(out), 512)
            ]
        )
    return out


def _check_labels(labels: np.ndarray, num_images: int, name: str) -> np.ndarray:
    labels = (
        np.asarray(labels).reshape(-1)
        if np.ndim(labels) == 2 and np.shape(labels)[1] == 1
        else np.asarray(labels)
    )
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be one integer label per image; received shape {labels.shape}"
        )
    if len(labels) != num_images:
        raise ValueError(
            f"{name} has {len(labels)} labels for {num_images} images; they must match one to one"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise ValueError(
                f"{name} must be integers (class indices); received dtype {labels.dtype}"
            )
    if len(labels) and labels.min() < 0:
        raise ValueError(f"{name} must be non-negative class indices; found {labels.min()}")
    return labels.astype(np.int32)


def _load_npz(path: str, channels: int) -> Source:
    from ganpaint import fs

    try:
        with np.load(io.BytesIO(fs.read_bytes(path)), allow_pickle=False) as npz:
            contents = {key: npz[key] for key in npz.files}
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise ValueError(
                f"{path} holds an object array, as np.savez writes for images of "
                "different shapes; resize them to one size first (images_to_npz "
                "does)."
            ) from None
        raise ValueError(f"{path} is not a readable .npz file: {err}") from None
    except (OSError, EOFError) as err:
        raise ValueError(f"{path} is not a readable .npz file: {err}") from None

    if "images" in contents:
        images = contents["images"]
    elif "arr_0" in contents:
        arrays = [k for k in contents if k.startswith("arr_")]
        if len(arrays) == 1:
            images = contents["arr_0"]
        else:
            # np.savez(path, *list_of_images) stores one key per image.
            ordered = [contents[f"arr_{i}"] for i in range(len(arrays))]
            shapes = {a.shape for a in ordered}
            if len(shapes) > 1:
                examples = ", ".join(
                    f"arr_{i}: {a.shape}"
                    for i, a in enumerate(ordered[:50])
                    if a.shape != ordered[0].shape
                )
                raise ValueError(
                    f"{path} holds images of mixed shapes (arr_0: "
                    f"{ordered[0].shape}, {examples}); resize them to one size "
                    "first (images_to_npz does)."
                )
            images = np.stack(ordered)
    else:
        raise ValueError(f"{path} has no `images` or `arr_0` array; it holds {sorted(contents)}")
    images = array_to_uint8(images, path, channels)
    labels = None
    if "labels" in contents:
        labels = _check_labels(contents["labels"], len(images), f"`labels` in {path}")
    class_names = [str(c) for c in contents["class_names"]] if "class_names" in contents else None
    names = (
        [str(n) for n in contents["names"]]
        if "names" in contents and len(contents["names"]) == len(images)
        else None
    )
    return Source(
        path, len(images), images=images, labels=labels, class_names=class_names, names=names
    )


def _load_digit_csv(path: str, channels: int) -> Source:
    """Kaggle digit-recognizer layout: a header `label,pixel0,...,pixel783` (or no `label`)."""
    from ganpaint import fs

    text = fs.read_text(path)
    header = text.split("\n", 1)[0].strip().split(",")
    has_label = header[0].strip().lower() == "label"
    pixel_cols = header[1:] if has_label else header
    side = int(round(len(pixel_cols) ** 0.5))
    if not pixel_cols or side * side != len(pixel_cols) or not pixel_cols[0].startswith("pixel"):
        raise ValueError(
            f"{path} is not in the digit-recognizer layout: expected a header "
            "`label,pixel0,...` (or `pixel0,...`) with a square number of pixel "
            f"columns; found {len(header)} columns starting {header[:3]}"
        )
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: could not read pixel rows: {err}") from None
    if table.shape[0] == 0:
        raise ValueError(f"{path} has a header but no rows")
    if table.shape[1] != len(header):
        raise ValueError(f"{path}: rows have {table.shape[1]} columns, the header {len(header)}")
    labels = table[:, 0] if has_label else None
    pixels = table[:, 1:] if has_label else table
    images = array_to_uint8(pixels.reshape(-1, side, side), path, channels)
    if labels is not None:
        labels = _check_labels(labels, len(images), f"the `label` column of {path}")
    return Source(path, len(images), images=images, labels=labels)


# ---------------------------------------------------------------------------------------------
# File sources


def _resolve_path(path: str, channels: int, want_labels: bool, on_error: str) -> Source:
    lower = path.lower()
    if any(c in path for c in _GLOB_CHARS):
        files = sorted(tf.io.gfile.glob(path))
        if not files:
            raise ValueError(f"No files match {path!r}")
        return _tfrecord_source(files, path, want_labels, on_error)
    if not tf.io.gfile.exists(path):
        raise ValueError(f"No such file or folder: {path}")
    if tf.io.gfile.isdir(path):
        names = tf.io.gfile.listdir(path)
        records = sorted(
            os.path.join(path, name) for name in names if name.lower().endswith(TFRECORD_EXTENSIONS)
        )
        images = [name for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
        if records and images:
            raise ValueError(
                f"Folder {path} holds both TFRecord files ({len(records)}, e.g. "
                f"{os.path.basename(records[0])}) and images ({len(images)}, e.g. {images[0]}): "
                f"give the records as {os.path.join(path, '*.tfrec')!r}, or move the images into "
                "a folder of their own"
            )
        if records:  # a Kaggle-style folder of shards, e.g. monet_tfrec/
            return _tfrecord_source(records, f"TFRecords in {path}", want_labels, on_error)
        return _folder_source(path, want_labels, on_error)
    if lower.endswith(".npz"):
        return _load_npz(path, channels)
    if lower.endswith(".csv"):
        return _load_digit_csv(path, channels)
    if lower.endswith(TFRECORD_EXTENSIONS):
        return _tfrecord_source([path], path, want_labels, on_error)
    raise ValueError(
        f"Don't know how to read {path}: expected a folder, .npz, .csv or TFRecord "
        f"file ({', '.join(TFRECORD_EXTENSIONS)})"
    )


def list_image_files(folder: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Lists image files under `folder`, recursively and sorted; hidden entries are ignored.
    Links are followed once: a link back to a folder already listed (a symlink loop) is left
    out with a warning, as are FIFOs, sockets and devices (reading one waits forever).

    Returns (image files, [(other file, reason)]).
    """
    images, others, passed = [], [], []
    for root, names in _walk(folder, passed):
        for name in sorted(names):
            if name.startswith("."):
                continue  # .DS_Store, ._resource forks
            path = os.path.join(root, name)
            ext = os.path.splitext(name)[1].lower()
            if not _is_regular(path):
                passed.append((path, "is not a regular file (a FIFO, socket or device)"))
            elif ext in IMAGE_EXTENSIONS:
                images.append(path)
            elif ext in _UNSUPPORTED_IMAGE_EXTENSIONS:
                others.append((path, f"{ext} images are not supported; convert to JPEG or PNG"))
            else:
                others.append(
                    (path, "not an image file (expected " + ", ".join(IMAGE_EXTENSIONS) + ")")
                )
    if passed:
        listing = "; ".join(f"{path} {reason}" for path, reason in passed[:5])
        more = f"; and {len(passed) - 5} more" if len(passed) > 5 else ""
        warnings.warn(f"Left out of {folder}: {listing}{more}", stacklevel=3)
    return images, others


def _is_local(path: str) -> bool:
    return "://" not in path


def _is_regular(path: str) -> bool:
    """False for a FIFO, socket or device on the local disk (opening a FIFO blocks)."""
    if not _is_local(path):
        return True
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # a broken link: check_image_file names it


def _walk(folder: str, passed: list):
    """(folder, file names) for `folder` and its subfolders, sorted, hidden ones left out; a
    local folder reached again through a link is noted in `passed` and not entered."""
    if not _is_local(folder):
        for root, dirs, names in tf.io.gfile.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            yield root, names
        return
    seen = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        info = os.stat(root)
        if (info.st_dev, info.st_ino) in seen:
            passed.append(
                (
                    root,
                    f"leads back to {os.path.realpath(root)}, already read (a "
                    "symlink loop or a second link to one folder)",
                )
            )
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield root, names


def check_image_file(path: str) -> str | None:
    """Cheap integrity check from the first and last bytes. Returns a reason, or None if ok.

    Catches non-images, empty files and truncated JPEG/PNG/BMP files without decoding.
    """
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            size = f.size()
            head = f.read(16)
            if size > 16:
                tail_len = min(size, 4096)
                f.seek(size - tail_len)
                tail = f.read(tail_len)
            else:
                tail = head
    except (OSError, tf.errors.OpError) as err:
        return f"cannot be read ({err})"
    if size == 0:
        return "is empty"
    if head.startswith(b"\xff\xd8\xff"):
        # Entropy-coded JPEG data stuffs 0xFF bytes, so FF D9 only appears as the end marker.
        if b"\xff\xd9" in tail:
            return None
        # Some phones and editors append data after the image: look past the headers for
        # the end marker, as viewers (and TensorFlow's decoder) accept such files.
        with tf.io.gfile.GFile(path, "rb") as f:
            return (
                None if _jpeg_has_end(f.read()) else "is a truncated JPEG (no end-of-image marker)"
            )
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None if b"IEND" in tail[-64:] else "is a truncated PNG (no IEND chunk)"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return None
    if head.startswith(b"BM") and size >= 6:
        declared = int.from_bytes(head[2:6], "little")
        return None if size >= declared else "is a truncated BMP"
    return "is not a JPEG, PNG, GIF or BMP image (unrecognised header)"


def _jpeg_has_end(data: bytes) -> bool:
    """Whether the image of JPEG bytes ends with its end-of-image marker, wherever it is:
    the header segments (an EXIF thumbnail holds its own markers) are skipped by their
    lengths up to the scan, and the scan's data is searched for FF D9."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:  # fill bytes
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the image data, then (progressive) more segments
            return data.find(b"\xff\xd9", i) >= 0
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return False


def _report(problems: list[tuple[str, str]], on_error: str, what: str) -> None:
    if not problems:
        return
    listing = "\n".join(f"  {path}: {reason}" for path, reason in problems[:10])
    more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
    if on_error == "raise":
        from ganpaint.errors import UserError, arg

        skip = arg("on_error='skip'")
        raise UserError(
            f"{len(problems)} bad file(s) in {what}:\n{listing}{more}\nFix or remove them, "
            f"or pass {skip} to leave them out."
        )
    warnings.warn(f"Skipped {len(problems)} bad file(s) in {what}:\n{listing}{more}", stacklevel=4)


def _validated(files: list[str], others: list[tuple[str, str]], on_error: str, what: str):
    problems = list(others)
    good = []
    for path in files:
        reason = check_image_file(path)
        if reason is None:
            good.append(path)
        else:
            problems.append((path, reason))
    _report(problems, on_error, what)
    return good, problems


def _folder_source(folder: str, want_labels: bool, on_error: str) -> Source:
    files, others = list_image_files(folder)
    if not files and not others:
        raise ValueError(
            f"Folder {folder} holds no images (looked recursively for "
            f"{', '.join(IMAGE_EXTENSIONS)})"
        )
    files, problems = _validated(files, others, on_error, f"folder {folder}")
    if not files:
        raise ValueError(
            f"Folder {folder} holds no readable images; all {len(problems)} files were bad"
        )
    source = Source(f"folder {folder}", len(files), files=files, skipped=problems)
    if want_labels:
        rel = [os.path.relpath(p, folder) for p in files]
        loose = [r for r in rel if os.sep not in r]
        if loose:
            if len(loose) == len(rel):
                return source  # no class subfolders: resolve() reports labels=True as unmet
            raise ValueError(
                f"Folder {folder} mixes images at its top level (e.g. {loose[0]}) "
                "with class subfolders; with labels, every image must be inside "
                "a class subfolder"
            )
        top = [r.split(os.sep)[0] for r in rel]
        source.class_names = sorted(set(top))
        index = {name: i for i, name in enumerate(source.class_names)}
        source.labels = np.array([index[t] for t in top], dtype=np.int32)
    return source


def _file_list_source(paths: list[str], what: str, on_error: str) -> Source:
    images, others = [], []
    for p in paths:
        if not tf.io.gfile.exists(p):
            others.append((p, "does not exist"))
        elif os.path.splitext(p)[1].lower() in IMAGE_EXTENSIONS:
            images.append(p)
        else:
            others.append((p, "not an image file"))
    files, problems = _validated(images, others, on_error, what)
    if not files:
        raise ValueError(f"None of the {len(paths)} files given is a readable image")
    return Source(what, len(files), files=files, skipped=problems)


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF87a", b"GIF89a", b"BM")


def _first_record(path: str) -> tuple[str, bytes | None]:
    """(compression, first record or None) of a TFRecord file: uncompressed, GZIP or ZLIB
    (`TFRecordOptions`' choices), found by trying each; raises the uncompressed reading's
    error where none reads."""
    error = None
    for compression in ("", "GZIP", "ZLIB"):
        try:
            first = next(iter(tfrecord_dataset([path], compression).take(1)), None)
            return compression, None if first is None else first.numpy()
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as err:
            error = error or err
    raise error


def _tfrecord_source(files: list[str], what: str, want_labels: bool, on_error: str) -> Source:
    """Checks each TFRecord file's first example and counts records."""
    good, problems, total, has_label, compressions = [], [], 0, [], []
    for path in files:
        try:
            compression, first = _first_record(path)
            if first is None:
                problems.append((path, "holds no records"))
                continue
            example = tf.train.Example.FromString(first)
            features = example.features.feature
            if "image" not in features or not features["image"].bytes_list.value:
                problems.append(
                    (
                        path,
                        "has no `image` bytes feature (Kaggle layout: "
                        f"image_name, image, target); found {sorted(features)}",
                    )
                )
                continue
            encoded = features["image"].bytes_list.value[0]
            if not encoded.startswith(_IMAGE_MAGIC):
                problems.append(
                    (
                        path,
                        f"holds an `image` of {len(encoded)} bytes that is not "
                        "an encoded JPEG, PNG, GIF or BMP (raw pixels?): write the "
                        "records with ganpaint.data.write_tfrecords, or encode each "
                        "image with tf.io.encode_jpeg",
                    )
                )
                continue
            if want_labels and "label" in features:
                if not features["label"].int64_list.value:
                    problems.append((path, "has a `label` feature that is not an integer"))
                    continue
            count = int(tfrecord_dataset([path], compression).reduce(0, lambda n, _: n + 1))
        except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as err:
            problems.append(
                (path, f"is not a readable TFRecord file ({err.message.splitlines()[0]})")
            )
            continue
        except Exception as err:  # protobuf DecodeError has no common base we can import
            if type(err).__name__ != "DecodeError":
                raise
            problems.append((path, "holds records that are not tf.train.Example protos"))
            continue
        good.append(path)
        has_label.append("label" in features)
        compressions.append(compression)
        total += count
    _report(problems, on_error, what)
    if not good:
        raise ValueError(f"No readable TFRecord files in {what}")
    if len(set(compressions)) > 1:
        kinds = {c or "uncompressed": p for p, c in zip(good, compressions)}
        raise ValueError(
            f"{what} mixes TFRecord compressions ("
            + ", ".join(f"{k}: {p}" for k, p in kinds.items())
            + "); give the files of one compression together"
        )
    source = Source(what, total, tfrecords=good, skipped=problems, compression=compressions[0])
    if want_labels:
        if not all(has_label):
            missing = [p for p, h in zip(good, has_label) if not h]
            raise ValueError(
                f"labels=True but {missing[0]} has no integer `label` feature "
                "(write_tfrecords writes one when given integer labels)"
            )
        source.has_label_feature = True
    return source
